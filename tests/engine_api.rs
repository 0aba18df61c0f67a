//! The engine service's REST API over real HTTP, against two in-process
//! mock XProtect sites on loopback: writes reach both sites, idempotency,
//! every error's status and JSON body, auth and roles, batch, metrics, and
//! a graceful restart that keeps recorders recording and restores intents
//! from the journal.

mod engine_support;

use std::time::Duration;

use engine::journal::Journal;
use engine::service::{Service, ServiceOptions};
use engine_support::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sim::server::MockSite;

/// (what, method, path, key, body, expected status, expected code)
type Case<'a> = (
    &'a str,
    Method,
    &'a str,
    Option<&'a str>,
    Option<String>,
    StatusCode,
    &'a str,
);

struct Api {
    client: Client,
    base: String,
}

impl Api {
    fn new(service: &Service) -> Api {
        Api {
            client: Client::new(),
            base: format!("http://{}", service.local_addr()),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.expect("request reaches the service");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    async fn put(&self, camera: &str, key: &str, body: &str) -> (StatusCode, Value) {
        let path = format!("/v1/cameras/{camera}/recording");
        let (s, v, _) = self
            .call(Method::PUT, &path, Some(key), Some(body.to_string()))
            .await;
        (s, v)
    }

    async fn get(&self, path: &str, key: Option<&str>) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::GET, path, key, None).await;
        (s, v)
    }
}

async fn start(n: usize, dir: &std::path::Path, a: &MockSite, b: &MockSite) -> (Service, Api) {
    let cfg = parse_config(&config_text(&a.service_url(), &b.service_url(), n, dir, ""));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let service = Service::start(&cfg, listener, ServiceOptions::default())
        .await
        .expect("service starts");
    let api = Api::new(&service);
    (service, api)
}

