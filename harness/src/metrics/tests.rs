//! Hand-made run records with exact expected figures for every metric.

use sim::intervals::{IntervalSet, Nanos, Span};
use sim::world::record::{ClickRecord, FaultWindow, RunRecord};

use super::*;

/// Milliseconds → ns: every time below is written in ms.
fn t(ms: u64) -> Nanos {
    ms * 1_000_000
}

fn set(spans: &[(u64, u64)]) -> IntervalSet {
    IntervalSet::from_spans(spans.iter().map(|&(a, b)| Span::new(t(a), t(b))))
}

/// Two sites, `cams` cameras, end 100 s, settled 110 s, nothing recorded.
fn base(cams: usize) -> RunRecord {
    RunRecord {
        sites: vec!["primary".into(), "secondary".into()],
        cameras: (1..=cams).map(|i| format!("cam-{i:03}")).collect(),
        end: t(100_000),
        settled_at: t(110_000),
        clicks: vec![],
        manual: vec![vec![IntervalSet::new(); cams]; 2],
        footage: vec![vec![IntervalSet::new(); cams]; 2],
        final_manual: vec![vec![false; cams]; 2],
        faults: vec![],
    }
}

fn click(r: &mut RunRecord, at_ms: u64, camera: usize, recording: bool) {
    r.clicks.push(ClickRecord {
        at: t(at_ms),
        camera,
        recording,
    });
    r.clicks.sort_by_key(|c| c.at);
}

/// Camera 0, session [10 s, 70 s); primary starts after 15 ms and stops after
/// 10 ms, secondary (40 ms later) after 55 ms and 50 ms; 3 s of pre-buffer.
fn late_secondary() -> RunRecord {
    let mut r = base(1);
    click(&mut r, 10_000, 0, true);
    click(&mut r, 70_000, 0, false);
    r.manual[0][0] = set(&[(10_015, 70_010)]);
    r.manual[1][0] = set(&[(10_055, 70_050)]);
    r.footage[0][0] = set(&[(7_015, 70_010)]);
    r.footage[1][0] = set(&[(7_055, 70_050)]);
    r
}

fn run(r: &RunRecord) -> Metrics {
    compute(r, &MetricsConfig::default()).expect("hand-made record is consistent")
}

#[track_caller]
fn check(m: &Metrics, metric: &str, site: Option<&str>, stat: Stat, expected: Option<f64>) {
    assert_eq!(
        m.stat(metric, site, stat),
        expected,
        "{metric}.{site:?}.{stat:?}"
    );
}

/// Shorthand: a time in ms as the f64 nanoseconds `stat` returns.
fn ns(ms: f64) -> Option<f64> {
    Some(ms * 1e6)
}

const P: Option<&str> = Some("primary");
const SEC: Option<&str> = Some("secondary");

