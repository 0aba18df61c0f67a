//! The journal's SQL and its writer thread (group commit).

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use rusqlite::{params, Connection};

use super::{Job, JournalError, Record, Refusal, MAX_BATCH};
use crate::core::{CameraId, IntentSeq, JournalEntry};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS intents (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    camera    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    recording INTEGER NOT NULL CHECK (recording IN (0, 1)),
    at_ms     INTEGER NOT NULL,
    who       TEXT    NOT NULL,
    client    TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS refusals (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    client    TEXT    NOT NULL,
    method    TEXT    NOT NULL,
    path      TEXT    NOT NULL,
    status    INTEGER NOT NULL,
    code      TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    who       TEXT
);
CREATE TABLE IF NOT EXISTS latest (
    camera    TEXT    PRIMARY KEY,
    seq       INTEGER NOT NULL,
    recording INTEGER NOT NULL CHECK (recording IN (0, 1)),
    at_ms     INTEGER NOT NULL
) WITHOUT ROWID;
";

const INSERT_INTENT: &str =
    "INSERT INTO intents (camera, seq, recording, at_ms, who, client) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const INSERT_REFUSAL: &str =
    "INSERT INTO refusals (at_ms, client, method, path, status, code, reason, who)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const UPSERT_LATEST: &str =
    "INSERT INTO latest (camera, seq, recording, at_ms) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (camera) DO UPDATE SET seq = excluded.seq, recording = excluded.recording,
     at_ms = excluded.at_ms WHERE excluded.seq >= latest.seq";

/// Pragmas and schema. `synchronous = FULL`: see the module docs.
pub(super) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "the journal could not switch to WAL mode");
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA foreign_keys = ON;",
    )?;
    conn.execute_batch(SCHEMA)?;
    // Journals written before the client address was audited lack the column.
    let has_client: i64 = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('intents') WHERE name = 'client'",
        [],
        |r| r.get(0),
    )?;
    if has_client == 0 {
        conn.execute_batch("ALTER TABLE intents ADD COLUMN client TEXT NOT NULL DEFAULT ''")?;
    }
    Ok(())
}

/// The latest intent of every camera.
pub(super) fn latest(conn: &Connection) -> rusqlite::Result<Vec<JournalEntry>> {
    let mut stmt = conn.prepare("SELECT camera, seq, recording FROM latest ORDER BY camera")?;
    let rows = stmt.query_map([], |r| {
        Ok(JournalEntry {
            camera: CameraId::new(r.get::<_, String>(0)?),
            seq: IntentSeq(r.get::<_, i64>(1)?.max(0) as u64),
            recording: r.get::<_, i64>(2)? != 0,
        })
    })?;
    rows.collect()
}

/// The audit trail, oldest first.
pub(super) fn audit(conn: &Connection) -> rusqlite::Result<Vec<(i64, Record)>> {
    let mut stmt = conn.prepare(
        "SELECT id, camera, seq, recording, at_ms, who, client FROM intents ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Record {
                camera: CameraId::new(r.get::<_, String>(1)?),
                seq: IntentSeq(r.get::<_, i64>(2)?.max(0) as u64),
                recording: r.get::<_, i64>(3)? != 0,
                at_ms: r.get(4)?,
                who: r.get(5)?,
                client: r.get(6)?,
            },
        ))
    })?;
    rows.collect()
}

/// The refused attempts, oldest first.
pub(super) fn refusals(conn: &Connection) -> rusqlite::Result<Vec<(i64, Refusal)>> {
    let mut stmt = conn.prepare(
        "SELECT id, at_ms, client, method, path, status, code, reason, who FROM refusals ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Refusal {
                at_ms: r.get(1)?,
                client: r.get(2)?,
                method: r.get(3)?,
                path: r.get(4)?,
                status: r.get::<_, i64>(5)?.clamp(0, 999) as u16,
                code: r.get(6)?,
                reason: r.get(7)?,
                who: r.get(8)?,
            },
        ))
    })?;
    rows.collect()
}

/// Commits `batch`; the audit id of each intent job, `None` for refusals.
fn commit(conn: &mut Connection, batch: &[Job]) -> rusqlite::Result<Vec<Option<i64>>> {
    let tx = conn.transaction()?;
    let mut ids = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(INSERT_INTENT)?;
        let mut upsert = tx.prepare_cached(UPSERT_LATEST)?;
        let mut refuse = tx.prepare_cached(INSERT_REFUSAL)?;
        for job in batch {
            match job {
                Job::Intent { record: r, .. } => {
                    let seq = i64::try_from(r.seq.0).unwrap_or(i64::MAX);
                    let rec = i64::from(r.recording);
                    insert.execute(params![
                        r.camera.as_str(),
                        seq,
                        rec,
                        r.at_ms,
                        r.who,
                        r.client
                    ])?;
                    ids.push(Some(tx.last_insert_rowid()));
                    upsert.execute(params![r.camera.as_str(), seq, rec, r.at_ms])?;
                }
                Job::Refusal(f) => {
                    refuse.execute(params![
                        f.at_ms,
                        f.client,
                        f.method,
                        f.path,
                        i64::from(f.status),
                        f.code,
                        f.reason,
                        f.who
                    ])?;
                    ids.push(None);
                }
            }
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// The writer loop: wait for one append, take every other one queued
/// meanwhile, commit them in one transaction, answer them all. Ends when
/// every sender is gone, after a final checkpoint.
pub(super) fn run(mut conn: Connection, rx: Receiver<Job>, path: PathBuf) {
    let mut batch = Vec::with_capacity(64);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit(&mut conn, &batch) {
            Ok(ids) => {
                tracing::trace!(jobs = batch.len(), "journal commit");
                for (job, id) in batch.drain(..).zip(ids) {
                    if let (Job::Intent { answer, .. }, Some(id)) = (job, id) {
                        let _ = answer.send(Ok(id));
                    }
                }
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "journal commit failed");
                let err = JournalError::Sqlite {
                    path: path.display().to_string(),
                    message: e.to_string(),
                };
                for job in batch.drain(..) {
                    if let Job::Intent { answer, .. } = job {
                        let _ = answer.send(Err(err.clone()));
                    }
                }
            }
        }
    }
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "journal checkpoint at close failed");
    }
    tracing::info!(path = %path.display(), "journal closed");
}
