//! The SOAP front of a mock site: the management server's Login endpoints and
//! the recording servers' RecorderCommandService, on one address.
//!
//! | path (ASCII case ignored) | what |
//! |---|---|
//! | `POST /ManagementServer/ServerCommandService.svc` | Login, basic user (WCF) |
//! | `POST /ServerAPI/ServerCommandService.asmx` | Login, windows user (ASMX) |
//! | `POST /RecorderCommandService/RecorderCommandService.asmx` | recording server 0 |
//! | `POST /recorder/{i}/RecorderCommandService/RecorderCommandService.asmx` | recording server `i` (0-based) |
//!
//! Login takes HTTP Basic on the basic endpoint, NTLM (bare or inside
//! SPNEGO, `windows_auth.rs`) on the windows one and a bearer token from the
//! identity provider on the OAuth one — 401 with the endpoint's
//! `WWW-Authenticate` challenges when missing or wrong — and answers in the
//! SOAP version of the request. The recorder service dispatches on the Body's
//! element (never SOAPAction) and answers SOAP 1.1 (`xprotect` encodes
//! recorder responses in 1.1 only); faults follow the request's version.
//!
//! Status codes: 200 answers; 500 SOAP faults (token missing/invalid,
//! unsupported operation, unknown device in `SequencesGet*`, injected
//! `errors`); 400 malformed XML or a request that does not decode (with a
//! SOAP client fault); 413 body over the limit; 408 body not received within
//! [`BODY_READ_TIMEOUT`]; 503 recording server restarting (`restart` with a
//! duration); 404 unknown path or recorder index and 405 not POST, both with
//! a SOAP client fault saying what was expected (in the SOAP version the
//! request's `Content-Type` announces) — on the identity provider's paths an
//! OAuth JSON error instead, in the shape its other errors have.
//!
//! Every request first meets the network edge (`hang`/`partition` hold it,
//! latency delays it and its reply, `errors` may answer it), then the model.
//! Nothing here panics on input or waits on the client beyond the timeouts.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use engine::core::{DeviceId, RecorderOp};
use xprotect::{
    decode_login_request, decode_recorder_request, encode_fault, encode_login_response,
    encode_recorder_response_as, sniff_soap_version, DecodeError, Fault, LoginEndpoint,
    LoginResult, ManualRecordingInfo, ManualRecordingResult, RecorderRequest, RecorderResponse,
    SequenceEntry, SequenceType, SoapVersion, IDP_DISCOVERY_PATH, IDP_TOKEN_PATH,
    IDP_TOKEN_PATH_GATEWAY, RECORDER_PATH, RECORDING_SEQUENCE_ID,
};

use super::auth::{self, WindowsAuth};
use super::idp;

use super::listener::ConnCtx;
use super::state::{canonical_device, Shared};
use crate::recorder::CallError;

/// How long a client may take to send a request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Path prefix of recording server `i` (`/recorder/{i}` + [`RECORDER_PATH`]).
pub const RECORDER_INDEX_PREFIX: &str = "/recorder/";

/// The service path of recording server `index` on a mock site.
pub fn recorder_path(index: usize) -> String {
    if index == 0 {
        RECORDER_PATH.to_owned()
    } else {
        format!("{RECORDER_INDEX_PREFIX}{index}{RECORDER_PATH}")
    }
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Login(LoginEndpoint),
    Recorder(usize),
    IdpToken,
    IdpDiscovery,
    /// The configuration REST API (`/api/rest/v1/…`).
    Rest,
}

fn route(path: &str, recorders: usize) -> Option<Route> {
    let eq = |p: &str| path.eq_ignore_ascii_case(p);
    for endpoint in [
        LoginEndpoint::Basic,
        LoginEndpoint::Windows,
        LoginEndpoint::OAuth,
    ] {
        if eq(endpoint.path()) {
            return Some(Route::Login(endpoint));
        }
    }
    if eq(IDP_TOKEN_PATH) || eq(IDP_TOKEN_PATH_GATEWAY) {
        return Some(Route::IdpToken);
    }
    if eq(IDP_DISCOVERY_PATH) {
        return Some(Route::IdpDiscovery);
    }
    if path.len() > super::rest::PREFIX.len()
        && path[..super::rest::PREFIX.len()].eq_ignore_ascii_case(super::rest::PREFIX)
    {
        return Some(Route::Rest);
    }
    if eq(RECORDER_PATH) {
        return Some(Route::Recorder(0));
    }
    let lower = path.to_ascii_lowercase();
    let rest = lower.strip_prefix(RECORDER_INDEX_PREFIX)?;
    let (index, tail) = rest.split_once('/')?;
    let index: usize = index.parse().ok()?;
    let tail = format!("/{tail}");
    (tail.eq_ignore_ascii_case(RECORDER_PATH) && index < recorders)
        .then_some(Route::Recorder(index))
}

