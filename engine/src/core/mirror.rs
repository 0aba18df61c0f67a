//! [`Mirror`]: the engine's whole state and its public, I/O-free API.
//!
//! Drivers feed it clicks ([`Mirror::set_intent`]), replies
//! ([`Mirror::on_reply`]) and the passage of time ([`Mirror::on_timeout`]),
//! and drain the requests it wants sent with [`Mirror::poll_command`].
//! It never reads a clock, opens a socket or draws from a global RNG, so the
//! virtual-time world and the tokio runtime drive the very same code.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::pair::{Pair, Slot};
use super::pair_table::PairTable;
use super::replies::LATE_REQUEST_HORIZON;
use super::site::SiteState;
use super::timers::{Timer, Timers};
use super::types::*;

/// A click named a camera the engine is not configured with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown camera `{0}`")]
pub struct UnknownCamera(pub CameraId);

/// Counters of what the engine has done, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorStats {
    pub intents: u64,
    pub requests: u64,
    pub logins: u64,
    pub probes: u64,
    pub failures: u64,
    pub timeouts: u64,
    pub renewals: u64,
    pub drifts_repaired: u64,
    pub orphans_stopped: u64,
    pub sites_down: u64,
    pub sites_recovered: u64,
    /// Logins whose credentials a site rejected.
    pub credential_rejections: u64,
    /// Start/Stop answers with a non-zero `ResultCode` for a device.
    pub device_rejections: u64,
}

/// What a request in flight was for.
#[derive(Debug, Clone)]
pub(super) enum Purpose {
    Login,
    Op(RecorderOp, Vec<usize>),
    Probe(RecorderId, Vec<usize>),
}

