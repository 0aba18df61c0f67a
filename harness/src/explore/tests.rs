//! The explorer's proof: planted engine bugs are found and shrunk to a few
//! events, the written reproducer reads back and still fails, findings do
//! not depend on threads, and the healthy engine passes a few hundred
//! worlds.

use engine::core::Sabotage;

use super::generate::{self, schedule_fits, FaultRule, Knobs};
use super::*;
use crate::scenario;

/// A 5-minute, 16-camera base with a short auto-stop and pre-buffer on the
/// primary (so a missing renewal shows in the footage).
const BASE: &str = r#"
[scenario]
name = "explore-base"
seed = 3
duration = "5m"

[[site]]
name = "primary"
latency = { dist = "lognormal", median = "15ms", p99 = "80ms" }
manual_recording_max = "2m"
prebuffer = "1s"

[[site]]
name = "secondary"
latency = { dist = "normal", mean = "35ms", stddev = "8ms" }
manual_recording_max = "2m"
prebuffer = "1s"

[cameras]
count = 16

[[workload]]
cameras = "*"
arrivals = { per_minute = 6 }
length = { dist = "lognormal", median = "90s", p99 = "10m" }

[guarantees]
"dual_start_latency.p99" = "< 150ms"
"union_gap.max" = "== 0s"
"lost_intents.count" = "== 0"
"#;

fn base() -> Scenario {
    scenario::parse(BASE, "base.toml").expect("the test base is valid")
}

fn config(runs: u64, seed: u64, sabotage: Sabotage) -> Config {
    Config {
        runs,
        seed,
        threads: 2,
        sabotage,
        ..Config::default()
    }
}

#[test]
fn generated_worlds_round_trip_through_the_file_format() {
    let base = base();
    for rule in [FaultRule::OneSiteHealthy, FaultRule::AnyOutage] {
        for intensity in [0.5, 1.0, 3.0] {
            let knobs = Knobs {
                intensity,
                rule,
                ..Knobs::default()
            };
            for i in 0..150 {
                let w = generate::world(&base, &knobs, world_seed(9, i), i);
                let text = to_toml(&w).expect("generated worlds are expressible");
                let back = scenario::parse(&text, "world.toml")
                    .unwrap_or_else(|e| panic!("world {i} does not parse: {e}\n{text}"));
                assert_eq!(back, w, "world {i} reads back differently:\n{text}");
            }
        }
    }
}

#[test]
fn safe_schedules_keep_one_site_healthy() {
    let base = base();
    let knobs = Knobs {
        intensity: 3.0,
        rule: FaultRule::OneSiteHealthy,
        ..Knobs::default()
    };
    let mut faults = 0;
    for i in 0..300 {
        let w = generate::world(&base, &knobs, world_seed(4, i), i);
        assert!(
            schedule_fits(&w.faults, &w.sites),
            "world {i}: {:?}",
            w.faults
        );
        faults += w.faults.len();
    }
    assert!(faults > 300, "intensity 3 makes faults ({faults})");
}

#[test]
fn same_seed_same_findings_whatever_the_threads() {
    let base = base();
    let sabotage = Sabotage {
        no_reassert: true,
        ..Sabotage::default()
    };
    let summary = |threads: usize| {
        let cfg = Config {
            threads,
            ..config(120, 5, sabotage)
        };
        let r = explore(&base, &cfg, |_| {});
        (
            r.violating_runs,
            r.findings
                .iter()
                .map(|f| {
                    (
                        f.key.clone(),
                        f.first_run,
                        f.count,
                        to_toml(&f.minimal).unwrap(),
                    )
                })
                .collect::<Vec<_>>(),
        )
    };
    let one = summary(1);
    assert!(!one.1.is_empty(), "the planted bug is found");
    assert_eq!(summary(2), one);
    assert_eq!(summary(3), one);
}

/// Explores with `sabotage`, expects a finding on `key`, shrunk small, and
/// checks that the written file reproduces it.
fn planted(sabotage: Sabotage, key: &str, runs: u64) {
    planted_within(sabotage, key, runs, 2);
}

