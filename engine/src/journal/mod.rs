//! The durable intent journal: embedded SQLite (`journal.sqlite3` in the
//! data directory), WAL mode, `synchronous = FULL`.
//!
//! Three tables: `intents`, the append-only audit trail (one row per
//! accepted write: camera, intent sequence, recording, wall-clock time, the
//! API key's name, the client's address), `latest`, the highest-sequence
//! intent per camera, which is what [`Journal::open`] hands back for
//! [`crate::core::Mirror::restore`] (both written in the same transaction),
//! and `refusals`, one row per refused attempt (failed authentication,
//! throttling, a write refused for any reason): time, client address,
//! method, path, status, code, reason, and the key's name when known.
//!
//! Permissions: the data directory is made `0700` and the journal files
//! (`journal.sqlite3` and its `-wal`/`-shm`, which SQLite creates with the
//! main file's mode) `0600`; looser existing permissions are tightened.
//!
//! Durability: [`Journal::append`] answers only after the transaction
//! holding the intent has committed, and with `synchronous = FULL` a WAL
//! commit is fsynced, so an acknowledged intent survives `kill -9` *and* a
//! power loss (`NORMAL` would survive the former only). The fsync is
//! amortised by group commit: one writer thread owns the connection, takes
//! every append queued meanwhile (up to [`MAX_BATCH`]) into one
//! transaction, commits once and then answers them all.
//!
//! Concurrent writes to one camera may commit out of click order; `latest`
//! keeps the higher sequence, which is the later click (the engine numbers
//! a camera's intents).

pub mod postgres;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::core::{CameraId, IntentSeq, JournalEntry};

/// Most intents committed in one transaction.
pub const MAX_BATCH: usize = 4096;
/// File name of the journal inside the data directory.
pub const FILE_NAME: &str = "journal.sqlite3";

/// The journal could not be opened or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    #[error("cannot create the data directory `{path}`: {message}")]
    DataDir { path: String, message: String },
    #[error("journal `{path}`: {message}")]
    Sqlite { path: String, message: String },
    #[error("the journal is closed")]
    Closed,
}

/// One accepted write, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub camera: CameraId,
    pub seq: IntentSeq,
    pub recording: bool,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who asked (the API key's name).
    pub who: String,
    /// The client's address (`IP:port`), `""` when unknown.
    pub client: String,
}

/// One refused attempt, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The client's address (`IP:port`), `""` when unknown.
    pub client: String,
    pub method: String,
    pub path: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The error code answered (`unauthorized`, `throttled`, …).
    pub code: String,
    /// Why, in words (never a key).
    pub reason: String,
    /// The API key's name when the key was valid (e.g. a read key writing).
    pub who: Option<String>,
}

pub(crate) enum Job {
    Intent {
        record: Record,
        answer: oneshot::Sender<Result<i64, JournalError>>,
    },
    Refusal(Refusal),
}

/// A journal open for appending. [`Journal::close`] (or dropping it) lets
/// the writer commit what is queued and stop.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    tx: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Journal {
    /// Opens (creating if needed) the journal in `data_dir`, and returns it
    /// with the latest intent of every camera it knows.
    pub fn open(data_dir: &Path) -> Result<(Journal, Vec<JournalEntry>), JournalError> {
        private_dir(data_dir).map_err(|e| JournalError::DataDir {
            path: data_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let path = data_dir.join(FILE_NAME);
        private_files(&path).map_err(|e| JournalError::Sqlite {
            path: path.display().to_string(),
            message: format!("cannot make the journal private (mode 0600): {e}"),
        })?;
        let sql = |e: rusqlite::Error| JournalError::Sqlite {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(sql)?;
        writer::prepare(&conn).map_err(sql)?;
        let latest = writer::latest(&conn).map_err(sql)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let thread_path = path.clone();
        let thread = std::thread::Builder::new()
            .name("dualrec-journal".into())
            .spawn(move || writer::run(conn, rx, thread_path))
            .map_err(|e| JournalError::Sqlite {
                path: path.display().to_string(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        tracing::info!(path = %path.display(), cameras = latest.len(), "journal open");
        Ok((
            Journal {
                path,
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
            },
            latest,
        ))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record`; resolves once it is committed (durable), with the
    /// row's audit id.
    pub async fn append(&self, record: Record) -> Result<i64, JournalError> {
        let rx = self.submit(record)?;
        rx.await.map_err(|_| JournalError::Closed)?
    }

    /// Appends every record (committed together when the writer is idle);
    /// resolves once all are durable, with their audit ids in order.
    pub async fn append_all(&self, records: Vec<Record>) -> Result<Vec<i64>, JournalError> {
        let pending = records
            .into_iter()
            .map(|r| self.submit(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ids = Vec::with_capacity(pending.len());
        for rx in pending {
            ids.push(rx.await.map_err(|_| JournalError::Closed)??);
        }
        Ok(ids)
    }

    fn submit(
        &self,
        record: Record,
    ) -> Result<oneshot::Receiver<Result<i64, JournalError>>, JournalError> {
        let (answer, rx) = oneshot::channel();
        self.send(Job::Intent { record, answer })?;
        Ok(rx)
    }

    fn send(&self, job: Job) -> Result<(), JournalError> {
        let tx = self.tx.lock().map_err(|_| JournalError::Closed)?;
        tx.as_ref()
            .ok_or(JournalError::Closed)?
            .send(job)
            .map_err(|_| JournalError::Closed)
    }

    /// Queues a refused attempt for the audit trail. It is committed with
    /// the next group commit; nobody waits for it (a refusal is answered
    /// at once, and a flood of them must not hold up writes).
    pub fn refuse(&self, refusal: Refusal) -> Result<(), JournalError> {
        self.send(Job::Refusal(refusal))
    }

    /// Whether the writer is still running.
    pub fn is_open(&self) -> bool {
        self.thread
            .lock()
            .is_ok_and(|t| t.as_ref().is_some_and(|t| !t.is_finished()))
    }

    /// Commits what is queued, checkpoints the WAL and stops the writer
    /// (blocking until it has). Later appends fail with [`JournalError::Closed`].
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// Reads the whole audit trail (oldest first), for tests and tools.
    /// Opens its own read connection.
    pub fn read_audit(data_dir: &Path) -> Result<Vec<(i64, Record)>, JournalError> {
        let path = data_dir.join(FILE_NAME);
        let sql = |e: rusqlite::Error| JournalError::Sqlite {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql)?;
        writer::audit(&conn).map_err(sql)
    }

    /// Reads every refused attempt (oldest first), for tests and tools.
    pub fn read_refusals(data_dir: &Path) -> Result<Vec<(i64, Refusal)>, JournalError> {
        let path = data_dir.join(FILE_NAME);
        let sql = |e: rusqlite::Error| JournalError::Sqlite {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql)?;
        writer::refusals(&conn).map_err(sql)
    }
}

/// Creates `dir` (and its parents) if needed and makes it `0700`.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:04o}"), "the data directory was accessible to others; made it 0700");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates the journal file `0600` before SQLite opens it (SQLite gives its
/// `-wal` and `-shm` files the main file's mode), and tightens existing ones.
fn private_files(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            names.push(PathBuf::from(p));
        }
        for p in names {
            match std::fs::metadata(&p) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests;
