//! Report tests: a hand-made run rendered to `report.json` and `junit.xml`
//! (insta snapshots), the terminal summary, determinism, and histograms that
//! decode back exactly.

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use sim::intervals::{IntervalSet, Span};
use sim::world::record::{ClickRecord, FaultWindow, RunRecord};

use super::*;
use crate::guarantee::{Cmp, Guarantee, Stat, Threshold};
use crate::metrics::{compute, MetricsConfig};
use crate::verdict::evaluate;

const MS: u64 = 1_000_000;

fn set(spans: &[(u64, u64)]) -> IntervalSet {
    IntervalSet::from_spans(spans.iter().map(|&(a, b)| Span::new(a * MS, b * MS)))
}

/// Two sites, two cameras, 100 s. cam-001: session 10–70 s, secondary 40 ms
/// late, 1.5 s footage hole on secondary, primary down 30–45 s (re-asserted
/// at 46.2 s). cam-002: session from 20 s, open at the end; secondary stops
/// recording it at 90 s (a 10 s site gap) and it is lost there after
/// settling.
fn record() -> RunRecord {
    let click = |at: u64, camera, recording| ClickRecord {
        at: at * MS,
        camera,
        recording,
    };
    RunRecord {
        sites: vec!["primary".into(), "secondary".into()],
        cameras: vec!["cam-001".into(), "cam-002".into()],
        end: 100_000 * MS,
        settled_at: 110_000 * MS,
        clicks: vec![
            click(10_000, 0, true),
            click(20_000, 1, true),
            click(70_000, 0, false),
        ],
        manual: vec![
            vec![
                set(&[(10_015, 30_000), (46_200, 70_010)]),
                set(&[(20_012, 30_000), (46_200, 110_000)]),
            ],
            vec![set(&[(10_055, 70_050)]), set(&[(20_048, 90_000)])],
        ],
        footage: vec![
            vec![
                set(&[(7_015, 30_000), (43_200, 70_010)]),
                set(&[(17_012, 30_000), (43_200, 110_000)]),
            ],
            vec![
                set(&[(7_055, 50_000), (51_500, 70_050)]),
                set(&[(17_048, 90_000)]),
            ],
        ],
        final_manual: vec![vec![false, true], vec![false, false]],
        faults: vec![FaultWindow {
            site: Some(0),
            kind: "down".into(),
            camera: None,
            start: 30_000 * MS,
            end: 45_000 * MS,
        }],
    }
}

fn guarantee(key: &str, cmp: Cmp, threshold: Threshold, condition: &str) -> Guarantee {
    let mut parts: Vec<&str> = key.split('.').collect();
    let stat = match parts.pop() {
        Some("p99") => Stat::P99,
        Some("max") => Stat::Max,
        Some("count") => Stat::Count,
        other => panic!("test guarantee with unexpected stat {other:?}"),
    };
    Guarantee {
        key: key.into(),
        metric: parts[0].into(),
        site: parts.get(1).map(|s| s.to_string()),
        stat,
        cmp,
        threshold,
        condition: condition.into(),
    }
}

fn report() -> Report {
    let rec = record();
    let metrics = compute(&rec, &MetricsConfig::default()).expect("consistent record");
    let guarantees = [
        guarantee(
            "dual_start_latency.p99",
            Cmp::Lt,
            Threshold::Duration(300 * MS),
            "< 300ms",
        ),
        guarantee(
            "start_skew.p99",
            Cmp::Lt,
            Threshold::Duration(100 * MS),
            "< 100ms",
        ),
        guarantee("union_gap.max", Cmp::Eq, Threshold::Duration(0), "== 0s"),
        guarantee(
            "site_gap.secondary.max",
            Cmp::Le,
            Threshold::Duration(1_000 * MS),
            "<= 1s",
        ),
        guarantee(
            "recovery_time.max",
            Cmp::Lt,
            Threshold::Duration(2_000 * MS),
            "< 2s",
        ),
        guarantee("lost_intents.count", Cmp::Eq, Threshold::Count(0.0), "== 0"),
    ];
    let verdicts = evaluate(&guarantees, &metrics);
    let meta = ReportMeta {
        name: "primary-down-<mid>-session".into(),
        description: "Primary goes down 30 s in & returns 15 s later.".into(),
        seed: 7,
        tags: vec!["failover".into(), "smoke".into()],
        duration_ns: 100_000 * MS,
        settle_ns: 10_000 * MS,
        mode: "virtual".into(),
    };
    Report::build(meta, &rec, &metrics, verdicts)
}

#[test]
fn report_json_snapshot() {
    insta::assert_snapshot!("report_json", to_json(&report()));
}

#[test]
fn report_junit_snapshot() {
    insta::assert_snapshot!("report_junit", junit_xml(&report()));
}

#[test]
fn report_summary_snapshot() {
    insta::assert_snapshot!("report_summary", summary_text(&report()));
}

#[test]
fn report_is_deterministic_and_round_trips() {
    let a = to_json(&report());
    assert_eq!(a, to_json(&report()));
    assert!(a.ends_with("}\n"));
    let back: Report = serde_json::from_str(&a).expect("report.json parses back");
    assert_eq!(to_json(&back), a);
}

#[test]
fn report_verdict_figures() {
    let r = report();
    assert!(!r.passed);
    let failed: Vec<&str> = r.failures().map(|v| v.key.as_str()).collect();
    assert_eq!(failed, ["site_gap.secondary.max", "lost_intents.count"]);
    let site_gap = &r.verdicts[3];
    // cam-002 lost on secondary at 90 s, 10 s before the end.
    assert_eq!(site_gap.measured_text, "10s");
    assert_eq!(site_gap.margin_text, "9s over the limit");
    let recovery = &r.verdicts[4];
    assert_eq!(recovery.measured, Some(1.2e9));
    assert_eq!(recovery.margin_text, "800ms under the limit");
    assert_eq!(r.schema, SCHEMA);
    assert_eq!(r.worst_sessions.len(), 2);
    assert_eq!(r.lost_intents.len(), 1);
}

#[test]
fn report_histograms_decode_exactly() {
    let rec = record();
    let metrics = compute(&rec, &MetricsConfig::default()).expect("consistent record");
    let r = report();
    assert!(!r.histograms.is_empty());
    for blob in &r.histograms {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&blob.data)
            .expect("valid base64");
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .expect("valid V2 histogram");
        let d = metrics
            .distribution(&blob.metric, blob.site.as_deref())
            .expect("every blob names a distribution");
        assert_eq!(&h, d.histogram(), "{} {:?}", blob.metric, blob.site);
        let row = r
            .stats
            .iter()
            .find(|s| s.metric == blob.metric && s.site == blob.site)
            .expect("every histogram has a stats row");
        assert_eq!(row.count, h.len());
    }
}
