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

#[test]
fn report_summary_markdown_snapshot() {
    insta::assert_snapshot!("report_summary_markdown", summary_markdown(&report()));
}

/// The hand-made report under another name and seed, passing.
fn other_report() -> Report {
    let mut r = report();
    r.scenario.name = "another-scenario".into();
    r.scenario.seed = 8;
    r.verdicts.retain(|v| v.passed);
    r.passed = true;
    r
}

#[test]
fn report_timelines_follow_the_worst_sessions() {
    let r = report();
    assert_eq!(r.timelines.len(), r.worst_sessions.len());
    for (t, s) in r.timelines.iter().zip(&r.worst_sessions) {
        assert_eq!(
            (t.camera.as_str(), t.start_ns),
            (s.camera.as_str(), s.start_ns)
        );
        assert!(t.from_ns <= t.start_ns && t.to_ns >= t.stop_ns.min(110_000 * MS));
        assert_eq!(t.sites.len(), 2);
    }
    // cam-001 (10–70 s): 6 s margin, primary down 30–45 s, footage hole on
    // secondary 50–51.5 s.
    let t = r.timelines.iter().find(|t| t.camera == "cam-001").unwrap();
    assert_eq!((t.from_ns, t.to_ns), (4_000 * MS, 76_000 * MS));
    assert_eq!(t.sites[0].faults.len(), 1);
    assert_eq!(t.sites[0].faults[0].kind, "down");
    assert!(t.sites[1].faults.is_empty());
    assert_eq!(t.sites[1].footage.len(), 2);
    assert_eq!(t.clicks.len(), 2);
}

#[test]
fn report_merge_of_shards_equals_the_whole_suite() {
    let (a, b) = (report(), other_report());
    let whole = SuiteReport::from_reports(vec![a.clone(), b.clone()], None).unwrap();
    let shard1 = SuiteReport::from_reports(vec![b.clone()], Some("1/2".into())).unwrap();
    let shard2 = SuiteReport::from_reports(vec![a.clone()], Some("2/2".into())).unwrap();
    let merged = merge(vec![shard1.clone(), shard2.clone()]).unwrap();
    assert_eq!(merge::suite_json(&merged), merge::suite_json(&whole));
    // Order of the shards does not matter.
    let merged_rev = merge(vec![shard2, shard1.clone()]).unwrap();
    assert_eq!(merge::suite_json(&merged_rev), merge::suite_json(&whole));
    assert!(!merged.passed);
    assert_eq!(merged.totals.scenarios, 2);
    assert_eq!(merged.totals.scenarios_failed, 1);
    assert_eq!(merged.reports[0].scenario.name, "another-scenario");
    // The aggregate adds up the scenarios exactly.
    let row = |s: &SuiteReport, m: &str| {
        s.aggregate
            .stats
            .iter()
            .find(|r| r.metric == m && r.site.is_none())
            .cloned()
            .unwrap()
    };
    let single = a
        .stats
        .iter()
        .find(|r| r.metric == "start_latency" && r.site.is_none())
        .unwrap();
    let agg = row(&merged, "start_latency");
    assert_eq!(agg.count, 2 * single.count);
    assert_eq!(agg.sum_ns, single.sum_ns.map(|s| 2 * s));
    assert_eq!((agg.min_ns, agg.max_ns), (single.min_ns, single.max_ns));
    let h = plots::decode(merged.aggregate_histogram("start_latency", None).unwrap()).unwrap();
    assert_eq!(h.len(), agg.count);
    insta::assert_snapshot!("suite_merged_json", merge::suite_json(&merged));
    insta::assert_snapshot!("suite_summary_markdown", suite_summary_markdown(&merged));
    // A scenario in two shards is rejected, as is a stranger's schema.
    let dup = merge(vec![shard1.clone(), shard1.clone()]).unwrap_err();
    assert!(dup.to_string().contains("another-scenario"), "{dup}");
    let mut alien = shard1;
    alien.schema = "dualrec.suite/v9".into();
    assert!(merge(vec![alien]).is_err());
    assert!(merge(vec![]).is_err());
}

