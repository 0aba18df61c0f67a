//! The REST handlers: cameras, batch, health, metrics, OpenAPI.
//!
//! Order of checks on a write: client address throttled (429, `audit.rs`),
//! key (401), role (403), readiness (503), `Content-Type: application/json`
//! (415), body size (413), JSON syntax (400), JSON shape (422), camera
//! (404). A write is answered only after the engine accepted it (its
//! commands are on their way to every site) *and* the journal committed it;
//! the audit trail is that journal row (with the client's address), also
//! logged with target `dualrec_audit` — one line per request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::{intents_journaled, Security};
use super::auth::{authorize, authorize_write, Caller};
use super::error::ApiError;
use super::limits::{ClientAddr, ConnStats};
use super::metrics::{scrape, Metrics};
use super::openapi::ErrorBody;
use crate::config::{ApiKey, Role};
use crate::core::{CameraId, CameraStatus, IntentSeq, Observed};
use crate::journal::{Journal, Record};
use crate::runtime::{EngineHandle, IntentError};

/// Most intents in one batch request. The default body limit
/// ([`crate::config::DEFAULT_MAX_BODY_BYTES`]) admits this many even with
/// 128-character camera names; the OpenAPI schema says so as `maxItems`.
pub const MAX_BATCH_INTENTS: usize = 10_000;

/// Shared by every handler.
pub(crate) struct AppState {
    pub keys: Vec<ApiKey>,
    pub engine: EngineHandle,
    /// The embedded journal; `None` when replicas share PostgreSQL.
    pub journal: Option<Arc<Journal>>,
    /// This replica, when replicas share a PostgreSQL journal.
    pub cluster: Option<crate::replica::ClusterHandle>,
    pub ready: AtomicBool,
    pub metrics: Arc<Metrics>,
    pub cameras: Arc<Vec<CameraId>>,
    pub camera_set: HashSet<CameraId>,
    pub openapi: Bytes,
    /// Test hook: abort the process after this many journaled writes,
    /// between the journal commit and the answer.
    pub crash_after_journal: Option<u64>,
    pub journaled: AtomicU64,
    /// The change feed behind `GET /v1/events`.
    pub hub: Arc<super::events::Hub>,
    /// The latest device check (see `device_check.rs`).
    pub device_check: super::device_check::LatestCheck,
    /// Throttle and refusal counters (`audit.rs`).
    pub security: Arc<Security>,
    /// What the connection limits did (`limits.rs`).
    pub conn_stats: Arc<ConnStats>,
}

type St = State<Arc<AppState>>;

/// A click: the camera's new recording intent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntentBody {
    /// `true` for Start Record, `false` for Stop.
    recording: bool,
}

/// Many clicks at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchBody {
    /// 1 to 10,000 intents (`MAX_BATCH_INTENTS`); the default body limit
    /// (2 MiB) admits that many even with 128-character camera names.
    #[schema(min_items = 1, max_items = 10000)]
    intents: Vec<BatchItem>,
}

/// One intent of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchItem {
    /// Logical camera name from the site config.
    camera: String,
    recording: bool,
}

/// One site's view of a camera, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteState {
    pub site: String,
    pub observed: Observed,
    /// A request for this camera is in flight.
    pub pending: bool,
    pub site_up: bool,
}

/// A camera as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CameraState {
    pub camera: String,
    /// Latest intent; null if never clicked.
    #[schema(required)]
    pub recording: Option<bool>,
    /// The camera's intent sequence (higher is later); null if never clicked.
    #[schema(required)]
    pub seq: Option<u64>,
    pub sites: Vec<SiteState>,
}

impl From<CameraStatus> for CameraState {
    fn from(s: CameraStatus) -> Self {
        CameraState {
            camera: s.camera.as_str().to_string(),
            recording: s.intent.map(|(_, r)| r),
            seq: s.intent.map(|(seq, _)| seq.0),
            sites: s
                .sites
                .into_iter()
                .map(|x| SiteState {
                    site: x.site,
                    observed: x.observed,
                    pending: x.pending,
                    site_up: x.site_up,
                })
                .collect(),
        }
    }
}

/// One acknowledged intent of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchResult {
    camera: String,
    recording: bool,
    seq: u64,
}

