//! A tiny deterministic driver for the engine's tests: a virtual clock, one
//! "ideal recorder" per site and a network with per-site latency and faults.
//!
//! This is deliberately not the real simulator (`sim`, which depends on this
//! crate): it models just enough of XProtect to check the engine's contract.
//! Every recorder state change is logged with its cause, and every command
//! the engine emits is logged with its send time, so tests assert on what
//! the recorders actually did, not on what the engine believes.
//!
//! Network model: a request travels `latency` (+ random jitter) to the site,
//! executes there, and its reply travels the same time back. A site can be
//! `Up`, `Hang` (a black hole: requests and replies vanish, the engine times
//! out) or `Refuse` (connection refused after one trip).

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::core::*;

/// How a site's network behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Up,
    /// Requests and replies vanish; the engine must time out.
    Hang,
    /// Every request fails with `TransportError::Refused`.
    Refuse,
}

/// Why a recorder's state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Start,
    Stop,
    /// The recorder's "stop manual recording after" limit fired.
    AutoStop,
    /// The recorder restarted and forgot its manual recordings.
    Restart,
}

/// One change of a device's manual-recording state on a recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Nanos,
    pub site: SiteId,
    pub device: DeviceId,
    pub recording: bool,
    pub cause: Cause,
}

/// One command the engine emitted, with its send time.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Nanos,
    pub cmd: Command,
}

impl Sent {
    pub fn op(&self) -> Option<RecorderOp> {
        match &self.cmd {
            Command::Send { op, .. } => Some(*op),
            Command::Login { .. } => None,
        }
    }
    pub fn devices(&self) -> &[DeviceId] {
        match &self.cmd {
            Command::Send { devices, .. } => devices,
            Command::Login { .. } => &[],
        }
    }
}

/// One simulated site: its ideal recorder(s), tokens and network.
#[derive(Debug, Clone)]
pub struct SiteSim {
    /// Device → manual recording started at (`None` = not recording).
    pub devices: HashMap<DeviceId, Option<Nanos>>,
    /// The site's "stop manual recording after" limit.
    pub auto_stop: Option<Nanos>,
    pub net: Net,
    /// One-way latency.
    pub latency: Nanos,
    /// Extra one-way latency drawn uniformly in `0..=jitter` per trip.
    pub jitter: Nanos,
    /// Probability that a reply is lost after the request executed.
    pub drop_reply: f64,
    /// Extra one-way latency of the next requests of an operation, one
    /// entry per request (a heavy tail that happens to hit them).
    pub tails: Vec<(RecorderOp, Nanos)>,
    /// Valid tokens → expiry.
    pub tokens: HashMap<String, Nanos>,
    pub token_ttl: Nanos,
    /// Answer every recorder call with a (non-token) SOAP fault.
    pub fault_all: bool,
    /// Devices whose Start/Stop answer `ResultCode != 0`.
    pub failing: HashSet<DeviceId>,
    issued: u64,
}

/// Network events; the `u32` is the engine generation that sent the
/// request (replies to a crashed engine are dropped).
#[derive(Debug)]
enum Event {
    /// A request reaches the site.
    Arrive(u32, Command),
    /// A reply reaches the engine.
    Reply(u32, SiteId, RequestId, Result<Reply, TransportError>),
}

/// The test driver: engine + sites + virtual clock + logs.
pub struct Driver {
    pub now: Nanos,
    pub m: Mirror,
    pub sites: Vec<SiteSim>,
    pub policy: Policy,
    /// Every command the engine emitted.
    pub sent: Vec<Sent>,
    /// Every recorder state change.
    pub changes: Vec<Change>,
    /// (site, device) pairs that had two Start/Stop in flight at once —
    /// except a request superseding an overdue one, which the engine allows
    /// (see `core/overdue.rs` and `core/handover.rs`) but never sooner than
    /// the first-retry delay after it.
    pub overlaps: Vec<(Nanos, SiteId, DeviceId)>,
    /// Token-invalid faults the sites answered.
    pub token_faults: u32,
    /// Engine clock = driver clock − `engine_epoch` (a restarted process
    /// may start its monotonic clock at zero).
    pub engine_epoch: Nanos,
    cfg: MirrorConfig,
    generation: u32,
    events: BTreeMap<(Nanos, u64), Event>,
    next_event: u64,
    /// Start/Stop in flight per (site, device): request and send time.
    ops_inflight: HashMap<(SiteId, DeviceId), (RequestId, Nanos, RecorderOp)>,
    rng: ChaCha8Rng,
}