#[test]
fn metrics_one_site_late_by_40ms() {
    let m = run(&late_secondary());
    check(&m, "start_latency", P, Stat::Max, ns(15.0));
    check(&m, "start_latency", SEC, Stat::Max, ns(55.0));
    check(&m, "start_latency", None, Stat::Min, ns(15.0));
    check(&m, "start_latency", None, Stat::Max, ns(55.0));
    check(&m, "start_latency", None, Stat::Count, Some(2.0));
    check(&m, "start_latency", None, Stat::Mean, ns(35.0));
    check(&m, "dual_start_latency", None, Stat::P99, ns(55.0));
    check(&m, "dual_start_latency", None, Stat::Count, Some(1.0));
    check(&m, "start_skew", None, Stat::Max, ns(40.0));
    check(&m, "stop_latency", P, Stat::Max, ns(10.0));
    check(&m, "stop_latency", SEC, Stat::Max, ns(50.0));
    check(&m, "stop_skew", None, Stat::Max, ns(40.0));
    check(&m, "site_gap", P, Stat::Max, ns(0.0));
    check(&m, "site_gap", SEC, Stat::Max, ns(0.0));
    check(&m, "union_gap", None, Stat::Max, ns(0.0));
    check(&m, "union_gap", None, Stat::Count, Some(1.0));
    // Orphan: one sample after the stop per site; nothing recorded before
    // the first click, so no sample for that stretch.
    check(&m, "orphan_time", P, Stat::Count, Some(1.0));
    check(&m, "orphan_time", None, Stat::Max, ns(0.0));
    check(&m, "recovery_time", None, Stat::Count, Some(0.0));
    check(&m, "recovery_time", None, Stat::Max, None);
    check(&m, "lost_intents", None, Stat::Count, Some(0.0));
    // Per-site queries of metrics over all sites, unknown names.
    check(&m, "union_gap", P, Stat::Max, None);
    check(&m, "start_latency", Some("tertiary"), Stat::Max, None);
    check(&m, "no_such_metric", None, Stat::Max, None);
    check(&m, "lost_intents", None, Stat::Max, None);

    let s = &m.sessions()[0];
    assert_eq!(
        (s.camera.as_str(), s.start_ns, s.stop_ns),
        ("cam-001", t(10_000), t(70_000))
    );
    assert!(!s.open_ended);
    assert_eq!(s.sites[1].start_latency_ns, Some(t(55)));
    assert_eq!(s.sites[1].stop_latency_ns, Some(t(50)));
    assert!(!s.sites[1].stop_censored);
    assert_eq!(s.start_skew_ns, Some(t(40)));
    let c = m.counts();
    assert_eq!(
        (c.total, c.stopped, c.open_ended, c.all_sites_started),
        (1, 1, 0, 1)
    );
}

#[test]
fn metrics_footage_hole_on_one_site() {
    let mut r = late_secondary();
    r.footage[1][0] = set(&[(7_055, 30_000), (31_500, 70_050)]);
    let m = run(&r);
    check(&m, "site_gap", SEC, Stat::Max, ns(1_500.0));
    check(&m, "site_gap", P, Stat::Max, ns(0.0));
    check(&m, "site_gap", None, Stat::Max, ns(1_500.0));
    check(&m, "union_gap", None, Stat::Max, ns(0.0));
    // Manual state is untouched by a footage hole.
    check(&m, "start_latency", SEC, Stat::Max, ns(55.0));
}

#[test]
fn metrics_overlapping_holes_make_a_union_gap() {
    let mut r = late_secondary();
    r.footage[0][0] = set(&[(7_015, 30_000), (31_500, 70_010)]);
    r.footage[1][0] = set(&[(7_055, 31_000), (32_000, 70_050)]);
    let m = run(&r);
    check(&m, "site_gap", P, Stat::Max, ns(1_500.0));
    check(&m, "site_gap", SEC, Stat::Max, ns(1_000.0));
    check(&m, "union_gap", None, Stat::Max, ns(500.0));
    assert_eq!(m.sessions()[0].union_gap_ns, t(500));
}

#[test]
fn metrics_union_gap_starts_at_first_site_start() {
    // No footage at all before the first manual start (no pre-buffer):
    // [a, a + 15ms) is not a gap, [a + 15 ms, …) is covered.
    let mut r = late_secondary();
    r.footage[0][0] = set(&[(10_015, 70_010)]);
    r.footage[1][0] = set(&[(10_055, 70_050)]);
    let m = run(&r);
    check(&m, "union_gap", None, Stat::Max, ns(0.0));
    // Secondary's own gap starts at its own start.
    check(&m, "site_gap", SEC, Stat::Max, ns(0.0));
}

