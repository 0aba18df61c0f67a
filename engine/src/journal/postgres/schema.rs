//! The journal's tables, their migrations, and its read statements.

use tokio_postgres::Client;

use super::{PgError, Sequenced, Snapshot};
use crate::core::{CameraId, IntentSeq, JournalEntry};
use crate::journal::Record;

/// Migrations, in order; `dualrec_schema.version` is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: lease, counter, audit trail, latest intent per camera.
    "CREATE TABLE dualrec_lease (
         id         smallint PRIMARY KEY CHECK (id = 1),
         epoch      bigint NOT NULL,
         holder     text,
         holder_url text,
         renewed_at timestamptz,
         lease_ms   bigint NOT NULL DEFAULT 0
     );
     INSERT INTO dualrec_lease (id, epoch) VALUES (1, 0);
     CREATE TABLE dualrec_counter (
         id       smallint PRIMARY KEY CHECK (id = 1),
         last_seq bigint NOT NULL
     );
     INSERT INTO dualrec_counter (id, last_seq) VALUES (1, 0);
     CREATE TABLE dualrec_intents (
         seq       bigint PRIMARY KEY,
         camera    text    NOT NULL,
         recording boolean NOT NULL,
         at_ms     bigint  NOT NULL,
         who       text    NOT NULL,
         epoch     bigint  NOT NULL,
         replica   text    NOT NULL
     );
     CREATE TABLE dualrec_latest (
         camera    text    PRIMARY KEY,
         seq       bigint  NOT NULL,
         recording boolean NOT NULL,
         at_ms     bigint  NOT NULL
     );",
    // 2: the client address of every write, for the audit trail ('' for
    // writes made before it was kept).
    "ALTER TABLE dualrec_intents ADD COLUMN client text NOT NULL DEFAULT '';",
];

/// Creates or migrates the schema. Replicas starting together serialise on
/// an advisory lock, so each migration runs once.
pub(super) async fn migrate(client: &mut Client) -> Result<(), PgError> {
    let tx = client.transaction().await?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7306755830373672562);
         CREATE TABLE IF NOT EXISTS dualrec_schema (version integer NOT NULL);",
    )
    .await?;
    let row = tx
        .query_opt("SELECT version FROM dualrec_schema", &[])
        .await?;
    let version = match row {
        Some(r) => r.get::<_, i32>(0),
        None => {
            tx.execute("INSERT INTO dualrec_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(PgError::Db(format!(
            "the journal schema is version {version}, newer than this engine knows ({known}); expected an engine at least as new as the newest replica"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).await?;
        tracing::info!(version = i + 1, "journal schema migrated");
    }
    tx.execute("UPDATE dualrec_schema SET version = $1", &[&known])
        .await?;
    tx.commit().await?;
    Ok(())
}

fn seq_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) async fn snapshot(client: &mut Client) -> Result<Snapshot, PgError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let cursor = tx
        .query_one("SELECT last_seq FROM dualrec_counter WHERE id = 1", &[])
        .await?
        .get::<_, i64>(0);
    let rows = tx
        .query(
            "SELECT camera, seq, recording FROM dualrec_latest ORDER BY camera",
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(Snapshot {
        latest: rows
            .iter()
            .map(|r| JournalEntry {
                camera: CameraId::new(r.get::<_, String>(0)),
                seq: IntentSeq(seq_of(r.get(1))),
                recording: r.get(2),
            })
            .collect(),
        cursor: seq_of(cursor),
    })
}

pub(super) async fn since(
    client: &mut Client,
    cursor: u64,
    limit: i64,
) -> Result<Vec<Sequenced>, PgError> {
    let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
    let rows = client
        .query(
            "SELECT seq, camera, recording FROM dualrec_intents
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&cursor, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Sequenced {
            seq: seq_of(r.get(0)),
            camera: CameraId::new(r.get::<_, String>(1)),
            recording: r.get(2),
        })
        .collect())
}

pub(super) async fn audit(client: &mut Client) -> Result<Vec<(u64, Record, u64)>, PgError> {
    let rows = client
        .query(
            "SELECT seq, camera, recording, at_ms, who, epoch, client FROM dualrec_intents ORDER BY seq",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let seq = seq_of(r.get(0));
            (
                seq,
                Record {
                    camera: CameraId::new(r.get::<_, String>(1)),
                    seq: IntentSeq(seq),
                    recording: r.get(2),
                    at_ms: r.get(3),
                    who: r.get(4),
                    client: r.get(6),
                },
                seq_of(r.get(5)),
            )
        })
        .collect())
}
