//! `dualrec discover` at scale: two mock sites of 10,000 cameras each (40
//! recording servers apiece, generated inventories with the same names and
//! different GUIDs), read over loopback HTTP through each site's identity
//! provider and configuration REST API, paired and rendered as `[[camera]]`
//! tables — everything the command does but writing the file.
//!
//! `cargo bench --bench discover -- --cameras N` uses N cameras per site.
//! The bench fails unless every camera was paired and written.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

use engine::config::{EngineConfig, SecretSource};
use engine::core::DeviceId;
use engine::discovery::{fetch_site, pair, render_cameras, SiteInventory};
use engine::runtime::SoapClient;
use sim::recorder::SiteConfig;
use sim::server::{recorder_path, MockSite, MockSiteConfig};

const RECORDERS: usize = 40;

fn cameras_arg() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--cameras")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

struct Pw;
impl SecretSource for Pw {
    fn env(&self, _: &str) -> Option<String> {
        Some("pw".into())
    }
    fn read(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::NotFound.into())
    }
}

fn bench(c: &mut Criterion) {
    let n = cameras_arg();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sites, cfg) = rt.block_on(async {
        let mut sites = Vec::new();
        let mut text = String::new();
        for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
            let mut recorders = vec![Vec::new(); RECORDERS];
            for k in 0..n {
                recorders[k % RECORDERS].push(DeviceId::new(format!(
                    "{:08x}-0000-4000-8000-{k:012x}",
                    0xb0 + s
                )));
            }
            let cfg = MockSiteConfig::new(SiteConfig::new(name, "u", "pw"), recorders);
            let site = MockSite::start(cfg, "127.0.0.1:0".parse().unwrap(), None)
                .await
                .expect("site starts");
            let url = site.service_url();
            let urls: Vec<String> = (0..RECORDERS)
                .map(|r| {
                    let p = recorder_path(r);
                    let base = p.trim_end_matches(xprotect::RECORDER_PATH);
                    format!("\"{}{base}/\"", url.trim_end_matches('/'))
                })
                .collect();
            text.push_str(&format!(
                "[[site]]\nname = \"{name}\"\nmanagement_url = \"{url}\"\nrecorder_urls = [{}]\n\
                 username = \"u\"\npassword_env = \"PW\"\n\n",
                urls.join(", ")
            ));
            sites.push(site);
        }
        let cfg = EngineConfig::parse_for_discovery("site.toml", &text, Path::new("."), &Pw)
            .expect("config");
        (sites, cfg)
    });
    let clients: Vec<SoapClient> = cfg
        .sites
        .iter()
        .map(|s| SoapClient::new(&s.endpoint).expect("client"))
        .collect();
    let discover = || {
        rt.block_on(async {
            let reads = clients.iter().map(|c| fetch_site(c, &|_| {}));
            let inv: Vec<SiteInventory> = futures_util::future::join_all(reads)
                .await
                .into_iter()
                .map(|r| r.expect("site read"))
                .collect();
            let refs: Vec<&SiteInventory> = inv.iter().collect();
            let pairing = pair(&refs);
            render_cameras(&cfg, &inv, &pairing)
        })
    };
    let first = discover();
    assert!(
        first.complete(),
        "{:?}",
        &first.problems[..first.problems.len().min(5)]
    );
    assert_eq!(first.written, n);
    let mut group = c.benchmark_group("discover");
    group.sample_size(10);
    group.bench_function(format!("two_sites_{n}_cameras_each"), |b| {
        b.iter(|| discover().written)
    });
    group.finish();
    rt.block_on(async {
        for s in sites {
            s.shutdown().await;
        }
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
