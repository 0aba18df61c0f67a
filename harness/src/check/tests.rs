//! The checker against the runner: the same figures for every suite
//! scenario and for random explorer worlds (healthy and with planted engine
//! bugs, so that failing verdicts are compared too), and clear errors on a
//! broken trace.

use engine::core::Sabotage;

use super::*;
use crate::explore;
use crate::runner::{self, RunOptions};
use crate::scenario::{self, Scenario};

/// Runs `s` with a trace, rechecks the trace, and returns the differences.
fn disagreements(s: &Scenario, sabotage: Sabotage) -> (Vec<String>, bool) {
    let (trace, report) = if sabotage.any() {
        // What the explorer runs: the world with the planted bug, measured
        // and judged by the runner's code.
        let mut cfg = crate::build::world_config(s);
        cfg.sabotage = sabotage;
        let outcome = sim::world::World::with_trace(cfg).run();
        let m = crate::metrics::compute(
            &outcome.record,
            &crate::metrics::MetricsConfig {
                orphan_grace: s.orphan_grace,
            },
        )
        .expect("the record holds together");
        let verdicts = crate::verdict::evaluate(&s.guarantees, &m);
        let meta = crate::report::ReportMeta {
            name: s.name.clone(),
            description: String::new(),
            seed: s.seed,
            tags: Vec::new(),
            duration_ns: s.duration,
            settle_ns: s.settle,
            mode: "virtual".into(),
        };
        let report = crate::report::Report::build(meta, &outcome.record, &m, verdicts);
        (outcome.trace, report)
    } else {
        let run = runner::run_virtual(
            s,
            &RunOptions {
                trace: true,
                ..RunOptions::default()
            },
        )
        .expect("the scenario runs");
        (run.trace, run.report)
    };
    let text: String = trace
        .iter()
        .map(|e| serde_json::to_string(e).expect("trace events serialize") + "\n")
        .collect();
    let h = history::read(&text, "trace.jsonl").expect("the trace reads");
    let checked = check(&h, &s.guarantees, s.orphan_grace);
    let json = serde_json::to_value(&report).expect("reports serialize");
    (differences(&checked, &json), report.passed)
}

#[test]
fn check_agrees_with_the_runner_on_every_suite_scenario() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
    let files = crate::suite::discover(std::path::Path::new(dir), false).expect("scenarios/ lists");
    assert!(files.len() >= 16, "the suite has its scenarios: {files:?}");
    for f in files {
        let s = scenario::load(&f).expect("suite scenarios are valid");
        let (diff, _) = disagreements(&s, Sabotage::default());
        assert!(diff.is_empty(), "{}: {}", f.display(), diff.join("\n"));
    }
}

#[test]
fn check_agrees_with_the_runner_on_random_worlds_failing_ones_included() {
    let base = scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/happy-path.toml"
    )))
    .expect("happy-path is valid");
    let mut failed = 0;
    let sabotages = [
        Sabotage::default(),
        Sabotage {
            no_reassert: true,
            ..Sabotage::default()
        },
        Sabotage {
            no_renewal: true,
            ..Sabotage::default()
        },
    ];
    for i in 0..60u64 {
        for unsafe_faults in [false, true] {
            let cfg = explore::Config {
                knobs: explore::generate::Knobs {
                    rule: if unsafe_faults {
                        explore::generate::FaultRule::AnyOutage
                    } else {
                        explore::generate::FaultRule::OneSiteHealthy
                    },
                    ..explore::generate::Knobs::default()
                },
                ..explore::Config::default()
            };
            let w = explore::world(&base, &cfg, i);
            let sabotage = sabotages[(i % 3) as usize];
            let (diff, passed) = disagreements(&w, sabotage);
            assert!(diff.is_empty(), "world {i}: {}", diff.join("\n"));
            failed += u32::from(!passed);
        }
    }
    assert!(
        failed > 0,
        "some worlds fail, so failing verdicts are compared too"
    );
}