/// [`planted`] allowing up to `max_faults` faults in the reproducer (a
/// hand-over bug needs the other site out *and* a fault at the hand-over,
/// sometimes a third that brings the two together; the timer bug needs a
/// cut-off Start, a token expiry and the other site out when the timer
/// runs out).
fn planted_within(sabotage: Sabotage, key: &str, runs: u64, max_faults: usize) {
    planted_seeded(sabotage, key, runs, max_faults, 1);
}

/// [`planted_within`] exploring from `seed`.
fn planted_seeded(sabotage: Sabotage, key: &str, runs: u64, max_faults: usize, seed: u64) {
    planted_on(&base(), sabotage, key, runs, max_faults, seed);
}

/// [`planted_seeded`] on another base.
fn planted_on(
    base: &Scenario,
    sabotage: Sabotage,
    key: &str,
    runs: u64,
    max_faults: usize,
    seed: u64,
) {
    let r = explore(base, &config(runs, seed, sabotage), |_| {});
    let f = r.findings.iter().find(|f| f.key == key).unwrap_or_else(|| {
        panic!(
            "`{key}` not found in {runs} worlds; found {:?}",
            r.findings.iter().map(|f| &f.key).collect::<Vec<_>>()
        )
    });
    let m = &f.minimal;
    eprintln!("{}", to_toml(m).unwrap_or_default());
    let events = m.faults.len() + m.sessions.len() + m.clicks.len();
    assert!(m.faults.len() <= max_faults, "{} faults", m.faults.len());
    assert!(m.cameras.len() <= 4, "{} cameras", m.cameras.len());
    assert!(events <= 8, "{events} events:\n{}", to_toml(m).unwrap());
    assert!(m.workloads.is_empty());

    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("{}.toml", m.name));
    std::fs::write(&path, to_toml(m).expect("expressible")).expect("writable");
    let loaded = scenario::load(&path).expect("the reproducer is a valid scenario");
    assert_eq!(&loaded, m);
    assert_eq!(check(&loaded, sabotage).violations, vec![key.to_string()]);
    let report = report(&loaded, sabotage).expect("the reproducer runs");
    assert!(!report.passed);
    assert!(report
        .verdicts
        .iter()
        .any(|v| v.key == key && is_violation(v)));
}

#[test]
fn planted_missing_reassertion_is_found_and_shrunk() {
    planted(
        Sabotage {
            no_reassert: true,
            ..Sabotage::default()
        },
        "recovery_time.max",
        300,
    );
}

#[test]
fn planted_missing_renewal_is_found_and_shrunk() {
    planted(
        Sabotage {
            no_renewal: true,
            ..Sabotage::default()
        },
        "union_gap.max",
        300,
    );
}

#[test]
fn the_healthy_engine_passes_a_few_hundred_worlds() {
    let base = base();
    let r = explore(&base, &config(300, 2, Sabotage::default()), |_| {});
    assert_eq!(r.runs, 300);
    assert!(
        r.findings.is_empty(),
        "{:?}",
        r.findings
            .iter()
            .map(|f| (&f.key, f.first_run, to_toml(&f.minimal).unwrap()))
            .collect::<Vec<_>>()
    );
    let r = explore(
        &base,
        &Config {
            knobs: Knobs {
                intensity: 2.0,
                rule: FaultRule::AnyOutage,
                ..Knobs::default()
            },
            ..config(200, 2, Sabotage::default())
        },
        |_| {},
    );
    assert!(
        r.findings.is_empty(),
        "{:?}",
        r.findings.first().map(|f| to_toml(&f.minimal))
    );
}

/// Waiting for every time-out is found where the time-out is long (5 s, a
/// slow WAN): a Start lost in a short partition or behind a lost reply
/// holds its camera back past the reaction time.
#[test]
fn planted_patient_requests_is_found_and_shrunk() {
    let text = format!("{BASE}\n[policy]\nrequest_timeout = \"5s\"\n");
    let slow_wan = scenario::parse(&text, "base.toml").expect("the test base is valid");
    planted_on(
        &slow_wan,
        Sabotage {
            patient_requests: true,
            ..Sabotage::default()
        },
        "recovery_time.max",
        3000,
        2,
        1,
    );
}

