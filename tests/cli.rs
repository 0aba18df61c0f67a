//! The `dualrec` binary end to end: exit codes, error messages, outputs.

use std::path::Path;
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

#[test]
fn a_passing_run_exits_0_and_writes_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let out = dualrec(&[
        "run",
        "scenarios/primary-down-mid-session.toml",
        "--out",
        dir.path().to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("PASS"));
    for f in ["report.json", "timing.json", "junit.xml", "summary.md"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let timing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("timing.json")).unwrap())
            .unwrap();
    assert!(timing["speedup"].as_f64().unwrap() > 1.0);
    // The trace is JSON lines with typed events, footage included.
    let lines = std::fs::read_to_string(&trace).unwrap();
    let kinds: std::collections::BTreeSet<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in [
        "click", "intent", "command", "served", "reply", "fault", "manual", "footage", "end",
    ] {
        assert!(kinds.contains(k), "trace lacks `{k}` events: {kinds:?}");
    }
}

#[test]
fn a_failed_guarantee_exits_1_and_junit_carries_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let text_in = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/happy-path.toml"),
    )
    .unwrap()
    .replace(
        "\"dual_start_latency.p99\" = \"< 150ms\"",
        "\"dual_start_latency.p99\" = \"< 1ms\"",
    );
    let file = dir.path().join("impossible.toml");
    std::fs::write(&file, text_in).unwrap();
    let out_dir = dir.path().join("out");
    let out = dualrec(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("FAIL"));
    let junit = std::fs::read_to_string(out_dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("dual_start_latency.p99"));
}

#[test]
fn invalid_scenarios_exit_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[scenario]\nname = \"bad\"\nseed = 1\nduration = \"5 minutes\"\n\n[[site]]\nname = \"a\"\n\n[cameras]\ncount = 1\n",
    )
    .unwrap();
    for cmd in ["validate", "run"] {
        let out = dualrec(&[cmd, file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = text(&out.stderr);
        assert!(err.contains("bad.toml:4:12"), "{cmd}: {err}");
        assert!(err.contains("duration"), "{cmd}: {err}");
    }
}

#[test]
fn a_real_run_that_would_check_less_than_it_claims_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tight.toml");
    std::fs::write(
        &file,
        "[scenario]\nname = \"tight\"\nseed = 1\nduration = \"1m\"\nreal_time_scale = 0.05\n\n\
         [[site]]\nname = \"a\"\n\n[cameras]\ncount = 1\n\n\
         [guarantees]\n\"start_latency.p99\" = \"< 30ms\"\n",
    )
    .unwrap();
    let args = ["run", file.to_str().unwrap(), "--mode", "real"];
    let out = dualrec(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("tight.toml:14:23"), "{err}");
    assert!(err.contains("real_time_scale >= 0.84"), "{err}");
    // Virtual time checks it as written.
    let out = dualrec(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(dualrec(&["run"]).status.code(), Some(2));
    assert_eq!(dualrec(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        dualrec(&["run", "no/such/file.toml"]).status.code(),
        Some(2)
    );
}

#[test]
fn validate_accepts_the_whole_suite() {
    let mut args = vec!["validate".to_string()];
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            args.push(p.to_string_lossy().into_owned());
        }
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dualrec(&refs);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn suite_filters_by_tag_and_reports_each_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = dualrec(&[
        "suite",
        "scenarios",
        "--tag",
        "smoke",
        "--quiet",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("happy-path") && stdout.contains("click-races"),
        "{stdout}"
    );
    assert!(!stdout.contains("long-session-autostop"), "{stdout}");
    assert!(dir.path().join("junit.xml").is_file());
    assert!(dir.path().join("happy-path/report.json").is_file());
}

/// `examples/engine.toml` as shipped is a valid config (with its secrets
/// supplied), and `--log-format json` / `DUALREC_LOG_FORMAT=json` turn the
/// log into JSON lines with no colour codes.
#[test]
fn the_example_engine_config_is_valid_and_logs_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/engine.toml");
    let config = dir.path().join("engine.toml");
    std::fs::copy(&example, &config).expect("copy the example");
    for pem in ["site-a-ca.pem", "site-b-ca.pem"] {
        std::fs::write(
            dir.path().join(pem),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .expect("write a CA file");
    }
    let password = dir.path().join("secondary-password");
    std::fs::write(&password, "secret-b\n").expect("password file");
    // Only its owner may read a password file (else the config is refused).
    std::fs::set_permissions(
        &password,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod 600");
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dualrec"));
        cmd.args(args)
            .args(["engine", "--config"])
            .arg(&config)
            .arg("--check")
            .env("DUALREC_LOG", "info")
            .env("DUALREC_KEY_CONSOLE", "a-console-key-of-32-bytes-length")
            .env("DUALREC_PRIMARY_PASSWORD", "secret-a")
            .env_remove("DUALREC_LOG_FORMAT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("dualrec engine --check runs")
    };
    for (args, env) in [
        (&["--log-format", "json"][..], &[][..]),
        (&[][..], &[("DUALREC_LOG_FORMAT", "json")][..]),
    ] {
        let out = check(args, env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains('\x1b'), "no ANSI codes: {stderr:?}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("a JSON log line in {stderr}"));
        let v: serde_json::Value = serde_json::from_str(line).expect("the log line is JSON");
        assert_eq!(v["level"], "INFO", "{v}");
        assert_eq!(v["fields"]["message"], "the site config is valid", "{v}");
        assert_eq!(v["fields"]["sites"], 2, "{v}");
        assert_eq!(v["fields"]["cameras"], 4, "{v}");
    }
    // Text logs on a pipe carry no colour codes either.
    let out = check(&[], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("the site config is valid"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no ANSI codes: {stderr:?}");
    // A format nobody knows is a usage error.
    let out = check(&[], &[("DUALREC_LOG_FORMAT", "xml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("DUALREC_LOG_FORMAT"));
}

#[test]
fn reports_latest_points_at_the_newest_run_in_reports() {
    let cwd = tempfile::tempdir().unwrap();
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/primary-down-mid-session.toml");
    let run = |out: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_dualrec"))
            .args(["run", scenario.to_str().unwrap(), "--quiet", "--out", out])
            .current_dir(cwd.path())
            .output()
            .expect("dualrec runs");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    };
    let latest = cwd.path().join("reports/latest");
    run("reports/first");
    assert_eq!(std::fs::read_link(&latest).unwrap(), Path::new("first"));
    run("reports/second");
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        Path::new("second"),
        "relative, replaced"
    );
    assert!(latest.join("report.json").is_file(), "the link resolves");
    run("elsewhere");
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        Path::new("second"),
        "a run outside reports/ leaves the link alone"
    );
}

/// Runs `dualrec args` with a stdout nobody reads: the read end of its pipe
/// is closed before the command writes anything (as `| head -0` would).
fn with_closed_stdout(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dualrec runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("dualrec ends")
}

#[test]
fn a_closed_stdout_ends_output_not_the_command() {
    // `dualrec suite scenarios --list | head -3`: no panic, exit 0.
    let out = with_closed_stdout(&["suite", "scenarios", "--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stderr),
        "",
        "a broken pipe is not worth a message"
    );
    // A run whose summary nobody reads still writes its reports and exits
    // with its verdict.
    let dir = tempfile::tempdir().unwrap();
    let out = with_closed_stdout(&[
        "run",
        "scenarios/primary-down-mid-session.toml",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert!(dir.path().join("report.html").is_file());
}