#[test]
fn check_computes_figures_of_a_hand_written_history() {
    // One camera, two sites: the start click at 1 s, primary records from
    // 1.010 s, secondary from 1.050 s; the stop click at 10 s, both stop at
    // 10.020 s; the secondary writes no footage in [5 s, 6 s).
    let s = 1_000_000_000u64;
    let ms = 1_000_000u64;
    let trace = format!(
        r#"{{"type":"run","sites":["a","b"],"cameras":["cam-001"]}}
{{"type":"click","t":{},"camera":"cam-001","recording":true}}
{{"type":"click","t":{},"camera":"cam-001","recording":false}}
{{"type":"manual","site":"a","camera":"cam-001","start":{},"end":{}}}
{{"type":"manual","site":"b","camera":"cam-001","start":{},"end":{}}}
{{"type":"footage","site":"a","camera":"cam-001","start":{},"end":{}}}
{{"type":"footage","site":"b","camera":"cam-001","start":{},"end":{}}}
{{"type":"footage","site":"b","camera":"cam-001","start":{},"end":{}}}
{{"type":"end","end":{},"settled":{}}}
"#,
        s,
        10 * s,
        s + 10 * ms,
        10 * s + 20 * ms,
        s + 50 * ms,
        10 * s + 20 * ms,
        s + 10 * ms,
        10 * s + 20 * ms,
        s + 50 * ms,
        5 * s,
        6 * s,
        10 * s + 20 * ms,
        20 * s,
        30 * s,
    );
    let h = history::read(&trace, "t.jsonl").expect("valid trace");
    let sites = vec!["a".to_string(), "b".to_string()];
    let g = |key: &str, cond: &str| {
        crate::scenario::guarantees::parse_guarantee(key, cond, &sites).expect("valid guarantee")
    };
    let c = check(
        &h,
        &[
            g("dual_start_latency.max", "== 50ms"),
            g("start_skew.max", "== 40ms"),
            g("site_gap.b.max", "== 1s"),
            g("union_gap.max", "== 0s"),
            g("stop_latency.max", "== 20ms"),
            g("lost_intents.count", "== 0"),
            g("recovery_time.p99", "< 1s"),
        ],
        DEFAULT_GRACE,
    );
    let failed: Vec<_> = c.verdicts.iter().filter(|v| !v.passed).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].key, "recovery_time.p99"); // no fault: no samples
    assert!(!c.passed);
    let row = |m: &str, site: Option<&str>| {
        c.stats
            .iter()
            .find(|r| r.metric == m && r.site.as_deref() == site)
            .expect("row exists")
            .clone()
    };
    assert_eq!(row("start_latency", Some("a")).max_ns, Some(10 * ms));
    assert_eq!(row("start_latency", None).count, 2);
    assert_eq!(row("orphan_time", Some("b")).max_ns, Some(0));
    assert_eq!(row("lost_intents", None).count, 0);
}

const DEFAULT_GRACE: Nanos = samples::DEFAULT_ORPHAN_GRACE;

#[test]
fn check_rejects_broken_traces_with_the_line() {
    let e = history::read(
        "{\"type\":\"click\",\"t\":1,\"camera\":\"c\",\"recording\":true}\n",
        "t.jsonl",
    )
    .unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.to_string().contains("`run` line"), "{e}");

    let e = history::read(
        "{\"type\":\"run\",\"sites\":[\"a\"],\"cameras\":[\"c\"]}\n{\"type\":\"manual\",\"site\":\"z\",\"camera\":\"c\",\"start\":1,\"end\":2}\n",
        "t.jsonl",
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.to_string().contains("unknown site `z`")),
        (2, true),
        "{e}"
    );

    let e = history::read(
        "{\"type\":\"run\",\"sites\":[],\"cameras\":[]}\nnot json\n",
        "t.jsonl",
    )
    .unwrap_err();
    assert_eq!(e.line, 2);

    let e = history::read(
        "{\"type\":\"run\",\"sites\":[],\"cameras\":[]}\n",
        "t.jsonl",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no `end` line"), "{e}");
}
