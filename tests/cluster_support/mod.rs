//! Shared by the replica tests and the failover benchmark: `dualrec engine`
//! replicas as child processes on one throwaway PostgreSQL journal, in
//! front of two in-process mock sites.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::Value;

use super::engine_support::*;

pub const DB_PASSWORD_ENV: &str = "DUALREC_TEST_DB_PASSWORD";

/// The config of replica `name` on journal `db_url`.
pub fn replica_config(dir: &Path, name: &str, a: &str, b: &str, n: usize, db_url: &str) -> PathBuf {
    let data = dir.join(name);
    let text = config_text(a, b, n, &data, "").replacen(
        "seed = 7\n",
        &format!(
            "seed = 7\njournal_url = \"{db_url}\"\njournal_password_env = \"{DB_PASSWORD_ENV}\"\nreplica = \"{name}\"\n"
        ),
        1,
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write the config");
    path
}

/// A replica process; killed when dropped. Its log goes to `log`.
pub struct Replica {
    pub name: String,
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = signal(self.child.id(), "CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts replica `name` with config `config`; returns once it serves.
pub fn spawn_replica(name: &str, config: &Path, dir: &Path) -> Replica {
    let log = dir.join(format!("{name}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(["engine", "--config"])
        .arg(config)
        .envs(env())
        .env(DB_PASSWORD_ENV, engine::pgtest::PASSWORD)
        .env("DUALREC_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dualrec engine");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let log_path = log.clone();
    std::thread::spawn(move || {
        let mut file = std::fs::File::create(&log_path).ok();
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(f) = &mut file {
                let _ = writeln!(f, "{line}");
            }
            if let Some(addr) = line.strip_prefix("listening on ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            panic!(
                "replica {name} did not start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    Replica {
        name: name.to_string(),
        child,
        base: format!("http://{addr}"),
        log,
    }
}

/// `GET /v1/cluster` of a replica (`None` when it does not answer).
pub async fn cluster(client: &Client, base: &str) -> Option<Value> {
    let res = client
        .get(format!("{base}/v1/cluster"))
        .bearer_auth(READ_KEY)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .ok()?;
    if res.status() != StatusCode::OK {
        return None;
    }
    serde_json::from_str(&res.text().await.ok()?).ok()
}

/// Index of the replica that says it leads, among those answering.
pub async fn leader(client: &Client, replicas: &[&Replica]) -> Option<(usize, u64)> {
    let mut found = None;
    for (i, r) in replicas.iter().enumerate() {
        if let Some(v) = cluster(client, &r.base).await {
            if v["role"] == "leader" {
                found = Some((i, v["epoch"].as_u64().unwrap_or(0)));
            }
        }
    }
    found
}

/// Waits until one of `replicas` leads; its index, epoch and the wait.
pub async fn await_leader(
    client: &Client,
    replicas: &[&Replica],
    timeout: Duration,
) -> Option<(usize, u64, Duration)> {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if let Some((i, e)) = leader(client, replicas).await {
            return Some((i, e, t0.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// A click through `base`: `Some(seq)` when acknowledged.
pub async fn click(client: &Client, base: &str, cam: usize, recording: bool) -> Option<u64> {
    let res = client
        .put(format!("{base}/v1/cameras/{}/recording", camera(cam)))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(format!("{{\"recording\": {recording}}}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let status = res.status();
    let text = res.text().await.ok()?;
    if status != StatusCode::OK {
        eprintln!("click camera {cam} -> {recording} through {base}: {status} {text}");
        return None;
    }
    let v: Value = serde_json::from_str(&text).ok()?;
    v["seq"].as_u64()
}

/// Whether camera `cam` (1-based) records on both sites as `recording` says.
pub fn sites_agree(
    a: &sim::server::MockSite,
    b: &sim::server::MockSite,
    cam: usize,
    recording: bool,
) -> bool {
    a.is_recording(&device(0, cam)) == Some(recording)
        && b.is_recording(&device(1, cam)) == Some(recording)
}

/// Acknowledged clicks, shared between clients and checks: per camera the
/// last acknowledged `(seq, recording)`.
pub type Acked = Arc<Mutex<Vec<Option<(u64, bool)>>>>;
