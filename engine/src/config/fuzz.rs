//! Fuzz target of the site config parser (proptest, a bounded number of
//! cases per test run): mutated valid configs and arbitrary bytes never
//! panic, and every refusal is an `Invalid` error at a real `line:col`.

use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::input_fuzz::{assert_position, edit, mutate};

/// Every variable is set and every file exists (a PEM certificate for any
/// `.pem`, a key for anything else), so that parsing gets past secrets.
struct AnySecrets;

impl SecretSource for AnySecrets {
    fn env(&self, name: &str) -> Option<String> {
        Some(format!("secret-of-{name}-0123456789"))
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        if path.extension().is_some_and(|e| e == "pem") {
            Ok(b"-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n".to_vec())
        } else if path.extension().is_some_and(|e| e == "key") {
            Ok(b"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n".to_vec())
        } else {
            Ok(b"a-file-secret-0123456789\n".to_vec())
        }
    }
    fn mode(&self, path: &Path) -> Option<u32> {
        // Some files are too open, so that branch is exercised too.
        Some(if path.to_string_lossy().contains("open") {
            0o644
        } else {
            0o600
        })
    }
}

const BASE: &str = r#"[engine]
listen = "127.0.0.1:8080"
data_dir = "data"
max_body_bytes = 2097152
tls_cert_file = "api.pem"
tls_key_file = "api.key"
tls_client_ca_file = "clients.pem"
header_timeout = "5s"
request_timeout = "20s"
idle_timeout = "30s"
max_connections = 100

[[api_key]]
name = "smart-client"
key_env = "KEY_SC"
role = "write"

[[api_key]]
name = "dashboard"
key_file = "open-key"
role = "read"

[[site]]
name = "primary"
management_url = "https://ms-a.example.local"
recorder_urls = ["http://rs-a.example.local:7563", "http://rs-a2.example.local:7563"]
username = "svc-dualrec"
password_env = "PW_A"
auth = "basic"
manual_recording_max = "5m"
tls_ca_file = "ca.pem"

[[site]]
name = "secondary"
management_url = "http://ms-b.example.local"
recorder_url = "http://rs-b1.example.local:7563"
username = "svc-dualrec"
password_file = "pw-b"
auth = "windows"
manual_recording_max = "off"
prebuffer = "1s"

[[camera]]
name = "lobby"
test = true
devices = { primary = { device = "a8a8b9dc-3995-49ed-9b00-62caac2ce74a", recorder = 1 }, secondary = "5f0c6e1e-0d6b-4bb4-9a51-7d3c2b7d8e11" }

[policy]
request_timeout = "1.5s"
probe_interval = "2s"
"#;

fn check(bytes: &[u8]) {
    let text = match crate::input::utf8_text(bytes.to_vec()) {
        Ok(t) => t,
        Err(e) => {
            assert!(e.line >= 1 && e.col >= 1);
            return;
        }
    };
    match EngineConfig::parse("fuzz.toml", &text, Path::new("/etc/dualrec"), &AnySecrets) {
        Ok(cfg) => assert!(!cfg.api_keys.is_empty() && !cfg.sites.is_empty()),
        Err(ConfigError::Invalid {
            file,
            line,
            col,
            message,
        }) => {
            assert_eq!(file, "fuzz.toml");
            assert!(!message.is_empty());
            assert_position(&text, line, col);
        }
        Err(e) => panic!("a parse error that is not `Invalid`: {e}"),
    }
}

#[test]
fn the_base_config_is_valid() {
    let text = BASE.replace("open-key", "key");
    EngineConfig::parse("fuzz.toml", &text, Path::new("/etc/dualrec"), &AnySecrets)
        .expect("the fuzz base parses");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn mutated_configs_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        check(&mutate(BASE.replace("open-key", "key").as_bytes(), &edits));
        check(&mutate(BASE.as_bytes(), &edits));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes);
    }
}
