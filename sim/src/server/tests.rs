//! Tests of the mock site over real loopback HTTP, with a minimal raw HTTP/1.1
//! client (so status codes, headers, refused and dropped connections are
//! seen exactly as a client sees them).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use engine::core::{DeviceId, MILLIS, SECS};
use xprotect::{
    decode_fault, decode_login_response, decode_recorder_response, encode_login_request,
    encode_recorder_request, Fault, LoginEndpoint, LoginRequest, Operation, RecorderRequest,
    RecorderResponse, SoapVersion, UtcTime, MOTION_SEQUENCE_ID, NIL_GUID, RECORDER_PATH,
    RECORDING_SEQUENCE_ID,
};

use super::*;
use crate::recorder::SiteConfig;

const D1: &str = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a";
const D2: &str = "5f0c1d2e-0000-4000-8000-000000000002";
const D3: &str = "5f0c1d2e-0000-4000-8000-000000000003";
const UNKNOWN: &str = "00000000-dead-beef-0000-000000000000";

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn config() -> MockSiteConfig {
    let site = SiteConfig::new("primary", "dualrec", "secret");
    MockSiteConfig::new(
        site,
        vec![
            vec![DeviceId::new(D1), DeviceId::new(D2)],
            vec![DeviceId::new(D3)],
        ],
    )
}

async fn start(cfg: MockSiteConfig) -> MockSite {
    match MockSite::start(cfg, localhost(), Some(localhost())).await {
        Ok(s) => s,
        Err(e) => panic!("mock site did not start: {e}"),
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn fault(&self) -> Fault {
        match decode_fault(&self.body) {
            Ok(f) => f,
            Err(e) => panic!("not a fault ({e}): {}", self.body),
        }
    }
}

/// Sends raw bytes, reads until the server closes, parses the reply.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> io::Result<Reply> {
    let mut s = TcpStream::connect(addr).await?;
    // The server may answer (and close) before reading everything.
    let _ = s.write_all(bytes).await;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("no HTTP response: {text:?}"),
        ));
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> io::Result<Reply> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw(addr, req.as_bytes()).await
}

