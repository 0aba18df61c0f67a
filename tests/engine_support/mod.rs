//! Shared by the engine service tests: two in-process mock XProtect sites
//! on loopback and a site config pointing at them.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use engine::config::{EngineConfig, SecretSource};
use engine::core::DeviceId;
use sim::recorder::SiteConfig;
use sim::server::{MockSite, MockSiteConfig};

pub const WRITE_KEY: &str = "write-key-0123456789abcdef";
pub const READ_KEY: &str = "read-key-0123456789abcdef";
pub const METRICS_KEY: &str = "metrics-key-0123456789abcdef";
pub const SITE_USER: &str = "dualrec";
pub const SITE_PASSWORD: &str = "site-secret";

/// Device GUID of camera `i` (1-based) on site `site` (0 or 1).
pub fn device(site: usize, i: usize) -> DeviceId {
    DeviceId::new(format!("{:08x}-0000-4000-8000-{:012x}", 0xa0 + site, i))
}

pub fn camera(i: usize) -> String {
    format!("cam-{i:03}")
}

/// The primary and secondary mock sites, one recorder each, `n` cameras.
pub async fn start_sites(n: usize) -> (MockSite, MockSite) {
    let mut sites = Vec::new();
    for (s, name) in ["primary", "secondary"].into_iter().enumerate() {
        let cfg = MockSiteConfig::new(
            SiteConfig::new(name, SITE_USER, SITE_PASSWORD),
            vec![(1..=n).map(|i| device(s, i)).collect()],
        );
        let site = MockSite::start(cfg, "127.0.0.1:0".parse().unwrap(), None)
            .await
            .expect("mock site starts");
        sites.push(site);
    }
    let b = sites.pop().unwrap();
    let a = sites.pop().unwrap();
    (a, b)
}

/// Config text for `n` cameras on the two sites; keys and passwords come
/// from `DUALREC_TEST_*` environment variables.
pub fn config_text(a: &str, b: &str, n: usize, data_dir: &Path, policy: &str) -> String {
    let mut t = format!(
        r#"[engine]
listen = "127.0.0.1:0"
data_dir = "{}"
seed = 7

[[api_key]]
name = "writer"
key_env = "DUALREC_TEST_WRITE_KEY"
role = "write"

[[api_key]]
name = "reader"
key_env = "DUALREC_TEST_READ_KEY"
role = "read"

[[api_key]]
name = "prometheus"
key_env = "DUALREC_TEST_METRICS_KEY"
role = "metrics"
"#,
        data_dir.display()
    );
    for (name, url) in [("primary", a), ("secondary", b)] {
        t.push_str(&format!(
            r#"
[[site]]
name = "{name}"
management_url = "{url}"
recorder_url = "{url}"
username = "{SITE_USER}"
password_env = "DUALREC_TEST_SITE_PASSWORD"
"#
        ));
    }
    for i in 1..=n {
        t.push_str(&format!(
            "\n[[camera]]\nname = \"{}\"\ndevices = {{ primary = \"{}\", secondary = \"{}\" }}\n",
            camera(i),
            device(0, i),
            device(1, i)
        ));
    }
    t.push_str(policy);
    t
}

/// The environment the config expects.
pub fn env() -> [(&'static str, &'static str); 4] {
    [
        ("DUALREC_TEST_WRITE_KEY", WRITE_KEY),
        ("DUALREC_TEST_READ_KEY", READ_KEY),
        ("DUALREC_TEST_METRICS_KEY", METRICS_KEY),
        ("DUALREC_TEST_SITE_PASSWORD", SITE_PASSWORD),
    ]
}

struct TestSecrets;

impl SecretSource for TestSecrets {
    fn env(&self, name: &str) -> Option<String> {
        env()
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Parses `text` with the test secrets.
pub fn parse_config(text: &str) -> EngineConfig {
    EngineConfig::parse("engine.toml", text, Path::new("."), &TestSecrets)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `f` every 20 ms until it holds or `timeout` passes.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
