//! Runtime tests over real HTTP on loopback, against a tiny fake XProtect
//! site (axum) that speaks through the `xprotect` codec: login then Start on
//! both sites, a hung site not delaying the other, re-login after a token
//! fault, a refused site, and the client's mapping of HTTP failures.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use xprotect::{
    decode_login_request, decode_recorder_request, encode_fault, encode_login_response,
    encode_recorder_response, Fault, LoginResult, ManualRecordingInfo, ManualRecordingResult,
    Operation, RecorderResponse, SoapVersion, UtcTime, LOGIN_PATH_BASIC, LOGIN_PATH_WINDOWS,
    RECORDER_PATH,
};

use super::*;
use crate::core::*;

const USER: &str = "dualrec";
const PASSWORD: &str = "secret";
/// `Basic base64("dualrec:secret")`
const AUTHORIZATION: &str = "Basic ZHVhbHJlYzpzZWNyZXQ=";
const DEVICES: [&str; 2] = [
    "a8a8b9dc-3995-49ed-9b00-62caac2ce74a",
    "5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11",
];

/// One recorder call as the fake saw it.
#[derive(Debug, Clone)]
struct Call {
    at: Instant,
    op: Operation,
    token: String,
    devices: Vec<String>,
    token_fault: bool,
}

#[derive(Default)]
struct FakeState {
    /// Never answer anything.
    hang: AtomicBool,
    /// Reject the first token issued with a token-invalid fault.
    revoke_first_token: AtomicBool,
    /// Answer 200 with a body that is not SOAP.
    garbage: AtomicBool,
    next_token: AtomicU64,
    hanging: AtomicUsize,
    /// `(arrival, path)` of every login.
    logins: Mutex<Vec<(Instant, String)>>,
    calls: Mutex<Vec<Call>>,
    recording: Mutex<HashSet<String>>,
}

struct Fake {
    addr: SocketAddr,
    st: Arc<FakeState>,
}