/// Device id of camera `cam` on site `site`.
pub fn dev(site: SiteId, cam: usize) -> DeviceId {
    DeviceId::new(format!("s{site}-cam{cam}"))
}

/// Camera id number `cam`.
pub fn cam(cam: usize) -> CameraId {
    CameraId::new(format!("cam{cam}"))
}

/// `nsites` sites of `recorders` recorders each, `ncams` cameras placed on
/// every site (camera `i` on recorder `i % recorders`), default policy.
pub fn config(nsites: usize, recorders: usize, ncams: usize, limit: Option<Nanos>) -> MirrorConfig {
    MirrorConfig {
        sites: (0..nsites)
            .map(|s| SiteSpec {
                name: format!("site{s}"),
                recorders,
                manual_recording_max: limit,
                prebuffer: 3 * SECS,
            })
            .collect(),
        cameras: (0..ncams)
            .map(|c| CameraSpec {
                id: cam(c),
                placements: (0..nsites)
                    .map(|s| Placement {
                        site: s,
                        recorder: c % recorders,
                        device: dev(s, c),
                        settings: Default::default(),
                    })
                    .collect(),
            })
            .collect(),
        policy: Policy::default(),
    }
}

impl Driver {
    /// An engine for `cfg` (seeded with `seed`) next to ideal recorders that
    /// know every placed device, answer in 10 ms one way, and apply the
    /// configured auto-stop limit. Nothing has run yet.
    pub fn new(cfg: MirrorConfig, seed: u64) -> Self {
        let mut sites: Vec<SiteSim> = cfg
            .sites
            .iter()
            .map(|s| SiteSim {
                devices: HashMap::new(),
                auto_stop: s.manual_recording_max,
                net: Net::Up,
                latency: 10 * MILLIS,
                jitter: 0,
                drop_reply: 0.0,
                tails: Vec::new(),
                tokens: HashMap::new(),
                token_ttl: 3600 * SECS,
                fault_all: false,
                failing: HashSet::new(),
                issued: 0,
            })
            .collect();
        for c in &cfg.cameras {
            for p in &c.placements {
                sites[p.site].devices.insert(p.device.clone(), None);
            }
        }
        Driver {
            now: 0,
            policy: cfg.policy.clone(),
            m: Mirror::new(cfg.clone(), seed),
            sites,
            sent: Vec::new(),
            changes: Vec::new(),
            overlaps: Vec::new(),
            token_faults: 0,
            engine_epoch: 0,
            cfg,
            generation: 0,
            events: BTreeMap::new(),
            next_event: 0,
            ops_inflight: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
        }
    }

    /// [`Driver::new`] then runs 1 s so every site is logged in.
    pub fn started(cfg: MirrorConfig, seed: u64) -> Self {
        let mut d = Driver::new(cfg, seed);
        d.run_for(SECS);
        d
    }

    // ----- user actions -------------------------------------------------

    /// Clicks at the current time and sends what the engine emitted.
    pub fn click(&mut self, c: usize, recording: bool) -> IntentSeq {
        let seq = self
            .m
            .set_intent(self.enow(), &cam(c), recording)
            .expect("known camera");
        self.pump();
        seq
    }

    /// The engine's clock now.
    pub fn enow(&self) -> Nanos {
        self.now - self.engine_epoch
    }

