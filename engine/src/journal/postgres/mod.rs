//! The PostgreSQL journal: what replicas of the engine share
//! (`[engine] journal_url`). It keeps the same promise as the SQLite
//! journal — a write is acknowledged only once its transaction has
//! committed — and adds the leader lease and the fencing epoch
//! ([`crate::cluster`] explains the design).
//!
//! Tables (created and migrated by the engine, `schema.rs`):
//! `dualrec_lease` (the one lease row), `dualrec_counter` (the last intent
//! sequence handed out), `dualrec_intents` (the append-only audit trail:
//! sequence, camera, recording, time, who, the writer's epoch and replica)
//! and `dualrec_latest` (the highest-sequence intent per camera).
//!
//! Writes ([`PgJournal::append`]) go through one writer task per replica
//! with its own connection (group commit: every append queued meanwhile in
//! one transaction). The transaction locks the lease row `FOR SHARE` and
//! rejects every append whose epoch is not the lease's current epoch
//! ([`PgError::Stale`]); it takes its sequences from the counter row under
//! its row lock, so sequences commit in order and a reader following
//! `seq > cursor` never skips one; and it `NOTIFY`s `dualrec_intents` so
//! the leader applies the write within milliseconds.
//!
//! Lease statements (`lease.rs`) use the database's clock
//! (`clock_timestamp()`) for every expiry judgment. Every connection
//! reconnects by itself after an error (a database restart).
//!
//! This module does I/O and makes no engine decision.

mod conn;
mod lease;
mod schema;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};

pub use conn::{redact, Connector, PgSettings};
pub use lease::LeaseClient;

use super::Record;
use crate::cluster::StaleEpoch;
use crate::core::{CameraId, IntentSeq, JournalEntry};

/// Longest one journal statement may take before it is given up.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The channel the journal notifies on after each committed write.
pub const CHANNEL: &str = "dualrec_intents";

/// A PostgreSQL journal operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PgError {
    #[error("the journal database: {0}")]
    Db(String),
    #[error("the journal database did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Stale(#[from] StaleEpoch),
    #[error("the journal is closed")]
    Closed,
    #[error("journal TLS set-up: {0}")]
    Tls(String),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The source carries the server's message (e.g. "password
        // authentication failed"); the top level alone says "db error".
        let mut text = e.to_string();
        if let Some(db) = e.as_db_error() {
            text = format!("{}: {}", db.code().code(), db.message());
        } else if let Some(src) = std::error::Error::source(&e) {
            text = format!("{text}: {src}");
        }
        PgError::Db(text)
    }
}

/// A journaled intent with its journal sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequenced {
    pub seq: u64,
    pub camera: CameraId,
    pub recording: bool,
}

/// The state of the journal at one instant: each camera's latest intent
/// and the last sequence handed out (follow from there).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub latest: Vec<JournalEntry>,
    pub cursor: u64,
}

pub(crate) struct Job {
    epoch: u64,
    replica: Arc<str>,
    records: Vec<Record>,
    answer: oneshot::Sender<Result<Vec<u64>, PgError>>,
}

/// The PostgreSQL journal of one replica.
pub struct PgJournal {
    connector: Connector,
    replica: Arc<str>,
    writer: mpsc::Sender<Job>,
    reader: Mutex<conn::Conn>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("replica", &self.replica)
            .field("connector", &self.connector)
            .finish()
    }
}

impl PgJournal {
    /// Connects, creates or migrates the schema, and starts the writer.
    /// Fails if the database cannot be reached now (the caller retries).
    pub async fn open(connector: Connector, replica: &str) -> Result<PgJournal, PgError> {
        let mut reader = conn::Conn::new(connector.clone());
        {
            let client = reader.get().await?;
            schema::migrate(client).await?;
        }
        let (writer, jobs) = mpsc::channel(1024);
        tokio::spawn(writer::run(conn::Conn::new(connector.clone()), jobs));
        tracing::info!(target = %connector, replica, "PostgreSQL journal open");
        Ok(PgJournal {
            connector,
            replica: replica.into(),
            writer,
            reader: Mutex::new(reader),
        })
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Appends `records` under `epoch`; resolves once committed, with each
    /// record's journal sequence. [`PgError::Stale`] when `epoch` is not the
    /// lease's current epoch (nothing was written).
    pub async fn append(&self, epoch: u64, records: Vec<Record>) -> Result<Vec<u64>, PgError> {
        let (answer, rx) = oneshot::channel();
        self.writer
            .send(Job {
                epoch,
                replica: self.replica.clone(),
                records,
                answer,
            })
            .await
            .map_err(|_| PgError::Closed)?;
        rx.await.map_err(|_| PgError::Closed)?
    }

    /// Each camera's latest intent and the last sequence, read in one
    /// consistent snapshot.
    pub async fn snapshot(&self) -> Result<Snapshot, PgError> {
        let mut reader = self.reader.lock().await;
        let result = conn::timed(async {
            let client = reader.get().await?;
            schema::snapshot(client).await
        })
        .await;
        reader.reset_on_error(&result);
        result
    }

    /// Intents with a sequence above `cursor`, in order (at most `limit`).
    pub async fn since(&self, cursor: u64, limit: i64) -> Result<Vec<Sequenced>, PgError> {
        let mut reader = self.reader.lock().await;
        let result = conn::timed(async {
            let client = reader.get().await?;
            schema::since(client, cursor, limit).await
        })
        .await;
        reader.reset_on_error(&result);
        result
    }

    /// The audit trail, oldest first (for tests and tools).
    pub async fn audit(&self) -> Result<Vec<(u64, Record, u64)>, PgError> {
        let mut reader = self.reader.lock().await;
        let result = conn::timed(async {
            let client = reader.get().await?;
            schema::audit(client).await
        })
        .await;
        reader.reset_on_error(&result);
        result
    }

    /// A stream of "something was committed" signals: a task holds a
    /// connection that `LISTEN`s on [`CHANNEL`] (reconnecting after errors;
    /// a reconnect also signals, since notifications may have been missed).
    pub fn listen(&self) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(conn::listen(self.connector.clone(), tx));
        rx
    }

    /// A separate connection for lease statements, so that a long write
    /// batch never delays a renewal.
    pub fn lease_client(&self) -> LeaseClient {
        LeaseClient::new(self.connector.clone())
    }
}

/// Converts a journal sequence to the engine's intent sequence.
pub fn intent_seq(seq: u64) -> IntentSeq {
    IntentSeq(seq)
}

#[cfg(test)]
mod tests;
