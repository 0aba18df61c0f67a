//! `GET /v1/events` over real HTTP against two in-process mock XProtect
//! sites: auth (header only, never a key in the URL), the first snapshot,
//! live camera changes after a click, site down and back, resuming with
//! `Last-Event-ID` (exactly the missed events, no snapshot), unknown tokens
//! (a snapshot), and a shutdown that ends open streams.

mod engine_support;

use std::time::Duration;

use engine::service::{Service, ServiceOptions};
use engine_support::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sim::server::{FaultRequest, MockSite, SiteFaultKind};

const POLICY: &str = "\n[policy]\nprobe_interval = \"300ms\"\ndown_probe_interval = \"300ms\"\nrequest_timeout = \"1s\"\n";

/// One parsed Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    id: String,
    event: String,
    data: Value,
}

/// Reads a `text/event-stream` body event by event.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn next(&mut self, timeout: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(cut) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..cut + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim_start().to_string();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim_start().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let data = serde_json::from_str(&data).expect("every event's data is JSON");
                return Some(Sse { id, event, data });
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .ok()?;
            let bytes = chunk.expect("the stream reads")?;
            self.buf
                .push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
        }
    }

    /// Reads until an event satisfies `f`, for at most `timeout`.
    async fn until(&mut self, timeout: Duration, mut f: impl FnMut(&Sse) -> bool) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let ev = self.next(left).await?;
            if f(&ev) {
                return Some(ev);
            }
        }
    }
}

async fn open(
    client: &Client,
    base: &str,
    key: Option<&str>,
    last: Option<&str>,
) -> (StatusCode, reqwest::Response) {
    let mut req = client.get(format!("{base}/v1/events"));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(l) = last {
        req = req.header("Last-Event-ID", l);
    }
    let res = req.send().await.expect("the service answers");
    (res.status(), res)
}

async fn subscribe(client: &Client, base: &str, last: Option<&str>) -> Stream {
    let (status, res) = open(client, base, Some(READ_KEY), last).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    Stream {
        res,
        buf: String::new(),
    }
}

