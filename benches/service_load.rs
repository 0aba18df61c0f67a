//! Load benchmark of `dualrec engine` as a service (issue 4's targets:
//! ≥ 5,000 intents/s with REST p99 ≤ 50 ms on this 2-core machine, and
//! < 1 KiB of memory per idle camera at 100,000 cameras).
//!
//! `cargo bench --bench service_load [-- --clients N --seconds S --cameras C]`
//!
//! 1. **Memory**: VmRSS of this process before and after building a
//!    100,000-camera engine — the bare `Mirror`, then the whole service
//!    (config, runtime, REST state, journal; sites unreachable, so idle).
//! 2. **Load**: two in-process mock XProtect sites on loopback, the service
//!    in-process on loopback with its journal on disk (`target/`), and N
//!    concurrent clients, each on its own keep-alive connection, PUTting
//!    alternating intents on their own cameras for S seconds. Every PUT is
//!    a new intent (fanned out to both sites, journaled with fsync before
//!    the answer). Reports intents/s and REST latency percentiles.

#[path = "support/latencies.rs"]
mod latencies;
use latencies::Latencies;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::config::{CameraSettings, EngineConfig, SiteSettings};
use engine::core::{
    CameraId, CameraSpec, DeviceId, Mirror, MirrorConfig, Placement, Policy, SiteSpec,
};
use engine::runtime::{SiteAuth, SiteEndpoint};
use engine::service::{Service, ServiceOptions};
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig};

#[path = "support/bench_service.rs"]
mod bench_service;
use bench_service::{config_text, device, Secrets, WRITE_KEY};

fn parse(text: &str) -> EngineConfig {
    EngineConfig::parse("bench.toml", text, std::path::Path::new("."), &Secrets)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn data_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-service")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const N: usize = 100_000;

/// Bytes of RSS one measurement adds: `mirror` (the bare engine) or
/// `service` (everything). Run in a fresh process each, so that no freed
/// memory of an earlier measurement is reused.
fn memory(rt: &tokio::runtime::Runtime, which: &str) -> u64 {
    if which == "mirror" {
        let before = rss();
        let cfg = MirrorConfig {
            sites: ["primary", "secondary"]
                .map(|name| SiteSpec {
                    name: name.into(),
                    recorders: 1,
                    manual_recording_max: Some(300_000_000_000),
                    prebuffer: 3_000_000_000,
                })
                .to_vec(),
            cameras: (1..=N)
                .map(|i| CameraSpec {
                    id: CameraId::new(format!("cam-{i:06}")),
                    placements: (0..2)
                        .map(|site| Placement {
                            site,
                            recorder: 0,
                            device: DeviceId::new(device(site, i)),
                            settings: Default::default(),
                        })
                        .collect(),
                })
                .collect(),
            policy: Policy::default(),
        };
        let mirror = Mirror::new(cfg, 1);
        let bytes = rss().saturating_sub(before);
        drop(mirror);
        return bytes;
    }

    // The config is built in code: parsing 100,000 TOML tables leaves
    // allocator garbage in the RSS that is not the engine's.
    let before = rss();
    let dir = data_dir("memory");
    let cfg = EngineConfig {
        file: "bench".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir,
        max_body_bytes: 1 << 20,
        device_check_interval: None,
        server: Default::default(),
        seed: Some(1),
        cluster: None,
        api_keys: vec![engine::config::ApiKey {
            name: "bench".into(),
            role: engine::config::Role::Write,
            sha256: engine::config::sha256(WRITE_KEY.as_bytes()),
        }],
        sites: ["primary", "secondary"]
            .map(|name| SiteSettings {
                spec: SiteSpec {
                    name: name.into(),
                    recorders: 1,
                    manual_recording_max: Some(300_000_000_000),
                    prebuffer: 3_000_000_000,
                },
                endpoint: SiteEndpoint {
                    name: name.into(),
                    management_url: "http://127.0.0.1:9".into(),
                    recorder_urls: vec!["http://127.0.0.1:9".into()],
                    username: "dualrec".into(),
                    password: "pw".into(),
                    auth: SiteAuth::Basic,
                    tls_ca_pem: None,
                    login: engine::runtime::SiteLogin::Idp,
                    tls_cert_sha256: None,
                    password_file: None,
                },
            })
            .to_vec(),
        cameras: (1..=N)
            .map(|i| CameraSettings {
                spec: CameraSpec {
                    id: CameraId::new(format!("cam-{i:06}")),
                    placements: (0..2)
                        .map(|site| Placement {
                            site,
                            recorder: 0,
                            device: DeviceId::new(device(site, i)),
                            settings: Default::default(),
                        })
                        .collect(),
                },
                test: false,
            })
            .collect(),
        policy: Policy::default(),
    };
    let service = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = Service::start(&cfg, listener, ServiceOptions::default())
            .await
            .expect("service starts");
        tokio::time::sleep(Duration::from_secs(1)).await;
        s
    });
    let bytes = rss().saturating_sub(before);
    rt.block_on(service.shutdown()).expect("shutdown");
    bytes
}

