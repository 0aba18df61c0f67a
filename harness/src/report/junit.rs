//! `junit.xml`, written with `quick-junit`: one `<testsuite>` per scenario,
//! one `<testcase>` per guarantee.
//!
//! The testcase name is the guarantee key, its classname the scenario name.
//! A failed guarantee carries a `<failure>` whose message states the measured
//! figure, the condition and the margin. Each testsuite has the properties
//! `scenario`, `seed`, `mode`, `sites`, `cameras`, `sessions`, `schema` (and
//! `file` when known) and, in `<system-out>`, the command that replays it.
//!
//! **Time attributes** come from the run's wall clock (`timing.json`), so they
//! are only written when the run's timing is known ([`JunitRun::wall_seconds`]):
//! the testsuite's `time` is the run's wall time; every guarantee is judged
//! on that one run, so each testcase gets an equal share of it (CI tools
//! that add up testcase times see the run's time). Without timing (`dualrec
//! report render` of a folder without `timing.json`, merged shards) the file
//! is a pure function of the report, as deterministic as `report.json`.
//!
//! **Retries** (real mode, `dualrec suite --retries N`): the failed earlier
//! attempts of a scenario are [`JunitRun::earlier`]. A guarantee that passed
//! in the end but failed before is a success with `<flakyFailure>` elements
//! (flaky, never a plain pass); one that still failed carries its earlier
//! failures as `<rerunFailure>`.

use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report as JunitReport, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::Report;
use crate::verdict::Verdict;

/// One scenario's run as JUnit sees it.
#[derive(Debug, Clone, Copy)]
pub struct JunitRun<'a> {
    pub report: &'a Report,
    /// The run's wall-clock seconds (`timing.json`), when known.
    pub wall_seconds: Option<f64>,
    /// Failed earlier attempts of the same scenario, oldest first.
    pub earlier: &'a [Report],
}

impl<'a> JunitRun<'a> {
    /// A single attempt without timing.
    pub fn of(report: &'a Report) -> Self {
        JunitRun {
            report,
            wall_seconds: None,
            earlier: &[],
        }
    }
}

/// JUnit XML for one scenario's report (no time attributes).
pub fn junit_xml(report: &Report) -> String {
    junit_xml_runs(&[JunitRun::of(report)])
}

/// JUnit XML for several scenarios (a suite), no time attributes.
pub fn junit_xml_suites(reports: &[Report]) -> String {
    let runs: Vec<JunitRun> = reports.iter().map(JunitRun::of).collect();
    junit_xml_runs(&runs)
}

/// JUnit XML for runs, with times and retries where known.
pub fn junit_xml_runs(runs: &[JunitRun]) -> String {
    let mut out = JunitReport::new("dualrec");
    let mut total = Duration::ZERO;
    let mut timed = false;
    for run in runs {
        let suite = testsuite(run);
        if let Some(t) = suite.time {
            total += t;
            timed = true;
        }
        out.add_test_suite(suite);
    }
    if timed {
        out.set_time(total);
    }
    out.to_string()
        .expect("JUnit XML of strings always serializes into memory")
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::ZERO)
}

fn testsuite(run: &JunitRun) -> TestSuite {
    let r = run.report;
    let mut suite = TestSuite::new(r.scenario.name.as_str());
    let mut props = vec![
        Property::new("scenario", r.scenario.name.as_str()),
        Property::new("seed", r.scenario.seed.to_string()),
        Property::new("mode", r.scenario.mode.as_str()),
        Property::new("sites", r.sites.join(",")),
        Property::new("cameras", r.cameras.to_string()),
        Property::new("sessions", r.sessions.total.to_string()),
        Property::new("schema", r.schema.as_str()),
    ];
    if let Some(file) = &r.scenario_file {
        props.push(Property::new("file", file.as_str()));
    }
    if !run.earlier.is_empty() {
        props.push(Property::new(
            "attempts",
            (run.earlier.len() + 1).to_string(),
        ));
    }
    suite.add_properties(props);
    suite.set_system_out(format!("replay: {}\n", r.replay_command()));
    let share = run
        .wall_seconds
        .map(|w| seconds(w / r.verdicts.len().max(1) as f64));
    if let Some(w) = run.wall_seconds {
        suite.set_time(seconds(w));
    }
    for v in &r.verdicts {
        let earlier: Vec<&Verdict> = run
            .earlier
            .iter()
            .filter_map(|e| e.verdicts.iter().find(|x| x.key == v.key && !x.passed))
            .collect();
        let reruns = earlier.iter().map(|e| {
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_type("guarantee").set_message(message(e));
            rerun
        });
        let status = if v.passed {
            let mut s = TestCaseStatus::success();
            s.add_reruns(reruns);
            s
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("guarantee")
                .set_message(message(v))
                .set_description(message(v));
            s.add_reruns(reruns);
            s
        };
        let mut case = TestCase::new(v.key.as_str(), status);
        case.set_classname(r.scenario.name.as_str());
        if let Some(t) = share {
            case.set_time(t);
        }
        if !v.passed {
            case.set_system_out(format!("replay: {}\n", r.replay_command()));
        }
        suite.add_test_case(case);
    }
    suite
}

fn message(v: &Verdict) -> String {
    format!(
        "{} measured {}, required {} ({})",
        v.key, v.measured_text, v.condition, v.margin_text
    )
}