async fn must(r: io::Result<Reply>) -> Reply {
    match r {
        Ok(r) => r,
        Err(e) => panic!("request failed: {e}"),
    }
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

async fn login_raw(site: &MockSite, endpoint: LoginEndpoint, version: SoapVersion) -> Reply {
    let body = encode_login_request(
        version,
        &LoginRequest {
            instance_id: NIL_GUID.into(),
            current_token: None,
        },
    );
    must(
        http(
            site.service_addr(),
            "POST",
            endpoint.path(),
            &[
                ("Content-Type", version.content_type().into()),
                ("Authorization", basic("dualrec", "secret")),
            ],
            &body,
        )
        .await,
    )
    .await
}

async fn login(site: &MockSite) -> String {
    let r = login_raw(site, LoginEndpoint::Basic, SoapVersion::V11).await;
    assert_eq!(r.status, 200, "{}", r.body);
    match decode_login_response(&r.body) {
        Ok(Ok(l)) => l.token,
        other => panic!("login failed: {other:?}"),
    }
}

async fn soap_at(site: &MockSite, path: &str, body: &str) -> io::Result<Reply> {
    http(
        site.service_addr(),
        "POST",
        path,
        &[("Content-Type", "text/xml; charset=utf-8".into())],
        body,
    )
    .await
}

async fn call(site: &MockSite, req: &RecorderRequest) -> Reply {
    must(soap_at(site, RECORDER_PATH, &encode_recorder_request(req)).await).await
}

/// Decodes a recorder response of whichever operation it answers.
fn response(r: &Reply) -> RecorderResponse {
    for op in Operation::ALL {
        if let Ok(Ok(resp)) = decode_recorder_response(op, &r.body) {
            return resp;
        }
    }
    panic!("status {}: not a recorder response\n{}", r.status, r.body)
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn start_req(token: &str, devices: &[&str]) -> RecorderRequest {
    RecorderRequest::StartManualRecording {
        token: token.into(),
        device_ids: ids(devices),
    }
}

fn stop_req(token: &str, devices: &[&str]) -> RecorderRequest {
    RecorderRequest::StopManualRecording {
        token: token.into(),
        device_ids: ids(devices),
    }
}

fn is_req(token: &str, devices: &[&str]) -> RecorderRequest {
    RecorderRequest::IsManualRecording {
        token: token.into(),
        device_ids: ids(devices),
    }
}

async fn is_recording(site: &MockSite, token: &str, device: &str) -> bool {
    let r = call(site, &is_req(token, &[device])).await;
    match response(&r) {
        RecorderResponse::IsManualRecording(i) if i.len() == 1 => i[0].is_manual_recording,
        other => panic!("{other:?}"),
    }
}

async fn control(site: &MockSite, method: &str, path: &str, body: &str) -> Reply {
    let addr = site.control_addr().unwrap_or_else(localhost);
    must(
        http(
            addr,
            method,
            path,
            &[("Content-Type", "application/json".into())],
            body,
        )
        .await,
    )
    .await
}

async fn fault(site: &MockSite, body: &str) -> Value {
    let r = control(site, "POST", "/faults", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn utc_now() -> UtcTime {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    UtcTime::from_unix_nanos(ns)
}

fn near(a: UtcTime, b: UtcTime, tolerance: Duration) -> bool {
    (a.unix_nanos() - b.unix_nanos()).unsigned_abs() <= tolerance.as_nanos() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_both_endpoints_needs_basic_credentials() {
    let site = start(config()).await;
    let addr = site.service_addr();
    let body = encode_login_request(
        SoapVersion::V11,
        &LoginRequest {
            instance_id: NIL_GUID.into(),
            current_token: None,
        },
    );
    for endpoint in [LoginEndpoint::Basic, LoginEndpoint::Windows] {
        let r = must(http(addr, "POST", endpoint.path(), &[], &body).await).await;
        assert_eq!(r.status, 401);
        // Basic on the WCF endpoint; Windows authentication (NTLM) on the
        // ASMX one, which refuses Basic (NTLM is checked in
        // tests/real_sites.rs and tests/third_party_client.rs).
        let challenge = match endpoint {
            LoginEndpoint::Windows => "Negotiate",
            _ => "Basic",
        };
        assert!(r
            .header("WWW-Authenticate")
            .is_some_and(|v| v.starts_with(challenge)));
        let wrong = [("Authorization", basic("dualrec", "wrong"))];
        let r = must(http(addr, "POST", endpoint.path(), &wrong, &body).await).await;
        assert_eq!(r.status, 401);
    }
    for (endpoint, version) in [
        (LoginEndpoint::Basic, SoapVersion::V11),
        (LoginEndpoint::Basic, SoapVersion::V12),
    ] {
        let before = utc_now();
        let r = login_raw(&site, endpoint, version).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("Content-Type"), Some(version.content_type()));
        assert!(r.body.contains(version.namespace()), "{}", r.body);
        let l = match decode_login_response(&r.body) {
            Ok(Ok(l)) => l,
            other => panic!("{other:?}"),
        };
        assert!(l.token.starts_with("TOKEN#") && l.token.ends_with("#primary//ServerConnector#"));
        assert_eq!(l.time_to_live_micros, 14_400_000_000);
        // Real sites answer `TimeToLiveLimited` false (the token still
        // expires after `TimeToLive`).
        assert!(!l.time_to_live_limited);
        assert!(near(l.registration_time, before, Duration::from_secs(2)));
    }
    // Renewal keeps the token.
    let token = login(&site).await;
    let renew = encode_login_request(
        SoapVersion::V11,
        &LoginRequest {
            instance_id: NIL_GUID.into(),
            current_token: Some(token.clone()),
        },
    );
    let auth = [("Authorization", basic("dualrec", "secret"))];
    let r = must(http(addr, "POST", LoginEndpoint::Basic.path(), &auth, &renew).await).await;
    assert!(matches!(decode_login_response(&r.body), Ok(Ok(l)) if l.token == token));
    // A Login endpoint given something else.
    let r = must(http(addr, "POST", LoginEndpoint::Basic.path(), &auth, "<oops").await).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().is_client_fault());
    // A recorder operation (its own namespace) on the Login service: refused
    // like .NET refuses an operation outside the service's namespace.
    let other = encode_recorder_request(&is_req(&token, &[D1]));
    let r = must(http(addr, "POST", LoginEndpoint::Basic.path(), &auth, &other).await).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().is_client_fault());
    assert!(
        r.fault()
            .string
            .contains("operation `IsManualRecording` is in namespace"),
        "{}",
        r.body
    );
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_is_stop_and_sequences() {
    let site = start(config()).await;
    let token = login(&site).await;
    let t_start = utc_now();
    let r = call(&site, &start_req(&token, &[D1, UNKNOWN])).await;
    assert_eq!(r.status, 200);
    match response(&r) {
        RecorderResponse::StartManualRecording(res) => {
            assert_eq!(res.len(), 2);
            assert_eq!((res[0].device_id.as_str(), res[0].result_code), (D1, 0));
            assert_eq!(res[1].device_id, UNKNOWN);
            assert_ne!(res[1].result_code, 0);
            assert!(res[1].message.contains(UNKNOWN), "{}", res[1].message);
        }
        other => panic!("{other:?}"),
    }
    // The `<deviceId>` list form, upper-case GUIDs, braces.
    let is_body = format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
        <IsManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><token>{token}</token>
        <deviceIds><deviceId>{}</deviceId><deviceId>{{{D2}}}</deviceId></deviceIds></IsManualRecording>
        </soap:Body></soap:Envelope>"#,
        D1.to_uppercase()
    );
    let r = must(soap_at(&site, RECORDER_PATH, &is_body).await).await;
    match response(&r) {
        RecorderResponse::IsManualRecording(i) => {
            assert_eq!(i.len(), 2);
            // .NET echoes GUIDs lower-case whatever case was sent.
            assert_eq!(i[0].device_id, D1);
            assert!(i[0].is_manual_recording);
            assert!(!i[1].is_manual_recording);
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t_stop = utc_now();
    let r = call(&site, &stop_req(&token, &[D1])).await;
    assert!(
        matches!(response(&r), RecorderResponse::StopManualRecording(res) if res[0].result_code == 0)
    );
    assert!(!is_recording(&site, &token, D1).await);

    let r = call(
        &site,
        &RecorderRequest::SequencesGetTypes {
            token: token.clone(),
            device_id: D1.into(),
        },
    )
    .await;
    match response(&r) {
        RecorderResponse::SequencesGetTypes(t) => {
            let ids: Vec<&str> = t.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(ids.len(), 3);
            assert!(ids.contains(&RECORDING_SEQUENCE_ID) && ids.contains(&MOTION_SEQUENCE_ID));
        }
        other => panic!("{other:?}"),
    }
    let window = |kind: &str, count: u32| RecorderRequest::SequencesGet {
        token: token.clone(),
        device_id: D1.into(),
        sequence_type: kind.into(),
        min_time: UtcTime::from_unix_nanos(t_start.unix_nanos() - 3_600 * SECS as i64),
        max_time: UtcTime::from_unix_nanos(t_start.unix_nanos() + 3_600 * SECS as i64),
        max_count: count,
    };
    let r = call(&site, &window(RECORDING_SEQUENCE_ID, 10)).await;
    match response(&r) {
        RecorderResponse::SequencesGet(e) => {
            assert_eq!(e.len(), 1, "{e:?}");
            let pre = UtcTime::from_unix_nanos(t_start.unix_nanos() - 3 * SECS as i64);
            assert!(
                near(e[0].time_begin, pre, Duration::from_millis(150)),
                "{e:?}"
            );
            assert!(
                near(e[0].time_end, t_stop, Duration::from_millis(150)),
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The same as the ground truth.
    let footage = site.footage(&DeviceId::new(D1)).unwrap_or_default();
    assert_eq!(footage.spans().len(), 1);
    assert_eq!(
        footage.spans()[0].len(),
        3 * SECS
            + site
                .manual_intervals(&DeviceId::new(D1))
                .unwrap_or_default()
                .measure()
    );
    for req in [
        window(MOTION_SEQUENCE_ID, 10),
        window(RECORDING_SEQUENCE_ID, 0),
    ] {
        let r = call(&site, &req).await;
        assert!(matches!(response(&r), RecorderResponse::SequencesGet(e) if e.is_empty()));
    }
    let r = call(
        &site,
        &RecorderRequest::SequencesGet {
            token: token.clone(),
            device_id: UNKNOWN.into(),
            sequence_type: RECORDING_SEQUENCE_ID.into(),
            min_time: UtcTime::MIN,
            max_time: UtcTime::MAX,
            max_count: 5,
        },
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.fault().string.contains(UNKNOWN));
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_recording_servers() {
    let site = start(config()).await;
    let token = login(&site).await;
    let path1 = recorder_path(1);
    let r = must(
        soap_at(
            &site,
            &path1,
            &encode_recorder_request(&start_req(&token, &[D3, D1])),
        )
        .await,
    )
    .await;
    match response(&r) {
        RecorderResponse::StartManualRecording(res) => {
            assert_eq!(res[0].result_code, 0);
            assert_ne!(res[1].result_code, 0, "D1 lives on recorder 0");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(site.is_recording(&DeviceId::new(D3)), Some(true));
    let r = must(soap_at(&site, &recorder_path(2), "<x/>").await).await;
    assert_eq!(r.status, 404);
    assert!(r.fault().string.contains("No such endpoint"), "{}", r.body);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_faults() {
    let site = start(config()).await;
    let no_token = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
        <StartManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand">
        <deviceIds><deviceId>a8a8b9dc-3995-49ed-9b00-62caac2ce74a</deviceId></deviceIds>
        </StartManualRecording></soap:Body></soap:Envelope>"#;
    let r = must(soap_at(&site, RECORDER_PATH, no_token).await).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.fault(), Fault::token_missing());
    let r = call(&site, &start_req("", &[D1])).await;
    assert_eq!((r.status, r.fault()), (500, Fault::token_missing()));
    let r = call(&site, &start_req("TOKEN#bogus#", &[D1])).await;
    assert_eq!((r.status, r.fault()), (500, Fault::token_invalid()));
    let token = login(&site).await;
    assert!(!is_recording(&site, &token, D1).await);
    let f = fault(&site, r#"{"kind": "token_expiry"}"#).await;
    assert_eq!(f["instantaneous"], Value::Bool(true));
    let r = call(&site, &is_req(&token, &[D1])).await;
    assert_eq!((r.status, r.fault()), (500, Fault::token_invalid()));
    assert_eq!(site.is_recording(&DeviceId::new(D1)), Some(false));
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_answered_not_crashed_on() {
    let mut cfg = config();
    cfg.max_body_bytes = 1024;
    let site = start(cfg).await;
    let addr = site.service_addr();
    let r = must(soap_at(&site, RECORDER_PATH, "<soap:Envelope><soap:Body><Start").await).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().is_client_fault() && r.fault().string.starts_with("Malformed request"));
    let v12 = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x>"#;
    let r = must(soap_at(&site, RECORDER_PATH, v12).await).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("http://www.w3.org/2003/05/soap-envelope"),
        "{}",
        r.body
    );
    let unknown = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
        <Frobnicate xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><token>x</token></Frobnicate>
        </s:Body></s:Envelope>"#;
    let r = must(soap_at(&site, RECORDER_PATH, unknown).await).await;
    assert_eq!(r.status, 500);
    assert!(
        r.fault().string.contains("`Frobnicate` is not supported"),
        "{}",
        r.body
    );
    // Missing deviceIds: decodes to an error other than the token.
    let no_list = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
        <StartManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand"><token>x</token></StartManualRecording>
        </s:Body></s:Envelope>"#;
    let r = must(soap_at(&site, RECORDER_PATH, no_list).await).await;
    assert_eq!(r.status, 400);
    assert!(r.fault().string.contains("deviceIds"), "{}", r.body);
    // Oversized: announced, and streamed (chunked) past the limit.
    let big = format!(
        "POST {RECORDER_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5000000\r\n\r\n"
    );
    let r = must(raw(addr, big.as_bytes()).await).await;
    assert_eq!(r.status, 413);
    let chunk = "a".repeat(2000);
    let chunked = format!(
        "POST {RECORDER_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let r = must(raw(addr, chunked.as_bytes()).await).await;
    assert_eq!(r.status, 413);
    let mut bin = format!(
        "POST {RECORDER_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\n"
    )
    .into_bytes();
    bin.extend_from_slice(&[0xff, 0xfe, 0x00]);
    let r = must(raw(addr, &bin).await).await;
    assert_eq!(r.status, 400);
    // 404 and 405 say why, in the shape of the endpoint's other errors: a
    // SOAP client fault, or an OAuth JSON error on the identity provider.
    let r = must(http(addr, "GET", RECORDER_PATH, &[], "").await).await;
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST")));
    let f = r.fault();
    assert_eq!(f.code, "soap:Client");
    assert!(f.string.contains("expected POST"), "{}", r.body);
    let r = must(http(addr, "POST", "/nope", &[], "").await).await;
    assert_eq!(r.status, 404);
    let f = r.fault();
    assert_eq!(f.code, "soap:Client");
    assert!(f.string.contains("/nope"), "{}", r.body);
    let r = must(http(addr, "GET", "/IDP/connect/token", &[], "").await).await;
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST")));
    let v: Value = serde_json::from_str(&r.body).expect("an OAuth JSON error");
    assert_eq!(v["error"], "invalid_request", "{}", r.body);
    let r = must(
        http(
            addr,
            "POST",
            "/IDP/.well-known/openid-configuration",
            &[],
            "",
        )
        .await,
    )
    .await;
    assert_eq!((r.status, r.header("Allow")), (405, Some("GET")));
    let v: Value = serde_json::from_str(&r.body).expect("an OAuth JSON error");
    assert_eq!(v["error"], "invalid_request", "{}", r.body);
    let r = must(raw(addr, b"garbage\r\n\r\n").await).await;
    assert_eq!(r.status, 400);
    // Still serving.
    login(&site).await;
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_connections_then_comes_back_forgetful() {
    let site = start(config()).await;
    let addr = site.service_addr();
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    fault(&site, r#"{"kind": "down"}"#).await;
    let e = TcpStream::connect(addr).await.err().map(|e| e.kind());
    assert_eq!(e, Some(io::ErrorKind::ConnectionRefused));
    assert!(!site.is_service_open());
    let h = control(&site, "GET", "/healthz", "").await.json();
    assert_eq!(
        (h["service_open"].clone(), h["alive"].clone()),
        (Value::Bool(false), Value::Bool(false))
    );
    assert_eq!(site.is_recording(&DeviceId::new(D1)), Some(false));
    let r = control(&site, "DELETE", "/faults", "").await;
    assert_eq!(r.json()["cleared"].as_array().map(Vec::len), Some(1));
    assert_eq!(site.service_addr(), addr);
    // Tokens and manual recordings are gone.
    let r = call(&site, &is_req(&token, &[D1])).await;
    assert_eq!(r.fault(), Fault::token_invalid());
    let token = login(&site).await;
    assert!(!is_recording(&site, &token, D1).await);
    // A `down` with a duration ends by itself.
    fault(&site, r#"{"kind": "down", "for": "200ms"}"#).await;
    assert!(TcpStream::connect(addr).await.is_err());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(site.is_service_open());
    login(&site).await;
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_holds_requests_and_drops_them_without_reply() {
    let site = start(config()).await;
    let token = login(&site).await;
    let f = fault(&site, r#"{"kind": "hang"}"#).await;
    let timed_out = tokio::time::timeout(
        Duration::from_millis(300),
        soap_at(
            &site,
            RECORDER_PATH,
            &encode_recorder_request(&start_req(&token, &[D1])),
        ),
    )
    .await;
    assert!(timed_out.is_err(), "a hung site answered: {timed_out:?}");
    // Held in the background while the fault is cleared.
    let addr = site.service_addr();
    let body = encode_recorder_request(&start_req(&token, &[D1]));
    let held = tokio::spawn(async move { http(addr, "POST", RECORDER_PATH, &[], &body).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let listed = control(&site, "GET", "/faults", "").await.json();
    assert_eq!(listed["faults"][0]["kind"], Value::from("hang"));
    let id = f["id"].as_u64().unwrap_or(0);
    let r = control(&site, "DELETE", &format!("/faults/{id}"), "").await;
    assert_eq!(r.status, 200);
    let held = tokio::time::timeout(Duration::from_secs(2), held).await;
    match held {
        Ok(Ok(Err(e))) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
        other => panic!("expected a dropped connection, got {other:?}"),
    }
    // Held requests never reached the model.
    assert_eq!(site.is_recording(&DeviceId::new(D1)), Some(false));
    assert!(!is_recording(&site, &token, D1).await);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_times_out_while_site_keeps_recording() {
    let site = start(config()).await;
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    fault(&site, r#"{"kind": "partition", "for": "400ms"}"#).await;
    let timed_out = tokio::time::timeout(
        Duration::from_millis(200),
        soap_at(
            &site,
            RECORDER_PATH,
            &encode_recorder_request(&stop_req(&token, &[D1])),
        ),
    )
    .await;
    assert!(timed_out.is_err());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(site.active_faults().await.is_empty());
    assert!(is_recording(&site, &token, D1).await);
    let footage = site.footage(&DeviceId::new(D1)).unwrap_or_default();
    assert_eq!(footage.spans().len(), 1, "no gap during the partition");
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_answer_a_share_of_requests_with_500() {
    let mut cfg = config();
    cfg.seed = 7;
    let site = start(cfg).await;
    let token = login(&site).await;
    fault(&site, r#"{"kind": "errors", "rate": 1.0}"#).await;
    let r = login_raw(&site, LoginEndpoint::Basic, SoapVersion::V11).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.fault(), Fault::server("Internal server error"));
    control(&site, "DELETE", "/faults", "").await;
    fault(&site, r#"{"kind": "errors", "rate": 0.5}"#).await;
    let mut failed = 0;
    for _ in 0..40 {
        if call(&site, &is_req(&token, &[D1])).await.status == 500 {
            failed += 1;
        }
    }
    assert!(
        (8..=32).contains(&failed),
        "{failed} of 40 failed at rate 0.5"
    );
    control(&site, "DELETE", "/faults", "").await;
    assert_eq!(call(&site, &is_req(&token, &[D1])).await.status, 200);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_request_and_reply() {
    let mut cfg = config();
    cfg.latency = crate::world::latency::LatencyDist::Fixed(30 * MILLIS);
    let site = start(cfg).await;
    let token = login(&site).await;
    let t = Instant::now();
    call(&site, &is_req(&token, &[D1])).await;
    assert!(t.elapsed() >= Duration::from_millis(60));
    fault(
        &site,
        r#"{"kind": "slow", "latency": "fixed:150ms", "for": "5s"}"#,
    )
    .await;
    let t = Instant::now();
    call(&site, &is_req(&token, &[D1])).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_forgets_manual_recording() {
    let site = start(config()).await;
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    fault(&site, r#"{"kind": "restart", "for": "300ms"}"#).await;
    let r = call(&site, &is_req(&token, &[D1])).await;
    assert_eq!(r.status, 503);
    assert!(!r.fault().is_token_fault());
    login(&site).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !is_recording(&site, &token, D1).await,
        "tokens survive a restart"
    );
    call(&site, &start_req(&token, &[D1])).await;
    let f = fault(&site, r#"{"kind": "restart"}"#).await;
    assert_eq!(f["instantaneous"], Value::Bool(true));
    assert!(!is_recording(&site, &token, D1).await);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_loss_writes_no_footage_while_recording() {
    let site = start(config()).await;
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    let upper = D1.to_uppercase();
    fault(
        &site,
        &format!(r#"{{"kind": "stream_loss", "camera": "{upper}", "for": "300ms"}}"#),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(is_recording(&site, &token, D1).await);
    let j = control(&site, "GET", &format!("/footage/{D1}"), "")
        .await
        .json();
    assert_eq!(j["stream_lost"], Value::Bool(true));
    assert_eq!(j["recording"], Value::Bool(true));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let footage = site.footage(&DeviceId::new(D1)).unwrap_or_default();
    assert_eq!(
        footage.spans().len(),
        2,
        "a hole while the stream was lost: {footage:?}"
    );
    let r = control(
        &site,
        "POST",
        "/faults",
        &format!(r#"{{"kind": "stream_loss", "device": "{UNKNOWN}"}}"#),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, Value::from("unknown_device"))
    );
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_stop_after_the_manual_recording_limit() {
    let mut cfg = config();
    cfg.site.recorder.manual_recording_max = Some(200 * MILLIS);
    let site = start(cfg).await;
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!is_recording(&site, &token, D1).await);
    let manual = site
        .manual_intervals(&DeviceId::new(D1))
        .unwrap_or_default();
    assert_eq!(manual.measure(), 200 * MILLIS);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api() {
    let site = start(config()).await;
    for (body, code) in [
        ("not json", "bad_request"),
        (r#"{"kind": "melt"}"#, "bad_request"),
        (r#"{"kind": "errors", "rate": 2}"#, "bad_request"),
        (r#"{"kind": "down", "for": "5 parsecs"}"#, "bad_request"),
        (r#"{"kind": "engine_crash"}"#, "bad_request"),
    ] {
        let r = control(&site, "POST", "/faults", body).await;
        assert_eq!(r.status, 400, "{body}");
        let j = r.json();
        assert_eq!(j["code"], Value::from(code));
        assert!(j["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let f = fault(&site, r#"{"kind": "errors", "rate": 0.25, "for": "1m"}"#).await;
    assert_eq!(f["rate"], Value::from(0.25));
    assert!(f["until"].is_string());
    fault(
        &site,
        r#"{"kind": "slow", "latency": {"dist": "fixed", "value": "1ms"}}"#,
    )
    .await;
    let listed = control(&site, "GET", "/faults", "").await.json();
    assert_eq!(listed["faults"].as_array().map(Vec::len), Some(2));
    let r = control(&site, "DELETE", "/faults/999", "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, Value::from("unknown_fault"))
    );
    let r = control(&site, "DELETE", "/faults/abc", "").await;
    assert_eq!(r.status, 400);
    control(&site, "DELETE", "/faults", "").await;
    assert!(site.active_faults().await.is_empty());
    let r = control(&site, "GET", &format!("/footage/{UNKNOWN}"), "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, Value::from("unknown_device"))
    );
    let token = login(&site).await;
    call(&site, &start_req(&token, &[D1])).await;
    let j = control(&site, "GET", &format!("/footage/{D1}"), "")
        .await
        .json();
    assert_eq!(j["device"], Value::from(D1));
    assert_eq!(j["recording"], Value::Bool(true));
    let start = j["footage"][0]["start"]
        .as_str()
        .and_then(|s| UtcTime::parse(s).ok());
    let manual = j["manual"][0]["start"]
        .as_str()
        .and_then(|s| UtcTime::parse(s).ok());
    match (start, manual) {
        (Some(s), Some(m)) => assert_eq!(m.unix_nanos() - s.unix_nanos(), 3 * SECS as i64),
        other => panic!("{other:?} in {j}"),
    }
    let h = control(&site, "GET", "/healthz", "").await.json();
    assert_eq!(h["status"], Value::from("ok"));
    assert_eq!(h["site"], Value::from("primary"));
    assert_eq!(control(&site, "GET", "/nope", "").await.status, 404);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_both_ports_and_drop_does_too() {
    let site = start(config()).await;
    let (s, c) = (site.service_addr(), site.control_addr());
    site.shutdown().await;
    assert!(TcpStream::connect(s).await.is_err());
    if let Some(c) = c {
        assert!(TcpStream::connect(c).await.is_err());
    }
    let site = start(config()).await;
    let s = site.service_addr();
    drop(site);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(s).await.is_err());
    let started = serve(config(), localhost(), None, async {}).await;
    assert!(started.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soap_12_recorder_request_is_answered_in_soap_12() {
    let site = start(config()).await;
    let token = login(&site).await;
    let body = format!(
        r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>
        <StartManualRecording xmlns="http://videoos.net/2/XProtectCSRecorderCommand">
        <token>{token}</token><deviceIds><deviceId>{D1}</deviceId></deviceIds>
        </StartManualRecording></e:Body></e:Envelope>"#
    );
    let r = must(soap_at(&site, RECORDER_PATH, &body).await).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("http://www.w3.org/2003/05/soap-envelope"),
        "{}",
        r.body
    );
    assert!(r.body.contains("StartManualRecordingResult"), "{}", r.body);
    assert_eq!(site.is_recording(&DeviceId::new(D1)), Some(true));
    site.shutdown().await;
}
