//! [`World`]: the discrete-event loop that runs the shipping engine next to
//! simulated recorders in virtual time.
//!
//! Each step takes the earliest of: a recorder's auto-stop, a queued event
//! (click, request arriving at a site, reply arriving at the engine, fault
//! edge, engine restart) and the engine's own next deadline. Nothing here
//! reads the wall clock; every random draw comes from a ChaCha stream
//! derived from the world's seed, so a seed replays a run exactly.

use engine::core::{CameraSpec, DeviceId};
use engine::core::{
    Command, JournalEntry, Mirror, MirrorConfig, MirrorStats, Nanos, Placement, RecorderOp, Reply,
    RequestId, SiteSpec, SoapFault, TransportError,
};

use super::config::{device_id, Click, EngineTarget, FaultKind, WorldConfig};
use super::link::Link;
use super::queue::EventQueue;
use super::record::{ClickRecord, FaultWindow, RunRecord};
use super::replicas::{Change, Replicas};
use super::trace::{Trace, TraceEvent};
use crate::recorder::{SiteModel, REQUEST_MAX_AGE};

/// A request on its way to a site.
#[derive(Debug, Clone)]
enum Call {
    Login {
        current: Option<String>,
    },
    Op {
        recorder: usize,
        op: RecorderOp,
        devices: Vec<DeviceId>,
        token: String,
    },
}

#[derive(Debug)]
enum Event {
    Click {
        camera: usize,
        recording: bool,
    },
    Arrive {
        site: usize,
        engine: u64,
        req: RequestId,
        call: Call,
    },
    Deliver {
        site: usize,
        engine: u64,
        req: RequestId,
        reply: Result<Reply, TransportError>,
    },
    FaultStart(usize),
    FaultEnd(usize),
}

/// Everything a finished run yields.
#[derive(Debug)]
pub struct WorldOutcome {
    pub record: RunRecord,
    /// Events processed (queue events, engine wake-ups, recorder wake-ups).
    pub steps: u64,
    /// Counters of each engine incarnation, in order.
    pub engine_stats: Vec<MirrorStats>,
    pub trace: Vec<TraceEvent>,
}

/// A virtual world: the engine, the sites, the links between them.
pub struct World {
    cfg: WorldConfig,
    mirror_cfg: MirrorConfig,
    now: Nanos,
    queue: EventQueue<Event>,
    sites: Vec<SiteModel>,
    links: Vec<Link>,
    engine: Option<Mirror>,
    incarnation: u64,
    journal: Vec<JournalEntry>,
    /// The sequence of each camera's latest journal entry (what a lookup
    /// of the journal's tail would find, without scanning it per click).
    journal_last: Vec<Option<engine::core::IntentSeq>>,
    /// The scenario's clicks in time order (ties in scenario order), fed to
    /// the run from `next_click` on. They would fire before any event of the
    /// same instant had they been queued up front (they would have been
    /// queued first), and they do; keeping them out of the queue keeps a
    /// day's hundreds of thousands of clicks from filling it.
    upcoming: Vec<Click>,
    next_click: usize,
    /// Clicks made while the engine is down: the client retries them when
    /// it is back.
    pending_clicks: Vec<(usize, bool)>,
    retired_stats: Vec<MirrorStats>,
    clicks: Vec<ClickRecord>,
    trace: Trace,
    steps: u64,
    /// Several engine replicas (`engines > 1`): their leases; `engine` is
    /// then the leader's engine.
    replicas: Option<Replicas>,
    /// The replica whose engine `engine` is.
    leader: Option<usize>,
    /// Last journal sequence handed out (replicas share one journal).
    journal_seq: u64,
    /// The replica each `engine_crash` fault killed.
    crashed: Vec<Option<usize>>,
}

impl World {
    pub fn new(cfg: WorldConfig) -> Self {
        Self::build(cfg, Trace::default())
    }

    /// A world that keeps its full history (see [`TraceEvent`]).
    pub fn with_trace(cfg: WorldConfig) -> Self {
        Self::build(cfg, Trace::enabled())
    }

