//! Tests of scenario parsing and validation; error messages are insta
//! snapshots that show the offending line with a caret under `line:col`.

use engine::core::{Policy, MILLIS, SECS};
use sim::world::latency::LatencyDist;

use super::*;
use crate::guarantee::{Cmp, Stat, Threshold};

const MIN: u64 = 60 * SECS;

/// A full scenario using most keys (the shape of `docs/scenario-format.md`).
const FULL_EXAMPLE: &str = r#"
[scenario]
name = "primary-down-mid-session"
description = "Primary goes down 30 s into a session and returns 45 s later."
seed = 7
duration = "5m"
tags = ["failover", "smoke"]

[[site]]
name = "primary"
latency = { dist = "lognormal", median = "15ms", p99 = "80ms" }
manual_recording_max = "5m"     # XProtect "stop manual recording after"; "off" to disable
prebuffer = "3s"

[[site]]
name = "secondary"
latency = { dist = "normal", mean = "35ms", stddev = "8ms" }

[cameras]
count = 16                      # cam-001 … cam-016, one device per site each

[[session]]                     # explicit clicks
camera = "cam-001"
start = "10s"
stop = "2m10s"

[[workload]]                    # generated sessions
cameras = "cam-002..cam-016"
arrivals = { per_minute = 6 }   # Poisson
length = { dist = "lognormal", median = "90s", p99 = "10m" }

[[fault]]
site = "primary"
kind = "down"                   # see fault kinds below
at = "40s"
for = "45s"

[policy]                        # optional overrides of engine policy
request_timeout = "2s"

[guarantees]
"dual_start_latency.p99" = "< 300ms"
"start_skew.p99" = "< 100ms"
"union_gap.max" = "== 0s"
"recovery_time.max" = "< 2s"
"orphan_time.max" = "== 0s"
"lost_intents.count" = "== 0"
"#;

/// A small valid head to which test cases append tables.
const HEAD: &str = r#"[scenario]
name = "t"
seed = 1
duration = "5m"

[[site]]
name = "primary"

[[site]]
name = "secondary"

[cameras]
count = 16
"#;

fn ok(text: &str) -> Scenario {
    parse(text, "ok.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn with(extra: &str) -> Scenario {
    ok(&format!("{HEAD}{extra}"))
}

/// The error of `text`, with its line and a caret under the column.
fn show(text: &str) -> String {
    let e = parse(text, "bad.toml").expect_err("scenario should be rejected");
    let rendered = e.to_string();
    let Some((line, col)) = e.location() else {
        return rendered;
    };
    let source = text.lines().nth(line - 1).unwrap_or("");
    format!("{rendered}\n{source}\n{}^", " ".repeat(col - 1))
}

fn show_with(extra: &str) -> String {
    show(&format!("{HEAD}{extra}"))
}

#[test]
fn design_example_parses() {
    let s = ok(FULL_EXAMPLE);
    assert_eq!(s.name, "primary-down-mid-session");
    assert_eq!(s.seed, 7);
    assert_eq!(s.duration, 5 * MIN);
    assert_eq!(s.settle, 30 * SECS);
    assert_eq!(s.orphan_grace, 2 * SECS);
    assert_eq!(s.tags, ["failover", "smoke"]);
    assert_eq!(s.virtual_only, None);
    assert_eq!(s.sites.len(), 2);
    let p = &s.sites[0];
    assert_eq!(
        p.latency,
        LatencyDist::LogNormal {
            median: 15 * MILLIS,
            p99: 80 * MILLIS
        }
    );
    assert_eq!(p.manual_recording_max, Some(5 * MIN));
    assert_eq!(p.prebuffer, 3 * SECS);
    assert_eq!(p.recorders, 1);
    assert!(!p.start_extends_timer);
    assert_eq!(p.token_ttl, 4 * 60 * MIN);
    assert_eq!(s.cameras.len(), 16);
    assert_eq!(s.cameras[0], "cam-001");
    assert_eq!(s.cameras[15], "cam-016");
    assert_eq!(
        s.sessions,
        [SessionDef {
            camera: 0,
            start: 10 * SECS,
            stop: Some(130 * SECS)
        }]
    );
    let w = &s.workloads[0];
    assert_eq!(w.cameras, (1..16).collect::<Vec<_>>());
    assert_eq!(w.per_minute, 6.0);
    assert_eq!((w.from, w.until), (0, 5 * MIN));
    assert_eq!(
        s.faults,
        [FaultDef {
            site: Some(0),
            kind: FaultKind::Down,
            at: 40 * SECS,
            duration: 45 * SECS
        }]
    );
    assert_eq!(s.policy, Policy::default());
    let keys: Vec<&str> = s.guarantees.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "dual_start_latency.p99",
            "start_skew.p99",
            "union_gap.max",
            "recovery_time.max",
            "orphan_time.max",
            "lost_intents.count"
        ],
        "file order"
    );
    assert_eq!(s.guarantees[5].threshold, Threshold::Count(0.0));
}