#[derive(Debug, Clone)]
pub(super) struct InFlight {
    pub site: SiteId,
    pub purpose: Purpose,
    pub sent_at: Nanos,
    /// The token the request carried (to tell a stale token fault from a
    /// fault on the current token).
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Camera {
    pub id: CameraId,
    pub intent: Option<(IntentSeq, bool)>,
}

/// The sans-IO mirroring engine.
#[derive(Debug)]
pub struct Mirror {
    pub(super) policy: Policy,
    pub(super) site_specs: Vec<SiteSpec>,
    pub(super) cameras: Vec<Camera>,
    /// Camera id → index. The engine's tables hash with FxHash, not the
    /// standard library's SipHash: a click, a reply's every device and every
    /// answer look one up, and SipHash was a tenth of the engine's
    /// instructions. SipHash's keyed randomness guards a table against keys
    /// chosen to collide; these tables' keys come from the configuration
    /// (cameras, devices) or the engine itself (request ids), and input from
    /// outside only looks keys up, so there is nothing to guard.
    pub(super) camera_index: FxHashMap<CameraId, usize>,
    /// `pairs[camera * nsites + site]` (stored recorder by recorder, see
    /// `pair_table.rs`).
    pub(super) pairs: PairTable,
    pub(super) nsites: usize,
    /// Device id → camera index, per site.
    pub(super) device_index: Vec<FxHashMap<DeviceId, usize>>,
    /// Cameras placed on each recorder: `recorder_cameras[site][recorder]`.
    pub(super) recorder_cameras: Vec<Vec<Vec<usize>>>,
    /// The cameras of each recorder a probe may have to ask about
    /// (`probe_sets[site][recorder]`, see `probe_set.rs`).
    pub(super) probe_sets: Vec<Vec<Vec<usize>>>,
    pub(super) sites: Vec<SiteState>,
    pub(super) inflight: super::inflight::InFlightTable,
    /// Probes that timed out, kept for the late-request horizon: an answer
    /// arriving after the time-out still says what the recorder did.
    pub(super) late_answers: FxHashMap<RequestId, InFlight>,
    /// When the earliest of `late_answers` passes the horizon (`Nanos::MAX`
    /// when none is kept): no sweep is needed before then.
    pub(super) late_answers_expire: Nanos,
    pub(super) next_req: u64,
    pub(super) timers: Timers,
    pub(super) dirty: Vec<usize>,
    pub(super) outbox: VecDeque<Command>,
    pub(super) rng: ChaCha8Rng,
    pub(super) started: bool,
    pub(super) stats: MirrorStats,
    /// The latest time a driver told us about.
    pub(super) now: Nanos,
    /// Planted bugs for the explorer's tests; all off by default.
    pub(super) sabotage: super::sabotage::Sabotage,
}

impl Mirror {
    /// Builds an engine for `cfg`; `seed` seeds its jitter RNG.
    ///
    /// Placements naming a site or recorder outside the configuration are
    /// ignored (configuration loaders validate them before this point).
    pub fn new(cfg: MirrorConfig, seed: u64) -> Self {
        let nsites = cfg.sites.len();
        let mut pairs = Vec::with_capacity(cfg.cameras.len() * nsites);
        let mut device_index = vec![FxHashMap::default(); nsites];
        let mut recorder_cameras: Vec<Vec<Vec<usize>>> = cfg
            .sites
            .iter()
            .map(|s| vec![Vec::new(); s.recorders.max(1)])
            .collect();
        let mut cameras = Vec::with_capacity(cfg.cameras.len());
        let mut camera_index =
            FxHashMap::with_capacity_and_hasher(cfg.cameras.len(), Default::default());
        for (c, spec) in cfg.cameras.iter().enumerate() {
            camera_index.insert(spec.id.clone(), c);
            cameras.push(Camera {
                id: spec.id.clone(),
                intent: None,
            });
            for site in 0..nsites {
                let slot = spec
                    .placements
                    .iter()
                    .find(|p| p.site == site && p.recorder < recorder_cameras[site].len())
                    .map(|p| Slot {
                        recorder: p.recorder,
                        device: p.device.clone(),
                        limit: p.settings.limit_or(cfg.sites[site].manual_recording_max),
                        prebuffer: p.settings.prebuffer_or(cfg.sites[site].prebuffer),
                    });
                if let Some(slot) = &slot {
                    device_index[site].insert(slot.device.clone(), c);
                    recorder_cameras[site][slot.recorder].push(c);
                }
                pairs.push(Pair::new(slot));
            }
        }
        let sites = cfg
            .sites
            .iter()
            .map(|s| SiteState::new(s.recorders.max(1)))
            .collect();
        let probe_sets = recorder_cameras
            .iter()
            .map(|recs| vec![Default::default(); recs.len()])
            .collect();
        Mirror {
            policy: cfg.policy,
            probe_sets,
            site_specs: cfg.sites,
            cameras,
            camera_index,
            pairs: PairTable::new(pairs, nsites),
            nsites,
            device_index,
            recorder_cameras,
            sites,
            inflight: super::inflight::InFlightTable::new(nsites),
            late_answers: FxHashMap::default(),
            late_answers_expire: Nanos::MAX,
            next_req: 0,
            timers: Timers::default(),
            dirty: Vec::new(),
            outbox: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            started: false,
            stats: MirrorStats::default(),
            now: 0,
            sabotage: Default::default(),
        }
    }

    /// Records the user's latest click on `camera` and fans it out to every
    /// site in this same step. Repeating the current intent is a no-op that
    /// returns the current sequence (a double click is not a new intent).
    pub fn set_intent(
        &mut self,
        now: Nanos,
        camera: &CameraId,
        recording: bool,
    ) -> Result<IntentSeq, UnknownCamera> {
        let c = *self
            .camera_index
            .get(camera)
            .ok_or_else(|| UnknownCamera(camera.clone()))?;
        self.ensure_started(now);
        if let Some((seq, current)) = self.cameras[c].intent {
            if current == recording {
                return Ok(seq);
            }
        }
        let seq = IntentSeq(self.cameras[c].intent.map_or(0, |(s, _)| s.0) + 1);
        self.apply_intent(c, seq, recording);
        self.stats.intents += 1;
        // Not flushed here: clicks made in the same step ("record all") are
        // batched when the driver next polls.
        self.now = self.now.max(now);
        Ok(seq)
    }

