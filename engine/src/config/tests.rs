//! Config validation: a full valid config, and a snapshot of the message
//! every kind of mistake produces (`file:line:col: what; expected …`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

struct FakeSecrets {
    env: HashMap<&'static str, &'static str>,
    files: HashMap<PathBuf, &'static str>,
}

impl SecretSource for FakeSecrets {
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).map(|v| v.to_string())
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(path)
            .map(|v| v.as_bytes().to_vec())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
}

fn secrets() -> FakeSecrets {
    FakeSecrets {
        env: HashMap::from([
            ("KEY_SC", "smart-client-key-0123456789"),
            ("KEY_RO", "read-only-key-0123456789"),
            ("SHORT", "short"),
            ("PW_A", "secret-a"),
        ]),
        files: HashMap::from([
            (PathBuf::from("/etc/dualrec/pw-b"), "secret-b\n"),
            (
                PathBuf::from("/etc/dualrec/ca.pem"),
                "-----BEGIN CERTIFICATE-----\nMII\n",
            ),
        ]),
    }
}

const VALID: &str = r#"
[engine]
listen = "127.0.0.1:8080"
data_dir = "data"

[[api_key]]
name = "smart-client"
key_env = "KEY_SC"
role = "write"

[[api_key]]
name = "dashboard"
key_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
role = "read"

[[site]]
name = "primary"
management_url = "https://ms-a.example.local"
recorder_url = "http://rs-a.example.local:7563"
username = "svc-dualrec"
password_env = "PW_A"
auth = "basic"
manual_recording_max = "5m"
tls_ca_file = "ca.pem"

[[site]]
name = "secondary"
management_url = "http://ms-b.example.local"
recorder_urls = ["http://rs-b1.example.local:7563", "http://rs-b2.example.local:7563"]
username = "svc-dualrec"
password_file = "pw-b"
auth = "windows"
manual_recording_max = "off"
prebuffer = "1s"