    /// Sets a device's state directly (history from before the test).
    pub fn preset(&mut self, site: SiteId, c: usize, on: bool) {
        let cause = if on { Cause::Start } else { Cause::Stop };
        self.set_rec(site, &dev(site, c), on, cause);
    }

    /// The engine process crashes and a new one starts (seeded `seed`):
    /// requests already sent still execute, but their replies are lost.
    /// With `fresh_clock` the new process's clock starts at zero. Returns
    /// the journal the old engine left (its acknowledged intents).
    pub fn crash(&mut self, seed: u64, fresh_clock: bool) -> Vec<JournalEntry> {
        let journal: Vec<_> = self.m.intents().collect();
        self.generation += 1;
        self.ops_inflight.clear();
        if fresh_clock {
            self.engine_epoch = self.now;
        }
        self.m = Mirror::new(self.cfg.clone(), seed);
        journal
    }

    /// Restores `journal` into the engine now and sends what it emits.
    pub fn restore(&mut self, journal: Vec<JournalEntry>) {
        self.m.restore(self.enow(), journal);
        self.pump();
    }

    // ----- faults -------------------------------------------------------

    /// The recorder(s) of `site` restart: every manual recording ends.
    pub fn restart_recorder(&mut self, site: SiteId) {
        let mut devs: Vec<_> = self.sites[site].devices.keys().cloned().collect();
        devs.sort();
        for d in devs {
            self.set_rec(site, &d, false, Cause::Restart);
        }
    }

    /// The site forgets every token it issued (e.g. a management restart).
    pub fn invalidate_tokens(&mut self, site: SiteId) {
        self.sites[site].tokens.clear();
    }

    // ----- time ---------------------------------------------------------

    /// Runs every event up to and including `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Nanos) {
        loop {
            let next = [
                self.events.keys().next().map(|k| k.0),
                self.m.next_deadline().map(|t| t + self.engine_epoch),
                self.next_auto_stop(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(n) if n <= t => self.now = self.now.max(n),
                _ => break,
            }
            self.step();
        }
        self.now = self.now.max(t);
    }

    pub fn run_for(&mut self, d: Nanos) {
        self.run_until(self.now + d);
    }

    /// Runs until nothing is on the wire and the engine awaits no reply
    /// (periodic probes never stop, so "quiescent" means between them), or
    /// until `max` has passed. Returns whether it settled.
    pub fn settle(&mut self, max: Nanos) -> bool {
        let end = self.now + max;
        while self.now < end {
            if self.events.is_empty() && self.m.inflight_count() == 0 {
                return true;
            }
            self.run_for(MILLIS);
        }
        false
    }

