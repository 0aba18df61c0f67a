//! The engine service's hardening, over real sockets against two in-process
//! mock sites: HTTPS (rustls) with certificate reload and client
//! certificates, slow and idle clients (raw TCP), the connection limit,
//! failed-authentication throttling, the audit trail of refused attempts
//! and writes with client addresses, 415, path decoding errors as JSON, and
//! the batch maximum at the default body limit's boundary.

mod engine_support;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use engine::journal::Journal;
use engine::service::{Service, ServiceOptions, MAX_BATCH_INTENTS};
use engine_support::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sim::server::MockSite;

/// `[engine]` lines added to the test config.
async fn start_with(
    n: usize,
    dir: &Path,
    a: &MockSite,
    b: &MockSite,
    engine_extra: &str,
    cameras: Option<Vec<String>>,
) -> Service {
    let mut text = config_text(&a.service_url(), &b.service_url(), n, dir, "");
    text = text.replacen("seed = 7\n", &format!("seed = 7\n{engine_extra}\n"), 1);
    if let Some(names) = cameras {
        for (i, name) in names.iter().enumerate() {
            text = text.replacen(
                &format!("name = \"{}\"", camera(i + 1)),
                &format!("name = \"{name}\""),
                1,
            );
        }
    }
    let cfg = parse_config(&text);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Service::start(&cfg, listener, ServiceOptions::default())
        .await
        .expect("service starts")
}

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    ca: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// A CA and a server certificate for 127.0.0.1 / localhost signed by it.
fn pki(name: &str) -> Pki {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} CA"));
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca,
    }
}

/// A client certificate (cert + key PEM) signed by `pki`'s CA.
fn client_identity(pki: &Pki) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "smart-client");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &pki.ca).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn https_client(ca_pem: &str, identity: Option<&str>) -> Client {
    let mut b = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(id.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_the_api_and_reloads_a_replaced_certificate() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let tls = tempfile::tempdir().unwrap();
    let (cert, key) = (tls.path().join("api.pem"), tls.path().join("api.key"));
    let first = pki("first");
    std::fs::write(&cert, &first.cert_pem).unwrap();
    write_private(&key, &first.key_pem);
    let extra = format!(
        "tls_cert_file = \"{}\"\ntls_key_file = \"{}\"",
        cert.display(),
        key.display()
    );
    let service = start_with(2, dir.path(), &a, &b, &extra, None).await;
    let port = service.local_addr().port();
    let url = format!("https://127.0.0.1:{port}/v1/cameras/cam-001/recording");

    let client = https_client(&first.ca_pem, None);
    let res = client
        .put(&url)
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(json!({"recording": true}).to_string())
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(res.status(), StatusCode::OK);
    // Plain HTTP to the HTTPS port gets no answer.
    let plain = Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP must not be served: {plain:?}");

    // Replace the certificate and key (another CA): new connections use it.
    let second = pki("second");
    std::fs::write(&cert, &second.cert_pem).unwrap();
    write_private(&key, &second.key_pem);
    let new_client = https_client(&second.ca_pem, None);
    let healthz = format!("https://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if new_client.get(&healthz).send().await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        https_client(&first.ca_pem, None)
            .get(&healthz)
            .send()
            .await
            .is_err(),
        "the old certificate is still served"
    );
    // A broken replacement keeps the working certificate in use.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\ngarbage\n").unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(new_client.get(&healthz).send().await.is_ok());
    service.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_from_the_configured_ca() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let tls = tempfile::tempdir().unwrap();
    let server = pki("server");
    let clients = pki("clients");
    let (cert, key, ca) = (
        tls.path().join("api.pem"),
        tls.path().join("api.key"),
        tls.path().join("clients.pem"),
    );
    std::fs::write(&cert, &server.cert_pem).unwrap();
    write_private(&key, &server.key_pem);
    std::fs::write(&ca, &clients.ca_pem).unwrap();
    let extra = format!(
        "tls_cert_file = \"{}\"\ntls_key_file = \"{}\"\ntls_client_ca_file = \"{}\"",
        cert.display(),
        key.display(),
        ca.display()
    );
    let service = start_with(2, dir.path(), &a, &b, &extra, None).await;
    let url = format!(
        "https://127.0.0.1:{}/v1/cameras",
        service.local_addr().port()
    );

    let anonymous = https_client(&server.ca_pem, None);
    assert!(anonymous
        .get(&url)
        .bearer_auth(READ_KEY)
        .send()
        .await
        .is_err());
    // A certificate from another CA (the server's own) is refused too.
    let stranger = https_client(&server.ca_pem, Some(&client_identity(&server)));
    assert!(stranger
        .get(&url)
        .bearer_auth(READ_KEY)
        .send()
        .await
        .is_err());
    let member = https_client(&server.ca_pem, Some(&client_identity(&clients)));
    let res = member
        .get(&url)
        .bearer_auth(READ_KEY)
        .send()
        .await
        .expect("mTLS request");
    assert_eq!(res.status(), StatusCode::OK);
    let metrics = member
        .get(format!(
            "https://127.0.0.1:{}/metrics",
            service.local_addr().port()
        ))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("dualrec_tls_handshake_failures_total 0"),
        "refused handshakes are counted:\n{metrics}"
    );
    service.shutdown().await.expect("clean shutdown");
}

