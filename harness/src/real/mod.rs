//! Real mode: the same scenario on the wall clock, over real sockets.
//!
//! Every site of the scenario becomes an in-process mock XProtect site
//! (`sim::server::MockSite`, real SOAP over HTTP on loopback, the same
//! recorder model as virtual time); the engine is the tokio runtime
//! (`engine::runtime`) driving the same `Mirror`; clicks and faults are
//! played on the wall clock. The metrics are computed exactly as in virtual
//! time, from the mock sites' own footage and manual-recording state.
//!
//! Time scale: a scenario may declare `real_time_scale` (e.g. `0.1` runs ten
//! times faster than written). Every duration of the scenario — latencies,
//! fault windows, clicks, the sites' auto-stop and pre-buffer, the engine's
//! policy — is multiplied by it, and the recorded times are divided by it
//! again, so guarantees read in written time. Fixed costs (HTTP, scheduling)
//! do not shrink with the scale and weigh more in a compressed run.

use std::path::Path;
use std::time::{Duration, Instant};

mod child;
mod trace;
mod under_test;

pub use trace::trace;

use under_test::Engine;

use engine::core::{CameraId, DeviceSettings, JournalEntry, Nanos, Policy};
use engine::runtime::{RuntimeEvent, SiteAuth, SiteEndpoint};
use sim::intervals::{IntervalSet, Span};
use sim::recorder::{RecorderConfig, SiteConfig};
use sim::server::{
    recorder_path, FaultRequest, MockSite, MockSiteConfig, SiteClock, SiteFaultKind,
};
use sim::world::latency::LatencyDist;
use sim::world::record::{ClickRecord, FaultWindow, RunRecord};
use sim::world::{derive_seed, device_id, mirror_config};
use tokio::sync::mpsc;

use crate::build::{self, SIM_PASSWORD, SIM_USERNAME};
use crate::scenario::{FaultKind, Scenario};
use crate::workload;

/// What a real-mode run produced besides its ground truth.
#[derive(Debug)]
pub struct RealOutcome {
    pub record: RunRecord,
    /// Every event the engine runtime reported (dispatches, replies).
    pub events: Vec<RuntimeEvent>,
    /// The instant written time 0 happened, to relate `events` to the record.
    pub origin: Instant,
    /// The scale the run used (`real_time_scale`, default 1).
    pub scale: f64,
}

/// A real-mode run could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    #[error("scenario `{0}` is virtual-only: {1}")]
    VirtualOnly(String, String),
    #[error("starting mock site `{site}`: {reason}")]
    Site { site: String, reason: String },
    #[error("starting the engine runtime: {0}")]
    Engine(String),
    #[error("tokio runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// One scheduled action, in written time.
#[derive(Debug, Clone)]
enum Action {
    Click { camera: usize, recording: bool },
    FaultStart(usize),
    EngineRestart,
}

fn scaled(ns: Nanos, scale: f64) -> Nanos {
    (ns as f64 * scale).round() as Nanos
}

/// A camera's own settings at time scale `k`.
fn scale_settings(d: DeviceSettings, k: f64) -> DeviceSettings {
    DeviceSettings {
        manual_recording_max: d.manual_recording_max.map(|m| m.map(|m| scaled(m, k))),
        prebuffer: d.prebuffer.map(|p| scaled(p, k)),
    }
}

fn scale_dist(d: &LatencyDist, k: f64) -> LatencyDist {
    match d {
        LatencyDist::Fixed(v) => LatencyDist::Fixed(scaled(*v, k)),
        LatencyDist::Uniform { min, max } => LatencyDist::Uniform {
            min: scaled(*min, k),
            max: scaled(*max, k),
        },
        LatencyDist::Normal { mean, stddev } => LatencyDist::Normal {
            mean: scaled(*mean, k),
            stddev: scaled(*stddev, k),
        },
        LatencyDist::LogNormal { median, p99 } => LatencyDist::LogNormal {
            median: scaled(*median, k),
            p99: scaled(*p99, k),
        },
        LatencyDist::Pareto { scale, shape } => LatencyDist::Pareto {
            scale: scaled(*scale, k),
            shape: *shape,
        },
    }
}

fn scale_policy(p: &Policy, k: f64) -> Policy {
    Policy {
        request_timeout: scaled(p.request_timeout, k),
        retry_initial: scaled(p.retry_initial, k),
        retry_max: scaled(p.retry_max, k),
        probe_interval: scaled(p.probe_interval, k),
        down_probe_interval: scaled(p.down_probe_interval, k),
        failures_before_down: p.failures_before_down,
        renew_before: scaled(p.renew_before, k),
        token_renew_before: scaled(p.token_renew_before, k),
    }
}