    fn build(cfg: WorldConfig, mut trace: Trace) -> Self {
        // The trace opens with the run's shape, so that a reader needs
        // nothing else (sites in order, every camera, clicked or not).
        trace.emit(|| TraceEvent::Run {
            sites: cfg.sites.iter().map(|s| s.model.name.clone()).collect(),
            cameras: cfg.cameras.iter().map(|c| c.to_string()).collect(),
        });
        let mirror_cfg = mirror_config(&cfg);
        let sites = cfg
            .sites
            .iter()
            .enumerate()
            .map(|(s, setup)| {
                let recorders = setup.recorders.max(1);
                let mut devices = vec![Vec::new(); recorders];
                // The engine's own ids (one allocation per device, shared):
                // the site compares them by pointer before anything else.
                for (c, camera) in mirror_cfg.cameras.iter().enumerate() {
                    devices[c % recorders].push(camera.placements[s].device.clone());
                }
                let mut model = SiteModel::new(setup.model.clone(), devices, 0);
                for c in 0..cfg.cameras.len() {
                    let settings = setup.settings_of(c);
                    if !settings.is_default() {
                        model.set_device_settings(&device_id(s, c), settings);
                    }
                }
                model
            })
            .collect();
        let links = cfg
            .sites
            .iter()
            .enumerate()
            .map(|(s, setup)| {
                Link::new(
                    setup.latency.clone(),
                    derive_seed(cfg.seed, 0x11_0000 + s as u64),
                )
            })
            .collect();
        let mut engine = Mirror::new(mirror_cfg.clone(), derive_seed(cfg.seed, 0xe));
        if cfg.sabotage.any() {
            engine.sabotage(cfg.sabotage); // test-only planted bugs
        }
        let mut queue = EventQueue::new();
        // Stable: clicks of one instant keep the scenario's order.
        let mut upcoming: Vec<Click> = cfg
            .clicks
            .iter()
            .filter(|c| c.at < cfg.duration && c.camera < cfg.cameras.len())
            .copied()
            .collect();
        upcoming.sort_by_key(|c| c.at);
        for (i, fault) in cfg.faults.iter().enumerate() {
            if fault.at >= cfg.duration {
                continue;
            }
            queue.push(fault.at, Event::FaultStart(i));
            let end = fault.at.saturating_add(fault.duration).min(cfg.duration);
            queue.push(end, Event::FaultEnd(i));
        }
        let replicas = (cfg.engines > 1).then(|| {
            Replicas::new(
                cfg.engines,
                engine::cluster::LeaseConfig::for_policy(4 * engine::core::SECS, &cfg.policy),
            )
        });
        World {
            engine: if replicas.is_some() {
                None
            } else {
                Some(engine)
            },
            replicas,
            leader: None,
            journal_seq: 0,
            crashed: vec![None; cfg.faults.len()],
            mirror_cfg,
            now: 0,
            queue,
            sites,
            links,
            incarnation: 1,
            journal: Vec::new(),
            upcoming,
            next_click: 0,
            journal_last: vec![None; cfg.cameras.len()],
            pending_clicks: Vec::new(),
            retired_stats: Vec::new(),
            clicks: Vec::new(),
            trace,
            steps: 0,
            cfg,
        }
    }