impl Fake {
    async fn start() -> Fake {
        let st = Arc::new(FakeState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake site");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let app = axum::Router::new().fallback(handle).with_state(st.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { addr, st }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn logins(&self) -> Vec<(Instant, String)> {
        self.st.logins.lock().expect("fake lock").clone()
    }

    fn calls(&self) -> Vec<Call> {
        self.st.calls.lock().expect("fake lock").clone()
    }

    fn is_recording(&self, device: &str) -> bool {
        self.st
            .recording
            .lock()
            .expect("fake lock")
            .contains(device)
    }
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn handle(
    State(st): State<Arc<FakeState>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    if st.hang.load(Ordering::SeqCst) {
        st.hanging.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    if st.garbage.load(Ordering::SeqCst) {
        return soap(StatusCode::OK, "<html>not soap</html>".into());
    }
    let path = uri.path().to_owned();
    if path == LOGIN_PATH_BASIC || path == LOGIN_PATH_WINDOWS {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        // This fake only checks that Windows logins speak NTLM; the mock
        // site verifies NTLM for real (tests/real_sites.rs).
        let authorized = given == Some(AUTHORIZATION)
            || (path == LOGIN_PATH_WINDOWS && given.is_some_and(|g| g.starts_with("NTLM ")));
        if !authorized {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let Ok((version, _req)) = decode_login_request(&body) else {
            return soap(
                StatusCode::BAD_REQUEST,
                encode_fault(SoapVersion::V11, &Fault::malformed("bad login")),
            );
        };
        st.logins
            .lock()
            .expect("fake lock")
            .push((Instant::now(), path));
        let n = st.next_token.fetch_add(1, Ordering::SeqCst) + 1;
        let result = LoginResult {
            token: format!("TOKEN#{n}#fake//ServerConnector#"),
            registration_time: UtcTime::UNIX_EPOCH,
            time_to_live_micros: 14_400_000_000,
            time_to_live_limited: true,
        };
        return soap(StatusCode::OK, encode_login_response(version, &result));
    }
    if path != RECORDER_PATH {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(req) = decode_recorder_request(&body) else {
        return soap(
            StatusCode::BAD_REQUEST,
            encode_fault(SoapVersion::V11, &Fault::malformed("bad request")),
        );
    };
    let token = req.token().to_owned();
    let issued = st.next_token.load(Ordering::SeqCst);
    let valid = token
        .strip_prefix("TOKEN#")
        .and_then(|t| t.split('#').next())
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| {
            n >= 1 && n <= issued && !(n == 1 && st.revoke_first_token.load(Ordering::SeqCst))
        });
    let devices = req.device_ids().to_vec();
    st.calls.lock().expect("fake lock").push(Call {
        at: Instant::now(),
        op: req.operation(),
        token,
        devices: devices.clone(),
        token_fault: !valid,
    });
    if !valid {
        return soap(
            StatusCode::INTERNAL_SERVER_ERROR,
            encode_fault(SoapVersion::V11, &Fault::token_invalid()),
        );
    }
    let mut recording = st.recording.lock().expect("fake lock");
    let response = match req.operation() {
        Operation::StartManualRecording => {
            recording.extend(devices.iter().cloned());
            RecorderResponse::StartManualRecording(
                devices.iter().map(ManualRecordingResult::success).collect(),
            )
        }
        Operation::StopManualRecording => {
            for d in &devices {
                recording.remove(d);
            }
            RecorderResponse::StopManualRecording(
                devices.iter().map(ManualRecordingResult::success).collect(),
            )
        }
        Operation::IsManualRecording => RecorderResponse::IsManualRecording(
            devices
                .iter()
                .map(|d| ManualRecordingInfo {
                    device_id: d.clone(),
                    is_manual_recording: recording.contains(d),
                })
                .collect(),
        ),
        other => {
            return soap(
                StatusCode::INTERNAL_SERVER_ERROR,
                encode_fault(
                    SoapVersion::V11,
                    &Fault::unsupported_operation(other.name()),
                ),
            )
        }
    };
    soap(StatusCode::OK, encode_recorder_response(&response))
}

fn lobby() -> CameraId {
    CameraId::new("lobby")
}

fn config(nsites: usize) -> MirrorConfig {
    MirrorConfig {
        sites: (0..nsites)
            .map(|s| SiteSpec {
                name: format!("site{s}"),
                recorders: 1,
                manual_recording_max: Some(300 * SECS),
                prebuffer: 3 * SECS,
            })
            .collect(),
        cameras: vec![CameraSpec {
            id: lobby(),
            placements: (0..nsites)
                .map(|s| Placement {
                    site: s,
                    recorder: 0,
                    device: DeviceId::new(DEVICES[s]),
                    settings: Default::default(),
                })
                .collect(),
        }],
        policy: Policy::default(),
    }
}

fn endpoint(site: usize, url: String, auth: SiteAuth) -> SiteEndpoint {
    SiteEndpoint {
        name: format!("site{site}"),
        management_url: url.clone(),
        recorder_urls: vec![url],
        username: USER.into(),
        password: PASSWORD.into(),
        auth,
        tls_ca_pem: None,
        // The fake site here serves the SOAP Logins only.
        login: crate::runtime::SiteLogin::Soap,
        tls_cert_sha256: None,
        password_file: None,
    }
}

/// A loopback address nobody listens on.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    drop(listener);
    format!("http://{addr}")
}

/// Polls `f` every 5 ms until it holds; panics with `what` after `limit`.
async fn wait_until(limit: Duration, what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn observed(engine: &EngineHandle, site: usize) -> Observed {
    let status = engine
        .status(&lobby())
        .await
        .expect("engine running")
        .expect("lobby is configured");
    status.sites[site].observed
}

#[tokio::test]
async fn runtime_login_then_start_reaches_both_sites() {
    let (a, b) = (Fake::start().await, Fake::start().await);
    let engine = spawn(
        config(2),
        vec![
            endpoint(0, a.url(), SiteAuth::Basic),
            endpoint(1, b.url(), SiteAuth::Windows),
        ],
        7,
    )
    .expect("valid runtime config");
    let seq = engine
        .set_intent(&lobby(), true)
        .await
        .expect("lobby is known");
    assert_eq!(seq, IntentSeq(1));
    let limit = Duration::from_secs(5);
    wait_until(limit, "both sites recording", || {
        a.is_recording(DEVICES[0]) && b.is_recording(DEVICES[1])
    })
    .await;
    for (fake, path, device) in [
        (&a, LOGIN_PATH_BASIC, DEVICES[0]),
        (&b, LOGIN_PATH_WINDOWS, DEVICES[1]),
    ] {
        let logins = fake.logins();
        assert!(!logins.is_empty(), "no login on {path}");
        assert!(logins.iter().all(|(_, p)| p == path), "{logins:?}");
        let start = fake
            .calls()
            .into_iter()
            .find(|c| c.op == Operation::StartManualRecording)
            .expect("a Start reached the site");
        assert!(start.at >= logins[0].0, "Start before Login");
        assert_eq!(start.devices, vec![device.to_owned()]);
        assert!(
            start.token.starts_with("TOKEN#"),
            "Start carries the login token"
        );
    }
    let engine2 = engine.clone();
    let deadline = Instant::now() + limit;
    loop {
        if observed(&engine2, 0).await == Observed::Recording
            && observed(&engine2, 1).await == Observed::Recording
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "engine never observed both recording"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine
        .set_intent(&lobby(), false)
        .await
        .expect("lobby is known");
    wait_until(limit, "both sites stopped", || {
        !a.is_recording(DEVICES[0]) && !b.is_recording(DEVICES[1])
    })
    .await;
    let unknown = engine.set_intent(&CameraId::new("nope"), true).await;
    assert!(
        matches!(unknown, Err(IntentError::UnknownCamera(_))),
        "{unknown:?}"
    );
    engine.shutdown().await;
    assert_eq!(engine.stats().await, Err(EngineStopped));
}

#[tokio::test]
async fn runtime_hung_site_does_not_delay_the_other() {
    let (a, b) = (Fake::start().await, Fake::start().await);
    b.st.hang.store(true, Ordering::SeqCst);
    let engine = spawn(
        config(2),
        vec![
            endpoint(0, a.url(), SiteAuth::Basic),
            endpoint(1, b.url(), SiteAuth::Basic),
        ],
        7,
    )
    .expect("valid runtime config");
    // Let the engine start and log in to the live site; the hung site's
    // login is now hanging.
    let limit = Duration::from_secs(5);
    wait_until(limit, "login on the live site", || !a.logins().is_empty()).await;
    wait_until(limit, "a request hanging on the hung site", || {
        b.st.hanging.load(Ordering::SeqCst) > 0
    })
    .await;
    let t0 = Instant::now();
    engine
        .set_intent(&lobby(), true)
        .await
        .expect("lobby is known");
    let acked = t0.elapsed();
    assert!(
        acked < Duration::from_millis(500),
        "set_intent took {acked:?}"
    );
    wait_until(limit, "Start on the live site", || {
        a.is_recording(DEVICES[0])
    })
    .await;
    let start = a
        .calls()
        .into_iter()
        .find(|c| c.op == Operation::StartManualRecording)
        .expect("a Start reached the live site");
    let delay = start.at.duration_since(t0);
    assert!(
        delay < Duration::from_millis(500),
        "live site's Start arrived {delay:?} after the click"
    );
    // The hung site is still hanging: it never answered anything.
    assert!(b.st.hanging.load(Ordering::SeqCst) > 0);
    assert!(b.logins().is_empty() && b.calls().is_empty());
    engine.shutdown().await;
}

#[tokio::test]
async fn runtime_token_fault_relogins_and_retries() {
    let (a, b) = (Fake::start().await, Fake::start().await);
    a.st.revoke_first_token.store(true, Ordering::SeqCst);
    let (tx, mut events) = mpsc::unbounded_channel();
    let engine = Driver::new(
        config(2),
        vec![
            endpoint(0, a.url(), SiteAuth::Basic),
            endpoint(1, b.url(), SiteAuth::Basic),
        ],
        7,
    )
    .expect("valid runtime config")
    .observer(tx)
    .spawn();
    engine
        .set_intent(&lobby(), true)
        .await
        .expect("lobby is known");
    let limit = Duration::from_secs(5);
    wait_until(limit, "both sites recording", || {
        a.is_recording(DEVICES[0]) && b.is_recording(DEVICES[1])
    })
    .await;
    let calls = a.calls();
    let faulted = calls
        .iter()
        .position(|c| c.token_fault)
        .expect("a call with the revoked token was faulted");
    assert!(calls[faulted].token.starts_with("TOKEN#1#"));
    assert!(a.logins().len() >= 2, "no re-login: {:?}", a.logins());
    assert!(
        calls[faulted..]
            .iter()
            .any(|c| c.op == Operation::StartManualRecording
                && !c.token_fault
                && !c.token.starts_with("TOKEN#1#")),
        "no Start retried with the new token: {calls:?}"
    );
    let mut saw_fault = false;
    while let Ok(event) = events.try_recv() {
        if let RuntimeEvent::Replied {
            site: 0,
            outcome: Outcome::Fault {
                token_invalid: true,
            },
            ..
        } = event
        {
            saw_fault = true;
        }
    }
    assert!(saw_fault, "observer never saw the token fault");
    engine.shutdown().await;
}

#[tokio::test]
async fn runtime_refused_site_is_reported_and_other_records() {
    let a = Fake::start().await;
    let (tx, mut events) = mpsc::unbounded_channel();
    let engine = Driver::new(
        config(2),
        vec![
            endpoint(0, a.url(), SiteAuth::Basic),
            endpoint(1, refused_url(), SiteAuth::Basic),
        ],
        7,
    )
    .expect("valid runtime config")
    .observer(tx)
    .spawn();
    engine
        .set_intent(&lobby(), true)
        .await
        .expect("lobby is known");
    let limit = Duration::from_secs(5);
    wait_until(limit, "the live site recording", || {
        a.is_recording(DEVICES[0])
    })
    .await;
    let refused = tokio::time::timeout(limit, async {
        while let Some(event) = events.recv().await {
            if let RuntimeEvent::Replied {
                site: 1,
                outcome: Outcome::Failed(err),
                ..
            } = event
            {
                return Some(err);
            }
        }
        None
    })
    .await
    .expect("the refused site reported a failure in time");
    assert_eq!(refused, Some(TransportError::Refused));
    assert_eq!(observed(&engine, 0).await, Observed::Recording);
    engine.shutdown().await;
}

#[tokio::test]
async fn runtime_client_maps_faults_and_http_errors() {
    let a = Fake::start().await;
    let client = SoapClient::new(&endpoint(0, a.url(), SiteAuth::Basic)).expect("client");
    let devices = [DeviceId::new(DEVICES[0])];

    // HTTP 500 carrying a SOAP fault is a fault, not an HTTP error.
    let reply = client.call(0, RecorderOp::Start, &devices, "bogus").await;
    assert!(
        matches!(&reply, Ok(Reply::Fault(f)) if f.token_invalid),
        "{reply:?}"
    );

    let reply = client.login(None).await;
    let Ok(Reply::LoggedIn { token, ttl }) = reply else {
        panic!("login failed: {reply:?}");
    };
    assert_eq!(ttl, 14_400 * SECS);
    let reply = client.call(0, RecorderOp::Probe, &devices, &token).await;
    assert_eq!(
        reply,
        Ok(Reply::States(vec![DeviceState {
            device: devices[0].clone(),
            recording: false
        }]))
    );

    // Wrong credentials: 401 without a SOAP body, a configuration error.
    let mut wrong = endpoint(0, a.url(), SiteAuth::Basic);
    wrong.password = "wrong".into();
    let reply = SoapClient::new(&wrong).expect("client").login(None).await;
    assert!(
        matches!(reply, Ok(Reply::CredentialsRejected { .. })),
        "{reply:?}"
    );

    // A 200 that is not SOAP.
    a.st.garbage.store(true, Ordering::SeqCst);
    let reply = client.call(0, RecorderOp::Start, &devices, &token).await;
    assert!(
        matches!(reply, Err(TransportError::Malformed(_))),
        "{reply:?}"
    );

    let refused = SoapClient::new(&endpoint(0, refused_url(), SiteAuth::Basic)).expect("client");
    assert_eq!(refused.login(None).await, Err(TransportError::Refused));
}

#[test]
fn runtime_rejects_mismatched_endpoints_and_bad_ca() {
    let url = "http://127.0.0.1:1".to_owned();
    let one = vec![endpoint(0, url.clone(), SiteAuth::Basic)];
    assert!(matches!(
        Driver::new(config(2), one, 1),
        Err(RuntimeError::SiteCount {
            sites: 2,
            endpoints: 1
        })
    ));
    let mut bad = endpoint(0, url, SiteAuth::Basic);
    bad.tls_ca_pem = Some(b"not a certificate".to_vec());
    assert!(SoapClient::new(&bad).is_err());
    assert!(
        !format!("{bad:?}").contains(PASSWORD),
        "Debug leaks the password"
    );
}
