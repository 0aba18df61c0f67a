//! The audit layer: failed-authentication throttling, and a record of
//! every refused attempt and every write, each with the client's address.
//!
//! [`guard`] wraps every route. Before a request it refuses a throttled
//! client address `429` with `Retry-After` (see `throttle.rs`; public
//! endpoints — `/healthz`, `/readyz`, `/openapi.json` — are never
//! throttled). After it, an error answer (its [`Refused`] extension) that is
//! a failed authentication (401), a refused role (403), or any refused
//! write (PUT/POST) is logged once on target `dualrec_audit` with client
//! address, method, path, status and reason — never the key — journaled in
//! the `refusals` table, and counted in `/metrics`. A 401 also counts
//! against the address in the throttle. Of a throttled period only the
//! first 429 is logged and journaled; all are counted.
//!
//! Accepted writes are audited by the handlers ([`intents_journaled`]):
//! one log line per request — a batch is summarised, not one line per
//! intent — while the journal keeps a row per intent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::api::AppState;
use super::auth::Caller;
use super::error::{ApiError, Refused};
use super::limits::ClientAddr;
use super::throttle::{Throttle, Verdict};
use crate::journal::{Record, Refusal};

/// Longest path kept in an audit line or row.
const MAX_PATH: usize = 256;

/// Throttle state and the counters `/metrics` shows for it.
#[derive(Debug, Default)]
pub struct Security {
    pub throttle: Throttle,
    /// Failed authentications by reason.
    failures: Mutex<BTreeMap<&'static str, u64>>,
    throttled: AtomicU64,
    refused_writes: AtomicU64,
}

impl Security {
    pub fn new() -> Arc<Security> {
        Arc::new(Security::default())
    }

    fn failed(&self, reason: &'static str) {
        if let Ok(mut f) = self.failures.lock() {
            *f.entry(reason).or_default() += 1;
        }
    }

    /// Failed authentications counted for `reason` (tests).
    pub fn failures(&self, reason: &str) -> u64 {
        self.failures
            .lock()
            .map_or(0, |f| f.get(reason).copied().unwrap_or(0))
    }

    /// Registers these counters for one scrape.
    pub fn register(&self, reg: &mut Registry) {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
        struct Reason {
            reason: &'static str,
        }
        let failures = self.failures.lock().map(|f| f.clone()).unwrap_or_default();
        let counted = Family::<Reason, Counter>::default();
        for reason in [
            "missing_key",
            "malformed_header",
            "unknown_key",
            "read_only_key",
            "metrics_only_key",
        ] {
            let n = failures.get(reason).copied().unwrap_or(0);
            counted.get_or_create(&Reason { reason }).inc_by(n);
        }
        reg.register(
            "dualrec_auth_failures",
            "Failed authentications (401) and refused roles (403), by reason",
            counted,
        );
        reg.register(
            "dualrec_auth_throttled",
            "Requests refused 429 because their client address failed authentication too often",
            ConstCounter::new(self.throttled.load(Ordering::Relaxed)),
        );
        reg.register(
            "dualrec_api_refused_writes",
            "Write requests (PUT/POST) refused for any reason",
            ConstCounter::new(self.refused_writes.load(Ordering::Relaxed)),
        );
        reg.register(
            "dualrec_auth_throttle_tracked_addresses",
            "Client addresses with failed authentications not yet forgiven",
            ConstGauge::new(i64::try_from(self.throttle.tracked()).unwrap_or(i64::MAX)),
        );
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/openapi.json")
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn short_path(path: &str) -> String {
    if path.len() <= MAX_PATH {
        return path.to_string();
    }
    let mut end = MAX_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end])
}

/// Logs and journals one refused attempt.
fn record_refusal(
    st: &AppState,
    client: ClientAddr,
    method: &Method,
    path: &str,
    status: StatusCode,
    refused: &Refused,
) {
    let path = short_path(path);
    tracing::warn!(target: "dualrec_audit", %client, %method, path, status = status.as_u16(),
        code = refused.code, reason = %refused.message, who = refused.who.as_deref().unwrap_or("-"),
        "request refused");
    let refusal = Refusal {
        at_ms: now_ms(),
        client: client.0.map(|a| a.to_string()).unwrap_or_default(),
        method: method.to_string(),
        path,
        status: status.as_u16(),
        code: refused.code.to_string(),
        reason: refused.message.clone(),
        who: refused.who.clone(),
    };
    // A replica keeps no local journal: its refusals are in the log and
    // `/metrics` only.
    if let Some(journal) = &st.journal {
        if let Err(e) = journal.refuse(refusal) {
            tracing::debug!(error = %e, "refusal not journaled (journal closed)");
        }
    }
}

/// The middleware (see the module doc).
pub(crate) async fn guard(
    State(st): State<Arc<AppState>>,
    client: ClientAddr,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let ip = client.0.map(|a| a.ip());
    if let (Some(ip), false) = (ip, is_public(&path)) {
        if let Verdict::Throttled { retry_after, first } =
            st.security.throttle.check(ip, Instant::now())
        {
            st.security.throttled.fetch_add(1, Ordering::Relaxed);
            let err = ApiError::throttled(retry_after);
            let res = err.into_response();
            if first {
                if let Some(refused) = res.extensions().get::<Refused>() {
                    record_refusal(&st, client, &method, &path, res.status(), refused);
                }
            }
            return res;
        }
    }
    let res = next.run(req).await;
    let Some(refused) = res.extensions().get::<Refused>() else {
        return res;
    };
    let status = res.status();
    let auth = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    if status == StatusCode::UNAUTHORIZED {
        if let Some(ip) = ip {
            st.security.throttle.fail(ip, Instant::now());
        }
    }
    if auth {
        st.security.failed(refused.reason);
    }
    if is_write(&method) {
        st.security.refused_writes.fetch_add(1, Ordering::Relaxed);
    }
    if auth || is_write(&method) {
        record_refusal(&st, client, &method, &path, status, refused);
    }
    res
}

/// Logs accepted intents for audit: one line per request (the journal
/// holds one row per intent, `ids` are their audit ids).
pub(crate) fn intents_journaled(
    caller: &Caller,
    client: ClientAddr,
    records: &[Record],
    ids: &[i64],
) {
    match (records, ids) {
        ([r], [id]) => {
            tracing::info!(target: "dualrec_audit", who = %caller.name, %client, camera = %r.camera,
                recording = r.recording, seq = r.seq.0, audit_id = id, "intent journaled");
        }
        _ => {
            let started = records.iter().filter(|r| r.recording).count();
            let first = records.first().map(|r| r.camera.as_str()).unwrap_or("-");
            let last = records.last().map(|r| r.camera.as_str()).unwrap_or("-");
            let ids = match (ids.first(), ids.last()) {
                (Some(a), Some(b)) => format!("{a}..={b}"),
                _ => "-".to_string(),
            };
            tracing::info!(target: "dualrec_audit", who = %caller.name, %client, intents = records.len(),
                started, stopped = records.len() - started, first, last, audit_ids = %ids,
                "batch journaled");
        }
    }
}
