//! The start/stop cycles: clicks go through the real engine — in-process
//! ([`engine::runtime::spawn`]) or a running `dualrec engine` over its REST
//! API (`PUT /v1/cameras/{camera}/recording`, bearer key) — and every click
//! is confirmed with IsManualRecording on every site.
//!
//! Every click is recorded (time on this machine's clock, in ns since the
//! run's origin) as the ground truth of the intent; the recorders' answer
//! comes later from their footage (`footage.rs`). The set of cameras the run
//! started and has not seen stopped is kept in [`Shared`] so that Ctrl-C can
//! stop exactly those.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Duration;

use engine::core::{CameraId, Nanos, MILLIS};
use engine::runtime::EngineHandle;
use serde::Serialize;
use sim::world::record::ClickRecord;

use super::live::Session;
use super::log::{utc_now, ActionLog};
use super::plan::secs;
use super::Target;

/// How often a confirmation polls IsManualRecording.
pub const POLL: Duration = Duration::from_millis(25);

/// Where clicks go.
#[derive(Debug)]
pub enum Clicker {
    /// The engine in this process.
    InProcess(EngineHandle),
    /// A running `dualrec engine`.
    Remote {
        http: reqwest::Client,
        url: String,
        key: String,
    },
}

impl Clicker {
    /// Sets the intent of `cameras` (one batch in-process; one PUT each remotely).
    pub async fn set(&self, cameras: &[CameraId], recording: bool) -> Result<(), String> {
        match self {
            Clicker::InProcess(h) => {
                let intents = cameras.iter().map(|c| (c.clone(), recording)).collect();
                let results = h.set_intents(intents).await.map_err(|e| e.to_string())?;
                for r in results {
                    r.map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Clicker::Remote { http, url, key } => {
                let mut tasks = tokio::task::JoinSet::new();
                for c in cameras {
                    let req = http
                        .put(format!(
                            "{}/v1/cameras/{}/recording",
                            url.trim_end_matches('/'),
                            c.as_str()
                        ))
                        .bearer_auth(key)
                        .header("content-type", "application/json")
                        .body(serde_json::json!({ "recording": recording }).to_string());
                    let name = c.as_str().to_owned();
                    tasks.spawn(async move {
                        let resp = req.send().await.map_err(|e| format!("{name}: {e}"))?;
                        if resp.status().is_success() {
                            Ok(())
                        } else {
                            let status = resp.status();
                            let body = resp.text().await.unwrap_or_default();
                            Err(format!("{name}: HTTP {status}: {}", body.trim()))
                        }
                    });
                }
                let mut errors = Vec::new();
                while let Some(r) = tasks.join_next().await {
                    match r {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => errors.push(e),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(format!("the engine refused: {}", errors.join("; ")))
                }
            }
        }
    }
}

/// This machine's clock as ns since the run's origin (a UTC instant a
/// little before the first click, so pre-buffered footage has room).
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    pub origin_utc_ns: i64,
}

impl RunClock {
    /// Now, in run time.
    pub fn now(&self) -> Nanos {
        u64::try_from(utc_now().unix_nanos() - self.origin_utc_ns).unwrap_or(0)
    }
}

/// What the run has done, shared with the Ctrl-C handler.
#[derive(Debug, Default)]
pub struct Shared {
    /// Targets (indices) started by the run and not yet seen stopped everywhere.
    pub started: Mutex<BTreeSet<usize>>,
    /// Clicks so far.
    pub clicks: Mutex<Vec<ClickRecord>>,
    /// A drill cut is in force (Ctrl-C must restore it).
    pub cut: AtomicBool,
    /// Each cycle's log.
    pub cycles: Mutex<Vec<CycleLog>>,
}

/// One start/stop cycle as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct CycleLog {
    /// `cycle` or `drill`.
    pub kind: String,
    pub start_ns: Nanos,
    pub stop_ns: Option<Nanos>,
    /// Per site: IsManualRecording agreed `true` this long after the click (ns).
    pub start_confirmed_after_ns: Vec<Option<Nanos>>,
    pub stop_confirmed_after_ns: Vec<Option<Nanos>>,
    /// Drill only: when the site was cut and restored, and when it recorded again.
    pub cut_ns: Option<Nanos>,
    pub restored_ns: Option<Nanos>,
    pub resumed_ns: Option<Nanos>,
}

/// Everything a cycle needs.
pub struct Ctx<'a> {
    pub sessions: &'a [Session],
    pub targets: &'a [Target],
    pub clicker: &'a Clicker,
    pub clock: RunClock,
    pub log: &'a ActionLog,
    pub shared: &'a Shared,
    pub confirm_timeout: Nanos,
}

