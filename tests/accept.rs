//! End-to-end tests of `dualrec accept` against two `dualrec recorder`
//! processes (separate processes, different `--clock-offset` and
//! `--latency`): a short passing run whose measured clock offsets match the
//! configured ones, a fault drill through the recorders' control API, a
//! refusal when a test camera is already recording, and a dry run that
//! touches nothing. The site file is `examples/acceptance.toml` (no
//! `[engine]`, no API key) pointed at the two processes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use engine::runtime::{SiteAuth, SiteEndpoint};
use harness::accept::live::{LiveSite, Session};
use xprotect::RecorderRequest;

const PASSWORD_ENV: &str = "DUALREC_ACCEPT_TEST_PASSWORD";

/// A `dualrec recorder` process, killed when dropped.
struct Site {
    child: Child,
    addr: SocketAddr,
    control: SocketAddr,
    devices: Vec<String>,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_site(name: &str, offset: &str, latency: &str) -> Site {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args([
            "recorder",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--site",
            name,
            "--cameras",
            "2",
            "--password-env",
            PASSWORD_ENV,
            "--prebuffer",
            "500ms",
            "--clock-offset",
            offset,
            "--latency",
            latency,
        ])
        .env(PASSWORD_ENV, "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dualrec recorder");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send((true, line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx2.send((false, line));
        }
    });
    let mut devices = Vec::new();
    let mut addrs = None;
    while devices.len() < 2 || addrs.is_none() {
        let (out, line) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the mock site prints its devices and addresses");
        if out {
            devices.push(line.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("listening on ") {
            // "ADDR (control ADDR)"
            let mut parts = rest.split_whitespace();
            let service: SocketAddr = parts
                .next()
                .and_then(|a| a.parse().ok())
                .expect("service address");
            let control: SocketAddr = parts
                .nth(1)
                .map(|a| a.trim_end_matches(')'))
                .and_then(|a| a.parse().ok())
                .expect("control address");
            addrs = Some((service, control));
        }
    }
    let (addr, control) = addrs.expect("addresses");
    Site {
        child,
        addr,
        control,
        devices,
    }
}

/// `[engine]` and an API key: what `dualrec engine` needs on top of a site file.
const ENGINE_PART: &str = r#"[engine]
listen = "127.0.0.1:0"
data_dir = "data"

[[api_key]]
name = "ci"
key_env = "DUALREC_ACCEPT_TEST_PASSWORD_KEY"
role = "write"

"#;

/// The site file of `examples/acceptance.toml` (sites and cameras only, no
/// `[engine]`): camera `lobby` (test) and `vault` (not), its addresses,
/// devices and secrets replaced by the two mock sites', a short pre-buffer,
/// a quick policy, and `acceptance` in place of the example's settings.
fn write_config(dir: &Path, a: &Site, b: &Site, acceptance: &str) -> std::path::PathBuf {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acceptance.toml"),
    )
    .expect("examples/acceptance.toml");
    let sites = &example[..example
        .find("\n[acceptance]")
        .expect("the example has [acceptance]")];
    let mut text = sites.to_owned();
    for (from, to) in [
        ("https://ms-a.example.local", format!("http://{}", a.addr)),
        (
            "https://rs-a.example.local:7563",
            format!("http://{}", a.addr),
        ),
        ("https://ms-b.example.local", format!("http://{}", b.addr)),
        (
            "https://rs-b.example.local:7563",
            format!("http://{}", b.addr),
        ),
        ("a8a8b9dc-3995-49ed-9b00-62caac2ce74a", a.devices[0].clone()),
        ("5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11", b.devices[0].clone()),
        ("0e1d9c57-5a9c-4f6e-b0a4-0d36f3a7e2c1", a.devices[1].clone()),
        ("7b1e0a43-2c1d-4e55-9f0b-3c8e5a7d9f21", b.devices[1].clone()),
        ("svc-dualrec", "dualrec".to_owned()),
        ("DUALREC_PRIMARY_PASSWORD", PASSWORD_ENV.to_owned()),
        ("DUALREC_SECONDARY_PASSWORD", PASSWORD_ENV.to_owned()),
        ("prebuffer = \"3s\"", "prebuffer = \"500ms\"".to_owned()),
    ] {
        assert!(text.contains(from), "examples/acceptance.toml has `{from}`");
        text = text.replace(from, &to);
    }
    text.push_str(
        r#"
[policy]
probe_interval = "500ms"
down_probe_interval = "500ms"
request_timeout = "1s"

"#,
    );
    text.push_str(acceptance);
    let path = dir.join("site.toml");
    std::fs::write(&path, text).expect("write the config");
    path
}

const SHORT: &str = r#"[acceptance]
cycles = 2
session = "2s"
pause = "1s"
drill_outage = "1s"
"#;

fn accept(config: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .arg("accept")
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .args(["--operator", "CI"])
        .args(extra)
        .env(PASSWORD_ENV, "secret")
        .env(
            format!("{PASSWORD_ENV}_KEY"),
            "an-api-key-of-sufficient-length",
        )
        .stdin(Stdio::null())
        .output()
        .expect("run dualrec accept");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn offsets(doc: &serde_json::Value) -> Vec<f64> {
    doc["preflight"]
        .as_array()
        .expect("preflight sites")
        .iter()
        .map(|s| s["clock_offset_ns"].as_f64().expect("an offset") / 1e9)
        .collect()
}

#[test]
fn acceptance_passes_and_measures_clock_offsets() {
    let a = start_site("primary", "2s", "fixed:10ms");
    let b = start_site("secondary", "-1.5s", "fixed:40ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &a, &b, SHORT);
    let out = dir.path().join("out");
    let (code, stderr) = accept(&config, &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    let doc = json(&out.join("acceptance.json"));
    assert_eq!(doc["status"], "passed", "{doc}");
    let off = offsets(&doc);
    assert!(
        (off[0] - 2.0).abs() < 0.1,
        "primary offset {} s, expected ≈ +2 s",
        off[0]
    );
    assert!(
        (off[1] + 1.5).abs() < 0.15,
        "secondary offset {} s, expected ≈ -1.5 s",
        off[1]
    );
    let report = json(&out.join("report.json"));
    assert_eq!(report["passed"], true);
    assert_eq!(report["sessions"]["total"], 2, "{}", report["sessions"]);
    // Latencies are from corrected footage: well under a second, not seconds off.
    let dual = report["stats"]
        .as_array()
        .expect("stats")
        .iter()
        .find(|r| r["metric"] == "dual_start_latency" && r["site"].is_null())
        .expect("dual_start_latency row");
    let max = dual["max_ns"].as_f64().expect("a max") / 1e9;
    assert!(max < 0.5, "dual start latency {max} s");
    for f in ["junit.xml", "summary.md", "report.html", "actions.log"] {
        assert!(out.join(f).exists(), "{f} written");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap_or_default();
    assert!(
        summary.contains("operator CI")
            && summary.contains("secondary")
            && summary.contains("dualrec accept --config"),
        "{summary}"
    );
    // The exact command line (operator quoted as typed) and the engine's seed.
    let doc_line = doc["command_line"].as_str().expect("command_line");
    assert!(
        doc_line.contains("accept --config") && doc_line.contains("--operator CI"),
        "{doc_line}"
    );
    assert!(summary.contains(doc_line), "{summary}");
    assert_ne!(report["scenario"]["seed"], 0, "{}", report["scenario"]);
    // The non-test camera was never touched.
    let vault: serde_json::Value = reqwest_get(b.control, &format!("/footage/{}", b.devices[1]));
    assert_eq!(
        vault["manual"],
        serde_json::json!([]),
        "vault untouched: {vault}"
    );
    let lobby = reqwest_get(b.control, &format!("/footage/{}", b.devices[0]));
    assert_eq!(lobby["manual"].as_array().map(Vec::len), Some(2), "{lobby}");
}

fn reqwest_get(addr: SocketAddr, path: &str) -> serde_json::Value {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let text = reqwest::Client::new()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    })
}

// The drill hooks are curl commands: ignored (and said so) where curl is
// missing, run and failing when `CI` is set (see build.rs).
#[test]
#[cfg_attr(
    not(any(have_curl, ci)),
    ignore = "needs curl for the drill hooks (apt-get install curl; CI installs it)"
)]
fn drill_cuts_the_secondary_through_its_control_api() {
    let a = start_site("primary", "0s", "fixed:5ms");
    let b = start_site("secondary", "1s", "fixed:20ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &a, &b, SHORT);
    let out = dir.path().join("out");
    let cut = format!(
        "curl -sf -X POST http://{}/faults -H 'content-type: application/json' -d '{{\"kind\":\"down\"}}'",
        b.control
    );
    let restore = format!("curl -sf -X DELETE http://{}/faults", b.control);
    let (code, stderr) = accept(
        &config,
        &out,
        &[
            "--cycles",
            "1",
            "--drill-cut",
            &cut,
            "--drill-restore",
            &restore,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let report = json(&out.join("report.json"));
    let keys: Vec<String> = report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| v["key"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        keys.contains(&"site_gap.primary.max".to_owned()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"recovery_time.secondary.max".to_owned()),
        "{keys:?}"
    );
    assert_eq!(report["faults"][0]["kind"], "drill");
    assert!(
        stderr.contains("drill: site secondary records again"),
        "{stderr}"
    );
    // The log states the recovery the report has, not another figure.
    let recovery = report["stats"]
        .as_array()
        .expect("stats")
        .iter()
        .find(|r| r["metric"] == "recovery_time" && r["site"] == "secondary")
        .and_then(|r| r["max_ns"].as_u64())
        .expect("a recovery_time.secondary row with a max");
    let logged = format!(
        "recovery_time.secondary.max = {}",
        harness::accept::plan::secs(recovery)
    );
    assert!(stderr.contains(&logged), "{logged} not in {stderr}");
    // Time criteria carry the measured clock-offset uncertainty.
    let conditions: Vec<&str> = report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .filter_map(|v| v["condition"].as_str())
        .collect();
    assert!(
        conditions
            .iter()
            .any(|c| c.contains("clock-offset uncertainty")),
        "{conditions:?}"
    );
}

#[test]
fn refuses_when_a_test_camera_is_already_recording_and_dry_run_touches_nothing() {
    let a = start_site("primary", "0s", "fixed:0s");
    let b = start_site("secondary", "0s", "fixed:0s");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &a, &b, SHORT);

    // Dry run first: nothing is contacted, nothing is written.
    let dry_out = dir.path().join("dry");
    let (code, stderr) = accept(&config, &dry_out, &["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("dry run: no recorder was contacted"),
        "{stderr}"
    );
    assert!(stderr.contains("never touched: vault"), "{stderr}");
    assert!(!dry_out.exists(), "a dry run writes nothing");
    let footage = reqwest_get(a.control, &format!("/footage/{}", a.devices[0]));
    assert_eq!(
        footage["manual"],
        serde_json::json!([]),
        "dry run touched the recorder: {footage}"
    );

    // Someone records the lobby camera on the primary.
    let endpoint = SiteEndpoint {
        name: "primary".into(),
        management_url: format!("http://{}", a.addr),
        recorder_urls: vec![format!("http://{}", a.addr)],
        username: "dualrec".into(),
        password: "secret".into(),
        auth: SiteAuth::Basic,
        tls_ca_pem: None,
        login: engine::runtime::SiteLogin::Idp,
        tls_cert_sha256: None,
        password_file: None,
    };
    let session = Session::new(LiveSite::new(&endpoint).expect("client"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let device = a.devices[0].clone();
    rt.block_on(
        session.call(0, |token| RecorderRequest::StartManualRecording {
            token,
            device_ids: vec![device.clone()],
        }),
    )
    .expect("start recording");

    let out = dir.path().join("out");
    let (code, stderr) = accept(&config, &out, &[]);
    assert_eq!(code, 4, "refusal has its own exit code: {stderr}");
    assert!(stderr.contains("already manually recording"), "{stderr}");
    assert!(stderr.contains("lobby on primary"), "{stderr}");
    // Still recording: acceptance did not stop it.
    let states = rt
        .block_on(session.is_recording(0, std::slice::from_ref(&device)))
        .expect("IsManualRecording");
    assert_eq!(states, vec![(device.clone(), true)]);
    let doc = json(&out.join("acceptance.json"));
    assert!(
        doc["status"].as_str().unwrap_or("").starts_with("refused"),
        "{doc}"
    );

    // --force leaves the recording camera out; here none is left.
    let (code, stderr) = accept(&config, &dir.path().join("forced"), &["--force"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("nothing left to test"), "{stderr}");
    let states = rt
        .block_on(session.is_recording(0, std::slice::from_ref(&device)))
        .expect("IsManualRecording");
    assert_eq!(
        states,
        vec![(device, true)],
        "still recording after --force"
    );
}

#[test]
fn ctrl_c_stops_what_acceptance_started() {
    let a = start_site("primary", "0s", "fixed:0s");
    let b = start_site("secondary", "0s", "fixed:5ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &a, &b, SHORT);
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .arg("accept")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .args(["--session", "20s"])
        .env(PASSWORD_ENV, "secret")
        .env(
            format!("{PASSWORD_ENV}_KEY"),
            "an-api-key-of-sufficient-length",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dualrec accept");
    // Wait until the first start is confirmed on both sites.
    let log = out.join("actions.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::fs::read_to_string(&log)
        .map(|t| t.matches("confirmed: recording").count() < 2)
        .unwrap_or(true)
    {
        assert!(std::time::Instant::now() < deadline, "no start confirmed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let output = child.wait_with_output().expect("accept ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted (Ctrl-C)"), "{stderr}");
    assert!(
        stderr.contains("stopping what acceptance started: lobby"),
        "{stderr}"
    );
    assert!(
        stderr.contains("left: lobby on primary: not recording"),
        "{stderr}"
    );
    assert!(
        stderr.contains("left: lobby on secondary: not recording"),
        "{stderr}"
    );
}

/// A `dualrec engine` process, killed when dropped.
struct EngineProcess(Child);

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn clicks_go_through_a_running_engine_with_engine_url() {
    let a = start_site("primary", "-0.5s", "fixed:5ms");
    let b = start_site("secondary", "0.7s", "fixed:15ms");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), &a, &b, SHORT);
    let engine_config = dir.path().join("engine.toml");
    std::fs::write(
        &engine_config,
        format!(
            "{ENGINE_PART}{}",
            std::fs::read_to_string(&config).expect("the site file")
        ),
    )
    .expect("write the engine config");
    let key_env = format!("{PASSWORD_ENV}_KEY");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .arg("engine")
        .arg("--config")
        .arg(&engine_config)
        .args(["--listen", "127.0.0.1:0"])
        .env(PASSWORD_ENV, "secret")
        .env(&key_env, "an-api-key-of-sufficient-length")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dualrec engine");
    let stderr = child.stderr.take().expect("stderr is piped");
    let engine = EngineProcess(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the engine prints its address");
        if let Some(rest) = line.strip_prefix("listening on ") {
            break rest.split_whitespace().next().unwrap_or("").to_owned();
        }
    };
    let out = dir.path().join("out");
    let url = format!("http://{addr}");
    let (code, stderr) = accept(
        &config,
        &out,
        &["--cycles", "1", "--engine", &url, "--key-env", &key_env],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("clicks go to the engine at {url}")),
        "{stderr}"
    );
    let doc = json(&out.join("acceptance.json"));
    assert_eq!(doc["engine"], url.as_str());
    let off = offsets(&doc);
    assert!((off[0] + 0.5).abs() < 0.1, "primary offset {} s", off[0]);
    assert!((off[1] - 0.7).abs() < 0.1, "secondary offset {} s", off[1]);
    drop(engine);
}
