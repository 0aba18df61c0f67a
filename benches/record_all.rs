//! The service at 100,000 cameras: a "record all" sent through the REST
//! batch endpoint (`POST /v1/recording/batch`, batches of at most
//! `MAX_BATCH_INTENTS`), until every camera records on both mock sites.
//!
//! `cargo bench --bench record_all [-- --cameras N] [--recorders R]`
//!
//! Two in-process mock XProtect sites (real SOAP over HTTP on loopback),
//! each serving `R` recording servers (default 400, 250 cameras each, as a
//! large installation places them; `--recorders 1` puts every camera on one
//! recorder), the service in-process with its journal on disk (`target/`),
//! one client. The config places each camera on its recorder
//! (`{ device = …, recorder = N }`, the sites' `recorder_urls`), so the
//! engine sends one request per recorder per batch. Reports each batch's
//! REST latency, the time until both sites record every camera (read from
//! the mock sites' own state), and the process's RSS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use engine::config::EngineConfig;
use engine::core::DeviceId;
use engine::service::{Service, ServiceOptions, MAX_BATCH_INTENTS};
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig};

#[path = "support/bench_service.rs"]
mod bench_service;
use bench_service::{config_text_on, device, recorder_of, Secrets, WRITE_KEY};

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How many devices of the site's recorders record now.
fn recording(site: &MockSite, recorders: usize) -> usize {
    site.with_model(|m, _| {
        (0..recorders)
            .filter_map(|r| m.recorder(r))
            .map(|r| {
                (0..r.devices().len())
                    .filter(|&i| r.is_recording(i))
                    .count()
            })
            .sum()
    })
}

async fn record_all(cameras: usize, recorders: usize) {
    let recorders = recorders.clamp(1, cameras.max(1));
    let mut sites = Vec::new();
    for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
        let mut devices = vec![Vec::new(); recorders];
        for i in 1..=cameras {
            devices[recorder_of(i, recorders)].push(DeviceId::new(device(s, i)));
        }
        let cfg = MockSiteConfig::new(SiteConfig::new(name, "dualrec", "pw"), devices);
        sites.push(
            MockSite::start(cfg, "127.0.0.1:0".parse().unwrap(), None)
                .await
                .expect("mock site"),
        );
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-service")
        .join("record-all");
    let _ = std::fs::remove_dir_all(&dir);
    let text = config_text_on(
        [&sites[0].service_url(), &sites[1].service_url()],
        cameras,
        recorders,
        &dir,
    );
    let cfg = EngineConfig::parse("bench.toml", &text, std::path::Path::new("."), &Secrets)
        .unwrap_or_else(|e| panic!("{e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = Service::start(&cfg, listener, ServiceOptions::default())
        .await
        .expect("service starts");
    let url = format!("http://{}/v1/recording/batch", service.local_addr());
    let client = reqwest::Client::new();
    // Let the service log in to both sites first: the figure is the
    // record-all, not the first login.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    let mut batch_ms = Vec::new();
    let names: Vec<String> = (1..=cameras).map(|i| format!("cam-{i:06}")).collect();
    for chunk in names.chunks(MAX_BATCH_INTENTS) {
        let intents: Vec<String> = chunk
            .iter()
            .map(|c| format!("{{\"camera\":\"{c}\",\"recording\":true}}"))
            .collect();
        let body = format!("{{\"intents\":[{}]}}", intents.join(","));
        let t = Instant::now();
        let res = client
            .post(&url)
            .bearer_auth(WRITE_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("batch sent");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "batch refused: {status} {text}");
        batch_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let acknowledged = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let counts = [
            recording(&sites[0], recorders),
            recording(&sites[1], recorders),
        ];
        if counts == [cameras, cameras] {
            break Some(started.elapsed());
        }
        if Instant::now() > deadline {
            println!("  not complete after 300 s: {counts:?} of {cameras} recording");
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    batch_ms.sort_by(f64::total_cmp);
    println!(
        "record-all of {cameras} cameras via {} batches of at most {MAX_BATCH_INTENTS}, two mock sites with {recorders} recorder(s) each, journal fsynced in target/",
        batch_ms.len()
    );
    println!(
        "  batches acknowledged after {:.0} ms (per batch: min {:.0} ms, max {:.0} ms)",
        acknowledged.as_secs_f64() * 1e3,
        batch_ms.first().copied().unwrap_or(0.0),
        batch_ms.last().copied().unwrap_or(0.0)
    );
    if let Some(done) = done {
        println!(
            "  every camera recording on both sites after {:.0} ms",
            done.as_secs_f64() * 1e3
        );
    }
    println!(
        "  process RSS (service, both mock sites, client): {:.0} MiB",
        rss() as f64 / (1 << 20) as f64
    );
    service.shutdown().await.expect("shutdown");
    for s in sites {
        s.shutdown().await;
    }
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cameras = if quick { 64 } else { arg("--cameras", 100_000) };
    let recorders = if quick { 4 } else { arg("--recorders", 400) };
    rt.block_on(record_all(cameras, recorders));
}