impl Ctx<'_> {
    fn ids(&self) -> Vec<CameraId> {
        self.targets.iter().map(|t| t.id.clone()).collect()
    }

    /// Clicks every target to `recording`; returns the click time.
    pub async fn click(&self, recording: bool) -> Result<Nanos, String> {
        let at = self.clock.now();
        {
            let mut clicks = self.shared.clicks.lock().unwrap_or_else(|e| e.into_inner());
            for c in 0..self.targets.len() {
                clicks.push(ClickRecord {
                    at,
                    camera: c,
                    recording,
                });
            }
        }
        if recording {
            let mut s = self
                .shared
                .started
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            s.extend(0..self.targets.len());
        }
        let names: Vec<&str> = self.targets.iter().map(|t| t.name.as_str()).collect();
        self.log.action(format!(
            "click: {} {}",
            if recording { "START" } else { "STOP" },
            names.join(", ")
        ));
        self.clicker.set(&self.ids(), recording).await?;
        Ok(at)
    }

    /// Polls IsManualRecording on site `r` until every target is `want`;
    /// returns when (run time), or `None` after the confirm timeout.
    pub async fn confirm_site(&self, r: usize, want: bool, since: Nanos) -> Option<Nanos> {
        let session = &self.sessions[r];
        let deadline = since + self.confirm_timeout;
        let mut last_error = None;
        loop {
            let mut all = true;
            let mut recorders: Vec<usize> = self.targets.iter().map(|t| t.devices[r].0).collect();
            recorders.sort_unstable();
            recorders.dedup();
            for rec in recorders {
                let devices: Vec<String> = self
                    .targets
                    .iter()
                    .filter(|t| t.devices[r].0 == rec)
                    .map(|t| t.devices[r].1.clone())
                    .collect();
                match session.is_recording(rec, &devices).await {
                    Ok(states) => {
                        all &= devices.iter().all(|d| {
                            states
                                .iter()
                                .any(|(s, on)| s.eq_ignore_ascii_case(d) && *on == want)
                        })
                    }
                    Err(e) => {
                        all = false;
                        last_error = Some(e);
                    }
                }
            }
            let now = self.clock.now();
            if all {
                return Some(now);
            }
            if now > deadline {
                self.log.action(format!(
                    "confirm {}: still not {} after {}{}",
                    session.site.name(),
                    if want { "recording" } else { "stopped" },
                    secs(self.confirm_timeout),
                    last_error
                        .map(|e| format!(" (last error: {e})"))
                        .unwrap_or_default()
                ));
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Confirms `want` on every site but `skip`, concurrently; per site the
    /// delay after `click` (ns).
    pub async fn confirm(
        &self,
        want: bool,
        click: Nanos,
        skip: Option<usize>,
    ) -> Vec<Option<Nanos>> {
        let futures = (0..self.sessions.len()).map(|r| async move {
            if Some(r) == skip {
                return None;
            }
            self.confirm_site(r, want, click)
                .await
                .map(|t| t.saturating_sub(click))
        });
        let out = join_all(futures).await;
        for (r, d) in out.iter().enumerate() {
            if Some(r) == skip {
                continue;
            }
            if let Some(d) = d {
                self.log.action(format!(
                    "confirmed: {} {} on {} ({} after the click, by IsManualRecording)",
                    if want { "recording" } else { "stopped" },
                    self.targets
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.sessions[r].site.name(),
                    secs(*d)
                ));
            }
        }
        if !want
            && out
                .iter()
                .enumerate()
                .all(|(r, d)| Some(r) == skip || d.is_some())
        {
            self.shared
                .started
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        out
    }

    /// Sleeps until run time `t`.
    pub async fn sleep_until(&self, t: Nanos) {
        let now = self.clock.now();
        if t > now {
            tokio::time::sleep(Duration::from_nanos(t - now)).await;
        }
    }

    /// One ordinary cycle.
    pub async fn cycle(&self, k: u32, n: u32, session: Nanos) -> Result<CycleLog, String> {
        self.log.action(format!("cycle {}/{n}: start", k + 1));
        let a = self.click(true).await?;
        let start_confirmed = self.confirm(true, a, None).await;
        self.sleep_until(a + session).await;
        let b = self.click(false).await?;
        let stop_confirmed = self.confirm(false, b, None).await;
        self.log.action(format!(
            "cycle {}/{n}: done (recorded {})",
            k + 1,
            secs(b - a)
        ));
        Ok(CycleLog {
            kind: "cycle".into(),
            start_ns: a,
            stop_ns: Some(b),
            start_confirmed_after_ns: start_confirmed,
            stop_confirmed_after_ns: stop_confirmed,
            cut_ns: None,
            restored_ns: None,
            resumed_ns: None,
        })
    }
}

/// Runs futures concurrently, results in order.
pub async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Half a second, the settle time after the last stop before footage is read.
pub const SETTLE: Nanos = 500 * MILLIS;
