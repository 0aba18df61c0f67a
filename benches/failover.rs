//! Failover of `dualrec engine` replicas on a real PostgreSQL journal:
//! `kill -9` of the leader, 20 times, with two cameras recording and a
//! client clicking a third through the standby throughout. Prints takeover
//! time (kill → the survivor says it leads) p50/max, the evidence gap on
//! the recording cameras (union of both sites' footage), and acknowledged
//! writes lost (must be 0). Figures, not assertions (except lost writes).
//!
//! `cargo bench --bench failover` (needs Debian's `postgresql`).

#[path = "../tests/cluster_support/mod.rs"]
mod cluster_support;
#[path = "../tests/engine_support/mod.rs"]
mod engine_support;

#[path = "support/latencies.rs"]
mod latencies;
use latencies::Latencies;

use std::time::{Duration, Instant};

use cluster_support::*;
use engine_support::*;
use reqwest::Client;
use serde_json::Value;

const KILLS: usize = 20;
const CAMERAS: usize = 3;

fn main() {
    let Some(server) = engine::pgtest::require("failover bench") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run(server));
}

async fn run(server: engine::pgtest::TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (site_a, site_b) = start_sites(CAMERAS).await;
    let (ua, ub) = (site_a.service_url(), site_b.service_url());
    let cfgs = [
        replica_config(dir.path(), "a", &ua, &ub, CAMERAS, &server.url()),
        replica_config(dir.path(), "b", &ua, &ub, CAMERAS, &server.url()),
    ];
    let client = Client::new();
    let mut reps = [
        spawn_replica("a", &cfgs[0], dir.path()),
        spawn_replica("b", &cfgs[1], dir.path()),
    ];
    let (mut li, _, _) = await_leader(&client, &[&reps[0], &reps[1]], Duration::from_secs(15))
        .await
        .expect("a leader");
    let t_start = site_a.now();
    for cam in 1..=2 {
        click(&client, &reps[1 - li].base, cam, true)
            .await
            .expect("start");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut takeovers = Vec::new();
    let mut acked: Option<(u64, bool)> = None;
    let mut flip = false;
    let (mut lost, mut checked) = (0usize, 0usize);
    for k in 0..KILLS {
        let survivor = 1 - li;
        let killed_at = Instant::now();
        reps[li].child.kill().expect("SIGKILL");
        let _ = reps[li].child.wait();
        // A click through the survivor while nobody leads.
        flip = !flip;
        if let Some(seq) = click(&client, &reps[survivor].base, 3, flip).await {
            acked = Some((seq, flip));
        }
        let mut took = None;
        while killed_at.elapsed() < Duration::from_secs(15) {
            if let Some(v) = cluster(&client, &reps[survivor].base).await {
                if v["role"] == "leader" {
                    took = Some(killed_at.elapsed());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = took.unwrap_or_else(|| panic!("kill {k}: no takeover"));
        takeovers.push(took);
        // Every acknowledged click survives the takeover: the new leader
        // shows camera 3's last acknowledged intent (nobody else writes it).
        if let Some(want) = acked {
            checked += 1;
            if camera_intent(&client, &reps[survivor].base, 3).await != Some(want) {
                lost += 1;
                eprintln!("kill {k}: acknowledged {want:?} not shown by the new leader");
            }
        }
        let names = ["a", "b"];
        reps[li] = spawn_replica(names[li], &cfgs[li], dir.path());
        li = survivor;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t_end = site_a.now();
    // Evidence gap: time in [start + 1 s, end) with no footage on either site.
    let mut gap = Duration::ZERO;
    for cam in 1..=2 {
        let fa = site_a.footage(&device(0, cam)).expect("footage");
        let fb = site_b.footage(&device(1, cam)).expect("footage");
        let union = fa.union(&fb);
        let window = t_end.saturating_sub(t_start + 1_000_000_000);
        let covered = union
            .intersect(&sim::intervals::IntervalSet::from_spans([
                sim::intervals::Span::new(t_start + 1_000_000_000, t_end),
            ]))
            .measure();
        let missing = window.saturating_sub(covered);
        gap = gap.max(Duration::from_nanos(missing));
    }
    if let Some(want) = acked {
        checked += 1;
        if camera_intent(&client, &reps[li].base, 3).await != Some(want) {
            lost += 1;
        }
    }
    let mut takeover = Latencies::new();
    for t in &takeovers {
        takeover.record_duration(*t);
    }
    println!("failover: {KILLS} kill -9 of the leader");
    println!(
        "  takeover (kill -> survivor leads): {}",
        takeover.line(&[0.5, 0.99, 1.0])
    );
    println!("  evidence gap on recording cameras (union of both sites): {gap:?}");
    println!("  acknowledged writes lost: {lost} (of {checked} checks after a takeover)");
    assert_eq!(lost, 0, "an acknowledged write was lost");
}

/// Camera `cam`'s journaled intent `(seq, recording)` as replica `base` shows it.
async fn camera_intent(client: &Client, base: &str, cam: usize) -> Option<(u64, bool)> {
    let v: Value = client
        .get(format!("{base}/v1/cameras"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())?;
    let c = &v["cameras"][cam - 1];
    Some((c["seq"].as_u64()?, c["recording"].as_bool()?))
}