#[test]
fn metrics_orphan_after_stop_beyond_grace() {
    let mut r = late_secondary();
    r.cameras.push("cam-002".into());
    for site in 0..2 {
        r.manual[site].push(IntervalSet::new());
        r.footage[site].push(IntervalSet::new());
        r.final_manual[site].push(false);
    }
    // Secondary keeps recording cam-001 until 75 s: grace ends at 72 s.
    r.manual[1][0] = set(&[(10_055, 75_000)]);
    // cam-002 is never clicked but primary records it 20–25 s.
    r.manual[0][1] = set(&[(20_000, 25_000)]);
    r.final_manual[0][1] = true; // never clicked: not a lost intent
    let m = run(&r);
    check(&m, "stop_latency", SEC, Stat::Max, ns(5_000.0));
    check(&m, "stop_skew", None, Stat::Max, ns(4_990.0));
    check(&m, "orphan_time", SEC, Stat::Max, ns(3_000.0));
    check(&m, "orphan_time", P, Stat::Max, ns(5_000.0));
    check(&m, "orphan_time", None, Stat::Max, ns(5_000.0));
    // 1 stop × 2 sites, plus cam-002's unasked recording on the primary
    // (before-first-click stretches only count when something recorded).
    check(&m, "orphan_time", None, Stat::Count, Some(3.0));
    check(&m, "orphan_time", None, Stat::Mean, ns(8_000.0 / 3.0));
    assert_eq!(m.sessions()[0].sites[1].orphan_time_ns, Some(t(3_000)));
    check(&m, "lost_intents", None, Stat::Count, Some(0.0));

    // A grace of 10 s covers it.
    let m = compute(
        &r,
        &MetricsConfig {
            orphan_grace: t(10_000),
        },
    )
    .expect("consistent");
    check(&m, "orphan_time", SEC, Stat::Max, ns(0.0));
}

#[test]
fn metrics_recovery_after_down_window() {
    let mut r = late_secondary();
    r.cameras.push("cam-002".into());
    for site in 0..2 {
        r.manual[site].push(IntervalSet::new());
        r.footage[site].push(IntervalSet::new());
        r.final_manual[site].push(false);
    }
    // Primary down 30–45 s; the engine re-asserts at 46.2 s, the pre-buffer
    // brings footage back from 43.2 s.
    r.manual[0][0] = set(&[(10_015, 30_000), (46_200, 70_010)]);
    r.footage[0][0] = set(&[(7_015, 30_000), (43_200, 70_010)]);
    // Secondary restarts at 60 s (instantaneous) and is never re-asserted.
    r.manual[1][0] = set(&[(10_055, 60_000)]);
    r.footage[1][0] = set(&[(7_055, 60_000)]);
    let fault = |site, kind: &str, camera, start, end| FaultWindow {
        site,
        kind: kind.into(),
        camera,
        start: t(start),
        end: t(end),
    };
    r.faults = vec![
        fault(Some(0), "down", None, 30_000, 45_000),
        fault(Some(1), "restart", None, 60_000, 60_000),
        fault(Some(1), "token_expiry", None, 50_000, 50_000), // no recovery
        fault(Some(1), "stream_loss", Some(1), 20_000, 40_000), // cam-002: no session
        fault(None, "engine_crash", None, 20_000, 25_000),    // no site
        fault(Some(0), "partition", None, 80_000, 90_000),    // no open session
    ];
    let m = run(&r);
    check(&m, "recovery_time", P, Stat::Max, ns(1_200.0));
    check(&m, "recovery_time", P, Stat::Count, Some(1.0));
    check(&m, "recovery_time", SEC, Stat::Max, ns(10_000.0));
    check(&m, "recovery_time", None, Stat::Count, Some(2.0));
    check(&m, "recovery_time", None, Stat::Min, ns(1_200.0));
    assert_eq!(m.counts().recovery_samples, 2);
    assert_eq!(m.counts().recovery_censored, 1);
    let rec = m.recoveries();
    assert_eq!((rec[0].fault, rec[0].censored), (0, false));
    assert_eq!(
        (rec[1].fault, rec[1].censored, rec[1].recovery_ns),
        (1, true, t(10_000))
    );
    check(&m, "site_gap", P, Stat::Max, ns(13_200.0));
    check(&m, "site_gap", SEC, Stat::Max, ns(10_000.0));
    check(&m, "union_gap", None, Stat::Max, ns(0.0));
    check(&m, "stop_latency", SEC, Stat::Max, ns(0.0));
}

