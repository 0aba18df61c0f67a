//! The writer task: group commit of appends, fenced by the lease epoch.

use std::collections::BTreeMap;

use tokio::sync::mpsc;
use tokio_postgres::Client;

use super::conn::{timed, Conn};
use super::{Job, PgError, CHANNEL};
use crate::cluster::StaleEpoch;

/// Most appends taken into one transaction.
const MAX_JOBS: usize = 256;

/// Waits for one append, takes every other one queued meanwhile, commits
/// them in one transaction and answers each (its sequences, or why not).
pub(super) async fn run(mut conn: Conn, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::new();
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_JOBS {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = timed(async {
            let client = conn.get().await?;
            commit(client, &batch).await
        })
        .await;
        conn.reset_on_error(&result);
        match result {
            Ok(answers) => {
                for (job, answer) in batch.drain(..).zip(answers) {
                    let _ = job.answer.send(answer);
                }
            }
            Err(e) => {
                // Not committed (or not known to be): nothing is acknowledged.
                tracing::error!(error = %e, "journal commit failed");
                for job in batch.drain(..) {
                    let _ = job.answer.send(Err(e.clone()));
                }
            }
        }
    }
}

type Answer = Result<Vec<u64>, PgError>;

async fn commit(client: &mut Client, batch: &[Job]) -> Result<Vec<Answer>, PgError> {
    let tx = client.transaction().await?;
    // FOR SHARE: a take-over (an UPDATE of this row) waits for this commit,
    // and this commit sees the epoch that is current until then.
    let current = tx
        .query_one(
            "SELECT epoch FROM dualrec_lease WHERE id = 1 FOR SHARE",
            &[],
        )
        .await?
        .get::<_, i64>(0);
    let current = u64::try_from(current).unwrap_or(0);
    let accepted: usize = batch
        .iter()
        .filter(|j| j.epoch == current)
        .map(|j| j.records.len())
        .sum();
    let mut answers = Vec::with_capacity(batch.len());
    if accepted == 0 {
        tx.rollback().await?;
        for job in batch {
            answers.push(stale_or_empty(job, current));
        }
        return Ok(answers);
    }
    // The counter's row lock orders writers of every replica: sequences
    // commit in the order they are handed out.
    let last = tx
        .query_one(
            "UPDATE dualrec_counter SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq",
            &[&(accepted as i64)],
        )
        .await?
        .get::<_, i64>(0);
    let mut next = last - accepted as i64 + 1;
    let mut clients = Vec::with_capacity(accepted);
    let (mut seqs, mut cameras, mut recs, mut ats, mut whos, mut epochs, mut replicas) = (
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
        Vec::with_capacity(accepted),
    );
    let mut latest: BTreeMap<String, (i64, bool, i64)> = BTreeMap::new();
    for job in batch {
        if job.epoch != current {
            answers.push(stale_or_empty(job, current));
            continue;
        }
        let mut mine = Vec::with_capacity(job.records.len());
        for r in &job.records {
            seqs.push(next);
            cameras.push(r.camera.as_str().to_string());
            recs.push(r.recording);
            ats.push(r.at_ms);
            whos.push(r.who.clone());
            clients.push(r.client.clone());
            epochs.push(current as i64);
            replicas.push(job.replica.to_string());
            latest.insert(r.camera.as_str().to_string(), (next, r.recording, r.at_ms));
            mine.push(next as u64);
            next += 1;
        }
        answers.push(Ok(mine));
    }
    tx.execute(
        "INSERT INTO dualrec_intents (seq, camera, recording, at_ms, who, epoch, replica, client)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::bigint[],
                              $5::text[], $6::bigint[], $7::text[], $8::text[])",
        &[
            &seqs, &cameras, &recs, &ats, &whos, &epochs, &replicas, &clients,
        ],
    )
    .await?;
    let mut lc = Vec::with_capacity(latest.len());
    let mut ls = Vec::with_capacity(latest.len());
    let mut lr = Vec::with_capacity(latest.len());
    let mut la = Vec::with_capacity(latest.len());
    for (camera, (seq, recording, at_ms)) in latest {
        lc.push(camera);
        ls.push(seq);
        lr.push(recording);
        la.push(at_ms);
    }
    tx.execute(
        "INSERT INTO dualrec_latest (camera, seq, recording, at_ms)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::bigint[])
         ON CONFLICT (camera) DO UPDATE SET seq = excluded.seq,
             recording = excluded.recording, at_ms = excluded.at_ms
         WHERE excluded.seq > dualrec_latest.seq",
        &[&lc, &ls, &lr, &la],
    )
    .await?;
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last.to_string()])
        .await?;
    tx.commit().await?;
    Ok(answers)
}

fn stale_or_empty(job: &Job, current: u64) -> Answer {
    if job.epoch == current {
        Ok(Vec::new())
    } else {
        Err(PgError::Stale(StaleEpoch {
            writer: job.epoch,
            current,
        }))
    }
}
