//! The REST side of replicas sharing a PostgreSQL journal: writes
//! committed to the journal (any replica), `GET /v1/cluster`, the role in
//! `/readyz` and `/metrics`.
//!
//! No lease decision is made here; the replica ([`crate::replica`]) owns it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use super::api::AppState;
use super::auth::{authorize, Caller};
use super::error::ApiError;
use super::limits::ClientAddr;
use super::openapi::ErrorBody;
use crate::config::Role;
use crate::core::{CameraId, IntentSeq};
use crate::journal::postgres::PgError;
use crate::journal::Record;
use crate::replica::{ClusterHandle, ClusterStatus, WriteError};

/// Commits the intents to the shared journal; answers once committed (and,
/// on the leader, applied), with their journal sequences.
pub(crate) async fn write(
    st: &AppState,
    caller: &Caller,
    client: ClientAddr,
    items: Vec<(CameraId, bool)>,
    at_ms: i64,
) -> Result<Vec<IntentSeq>, ApiError> {
    let Some(cluster) = &st.cluster else {
        return Err(ApiError::stopped());
    };
    let records: Vec<Record> = items
        .iter()
        .map(|(camera, recording)| Record {
            camera: camera.clone(),
            seq: IntentSeq(0),
            recording: *recording,
            at_ms,
            who: caller.name.clone(),
            client: client.0.map(|a| a.to_string()).unwrap_or_default(),
        })
        .collect();
    let n = records.len() as u64;
    let mut audit = records.clone();
    let seqs = cluster.write(records).await.map_err(|e| {
        st.metrics.write_errors.inc();
        tracing::error!(error = %e, "intent not journaled; not acknowledged");
        journal_error(&e)
    })?;
    // One audit line per write, a batch summarised (as on a single engine).
    for (r, seq) in audit.iter_mut().zip(&seqs) {
        r.seq = *seq;
    }
    let ids: Vec<i64> = seqs
        .iter()
        .map(|s| i64::try_from(s.0).unwrap_or(i64::MAX))
        .collect();
    super::audit::intents_journaled(caller, client, &audit, &ids);
    st.metrics.writes.inc_by(n);
    Ok(seqs)
}

fn journal_error(e: &WriteError) -> ApiError {
    let WriteError::Journal(e) = e;
    let message = match e {
        PgError::Stale(_) => {
            "the leader changed during the write; nothing was written, retry".to_string()
        }
        other => format!(
            "the intent could not be made durable ({other}); nothing was acknowledged, retry"
        ),
    };
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "journal_unavailable",
        message,
    )
}

/// This replica of a group sharing a PostgreSQL journal.
///
/// 404 `not_clustered` on a single engine.
#[utoipa::path(
    get,
    path = "/v1/cluster",
    responses(
        (status = 200, description = "This replica.", body = ClusterStatus),
        (status = 401, response = ErrorBody), (status = 403, response = ErrorBody),
        (status = 404, response = ErrorBody), (status = 429, response = ErrorBody),
    )
)]
pub(crate) async fn get_cluster(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<ClusterStatus>, ApiError> {
    authorize(&st.keys, &headers, Role::Read)?;
    match &st.cluster {
        Some(c) => Ok(Json(c.status())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_clustered",
            "this engine is a single instance (no `journal_url`); expected a replica of a group",
        )),
    }
}

/// Ready while this replica reaches the journal: a load balancer may send
/// it writes (leader or standby alike).
pub(crate) fn readyz<P: serde::Serialize>(
    cluster: &ClusterHandle,
    site_problems: P,
) -> Result<Json<serde_json::Value>, ApiError> {
    let s = cluster.status();
    if s.journal_ok {
        Ok(Json(serde_json::json!({
            "status": "ready",
            "role": s.role,
            "epoch": s.epoch,
            "leader": s.leader,
            "site_problems": site_problems,
        })))
    } else {
        Err(ApiError::not_ready())
    }
}

/// Registers the replica's role, epoch, lease age and journal reach.
pub(crate) fn register_metrics(reg: &mut Registry, s: &ClusterStatus) {
    #[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
    struct RoleLabel {
        role: &'static str,
    }
    let leader = s.role == crate::cluster::Role::Leader;
    let role = Family::<RoleLabel, Gauge>::default();
    role.get_or_create(&RoleLabel { role: "leader" })
        .set(i64::from(leader));
    role.get_or_create(&RoleLabel { role: "standby" })
        .set(i64::from(!leader));
    reg.register(
        "dualrec_cluster_role",
        "This replica's role (1 on the matching label)",
        role,
    );
    reg.register(
        "dualrec_cluster_epoch",
        "The fencing epoch this replica leads at or last saw",
        ConstGauge::new(i64::try_from(s.epoch).unwrap_or(i64::MAX)),
    );
    if let Some(age) = s.lease_age_ms {
        reg.register(
            "dualrec_cluster_lease_age_seconds",
            "Time since the leader lease was last renewed",
            ConstGauge::new(age as f64 / 1000.0),
        );
    }
    reg.register(
        "dualrec_cluster_journal_ok",
        "Whether this replica reaches the journal database",
        ConstGauge::new(i64::from(s.journal_ok)),
    );
}