#[test]
fn planted_young_timer_is_found_and_shrunk() {
    planted_within(
        Sabotage {
            young_timer: true,
            ..Sabotage::default()
        },
        "union_gap.max",
        3000,
        4,
    );
}

#[test]
fn planted_abandoned_handover_is_found_and_shrunk() {
    planted_within(
        Sabotage {
            abandon_handover: true,
            ..Sabotage::default()
        },
        "union_gap.max",
        3000,
        3,
    );
}

#[test]
fn planted_careless_handover_is_found_and_shrunk() {
    // Seed 2: since a health probe lost in a partition no longer holds the
    // next one back, the hand-over moments this bug needs (a site just back,
    // a renewal due) are rarer, and the 3,000 worlds of seed 1 miss them;
    // seeds 2, 4 and 6 find and shrink it.
    planted_seeded(
        Sabotage {
            careless_handover: true,
            ..Sabotage::default()
        },
        "union_gap.max",
        3000,
        3,
        2,
    );
}

/// The scenarios that pin the hand-over fixes hold on the engine and fail
/// with the matching bug planted: they are not vacuous.
#[test]
fn pinning_scenarios_fail_on_their_planted_bug() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let cases = [
        (
            "lost-start-reply.toml",
            Sabotage {
                young_timer: true,
                ..Sabotage::default()
            },
        ),
        (
            "stop-click-in-renewal.toml",
            Sabotage {
                abandon_handover: true,
                ..Sabotage::default()
            },
        ),
        (
            "handover-token-expiry.toml",
            Sabotage {
                careless_handover: true,
                ..Sabotage::default()
            },
        ),
        (
            "handover-lost-stop-reply.toml",
            Sabotage {
                careless_handover: true,
                ..Sabotage::default()
            },
        ),
    ];
    for (file, sabotage) in cases {
        let s = scenario::load(&root.join(file)).expect("a valid scenario");
        let healthy = check(&s, Sabotage::default());
        assert!(
            healthy.violations.is_empty(),
            "{file}: {:?}",
            healthy.violations
        );
        let broken = check(&s, sabotage);
        assert!(
            broken.violations.iter().any(|k| k.starts_with("union_gap")),
            "{file} holds with {sabotage:?}: {:?}",
            broken.violations
        );
    }
}

/// README's "Guarantees that can fail", checked: every suite scenario runs
/// with each planted bug, and exactly the scenarios the table lists for a
/// bug fail their own guarantees with it (the suite run shows they hold
/// without it). A change here is a change to that table.
#[test]
fn guarantees_that_can_fail_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("the scenarios folder")
        .filter_map(|e| {
            let p = e.expect("a folder entry").path();
            p.extension().is_some_and(|x| x == "toml").then_some(p)
        })
        .collect();
    files.sort();
    let scenarios: Vec<(String, Scenario)> = files
        .iter()
        .map(|f| {
            let name = f
                .file_stem()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, scenario::load(f).expect("a valid scenario"))
        })
        .collect();
    let off = Sabotage::default;
    let table: [(Sabotage, &[&str]); 8] = [
        (
            Sabotage {
                no_renewal: true,
                ..off()
            },
            &[
                "handover-token-expiry",
                "long-session-autostop",
                "lost-start-reply",
                "overtaken-stop-partition",
                "per-camera-auto-stop",
            ],
        ),
        (
            Sabotage {
                no_drift_probes: true,
                ..off()
            },
            &["recorder-restart"],
        ),
        (
            Sabotage {
                no_reassert: true,
                ..off()
            },
            &["hung-site"],
        ),
        (
            Sabotage {
                no_reconcile: true,
                ..off()
            },
            &[
                "click-races",
                "flaky-errors",
                "flapping-site",
                "handover-lost-stop-reply",
                "happy-path",
                "leader-dies-long-sessions",
                "leader-dies-site-down",
                "long-session-autostop",
                "lost-start-reply",
                "overtaken-stop-partition",
                "per-camera-auto-stop",
                "slow-site-tail",
                "stop-click-in-renewal",
                "wrong-password-no-lockout",
            ],
        ),
        (
            Sabotage {
                young_timer: true,
                ..off()
            },
            &["lost-start-reply"],
        ),
        (
            Sabotage {
                abandon_handover: true,
                ..off()
            },
            &["stop-click-in-renewal"],
        ),
        (
            Sabotage {
                careless_handover: true,
                ..off()
            },
            &["handover-lost-stop-reply", "handover-token-expiry"],
        ),
        (
            Sabotage {
                patient_requests: true,
                ..off()
            },
            &["partition-swallows-start", "start-click-behind-lost-stop"],
        ),
    ];
    for (sabotage, expected) in table {
        let failing: Vec<&str> = scenarios
            .iter()
            .filter(|(_, s)| !check(s, sabotage).violations.is_empty())
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            failing, expected,
            "with {sabotage:?}: update README's \"Guarantees that can fail\""
        );
    }
}