/// Runs each memory measurement in a child process of this bench.
fn memory_report() {
    println!("memory at {N} idle cameras, 2 sites (VmRSS growth, fresh process each):");
    for (which, what) in [
        ("mirror", "engine::core::Mirror alone"),
        (
            "service",
            "whole service (config, runtime, REST state, journal)",
        ),
    ] {
        let out = std::process::Command::new(std::env::current_exe().expect("bench exe"))
            .args(["--bench", "--memory-only", which])
            .output()
            .expect("run the memory measurement");
        let bytes: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        println!(
            "  {what:<55} {:>6.1} MiB = {:>4} bytes/camera",
            bytes as f64 / (1 << 20) as f64,
            bytes / N as u64
        );
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load(rt: &tokio::runtime::Runtime, clients: usize, seconds: usize, cameras: usize) {
    rt.block_on(async {
        let mut sites = Vec::new();
        for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
            let cfg = MockSiteConfig::new(
                SiteConfig::new(name, "dualrec", "pw"),
                vec![(1..=cameras).map(|i| DeviceId::new(device(s, i))).collect()],
            );
            sites.push(
                MockSite::start(cfg, "127.0.0.1:0".parse().unwrap(), None)
                    .await
                    .expect("mock site"),
            );
        }
        let dir = data_dir("load");
        let cfg = parse(&config_text(
            [&sites[0].service_url(), &sites[1].service_url()],
            cameras,
            &dir,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let service = Service::start(&cfg, listener, ServiceOptions::default())
            .await
            .expect("service starts");
        let base = Arc::new(format!("http://{}", service.local_addr()));
        let stats0 = service.engine().stats().await.expect("stats");
        let deadline = Instant::now() + Duration::from_secs(seconds as u64);
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            let base = base.clone();
            tasks.spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("client");
                let mine: Vec<usize> = (1..=cameras).filter(|i| i % clients == c).collect();
                let mut lat = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                let mut k = 0usize;
                while Instant::now() < deadline {
                    let cam = mine[k % mine.len()];
                    // Each camera alternates, so every PUT is a new intent.
                    let rec = (k / mine.len()).is_multiple_of(2);
                    k += 1;
                    let t = Instant::now();
                    let res = client
                        .put(format!("{base}/v1/cameras/cam-{cam:06}/recording"))
                        .bearer_auth(WRITE_KEY)
                        .header("content-type", "application/json")
                        .body(if rec { "{\"recording\":true}" } else { "{\"recording\":false}" })
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed().as_micros() as u32);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            });
        }
        let mut lat = Vec::new();
        let mut errors = 0;
        while let Some(r) = tasks.join_next().await {
            let (l, e) = r.expect("client task");
            lat.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let stats1 = service.engine().stats().await.expect("stats");
        let latencies = Latencies::of(lat.iter().map(|&us| u64::from(us) * 1000));
        println!(
            "load: {clients} clients, {cameras} cameras, {seconds} s, journal with fsync (synchronous=FULL) in target/"
        );
        println!(
            "  {} intents acknowledged ({} errors) = {:.0} intents/s; engine saw {} new intents, sent {} site requests",
            lat.len(),
            errors,
            lat.len() as f64 / elapsed,
            stats1.mirror.intents - stats0.mirror.intents,
            stats1.mirror.requests - stats0.mirror.requests,
        );
        println!(
            "  REST latency: {}",
            latencies.line(&[0.5, 0.9, 0.99, 0.999, 1.0])
        );
        service.shutdown().await.expect("shutdown");
        for s in sites {
            s.shutdown().await;
        }
    });
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if quick {
        load(&rt, 4, 1, 64);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-only") {
        let which = args.get(i + 1).map_or("service", String::as_str);
        println!("{}", memory(&rt, which));
        return;
    }
    if !args.iter().any(|a| a == "--no-memory") {
        memory_report();
    }
    load(
        &rt,
        arg("--clients", 64),
        arg("--seconds", 10),
        arg("--cameras", 1000),
    );
}
