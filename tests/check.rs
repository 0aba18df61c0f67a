//! `dualrec check`: the independent checker end to end — a trace rechecked
//! against its own report (equal figures), a failing scenario's verdict
//! reproduced, a tampered trace caught, a broken trace rejected with its line.

use std::process::{Command, Output};

fn dualrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dualrec runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `scenario` with a trace into `dir`; returns (trace, report) paths.
fn traced(scenario: &str, dir: &std::path::Path) -> (String, String) {
    let trace = dir.join("trace.jsonl");
    let out = dualrec(&[
        "run",
        scenario,
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        text(&out.stderr)
    );
    (
        trace.to_string_lossy().into_owned(),
        dir.join("report.json").to_string_lossy().into_owned(),
    )
}

#[test]
fn check_reproduces_the_report_figures_from_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "scenarios/primary-down-mid-session.toml";
    let (trace, report) = traced(scenario, dir.path());
    let out = dualrec(&[
        "check",
        &trace,
        "--guarantees",
        scenario,
        "--compare",
        &report,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(checked["stats"], report["stats"]);
    assert_eq!(checked["passed"], report["passed"]);
    assert_eq!(checked["passed"], true);
    assert_eq!(checked["schema"], "dualrec.check/v1");
}

#[test]
fn check_fails_what_the_run_failed_and_catches_a_tampered_trace() {
    let dir = tempfile::tempdir().unwrap();
    let strict = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/happy-path.toml"),
    )
    .unwrap()
    .replace(
        "\"dual_start_latency.p99\" = \"< 150ms\"",
        "\"dual_start_latency.p99\" = \"< 1ms\"",
    );
    let file = dir.path().join("strict.toml");
    std::fs::write(&file, strict).unwrap();
    let file = file.to_str().unwrap();
    let (trace, report) = traced(file, &dir.path().join("run"));
    let out = dualrec(&["check", &trace, "--guarantees", file, "--compare", &report]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("FAIL dual_start_latency.p99"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("DIFFERS"),
        "{}",
        text(&out.stderr)
    );

    // Drop one footage span: the gap figures must no longer match.
    let lines = std::fs::read_to_string(&trace).unwrap();
    let mut dropped = false;
    let tampered: String = lines
        .lines()
        .filter(|l| {
            let drop = !dropped && l.contains("\"type\":\"footage\"");
            dropped |= drop;
            !drop
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let bad = dir.path().join("tampered.jsonl");
    std::fs::write(&bad, tampered).unwrap();
    let out = dualrec(&["check", bad.to_str().unwrap(), "--compare", &report]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("DIFFERS stats row"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_rejects_a_broken_trace_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"type\":\"run\",\"sites\":[\"a\"],\"cameras\":[\"c\"]}\n{\"type\":\"click\",\"t\":\"soon\"}\n",
    )
    .unwrap();
    let out = dualrec(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.jsonl:2:"),
        "{}",
        text(&out.stderr)
    );
}