#[test]
fn report_suite_json_records_a_pass_on_retry_as_flaky() {
    let mut retried = report();
    retried.scenario.name = "retried".into();
    retried.passed = true;
    retried.record_attempts(3);
    assert_eq!((retried.attempts, retried.flaky), (Some(3), true));
    // Still failing after retries: attempts recorded, not flaky.
    let mut failing = other_report();
    failing.passed = false;
    failing.record_attempts(2);
    assert_eq!((failing.attempts, failing.flaky), (Some(2), false));
    // One run records nothing, and the JSON stays as it was.
    let mut once = report();
    once.record_attempts(1);
    assert_eq!((once.attempts, once.flaky), (None, false));
    assert!(!to_json(&once).contains("attempts") && !to_json(&once).contains("\"flaky\""));

    let whole = SuiteReport::from_reports(vec![retried.clone(), failing.clone()], None).unwrap();
    assert_eq!(whole.totals.flaky, 1);
    assert_eq!(whole.totals.scenarios_passed, 1);
    let json: serde_json::Value = serde_json::from_str(&merge::suite_json(&whole)).unwrap();
    assert_eq!(json["totals"]["flaky"], 1);
    let by_name = |n: &str| {
        json["reports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["scenario"]["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("retried")["flaky"], true);
    assert_eq!(by_name("retried")["attempts"], 3);
    assert_eq!(by_name("another-scenario")["attempts"], 2);
    assert!(by_name("another-scenario").get("flaky").is_none());
    // Shards keep it through a merge.
    let merged = merge(vec![
        SuiteReport::from_reports(vec![retried], Some("1/2".into())).unwrap(),
        SuiteReport::from_reports(vec![failing], Some("2/2".into())).unwrap(),
    ])
    .unwrap();
    assert_eq!(merge::suite_json(&merged), merge::suite_json(&whole));
    // An older suite.json without the count still loads (as 0).
    let mut old = json.clone();
    old["totals"].as_object_mut().unwrap().remove("flaky");
    let old: SuiteReport = serde_json::from_value(old).unwrap();
    assert_eq!(old.totals.flaky, 0);
    let page = suite_html(&whole);
    assert!(page.contains("FLAKY"), "the suite page marks it");
    assert!(page.contains("1 flaky (passed on a retry)"));
    assert!(suite_summary_markdown(&whole).contains("| `retried` | pass, **flaky** |"));
}

#[test]
fn report_merge_rejects_an_edited_aggregate() {
    let mut shard = SuiteReport::from_reports(vec![report()], Some("1/1".into())).unwrap();
    let row = shard
        .aggregate
        .stats
        .iter_mut()
        .find(|r| r.metric == "union_gap" && r.site.is_none())
        .unwrap();
    row.sum_ns = Some(row.sum_ns.unwrap_or(0) + 1);
    let err = merge(vec![shard]).unwrap_err();
    assert!(err.to_string().contains("union_gap"), "{err}");
}

#[test]
fn report_html_is_self_contained_and_verdict_first() {
    let r = report();
    let html = report_html(&r);
    assert_eq!(html, report_html(&r), "rendering is deterministic");
    assert!(html.starts_with("<!DOCTYPE html>"));
    let verdict = html
        .find("<table class=\"verdicts\">")
        .expect("verdict table");
    let first_svg = html.find("<svg").expect("plots");
    assert!(verdict < first_svg, "the verdict comes before the plots");
    // Two sites + dual start, stop latency, skews, recovery; 3 gap plots; 2 timelines.
    assert!(
        html.matches("<svg").count() >= 8,
        "{}",
        html.matches("<svg").count()
    );
    assert!(html.contains("dualrec run scenarios/primary-down-&lt;mid&gt;-session.toml --seed 7"));
    assert!(html.contains("site_gap.secondary.max"));
    assert!(html.contains("id=\"timeline-2\""));
    for external in ["src=\"http", "href=\"http", "src=\"//", "@import", "url("] {
        assert!(!html.contains(external), "external reference {external}");
    }
    let suite = SuiteReport::from_reports(vec![r, other_report()], None).unwrap();
    let page = suite_html(&suite);
    assert!(page.contains("<table class=\"verdicts\">"));
    assert!(page.contains("href=\"another-scenario/report.html\""));
    assert!(page.contains("<svg"));
}

#[test]
fn report_html_escapes_every_value_from_the_report() {
    let mut r = report();
    r.scenario.description = "<script>alert('x')</script> & \"quoted\"".into();
    r.scenario.tags = vec!["<b>tag</b>".into()];
    r.sites[0] = "site\"><img src=x onerror=alert(1)>".into();
    for v in &mut r.verdicts {
        v.passed = false;
    }
    r.passed = false;
    let html = report_html(&r);
    assert!(!html.contains("<script>alert"), "description not escaped");
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quoted&quot;"));
    assert!(html.contains("&lt;b&gt;tag&lt;/b&gt;"));
    assert!(!html.contains("<img"), "site name not escaped");
    // The only script is the page's own error probe.
    assert_eq!(html.matches("<script>").count(), 1);
    // A failing scenario in a suite: its name lands in an href and in the
    // replay block, both escaped.
    r.scenario.name = "a\"b<c".into();
    let suite = SuiteReport::from_reports(vec![r, other_report()], None).unwrap();
    let page = suite_html(&suite);
    assert!(page.contains("<h3>Failed guarantees</h3>"));
    assert!(
        page.contains("href=\"a&quot;b&lt;c/report.html\""),
        "{page}"
    );
    assert!(page.contains("<details open>"));
    assert_eq!(page.matches("<script>").count(), 1);
}

#[test]
fn report_latency_over_time_holds_every_sample_at_its_click() {
    let r = report();
    let lot = r.latency_over_time.as_ref().expect("built with the report");
    // 100 s run: 1 s buckets.
    assert_eq!(lot.bucket_ns, 1_000 * MS);
    let names: Vec<(&str, &str)> = lot
        .series
        .iter()
        .map(|s| (s.metric.as_str(), s.site.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("start_latency", "primary"),
            ("start_latency", "secondary"),
            ("stop_latency", "primary"),
            ("stop_latency", "secondary"),
        ]
    );
    // Every sample of the statistics is in exactly one bucket, and the
    // largest bucket maximum is the statistics' max.
    for s in &lot.series {
        let row = r
            .stats
            .iter()
            .find(|row| row.metric == s.metric && row.site.as_deref() == Some(s.site.as_str()))
            .unwrap();
        let count: u64 = s.points.iter().map(|p| p.count).sum();
        assert_eq!(count, row.count, "{} {}", s.metric, s.site);
        assert_eq!(s.points.iter().filter_map(|p| p.max_ns).max(), row.max_ns);
        assert!(s.points.windows(2).all(|w| w[0].at_ns < w[1].at_ns));
    }
    // cam-001 starts at 10 s (secondary 55 ms late), cam-002 at 20 s (48 ms);
    // cam-001 is stopped at 70 s (secondary 50 ms later); cam-002 never is.
    let secondary = &lot.series[1];
    assert_eq!(
        secondary
            .points
            .iter()
            .map(|p| (p.at_ns, p.max_ns))
            .collect::<Vec<_>>(),
        [(10_000 * MS, Some(55 * MS)), (20_000 * MS, Some(48 * MS))]
    );
    assert_eq!(
        lot.series[3]
            .points
            .iter()
            .map(|p| (p.at_ns, p.count, p.max_ns))
            .collect::<Vec<_>>(),
        [(70_000 * MS, 1, Some(50 * MS))]
    );
    let html = report_html(&r);
    let section = &html[html.find("<section id=\"latency-over-time\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<svg").count(), 2, "start and stop plots");
    // The fault window (primary down 30–45 s) is shaded and labelled.
    assert!(section.contains("down primary"), "{section}");
}

#[test]
fn report_latency_over_time_counts_sessions_a_site_never_started() {
    // The secondary never records cam-002: no start-latency sample at 20 s,
    // a not-started session instead.
    let mut rec = record();
    rec.manual[1][1] = set(&[]);
    rec.footage[1][1] = set(&[]);
    let metrics = compute(&rec, &MetricsConfig::default()).unwrap();
    let lot = over_time::build(&metrics, rec.end);
    let secondary = &lot.series[1];
    assert_eq!(secondary.site, "secondary");
    let at_20 = secondary
        .points
        .iter()
        .find(|p| p.at_ns == 20_000 * MS)
        .expect("a point for the not-started session");
    assert_eq!((at_20.count, at_20.max_ns, at_20.not_started), (0, None, 1));
    assert_eq!(
        lot.series[0]
            .points
            .iter()
            .map(|p| p.not_started)
            .sum::<u64>(),
        0
    );
}

#[test]
fn report_without_latency_over_time_still_renders() {
    let r = report();
    let mut json: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
    json.as_object_mut().unwrap().remove("latency_over_time");
    let old: Report = serde_json::from_value(json).unwrap();
    assert_eq!(old.latency_over_time, None);
    let html = report_html(&old);
    assert!(html.contains("written before reports kept latency over time"));
    // Absent stays absent: re-writing an older file does not invent a series.
    assert!(!to_json(&old).contains("latency_over_time"));
}

#[test]
fn report_junit_times_properties_and_flaky_retries() {
    let passed = report();
    let mut failed = passed.clone();
    for v in &mut failed.verdicts {
        v.passed = false;
    }
    let earlier = [failed];
    let xml = super::junit_xml_runs(&[super::JunitRun {
        report: &passed,
        wall_seconds: Some(2.0),
        earlier: &earlier,
    }]);
    assert!(xml.contains("time=\"2."), "{xml}");
    assert!(xml.contains("name=\"seed\""), "{xml}");
    assert!(xml.contains("name=\"scenario\""), "{xml}");
    assert!(xml.contains("<system-out>replay: dualrec run"), "{xml}");
    // Passed on the retry: flaky, never a plain pass.
    if passed.verdicts.iter().any(|v| v.passed) {
        assert!(xml.contains("<flakyFailure"), "{xml}");
    }
    // The untimed rendering has no time attribute at all.
    assert!(!super::junit_xml(&passed).contains("time="));
}

#[test]
fn report_every_metric_lists_every_stats_row() {
    let r = report();
    let text = super::every_metric_text(&r);
    assert_eq!(text.lines().count(), r.stats.len(), "{text}");
    assert!(text.contains("lost_intents"), "{text}");
}