impl AppState {
    pub(crate) fn check_ready(&self) -> Result<(), ApiError> {
        if self.ready.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(ApiError::not_ready())
        }
    }

    async fn set_intent(&self, camera: &CameraId, recording: bool) -> Result<IntentSeq, ApiError> {
        self.engine
            .set_intent(camera, recording)
            .await
            .map_err(|e| match e {
                IntentError::UnknownCamera(_) => ApiError::unknown_camera(camera.as_str()),
                IntentError::Stopped(_) => ApiError::stopped(),
            })
    }

    async fn status(&self, camera: &CameraId) -> Result<CameraStatus, ApiError> {
        self.engine
            .status(camera)
            .await
            .map_err(|_| ApiError::stopped())?
            .ok_or_else(|| ApiError::unknown_camera(camera.as_str()))
    }

    /// Journals `records` (durable when this returns), logs them for audit,
    /// and runs the crash hook.
    async fn journal(
        &self,
        caller: &Caller,
        client: ClientAddr,
        records: Vec<Record>,
    ) -> Result<(), ApiError> {
        let n = records.len() as u64;
        let audit = records.clone();
        let Some(journal) = &self.journal else {
            return Err(ApiError::stopped());
        };
        let ids = match journal.append_all(records).await {
            Ok(ids) => ids,
            Err(e) => {
                self.metrics.write_errors.inc();
                tracing::error!(error = %e, "intent not journaled; not acknowledged");
                return Err(ApiError::journal(&e));
            }
        };
        intents_journaled(caller, client, &audit, &ids);
        self.metrics.writes.inc_by(n);
        if let Some(limit) = self.crash_after_journal {
            if self.journaled.fetch_add(n, Ordering::SeqCst) + n >= limit {
                tracing::error!("DUALREC_TEST_CRASH_AFTER_JOURNAL: aborting after the journal commit, before the answer");
                std::process::abort();
            }
        }
        Ok(())
    }
}

/// 415 unless the request says its body is JSON.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_json = given.as_deref().is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if is_json {
        return Ok(());
    }
    let got = match given {
        Some(v) => format!("`{}`", v.chars().take(100).collect::<String>()),
        None => "no Content-Type".to_string(),
    };
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("writes take a JSON body with `Content-Type: application/json`; got {got}"),
    ))
}

/// The `{camera}` path segment, or 400 in the JSON error shape (bad
/// percent-encoding, invalid UTF-8).
fn camera_param(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(c)| c).map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            format!(
                "the camera in the path could not be decoded ({}); expected a camera name of ASCII letters, digits, `-`, `_` or `.`",
                rejection.body_text()
            ),
        )
    })
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The body as `T`: 413 when too large, 400 when not JSON, 422 when JSON of
/// the wrong shape.
fn parse_body<T: for<'de> Deserialize<'de>>(
    body: Result<Bytes, BytesRejection>,
    expected: &str,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is too large; expected {expected}"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                ),
            )
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("{e}; expected {expected}"),
            ),
            _ if bytes.iter().all(u8::is_ascii_whitespace) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the request body is empty; expected {expected}"),
            ),
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the request body is not JSON ({e}); expected {expected}"),
            ),
        }
    })
}

/// 422 unless a batch has 1 to [`MAX_BATCH_INTENTS`] intents.
fn check_batch_len(n: usize) -> Result<(), ApiError> {
    if n == 0 || n > MAX_BATCH_INTENTS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("`intents` has {n} entries; expected 1 to {MAX_BATCH_INTENTS}"),
        ));
    }
    Ok(())
}

const INTENT_EXPECTED: &str = "{\"recording\": true} or {\"recording\": false}";
const BATCH_EXPECTED: &str =
    "{\"intents\": [{\"camera\": \"NAME\", \"recording\": true|false}, …]}";