    /// Restores intents from the journal after a restart. For each camera
    /// the entry with the highest sequence wins; every site of a restored
    /// camera is then reconciled from scratch.
    pub fn restore(&mut self, now: Nanos, intents: impl IntoIterator<Item = JournalEntry>) {
        self.ensure_started(now);
        let mut latest: Vec<Option<(IntentSeq, bool)>> = vec![None; self.cameras.len()];
        for e in intents {
            let Some(&c) = self.camera_index.get(&e.camera) else {
                tracing::warn!(camera = %e.camera, "journal names a camera that is no longer configured; ignored");
                continue;
            };
            if latest[c].is_none_or(|(s, _)| e.seq > s) {
                latest[c] = Some((e.seq, e.recording));
            }
        }
        for (c, entry) in latest.into_iter().enumerate() {
            let Some((seq, recording)) = entry else {
                continue;
            };
            self.apply_intent(c, seq, recording);
            for site in 0..self.nsites {
                let p = &mut self.pairs[c * self.nsites + site];
                p.observed = Observed::Unknown;
                // The recording may have run for a long time under the
                // crashed engine: its auto-stop timer is unknown.
                p.since_hint = Some(None);
                // The crashed engine's requests may still be on their way
                // and execute late (a Start after this engine's Stop): keep
                // probing the camera, even once stopped, until none can.
                p.watch_until = now + LATE_REQUEST_HORIZON;
            }
        }
        self.flush(now);
    }

    /// Feeds the outcome of request `req`. Unknown or already timed-out
    /// requests are ignored — except two kinds of late answer a heavy-tailed
    /// link may deliver seconds after the time-out: a probe's, which still
    /// tells what the recorder was doing when it was served (waiting for the
    /// next probe's round trip would double the time to notice a loss), and
    /// a login's token while the site has none (waiting for the login sent
    /// after the time-out would leave every recording of the site waiting
    /// on a second trip through the tail).
    pub fn on_reply(&mut self, now: Nanos, req: RequestId, reply: Result<Reply, TransportError>) {
        self.ensure_started(now);
        if let Some(inflight) = self.inflight.remove(&req) {
            self.handle_reply(now, req, inflight, reply);
        } else if self.late_answer_useful(req, &reply) {
            if let Some(inflight) = self.late_answers.remove(&req) {
                self.handle_reply(now, req, inflight, reply);
            }
        }
        self.flush(now);
    }

    fn late_answer_useful(&self, req: RequestId, reply: &Result<Reply, TransportError>) -> bool {
        match reply {
            Ok(Reply::States(_)) => true,
            Ok(Reply::LoggedIn { .. }) => self
                .late_answers
                .get(&req)
                .is_some_and(|f| self.sites[f.site].token.is_none()),
            _ => false,
        }
    }

    /// Lets time pass: fires every timer due at or before `now`.
    pub fn on_timeout(&mut self, now: Nanos) {
        self.ensure_started(now);
        while let Some(timer) = self.timers.pop_due(now) {
            self.fire(now, timer);
        }
        self.flush(now);
    }

    /// The next request to send, if any.
    pub fn poll_command(&mut self) -> Option<Command> {
        if self.outbox.is_empty() && !self.dirty.is_empty() {
            self.flush(self.now);
        }
        self.outbox.pop_front()
    }

    /// When the engine next needs [`Mirror::on_timeout`]. May be early (a
    /// stale timer); never late.
    pub fn next_deadline(&self) -> Option<Nanos> {
        if !self.started {
            return Some(0);
        }
        self.timers.next_deadline()
    }