/// A SOAP message response.
fn soap(status: StatusCode, version: SoapVersion, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, version.content_type())],
        body,
    )
        .into_response()
}

fn fault(status: StatusCode, version: SoapVersion, f: &Fault) -> Response {
    soap(status, version, encode_fault(version, f))
}

/// The SOAP version a request's `Content-Type` announces (1.2 is
/// `application/soap+xml`), for answers given before the body is read.
fn announced_version(headers: &HeaderMap) -> SoapVersion {
    let soap12 = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/soap+xml"));
    if soap12 {
        SoapVersion::V12
    } else {
        SoapVersion::V11
    }
}

/// What a request was, for the log line.
struct Summary {
    op: String,
    devices: usize,
    outcome: String,
}

impl Summary {
    fn new(op: &str) -> Self {
        Summary {
            op: op.to_owned(),
            devices: 0,
            outcome: String::new(),
        }
    }
}

/// Reads the body, at most `limit` bytes, within [`BODY_READ_TIMEOUT`].
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let version = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(SoapVersion::from_content_type)
        .unwrap_or(SoapVersion::V11);
    let too_large = || {
        fault(
            StatusCode::PAYLOAD_TOO_LARGE,
            version,
            &Fault::client(format!(
                "Request body too large: expected at most {limit} bytes"
            )),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(fault(
            StatusCode::REQUEST_TIMEOUT,
            version,
            &Fault::client("Request body not received in time"),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                source = s.source();
            }
            // The only other failure is the client breaking off mid-body.
            Err(fault(
                StatusCode::BAD_REQUEST,
                version,
                &Fault::malformed(format!("request body could not be read: {e}")),
            ))
        }
    }
}

/// The handler of every request on the service address.
pub(crate) async fn service(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let conn = req.extensions().get::<ConnCtx>().cloned();
    let started = std::time::Instant::now();
    let path = req.uri().path().to_owned();
    // The request travels to the site...
    shared.hold_if_blackholed(conn.as_ref()).await;
    if !shared.request_trip().await {
        // Held past the request's lifetime: it never reaches the recorder.
        if let Some(conn) = &conn {
            conn.abort();
        }
        return std::future::pending().await;
    }
    shared.hold_if_blackholed(conn.as_ref()).await;
    let (response, summary) = handle(&shared, conn.as_ref(), req).await;
    if shared.draw_lost_reply() {
        // Executed, but the reply is lost: the connection drops unanswered.
        tracing::info!(site = %shared.site_name, path = %path, op = %summary.op, "soap reply lost (injected)");
        if let Some(conn) = &conn {
            conn.abort();
        }
        return std::future::pending().await;
    }
    // ...and the reply travels back.
    shared.one_way_delay().await;
    shared.hold_if_blackholed(conn.as_ref()).await;
    tracing::info!(
        site = %shared.site_name,
        path = %path,
        op = %summary.op,
        devices = summary.devices,
        status = response.status().as_u16(),
        outcome = %summary.outcome,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "soap request"
    );
    response
}

