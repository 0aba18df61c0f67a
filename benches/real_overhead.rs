//! Engine overhead in real mode (loopback HTTP, two mock sites): for a
//! 1,000-camera burst, dual-start latency minus the slower site's own
//! response time, per session; and the primary's start latency with the
//! secondary healthy versus hanging. Prints a table; not a criterion bench
//! because one sample is a whole wall-clock run.
//!
//! `cargo bench --bench real_overhead -- --cameras N` runs the same two
//! scenarios with N cameras instead of 1,000 (CI runs it small, so the
//! benchmark cannot rot). Either way it fails unless every start click of
//! both runs was measured and both runs' guarantees held.

use std::path::Path;

use harness::real::{engine_overhead, run_real};

#[path = "support/latencies.rs"]
mod latencies;
use latencies::Latencies;

/// The quantiles every line prints.
const QUANTILES: [f64; 3] = [0.5, 0.99, 1.0];

fn primary_start_latencies(o: &harness::real::RealOutcome) -> Latencies {
    Latencies::of(
        o.record
            .clicks
            .iter()
            .filter(|c| c.recording)
            .filter_map(|c| {
                o.record.manual[0][c.camera]
                    .first_at_or_after(c.at)
                    .map(|t| t - c.at)
            }),
    )
}

/// `--cameras N` from the command line (cargo adds `--bench`, which is ignored).
fn cameras_arg() -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == "--cameras")?;
    let n = args.get(i + 1).and_then(|v| v.parse().ok());
    assert!(
        matches!(n, Some(n) if n > 0),
        "--cameras takes a positive number"
    );
    n
}

/// A bench scenario, with its 1,000 cameras replaced by `cameras`.
fn load(file: &str, cameras: Option<usize>) -> harness::scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/bench")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    if let Some(n) = cameras {
        assert!(text.contains("count = 1000"), "{file} has 1,000 cameras");
        text = text
            .replace("count = 1000", &format!("count = {n}"))
            .replace("\"== 1000\"", &format!("\"== {n}\""));
    }
    harness::scenario::parse(&text, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario, checking that every start click was seen on the primary.
fn run(file: &str, cameras: Option<usize>) -> harness::real::RealOutcome {
    let scenario = load(file, cameras);
    let started = std::time::Instant::now();
    let outcome = run_real(&scenario, None).unwrap_or_else(|e| panic!("{file}: {e}"));
    eprintln!("{file}: {:.1} s wall", started.elapsed().as_secs_f64());
    let starts = outcome.record.clicks.iter().filter(|c| c.recording).count();
    assert_eq!(starts, scenario.cameras.len(), "{file}: start clicks");
    assert_eq!(
        primary_start_latencies(&outcome).len() as usize,
        starts,
        "{file}: a start click never reached the primary"
    );
    let metrics = harness::metrics::compute(
        &outcome.record,
        &harness::metrics::MetricsConfig {
            orphan_grace: scenario.orphan_grace,
        },
    )
    .unwrap_or_else(|e| panic!("{file}: metrics: {e}"));
    let guarantees =
        harness::runner::with_real_tolerance(&scenario.guarantees, scenario.real_tolerance);
    for v in harness::verdict::evaluate(&guarantees, &metrics) {
        assert!(
            v.passed,
            "{file}: {} {} failed: measured {}",
            v.key, v.condition, v.measured_text
        );
    }
    outcome
}

fn main() {
    let cameras = cameras_arg();
    let healthy = run("real-burst-1000.toml", cameras);
    let overhead = Latencies::of(engine_overhead(&healthy));
    assert_eq!(
        overhead.len() as usize,
        healthy.record.clicks.iter().filter(|c| c.recording).count(),
        "every start click of the healthy run yields an overhead sample"
    );
    let hung = run("real-burst-1000-hung.toml", cameras);
    let (a, b) = (
        primary_start_latencies(&healthy),
        primary_start_latencies(&hung),
    );
    println!(
        "engine overhead, {}-camera burst ({} sessions):",
        healthy.record.cameras.len(),
        overhead.len()
    );
    println!("  {}", overhead.line(&QUANTILES));
    println!(
        "primary start latency, secondary healthy: {}",
        a.line(&QUANTILES)
    );
    println!(
        "primary start latency, secondary hanging: {}",
        b.line(&QUANTILES)
    );
}