/// A mild fault is mild only where a hand-over struck by it still fits the
/// pre-buffer: on a far site it counts as an outage.
#[test]
fn mild_faults_are_mild_only_on_sites_with_room_for_them() {
    use crate::scenario::FaultKind;
    use engine::core::{MILLIS, SECS};
    use sim::world::latency::LatencyDist;
    let near = crate::scenario::SiteDef {
        latency: LatencyDist::Fixed(15 * MILLIS),
        prebuffer: 3 * SECS,
        ..base().sites[0].clone()
    };
    // 200 ms one way: six trips (1.2 s) outgrow a 1 s pre-buffer.
    let far = crate::scenario::SiteDef {
        latency: LatencyDist::Fixed(200 * MILLIS),
        prebuffer: SECS,
        ..near.clone()
    };
    for kind in [FaultKind::TokenExpiry, FaultKind::LostReplies { rate: 0.3 }] {
        assert_eq!(generate::class(&kind, Some(&near)), generate::Class::Mild);
        assert_eq!(generate::class(&kind, Some(&far)), generate::Class::Outage);
    }
    // 177 ms one way, 2 s pre-buffer: room for a re-login, but only four
    // Starts, which 30 % errors all fail once in 120 hand-overs.
    let middling = crate::scenario::SiteDef {
        latency: LatencyDist::Fixed(177 * MILLIS),
        prebuffer: 2 * SECS,
        ..near.clone()
    };
    assert_eq!(
        generate::class(&FaultKind::TokenExpiry, Some(&middling)),
        generate::Class::Mild
    );
    let errors = FaultKind::Errors { rate: 0.3 };
    assert_eq!(
        generate::class(&errors, Some(&middling)),
        generate::Class::Outage
    );
    assert_eq!(generate::class(&errors, Some(&near)), generate::Class::Mild);
    // A 400 ms slow link: room in a 3 s pre-buffer, none in a 2 s one.
    let slow = FaultKind::Slow(LatencyDist::Fixed(400 * MILLIS));
    assert_eq!(generate::class(&slow, Some(&near)), generate::Class::Mild);
    let short = crate::scenario::SiteDef {
        prebuffer: 2 * SECS,
        ..near.clone()
    };
    assert_eq!(
        generate::class(&slow, Some(&short)),
        generate::Class::Outage
    );
}