/// Reads from `s` until EOF or error; the bytes read and whether the
/// connection ended within `limit`.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    s.set_read_timeout(Some(limit)).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&out).into_owned(), true)
            }
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
        if start.elapsed() > limit {
            return (String::from_utf8_lossy(&out).into_owned(), false);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_slow_bodies_and_idle_connections_are_cut_off() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = "header_timeout = \"500ms\"\nrequest_timeout = \"1s\"\nidle_timeout = \"1s\"";
    let service = start_with(2, dir.path(), &a, &b, extra, None).await;
    let addr = service.local_addr();

    let outcome = tokio::task::spawn_blocking(move || {
        // Slowloris: half a request head, then silence.
        let mut slow_head = TcpStream::connect(addr).unwrap();
        slow_head.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
        let (_, closed_head) = read_until_closed(&mut slow_head, Duration::from_secs(10));

        // A slow body: headers promise 100 bytes, 10 arrive.
        let mut slow_body = TcpStream::connect(addr).unwrap();
        write!(
            slow_body,
            "PUT /v1/cameras/cam-001/recording HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {WRITE_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"recordi"
        )
        .unwrap();
        let (answer, _) = read_until_closed(&mut slow_body, Duration::from_secs(10));

        // Connected, never sends anything.
        let mut idle = TcpStream::connect(addr).unwrap();
        let (_, closed_idle) = read_until_closed(&mut idle, Duration::from_secs(10));

        // Keep-alive after a complete request, then silence.
        let mut kept = TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let (first, closed_kept) = read_until_closed(&mut kept, Duration::from_secs(10));
        (closed_head, answer, closed_idle, first, closed_kept)
    })
    .await
    .unwrap();
    let (closed_head, answer, closed_idle, first, closed_kept) = outcome;
    assert!(closed_head, "a slow request head is cut off");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(closed_idle, "a silent connection is closed");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(closed_kept, "an idle keep-alive connection is closed");
    // Nothing of the slow body was applied.
    assert_eq!(a.is_recording(&device(0, 1)), Some(false));
    service.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_get_503_and_the_limit_frees_up() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let service = start_with(2, dir.path(), &a, &b, "max_connections = 4", None).await;
    let addr = service.local_addr();
    let (over, after) = tokio::task::spawn_blocking(move || {
        let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut extra = TcpStream::connect(addr).unwrap();
        extra
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (over, _) = read_until_closed(&mut extra, Duration::from_secs(10));
        drop(held);
        std::thread::sleep(Duration::from_millis(300));
        let mut again = TcpStream::connect(addr).unwrap();
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (after, _) = read_until_closed(&mut again, Duration::from_secs(10));
        (over, after)
    })
    .await
    .unwrap();
    assert!(over.starts_with("HTTP/1.1 503"), "{over}");
    assert!(
        over.to_ascii_lowercase().contains("retry-after: 1"),
        "{over}"
    );
    assert!(over.contains("\"code\":\"too_many_connections\""), "{over}");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");
    let metrics = Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("dualrec_http_connections_rejected_total 1"),
        "{metrics}"
    );
    service.shutdown().await.expect("clean shutdown");
}