[[camera]]
name = "lobby"
test = true
devices = { primary = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a", secondary = { device = "5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11", recorder = 1 } }

[[camera]]
name = "dock-2"
devices = { primary = "00000000-0000-0000-0000-000000000002" }

[policy]
request_timeout = "1.5s"
probe_interval = "2s"
renew_before = "30s"
"#;

fn parse(text: &str) -> Result<EngineConfig, ConfigError> {
    EngineConfig::parse("engine.toml", text, Path::new("/etc/dualrec"), &secrets())
}

#[test]
fn a_full_config_is_read() {
    let cfg = parse(VALID).expect("the valid config parses");
    assert_eq!(cfg.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(cfg.data_dir, PathBuf::from("/etc/dualrec/data"));
    assert_eq!(cfg.api_keys.len(), 2);
    assert_eq!(
        cfg.api_keys[0].sha256,
        sha256(b"smart-client-key-0123456789")
    );
    assert_eq!(cfg.api_keys[1].sha256, sha256(b"hello"));
    assert_eq!(cfg.api_keys[1].role, Role::Read);
    let (a, b) = (&cfg.sites[0], &cfg.sites[1]);
    assert_eq!(a.endpoint.password, "secret-a");
    assert_eq!(b.endpoint.password, "secret-b");
    assert!(a.endpoint.tls_ca_pem.is_some());
    assert_eq!(b.spec.recorders, 2);
    assert_eq!(b.spec.manual_recording_max, None);
    assert_eq!(b.spec.prebuffer, crate::core::SECS);
    assert_eq!(b.endpoint.auth, SiteAuth::Windows);
    assert_eq!(cfg.cameras[0].spec.placements[1].recorder, 1);
    assert!(cfg.cameras[0].test);
    assert_eq!(cfg.policy.request_timeout, 1_500_000_000);
    // Secrets never show in Debug output.
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("secret-a") && !debug.contains("secret-b"));
    assert_eq!(cfg.mirror_config().cameras.len(), 2);
}

/// Each case replaces one line of VALID (`from` → `to`).
#[test]
fn every_mistake_names_file_line_col_and_what_was_expected() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown key",
            "auth = \"basic\"",
            "auth = \"basic\"\ncolour = \"red\"",
        ),
        (
            "bad listen",
            "listen = \"127.0.0.1:8080\"",
            "listen = \"localhost\"",
        ),
        (
            "bad duration",
            "request_timeout = \"1.5s\"",
            "request_timeout = \"1.5\"",
        ),
        (
            "zero timeout",
            "request_timeout = \"1.5s\"",
            "request_timeout = \"0s\"",
        ),
        (
            "bad off",
            "manual_recording_max = \"off\"",
            "manual_recording_max = \"never\"",
        ),
        ("bad role", "role = \"write\"", "role = \"admin\""),
        ("bad auth", "auth = \"windows\"", "auth = \"ntlm\""),
        (
            "unset key env",
            "key_env = \"KEY_SC\"",
            "key_env = \"NOPE\"",
        ),
        ("short key", "key_env = \"KEY_SC\"", "key_env = \"SHORT\""),
        (
            "two key sources",
            "key_env = \"KEY_SC\"",
            "key_env = \"KEY_SC\"\nkey_file = \"k\"",
        ),
        (
            "bad hash",
            "key_sha256 = \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"",
            "key_sha256 = \"abc\"",
        ),
        (
            "password in config",
            "password_env = \"PW_A\"",
            "password = \"hunter2\"",
        ),
        ("no password", "password_env = \"PW_A\"", ""),
        (
            "unset password env",
            "password_env = \"PW_A\"",
            "password_env = \"PW_NOPE\"",
        ),
        (
            "missing password file",
            "password_file = \"pw-b\"",
            "password_file = \"pw-c\"",
        ),
        (
            "missing ca",
            "tls_ca_file = \"ca.pem\"",
            "tls_ca_file = \"nope.pem\"",
        ),
        (
            "bad url",
            "management_url = \"http://ms-b.example.local\"",
            "management_url = \"ms-b\"",
        ),
        (
            "no recorder",
            "recorder_url = \"http://rs-a.example.local:7563\"",
            "",
        ),
        (
            "duplicate site",
            "name = \"secondary\"",
            "name = \"primary\"",
        ),
        ("duplicate camera", "name = \"dock-2\"", "name = \"lobby\""),
        ("bad camera name", "name = \"dock-2\"", "name = \"dock 2\""),
        (
            "unknown site",
            "devices = { primary = \"00000000-0000-0000-0000-000000000002\" }",
            "devices = { tertiary = \"00000000-0000-0000-0000-000000000002\" }",
        ),
        (
            "bad guid",
            "devices = { primary = \"00000000-0000-0000-0000-000000000002\" }",
            "devices = { primary = \"cam-2\" }",
        ),
        ("no such recorder", "recorder = 1 }", "recorder = 2 }"),
        (
            "device twice",
            "devices = { primary = \"00000000-0000-0000-0000-000000000002\" }",
            "devices = { primary = \"A8A8B9DC-3995-49ED-9B00-62CAAC2CE74A\" }",
        ),
        (
            "empty devices",
            "devices = { primary = \"00000000-0000-0000-0000-000000000002\" }",
            "devices = {}",
        ),
        (
            "retry order",
            "renew_before = \"30s\"",
            "retry_initial = \"3s\"",
        ),
        ("missing engine key", "data_dir = \"data\"", ""),
        ("syntax", "[policy]", "[policy"),
    ];
    let mut out = String::new();
    for (what, from, to) in cases {
        assert!(VALID.contains(from), "{what}: `{from}` is not in VALID");
        let text = VALID.replacen(from, to, 1);
        let msg = match parse(&text) {
            Ok(_) => "ACCEPTED".to_string(),
            Err(e) => e.to_string(),
        };
        assert!(msg.starts_with("engine.toml:"), "{what}: {msg}");
        out.push_str(&format!("{what}: {msg}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn a_config_without_keys_sites_or_cameras_is_rejected() {
    let minimal = "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"d\"\n";
    let e = parse(minimal).unwrap_err().to_string();
    assert!(e.contains("no `[[api_key]]`"), "{e}");
}

/// What `dualrec accept` with the engine in-process may be given: sites,
/// cameras and `[acceptance]`, nothing about listening or API keys.
const SITES_ONLY: &str = r#"
[[site]]
name = "primary"
management_url = "https://ms-a.example.local"
recorder_url = "http://rs-a.example.local:7563"
username = "svc-dualrec"
password_env = "PW_A"

[[camera]]
name = "lobby"
test = true
devices = { primary = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a" }

[acceptance]
cycles = 2
"#;

fn parse_in_process(text: &str) -> Result<EngineConfig, ConfigError> {
    EngineConfig::parse_in_process("site.toml", text, Path::new("/etc/dualrec"), &secrets())
}

#[test]
fn an_in_process_engine_needs_no_engine_table_or_api_keys() {
    let cfg = parse_in_process(SITES_ONLY).expect("sites and cameras are enough");
    assert_eq!(cfg.sites.len(), 1);
    assert_eq!(cfg.cameras.len(), 1);
    assert!(cfg.api_keys.is_empty());
    // The service still insists on both.
    let e = parse(SITES_ONLY).unwrap_err().to_string();
    assert!(e.contains("engine"), "{e}");
    // API keys are not read in-process: an unset key variable is no error.
    let with_keys = format!(
        "[engine]\nlisten = \"127.0.0.1:8080\"\ndata_dir = \"d\"\n\n[[api_key]]\nname = \"x\"\nkey_env = \"UNSET\"\nrole = \"write\"\n{SITES_ONLY}"
    );
    parse_in_process(&with_keys).expect("keys are ignored in-process");
    assert!(parse(&with_keys).is_err());
    // A mistake in the file is still reported where it is.
    let bad = SITES_ONLY.replace("cycles = 2", "cycles = 2\n").replace(
        "username = \"svc-dualrec\"",
        "username = \"svc-dualrec\"\nusernme = \"x\"",
    );
    let e = parse_in_process(&bad).unwrap_err().to_string();
    assert!(e.starts_with("site.toml:7:1:"), "{e}");
}

/// `[[camera]]` settings: the device's own value wins over the camera's,
/// which wins over the site's default (left as `None` in the placement).
#[test]
fn per_camera_settings_override_the_sites_defaults() {
    let text = VALID.replace(
        "name = \"dock-2\"\n",
        "name = \"dock-2\"\nmanual_recording_max = \"15m\"\nprebuffer = \"2s\"\n",
    );
    let text = text.replace(
        "secondary = { device = \"5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11\", recorder = 1 }",
        "secondary = { device = \"5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11\", recorder = 1, \
         manual_recording_max = \"1m\", prebuffer = \"500ms\" }",
    );
    let cfg = parse(&text).expect("parses");
    let lobby = &cfg.cameras[0].spec.placements;
    assert_eq!(lobby[0].settings, Default::default());
    assert_eq!(
        lobby[1].settings.manual_recording_max,
        Some(Some(60 * crate::core::SECS))
    );
    assert_eq!(lobby[1].settings.prebuffer, Some(500 * crate::core::MILLIS));
    let dock = &cfg.cameras[1].spec.placements[0].settings;
    assert_eq!(
        dock.manual_recording_max,
        Some(Some(15 * 60 * crate::core::SECS))
    );
    assert_eq!(dock.prebuffer, Some(2 * crate::core::SECS));
    let off = VALID.replace(
        "name = \"dock-2\"\n",
        "name = \"dock-2\"\nmanual_recording_max = \"off\"\n",
    );
    let cfg = parse(&off).expect("parses");
    assert_eq!(
        cfg.cameras[1].spec.placements[0]
            .settings
            .manual_recording_max,
        Some(None)
    );
    let bad = VALID.replace("recorder = 1 }", "recorder = 1, prebuffer = \"soon\" }");
    let e = parse(&bad).expect_err("bad prebuffer").to_string();
    assert!(
        e.starts_with("engine.toml:39:") && e.contains("`soon` is not a duration"),
        "{e}"
    );
}