/// Runs `scenario` in real time (scaled by `real_time_scale`). With
/// `engine_binary` (the `dualrec` executable) the engine runs as a child
/// process behind its REST API, and `engine_crash` is a real `SIGKILL`;
/// without, it runs in this process (the engine-overhead benchmark, which
/// needs the runtime's event stream).
pub fn run_real(
    scenario: &Scenario,
    engine_binary: Option<&Path>,
) -> Result<RealOutcome, RealError> {
    if scenario
        .faults
        .iter()
        .any(|f| matches!(f.kind, FaultKind::WrongPassword))
    {
        return Err(RealError::VirtualOnly(
            scenario.name.clone(),
            "`wrong_password` faults run in virtual time only (tests/real_sites.rs proves the \
             same over real sockets)"
                .into(),
        ));
    }
    if let Some(reason) = &scenario.virtual_only {
        return Err(RealError::VirtualOnly(
            scenario.name.clone(),
            reason.clone(),
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(scenario, engine_binary))
}

async fn run(s: &Scenario, engine_binary: Option<&Path>) -> Result<RealOutcome, RealError> {
    let k = s.real_time_scale.unwrap_or(1.0);
    let world = build::world_config(s);
    let prebuffer_lead = s
        .sites
        .iter()
        .map(|x| scaled(x.prebuffer, k))
        .max()
        .unwrap_or(0);
    // One clock for all sites, so their footage is comparable.
    let clock = SiteClock::start(Duration::from_nanos(prebuffer_lead));

    let mut sites = Vec::with_capacity(s.sites.len());
    for (i, def) in s.sites.iter().enumerate() {
        let recorders = def.recorders.max(1);
        let mut devices = vec![Vec::new(); recorders];
        for c in 0..s.cameras.len() {
            devices[c % recorders].push(device_id(i, c));
        }
        let site_cfg = SiteConfig {
            name: def.name.clone(),
            recorder: RecorderConfig {
                manual_recording_max: def.manual_recording_max.map(|m| scaled(m, k)),
                prebuffer: scaled(def.prebuffer, k),
                start_extends_timer: def.start_extends_timer,
            },
            token_ttl: scaled(def.token_ttl, k).max(1),
            username: SIM_USERNAME.into(),
            password: SIM_PASSWORD.into(),
            lockout: None,
            access_token_ttl: sim::recorder::DEFAULT_ACCESS_TOKEN_TTL,
        };
        let mut cfg = MockSiteConfig::new(site_cfg, devices);
        cfg.device_settings = (0..s.cameras.len())
            .map(|c| {
                (
                    device_id(i, c),
                    scale_settings(world.sites[i].settings_of(c), k),
                )
            })
            .filter(|(_, d)| !d.is_default())
            .collect();
        cfg.latency = scale_dist(&def.latency, k);
        cfg.seed = derive_seed(s.seed, 0x11_0000 + i as u64);
        cfg.clock = Some(clock);
        let addr = "127.0.0.1:0".parse().expect("a literal socket address");
        let site = MockSite::start(cfg, addr, None)
            .await
            .map_err(|e| RealError::Site {
                site: def.name.clone(),
                reason: e.to_string(),
            })?;
        sites.push(site);
    }

    // The engine sees the scaled world: auto-stop, pre-buffer, policy.
    let mut scaled_world = world.clone();
    scaled_world.policy = scale_policy(&world.policy, k);
    for site in &mut scaled_world.sites {
        site.model.recorder.manual_recording_max = site
            .model
            .recorder
            .manual_recording_max
            .map(|m| scaled(m, k));
        site.model.recorder.prebuffer = scaled(site.model.recorder.prebuffer, k);
        for settings in &mut site.camera_settings {
            *settings = scale_settings(*settings, k);
        }
    }
    let mirror_cfg = mirror_config(&scaled_world);
    let endpoints: Vec<SiteEndpoint> = sites
        .iter()
        .zip(&s.sites)
        .map(|(site, def)| SiteEndpoint {
            name: def.name.clone(),
            management_url: site.service_url(),
            recorder_urls: (0..def.recorders.max(1))
                .map(|r| format!("{}{}", site.service_url(), recorder_path(r)))
                .collect(),
            username: SIM_USERNAME.into(),
            password: SIM_PASSWORD.into(),
            auth: SiteAuth::Basic,
            tls_ca_pem: None,
            login: engine::runtime::SiteLogin::Idp,
            tls_cert_sha256: None,
            password_file: None,
        })
        .collect();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let mut engine = match engine_binary {
        None => Engine::InProcess {
            handle: None,
            cfg: mirror_cfg.clone(),
            endpoints,
            seed: s.seed,
            incarnation: 0,
            events: events_tx.clone(),
        },
        Some(binary) => {
            let addresses: Vec<child::SiteAddress> = sites
                .iter()
                .zip(&s.sites)
                .map(|(site, def)| child::SiteAddress {
                    service_url: site.service_url(),
                    recorder_urls: (0..def.recorders.max(1))
                        .map(|r| format!("{}{}", site.service_url(), recorder_path(r)))
                        .collect(),
                })
                .collect();
            let seed = derive_seed(s.seed, 0xe);
            Engine::Child(child::ChildEngine::start(binary, &mirror_cfg, &addresses, seed).await?)
        }
    };
    engine.start().await?;

    // The schedule in written time.
    let mut schedule: Vec<(Nanos, Action)> = workload::clicks(s)
        .into_iter()
        .map(|c| {
            (
                c.at,
                Action::Click {
                    camera: c.camera,
                    recording: c.recording,
                },
            )
        })
        .collect();
    for (i, f) in s.faults.iter().enumerate() {
        schedule.push((f.at, Action::FaultStart(i)));
        if matches!(f.kind, FaultKind::EngineCrash) {
            schedule.push((f.at + f.duration, Action::EngineRestart));
        }
    }
    schedule.sort_by_key(|(at, _)| *at);

    let cameras: Vec<CameraId> = s.cameras.iter().map(CameraId::new).collect();
    let origin_model = clock.now();
    let origin = clock.instant(origin_model);
    let to_written = |model: Nanos| -> Nanos {
        ((model.saturating_sub(origin_model)) as f64 / k).round() as Nanos
    };
    let mut clicks = Vec::new();
    let mut journal: Vec<JournalEntry> = Vec::new();
    let mut pending: Vec<(usize, bool)> = Vec::new();

    let mut schedule = schedule.into_iter().peekable();
    while let Some((at, action)) = schedule.next() {
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            origin + Duration::from_nanos(scaled(at, k)),
        ))
        .await;
        match action {
            Action::Click { camera, recording } => {
                // Clicks of one instant go to the engine together, as a
                // "record all" button would send them.
                let mut burst = vec![(camera, recording)];
                while let Some((_, Action::Click { camera, recording })) =
                    schedule.next_if(|(t, a)| *t == at && matches!(a, Action::Click { .. }))
                {
                    burst.push((camera, recording));
                }
                let t = to_written(clock.now());
                clicks.extend(burst.iter().map(|&(camera, recording)| ClickRecord {
                    at: t,
                    camera,
                    recording,
                }));
                if engine.is_running() {
                    engine.click(&cameras, burst, &mut journal).await;
                } else {
                    pending.extend(burst);
                }
            }
            Action::FaultStart(i) => {
                let f = &s.faults[i];
                let dur = scaled(f.duration, k);
                let kind = match &f.kind {
                    FaultKind::EngineCrash => {
                        engine.crash().await;
                        continue;
                    }
                    FaultKind::Down => SiteFaultKind::Down,
                    FaultKind::Partition => SiteFaultKind::Partition,
                    FaultKind::Hang => SiteFaultKind::Hang,
                    FaultKind::Slow(d) => SiteFaultKind::Slow(scale_dist(d, k)),
                    FaultKind::Errors { rate } => SiteFaultKind::Errors { rate: *rate },
                    FaultKind::LostReplies { rate } => SiteFaultKind::LostReplies { rate: *rate },
                    FaultKind::Restart => SiteFaultKind::Restart,
                    FaultKind::TokenExpiry => SiteFaultKind::TokenExpiry,
                    // Refused before the run starts (see above).
                    FaultKind::WrongPassword => continue,
                    FaultKind::StreamLoss { camera } => SiteFaultKind::StreamLoss {
                        device: device_id(f.site.unwrap_or(0), *camera),
                    },
                };
                let mut req = FaultRequest::new(kind);
                if dur > 0 {
                    req = req.lasting(dur);
                }
                if let Some(site) = f.site.and_then(|i| sites.get(i)) {
                    if let Err(e) = site.apply_fault(req).await {
                        tracing::warn!(site = site.site_name(), error = %e, "fault not applied");
                    }
                }
            }
            Action::EngineRestart => {
                engine.restart(&journal).await?;
                // The client retries the clicks the dead engine never took.
                engine
                    .click(&cameras, std::mem::take(&mut pending), &mut journal)
                    .await;
            }
        }
    }

    // End of the scenario: heal everything, let the engine settle.
    tokio::time::sleep_until(tokio::time::Instant::from_std(
        origin + Duration::from_nanos(scaled(s.duration, k)),
    ))
    .await;
    for site in &sites {
        site.clear_faults().await;
    }
    tokio::time::sleep_until(tokio::time::Instant::from_std(
        origin + Duration::from_nanos(scaled(s.duration + s.settle, k)),
    ))
    .await;
    let settled_model = clock.now();

    let shift = |set: IntervalSet| -> IntervalSet {
        IntervalSet::from_spans(
            set.spans()
                .iter()
                .map(|sp| Span::new(to_written(sp.start), to_written(sp.end))),
        )
    };
    let mut manual = Vec::new();
    let mut footage = Vec::new();
    let mut final_manual = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        let (mut m, mut f, mut fin) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..s.cameras.len() {
            let d = device_id(i, c);
            m.push(shift(site.manual_intervals(&d).unwrap_or_default()));
            f.push(shift(site.footage(&d).unwrap_or_default()));
            fin.push(site.is_recording(&d).unwrap_or(false));
        }
        manual.push(m);
        footage.push(f);
        final_manual.push(fin);
    }
    engine.stop().await;
    for site in sites {
        site.shutdown().await;
    }
    // The in-process engine holds a sender of the event channel for its next
    // incarnation: drop it with ours, and take what was sent without waiting
    // for a close that a detached task could still hold off.
    drop(engine);
    drop(events_tx);
    let mut events = Vec::new();
    while let Ok(e) = events_rx.try_recv() {
        events.push(e);
    }
    // Metric windows end where the scenario does, in written time.
    let end = s.duration;
    let faults = s
        .faults
        .iter()
        .map(|f| FaultWindow {
            site: f.site,
            kind: f.kind.name().to_string(),
            camera: match f.kind {
                FaultKind::StreamLoss { camera } => Some(camera),
                _ => None,
            },
            start: f.at,
            end: f.at + f.duration,
        })
        .collect();
    let record = RunRecord {
        sites: s.sites.iter().map(|x| x.name.clone()).collect(),
        cameras: s.cameras.clone(),
        end,
        settled_at: to_written(settled_model),
        clicks,
        manual,
        footage,
        final_manual,
        faults,
    };
    Ok(RealOutcome {
        record,
        events,
        origin,
        scale: k,
    })
}