fn recording(site: &MockSite, dev: &engine::core::DeviceId) -> bool {
    site.is_recording(dev) == Some(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_records_on_both_sites_and_repeats_are_idempotent() {
    let (a, b) = start_sites(4).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, api) = start(4, dir.path(), &a, &b).await;

    let (s, v) = api
        .put("cam-001", WRITE_KEY, r#"{"recording": true}"#)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["camera"], "cam-001");
    assert_eq!(v["recording"], true);
    assert_eq!(v["seq"], 1);
    let sites: Vec<&str> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites, ["primary", "secondary"]);
    // The same click again is not a new intent.
    let (s, v) = api
        .put("cam-001", WRITE_KEY, r#"{"recording": true}"#)
        .await;
    assert_eq!((s, v["seq"].clone()), (StatusCode::OK, json!(1)));

    let (d0, d1) = (device(0, 1), device(1, 1));
    assert!(
        eventually(Duration::from_secs(5), || recording(&a, &d0)
            && recording(&b, &d1))
        .await,
        "cam-001 records on both sites"
    );
    assert_eq!(a.is_recording(&device(0, 2)), Some(false));

    // The engine's view catches up with both sites.
    let mut seen = false;
    for _ in 0..100 {
        let (s, v) = api
            .get("/v1/cameras/cam-001/recording", Some(READ_KEY))
            .await;
        assert_eq!(s, StatusCode::OK);
        if v["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["observed"] == "recording" && s["site_up"] == true)
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "the engine observes recording on both sites");

    let (s, v) = api
        .put("cam-001", WRITE_KEY, r#"{"recording": false}"#)
        .await;
    assert_eq!(
        (s, v["seq"].clone(), v["recording"].clone()),
        (StatusCode::OK, json!(2), json!(false))
    );
    assert!(
        eventually(Duration::from_secs(5), || !recording(&a, &d0)
            && !recording(&b, &d1))
        .await,
        "cam-001 stops on both sites"
    );

    let (s, v) = api.get("/v1/cameras", Some(READ_KEY)).await;
    assert_eq!(s, StatusCode::OK);
    let cams = v["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 4);
    assert_eq!(cams[0]["seq"], 2);
    assert_eq!(cams[1]["recording"], Value::Null);

    service.shutdown().await.expect("clean shutdown");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_status_and_code() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, api) = start(2, dir.path(), &a, &b).await;
    let put = "/v1/cameras/cam-001/recording";
    let good = Some(r#"{"recording": true}"#.to_string());

    let cases: Vec<Case> = vec![
        (
            "no key",
            Method::PUT,
            put,
            None,
            good.clone(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "wrong key",
            Method::PUT,
            put,
            Some("nope-nope-nope-nope"),
            good.clone(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "read key writes",
            Method::PUT,
            put,
            Some(READ_KEY),
            good.clone(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "read key batch",
            Method::POST,
            "/v1/recording/batch",
            Some(READ_KEY),
            Some(r#"{"intents":[]}"#.into()),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "unknown camera",
            Method::PUT,
            "/v1/cameras/lobby/recording",
            Some(WRITE_KEY),
            good.clone(),
            StatusCode::NOT_FOUND,
            "unknown_camera",
        ),
        (
            "unknown camera get",
            Method::GET,
            "/v1/cameras/lobby/recording",
            Some(READ_KEY),
            None,
            StatusCode::NOT_FOUND,
            "unknown_camera",
        ),
        (
            "not json",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some("recording=true".into()),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "empty body",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some(String::new()),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "missing field",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some("{}".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "wrong type",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some(r#"{"recording": "yes"}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "unknown field",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some(r#"{"recording": true, "x": 1}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "too large",
            Method::PUT,
            put,
            Some(WRITE_KEY),
            Some(format!(
                "{{\"recording\": true, \"pad\": \"{}\"}}",
                "x".repeat(3 << 20)
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "unknown route",
            Method::GET,
            "/v2/nothing",
            Some(READ_KEY),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong method",
            Method::DELETE,
            put,
            Some(WRITE_KEY),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "metrics need a key",
            Method::GET,
            "/metrics",
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "empty batch",
            Method::POST,
            "/v1/recording/batch",
            Some(WRITE_KEY),
            Some(r#"{"intents":[]}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (what, method, path, key, body, status, code) in cases {
        let (s, v, headers) = api.call(method, path, key, body).await;
        assert_eq!(s, status, "{what}: {v}");
        assert_eq!(v["code"], code, "{what}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {v}"
        );
        assert_eq!(
            headers.get("content-type").and_then(|h| h.to_str().ok()),
            Some("application/json"),
            "{what}"
        );
        if status == StatusCode::UNAUTHORIZED {
            assert!(headers.contains_key("www-authenticate"), "{what}");
        }
    }
    // Nothing above reached a site.
    assert_eq!(a.is_recording(&device(0, 1)), Some(false));

    // Open endpoints and reads.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let (s, v) = api.get(path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
    }
    let (_, doc) = api.get("/openapi.json", None).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/recording/batch"]["post"].is_object());
    let (s, _) = api
        .get("/v1/cameras/cam-002/recording", Some(READ_KEY))
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, _) = api
        .put("cam-002", WRITE_KEY, r#"{"recording": true}"#)
        .await;
    assert_eq!(s, StatusCode::OK);
    // A `metrics` key scrapes, and reads nothing else.
    let (s, text, headers) = api
        .call(Method::GET, "/metrics", Some(METRICS_KEY), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|h| h.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = text.as_str().expect("metrics are text");
    for needle in [
        "dualrec_ready 1",
        "dualrec_api_writes_total 1",
        "dualrec_intents_total 1",
        "dualrec_site_up{site=\"primary\"}",
        "dualrec_api_write_duration_seconds_bucket{le=\"+Inf\"} 1",
        "dualrec_site_request_duration_seconds_bucket{site=\"secondary\",op=\"login\"",
        "dualrec_site_requests_total{site=\"primary\",op=\"start\",outcome=\"ok\"} 1",
        "dualrec_build_info{version=",
        "process_start_time_seconds ",
    ] {
        assert!(text.contains(needle), "metrics lack `{needle}`:\n{text}");
    }
    for path in ["/v1/cameras", "/v1/cameras/cam-002/recording", "/v1/events"] {
        let (s, v) = api.get(path, Some(METRICS_KEY)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path} with a metrics key: {v}");
        assert_eq!(v["code"], "forbidden", "{v}");
    }
    let (s, v) = api
        .put("cam-002", METRICS_KEY, r#"{"recording": false}"#)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    service.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_sets_many_cameras_and_rejects_unknown_ones_whole() {
    let (a, b) = start_sites(8).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, api) = start(8, dir.path(), &a, &b).await;
    let body = json!({"intents": [
        {"camera": "cam-001", "recording": true},
        {"camera": "cam-002", "recording": true},
        {"camera": "cam-003", "recording": true},
    ]});
    let (s, v, _) = api
        .call(
            Method::POST,
            "/v1/recording/batch",
            Some(WRITE_KEY),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results
        .iter()
        .all(|r| r["seq"] == 1 && r["recording"] == true));

    // One unknown camera: nothing of the batch is applied.
    let body = json!({"intents": [
        {"camera": "cam-004", "recording": true},
        {"camera": "lobby", "recording": true},
    ]});
    let (s, v, _) = api
        .call(
            Method::POST,
            "/v1/recording/batch",
            Some(WRITE_KEY),
            Some(body.to_string()),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_camera"))
    );
    assert!(v["message"].as_str().unwrap().contains("lobby"));
    let (_, v) = api
        .get("/v1/cameras/cam-004/recording", Some(READ_KEY))
        .await;
    assert_eq!(v["recording"], Value::Null);

    assert!(
        eventually(Duration::from_secs(5), || (1..=3).all(|i| recording(
            &a,
            &device(0, i)
        ) && recording(
            &b,
            &device(1, i)
        )))
        .await,
        "the batch records on both sites"
    );
    assert!(!recording(&a, &device(0, 4)));
    service.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_recorders_recording_and_restores_intents() {
    let (a, b) = start_sites(3).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, api) = start(3, dir.path(), &a, &b).await;
    for (cam, rec) in [("cam-001", true), ("cam-002", true), ("cam-002", false)] {
        let (s, _) = api
            .put(cam, WRITE_KEY, &format!("{{\"recording\": {rec}}}"))
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    assert!(
        eventually(Duration::from_secs(5), || recording(&a, &device(0, 1))
            && recording(&b, &device(1, 1)))
        .await
    );
    service.shutdown().await.expect("clean shutdown");

    // A shutdown does not stop the recorders.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(recording(&a, &device(0, 1)) && recording(&b, &device(1, 1)));

    // The audit trail has every write with who made it.
    let audit = Journal::read_audit(dir.path()).expect("audit");
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|(_, r)| r.who == "writer"));
    assert_eq!(audit[2].1.seq.0, 2);

    // A new incarnation restores the intents and numbers on from them.
    let (service, api) = start(3, dir.path(), &a, &b).await;
    let (_, v) = api
        .get("/v1/cameras/cam-001/recording", Some(READ_KEY))
        .await;
    assert_eq!(
        (v["recording"].clone(), v["seq"].clone()),
        (json!(true), json!(1))
    );
    let (_, v) = api
        .get("/v1/cameras/cam-002/recording", Some(READ_KEY))
        .await;
    assert_eq!(
        (v["recording"].clone(), v["seq"].clone()),
        (json!(false), json!(2))
    );
    let (_, v) = api
        .put("cam-001", WRITE_KEY, r#"{"recording": false}"#)
        .await;
    assert_eq!(v["seq"], 2);
    assert!(
        eventually(Duration::from_secs(5), || !recording(&a, &device(0, 1))
            && !recording(&b, &device(1, 1)))
        .await
    );
    service.shutdown().await.expect("clean shutdown");
}