/// An outage leaves the other site to carry the evidence alone: only where
/// that site's renewals and clicks fit its pre-buffer even when one trip is
/// a one-in-ten-million one (explorer world 686 of seed 11 on
/// `slow-site-tail`).
#[test]
fn an_outage_needs_the_other_site_to_cover_alone() {
    use crate::scenario::{FaultDef, FaultKind, SiteDef};
    use engine::core::{MILLIS, SECS};
    use sim::world::latency::LatencyDist;
    let near = SiteDef {
        latency: LatencyDist::LogNormal {
            median: 15 * MILLIS,
            p99: 80 * MILLIS,
        },
        prebuffer: SECS,
        ..base().sites[0].clone()
    };
    let far = SiteDef {
        latency: LatencyDist::LogNormal {
            median: 60 * MILLIS,
            p99: 2 * SECS,
        },
        prebuffer: 2 * SECS,
        ..near.clone()
    };
    // 15 ms · e^(0.72 · 5.2) ≈ 630 ms, plus a 15 ms trip: inside 1 s.
    assert!(generate::covers_alone(&near, &near.latency));
    // 60 ms · e^(1.5 · 5.2) ≈ 150 s: no pre-buffer holds that.
    assert!(!generate::covers_alone(&far, &far.latency));
    let outage = |site: usize, at: u64| FaultDef {
        site: Some(site),
        kind: FaultKind::Down,
        at: at * SECS,
        duration: 10 * SECS,
    };
    let both_near = [near.clone(), near.clone()];
    let near_far = [near.clone(), far.clone()];
    assert!(schedule_fits(&[outage(0, 10)], &both_near));
    // The primary out leaves the far site alone; the far site out is fine.
    assert!(!schedule_fits(&[outage(0, 10)], &near_far));
    assert!(schedule_fits(&[outage(1, 10)], &near_far));
    // A slow link on the site left alone takes its cover away too: mild on
    // its own (six 160 ms trips fit 1 s), but its tail is long (5 ms ·
    // e^(1.48 · 5.2) ≈ 11 s).
    let tail_kind = FaultKind::Slow(LatencyDist::LogNormal {
        median: 5 * MILLIS,
        p99: 160 * MILLIS,
    });
    assert_eq!(
        generate::class(&tail_kind, Some(&near)),
        generate::Class::Mild
    );
    let slow = FaultDef {
        site: Some(1),
        kind: tail_kind,
        at: 12 * SECS,
        duration: 5 * SECS,
    };
    assert!(!schedule_fits(&[outage(0, 10), slow.clone()], &both_near));
    assert!(schedule_fits(&[outage(0, 40), slow], &both_near));
}

/// A site's next fault waits for the previous one's recovery: the margin,
/// or the world's recovery bound where the links are slower (a 2 s p99
/// tail: 3 s + 3 · 2 s = 9 s), so each fault's recovery is measured alone.
#[test]
fn a_sites_faults_are_spaced_by_the_worlds_recovery_bound() {
    use crate::scenario::{FaultDef, FaultKind, SiteDef};
    use engine::core::{MILLIS, SECS};
    use sim::world::latency::LatencyDist;
    let near = base().sites[0].clone();
    let far = SiteDef {
        latency: LatencyDist::LogNormal {
            median: 60 * MILLIS,
            p99: 2 * SECS,
        },
        ..near.clone()
    };
    let restart = |at: Nanos| FaultDef {
        site: Some(1),
        kind: FaultKind::Restart,
        at,
        duration: 0,
    };
    let near_far = [near.clone(), far];
    assert_eq!(generate::recovery_bound(&near_far), 9 * SECS);
    assert!(!schedule_fits(
        &[restart(10 * SECS), restart(15 * SECS)],
        &near_far
    ));
    assert!(schedule_fits(
        &[restart(10 * SECS), restart(19 * SECS + MILLIS)],
        &near_far
    ));
    // Fast links keep the 5 s margin.
    let both_near = [near.clone(), near];
    assert!(schedule_fits(
        &[restart(10 * SECS), restart(15 * SECS + MILLIS)],
        &both_near
    ));
}

/// The summary of one (sharded or whole) exploration, with findings'
/// measured figures left out (they come from the reproducers' reports).
fn summary_of(base: &Scenario, cfg: &Config) -> (summary::Summary, Exploration) {
    let r = explore(base, cfg, |_| {});
    let findings = r
        .findings
        .iter()
        .map(|f| summary::FindingSummary::new(f, None))
        .collect();
    (
        summary::Summary::new(&base.name, "digest", cfg, &r, findings),
        r,
    )
}