/// Engine overhead of each start click, in nanoseconds: dual-start latency
/// minus the slower site's own part of it (from the engine handing the Start
/// to its HTTP task until the recorder executed it). What remains is the
/// time the click spent in the engine before its request went out.
///
/// Valid for runs at scale 1 (the bench scenarios); a click whose Start was
/// not seen on every site yields no sample.
pub fn engine_overhead(outcome: &RealOutcome) -> Vec<Nanos> {
    use engine::core::RecorderOp;
    use engine::runtime::RequestKind;
    let since = |at: Instant| -> Nanos {
        u64::try_from(at.saturating_duration_since(outcome.origin).as_nanos()).unwrap_or(u64::MAX)
    };
    let nsites = outcome.record.sites.len();
    // Start dispatches per site, in time order.
    let mut starts: Vec<Vec<Nanos>> = vec![Vec::new(); nsites];
    let mut intents: Vec<(usize, Nanos)> = Vec::new();
    for e in &outcome.events {
        match e {
            RuntimeEvent::Dispatched {
                at,
                site,
                kind:
                    RequestKind::Recorder {
                        op: RecorderOp::Start,
                        ..
                    },
                ..
            } => {
                if let Some(v) = starts.get_mut(*site) {
                    v.push(since(*at));
                }
            }
            RuntimeEvent::Intent {
                at,
                camera,
                recording: true,
                ..
            } => {
                if let Some(c) = outcome
                    .record
                    .cameras
                    .iter()
                    .position(|x| x == camera.as_str())
                {
                    intents.push((c, since(*at)));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for click in outcome.record.clicks.iter().filter(|c| c.recording) {
        let Some(&(_, accepted)) = intents
            .iter()
            .find(|(c, t)| *c == click.camera && *t >= click.at)
        else {
            continue;
        };
        let mut dual = 0;
        let mut own = 0;
        let mut complete = true;
        for (s, site_starts) in starts.iter().enumerate() {
            let executed = outcome.record.manual[s][click.camera].first_at_or_after(click.at);
            let dispatched = site_starts.iter().copied().find(|&d| d >= accepted);
            match (executed, dispatched) {
                (Some(e), Some(d)) if e >= d => {
                    dual = dual.max(e - click.at);
                    own = own.max(e - d);
                }
                _ => complete = false,
            }
        }
        if complete {
            out.push(dual.saturating_sub(own));
        }
    }
    out
}
