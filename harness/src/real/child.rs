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
    ///
    /// Retries the way a button client must: a request that failed in
    /// transit (a keep-alive connection closed under it, a time-out) or was
    /// refused for a passing reason (`408`, `429`, `5xx`) is sent again, up
    /// to [`CLICK_ATTEMPTS`] times. Setting an intent is idempotent (the same
    /// camera to the same state), so a request that did arrive the first
    /// time does no harm when repeated; the caller sends the next wave only
    /// after this one, so each camera's clicks stay in order. Any other
    /// refusal (`4xx`: a bad key, an unknown camera) is final.
    pub async fn click(&self, intents: &[(String, bool)]) -> Result<usize, String> {
        let Some(base) = &self.base_url else {
            return Err("engine not running".into());
        };
        let body = serde_json::json!({
            "intents": intents
                .iter()
                .map(|(camera, recording)| serde_json::json!({"camera": camera, "recording": recording}))
                .collect::<Vec<_>>()
        })
        .to_string();
        let mut backoff = CLICK_RETRY_INITIAL;
        let mut failures = Vec::new();
        for attempt in 1..=CLICK_ATTEMPTS {
            let sent = self
                .http
                .post(format!("{base}/v1/recording/batch"))
                .bearer_auth(API_KEY)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(resp) if resp.status().is_success() => return Ok(intents.len()),
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    let failure = format!("HTTP {status}: {}", text.trim());
                    if !is_passing(status) {
                        failures.push(failure);
                        break;
                    }
                    failure
                }
                Err(e) => format!("{e:#}"),
            };
            tracing::warn!(attempt, error = %failure, "click batch not accepted; retrying");
            failures.push(failure);
            if attempt < CLICK_ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(CLICK_RETRY_MAX);
            }
        }
        Err(failures.join("; "))
    }
}

/// Attempts at one click batch before the clicks count as lost.
const CLICK_ATTEMPTS: u32 = 6;
/// Wait before the first retry; doubled per attempt up to [`CLICK_RETRY_MAX`].
const CLICK_RETRY_INITIAL: Duration = Duration::from_millis(25);
const CLICK_RETRY_MAX: Duration = Duration::from_millis(800);

/// A refusal worth retrying: the engine was busy, slow or briefly unready.
fn is_passing(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
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
                    &*p.device.text(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// An engine stand-in: answers connection `i` with `answers[i]` (`None`:
    /// closes the connection without answering), and counts requests.
    async fn stand_in(
        answers: Vec<Option<&'static str>>,
    ) -> (String, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let mut served = 0;
            for answer in answers {
                let Ok((mut sock, _)) = listener.accept().await else {
                    break;
                };
                let mut buf = vec![0u8; 64 * 1024];
                let _ = sock.read(&mut buf).await;
                served += 1;
                if let Some(status) = answer {
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                }
            }
            served
        });
        (url, server)
    }

    fn engine_at(url: String) -> ChildEngine {
        let dir = tempfile::tempdir().unwrap();
        ChildEngine {
            binary: PathBuf::from("dualrec"),
            config: dir.path().join("engine.toml"),
            dir,
            child: None,
            base_url: Some(url),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            incarnation: 1,
        }
    }

    #[tokio::test]
    async fn a_click_lost_in_transit_or_refused_in_passing_is_sent_again() {
        let (url, server) =
            stand_in(vec![None, Some("503 Service Unavailable"), Some("200 OK")]).await;
        let engine = engine_at(url);
        let acknowledged = engine.click(&[("cam-001".into(), true)]).await;
        assert_eq!(acknowledged, Ok(1));
        assert_eq!(server.await.unwrap(), 3, "dropped, 503, then accepted");
    }

    #[tokio::test]
    async fn a_final_refusal_is_not_retried() {
        let (url, server) = stand_in(vec![Some("404 Not Found"), Some("200 OK")]).await;
        let engine = engine_at(url);
        let err = engine.click(&[("cam-404".into(), true)]).await.unwrap_err();
        assert!(err.contains("404"), "{err}");
        server.abort();
        assert!(
            server.await.is_err(),
            "the stand-in still waited for a second request"
        );
    }

    #[tokio::test]
    async fn clicks_count_as_lost_after_the_last_attempt() {
        let (url, server) = stand_in(vec![
            Some("503 Service Unavailable");
            CLICK_ATTEMPTS as usize
        ])
        .await;
        let engine = engine_at(url);
        let err = engine.click(&[("cam-001".into(), true)]).await.unwrap_err();
        assert_eq!(err.matches("503").count(), CLICK_ATTEMPTS as usize, "{err}");
        assert_eq!(server.await.unwrap(), CLICK_ATTEMPTS as usize);
    }
}
