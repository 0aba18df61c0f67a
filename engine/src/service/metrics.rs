//! Prometheus metrics, written by hand in the text exposition format.
//!
//! Sources: the engine's counters ([`RuntimeStats`]), per-site request
//! latency and failures from the runtime's [`RuntimeEvent`] observer
//! (dispatch → reply), REST write latency from the handlers, and a periodic
//! census of cameras recording per site (one status read per camera, paced
//! so that it never takes more than a tenth of the engine loop).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::core::{CameraId, Observed, RecorderOp, RequestId, SiteId};
use crate::runtime::{EngineHandle, Outcome, RequestKind, RuntimeEvent, RuntimeStats};

/// Upper bounds (seconds) of the site request latency histogram.
const SITE_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Upper bounds (seconds) of the REST write latency histogram.
const API_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, secs: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| secs <= b) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

fn op_name(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Login { .. } => "login",
        RequestKind::Recorder { op, .. } => match op {
            RecorderOp::Start => "start",
            RecorderOp::Stop => "stop",
            RecorderOp::Probe => "probe",
        },
    }
}

#[derive(Debug, Default)]
struct SiteOps {
    /// (site, op) → latency of answered requests (faults included).
    latency: BTreeMap<(SiteId, &'static str), Histogram>,
    /// (site, op) → transport failures and SOAP faults.
    failures: BTreeMap<(SiteId, &'static str), u64>,
    pending: HashMap<RequestId, (Instant, SiteId, &'static str)>,
}

/// Cameras wanted recording, and observed recording per site.
#[derive(Debug, Default, Clone)]
struct Census {
    wanted: u64,
    recording: Vec<u64>,
    done: bool,
}

/// Everything `/metrics` shows that the engine's own stats do not.
#[derive(Debug)]
pub struct Metrics {
    site_names: Vec<String>,
    ops: Mutex<SiteOps>,
    api_writes: Mutex<Histogram>,
    census: Mutex<Census>,
    pub writes: AtomicU64,
    pub write_errors: AtomicU64,
    started: Instant,
}

impl Metrics {
    pub fn new(site_names: Vec<String>) -> Arc<Self> {
        Arc::new(Metrics {
            census: Mutex::new(Census {
                recording: vec![0; site_names.len()],
                ..Census::default()
            }),
            site_names,
            ops: Mutex::new(SiteOps::default()),
            api_writes: Mutex::new(Histogram::new(API_BUCKETS)),
            writes: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// One REST write answered after `elapsed`.
    pub fn observe_write(&self, elapsed: Duration) {
        if let Ok(mut h) = self.api_writes.lock() {
            h.observe(elapsed.as_secs_f64());
        }
    }

    fn on_event(&self, ev: RuntimeEvent) {
        let Ok(mut ops) = self.ops.lock() else {
            return;
        };
        match ev {
            RuntimeEvent::Dispatched {
                at,
                req,
                site,
                kind,
            } => {
                ops.pending.insert(req, (at, site, op_name(kind)));
            }
            RuntimeEvent::Replied {
                at, req, outcome, ..
            } => {
                let Some((sent, site, op)) = ops.pending.remove(&req) else {
                    return;
                };
                match outcome {
                    Outcome::Failed(_) | Outcome::Fault { .. } => {
                        *ops.failures.entry((site, op)).or_default() += 1;
                    }
                    _ => {}
                }
                if !matches!(outcome, Outcome::Failed(_)) {
                    ops.latency
                        .entry((site, op))
                        .or_insert_with(|| Histogram::new(SITE_BUCKETS))
                        .observe(at.saturating_duration_since(sent).as_secs_f64());
                }
            }
            RuntimeEvent::Intent { .. } => {}
        }
    }

    /// Consumes the runtime's events until the runtime stops.
    pub async fn collect(self: Arc<Self>, mut events: mpsc::UnboundedReceiver<RuntimeEvent>) {
        while let Some(ev) = events.recv().await {
            self.on_event(ev);
        }
    }

    /// Counts cameras wanted/observed recording now and then, taking at
    /// most about a tenth of the time in status reads.
    pub async fn census(self: Arc<Self>, engine: EngineHandle, cameras: Arc<Vec<CameraId>>) {
        loop {
            let began = Instant::now();
            let mut c = Census {
                recording: vec![0; self.site_names.len()],
                done: true,
                ..Census::default()
            };
            for cam in cameras.iter() {
                let Ok(status) = engine.status(cam).await else {
                    return;
                };
                let Some(status) = status else { continue };
                if status.intent.is_some_and(|(_, r)| r) {
                    c.wanted += 1;
                }
                for (i, s) in status.sites.iter().enumerate() {
                    if s.observed == Observed::Recording {
                        if let Some(n) = c.recording.get_mut(i) {
                            *n += 1;
                        }
                    }
                }
            }
            if let Ok(mut census) = self.census.lock() {
                *census = c;
            }
            let pause = (began.elapsed() * 9).max(Duration::from_secs(5));
            tokio::time::sleep(pause).await;
        }
    }

    /// The text exposition of everything.
    pub fn render(&self, stats: Option<&RuntimeStats>, ready: bool) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "dualrec_ready",
            "1 when the journal is open and intents are restored.",
            u64::from(ready),
        );
        gauge(
            &mut out,
            "dualrec_uptime_seconds",
            "Seconds since the service started.",
            self.started.elapsed().as_secs(),
        );
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "dualrec_api_writes_total",
            "Intents acknowledged by the REST API (journaled), repeats included.",
            self.writes.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "dualrec_api_write_errors_total",
            "REST writes that failed after authentication (journal or engine unavailable).",
            self.write_errors.load(Ordering::Relaxed),
        );
        if let Ok(h) = self.api_writes.lock() {
            let name = "dualrec_api_write_duration_seconds";
            let _ = writeln!(out, "# HELP {name} REST write latency (request to durable answer).\n# TYPE {name} histogram");
            h.render(&mut out, name, "");
        }
        if let Some(s) = stats {
            let m = &s.mirror;
            for (name, help, v) in [
                (
                    "dualrec_intents_total",
                    "New intents accepted by the engine (repeated clicks not counted).",
                    m.intents,
                ),
                (
                    "dualrec_engine_requests_total",
                    "Recorder requests the engine sent.",
                    m.requests,
                ),
                (
                    "dualrec_logins_total",
                    "Logins (and token renewals) sent.",
                    m.logins,
                ),
                (
                    "dualrec_probes_total",
                    "IsManualRecording probes sent.",
                    m.probes,
                ),
                (
                    "dualrec_failures_total",
                    "Requests that failed (transport or fault).",
                    m.failures,
                ),
                (
                    "dualrec_timeouts_total",
                    "Requests that timed out.",
                    m.timeouts,
                ),
                (
                    "dualrec_renewals_total",
                    "Manual recordings renewed before the site's auto-stop.",
                    m.renewals,
                ),
                (
                    "dualrec_drifts_repaired_total",
                    "Recordings a probe found lost and the engine restarted.",
                    m.drifts_repaired,
                ),
                (
                    "dualrec_orphans_stopped_total",
                    "Recordings nobody wanted that the engine stopped.",
                    m.orphans_stopped,
                ),
                (
                    "dualrec_sites_down_total",
                    "Times a site was marked down.",
                    m.sites_down,
                ),
                (
                    "dualrec_sites_recovered_total",
                    "Times a site came back up.",
                    m.sites_recovered,
                ),
            ] {
                counter(&mut out, name, help, v);
            }
            gauge(
                &mut out,
                "dualrec_inflight_requests",
                "Requests awaiting a reply.",
                s.inflight as u64,
            );
            let name = "dualrec_site_up";
            let _ = writeln!(
                out,
                "# HELP {name} 1 when the engine considers the site up.\n# TYPE {name} gauge"
            );
            for (site, up) in &s.sites_up {
                let _ = writeln!(out, "{name}{{site=\"{site}\"}} {}", u64::from(*up));
            }
            // A site's configuration problem: rejected credentials or an
            // untrusted certificate (1 while it lasts).
            let name = "dualrec_site_config_error";
            let _ = writeln!(
                out,
                "# HELP {name} 1 while a site cannot be used until its configuration is fixed (kind: credentials_rejected, untrusted_certificate).\n# TYPE {name} gauge"
            );
            for (site, _) in &s.sites_up {
                for kind in ["credentials_rejected", "untrusted_certificate"] {
                    let on = s
                        .site_problems
                        .iter()
                        .any(|p| &p.site == site && p.kind == kind);
                    let _ = writeln!(
                        out,
                        "{name}{{site=\"{site}\",kind=\"{kind}\"}} {}",
                        u64::from(on)
                    );
                }
            }
        }
        if let Ok(c) = self.census.lock() {
            if c.done {
                gauge(
                    &mut out,
                    "dualrec_cameras_wanted_recording",
                    "Cameras whose latest intent is recording.",
                    c.wanted,
                );
                let name = "dualrec_cameras_recording";
                let _ = writeln!(out, "# HELP {name} Cameras the engine observed manually recording, per site (refreshed every few seconds).\n# TYPE {name} gauge");
                for (site, n) in self.site_names.iter().zip(&c.recording) {
                    let _ = writeln!(out, "{name}{{site=\"{site}\"}} {n}");
                }
            }
        }
        if let Ok(ops) = self.ops.lock() {
            let name = "dualrec_site_request_failures_total";
            let _ = writeln!(out, "# HELP {name} Site requests that failed (transport error or SOAP fault), by site and operation.\n# TYPE {name} counter");
            for ((site, op), n) in &ops.failures {
                let site = self.site_names.get(*site).map_or("?", String::as_str);
                let _ = writeln!(out, "{name}{{site=\"{site}\",op=\"{op}\"}} {n}");
            }
            let name = "dualrec_site_request_duration_seconds";
            let _ = writeln!(out, "# HELP {name} Latency of answered site requests (dispatch to reply), by site and operation.\n# TYPE {name} histogram");
            for ((site, op), h) in &ops.latency {
                let site = self.site_names.get(*site).map_or("?", String::as_str);
                h.render(&mut out, name, &format!("site=\"{site}\",op=\"{op}\""));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        h.observe(0.05);
        h.observe(0.5);
        h.observe(5.0);
        let mut out = String::new();
        h.render(&mut out, "x", "site=\"a\"");
        assert!(out.contains("x_bucket{site=\"a\",le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{site=\"a\",le=\"1\"} 2\n"), "{out}");
        assert!(
            out.contains("x_bucket{site=\"a\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("x_count{site=\"a\"} 3\n"), "{out}");
    }
}