async fn handle(shared: &Arc<Shared>, conn: Option<&ConnCtx>, req: Request) -> (Response, Summary) {
    let mut summary = Summary::new("-");
    let Some(route) = route(req.uri().path(), shared.recorders()) else {
        summary.outcome = "no such path".into();
        let path: String = req.uri().path().chars().take(200).collect();
        return (
            fault(
                StatusCode::NOT_FOUND,
                announced_version(req.headers()),
                &Fault::client(format!(
                    "No such endpoint {path}: expected a Login, identity-provider or \
                     RecorderCommandService path"
                )),
            ),
            summary,
        );
    };
    if let Route::IdpDiscovery = route {
        summary.op = "IDP discovery".into();
        if req.method() != Method::GET {
            summary.outcome = "method not allowed".into();
            return (idp::method_not_allowed("GET"), summary);
        }
        summary.outcome = "ok".into();
        let scheme = if conn.is_some_and(|c| c.secure) {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        return (idp::discovery(&format!("{scheme}://{host}")), summary);
    }
    if let Route::Rest = route {
        summary.op = "REST".into();
        let (r, outcome) = super::rest::serve(
            shared,
            req.method(),
            req.uri().path(),
            req.headers(),
            conn.is_some_and(|c| c.secure),
        );
        summary.outcome = outcome.into();
        return (r, summary);
    }
    if req.method() != Method::POST {
        summary.outcome = "method not allowed".into();
        if let Route::IdpToken = route {
            return (idp::method_not_allowed("POST"), summary);
        }
        let mut r = fault(
            StatusCode::METHOD_NOT_ALLOWED,
            announced_version(req.headers()),
            &Fault::client(format!(
                "Method {} is not allowed on this endpoint: expected POST",
                req.method()
            )),
        );
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return (r, summary);
    }
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body, shared.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => {
            summary.outcome = "body refused".into();
            return (r, summary);
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            summary.outcome = "not UTF-8".into();
            return (
                fault(
                    StatusCode::BAD_REQUEST,
                    SoapVersion::V11,
                    &Fault::malformed(format!("body is not UTF-8 ({e}); expected a SOAP envelope")),
                ),
                summary,
            );
        }
    };
    let version = sniff_soap_version(text).unwrap_or(SoapVersion::V11);
    if shared.draw_error() {
        summary.outcome = "injected error".into();
        return (
            fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                version,
                &Fault::server("Internal server error"),
            ),
            summary,
        );
    }
    match route {
        Route::Login(endpoint) => login(
            shared,
            conn,
            endpoint,
            &parts.headers,
            text,
            version,
            summary,
        ),
        Route::Recorder(index) => recorder(shared, index, text, version, summary),
        Route::IdpToken => {
            summary.op = "IDP token".into();
            let (r, outcome) = idp::token(shared, conn, &parts.headers, text);
            summary.outcome = outcome;
            (r, summary)
        }
        // Answered (or refused) above: the discovery document is GET only,
        // the REST API answered before any body is read.
        Route::IdpDiscovery => (idp::method_not_allowed("GET"), summary),
        Route::Rest => (idp::method_not_allowed("GET"), summary),
    }
}

fn login(
    shared: &Shared,
    conn: Option<&ConnCtx>,
    endpoint: LoginEndpoint,
    headers: &HeaderMap,
    text: &str,
    version: SoapVersion,
    mut summary: Summary,
) -> (Response, Summary) {
    match xprotect::decode_get_configuration_request(text) {
        Ok((version, token)) => {
            return get_configuration(shared, conn, headers, version, &token, summary)
        }
        Err(e) if e.is_missing_token() => {
            summary.op = "GetConfiguration".into();
            return (decode_failure(&e, version, &mut summary), summary);
        }
        // Not GetConfiguration: a Login (or a mistake Login reports).
        Err(_) => {}
    }
    summary.op = format!("Login({endpoint:?})");
    let mut final_challenge = None;
    let authenticated = match endpoint {
        LoginEndpoint::Basic if shared.tls && !conn.is_some_and(|c| c.secure) => {
            // Real sites serve the legacy Basic login over HTTPS only.
            Err(fault(
                StatusCode::FORBIDDEN,
                version,
                &Fault::client(
                    "The basic-user login requires HTTPS: the password would travel in clear text",
                ),
            ))
        }
        LoginEndpoint::Basic => auth::basic(shared, headers).map_err(|r| *r),
        LoginEndpoint::Windows => match auth::windows(shared, conn, headers) {
            WindowsAuth::Authenticated {
                user,
                final_challenge: f,
            } => {
                final_challenge = f;
                Ok(user)
            }
            WindowsAuth::Respond(r) => Err(r),
        },
        LoginEndpoint::OAuth => idp::bearer(shared, headers).map_err(|r| *r),
    };
    if let Err(r) = authenticated {
        summary.outcome = format!("unauthorized ({})", r.status().as_u16());
        return (r, summary);
    }
    let (version, request) = match decode_login_request(text) {
        Ok(v) => v,
        Err(e) => return (decode_failure(&e, version, &mut summary), summary),
    };
    let result = shared.with_model(|m, now| {
        let (token, ttl) = m.login(now, request.current_token.as_deref());
        LoginResult {
            token,
            registration_time: shared.clock.utc(now),
            time_to_live_micros: ttl / 1_000,
            // Real sites answer `false` here.
            time_to_live_limited: false,
        }
    });
    summary.outcome = if request.current_token.is_some() {
        "renewed".into()
    } else {
        "logged in".into()
    };
    (
        auth::with_final_challenge(
            soap(
                StatusCode::OK,
                version,
                encode_login_response(version, &result),
            ),
            final_challenge,
        ),
        summary,
    )
}