#[test]
fn header_options() {
    let s = ok(r#"
[scenario]
name = "opts"
seed = 3
duration = "10.05s"
settle = "0s"
orphan_grace = "500ms"
virtual_only = true
reason = "24 h day"
real_time_scale = 2.5
[[site]]
name = "a"
manual_recording_max = "off"
recorders = 3
start_extends_timer = true
token_ttl = "1h"
[cameras]
count = 1
"#);
    assert_eq!(s.duration, 10_050_000_000);
    assert_eq!(s.settle, 0);
    assert_eq!(s.orphan_grace, 500 * MILLIS);
    assert_eq!(s.virtual_only.as_deref(), Some("24 h day"));
    assert_eq!(s.real_time_scale, Some(2.5));
    assert_eq!(s.description, "");
    let a = &s.sites[0];
    assert_eq!(a.latency, LatencyDist::Fixed(MILLIS));
    assert_eq!(a.manual_recording_max, None);
    assert_eq!(a.recorders, 3);
    assert!(a.start_extends_timer);
    assert_eq!(a.token_ttl, 60 * MIN);
    assert_eq!(s.recorder_of(0, 4), 1);
    assert_eq!(s.end(), s.duration);
}

#[test]
fn each_distribution_parses() {
    let cases = [
        (
            r#"{ dist = "fixed", value = "20ms" }"#,
            LatencyDist::Fixed(20 * MILLIS),
        ),
        (
            r#"{ dist = "uniform", min = "5ms", max = "50ms" }"#,
            LatencyDist::Uniform {
                min: 5 * MILLIS,
                max: 50 * MILLIS,
            },
        ),
        (
            r#"{ dist = "normal", mean = "35ms", stddev = "8ms" }"#,
            LatencyDist::Normal {
                mean: 35 * MILLIS,
                stddev: 8 * MILLIS,
            },
        ),
        (
            r#"{ dist = "lognormal", median = "15ms", p99 = "80ms" }"#,
            LatencyDist::LogNormal {
                median: 15 * MILLIS,
                p99: 80 * MILLIS,
            },
        ),
        (
            r#"{ dist = "pareto", scale = "20ms", shape = 1.5 }"#,
            LatencyDist::Pareto {
                scale: 20 * MILLIS,
                shape: 1.5,
            },
        ),
        (
            r#"{ dist = "pareto", scale = "20ms", shape = 2 }"#,
            LatencyDist::Pareto {
                scale: 20 * MILLIS,
                shape: 2.0,
            },
        ),
    ];
    for (text, want) in cases {
        let s = ok(&format!(
            "[scenario]\nname = \"d\"\nseed = 1\nduration = \"1m\"\n[[site]]\nname = \"a\"\n\
             latency = {text}\n[cameras]\ncount = 1\n"
        ));
        assert_eq!(s.sites[0].latency, want, "{text}");
    }
}

#[test]
fn distribution_errors() {
    let cases = [
        (
            r#"{ dist = "gauss", mean = "1ms" }"#,
            "unknown distribution `gauss`",
        ),
        (r#"{ dist = "fixed" }"#, "`dist = \"fixed\"` needs `value`"),
        (
            r#"{ dist = "fixed", value = "1ms", p99 = "2ms" }"#,
            "`p99` does not apply",
        ),
        (
            r#"{ dist = "uniform", min = "9ms", max = "5ms" }"#,
            "is below `min`",
        ),
        (
            r#"{ dist = "lognormal", median = "0s", p99 = "5ms" }"#,
            "`median` is 0s",
        ),
        (
            r#"{ dist = "lognormal", median = "9ms", p99 = "5ms" }"#,
            "is below `median`",
        ),
        (
            r#"{ dist = "pareto", scale = "1ms", shape = 0 }"#,
            "`shape` is 0",
        ),
        (
            r#"{ dist = "pareto", scale = "1ms", shape = "1.5" }"#,
            "invalid type",
        ),
        (
            r#"{ dist = "normal", mean = "1ms", stdev = "1ms" }"#,
            "unknown field `stdev`",
        ),
    ];
    for (text, want) in cases {
        let e = parse(
            &format!(
                "[scenario]\nname = \"d\"\nseed = 1\nduration = \"1m\"\n[[site]]\nname = \"a\"\n\
                 latency = {text}\n[cameras]\ncount = 1\n"
            ),
            "d.toml",
        )
        .expect_err(text)
        .to_string();
        assert!(e.contains(want), "{text}: {e}");
        assert!(e.starts_with("d.toml:7:"), "{text}: {e}");
    }
}

#[test]
fn camera_names_and_ranges() {
    assert_eq!(camera_name(7, 16), "cam-007");
    assert_eq!(camera_name(7, 1_000), "cam-0007");
    assert_eq!(camera_name(1_000, 1_000), "cam-1000");
    assert_eq!(camera_number("cam-016", 16), Some(16));
    assert_eq!(camera_number("cam-017", 16), None);
    assert_eq!(camera_number("cam-000", 16), None);
    assert_eq!(camera_number("cam-16", 16), None);
    assert_eq!(camera_number("cam-0016", 16), None);
    assert_eq!(camera_number("cam-0016", 1_000), Some(16));

    let s = with(
        r#"
[[session]]
camera = "cam-002..cam-004"
start = "1s"
stop = "2s"
[[session]]
camera = "*"
start = "3s"
[[click]]
camera = "cam-016"
at = "4s"
recording = false
"#,
    );
    let cams: Vec<usize> = s.sessions.iter().map(|x| x.camera).collect();
    let mut want = vec![1, 2, 3];
    want.extend(0..16);
    assert_eq!(cams, want);
    assert!(s.sessions[3..]
        .iter()
        .all(|x| x.start == 3 * SECS && x.stop.is_none()));
    assert_eq!(
        s.clicks,
        [ClickDef {
            camera: 15,
            at: 4 * SECS,
            recording: false
        }]
    );
    assert_eq!(s.camera_index("cam-016"), Some(15));

    // A 1,000-camera "record all" burst is one entry.
    let s = ok(r#"
[scenario]
name = "burst"
seed = 1
duration = "1m"
[[site]]
name = "a"
[cameras]
count = 1000
[[session]]
camera = "cam-0001..cam-1000"
start = "1s"
stop = "30s"
"#);
    assert_eq!(s.cameras[999], "cam-1000");
    assert_eq!(s.sessions.len(), 1_000);
}

#[test]
fn camera_errors() {
    for (sel, want) in [
        ("cam-017", "unknown camera `cam-017`"),
        ("cam-1", "unknown camera `cam-1`"),
        ("lobby", "unknown camera `lobby`"),
        ("cam-004..cam-002", "runs backwards"),
        ("cam-001..cam-099", "unknown camera `cam-099`"),
        ("cam-001..", "unknown camera ``"),
    ] {
        let e = parse(
            &format!("{HEAD}[[session]]\ncamera = \"{sel}\"\nstart = \"1s\"\n"),
            "c.toml",
        )
        .expect_err(sel)
        .to_string();
        assert!(e.contains(want), "{sel}: {e}");
        assert!(e.starts_with("c.toml:15:10:"), "{sel}: {e}");
    }
}

#[test]
fn flapping_faults_expand() {
    let s = with(
        r#"
[[fault]]
site = "primary"
kind = "down"
at = "10s"
for = "5s"
every = "30s"
until = "2m"
[[fault]]
kind = "engine_crash"
at = "15s"
for = "1s"
"#,
    );
    let got: Vec<(Option<usize>, &str, u64, u64)> = s
        .faults
        .iter()
        .map(|f| (f.site, f.kind.name(), f.at / SECS, f.duration / SECS))
        .collect();
    assert_eq!(
        got,
        [
            (Some(0), "down", 10, 5),
            (None, "engine_crash", 15, 1),
            (Some(0), "down", 40, 5),
            (Some(0), "down", 70, 5),
            (Some(0), "down", 100, 5),
        ]
    );

    // Without `until`: every repetition that fits in the duration.
    let s =
        with("[[fault]]\nsite = \"secondary\"\nkind = \"restart\"\nat = \"0s\"\nevery = \"1m\"\n");
    let ats: Vec<u64> = s.faults.iter().map(|f| f.at / SECS).collect();
    assert_eq!(ats, [0, 60, 120, 180, 240]);
    assert!(s
        .faults
        .iter()
        .all(|f| f.duration == 0 && f.site == Some(1)));
}

#[test]
fn fault_kinds_and_their_keys() {
    let s = with(
        r#"
[[fault]]
site = "primary"
kind = "slow"
at = "1s"
for = "10s"
latency = { dist = "fixed", value = "900ms" }
[[fault]]
site = "primary"
kind = "errors"
at = "2s"
for = "10s"
rate = 0.25
[[fault]]
site = "secondary"
kind = "stream_loss"
camera = "cam-003"
at = "3s"
for = "10s"
[[fault]]
site = "secondary"
kind = "token_expiry"
at = "4s"
[[fault]]
site = "secondary"
kind = "restart"
at = "5s"
for = "2s"
[[fault]]
site = "primary"
kind = "partition"
at = "6s"
for = "1s"
[[fault]]
site = "primary"
kind = "hang"
at = "7s"
for = "1s"
"#,
    );
    let kinds: Vec<FaultKind> = s.faults.iter().map(|f| f.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            FaultKind::Slow(LatencyDist::Fixed(900 * MILLIS)),
            FaultKind::Errors { rate: 0.25 },
            FaultKind::StreamLoss { camera: 2 },
            FaultKind::TokenExpiry,
            FaultKind::Restart,
            FaultKind::Partition,
            FaultKind::Hang,
        ]
    );
    assert_eq!(s.faults[3].duration, 0);
    assert_eq!(s.faults[4].end(), 7 * SECS);
    for name in FaultKind::NAMES {
        let k = match *name {
            "down" => FaultKind::Down,
            "partition" => FaultKind::Partition,
            "hang" => FaultKind::Hang,
            "slow" => FaultKind::Slow(LatencyDist::default()),
            "errors" => FaultKind::Errors { rate: 0.0 },
            "lost_replies" => FaultKind::LostReplies { rate: 0.0 },
            "restart" => FaultKind::Restart,
            "stream_loss" => FaultKind::StreamLoss { camera: 0 },
            "token_expiry" => FaultKind::TokenExpiry,
            _ => FaultKind::EngineCrash,
        };
        assert_eq!(k.name(), *name);
    }
}

#[test]
fn fault_errors() {
    let cases = [
        ("kind = \"down\"\nat = \"1s\"\nfor = \"1s\"", "needs `site`"),
        ("site = \"primary\"\nkind = \"token_expiry\"\nat = \"1s\"\nfor = \"1s\"", "`for` does not apply"),
        ("site = \"primary\"\nkind = \"engine_crash\"\nat = \"1s\"\nfor = \"1s\"", "`site` does not apply"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"1s\"\nfor = \"0s\"", "`for` is 0s"),
        ("site = \"primary\"\nkind = \"errors\"\nat = \"1s\"\nfor = \"1s\"", "needs `rate`"),
        ("site = \"primary\"\nkind = \"errors\"\nat = \"1s\"\nfor = \"1s\"\nrate = 1.5", "`rate` is 1.5"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"1s\"\nfor = \"1s\"\nrate = 0.5", "`rate` does not apply"),
        ("site = \"primary\"\nkind = \"slow\"\nat = \"1s\"\nfor = \"1s\"", "needs `latency`"),
        ("site = \"primary\"\nkind = \"stream_loss\"\nat = \"1s\"\nfor = \"1s\"", "needs `camera`"),
        ("site = \"primary\"\nkind = \"stream_loss\"\ncamera = \"*\"\nat = \"1s\"\nfor = \"1s\"", "takes one camera"),
        ("site = \"primary\"\nkind = \"melt\"\nat = \"1s\"", "unknown fault kind `melt`"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"4m\"\nfor = \"2m\"", "past the end of the scenario"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"1s\"\nfor = \"5s\"\nevery = \"5s\"", "`every` longer than `for`"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"1s\"\nfor = \"5s\"\nuntil = \"1m\"", "only together with `every`"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"1s\"\nfor = \"5s\"\nevery = \"1m\"\nuntil = \"6m\"", "`until` (6m) is after the end"),
        ("site = \"primary\"\nkind = \"down\"\nat = \"40s\"\nfor = \"30s\"\nevery = \"1m\"\nuntil = \"5m\"", "the repetition at 4m40s runs until 5m10s"),
    ];
    for (body, want) in cases {
        let e = parse(&format!("{HEAD}[[fault]]\n{body}\n"), "f.toml")
            .expect_err(body)
            .to_string();
        assert!(e.contains(want), "{body}: {e}");
    }
}

#[test]
fn policy_overrides() {
    let s = with(
        "[policy]\nrequest_timeout = \"750ms\"\nfailures_before_down = 3\nrenew_before = \"1m\"\n",
    );
    assert_eq!(
        s.policy,
        Policy {
            request_timeout: 750 * MILLIS,
            failures_before_down: 3,
            renew_before: MIN,
            ..Policy::default()
        }
    );
    let e = parse(&format!("{HEAD}[policy]\nretry_max = \"10ms\"\n"), "p.toml").unwrap_err();
    assert!(e
        .to_string()
        .contains("`retry_max` (10ms) is below `retry_initial` (100ms)"));
    let e = parse(
        &format!("{HEAD}[policy]\nfailures_before_down = 0\n"),
        "p.toml",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("p.toml:15:24:"), "{e}");
}

#[test]
fn guarantees_in_the_file() {
    let s = with(
        r#"
[guarantees]
"start_latency.secondary.p99" = "< 250ms"
"lost_intents.count" = "== 0"
"dual_start_latency.max" = "<= 1.5s"
"#,
    );
    let g: Vec<(&str, Option<&str>, Stat, Cmp, Threshold)> = s
        .guarantees
        .iter()
        .map(|g| {
            (
                g.metric.as_str(),
                g.site.as_deref(),
                g.stat,
                g.cmp,
                g.threshold,
            )
        })
        .collect();
    assert_eq!(
        g,
        [
            (
                "start_latency",
                Some("secondary"),
                Stat::P99,
                Cmp::Lt,
                Threshold::Duration(250 * MILLIS)
            ),
            (
                "lost_intents",
                None,
                Stat::Count,
                Cmp::Eq,
                Threshold::Count(0.0)
            ),
            (
                "dual_start_latency",
                None,
                Stat::Max,
                Cmp::Le,
                Threshold::Duration(1_500 * MILLIS)
            ),
        ]
    );
}

#[test]
fn workload_checks() {
    let w = |extra: &str| {
        format!(
            "{HEAD}[[workload]]\ncameras = \"*\"\narrivals = {{ per_minute = 6 }}\n\
             length = {{ dist = \"fixed\", value = \"1s\" }}\n{extra}"
        )
    };
    let s = ok(&w("from = \"1m\"\nuntil = \"2m\"\n"));
    assert_eq!((s.workloads[0].from, s.workloads[0].until), (MIN, 2 * MIN));
    for (extra, want) in [
        ("from = \"2m\"\nuntil = \"1m\"\n", "is empty"),
        ("until = \"6m\"\n", "after the end of the scenario"),
    ] {
        let e = parse(&w(extra), "w.toml").unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    let e = parse(
        &format!(
            "{HEAD}[[workload]]\ncameras = \"*\"\narrivals = {{ per_minute = -1 }}\n\
             length = {{ dist = \"fixed\", value = \"1s\" }}\n"
        ),
        "w.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`per_minute` is -1"), "{e}");
}

#[test]
fn load_names_the_file_on_io_errors() {
    let e = load(std::path::Path::new("/nonexistent/dir/s.toml")).unwrap_err();
    assert!(matches!(e, ScenarioError::Io { .. }));
    assert!(e
        .to_string()
        .starts_with("/nonexistent/dir/s.toml: cannot read the scenario file: "));
    let dir = tempfile::tempdir().expect("a temp dir for the test");
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, FULL_EXAMPLE).expect("writing the temp file");
    assert_eq!(load(&path).expect("valid").name, "primary-down-mid-session");
}

#[test]
fn never_panics_on_truncated_input() {
    // Every prefix of a valid file either parses or is an located error.
    let mut cut = 0;
    while cut <= FULL_EXAMPLE.len() {
        if FULL_EXAMPLE.is_char_boundary(cut) {
            if let Err(e) = parse(&FULL_EXAMPLE[..cut], "p.toml") {
                assert!(e.location().is_some(), "{e}");
            }
        }
        cut += 1;
    }
}

// ---- error message snapshots ----

#[test]
fn snapshot_unknown_key() {
    insta::assert_snapshot!(show_with(
        "\n[[site]]\nname = \"tertiary\"\nlatnecy = { dist = \"fixed\", value = \"1ms\" }\n"
    ));
}

#[test]
fn snapshot_unknown_top_level_table() {
    insta::assert_snapshot!(show_with("\n[[sessions]]\ncamera = \"cam-001\"\n"));
}

#[test]
fn snapshot_bad_duration() {
    insta::assert_snapshot!(show(
        "[scenario]\nname = \"t\"\nseed = 1\nduration = \"5 minutes\"\n"
    ));
}

#[test]
fn snapshot_duration_not_a_string() {
    insta::assert_snapshot!(show("[scenario]\nname = \"t\"\nseed = 1\nduration = 300\n"));
}

#[test]
fn snapshot_unknown_site_in_fault() {
    insta::assert_snapshot!(show_with(
        "\n[[fault]]\nsite = \"primry\"\nkind = \"down\"\nat = \"40s\"\nfor = \"45s\"\n"
    ));
}

#[test]
fn snapshot_unknown_camera() {
    insta::assert_snapshot!(show_with(
        "\n[[session]]\ncamera = \"cam-017\"\nstart = \"10s\"\n"
    ));
}

#[test]
fn snapshot_stop_before_start() {
    insta::assert_snapshot!(show_with(
        "\n[[session]]\ncamera = \"cam-001\"\nstart = \"2m\"\nstop = \"1m30s\"\n"
    ));
}

#[test]
fn snapshot_overlapping_sessions() {
    insta::assert_snapshot!(show_with(
        "\n[[session]]\ncamera = \"cam-001..cam-004\"\nstart = \"10s\"\nstop = \"1m\"\n\
         \n[[session]]\ncamera = \"cam-003\"\nstart = \"30s\"\n"
    ));
}

#[test]
fn snapshot_bad_guarantee_key() {
    insta::assert_snapshot!(show_with(
        "\n[guarantees]\n\"union_gap.max\" = \"== 0s\"\n\"start_latency.p98\" = \"< 300ms\"\n"
    ));
}

#[test]
fn snapshot_guarantee_unknown_site() {
    insta::assert_snapshot!(show_with(
        "\n[guarantees]\n\"start_latency.tertiary.p99\" = \"< 300ms\"\n"
    ));
}

#[test]
fn snapshot_bad_comparison() {
    insta::assert_snapshot!(show_with(
        "\n[guarantees]\n\"start_skew.p99\" = \"=< 100ms\"\n"
    ));
}

#[test]
fn snapshot_unquoted_guarantee_key() {
    insta::assert_snapshot!(show_with("\n[guarantees]\nstart_skew.p99 = \"< 100ms\"\n"));
}

#[test]
fn snapshot_toml_syntax_error() {
    insta::assert_snapshot!(show(
        "[scenario]\nname = \"t\"\nseed = 1\nduration = \"5m\n"
    ));
}

#[test]
fn snapshot_missing_for() {
    insta::assert_snapshot!(show_with(
        "\n[[fault]]\nsite = \"primary\"\nkind = \"partition\"\nat = \"40s\"\n"
    ));
}

#[test]
fn snapshot_fault_beyond_duration() {
    insta::assert_snapshot!(show_with(
        "\n[[fault]]\nsite = \"primary\"\nkind = \"down\"\nat = \"4m\"\nfor = \"2m\"\n"
    ));
}

#[test]
fn snapshot_rate_out_of_range() {
    insta::assert_snapshot!(show_with(
        "\n[[fault]]\nsite = \"primary\"\nkind = \"errors\"\nat = \"4s\"\nfor = \"2s\"\nrate = 30\n"
    ));
}

#[test]
fn snapshot_dist_key_mismatch() {
    insta::assert_snapshot!(show_with(
        "\n[[workload]]\ncameras = \"*\"\narrivals = { per_minute = 6 }\n\
         length = { dist = \"lognormal\", median = \"90s\", stddev = \"10m\" }\n"
    ));
}

#[test]
fn snapshot_missing_required_key() {
    insta::assert_snapshot!(show("[scenario]\nname = \"t\"\nduration = \"5m\"\n"));
}

#[test]
fn snapshot_unknown_policy_key() {
    insta::assert_snapshot!(show_with("\n[policy]\nrequest_timout = \"2s\"\n"));
}

/// `HEAD` with a real-mode scale and `extra` in `[scenario]`, then `tail`.
fn real(scale: &str, extra: &str, tail: &str) -> String {
    HEAD.replacen(
        "duration = \"5m\"\n",
        &format!("duration = \"5m\"\nreal_time_scale = {scale}\n{extra}"),
        1,
    ) + tail
}

#[test]
fn a_guarantee_the_real_tolerance_swallows_is_refused_for_real_runs() {
    let text = real(
        "0.05",
        "",
        "[guarantees]\n\"start_latency.p50\" = \"< 30ms\"\n\"union_gap.max\" = \"== 0s\"\n\
         \"recovery_time.max\" = \"< 3s\"\n",
    );
    let s = ok(&text);
    // The default 25 ms at a twentieth of real time is ±500 ms of written
    // time: `< 30ms` would check `< 530ms`. `== 0s` (still catches every
    // gap longer than the tolerance) and `< 3s` are fine.
    assert_eq!(s.real_mode_errors.len(), 1, "{:?}", s.real_mode_errors);
    let e = &s.real_mode_errors[0];
    assert!(e.starts_with("ok.toml:16:23: "), "{e}");
    assert!(e.contains("`start_latency.p50 < 30ms`"), "{e}");
    assert!(e.contains("±500ms"), "{e}");
    assert!(e.contains("real_time_scale >= 0.84"), "{e}");
    assert!(e.contains("real_unchecked"), "{e}");
    // A larger scale checks it for real.
    assert!(ok(&text.replace("0.05", "0.84"))
        .real_mode_errors
        .is_empty());
}

#[test]
fn real_unchecked_guarantees_are_left_to_virtual_time() {
    let s = ok(&real(
        "0.05",
        "real_unchecked = [\"start_latency.p50\"]\n",
        "[guarantees]\n\"start_latency.p50\" = \"< 30ms\"\n\"lost_intents.count\" = \"== 0\"\n",
    ));
    assert!(s.real_mode_errors.is_empty(), "{:?}", s.real_mode_errors);
    assert_eq!(s.guarantees.len(), 2, "virtual runs check both");
    let keys: Vec<String> = s
        .real_mode_guarantees()
        .into_iter()
        .map(|g| g.key)
        .collect();
    assert_eq!(keys, ["lost_intents.count"]);
}

#[test]
fn real_unchecked_names_only_guarantees_of_the_file() {
    let e = show(&real(
        "0.05",
        "real_unchecked = [\"start_latency.p99\"]\n",
        "[guarantees]\n\"start_latency.p50\" = \"< 30ms\"\n",
    ));
    assert!(e.starts_with("bad.toml:6:19: "), "{e}");
    assert!(e.contains("expected one of: start_latency.p50"), "{e}");
}

#[test]
fn a_threshold_below_the_real_tolerance_itself_needs_real_unchecked() {
    // 25 ms of wall-clock jitter is more than a 10 ms threshold at any scale.
    let s = ok(&real(
        "1.0",
        "",
        "[guarantees]\n\"start_skew.p99\" = \"< 10ms\"\n",
    ));
    let e = &s.real_mode_errors[0];
    assert!(e.contains("even at real_time_scale 1"), "{e}");
    assert!(e.contains("smaller `real_tolerance`"), "{e}");
}

#[test]
fn camera_settings_apply_per_camera_and_site() {
    let s = with(
        r#"
[[camera_settings]]
cameras = "cam-001..cam-002"
manual_recording_max = "1m"
[[camera_settings]]
cameras = "cam-003"
site = "secondary"
manual_recording_max = "off"
prebuffer = "1s"
"#,
    );
    assert_eq!(s.camera_settings.len(), 2);
    let on = |site| s.camera_settings_on(site);
    assert_eq!(on(0)[0].manual_recording_max, Some(Some(60 * SECS)));
    assert_eq!(on(1)[1].manual_recording_max, Some(Some(60 * SECS)));
    assert_eq!(
        on(0)[2],
        Default::default(),
        "the primary keeps its defaults"
    );
    assert_eq!(on(1)[2].manual_recording_max, Some(None));
    assert_eq!(on(1)[2].prebuffer, Some(SECS));
}

#[test]
fn camera_settings_errors() {
    for (body, at, want) in [
        (
            "cameras = \"cam-001\"\nsite = \"tertiary\"\nprebuffer = \"1s\"\n",
            "c.toml:16:8:",
            "unknown site `tertiary`",
        ),
        (
            "cameras = \"cam-001\"\nmanual_recording_max = \"0s\"\n",
            "c.toml:16:24:",
            "`manual_recording_max` is 0s",
        ),
        ("cameras = \"cam-001\"\n", "c.toml:14:1:", "sets nothing"),
        (
            "cameras = \"cam-099\"\nprebuffer = \"1s\"\n",
            "c.toml:15:11:",
            "unknown camera `cam-099`",
        ),
        (
            "cameras = \"cam-001\"\nprebuffer = \"soon\"\n",
            "c.toml:16:13:",
            "duration",
        ),
    ] {
        let e = parse(&format!("{HEAD}[[camera_settings]]\n{body}"), "c.toml")
            .expect_err(body)
            .to_string();
        assert!(e.contains(want), "{body}: {e}");
        assert!(e.starts_with(at), "{body}: {e}");
    }
    let twice = format!(
        "{HEAD}[[camera_settings]]\ncameras = \"cam-001..cam-004\"\nprebuffer = \"1s\"\n\
         [[camera_settings]]\ncameras = \"cam-004\"\nsite = \"primary\"\nprebuffer = \"2s\"\n"
    );
    let e = parse(&twice, "c.toml").expect_err("twice").to_string();
    assert!(
        e.starts_with("c.toml:18:11:") && e.contains("camera `cam-004` already has `prebuffer`"),
        "{e}"
    );
    assert!(e.contains("at line 14"), "{e}");
}