async fn start(n: usize, dir: &std::path::Path, a: &MockSite, b: &MockSite) -> (Service, String) {
    let cfg = parse_config(&config_text(
        &a.service_url(),
        &b.service_url(),
        n,
        dir,
        POLICY,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = Service::start(&cfg, listener, ServiceOptions::default())
        .await
        .expect("service starts");
    let base = format!("http://{}", service.local_addr());
    (service, base)
}

fn both_recording(ev: &Sse, cam: &str) -> bool {
    ev.event == "camera"
        && ev.data["camera"] == cam
        && ev.data["sites"]
            .as_array()
            .is_some_and(|s| s.len() == 2 && s.iter().all(|s| s["observed"] == "recording"))
}

fn number(id: &str) -> u64 {
    id.rsplit_once('-')
        .expect("id is EPOCH-N")
        .1
        .parse()
        .expect("N")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_need_a_key_in_the_header_and_never_in_the_url() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, base) = start(2, dir.path(), &a, &b).await;
    let client = Client::new();

    for (what, key) in [
        ("no key", None),
        ("a wrong key", Some("not-a-key-0123456789")),
    ] {
        let (status, res) = open(&client, &base, key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(body["code"], "unauthorized", "{what}");
    }
    // A key in the query string is not a way in. (From another loopback
    // address: failed authentications are throttled per client address,
    // and this test's own address must stay under the limit.)
    let elsewhere = Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    for query in [
        format!("key={READ_KEY}"),
        format!("access_token={READ_KEY}"),
        format!("authorization=Bearer%20{READ_KEY}"),
    ] {
        let res = elsewhere
            .get(format!("{base}/v1/events?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{query}");
    }
    // A read key may watch, and so may a write key.
    for key in [READ_KEY, WRITE_KEY] {
        let (status, _) = open(&client, &base, Some(key), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    // The console's sign-in check says who the key is.
    for (key, name, role) in [(READ_KEY, "reader", "read"), (WRITE_KEY, "writer", "write")] {
        let text = client
            .get(format!("{base}/v1/whoami"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (v["key"].as_str(), v["role"].as_str()),
            (Some(name), Some(role))
        );
    }
    let res = client
        .get(format!("{base}/v1/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    service.shutdown().await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_live_changes_then_exact_resume() {
    let (a, b) = start_sites(3).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, base) = start(3, dir.path(), &a, &b).await;
    let client = Client::new();
    let t = Duration::from_secs(15);

    let mut s = subscribe(&client, &base, None).await;
    let snap = s.next(t).await.expect("a first event");
    assert_eq!(snap.event, "snapshot");
    assert_eq!(snap.data["reason"], "fresh");
    assert!(snap.data["server_time_ms"].as_i64().unwrap() > 1_600_000_000_000);
    let cams: Vec<&str> = snap.data["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["camera"].as_str().unwrap())
        .collect();
    assert_eq!(cams, ["cam-001", "cam-002", "cam-003"]);
    let sites: Vec<&str> = snap.data["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites, ["primary", "secondary"]);
    let snap_id = snap.id.clone();

    // A click shows up as camera events until both sites record.
    let res = client
        .put(format!("{base}/v1/cameras/cam-002/recording"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(r#"{"recording": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut seen = Vec::new();
    let done = s
        .until(t, |ev| {
            seen.push(ev.clone());
            both_recording(ev, "cam-002")
        })
        .await
        .expect("cam-002 is seen recording on both sites");
    assert_eq!(done.data["recording"], true);
    assert!(seen.iter().all(|e| e.event != "snapshot"));
    let numbers: Vec<u64> = seen.iter().map(|e| number(&e.id)).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "ids increase: {numbers:?}"
    );
    assert!(numbers[0] > number(&snap_id));
    // The sites have logged in and answered: their panel data is filled.
    let site_events: Vec<&Sse> = seen.iter().filter(|e| e.event == "site").collect();
    for ev in &site_events {
        assert!(ev.data["up"].is_boolean());
    }

    // Resuming after the snapshot replays exactly what followed it.
    let mut r = subscribe(&client, &base, Some(&snap_id)).await;
    for expected in &seen {
        let ev = r.next(t).await.expect("replayed event");
        assert_eq!((&ev.id, &ev.event), (&expected.id, &expected.event));
        assert_eq!(ev.data, expected.data);
    }
    // Resuming at the latest event sends nothing until the next change.
    let mut up_to_date = subscribe(&client, &base, Some(&done.id)).await;
    let res = client
        .put(format!("{base}/v1/cameras/cam-003/recording"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(r#"{"recording": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let first = up_to_date.next(t).await.expect("the next change");
    assert_ne!(first.event, "snapshot");
    assert!(number(&first.id) > number(&done.id));

    // A token of another engine process (or garbage) starts from a snapshot.
    for token in [
        "0-1",
        "garbage",
        &format!("{}-999999", done.id.split('-').next().unwrap()),
    ] {
        let mut u = subscribe(&client, &base, Some(token)).await;
        let ev = u.next(t).await.expect("a snapshot");
        assert_eq!(ev.event, "snapshot", "{token}");
        assert_eq!(ev.data["reason"], "unknown_id", "{token}");
        let c2 = ev.data["cameras"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["camera"] == "cam-002")
            .unwrap()
            .clone();
        assert_eq!(c2["recording"], true, "the snapshot is the current state");
    }

    // Shutdown ends the open streams rather than waiting for them.
    tokio::time::timeout(Duration::from_secs(10), service.shutdown())
        .await
        .expect("shutdown does not wait for event streams")
        .unwrap();
    // What was already sent is still read, then the stream ends.
    let mut left = 0;
    while s.next(Duration::from_secs(5)).await.is_some() {
        left += 1;
        assert!(left < 1000, "the stream does not end");
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_goes_down_and_returns_is_reported() {
    let (a, b) = start_sites(2).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, base) = start(2, dir.path(), &a, &b).await;
    let client = Client::new();
    let t = Duration::from_secs(20);
    let mut s = subscribe(&client, &base, None).await;
    assert_eq!(s.next(t).await.unwrap().event, "snapshot");
    // A recording camera: the engine watches the sites it records on.
    let res = client
        .put(format!("{base}/v1/cameras/cam-001/recording"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(r#"{"recording": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    s.until(t, |ev| both_recording(ev, "cam-001"))
        .await
        .expect("cam-001 records on both sites");

    b.apply_fault(FaultRequest::new(SiteFaultKind::Down))
        .await
        .expect("down");
    // Both the site and its cameras show it (in one poll, cameras first).
    let (mut down, mut camera_down) = (None, false);
    s.until(t, |ev| {
        if ev.event == "site" && ev.data["site"] == "secondary" && ev.data["up"] == false {
            down = Some(ev.clone());
        }
        if ev.event == "camera" && ev.data["sites"][1]["site_up"] == false {
            camera_down = true;
        }
        down.is_some() && camera_down
    })
    .await
    .expect("the secondary and its cameras are reported down");
    let down = down.unwrap();
    assert_eq!(down.data["problem"], "unreachable");
    assert!(down.data["last_error"]
        .as_str()
        .unwrap()
        .contains("refused"));

    b.clear_faults().await;
    let up = s
        .until(t, |ev| {
            ev.event == "site" && ev.data["site"] == "secondary" && ev.data["up"] == true
        })
        .await
        .expect("the secondary is reported up again");
    assert!(up.data["rtt_ms"].is_u64());
    assert!(up.data["logged_in_at_ms"].is_i64(), "{}", up.data);
    service.shutdown().await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
}