/// Set a camera's recording intent.
///
/// Idempotent: repeating the current intent returns the same `seq`. When
/// answered, the intent is journaled (durable) and dispatched to every site.
#[utoipa::path(
    put,
    path = "/v1/cameras/{camera}/recording",
    params(("camera" = String, Path, description = "Logical camera name from the site config (ASCII letters, digits, `-`, `_`, `.`; at most 128).")),
    request_body(content = IntentBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Durable and dispatched to every site.", body = CameraState),
        (status = 400, response = ErrorBody), (status = 401, response = ErrorBody),
        (status = 403, response = ErrorBody), (status = 404, response = ErrorBody),
        (status = 408, response = ErrorBody), (status = 413, response = ErrorBody),
        (status = 415, response = ErrorBody), (status = 422, response = ErrorBody),
        (status = 429, response = ErrorBody), (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn put_recording(
    State(st): St,
    client: ClientAddr,
    camera: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CameraState>, ApiError> {
    let t0 = Instant::now();
    let caller = authorize_write(&st.keys, &headers)?;
    let camera = camera_param(camera)?;
    st.check_ready()?;
    require_json(&headers)?;
    let body: IntentBody = parse_body(body, INTENT_EXPECTED)?;
    let camera = CameraId::new(&camera);
    if st.cluster.is_some() {
        // Replicas: committed to the shared journal first; the leader
        // applies it from there.
        if !st.camera_set.contains(&camera) {
            return Err(ApiError::unknown_camera(camera.as_str()));
        }
        let seqs = super::cluster::write(
            &st,
            &caller,
            client,
            vec![(camera.clone(), body.recording)],
            now_ms(),
        )
        .await?;
        let mut status = st.status(&camera).await?;
        // The answer carries this write even when the replica has not read
        // it back from the journal yet (or a later write already won).
        if let Some(&seq) = seqs.first() {
            if status.intent.is_none_or(|(known, _)| known < seq) {
                status.intent = Some((seq, body.recording));
            }
        }
        st.metrics.observe_write(t0.elapsed());
        return Ok(Json(status.into()));
    }
    let seq = st.set_intent(&camera, body.recording).await?;
    st.journal(
        &caller,
        client,
        vec![Record {
            camera: camera.clone(),
            seq,
            recording: body.recording,
            at_ms: now_ms(),
            who: caller.name.clone(),
            client: client.0.map(|a| a.to_string()).unwrap_or_default(),
        }],
    )
    .await?;
    let status = st.status(&camera).await?;
    st.metrics.observe_write(t0.elapsed());
    Ok(Json(status.into()))
}

/// A camera's intent and each site's observed state.
#[utoipa::path(
    get,
    path = "/v1/cameras/{camera}/recording",
    params(("camera" = String, Path, description = "Logical camera name from the site config.")),
    responses(
        (status = 200, description = "The camera.", body = CameraState),
        (status = 400, response = ErrorBody), (status = 401, response = ErrorBody),
        (status = 403, response = ErrorBody), (status = 404, response = ErrorBody),
        (status = 429, response = ErrorBody), (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn get_recording(
    State(st): St,
    camera: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<CameraState>, ApiError> {
    authorize(&st.keys, &headers, Role::Read)?;
    let camera = camera_param(camera)?;
    st.check_ready()?;
    Ok(Json(st.status(&CameraId::new(&camera)).await?.into()))
}

/// Every configured camera.
#[derive(Serialize, ToSchema)]
pub(crate) struct CameraList {
    cameras: Vec<CameraState>,
}

/// Every configured camera with its intent and site states.
#[utoipa::path(
    get,
    path = "/v1/cameras",
    responses(
        (status = 200, description = "All cameras.", body = CameraList),
        (status = 401, response = ErrorBody), (status = 403, response = ErrorBody),
        (status = 429, response = ErrorBody), (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn list_cameras(
    State(st): St,
    headers: HeaderMap,
) -> Result<Json<CameraList>, ApiError> {
    authorize(&st.keys, &headers, Role::Read)?;
    st.check_ready()?;
    let mut cameras = Vec::with_capacity(st.cameras.len());
    for c in st.cameras.iter() {
        cameras.push(st.status(c).await?.into());
    }
    Ok(Json(CameraList { cameras }))
}

/// The acknowledged intents of a batch, in request order.
#[derive(Serialize, ToSchema)]
pub(crate) struct BatchAnswer {
    results: Vec<BatchResult>,
}

/// Set many cameras' intents at once.
///
/// All cameras are checked first; an unknown one rejects the whole batch.
/// One engine step for the whole batch: one request per recorder.
#[utoipa::path(
    post,
    path = "/v1/recording/batch",
    request_body(content = BatchBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Every intent is durable and dispatched.", body = BatchAnswer),
        (status = 400, response = ErrorBody), (status = 401, response = ErrorBody),
        (status = 403, response = ErrorBody), (status = 404, response = ErrorBody),
        (status = 408, response = ErrorBody), (status = 413, response = ErrorBody),
        (status = 415, response = ErrorBody), (status = 422, response = ErrorBody),
        (status = 429, response = ErrorBody), (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn batch(
    State(st): St,
    client: ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchAnswer>, ApiError> {
    let t0 = Instant::now();
    let caller = authorize_write(&st.keys, &headers)?;
    st.check_ready()?;
    require_json(&headers)?;
    let body: BatchBody = parse_body(body, BATCH_EXPECTED)?;
    check_batch_len(body.intents.len())?;
    // Every camera is checked before any intent is applied.
    let items: Vec<(CameraId, bool)> = body
        .intents
        .into_iter()
        .map(|i| (CameraId::new(&i.camera), i.recording))
        .collect();
    if let Some((unknown, _)) = items.iter().find(|(c, _)| !st.camera_set.contains(c)) {
        return Err(ApiError::unknown_camera(unknown.as_str()));
    }
    if st.cluster.is_some() {
        let seqs = super::cluster::write(&st, &caller, client, items.clone(), now_ms()).await?;
        let results = items
            .into_iter()
            .zip(seqs)
            .map(|((camera, recording), seq)| BatchResult {
                camera: camera.as_str().to_string(),
                recording,
                seq: seq.0,
            })
            .collect();
        st.metrics.observe_write(t0.elapsed());
        return Ok(Json(BatchAnswer { results }));
    }
    // One engine step for the whole batch: one request per recorder.
    let seqs = st
        .engine
        .set_intents(items.clone())
        .await
        .map_err(|_| ApiError::stopped())?;
    let at_ms = now_ms();
    let client_text = client.0.map(|a| a.to_string()).unwrap_or_default();
    let mut records = Vec::with_capacity(items.len());
    for ((camera, recording), seq) in items.into_iter().zip(seqs) {
        let seq = seq.map_err(|e| ApiError::unknown_camera(e.0.as_str()))?;
        records.push(Record {
            camera,
            seq,
            recording,
            at_ms,
            who: caller.name.clone(),
            client: client_text.clone(),
        });
    }
    let results = records
        .iter()
        .map(|r| BatchResult {
            camera: r.camera.as_str().to_string(),
            recording: r.recording,
            seq: r.seq.0,
        })
        .collect();
    st.journal(&caller, client, records).await?;
    st.metrics.observe_write(t0.elapsed());
    Ok(Json(BatchAnswer { results }))
}

/// Liveness: the process serves requests (no key needed).
#[utoipa::path(
    get,
    path = "/healthz",
    security(()),
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = serde_json::Value))
)]
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: journal open and intents restored (no key needed). Sites
/// whose configuration needs fixing are listed by name.
#[utoipa::path(
    get,
    path = "/readyz",
    security(()),
    responses(
        (status = 200, description = "Ready to take clicks.", body = serde_json::Value),
        (status = 503, response = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(st): St) -> Result<Json<serde_json::Value>, ApiError> {
    if !st.ready.load(Ordering::Acquire) {
        return Err(ApiError::not_ready());
    }
    // Ready to take clicks; sites that need their configuration fixed
    // (rejected credentials, untrusted certificate) are listed by name.
    let problems = st
        .engine
        .stats()
        .await
        .map(|s| s.site_problems)
        .unwrap_or_default();
    if let Some(cluster) = &st.cluster {
        return super::cluster::readyz(cluster, problems);
    }
    if st.journal.as_ref().is_some_and(|j| j.is_open()) {
        Ok(Json(
            serde_json::json!({"status": "ready", "site_problems": problems}),
        ))
    } else {
        Err(ApiError::not_ready())
    }
}

/// Prometheus metrics (key role `metrics` or above).
///
/// Text format 0.0.4, or OpenMetrics 1.0 when `Accept` asks for it.
#[utoipa::path(
    get,
    path = "/metrics",
    responses(
        (status = 200, description = "The metrics.", content(
            (String = "text/plain; version=0.0.4"),
            (String = "application/openmetrics-text; version=1.0.0"),
        )),
        (status = 401, response = ErrorBody), (status = 429, response = ErrorBody),
    )
)]
pub(crate) async fn metrics(State(st): St, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&st.keys, &headers, Role::Metrics)?;
    let stats = st.engine.stats().await.ok();
    let mut reg = prometheus_client::registry::Registry::default();
    st.metrics
        .register(&mut reg, stats.as_ref(), st.ready.load(Ordering::Acquire));
    if let Some(cluster) = &st.cluster {
        super::cluster::register_metrics(&mut reg, &cluster.status());
    }
    super::device_check::register_metrics(&st.device_check, &mut reg);
    st.security.register(&mut reg);
    st.conn_stats.register(&mut reg);
    let format = scrape::Format::negotiate(&headers);
    let mut res = scrape::encode(&reg, format).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    Ok(res)
}

/// This document (no key needed).
#[utoipa::path(
    get,
    path = "/openapi.json",
    security(()),
    responses((status = 200, description = "OpenAPI 3.1.", body = serde_json::Value))
)]
pub(crate) async fn openapi(State(st): St) -> Response {
    let mut res = st.openapi.clone().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; GET /openapi.json describes the API",
    )
}

/// The answer when a request took longer than `request_timeout`.
pub(crate) async fn request_timeout(err: axum::BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request was not complete and answered within the server's request_timeout; send the body promptly and retry",
        )
    } else {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the request failed: {err}"),
        )
    }
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /openapi.json describes the API",
    )
}

/// The request parsers, for the fuzz target (`fuzz.rs`).
#[cfg(test)]
pub(crate) mod fuzz_hooks {
    use super::*;

    pub(crate) use super::require_json;

    pub fn parse_intent(bytes: Bytes) -> Result<bool, ApiError> {
        parse_body::<IntentBody>(Ok(bytes), INTENT_EXPECTED).map(|b| b.recording)
    }

    /// The number of intents of a batch body that passes parsing and the
    /// size check.
    pub fn parse_batch(bytes: Bytes) -> Result<usize, ApiError> {
        let body: BatchBody = parse_body(Ok(bytes), BATCH_EXPECTED)?;
        check_batch_len(body.intents.len())?;
        Ok(body.intents.len())
    }
}
