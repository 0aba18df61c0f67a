//! Real-mode smoke runs: the same scenarios as in virtual time, on the wall
//! clock (compressed by their `real_time_scale`), with in-process mock sites
//! speaking SOAP over loopback HTTP and `dualrec engine` as a child process
//! driven through its REST API. They run in parallel to stay within about a
//! minute of wall time.

use std::path::Path;

use harness::runner::{run, Mode, RunOptions};

fn run_real(name: &str) -> harness::runner::RunOutput {
    run_real_traced(name, false)
}

fn run_real_traced(name: &str, trace: bool) -> harness::runner::RunOutput {
    // The harness's warnings (a click batch refused or retried, a fault not
    // applied) go to the test's output, shown when a run fails.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let scenario = harness::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    // The engine as a child process behind its REST API, as in production.
    let opts = RunOptions {
        mode: Mode::Real,
        engine_binary: Some(env!("CARGO_BIN_EXE_dualrec").into()),
        trace,
        ..RunOptions::default()
    };
    run(&scenario, &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_holds(out: &harness::runner::RunOutput) {
    assert_eq!(out.report.scenario.mode, "real");
    assert!(
        out.report.passed,
        "{}",
        harness::report::summary_text(&out.report)
    );
}

#[test]
fn happy_path_in_real_time() {
    let out = run_real_traced("happy-path.toml", true);
    assert_holds(&out);
    // Something really happened over the wire.
    assert!(out.metrics.sessions().len() > 20);
    // The replay line runs it the same way.
    assert!(
        out.report.replay_command().ends_with("--mode real"),
        "{}",
        out.report.replay_command()
    );
    // --trace: the same JSON-lines history as in virtual time, from the
    // mock sites' ground truth.
    let kinds: Vec<String> = out
        .trace
        .iter()
        .map(|e| {
            serde_json::to_value(e).expect("a trace event is JSON")["type"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    // Every session begins with a start click.
    assert!(count("click") >= out.metrics.sessions().len(), "{kinds:?}");
    assert!(count("manual") > 20 && count("footage") > 20, "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("end"));
}

#[test]
fn one_site_down_in_real_time() {
    assert_holds(&run_real("primary-down-mid-session.toml"));
}

#[test]
fn one_site_hanging_in_real_time() {
    assert_holds(&run_real("hung-site.toml"));
}

#[test]
fn engine_killed_and_restarted_from_its_journal_in_real_time() {
    // `engine_crash` is a real SIGKILL of `dualrec engine`; the new process
    // restores from its SQLite journal.
    assert_holds(&run_real("engine-crash.toml"));
}