    /// Runs to the end of the settle period and returns the ground truth.
    pub fn run(mut self) -> WorldOutcome {
        let settled_at = self.cfg.duration + self.cfg.settle;
        loop {
            let next_click = self.next_click_at();
            let next_event = self.next_event_at();
            let next_engine = self.engine.as_ref().and_then(Mirror::next_deadline);
            let next_site = self.sites.iter().filter_map(SiteModel::next_deadline).min();
            let next_lease = self.replicas.as_ref().and_then(Replicas::next_deadline);
            let Some(t) = [next_event, next_engine, next_site, next_lease]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            if t > settled_at {
                break;
            }
            self.now = self.now.max(t);
            self.steps += 1;
            if next_site.is_some_and(|s| s <= self.now) {
                for site in &mut self.sites {
                    if site.next_deadline().is_some_and(|d| d <= self.now) {
                        site.on_timeout(self.now);
                    }
                }
            } else if next_click.is_some_and(|c| {
                // A click goes before queued events of its instant.
                c <= self.now && self.queue.peek_time().is_none_or(|q| c <= q)
            }) {
                let click = self.upcoming[self.next_click];
                self.next_click += 1;
                self.handle(Event::Click {
                    camera: click.camera,
                    recording: click.recording,
                });
            } else if next_event.is_some_and(|e| e <= self.now) {
                if let Some((_, event)) = self.queue.pop() {
                    self.handle(event);
                }
            } else if next_lease.is_some_and(|l| l <= self.now) {
                self.lease_step();
            } else if let Some(engine) = &mut self.engine {
                engine.on_timeout(self.now);
            }
            // Events of one instant (a "record all" click burst) are handed
            // to the engine before it is polled, so it can batch them.
            if self.next_event_at() != Some(self.now) {
                self.drain_commands();
            }
        }
        self.now = settled_at;
        self.finish()
    }

    fn next_click_at(&self) -> Option<Nanos> {
        self.upcoming.get(self.next_click).map(|c| c.at)
    }

