//! [`ActionLog`]: every action of an acceptance run, with its UTC time, to
//! the operator's terminal (through the caller's echo function — the
//! library never prints) and to `actions.log` in the output folder.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use xprotect::UtcTime;

/// Where a log line goes besides the file (the binary passes `eprintln!`).
pub type Echo = Box<dyn Fn(&str) + Send + Sync>;

/// The run's action log. Cheap to share behind an `Arc`.
pub struct ActionLog {
    file: Mutex<Option<File>>,
    echo: Echo,
}

impl std::fmt::Debug for ActionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionLog").finish_non_exhaustive()
    }
}

/// The wall clock now, as UTC.
pub fn utc_now() -> UtcTime {
    let nanos = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    };
    UtcTime::from_unix_nanos(nanos)
}

impl ActionLog {
    /// A log that only echoes (dry runs, tests).
    pub fn echo_only(echo: Echo) -> Self {
        ActionLog {
            file: Mutex::new(None),
            echo,
        }
    }

    /// A log that echoes and appends to `path` (created or truncated).
    pub fn to_file(path: &Path, echo: Echo) -> std::io::Result<Self> {
        let file = File::create(path)?;
        Ok(ActionLog {
            file: Mutex::new(Some(file)),
            echo,
        })
    }

    /// Logs `message` with the current UTC time.
    pub fn action(&self, message: impl AsRef<str>) {
        let line = format!("{}  {}", utc_now().format(), message.as_ref());
        (self.echo)(&line);
        tracing::info!(target: "dualrec::accept", "{}", message.as_ref());
        if let Ok(mut guard) = self.file.lock() {
            if let Some(f) = guard.as_mut() {
                let _ = writeln!(f, "{line}");
                let _ = f.flush();
            }
        }
    }

    /// Echoes `text` as is (the plan, tables), and keeps it in the file.
    pub fn plain(&self, text: impl AsRef<str>) {
        (self.echo)(text.as_ref());
        if let Ok(mut guard) = self.file.lock() {
            if let Some(f) = guard.as_mut() {
                let _ = writeln!(f, "{}", text.as_ref());
            }
        }
    }
}