/// `GetConfiguration(token)` on a ServerCommandService endpoint: the
/// `TOKEN#…` of Login authenticates it (no HTTP authentication). Lists the
/// site's recording servers (`WebServerUri` as the REST API gives it) and
/// the cameras on each.
fn get_configuration(
    shared: &Shared,
    conn: Option<&ConnCtx>,
    headers: &HeaderMap,
    version: SoapVersion,
    token: &str,
    mut summary: Summary,
) -> (Response, Summary) {
    summary.op = "GetConfiguration".into();
    if let Err(e) = shared.with_model(|m, now| m.check_token(now, token)) {
        let (r, outcome) = call_error(&CallError::Token(e), version);
        summary.outcome = outcome;
        return (r, summary);
    }
    let info = super::rest::view(shared, headers, conn.is_some_and(|c| c.secure)).configuration();
    summary.devices = shared.inventory.cameras.len();
    summary.outcome = "ok".into();
    (
        soap(
            StatusCode::OK,
            version,
            xprotect::encode_get_configuration_response(version, &info),
        ),
        summary,
    )
}

/// The answer to a request that did not decode.
fn decode_failure(e: &DecodeError, version: SoapVersion, summary: &mut Summary) -> Response {
    match e {
        DecodeError::UnsupportedOperation(name) => {
            summary.op = name.clone();
            summary.outcome = "unsupported operation".into();
            fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                version,
                &Fault::unsupported_operation(name),
            )
        }
        e if e.is_missing_token() => {
            summary.outcome = "token missing".into();
            fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                version,
                &Fault::token_missing(),
            )
        }
        e => {
            summary.outcome = format!("malformed: {e}");
            fault(StatusCode::BAD_REQUEST, version, &Fault::malformed(e))
        }
    }
}

/// A failed model call as a response.
fn call_error(e: &CallError, version: SoapVersion) -> (Response, String) {
    match e {
        CallError::Token(t) => {
            let f = match t.sub_error_number() {
                1 => Fault::token_missing(),
                _ => Fault::token_invalid(),
            };
            (
                fault(StatusCode::INTERNAL_SERVER_ERROR, version, &f),
                t.to_string(),
            )
        }
        CallError::RecorderDown(_) => (
            fault(
                StatusCode::SERVICE_UNAVAILABLE,
                version,
                &Fault::server("Recording server is restarting; try again later"),
            ),
            "recorder restarting".into(),
        ),
        CallError::UnknownDevice(d) => (
            fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                version,
                &Fault::server(format!("Unknown device {d}")),
            ),
            "unknown device".into(),
        ),
        CallError::UnknownRecorder { .. } => (
            fault(
                StatusCode::NOT_FOUND,
                version,
                &Fault::client(e.to_string()),
            ),
            e.to_string(),
        ),
    }
}