#[test]
fn shards_merge_into_exactly_what_one_machine_finds() {
    let base = base();
    let sabotage = Sabotage {
        no_reassert: true,
        no_renewal: true,
        ..Sabotage::default()
    };
    let whole_cfg = Config {
        shrink_budget: 300,
        ..config(90, 5, sabotage)
    };
    let (whole, whole_run) = summary_of(&base, &whole_cfg);
    assert!(
        whole.findings.len() >= 2,
        "two planted bugs give at least two keys: {:?}",
        whole.findings
    );

    let shard = |index| Config {
        shard: Some(crate::shard::Shard { index, count: 4 }),
        ..whole_cfg.clone()
    };
    let runs: Vec<(summary::Summary, Exploration)> =
        [3, 1, 4, 2].map(|i| summary_of(&base, &shard(i))).into();
    let tried: Vec<u64> = runs.iter().map(|(s, _)| s.worlds_tried).collect();
    assert_eq!(tried, vec![22, 23, 22, 23], "worlds i ≡ I-1 (mod 4) of 90");
    let parts: Vec<summary::Summary> = runs.iter().map(|(s, _)| s.clone()).collect();
    let merged = summary::merge(&parts).expect("four shards of one exploration merge");

    let m = &merged.summary;
    assert_eq!(
        m.findings, whole.findings,
        "same keys, order, worlds and names"
    );
    assert_eq!(m.violating_worlds, whole.violating_worlds);
    assert_eq!(m.worlds_tried, 90);
    assert_eq!(m.steps, whole.steps);
    assert_eq!(m.shard, None);
    let shard_names: Vec<&str> = m.shards.iter().map(|s| s.shard.as_str()).collect();
    assert_eq!(shard_names, ["1/4", "2/4", "3/4", "4/4"]);
    // Each reproducer comes from the shard that owned the lowest world,
    // and is — once renamed — the one machine's reproducer.
    for (rename, f) in merged.renames.iter().zip(&whole_run.findings) {
        let (_, run) = &runs[rename.part];
        let mut carried = run
            .findings
            .iter()
            .find(|g| g.minimal.name == rename.from)
            .expect("the rename names a finding of its shard")
            .minimal
            .clone();
        carried.name = rename.to.clone();
        assert_eq!(carried, f.minimal, "reproducer of `{}`", f.key);
    }
}

#[test]
fn shards_of_different_explorations_or_an_incomplete_set_do_not_merge() {
    let base = base();
    let cfg = |index, count, seed| Config {
        shard: Some(crate::shard::Shard { index, count }),
        ..config(12, seed, Sabotage::default())
    };
    let part = |index, count, seed| summary_of(&base, &cfg(index, count, seed)).0;
    let (a, b, c) = (part(1, 3, 1), part(2, 3, 1), part(3, 3, 1));

    let missing = summary::merge(&[a.clone(), c.clone()]).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "shard 2/3 is missing: the worlds i with i mod 3 == 1 were not tried"
    );
    let twice = summary::merge(&[a.clone(), b.clone(), a.clone(), c.clone()]).unwrap_err();
    assert!(
        matches!(
            twice,
            summary::MergeError::Duplicate {
                first: 1,
                second: 3,
                ..
            }
        ),
        "{twice}"
    );
    let other_seed = summary::merge(&[a.clone(), part(2, 3, 2), c.clone()]).unwrap_err();
    assert!(
        other_seed.to_string().contains("`seed` = 2"),
        "{other_seed}"
    );
    let mut strict_b = b.clone();
    strict_b.base_bounds = true;
    let other_bounds = summary::merge(&[a.clone(), strict_b, c.clone()]).unwrap_err();
    assert!(
        other_bounds.to_string().contains("base_bounds"),
        "{other_bounds}"
    );
    let other_count = summary::merge(&[a.clone(), part(2, 4, 1)]).unwrap_err();
    assert!(
        other_count.to_string().contains("shard count"),
        "{other_count}"
    );
    let mut whole = summary_of(&base, &config(12, 1, Sabotage::default())).0;
    assert!(matches!(
        summary::merge(&[whole.clone()]).unwrap_err(),
        summary::MergeError::NotAShard { part: 1 }
    ));
    whole.shard = Some("1/1".into());
    assert!(
        summary::merge(&[whole]).is_ok(),
        "a single 1/1 shard is a whole run"
    );
    let mut forged = b.clone();
    forged.worlds_tried += 1;
    assert!(
        summary::merge(&[a, forged, c]).is_err(),
        "a shard's world count is checked"
    );
    assert_eq!(summary::merge(&[]).unwrap_err(), summary::MergeError::Empty);
}

