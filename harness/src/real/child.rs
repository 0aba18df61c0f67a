//! The engine as a child process, driven the way a real client drives it:
//! `dualrec engine` started from a generated site config, clicks sent to its
//! REST API (`POST /v1/recording/batch`), and an `engine_crash` fault a real
//! `SIGKILL` — the restarted process recovers from its own SQLite journal.
//!
//! Owns the process, its config, data folder and logs; it must not reach
//! into the engine: everything goes through the process boundary.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine::core::{MirrorConfig, Nanos, Policy};

use super::RealError;
use crate::build::{SIM_PASSWORD, SIM_USERNAME};

/// Environment variable carrying the harness's API key to the child.
const KEY_ENV: &str = "DUALREC_HARNESS_API_KEY";
/// Environment variable carrying the mock sites' password to the child.
const PASSWORD_ENV: &str = "DUALREC_HARNESS_SITE_PASSWORD";
/// A write key for this run (not a secret: it guards a loopback test engine).
const API_KEY: &str = "dualrec-harness-write-key";
/// How long a (re)started engine may take to report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Where each site is served, for the generated config.
pub struct SiteAddress {
    pub service_url: String,
    pub recorder_urls: Vec<String>,
}

/// A running (or crashed) `dualrec engine` child.
pub struct ChildEngine {
    binary: PathBuf,
    dir: tempfile::TempDir,
    config: PathBuf,
    child: Option<Child>,
    base_url: Option<String>,
    http: reqwest::Client,
    incarnation: u32,
}

impl ChildEngine {
    /// Writes the config for `cfg` (sites at `addresses`) and starts the
    /// engine; returns once it reports ready (journal restored).
    pub async fn start(
        binary: &Path,
        cfg: &MirrorConfig,
        addresses: &[SiteAddress],
        seed: u64,
    ) -> Result<ChildEngine, RealError> {
        let dir = tempfile::tempdir().map_err(|e| RealError::Engine(format!("temp dir: {e}")))?;
        let config = dir.path().join("engine.toml");
        let text = config_text(cfg, addresses, &dir.path().join("data"), seed);
        fs::write(&config, text)
            .map_err(|e| RealError::Engine(format!("writing {}: {e}", config.display())))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| RealError::Engine(format!("HTTP client: {e}")))?;
        let mut engine = ChildEngine {
            binary: binary.to_path_buf(),
            dir,
            config,
            child: None,
            base_url: None,
            http,
            incarnation: 0,
        };
        engine.spawn().await?;
        Ok(engine)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// `SIGKILL`: the process dies wherever it is.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.base_url = None;
    }

    /// Starts a new incarnation on the same data folder (and journal).
    pub async fn spawn(&mut self) -> Result<(), RealError> {
        self.incarnation += 1;
        let log = self
            .dir
            .path()
            .join(format!("engine-{}.log", self.incarnation));
        let log_file = fs::File::create(&log)
            .map_err(|e| RealError::Engine(format!("{}: {e}", log.display())))?;
        let child = Command::new(&self.binary)
            .args(["engine", "--config"])
            .arg(&self.config)
            .args(["--listen", "127.0.0.1:0"])
            .env(KEY_ENV, API_KEY)
            .env(PASSWORD_ENV, SIM_PASSWORD)
            .env("DUALREC_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| RealError::Engine(format!("starting {}: {e}", self.binary.display())))?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            if let Some(addr) = text.lines().find_map(|l| l.split("listening on ").nth(1)) {
                let addr = addr.split_whitespace().next().unwrap_or_default();
                self.base_url = Some(format!("http://{addr}"));
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || started.elapsed() > READY_TIMEOUT {
                self.kill();
                return Err(RealError::Engine(format!(
                    "`dualrec engine` did not become ready ({}): {}",
                    exited.map_or("timed out".to_string(), |s| s.to_string()),
                    text.trim()
                )));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Sends clicks as one batch; returns how many the engine acknowledged.
    pub async fn click(&self, intents: &[(String, bool)]) -> Result<usize, String> {
        let Some(base) = &self.base_url else {
            return Err("engine not running".into());
        };
        let body = serde_json::json!({
            "intents": intents
                .iter()
                .map(|(camera, recording)| serde_json::json!({"camera": camera, "recording": recording}))
                .collect::<Vec<_>>()
        });
        let resp = self
            .http
            .post(format!("{base}/v1/recording/batch"))
            .bearer_auth(API_KEY)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("HTTP {status}: {text}"));
        }
        Ok(intents.len())
    }
}

impl Drop for ChildEngine {
    fn drop(&mut self) {
        self.kill();
    }
}

fn dur(ns: Nanos) -> String {
    format!("{ns}ns")
}

/// The site config (`docs/site-config.md`) for the mock sites of this run.
fn config_text(
    cfg: &MirrorConfig,
    addresses: &[SiteAddress],
    data_dir: &Path,
    seed: u64,
) -> String {
    let mut t = String::new();
    let _ = write!(
        t,
        "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\nseed = {seed}\n\n[[api_key]]\nname = \"harness\"\nkey_env = \"{KEY_ENV}\"\nrole = \"write\"\n",
        data_dir.display().to_string()
    );
    for (spec, addr) in cfg.sites.iter().zip(addresses) {
        let urls: Vec<String> = addr
            .recorder_urls
            .iter()
            .map(|u| format!("{u:?}"))
            .collect();
        let _ = write!(
            t,
            "\n[[site]]\nname = {:?}\nmanagement_url = {:?}\nrecorder_urls = [{}]\nusername = {:?}\npassword_env = \"{PASSWORD_ENV}\"\nauth = \"basic\"\nmanual_recording_max = {}\nprebuffer = \"{}\"\n",
            spec.name,
            addr.service_url,
            urls.join(", "),
            SIM_USERNAME,
            spec.manual_recording_max.map_or("\"off\"".to_string(), |m| format!("\"{}\"", dur(m))),
            dur(spec.prebuffer),
        );
    }
    for camera in &cfg.cameras {
        let devices: Vec<String> = camera
            .placements
            .iter()
            .map(|p| {
                let mut own = String::new();
                if let Some(limit) = p.settings.manual_recording_max {
                    let limit = limit.map_or("off".to_string(), dur);
                    let _ = write!(own, ", manual_recording_max = \"{limit}\"");
                }
                if let Some(prebuffer) = p.settings.prebuffer {
                    let _ = write!(own, ", prebuffer = \"{}\"", dur(prebuffer));
                }
                format!(
                    "{} = {{ device = {:?}, recorder = {}{own} }}",
                    cfg.sites[p.site].name,
                    p.device.as_str(),
                    p.recorder
                )
            })
            .collect();
        let _ = write!(
            t,
            "\n[[camera]]\nname = {:?}\ndevices = {{ {} }}\n",
            camera.id.as_str(),
            devices.join(", ")
        );
    }
    let p: &Policy = &cfg.policy;
    let _ = write!(
        t,
        "\n[policy]\nrequest_timeout = \"{}\"\nretry_initial = \"{}\"\nretry_max = \"{}\"\nprobe_interval = \"{}\"\ndown_probe_interval = \"{}\"\nfailures_before_down = {}\nrenew_before = \"{}\"\ntoken_renew_before = \"{}\"\n",
        dur(p.request_timeout),
        dur(p.retry_initial),
        dur(p.retry_max),
        dur(p.probe_interval),
        dur(p.down_probe_interval),
        p.failures_before_down,
        dur(p.renew_before),
        dur(p.token_renew_before),
    );
    t
}