    /// The earliest queued event or click.
    fn next_event_at(&self) -> Option<Nanos> {
        [self.queue.peek_time(), self.next_click_at()]
            .into_iter()
            .flatten()
            .min()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Click { camera, recording } => {
                self.clicks.push(ClickRecord {
                    at: self.now,
                    camera,
                    recording,
                });
                let (now, cameras) = (self.now, &self.cfg.cameras);
                self.trace.emit(|| TraceEvent::Click {
                    t: now,
                    camera: cameras[camera].to_string(),
                    recording,
                });
                if self.replicas.as_ref().is_some_and(Replicas::any_alive) {
                    self.submit_replicated(camera, recording);
                } else if self.engine.is_some() && self.replicas.is_none() {
                    self.submit_intent(camera, recording);
                } else {
                    self.pending_clicks.push((camera, recording));
                }
            }
            Event::Arrive {
                site,
                engine,
                req,
                call,
            } => self.arrive(site, engine, req, call),
            Event::Deliver {
                site,
                engine,
                req,
                reply,
            } => {
                // A reply crossing a partition that opened meanwhile is lost;
                // one addressed to a crashed engine incarnation has no reader.
                if self.links[site].partition > 0 || engine != self.incarnation {
                    return;
                }
                if let Some(mirror) = &mut self.engine {
                    let outcome = match &reply {
                        Ok(Reply::Fault(f)) => format!("fault: {}", f.message),
                        Ok(_) => "ok".to_string(),
                        Err(e) => format!("error: {e}"),
                    };
                    let site_name = self.cfg.sites[site].model.name.clone();
                    self.trace.emit(|| TraceEvent::Reply {
                        t: self.now,
                        engine,
                        req: req.0,
                        site: site_name,
                        outcome,
                    });
                    mirror.on_reply(self.now, req, reply);
                }
            }
            Event::FaultStart(i) => self.fault_edge(i, true),
            Event::FaultEnd(i) => self.fault_edge(i, false),
        }
    }

    fn submit_intent(&mut self, camera: usize, recording: bool) {
        let Some(mirror) = &mut self.engine else {
            return;
        };
        let id = &self.cfg.cameras[camera];
        // The journal write precedes the acknowledgement, as in the service.
        if let Ok(seq) = mirror.set_intent(self.now, id, recording) {
            if self.journal_last[camera] != Some(seq) {
                self.journal_last[camera] = Some(seq);
                self.journal.push(JournalEntry {
                    camera: id.clone(),
                    seq,
                    recording,
                });
            }
            let name = id.to_string();
            self.trace.emit(|| TraceEvent::Intent {
                t: self.now,
                camera: name,
                recording,
                seq: seq.0,
            });
        }
    }

    /// Hands the engine's requests to the links.
    fn drain_commands(&mut self) {
        // A replica sends only while its lease right holds.
        if let (Some(r), Some(l)) = (&self.replicas, self.leader) {
            if !r.may_send(l, self.now) {
                return;
            }
        }
        let Some(mirror) = &mut self.engine else {
            return;
        };
        let mut commands = Vec::new();
        while let Some(cmd) = mirror.poll_command() {
            commands.push(cmd);
        }
        for cmd in commands {
            self.send(cmd);
        }
    }

    fn send(&mut self, cmd: Command) {
        let site = cmd.site();
        let req = cmd.req();
        let engine = self.incarnation;
        if self.trace.is_on() {
            let site_name = self.cfg.sites[site].model.name.clone();
            let (recorder, op, devices) = match &cmd {
                Command::Login { .. } => (None, "login".to_string(), Vec::new()),
                Command::Send {
                    recorder,
                    op,
                    devices,
                    ..
                } => (
                    Some(*recorder),
                    op_name(*op).to_string(),
                    devices.iter().map(|d| d.to_string()).collect(),
                ),
            };
            self.trace.emit(|| TraceEvent::Command {
                t: self.now,
                engine,
                req: req.0,
                site: site_name,
                recorder,
                op,
                devices,
            });
        }
        let call = match cmd {
            Command::Login { current_token, .. } => Call::Login {
                current: current_token,
            },
            Command::Send {
                recorder,
                op,
                devices,
                token,
                ..
            } => Call::Op {
                recorder,
                op,
                devices,
                token,
            },
        };
        let link = &mut self.links[site];
        if link.down > 0 || (link.restarting > 0 && matches!(call, Call::Op { .. })) {
            let rtt = link.one_way() + link.one_way();
            self.queue.push(
                self.now + rtt,
                Event::Deliver {
                    site,
                    engine,
                    req,
                    reply: Err(TransportError::Refused),
                },
            );
        } else if link.blackholed() {
            // Lost: the engine's request timeout is the only way it learns.
        } else if link.draw_error() {
            let rtt = link.one_way() + link.one_way();
            let reply = Ok(Reply::Fault(SoapFault {
                token_invalid: false,
                message: "Internal server error".into(),
            }));
            self.queue.push(
                self.now + rtt,
                Event::Deliver {
                    site,
                    engine,
                    req,
                    reply,
                },
            );
        } else {
            let trip = link.one_way();
            if trip > REQUEST_MAX_AGE {
                // Held so long its connection is gone: it never arrives.
                return;
            }
            self.queue.push(
                self.now + trip,
                Event::Arrive {
                    site,
                    engine,
                    req,
                    call,
                },
            );
        }
    }

    /// A request reaches the site: the site model answers it.
    fn arrive(&mut self, site: usize, engine: u64, req: RequestId, call: Call) {
        let link = &mut self.links[site];
        let reply = if link.down > 0 || (link.restarting > 0 && matches!(call, Call::Op { .. })) {
            Err(TransportError::Refused)
        } else if link.blackholed() {
            return;
        } else {
            let model = &mut self.sites[site];
            let idp = self.cfg.sites[site].idp_login;
            let wrong_password = self.links[site].wrong_password > 0;
            Ok(match call {
                Call::Login { current } => {
                    // The engine logs in with its configured credentials;
                    // the site checks them (and counts failures toward
                    // lockout) on every login, as a real one does.
                    let cfg = model.config();
                    let (user, right) = (cfg.username.clone(), cfg.password.clone());
                    let password = if wrong_password {
                        format!("{right}-typo")
                    } else {
                        right
                    };
                    match model.check_credentials(self.now, &user, &password) {
                        Err(e) => Reply::CredentialsRejected {
                            message: if idp {
                                format!("identity provider: invalid_grant ({e})")
                            } else {
                                format!("user name or password refused (401): {e}")
                            },
                        },
                        Ok(()) => {
                            let (token, ttl) = model.login(self.now, current.as_deref());
                            let ttl = if idp {
                                ttl.min(model.config().access_token_ttl)
                            } else {
                                ttl
                            };
                            Reply::LoggedIn { token, ttl }
                        }
                    }
                }
                Call::Op {
                    recorder,
                    op,
                    devices,
                    token,
                } => model.call(self.now, recorder, op, &token, &devices),
            })
        };
        // A login through the identity provider is one more round trip
        // (token request, then the OAuth login).
        let idp_trip = match &reply {
            Ok(Reply::LoggedIn { .. } | Reply::CredentialsRejected { .. })
                if self.cfg.sites[site].idp_login =>
            {
                self.links[site].one_way() + self.links[site].one_way()
            }
            _ => 0,
        };
        if reply.is_ok() {
            let site_name = self.cfg.sites[site].model.name.clone();
            self.trace.emit(|| TraceEvent::Served {
                t: self.now,
                engine,
                req: req.0,
                site: site_name,
            });
            // Executed, but the reply is lost on its way back.
            if self.links[site].draw_lost_reply() {
                return;
            }
        }
        let at = self.now + idp_trip + self.links[site].one_way();
        self.queue.push(
            at,
            Event::Deliver {
                site,
                engine,
                req,
                reply,
            },
        );
    }

    fn fault_edge(&mut self, i: usize, starting: bool) {
        let fault = self.cfg.faults[i].clone();
        let now = self.now;
        if starting {
            self.trace.emit(|| TraceEvent::Fault {
                start: now,
                end: fault
                    .at
                    .saturating_add(fault.duration)
                    .min(self.cfg.duration),
                site: fault.site.map(|s| self.cfg.sites[s].model.name.clone()),
                kind: fault.kind.name().to_string(),
                camera: match fault.kind {
                    FaultKind::StreamLoss { camera } => Some(self.cfg.cameras[camera].to_string()),
                    _ => None,
                },
            });
        }
        if let (FaultKind::WrongPassword, Some(s)) = (&fault.kind, fault.site) {
            if starting {
                self.links[s].wrong_password += 1;
            } else {
                self.links[s].wrong_password -= 1;
                if self.links[s].wrong_password == 0 {
                    // The operator fixed the password file: the runtime
                    // notices the change and tells the engine.
                    if let Some(engine) = self.engine.as_mut() {
                        engine.credentials_changed(now, s);
                    }
                }
            }
            return;
        }
        if matches!(fault.kind, FaultKind::EngineCrash) && self.replicas.is_some() {
            self.replica_crash(i, starting);
            return;
        }
        if matches!(fault.kind, FaultKind::EngineCrash) {
            if starting {
                self.crash_engine();
            } else {
                self.restart_engine();
            }
            return;
        }
        let Some(s) = fault.site else { return };
        let (link, model) = (&mut self.links[s], &mut self.sites[s]);
        match (&fault.kind, starting) {
            (FaultKind::Down, true) => {
                link.down += 1;
                model.crash(now);
            }
            (FaultKind::Down, false) => {
                link.down -= 1;
                if link.down == 0 {
                    model.boot(now);
                }
            }
            (FaultKind::Partition, true) => link.partition += 1,
            (FaultKind::Partition, false) => link.partition -= 1,
            (FaultKind::Hang, true) => link.hang += 1,
            (FaultKind::Hang, false) => link.hang -= 1,
            (FaultKind::Slow(dist), true) => link.add_slow(i, dist.clone()),
            (FaultKind::Slow(_), false) => link.remove_slow(i),
            (FaultKind::Errors { rate }, true) => link.add_errors(i, *rate),
            (FaultKind::Errors { .. }, false) => link.remove_errors(i),
            (FaultKind::LostReplies { rate }, true) => link.add_lost_replies(i, *rate),
            (FaultKind::LostReplies { .. }, false) => link.remove_lost_replies(i),
            (FaultKind::Restart, true) => {
                link.restarting += 1;
                model.crash_recorders(now);
            }
            (FaultKind::Restart, false) => {
                link.restarting -= 1;
                if link.restarting == 0 && link.down == 0 {
                    model.boot_recorders(now);
                }
            }
            (FaultKind::StreamLoss { camera }, lost) => {
                model.set_stream_lost(now, &device_id(s, *camera), lost);
            }
            (FaultKind::TokenExpiry, true) => model.invalidate_tokens(),
            (FaultKind::TokenExpiry, false)
            | (FaultKind::EngineCrash, _)
            | (FaultKind::WrongPassword, _) => {}
        }
    }

    fn crash_engine(&mut self) {
        if let Some(dead) = self.engine.take() {
            self.retired_stats.push(dead.stats().clone());
            let engine = self.incarnation;
            self.trace.emit(|| TraceEvent::EngineCrash {
                t: self.now,
                engine,
            });
            // Replies still on the wire now reach a process that is gone.
            self.incarnation += 1;
        }
    }

    fn restart_engine(&mut self) {
        if self.engine.is_some() {
            return;
        }
        let seed = derive_seed(self.cfg.seed, 0xe + self.incarnation);
        let mut mirror = Mirror::new(self.mirror_cfg.clone(), seed);
        if self.cfg.sabotage.any() {
            mirror.sabotage(self.cfg.sabotage); // test-only planted bugs
        }
        mirror.restore(self.now, self.journal.iter().cloned());
        let engine = self.incarnation;
        let intents = self.journal.len();
        self.trace.emit(|| TraceEvent::EngineRestore {
            t: self.now,
            engine,
            intents,
        });
        self.engine = Some(mirror);
        let pending = std::mem::take(&mut self.pending_clicks);
        for (camera, recording) in pending {
            if self.replicas.is_some() {
                self.submit_replicated(camera, recording);
            } else {
                self.submit_intent(camera, recording);
            }
        }
    }

    /// Lease operations due now, and what they change.
    fn lease_step(&mut self) {
        let Some(replicas) = &mut self.replicas else {
            return;
        };
        for change in replicas.step(self.now) {
            match change {
                Change::Lead { node, .. } => {
                    self.leader = Some(node);
                    self.restart_engine();
                }
                Change::StepDown { node } => {
                    if self.leader == Some(node) {
                        self.crash_engine();
                        self.leader = None;
                    }
                }
            }
        }
    }

    /// A click reaches a live replica: committed to the shared journal
    /// (sequence from the journal), then applied by the leader, if any.
    fn submit_replicated(&mut self, camera: usize, recording: bool) {
        let id = self.cfg.cameras[camera].clone();
        self.journal_seq += 1;
        let seq = self.journal_seq;
        self.journal_last[camera] = Some(engine::core::IntentSeq(seq));
        self.journal.push(JournalEntry {
            camera: id.clone(),
            seq: engine::core::IntentSeq(seq),
            recording,
        });
        if let Some(mirror) = &mut self.engine {
            let _ = mirror.set_intent(self.now, &id, recording);
        }
        let name = id.to_string();
        self.trace.emit(|| TraceEvent::Intent {
            t: self.now,
            camera: name,
            recording,
            seq,
        });
    }

    /// An `engine_crash` among replicas: the named replica dies at the
    /// start and comes back (as a standby) at the end.
    fn replica_crash(&mut self, i: usize, starting: bool) {
        let Some(replicas) = &mut self.replicas else {
            return;
        };
        if starting {
            let target = self
                .cfg
                .engine_targets
                .iter()
                .find(|(f, _)| *f == i)
                .map_or(EngineTarget::Leader, |(_, t)| *t);
            let Some(node) = replicas.resolve(target, self.now) else {
                return;
            };
            replicas.crash(node);
            self.crashed[i] = Some(node);
            if self.leader == Some(node) {
                self.crash_engine();
                self.leader = None;
            }
        } else if let Some(node) = self.crashed[i].take() {
            replicas.restart(node);
            if replicas.any_alive() {
                for (camera, recording) in std::mem::take(&mut self.pending_clicks) {
                    self.submit_replicated(camera, recording);
                }
            }
        }
    }

    fn finish(mut self) -> WorldOutcome {
        let end = self.cfg.duration;
        let settled_at = self.now;
        let mut manual = Vec::with_capacity(self.sites.len());
        let mut footage = Vec::with_capacity(self.sites.len());
        let mut final_manual = Vec::with_capacity(self.sites.len());
        for (s, model) in self.sites.iter().enumerate() {
            let (mut m, mut f, mut fin) = (Vec::new(), Vec::new(), Vec::new());
            for c in 0..self.cfg.cameras.len() {
                let located = model.locate(&device_id(s, c));
                let Some((rec, d)) = located.and_then(|(r, d)| Some((model.recorder(r)?, d)))
                else {
                    m.push(Default::default());
                    f.push(Default::default());
                    fin.push(false);
                    continue;
                };
                m.push(rec.manual_intervals(d, settled_at));
                f.push(rec.footage(d, settled_at));
                fin.push(rec.is_recording(d));
            }
            manual.push(m);
            footage.push(f);
            final_manual.push(fin);
        }
        let faults = self
            .cfg
            .faults
            .iter()
            .filter(|f| f.at < end)
            .map(|f| FaultWindow {
                site: f.site,
                kind: f.kind.name().to_string(),
                camera: match f.kind {
                    FaultKind::StreamLoss { camera } => Some(camera),
                    _ => None,
                },
                start: f.at,
                end: f.at.saturating_add(f.duration).min(end),
            })
            .collect();
        let site_names: Vec<String> = self
            .cfg
            .sites
            .iter()
            .map(|s| s.model.name.clone())
            .collect();
        let camera_names: Vec<String> = self.cfg.cameras.iter().map(|c| c.to_string()).collect();
        if self.trace.is_on() {
            for (s, site) in site_names.iter().enumerate() {
                for (c, camera) in camera_names.iter().enumerate() {
                    for span in manual[s][c].spans() {
                        self.trace.emit(|| TraceEvent::Manual {
                            site: site.clone(),
                            camera: camera.clone(),
                            start: span.start,
                            end: span.end,
                        });
                    }
                    for span in footage[s][c].spans() {
                        self.trace.emit(|| TraceEvent::Footage {
                            site: site.clone(),
                            camera: camera.clone(),
                            start: span.start,
                            end: span.end,
                        });
                    }
                    if final_manual[s][c] {
                        self.trace.emit(|| TraceEvent::FinalManual {
                            site: site.clone(),
                            camera: camera.clone(),
                        });
                    }
                }
            }
            self.trace.emit(|| TraceEvent::End {
                end,
                settled: settled_at,
            });
        }
        let mut engine_stats = std::mem::take(&mut self.retired_stats);
        if let Some(engine) = &self.engine {
            engine_stats.push(engine.stats().clone());
        }
        WorldOutcome {
            record: RunRecord {
                sites: site_names,
                cameras: camera_names,
                end,
                settled_at,
                clicks: self.clicks,
                manual,
                footage,
                final_manual,
                faults,
            },
            steps: self.steps,
            engine_stats,
            trace: self.trace.into_events(),
        }
    }
}

