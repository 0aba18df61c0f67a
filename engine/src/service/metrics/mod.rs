//! Prometheus metrics of the service, kept and encoded by `prometheus-client`.
//!
//! Two kinds of figures end up on `/metrics`:
//! - **live** ones this module updates as things happen — REST write
//!   latency, and every site request by site, operation and outcome from
//!   the runtime's [`RuntimeEvent`] observer (dispatch → reply), and a
//!   periodic census of cameras recording per site (one status read per
//!   camera, paced so that it never takes more than a tenth of the loop);
//! - **snapshots** read at scrape time — the engine's counters
//!   ([`RuntimeStats`]), the replica's role, the device check, the security
//!   and connection counters, the process itself — registered as constant
//!   metrics of a registry built per scrape ([`scrape`]).
//!
//! Naming follows Prometheus conventions: `dualrec_` prefix, base units,
//! `_total` counters, one counter per meaning (a failed site request is a
//! `dualrec_site_requests_total` with `outcome != "ok"`, not a second
//! counter), `dualrec_build_info` and the standard `process_*` family.
//! This module must not decide anything: it only counts.

mod process;
pub mod scrape;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;

use crate::core::{CameraId, Observed, RecorderOp, RequestId, SiteId, TransportError};
use crate::runtime::{EngineHandle, Outcome, RequestKind, RuntimeEvent, RuntimeStats};

/// Upper bounds (seconds) of the site request latency histogram.
const SITE_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Upper bounds (seconds) of the REST write latency histogram.
const API_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// `{site, op}` of a site request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SiteOp {
    site: String,
    op: &'static str,
}

/// `{site, op, outcome}` of an answered (or failed) site request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SiteOpOutcome {
    site: String,
    op: &'static str,
    outcome: &'static str,
}

/// `{site}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct SiteLabel {
    pub site: String,
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

/// The `outcome` label of a reply: `ok` (answered, whatever the devices
/// said), `fault` (a SOAP fault), `credentials_rejected`, `timeout`, or
/// `transport_error` (refused, HTTP error, malformed reply).
fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::LoggedIn | Outcome::Results { .. } | Outcome::States(_) => "ok",
        Outcome::Fault { .. } => "fault",
        Outcome::CredentialsRejected => "credentials_rejected",
        Outcome::Failed(TransportError::Timeout) => "timeout",
        Outcome::Failed(_) => "transport_error",
    }
}

/// Cameras wanted recording, and observed recording per site.
#[derive(Debug, Default, Clone)]
struct Census {
    wanted: u64,
    recording: Vec<u64>,
    done: bool,
}

/// The live metrics of the service.
#[derive(Debug)]
pub struct Metrics {
    site_names: Vec<String>,
    /// Requests dispatched and not yet answered: when and what they were.
    pending: Mutex<HashMap<RequestId, (Instant, SiteId, &'static str)>>,
    site_requests: Family<SiteOpOutcome, Counter>,
    site_request_duration: Family<SiteOp, Histogram>,
    api_write_duration: Histogram,
    /// Intents acknowledged by the REST API (journaled), repeats included.
    pub writes: Counter,
    /// REST writes that failed after authentication.
    pub write_errors: Counter,
    census: Mutex<Census>,
    started: SystemTime,
}

impl Metrics {
    pub fn new(site_names: Vec<String>) -> Arc<Self> {
        Arc::new(Metrics {
            census: Mutex::new(Census {
                recording: vec![0; site_names.len()],
                ..Census::default()
            }),
            site_names,
            pending: Mutex::new(HashMap::new()),
            site_requests: Family::default(),
            site_request_duration: Family::new_with_constructor(|| {
                Histogram::new(SITE_BUCKETS.iter().copied())
            }),
            api_write_duration: Histogram::new(API_BUCKETS.iter().copied()),
            writes: Counter::default(),
            write_errors: Counter::default(),
            started: SystemTime::now(),
        })
    }

    /// One REST write answered after `elapsed`.
    pub fn observe_write(&self, elapsed: Duration) {
        self.api_write_duration.observe(elapsed.as_secs_f64());
    }

    fn site_name(&self, site: SiteId) -> String {
        self.site_names
            .get(site)
            .cloned()
            .unwrap_or_else(|| format!("site{site}"))
    }

