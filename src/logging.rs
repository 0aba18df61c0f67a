//! The process log (tracing) on stderr.
//!
//! `DUALREC_LOG` chooses what is logged (an `EnvFilter`, default `warn`);
//! `--log-format json` or `DUALREC_LOG_FORMAT=json` writes one JSON object a
//! line (tracing-subscriber's JSON layer: `timestamp`, `level`, `target`,
//! `fields`, spans) for a log collector, `text` (the default) a line for
//! people. ANSI colour codes only when stderr is a terminal and `NO_COLOR`
//! is unset: a log file or journald never gets escape sequences.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Environment variable naming the log format when `--log-format` is not given.
pub const FORMAT_ENV: &str = "DUALREC_LOG_FORMAT";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// The format from the flag, else from `DUALREC_LOG_FORMAT`; an unknown
/// value in the environment is an error naming the valid ones.
pub fn format(flag: Option<LogFormat>) -> Result<LogFormat, String> {
    if let Some(f) = flag {
        return Ok(f);
    }
    match std::env::var(FORMAT_ENV) {
        Err(_) => Ok(LogFormat::Text),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!(
                "{FORMAT_ENV}={v:?} is not a log format; expected `text` or `json`"
            )),
        },
    }
}

/// Installs the subscriber for the whole process.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("DUALREC_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .with_current_span(true)
            .init(),
        LogFormat::Text => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            builder
                .with_ansi(std::io::stderr().is_terminal() && !no_color)
                .init()
        }
    }
}