#[test]
fn metrics_lost_intents_when_a_site_disagrees() {
    let mut r = base(3);
    click(&mut r, 10_000, 0, true);
    click(&mut r, 70_000, 0, false);
    click(&mut r, 20_000, 1, true); // open at the end
    r.manual[0][0] = set(&[(10_015, 110_000)]); // never stopped on primary
    r.manual[1][0] = set(&[(10_055, 70_050)]);
    r.manual[0][1] = set(&[(20_015, 110_000)]);
    r.manual[1][1] = set(&[(20_055, 90_000)]); // lost on secondary
    r.final_manual = vec![vec![true, true, true], vec![false, false, false]];
    let m = run(&r);
    check(&m, "lost_intents", None, Stat::Count, Some(2.0));
    check(&m, "lost_intents", P, Stat::Count, Some(1.0));
    check(&m, "lost_intents", SEC, Stat::Count, Some(1.0));
    assert_eq!(
        m.lost_intents(),
        &[
            LostIntent {
                camera: "cam-001".into(),
                intent_recording: false,
                sites: vec!["primary".into()],
            },
            LostIntent {
                camera: "cam-002".into(),
                intent_recording: true,
                sites: vec!["secondary".into()],
            },
        ]
    );
    // cam-001 on primary: stop latency capped at the end of the run.
    check(&m, "stop_latency", P, Stat::Max, ns(30_000.0));
    assert!(m.sessions()[0].sites[0].stop_censored);
    check(&m, "orphan_time", P, Stat::Max, ns(28_000.0));
    // The open-ended session has no stop figures.
    let open = &m.sessions()[1];
    assert!(open.open_ended);
    assert_eq!(open.stop_ns, t(100_000));
    assert_eq!(open.stop_skew_ns, None);
    assert_eq!(open.sites[1].stop_latency_ns, None);
    check(&m, "stop_latency", None, Stat::Count, Some(2.0));
}

#[test]
fn metrics_click_race_start_stop_start() {
    let mut r = base(1);
    click(&mut r, 10_000, 0, true);
    click(&mut r, 10_025, 0, false);
    click(&mut r, 10_050, 0, true);
    r.manual[0][0] = set(&[(10_015, 110_000)]);
    r.manual[1][0] = set(&[(10_055, 110_000)]);
    r.footage[0][0] = set(&[(7_015, 110_000)]);
    r.footage[1][0] = set(&[(7_055, 110_000)]);
    r.final_manual = vec![vec![true], vec![true]];
    let m = run(&r);
    let s = m.sessions();
    assert_eq!(s.len(), 2);
    // [10 s, 10.025 s): secondary never started inside it.
    assert_eq!(s[0].sites[0].start_latency_ns, Some(t(15)));
    assert!(s[0].sites[1].not_started);
    assert_eq!(s[0].dual_start_latency_ns, None);
    // Primary did not stop before the next start: capped at 25 ms.
    assert_eq!(s[0].sites[0].stop_latency_ns, Some(t(25)));
    assert!(s[0].sites[0].stop_censored);
    assert_eq!(s[0].sites[1].stop_latency_ns, Some(0));
    assert_eq!(s[0].stop_skew_ns, Some(t(25)));
    assert_eq!(s[0].union_gap_ns, 0);
    // [10.05 s, end): primary already recording, secondary 5 ms later.
    assert!(s[1].open_ended);
    assert_eq!(s[1].dual_start_latency_ns, Some(t(5)));
    assert_eq!(s[1].start_skew_ns, Some(t(5)));
    check(&m, "start_latency", P, Stat::Count, Some(2.0));
    check(&m, "start_latency", P, Stat::Min, Some(0.0));
    check(&m, "start_latency", SEC, Stat::Count, Some(1.0));
    check(&m, "dual_start_latency", None, Stat::Max, ns(5.0));
    check(&m, "orphan_time", None, Stat::Max, ns(0.0));
    check(&m, "lost_intents", None, Stat::Count, Some(0.0));
    let c = m.counts();
    assert_eq!(c.not_started["secondary"], 1);
    assert_eq!(c.not_started["primary"], 0);
    assert_eq!(c.stop_censored["primary"], 1);
    assert_eq!((c.total, c.all_sites_started, c.open_ended), (2, 1, 1));
}

