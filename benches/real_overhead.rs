//! Engine overhead in real mode (loopback HTTP, two mock sites): for a
//! 1,000-camera burst, dual-start latency minus the slower site's own
//! response time, per session; and the primary's start latency with the
//! secondary healthy versus hanging. Prints a table; not a criterion bench
//! because one sample is a whole wall-clock run.

use std::path::Path;

use harness::real::{engine_overhead, run_real};

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

fn primary_start_latencies(o: &harness::real::RealOutcome) -> Vec<u64> {
    let mut v: Vec<u64> = o
        .record
        .clicks
        .iter()
        .filter(|c| c.recording)
        .filter_map(|c| {
            o.record.manual[0][c.camera]
                .first_at_or_after(c.at)
                .map(|t| t - c.at)
        })
        .collect();
    v.sort_unstable();
    v
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench");
    let load = |f: &str| harness::scenario::load(&dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
    let healthy = run_real(&load("real-burst-1000.toml"), None).expect("real run");
    let mut overhead = engine_overhead(&healthy);
    overhead.sort_unstable();
    let hung = run_real(&load("real-burst-1000-hung.toml"), None).expect("real run");
    let (a, b) = (
        primary_start_latencies(&healthy),
        primary_start_latencies(&hung),
    );
    println!(
        "engine overhead, 1,000-camera burst ({} sessions):",
        overhead.len()
    );
    println!(
        "  p50 {}  p99 {}  max {}",
        ms(percentile(&overhead, 0.5)),
        ms(percentile(&overhead, 0.99)),
        ms(percentile(&overhead, 1.0))
    );
    println!(
        "primary start latency, secondary healthy: p50 {}  p99 {}  max {}",
        ms(percentile(&a, 0.5)),
        ms(percentile(&a, 0.99)),
        ms(percentile(&a, 1.0))
    );
    println!(
        "primary start latency, secondary hanging: p50 {}  p99 {}  max {}",
        ms(percentile(&b, 0.5)),
        ms(percentile(&b, 0.99)),
        ms(percentile(&b, 1.0))
    );
}
