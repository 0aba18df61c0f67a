//! Crash safety of `dualrec engine` as a child process: it is killed again
//! and again while clients click — aborted right after a journal commit
//! and before the answer (`DUALREC_TEST_CRASH_AFTER_JOURNAL`), and SIGKILLed
//! at random moments — and restarted from its journal each time. Every
//! acknowledged intent must survive each crash (an unanswered one may or may
//! not), and at the end both mock sites must agree with the final intents.
//! A last SIGTERM exits 0 and leaves the recorders recording.

mod engine_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_support::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const CAMERAS: usize = 8;
const CLIENTS: usize = 4;
const INCARNATIONS: usize = 10;

/// xorshift64*: a small deterministic RNG for the test's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the clients know per camera: the last acknowledged intent
/// `(seq, recording)`, and a click sent but not (yet) answered.
#[derive(Debug, Default, Clone)]
struct Known {
    acked: Option<(u64, bool)>,
    inflight: Option<bool>,
}

struct Engine {
    child: Child,
    base: String,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_engine(config: &std::path::Path, crash_after: Option<u64>) -> Engine {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dualrec"));
    cmd.args(["engine", "--config"])
        .arg(config)
        .envs(env())
        .env_remove("DUALREC_TEST_CRASH_AFTER_JOURNAL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(n) = crash_after {
        cmd.env("DUALREC_TEST_CRASH_AFTER_JOURNAL", n.to_string());
    }
    let mut child = cmd.spawn().expect("spawn dualrec engine");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("listening on ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the engine prints `listening on ADDR` once ready");
    Engine {
        child,
        base: format!("http://{addr}"),
    }
}

/// One client clicking its own cameras until a request fails.
async fn clicker(
    client: Client,
    base: String,
    cameras: Vec<usize>,
    known: Arc<Mutex<Vec<Known>>>,
    mut rng: Rng,
) {
    loop {
        let c = cameras[rng.below(cameras.len() as u64) as usize];
        let rec = rng.below(2) == 0;
        known.lock().unwrap()[c].inflight = Some(rec);
        let res = client
            .put(format!("{base}/v1/cameras/{}/recording", camera(c + 1)))
            .bearer_auth(WRITE_KEY)
            .header("content-type", "application/json")
            .body(format!("{{\"recording\": {rec}}}"))
            .send()
            .await;
        let Ok(res) = res else { return };
        if res.status() != StatusCode::OK {
            return;
        }
        let Ok(text) = res.text().await else { return };
        let v: Value = serde_json::from_str(&text).expect("a JSON answer");
        let seq = v["seq"].as_u64().expect("seq");
        let mut k = known.lock().unwrap();
        k[c] = Known {
            acked: Some((seq, rec)),
            inflight: None,
        };
    }
}

/// Every camera's `(seq, recording)` as the engine reports it.
async fn intents(client: &Client, base: &str) -> Vec<Option<(u64, bool)>> {
    let v: Value = client
        .get(format!("{base}/v1/cameras"))
        .bearer_auth(READ_KEY)
        .send()
        .await
        .expect("GET /v1/cameras")
        .json_text()
        .await;
    v["cameras"]
        .as_array()
        .expect("cameras")
        .iter()
        .map(|c| Some((c["seq"].as_u64()?, c["recording"].as_bool()?)))
        .collect()
}

trait JsonText {
    async fn json_text(self) -> Value;
}

impl JsonText for reqwest::Response {
    async fn json_text(self) -> Value {
        serde_json::from_str(&self.text().await.expect("body")).expect("JSON")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_intents_survive_kill_9_at_any_moment() {
    let (a, b) = start_sites(CAMERAS).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(
        &config,
        config_text(
            &a.service_url(),
            &b.service_url(),
            CAMERAS,
            &dir.path().join("data"),
            "\n[policy]\nprobe_interval = \"500ms\"\n",
        ),
    )
    .unwrap();
    let client = Client::new();
    let known = Arc::new(Mutex::new(vec![Known::default(); CAMERAS]));
    let mut rng = Rng(0x5eed_1234_abcd_0001);

    // Every camera gets an intent first, so every camera is reconciled on
    // each restore (the engine never touches a camera without an intent).
    {
        let e = spawn_engine(&config, None);
        let intents: Vec<String> = (1..=CAMERAS)
            .map(|i| format!("{{\"camera\": \"{}\", \"recording\": false}}", camera(i)))
            .collect();
        let res = client
            .post(format!("{}/v1/recording/batch", e.base))
            .bearer_auth(WRITE_KEY)
            .header("content-type", "application/json")
            .body(format!("{{\"intents\": [{}]}}", intents.join(",")))
            .send()
            .await
            .expect("batch");
        assert_eq!(res.status(), StatusCode::OK);
        known
            .lock()
            .unwrap()
            .iter_mut()
            .for_each(|k| k.acked = Some((1, false)));
        // SIGKILL with nothing in flight.
        drop(e);
    }

    let mut hook_crashes = 0;
    for round in 0..INCARNATIONS {
        // Even rounds: abort right after the N-th journal commit; odd
        // rounds: SIGKILL after a random time.
        let hook = round.is_multiple_of(2);
        let crash_after = hook.then(|| 1 + rng.below(40));
        let mut e = spawn_engine(&config, crash_after);

        // Whatever was acknowledged before must be there.
        let restored = intents(&client, &e.base).await;
        {
            let mut k = known.lock().unwrap();
            for (c, got) in restored.iter().enumerate() {
                let Known { acked, inflight } = k[c].clone();
                let ok = *got == acked
                    || matches!((got, acked, inflight),
                        (Some((s, r)), Some((sa, _)), Some(ri)) if *r == ri && *s >= sa);
                assert!(
                    ok,
                    "round {round}: {} restored as {got:?}; acknowledged {acked:?}, unanswered {inflight:?}",
                    camera(c + 1)
                );
                k[c] = Known {
                    acked: *got,
                    inflight: None,
                };
            }
        }

        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..CLIENTS {
            let cams: Vec<usize> = (0..CAMERAS).filter(|c| c % CLIENTS == i).collect();
            tasks.spawn(clicker(
                client.clone(),
                e.base.clone(),
                cams,
                known.clone(),
                Rng(rng.next() | 1),
            ));
        }
        if hook {
            // The clients stop once the engine aborted itself.
            let all = async { while tasks.join_next().await.is_some() {} };
            tokio::time::timeout(Duration::from_secs(20), all)
                .await
                .expect("the crash hook fires");
            let status = e.child.wait().expect("wait");
            assert!(!status.success(), "the hook aborts the engine: {status:?}");
            hook_crashes += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(50 + rng.below(400))).await;
            e.child.kill().expect("SIGKILL");
            e.child.wait().expect("wait");
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
    }
    assert_eq!(hook_crashes, INCARNATIONS / 2);

    // The last incarnation: check, then wait for both sites to converge.
    let e = spawn_engine(&config, None);
    let restored = intents(&client, &e.base).await;
    let k = known.lock().unwrap().clone();
    for (c, got) in restored.iter().enumerate() {
        let ok = *got == k[c].acked
            || matches!((got, k[c].acked, k[c].inflight),
                (Some((s, r)), Some((sa, _)), Some(ri)) if *r == ri && *s >= sa);
        assert!(
            ok,
            "final: {} restored as {got:?}; known {:?}",
            camera(c + 1),
            k[c]
        );
    }
    // Final clicks: odd cameras record, even ones do not.
    let want: BTreeMap<usize, bool> = (1..=CAMERAS).map(|i| (i, i % 2 == 1)).collect();
    let intents: Vec<String> = want
        .iter()
        .map(|(i, r)| format!("{{\"camera\": \"{}\", \"recording\": {r}}}", camera(*i)))
        .collect();
    let res = client
        .post(format!("{}/v1/recording/batch", e.base))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(format!("{{\"intents\": [{}]}}", intents.join(",")))
        .send()
        .await
        .expect("batch");
    assert_eq!(res.status(), StatusCode::OK);
    let converged = eventually(Duration::from_secs(15), || {
        want.iter().all(|(&i, &rec)| {
            a.is_recording(&device(0, i)) == Some(rec) && b.is_recording(&device(1, i)) == Some(rec)
        })
    })
    .await;
    assert!(converged, "both sites match the final intents {want:?}");

    // SIGTERM: a clean exit, recorders left recording.
    let pid = e.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let mut e = e;
    let exit = e.child.wait().expect("wait");
    assert_eq!(exit.code(), Some(0), "SIGTERM exits 0");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for (&i, &rec) in &want {
        assert_eq!(a.is_recording(&device(0, i)), Some(rec), "after SIGTERM");
        assert_eq!(b.is_recording(&device(1, i)), Some(rec), "after SIGTERM");
    }
    let audit = engine::journal::Journal::read_audit(&dir.path().join("data")).expect("audit");
    assert!(audit.len() > CAMERAS, "{} journaled writes", audit.len());
}

#[test]
fn an_invalid_config_exits_2_naming_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.toml");
    let text = config_text(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        1,
        dir.path(),
        "",
    )
    .replace("role = \"read\"", "role = \"admin\"");
    std::fs::write(&config, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(["engine", "--config"])
        .arg(&config)
        .envs(env())
        .output()
        .expect("run dualrec engine");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "engine.toml:14:8: unknown variant `admin`; expected one of `metrics`, `read`, `write`"
        ),
        "{stderr}"
    );
    // --check validates (secrets included) without starting anything.
    let good = config_text(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        1,
        dir.path(),
        "",
    );
    std::fs::write(&config, good).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args(["engine", "--check", "--config"])
        .arg(&config)
        .envs(env())
        .env_remove("DUALREC_TEST_SITE_PASSWORD")
        .output()
        .expect("run dualrec engine --check");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`DUALREC_TEST_SITE_PASSWORD` is not set"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