#[test]
fn real_mode_settings_survive_the_file_format() {
    let text = BASE.replace(
        "duration = \"5m\"",
        "duration = \"5m\"\nreal_tolerance = \"40ms\"\nreal_unchecked = [\"dual_start_latency.p99\"]",
    ) + "\"recovery_time.max\" = \"< 1ms\"\n";
    let base = scenario::parse(&text, "base.toml").expect("valid");
    assert_eq!(
        base.real_mode_errors.len(),
        1,
        "the 1ms recovery bound is too tight for real mode"
    );
    let knobs = Knobs::default();
    for i in 0..20 {
        let w = generate::world(&base, &knobs, world_seed(4, i), i);
        let written = to_toml(&w).expect("expressible");
        assert!(written.contains("real_tolerance = \"40ms\""), "{written}");
        let back = scenario::parse(&written, "world.toml").expect("reads back");
        assert_eq!(write::as_written(&back), write::as_written(&w), "world {i}");
        assert_eq!(
            to_toml(&back).unwrap(),
            written,
            "world {i} writes the same twice"
        );
    }
}

#[test]
fn every_shipped_scenario_reads_back_from_its_written_form() {
    // A setting the writer forgets turns an explorer finding into a
    // reproducer that is not the world that failed; the shipped scenarios
    // use every setting there is.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<_> = ["", "bench"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("scenarios dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let s = scenario::parse(&text, &path.display().to_string()).expect("valid");
        let written = to_toml(&s).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let back = scenario::parse(&written, "written.toml").expect("reads back");
        assert_eq!(
            write::as_written(&back),
            write::as_written(&s),
            "{} written as\n{written}",
            path.display()
        );
    }
}

#[test]
fn a_base_recovery_bound_loosens_the_explorers_but_never_tightens_it() {
    use crate::guarantee::Threshold;
    use engine::core::MILLIS;
    let with = |cond: &str| {
        let text = format!("{BASE}\"recovery_time.primary.max\" = \"{cond}\"\n");
        scenario::parse(&text, "base.toml").expect("valid")
    };
    let bound = generate::recovery_bound(&with("< 1s").sites);
    let threshold = |base: &Scenario| {
        generate::guarantees(base, &base.sites, Knobs::default())
            .into_iter()
            .find(|g| g.key == "recovery_time.primary.max")
            .map(|g| g.threshold)
    };
    // Written for the base's own faults: a restart the explorer adds is
    // found by the next health probe, later than that.
    let tight = with("< 1s");
    assert_eq!(
        threshold(&tight),
        Some(Threshold::Duration(bound.div_ceil(MILLIS) * MILLIS))
    );
    let loose = with("< 60s");
    assert_eq!(threshold(&loose), Some(Threshold::Duration(60_000_000_000)));
    // Asked for: the base's bound as written.
    let strict = Knobs {
        base_bounds: true,
        ..Knobs::default()
    };
    let kept = generate::guarantees(&tight, &tight.sites, strict)
        .into_iter()
        .find(|g| g.key == "recovery_time.primary.max")
        .map(|g| g.threshold);
    assert_eq!(kept, Some(Threshold::Duration(1_000_000_000)));
}

#[test]
fn a_base_figure_that_describes_its_own_faults_is_not_carried_over() {
    // both-sites-down states the 20 s its sites are down together; the
    // explorer's worlds have other faults, and the promise is no gap.
    let text = BASE.replace(
        "\"union_gap.max\" = \"== 0s\"",
        "\"union_gap.max\" = \"== 20s\"",
    );
    let base = scenario::parse(&text, "base.toml").expect("valid");
    let g: Vec<_> = generate::guarantees(&base, &base.sites, Knobs::default())
        .into_iter()
        .filter(|g| g.key == "union_gap.max")
        .map(|g| g.condition)
        .collect();
    assert_eq!(g, ["== 0s"]);
}
