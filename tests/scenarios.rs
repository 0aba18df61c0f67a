//! The scenario suite as tests: every scenario in `scenarios/` runs in
//! virtual time and its guarantees hold; runs are byte-reproducible; two
//! reports are pinned as snapshots.

use std::path::{Path, PathBuf};

use harness::runner::{run_virtual, RunOptions};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    harness::suite::discover(&dir, false).expect("scenarios/ is readable")
}

fn load(name: &str) -> harness::scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    harness::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_suite_has_at_least_fourteen_scenarios_each_with_a_description_and_guarantees() {
    let files = scenario_files();
    assert!(files.len() >= 14, "only {} scenarios", files.len());
    for f in files {
        let s = harness::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.description.trim().is_empty(),
            "{} has no description",
            f.display()
        );
        assert!(
            !s.guarantees.is_empty(),
            "{} states no guarantee",
            f.display()
        );
    }
}

#[test]
fn every_scenario_holds_its_guarantees() {
    let mut failures = Vec::new();
    for f in scenario_files() {
        let s = harness::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        let out = run_virtual(&s, &RunOptions::default()).expect("run completes");
        if !out.report.passed {
            failures.push(harness::report::summary_text(&out.report));
        }
    }
    assert!(
        failures.is_empty(),
        "guarantees failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn same_scenario_and_seed_give_a_byte_identical_report() {
    for name in ["happy-path.toml", "flaky-errors.toml", "engine-crash.toml"] {
        let s = load(name);
        let a = harness::report::to_json(&run_virtual(&s, &RunOptions::default()).unwrap().report);
        let b = harness::report::to_json(&run_virtual(&s, &RunOptions::default()).unwrap().report);
        assert_eq!(a, b, "{name} is not reproducible");
        let other = RunOptions {
            seed: Some(s.seed + 1),
            ..RunOptions::default()
        };
        let c = harness::report::to_json(&run_virtual(&s, &other).unwrap().report);
        assert_ne!(a, c, "{name}: a different seed should give a different run");
    }
}

#[test]
fn tracing_does_not_change_the_report() {
    let s = load("primary-down-mid-session.toml");
    let plain = run_virtual(&s, &RunOptions::default()).unwrap();
    let traced = run_virtual(
        &s,
        &RunOptions {
            trace: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        harness::report::to_json(&plain.report),
        harness::report::to_json(&traced.report)
    );
    assert!(traced.trace.len() > 100);
    assert!(plain.trace.is_empty());
}

#[test]
fn report_snapshot_stream_loss() {
    let out = run_virtual(&load("stream-loss.toml"), &RunOptions::default()).unwrap();
    insta::assert_snapshot!(harness::report::to_json(&out.report));
}

#[test]
fn report_snapshot_click_races() {
    let out = run_virtual(&load("click-races.toml"), &RunOptions::default()).unwrap();
    insta::assert_snapshot!(harness::report::to_json(&out.report));
}
