//! The lease statements: [`crate::cluster::LeaseTable`]'s rules in SQL,
//! every expiry judged by the database's clock.

use tokio_postgres::Row;

use super::conn::{timed, Conn, Connector};
use super::PgError;
use crate::cluster::{LeaseOp, LeaseReply, LeaseView};
use crate::core::Nanos;

const EXPIRED: &str =
    "(renewed_at IS NULL OR clock_timestamp() > renewed_at + lease_ms * interval '1 millisecond')";

/// Carries out [`LeaseOp`]s on a connection of its own.
pub struct LeaseClient {
    conn: Conn,
}

impl LeaseClient {
    pub(super) fn new(connector: Connector) -> Self {
        LeaseClient {
            conn: Conn::new(connector),
        }
    }

    /// Drops the connection (after a statement was given up): the next
    /// operation reconnects.
    pub fn reset(&mut self) {
        self.conn.reset();
    }

    /// Runs `op` for replica `who` (advertising `url`) with lease length
    /// `lease`.
    pub async fn run(
        &mut self,
        op: &LeaseOp,
        who: &str,
        url: Option<&str>,
        lease: Nanos,
    ) -> Result<LeaseReply, PgError> {
        let lease_ms = i64::try_from(lease / 1_000_000).unwrap_or(i64::MAX);
        let conn = &mut self.conn;
        let result = timed(async {
            let client = conn.get().await?;
            match op {
                LeaseOp::Observe => Ok(LeaseReply::Observed(observe(client).await?)),
                LeaseOp::Acquire { observed_epoch } => {
                    let epoch = i64::try_from(*observed_epoch).unwrap_or(i64::MAX);
                    let row = client
                        .query_opt(
                            &format!(
                                "UPDATE dualrec_lease SET epoch = epoch + 1, holder = $1, holder_url = $2,
                                     renewed_at = clock_timestamp(), lease_ms = $3
                                 WHERE id = 1 AND epoch = $4 AND {EXPIRED}
                                 RETURNING epoch"
                            ),
                            &[&who, &url, &lease_ms, &epoch],
                        )
                        .await?;
                    match row {
                        Some(r) => Ok(LeaseReply::Acquired {
                            epoch: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                        }),
                        None => Ok(LeaseReply::Refused(observe(client).await?)),
                    }
                }
                LeaseOp::Renew { epoch } => {
                    let e = i64::try_from(*epoch).unwrap_or(i64::MAX);
                    let n = client
                        .execute(
                            "UPDATE dualrec_lease SET renewed_at = clock_timestamp(), lease_ms = $3
                             WHERE id = 1 AND epoch = $1 AND holder = $2 AND renewed_at IS NOT NULL",
                            &[&e, &who, &lease_ms],
                        )
                        .await?;
                    if n == 1 {
                        Ok(LeaseReply::Renewed { epoch: *epoch })
                    } else {
                        Ok(LeaseReply::Refused(observe(client).await?))
                    }
                }
                LeaseOp::Release { epoch } => {
                    let e = i64::try_from(*epoch).unwrap_or(i64::MAX);
                    client
                        .execute(
                            "UPDATE dualrec_lease SET renewed_at = NULL
                             WHERE id = 1 AND epoch = $1 AND holder = $2",
                            &[&e, &who],
                        )
                        .await?;
                    Ok(LeaseReply::Released)
                }
            }
        })
        .await;
        conn.reset_on_error(&result);
        result
    }
}

async fn observe(client: &tokio_postgres::Client) -> Result<LeaseView, PgError> {
    let row = client
        .query_one(
            &format!(
                "SELECT epoch, holder, holder_url,
                     (extract(epoch FROM clock_timestamp() - renewed_at) * 1e9)::bigint,
                     {EXPIRED}
                 FROM dualrec_lease WHERE id = 1"
            ),
            &[],
        )
        .await?;
    Ok(view(&row))
}

fn view(row: &Row) -> LeaseView {
    LeaseView {
        epoch: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        holder: row.get(1),
        holder_url: row.get(2),
        age: row
            .get::<_, Option<i64>>(3)
            .map(|a| u64::try_from(a).unwrap_or(0)),
        expired: row.get(4),
    }
}