#[test]
fn metrics_double_click_and_stray_stop_are_ignored() {
    let mut r = late_secondary();
    click(&mut r, 5_000, 0, false); // stray stop
    click(&mut r, 10_300, 0, true); // double click
    let m = run(&r);
    assert_eq!(m.sessions().len(), 1);
    // Latency still counts from the first start click.
    check(&m, "start_latency", P, Stat::Max, ns(15.0));
    check(&m, "dual_start_latency", None, Stat::Max, ns(55.0));
    let tally = m.counts().clicks;
    assert_eq!(
        (tally.clicks, tally.double_starts, tally.stray_stops),
        (4, 1, 1)
    );
}

#[test]
fn metrics_session_nobody_started_is_all_gap() {
    let mut r = base(1);
    click(&mut r, 30_000, 0, true);
    click(&mut r, 30_010, 0, false);
    let m = run(&r);
    check(&m, "union_gap", None, Stat::Max, ns(10.0));
    check(&m, "dual_start_latency", None, Stat::Count, Some(0.0));
    check(&m, "site_gap", None, Stat::Count, Some(0.0));
    check(&m, "stop_latency", None, Stat::Max, Some(0.0));
}

#[test]
fn metrics_worst_sessions_order() {
    let mut r = base(3);
    for c in 0..3 {
        click(&mut r, 10_000 + c as u64, c, true);
        click(&mut r, 20_000, c, false);
        for site in 0..2 {
            r.manual[site][c] = set(&[(10_100, 20_000)]);
            r.footage[site][c] = set(&[(7_000, 20_000)]);
        }
    }
    // cam-002: union gap of 1 s; cam-003: slow dual start.
    r.footage[0][1] = set(&[(7_000, 12_000), (13_000, 20_000)]);
    r.footage[1][1] = r.footage[0][1].clone();
    r.manual[1][2] = set(&[(10_900, 20_000)]);
    let m = run(&r);
    let worst: Vec<&str> = m
        .worst_sessions(10)
        .iter()
        .map(|s| s.camera.as_str())
        .collect();
    assert_eq!(worst, ["cam-002", "cam-003", "cam-001"]);
    assert_eq!(m.worst_sessions(1).len(), 1);
    // Selecting the first n gives the order of a stable sort of all, for
    // every n.
    let mut all: Vec<&SessionRecord> = m.sessions().iter().collect();
    all.sort_by(|a, b| a.badness_key().cmp(&b.badness_key()));
    for n in 0..=4 {
        let picked: Vec<*const SessionRecord> = m
            .worst_sessions(n)
            .into_iter()
            .map(|s| s as *const _)
            .collect();
        let want: Vec<*const SessionRecord> = all.iter().take(n).map(|s| *s as *const _).collect();
        assert_eq!(picked, want, "n = {n}");
    }
}

#[test]
fn metrics_reject_inconsistent_record() {
    let mut r = base(2);
    r.footage[1].pop();
    let e = compute(&r, &MetricsConfig::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("`footage[1]` has 1 cameras, expected 2"),
        "{e}"
    );
    let mut r = base(2);
    click(&mut r, 1, 5, true);
    assert!(compute(&r, &MetricsConfig::default()).is_err());
}