    /// The engine's view of one camera.
    pub fn status(&self, camera: &CameraId) -> Option<CameraStatus> {
        let &c = self.camera_index.get(camera)?;
        Some(CameraStatus {
            camera: camera.clone(),
            intent: self.cameras[c].intent,
            sites: (0..self.nsites)
                .map(|s| {
                    let p = &self.pairs[c * self.nsites + s];
                    SiteCameraStatus {
                        site: self.site_specs[s].name.clone(),
                        observed: p.observed,
                        pending: p.inflight.is_some(),
                        site_up: self.sites[s].up,
                        config_error: (p.device_rejections > 0).then(|| {
                            "the site refuses this device (non-zero ResultCode); check its GUID"
                                .to_owned()
                        }),
                    }
                })
                .collect(),
        })
    }

    /// Every camera's latest intent, in configuration order (what a journal
    /// snapshot holds).
    pub fn intents(&self) -> impl Iterator<Item = JournalEntry> + '_ {
        self.cameras.iter().filter_map(|c| {
            c.intent.map(|(seq, recording)| JournalEntry {
                camera: c.id.clone(),
                seq,
                recording,
            })
        })
    }

    pub fn stats(&self) -> &MirrorStats {
        &self.stats
    }

    /// Whether each site is currently considered up.
    pub fn sites_up(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        self.site_specs
            .iter()
            .zip(&self.sites)
            .map(|(spec, st)| (spec.name.as_str(), st.up))
    }

    /// Requests awaiting a reply.
    pub fn inflight_count(&self) -> usize {
        self.inflight.len()
    }

    pub fn camera_ids(&self) -> impl Iterator<Item = &CameraId> + '_ {
        self.cameras.iter().map(|c| &c.id)
    }

    pub(super) fn ensure_started(&mut self, now: Nanos) {
        self.now = self.now.max(now);
        if self.started {
            return;
        }
        self.started = true;
        for site in 0..self.nsites {
            for rec in 0..self.recorder_cameras[site].len() {
                // Spread recorders' probe phases so they do not all fire in
                // the same step.
                let phase = rand::Rng::random_range(&mut self.rng, 0..=self.policy.probe_interval);
                self.timers.arm(now + phase, Timer::Probe(site, rec, 0));
            }
        }
    }

    fn apply_intent(&mut self, c: usize, seq: IntentSeq, recording: bool) {
        self.cameras[c].intent = Some((seq, recording));
        for site in 0..self.nsites {
            let p = c * self.nsites + site;
            let pair = &mut self.pairs[p];
            pair.desired = Some(recording);
            if pair.slot.is_none() {
                continue;
            }
            // A fresh click goes out at once, whatever back-off an older
            // intent had accumulated.
            pair.failures = 0;
            pair.retry_at = 0;
            pair.supersedes = 0;
            // A stop click during a renewal's hand-over (its Stop in flight
            // or done, its Start pending) keeps the hand-over: its Start
            // back-fills the footage up to the click from the pre-buffer,
            // then the click's Stop follows (see `handover.rs`).
            // Test-only planted bug (see `sabotage.rs`): abandon it unless
            // the Stop's reply is already in.
            if self.sabotage.abandon_handover && !recording && pair.observed != Observed::Stopped {
                pair.renewing = false;
                pair.handover = None;
            }
            self.mark_dirty(p);
        }
    }

    pub(super) fn mark_dirty(&mut self, p: usize) {
        // Whatever made the pair dirty may have unsettled it.
        self.relist_probe(p);
        if !self.pairs[p].dirty {
            self.pairs[p].dirty = true;
            self.dirty.push(p);
        }
    }

    pub(super) fn desired(&self, p: usize) -> Option<bool> {
        let desired = self.pairs[p].desired;
        debug_assert_eq!(
            desired,
            self.cameras[p / self.nsites].intent.map(|(_, r)| r)
        );
        desired
    }
}