    /// Processes everything due at `self.now`.
    fn step(&mut self) {
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let ev = entry.remove();
            self.handle(ev);
            self.pump();
        }
        self.fire_auto_stops();
        if self
            .m
            .next_deadline()
            .is_some_and(|d| d + self.engine_epoch <= self.now)
        {
            self.m.on_timeout(self.enow());
            self.pump();
        }
    }

    fn schedule(&mut self, at: Nanos, ev: Event) {
        self.next_event += 1;
        self.events.insert((at, self.next_event), ev);
    }

    fn trip(&mut self, site: SiteId) -> Nanos {
        let s = &self.sites[site];
        let j = if s.jitter > 0 {
            self.rng.random_range(0..=s.jitter)
        } else {
            0
        };
        s.latency + j
    }

    /// Drains the engine's outbox onto the network.
    pub fn pump(&mut self) {
        while let Some(cmd) = self.m.poll_command() {
            let site = cmd.site();
            if let Command::Send {
                req, op, devices, ..
            } = &cmd
            {
                if *op != RecorderOp::Probe {
                    for d in devices {
                        let key = (site, d.clone());
                        if let Some(&(_, sent_at, prev)) = self.ops_inflight.get(&key) {
                            // A hand-over Stop may be overtaken after half
                            // the pre-buffer; any other request once it is
                            // overdue, never before the first-retry delay.
                            let overtakes = prev == RecorderOp::Stop
                                && *op == RecorderOp::Start
                                && self.now >= sent_at + self.cfg.sites[site].prebuffer / 2;
                            let overdue = self.now >= sent_at + self.policy.retry_initial;
                            if self.now < sent_at + self.policy.request_timeout
                                && !overtakes
                                && !overdue
                            {
                                self.overlaps.push((self.now, site, d.clone()));
                            }
                        }
                        self.ops_inflight.insert(key, (*req, self.now, *op));
                    }
                }
            }
            self.sent.push(Sent {
                at: self.now,
                cmd: cmd.clone(),
            });
            let mut t = self.trip(site);
            if let Command::Send { op, .. } = &cmd {
                let tails = &mut self.sites[site].tails;
                if let Some(i) = tails.iter().position(|(o, _)| o == op) {
                    t += tails.remove(i).1;
                }
            }
            let g = self.generation;
            match self.sites[site].net {
                Net::Up => self.schedule(self.now + t, Event::Arrive(g, cmd)),
                Net::Refuse => self.schedule(
                    self.now + t,
                    Event::Reply(g, site, cmd.req(), Err(TransportError::Refused)),
                ),
                Net::Hang => {}
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrive(g, cmd) => {
                let site = cmd.site();
                if self.sites[site].net != Net::Up {
                    return;
                }
                let req = cmd.req();
                let reply = self.execute(cmd);
                let lost = self.sites[site].drop_reply > 0.0
                    && self.rng.random_bool(self.sites[site].drop_reply);
                if !lost {
                    let t = self.trip(site);
                    self.schedule(self.now + t, Event::Reply(g, site, req, Ok(reply)));
                }
            }
            Event::Reply(g, site, req, reply) => {
                if g != self.generation || (reply.is_ok() && self.sites[site].net != Net::Up) {
                    return;
                }
                self.ops_inflight.retain(|_, (r, _, _)| *r != req);
                self.m.on_reply(self.enow(), req, reply);
            }
        }
    }

    /// The ideal recorder / management server answering one request.
    fn execute(&mut self, cmd: Command) -> Reply {
        let now = self.now;
        match cmd {
            Command::Login { site, .. } => {
                let s = &mut self.sites[site];
                s.issued += 1;
                let token = format!("s{site}-token{}", s.issued);
                s.tokens.insert(token.clone(), now + s.token_ttl);
                Reply::LoggedIn {
                    token,
                    ttl: s.token_ttl,
                }
            }
            Command::Send {
                site,
                op,
                devices,
                token,
                ..
            } => {
                let s = &self.sites[site];
                if s.tokens.get(&token).is_none_or(|&exp| exp <= now) {
                    self.token_faults += 1;
                    return Reply::Fault(SoapFault {
                        token_invalid: true,
                        message: "Token invalid".into(),
                    });
                }
                if s.fault_all {
                    return Reply::Fault(SoapFault {
                        token_invalid: false,
                        message: "Internal error".into(),
                    });
                }
                match op {
                    RecorderOp::Probe => Reply::States(
                        devices
                            .into_iter()
                            .map(|d| DeviceState {
                                recording: self.recording(site, &d),
                                device: d,
                            })
                            .collect(),
                    ),
                    RecorderOp::Start | RecorderOp::Stop => {
                        let start = op == RecorderOp::Start;
                        let mut out = Vec::new();
                        for d in devices {
                            let ok = self.sites[site].devices.contains_key(&d)
                                && !self.sites[site].failing.contains(&d);
                            if ok {
                                let cause = if start { Cause::Start } else { Cause::Stop };
                                self.set_rec(site, &d, start, cause);
                            }
                            out.push(DeviceResult { device: d, ok });
                        }
                        Reply::Results(out)
                    }
                }
            }
        }
    }

    /// Sets a device's state; a Start on a recording device is ignored (it
    /// does not extend the timer), likewise a Stop on a stopped one.
    fn set_rec(&mut self, site: SiteId, d: &DeviceId, on: bool, cause: Cause) {
        let now = self.now;
        let slot = self.sites[site].devices.get_mut(d).expect("known device");
        if slot.is_some() == on {
            return;
        }
        *slot = on.then_some(now);
        self.changes.push(Change {
            at: now,
            site,
            device: d.clone(),
            recording: on,
            cause,
        });
    }

    fn next_auto_stop(&self) -> Option<Nanos> {
        self.sites
            .iter()
            .filter_map(|s| {
                let limit = s.auto_stop?;
                s.devices.values().flatten().map(|&t| t + limit).min()
            })
            .min()
    }

    fn fire_auto_stops(&mut self) {
        for site in 0..self.sites.len() {
            let Some(limit) = self.sites[site].auto_stop else {
                continue;
            };
            let mut due: Vec<_> = self.sites[site]
                .devices
                .iter()
                .filter(|(_, t)| t.is_some_and(|t| t + limit <= self.now))
                .map(|(d, _)| d.clone())
                .collect();
            due.sort();
            for d in due {
                self.set_rec(site, &d, false, Cause::AutoStop);
            }
        }
    }

    // ----- observations -------------------------------------------------

    /// Whether `device` is manually recording on `site` right now.
    pub fn recording(&self, site: SiteId, device: &DeviceId) -> bool {
        self.sites[site]
            .devices
            .get(device)
            .is_some_and(Option::is_some)
    }

    /// Whether camera `c` records on `site` right now.
    pub fn rec(&self, site: SiteId, c: usize) -> bool {
        self.recording(site, &dev(site, c))
    }

    /// Recorder/management commands sent to `site` at or after `from`.
    pub fn sent_to(&self, site: SiteId, from: Nanos) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| s.cmd.site() == site && s.at >= from)
            .collect()
    }

    /// `op` commands sent to `site` at or after `from`.
    pub fn ops(&self, site: SiteId, op: RecorderOp, from: Nanos) -> Vec<&Sent> {
        self.sent_to(site, from)
            .into_iter()
            .filter(|s| s.op() == Some(op))
            .collect()
    }

    /// Logins sent to `site` at or after `from`.
    pub fn logins(&self, site: SiteId, from: Nanos) -> Vec<&Sent> {
        self.sent_to(site, from)
            .into_iter()
            .filter(|s| matches!(s.cmd, Command::Login { .. }))
            .collect()
    }

    /// Changes of `device` on `site`, oldest first.
    pub fn changes_of(&self, site: SiteId, device: &DeviceId) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.site == site && &c.device == device)
            .collect()
    }

    /// Reconnects `site` now and runs `run` on: how long after the heal
    /// camera `c` records there again (panics if it never does).
    pub fn heal_and_time_reassertion(&mut self, site: SiteId, c: usize, run: Nanos) -> Nanos {
        self.sites[site].net = Net::Up;
        let healed = self.now;
        self.run_for(run);
        let back = self
            .first_recording_since(site, c, healed)
            .expect("never re-asserted");
        back - healed
    }

    /// First time at or after `from` when camera `c` records on `site`.
    pub fn first_recording_since(&self, site: SiteId, c: usize, from: Nanos) -> Option<Nanos> {
        self.changes_of(site, &dev(site, c))
            .into_iter()
            .find(|ch| ch.at >= from && ch.recording)
            .map(|ch| ch.at)
    }
}

/// Camera 0's held Start lands on site 1 at `lands_at` (after its Stop):
/// checks that it executed late, and that the engine stopped the late
/// recording within 5 s and for good.
pub fn late_start_lands_and_is_stopped(d: &mut Driver, lands_at: Nanos) {
    d.run_until(lands_at + 100 * MILLIS);
    assert!(d.rec(1, 0), "the held Start did not execute late");
    let landed = d.now;
    d.run_for(5 * SECS);
    assert!(
        !d.rec(1, 0),
        "the late recording still runs 5 s after it started"
    );
    assert!(d.first_recording_since(1, 0, landed + 5 * SECS).is_none());
}