fn recorder(
    shared: &Shared,
    index: usize,
    text: &str,
    version: SoapVersion,
    mut summary: Summary,
) -> (Response, Summary) {
    let request = match decode_recorder_request(text) {
        Ok(r) => r,
        Err(e) => return (decode_failure(&e, version, &mut summary), summary),
    };
    summary.op = request.operation().name().to_owned();
    summary.devices = request.device_ids().len();
    if shared.edge().restarting {
        let (r, outcome) = call_error(&CallError::RecorderDown(index), version);
        summary.outcome = outcome;
        return (r, summary);
    }
    let sent: Vec<String> = request.device_ids().to_vec();
    let devices: Vec<DeviceId> = sent.iter().map(|d| canonical_device(d)).collect();
    let result: Result<RecorderResponse, CallError> = shared.with_model(|m, now| {
        let token = request.token();
        match &request {
            RecorderRequest::StartManualRecording { .. }
            | RecorderRequest::StopManualRecording { .. }
            | RecorderRequest::IsManualRecording { .. } => {
                let op = match &request {
                    RecorderRequest::StartManualRecording { .. } => RecorderOp::Start,
                    RecorderRequest::StopManualRecording { .. } => RecorderOp::Stop,
                    _ => RecorderOp::Probe,
                };
                let outcomes = m.call_detailed(now, index, op, token, &devices)?;
                // .NET writes GUIDs lower-case whatever case was sent.
                let echoed: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
                let pairs = echoed.iter().zip(outcomes);
                Ok(match op {
                    RecorderOp::Probe => RecorderResponse::IsManualRecording(
                        pairs
                            .map(|(id, o)| ManualRecordingInfo {
                                device_id: id.clone(),
                                is_manual_recording: o.recording,
                            })
                            .collect(),
                    ),
                    _ => {
                        let results = pairs
                            .map(|(id, o)| ManualRecordingResult {
                                device_id: id.clone(),
                                result_code: o.code,
                                message: o.message,
                            })
                            .collect();
                        if op == RecorderOp::Start {
                            RecorderResponse::StartManualRecording(results)
                        } else {
                            RecorderResponse::StopManualRecording(results)
                        }
                    }
                })
            }
            RecorderRequest::SequencesGetTypes { .. } => {
                // Token first, then the recorder, then the device.
                m.check_token(now, token)?;
                let count = m.recorders().len();
                let rec = m
                    .recorder(index)
                    .ok_or(CallError::UnknownRecorder { index, count })?;
                if !rec.is_alive() {
                    return Err(CallError::RecorderDown(index));
                }
                let device = devices
                    .first()
                    .cloned()
                    .unwrap_or_else(|| DeviceId::new(""));
                if rec.device_index(&device).is_none() {
                    return Err(CallError::UnknownDevice(DeviceId::new(
                        sent.first().map_or("", String::as_str),
                    )));
                }
                Ok(RecorderResponse::SequencesGetTypes(vec![
                    SequenceType::recording(),
                    SequenceType::recording_with_trigger(),
                    SequenceType::motion(),
                ]))
            }
            RecorderRequest::SequencesGet {
                sequence_type,
                min_time,
                max_time,
                max_count,
                ..
            } => {
                let device = devices
                    .first()
                    .cloned()
                    .unwrap_or_else(|| DeviceId::new(""));
                let recording = &*canonical_device(sequence_type).text() == RECORDING_SEQUENCE_ID;
                // Other sequence types: the same checks, an empty answer.
                let (min, max) = if recording {
                    (
                        shared.clock.nanos_at(*min_time),
                        shared.clock.nanos_at(*max_time),
                    )
                } else {
                    (0, 0)
                };
                let max_count = usize::try_from(*max_count).unwrap_or(usize::MAX);
                let spans = m
                    .sequences_get(now, index, token, &device, min, max, max_count)
                    .map_err(|e| match e {
                        CallError::UnknownDevice(_) => CallError::UnknownDevice(DeviceId::new(
                            sent.first().map_or("", String::as_str),
                        )),
                        e => e,
                    })?;
                Ok(RecorderResponse::SequencesGet(
                    spans
                        .iter()
                        .map(|s| SequenceEntry {
                            time_begin: shared.clock.utc(s.start),
                            time_trigged: shared.clock.utc(s.start),
                            time_end: shared.clock.utc(s.end),
                        })
                        .collect(),
                ))
            }
        }
    });
    match result {
        Ok(response) => {
            summary.outcome = match &response {
                RecorderResponse::StartManualRecording(r)
                | RecorderResponse::StopManualRecording(r) => {
                    let failed = r.iter().filter(|r| !r.is_success()).count();
                    format!("ok ({failed} unknown devices)")
                }
                RecorderResponse::IsManualRecording(i) => format!(
                    "ok ({} recording)",
                    i.iter().filter(|i| i.is_manual_recording).count()
                ),
                RecorderResponse::SequencesGetTypes(t) => format!("ok ({} types)", t.len()),
                RecorderResponse::SequencesGet(s) => format!("ok ({} sequences)", s.len()),
            };
            (
                soap(
                    StatusCode::OK,
                    version,
                    encode_recorder_response_as(version, &response),
                ),
                summary,
            )
        }
        Err(e) => {
            let (r, outcome) = call_error(&e, version);
            summary.outcome = outcome;
            (r, summary)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route("/ManagementServer/ServerCommandService.svc", 1),
            Some(Route::Login(LoginEndpoint::Basic))
        ));
        assert!(matches!(
            route("/serverapi/servercommandservice.asmx", 1),
            Some(Route::Login(LoginEndpoint::Windows))
        ));
        assert!(matches!(route(RECORDER_PATH, 1), Some(Route::Recorder(0))));
        assert!(matches!(
            route(&recorder_path(2), 3),
            Some(Route::Recorder(2))
        ));
        assert!(route(&recorder_path(3), 3).is_none());
        assert!(route(
            "/recorder/x/RecorderCommandService/RecorderCommandService.asmx",
            3
        )
        .is_none());
        assert!(route("/", 1).is_none());
    }
}