fn client_from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_keys_are_throttled_per_address_logged_journaled_and_counted() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let service = start_with(2, dir.path(), &a, &b, "", None).await;
    let base = format!("http://{}", service.local_addr());
    let put = format!("{base}/v1/cameras/cam-001/recording");
    let attacker = client_from("127.0.0.2");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..8 {
        let res = attacker
            .put(&put)
            .bearer_auth(format!("guess-{i:016}"))
            .header("content-type", "application/json")
            .body(json!({"recording": true}).to_string())
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let v: Value = serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap();
            assert_eq!(v["code"], "throttled");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // Even the right key is not looked at from a throttled address…
    let res = attacker
        .put(&put)
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(json!({"recording": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // …while another address is served.
    let operator = client_from("127.0.0.3");
    let res = operator
        .put(&put)
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(json!({"recording": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A read key writing is refused and audited, but not throttled.
    let res = operator
        .put(&put)
        .bearer_auth(READ_KEY)
        .header("content-type", "application/json")
        .body(json!({"recording": false}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let metrics = operator
        .get(format!("{base}/metrics"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "dualrec_auth_failures_total{reason=\"unknown_key\"} 5",
        "dualrec_auth_failures_total{reason=\"read_only_key\"} 1",
        "dualrec_auth_throttled_total 4",
    ] {
        assert!(
            metrics.contains(needle),
            "metrics lack `{needle}`:\n{metrics}"
        );
    }
    service.shutdown().await.expect("clean shutdown");

    // The journal: each failure once (the throttled period once), with the
    // client address and never the key; the write with its client address.
    let refusals = Journal::read_refusals(dir.path()).unwrap();
    let from_attacker: Vec<_> = refusals
        .iter()
        .filter(|(_, r)| r.client.starts_with("127.0.0.2:"))
        .map(|(_, r)| (r.status, r.code.as_str()))
        .collect();
    assert_eq!(
        from_attacker,
        [
            (401, "unauthorized"),
            (401, "unauthorized"),
            (401, "unauthorized"),
            (401, "unauthorized"),
            (401, "unauthorized"),
            (429, "throttled")
        ]
    );
    let forbidden = refusals
        .iter()
        .find(|(_, r)| r.status == 403)
        .expect("the 403 is journaled");
    assert!(forbidden.1.client.starts_with("127.0.0.3:"));
    assert_eq!(forbidden.1.who.as_deref(), Some("reader"));
    assert_eq!(forbidden.1.path, "/v1/cameras/cam-001/recording");
    for (_, r) in &refusals {
        assert!(
            !r.reason.contains("guess-") && !r.reason.contains(WRITE_KEY),
            "{r:?}"
        );
    }
    let audit = Journal::read_audit(dir.path()).unwrap();
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0].1.client.starts_with("127.0.0.3:"),
        "{:?}",
        audit[0].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_json_and_every_error_is_json() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let service = start_with(2, dir.path(), &a, &b, "", None).await;
    let addr = service.local_addr();
    let put = format!("http://{addr}/v1/cameras/cam-001/recording");
    let client = Client::new();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("application/jsonx"),
    ] {
        let mut req = client
            .put(&put)
            .bearer_auth(WRITE_KEY)
            .body(r#"{"recording": true}"#);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let v: Value = serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap();
        assert_eq!(v["code"], "unsupported_media_type", "{content_type:?}");
    }
    let res = client
        .put(&put)
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"recording": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A path that is not UTF-8 once percent-decoded: JSON, not plain text.
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /v1/cameras/%FF%FE/recording HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {READ_KEY}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        read_until_closed(&mut s, Duration::from_secs(10)).0
    })
    .await
    .unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("content-type: application/json"), "{raw}");
    assert!(raw.contains("\"code\":\"invalid_path\""), "{raw}");
    service.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_batch_fits_the_default_body_limit_and_one_more_is_refused() {
    let (a, b) = start_sites(3).await;
    let dir = tempfile::tempdir().unwrap();
    // The longest camera names there are (128 characters).
    let names: Vec<String> = (1..=3).map(|i| format!("{i}{}", "x".repeat(127))).collect();
    let service = start_with(3, dir.path(), &a, &b, "", Some(names.clone())).await;
    let url = format!("http://{}/v1/recording/batch", service.local_addr());
    let batch = |n: usize| {
        let intents: Vec<Value> = (0..n)
            .map(|i| json!({"camera": names[i % 3], "recording": i % 2 == 1}))
            .collect();
        json!({ "intents": intents }).to_string()
    };
    let largest = batch(MAX_BATCH_INTENTS);
    assert!(largest.len() <= engine::config::DEFAULT_MAX_BODY_BYTES);
    let client = Client::new();
    let post = |body: String| {
        client
            .post(&url)
            .bearer_auth(WRITE_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = post(largest).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), MAX_BATCH_INTENTS);

    let res = post(batch(MAX_BATCH_INTENTS + 1)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap();
    assert_eq!(v["code"], "invalid_body");
    assert!(v["message"].as_str().unwrap().contains("1 to 10000"), "{v}");

    let res = post(format!(
        "{{\"intents\": [], \"pad\": \"{}\"}}",
        "x".repeat(engine::config::DEFAULT_MAX_BODY_BYTES)
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // The OpenAPI document states the same maximum.
    let doc: Value = client
        .get(format!("http://{}/openapi.json", service.local_addr()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    assert_eq!(
        doc["components"]["schemas"]["BatchBody"]["properties"]["intents"]["maxItems"],
        json!(MAX_BATCH_INTENTS)
    );
    service.shutdown().await.expect("clean shutdown");
    assert_eq!(
        Journal::read_audit(dir.path()).unwrap().len(),
        MAX_BATCH_INTENTS
    );
}