    fn on_event(&self, ev: RuntimeEvent) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        match ev {
            RuntimeEvent::Dispatched {
                at,
                req,
                site,
                kind,
            } => {
                pending.insert(req, (at, site, op_name(kind)));
            }
            RuntimeEvent::Replied {
                at, req, outcome, ..
            } => {
                let Some((sent, site, op)) = pending.remove(&req) else {
                    return;
                };
                drop(pending);
                let site = self.site_name(site);
                self.site_requests
                    .get_or_create(&SiteOpOutcome {
                        site: site.clone(),
                        op,
                        outcome: outcome_name(&outcome),
                    })
                    .inc();
                // A transport failure has no answer, so no answer latency.
                if !matches!(outcome, Outcome::Failed(_)) {
                    self.site_request_duration
                        .get_or_create(&SiteOp { site, op })
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

    /// Registers the live metrics, the engine's `stats` and readiness, the
    /// build and the process into `reg`.
    pub fn register(&self, reg: &mut Registry, stats: Option<&RuntimeStats>, ready: bool) {
        process::register(reg, self.started);
        reg.register(
            "dualrec_ready",
            "1 when the journal is open and intents are restored",
            ConstGauge::new(i64::from(ready)),
        );
        reg.register(
            "dualrec_api_writes",
            "Intents acknowledged by the REST API (journaled), repeats included",
            self.writes.clone(),
        );
        reg.register(
            "dualrec_api_write_errors",
            "REST writes that failed after authentication (journal or engine unavailable)",
            self.write_errors.clone(),
        );
        reg.register(
            "dualrec_api_write_duration_seconds",
            "REST write latency (request to durable answer)",
            self.api_write_duration.clone(),
        );
        reg.register(
            "dualrec_site_requests",
            "Site requests by site, operation (login, start, stop, probe) and outcome (ok, fault, credentials_rejected, timeout, transport_error)",
            self.site_requests.clone(),
        );
        reg.register(
            "dualrec_site_request_duration_seconds",
            "Latency of answered site requests (dispatch to reply), by site and operation",
            self.site_request_duration.clone(),
        );
        if let Some(s) = stats {
            register_engine_stats(reg, s);
        }
        if let Ok(c) = self.census.lock() {
            if c.done {
                reg.register(
                    "dualrec_cameras_wanted_recording",
                    "Cameras whose latest intent is recording",
                    ConstGauge::new(i64::try_from(c.wanted).unwrap_or(i64::MAX)),
                );
                let recording =
                    Family::<SiteLabel, prometheus_client::metrics::gauge::Gauge>::default();
                for (site, n) in self.site_names.iter().zip(&c.recording) {
                    recording
                        .get_or_create(&SiteLabel { site: site.clone() })
                        .set(i64::try_from(*n).unwrap_or(i64::MAX));
                }
                reg.register(
                    "dualrec_cameras_recording",
                    "Cameras the engine observed manually recording, per site (refreshed every few seconds)",
                    recording,
                );
            }
        }
    }
}

/// The engine's own counters, its sites' health and in-flight requests.
fn register_engine_stats(reg: &mut Registry, s: &RuntimeStats) {
    use prometheus_client::metrics::gauge::Gauge;
    let m = &s.mirror;
    for (name, help, v) in [
        (
            "dualrec_intents",
            "New intents accepted by the engine (repeated clicks not counted)",
            m.intents,
        ),
        (
            "dualrec_request_timeouts",
            "Site requests the engine stopped waiting for after its request timeout (a late answer still counts in dualrec_site_requests_total)",
            m.timeouts,
        ),
        (
            "dualrec_renewals",
            "Manual recordings renewed before the site's auto-stop",
            m.renewals,
        ),
        (
            "dualrec_drifts_repaired",
            "Recordings a probe found lost and the engine restarted",
            m.drifts_repaired,
        ),
        (
            "dualrec_orphans_stopped",
            "Recordings nobody wanted that the engine stopped",
            m.orphans_stopped,
        ),
        (
            "dualrec_device_rejections",
            "Devices a site refused in a Start or Stop answer (non-zero ResultCode)",
            m.device_rejections,
        ),
        (
            "dualrec_sites_down",
            "Times a site was marked down",
            m.sites_down,
        ),
        (
            "dualrec_sites_recovered",
            "Times a site came back up",
            m.sites_recovered,
        ),
    ] {
        reg.register(name, help, ConstCounter::new(v));
    }
    reg.register(
        "dualrec_inflight_requests",
        "Requests awaiting a reply",
        ConstGauge::new(i64::try_from(s.inflight).unwrap_or(i64::MAX)),
    );
    let up = Family::<SiteLabel, Gauge>::default();
    for (site, is_up) in &s.sites_up {
        up.get_or_create(&SiteLabel { site: site.clone() })
            .set(i64::from(*is_up));
    }
    reg.register(
        "dualrec_site_up",
        "1 when the engine considers the site up",
        up,
    );
    #[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
    struct SiteKind {
        site: String,
        kind: &'static str,
    }
    let problems = Family::<SiteKind, Gauge>::default();
    for (site, _) in &s.sites_up {
        for kind in ["credentials_rejected", "untrusted_certificate"] {
            let on = s
                .site_problems
                .iter()
                .any(|p| &p.site == site && p.kind == kind);
            problems
                .get_or_create(&SiteKind {
                    site: site.clone(),
                    kind,
                })
                .set(i64::from(on));
        }
    }
    reg.register(
        "dualrec_site_config_error",
        "1 while a site cannot be used until its configuration is fixed (kind: credentials_rejected, untrusted_certificate)",
        problems,
    );
}

#[cfg(test)]
mod tests;