fn op_name(op: RecorderOp) -> &'static str {
    match op {
        RecorderOp::Start => "start",
        RecorderOp::Stop => "stop",
        RecorderOp::Probe => "probe",
    }
}

/// The engine's configuration for a world: one device per camera per site.
pub fn mirror_config(cfg: &WorldConfig) -> MirrorConfig {
    MirrorConfig {
        sites: cfg
            .sites
            .iter()
            .map(|s| SiteSpec {
                name: s.model.name.clone(),
                recorders: s.recorders.max(1),
                manual_recording_max: s.model.recorder.manual_recording_max,
                prebuffer: s.model.recorder.prebuffer,
            })
            .collect(),
        cameras: cfg
            .cameras
            .iter()
            .enumerate()
            .map(|(c, id)| CameraSpec {
                id: id.clone(),
                placements: cfg
                    .sites
                    .iter()
                    .enumerate()
                    .map(|(s, setup)| Placement {
                        site: s,
                        recorder: c % setup.recorders.max(1),
                        device: device_id(s, c),
                        settings: setup.settings_of(c),
                    })
                    .collect(),
            })
            .collect(),
        policy: cfg.policy.clone(),
    }
}

/// Independent random streams from one seed (SplitMix64 finaliser), so that
/// e.g. adding a fault does not shift the latency draws of another site.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
