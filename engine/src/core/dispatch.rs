//! Turning decisions into requests: timers firing, per-pair reconciliation,
//! and batching of device ids per recorder.
//!
//! Everything decided in one step is emitted in that step, grouped by
//! (site, recorder, operation), so a click fans out to all sites at once and
//! a thousand-camera "record all" becomes one request per recorder.

use std::collections::BTreeMap;

use super::mirror::{InFlight, Mirror, Purpose};
use super::timers::Timer;
use super::types::*;

impl Mirror {
    /// Sends due logins and reconciles every dirty pair, batching the result.
    pub(super) fn flush(&mut self, now: Nanos) {
        for site in 0..self.nsites {
            if self.login_due(site, now) {
                self.send_login(now, site);
            }
        }
        if self.dirty.is_empty() {
            return;
        }
        let mut batches: BTreeMap<(SiteId, RecorderId, u8), Vec<usize>> = BTreeMap::new();
        let dirty = std::mem::take(&mut self.dirty);
        for &p in &dirty {
            self.pairs[p].dirty = false;
        }
        for p in dirty {
            if let Some(op) = self.decide(now, p) {
                let site = p % self.nsites;
                let Some(slot) = &self.pairs[p].slot else {
                    continue;
                };
                let order = match op {
                    RecorderOp::Stop => 0,
                    RecorderOp::Start => 1,
                    RecorderOp::Probe => 2,
                };
                batches
                    .entry((site, slot.recorder, order))
                    .or_default()
                    .push(p);
            }
        }
        for ((site, recorder, order), pairs) in batches {
            let op = match order {
                0 => RecorderOp::Stop,
                _ => RecorderOp::Start,
            };
            self.send_op(now, site, recorder, op, pairs);
        }
    }

    /// The operation pair `p` needs now, if it may be sent now.
    fn decide(&mut self, now: Nanos, p: usize) -> Option<RecorderOp> {
        let desired = self.desired(p)?;
        let site = p % self.nsites;
        let pair = &self.pairs[p];
        let superseding = pair.inflight.is_some();
        if pair.slot.is_none() || (superseding && !self.may_supersede(now, p, desired)) {
            return None;
        }
        if !self.sites[site].usable() && !self.handover_start_despite_down(now, p) {
            return None;
        }
        if pair.retry_at > now {
            return None;
        }
        // An overdue request's fate is unknown: move straight toward the
        // intent (see `overdue.rs`).
        if superseding {
            return Some(if desired {
                RecorderOp::Start
            } else {
                RecorderOp::Stop
            });
        }
        // An open hand-over is closed by its Start first, whatever the
        // intent: it back-fills the hole from the pre-buffer (and a stop
        // click's Stop follows it).
        if pair.handover.is_some() && pair.observed != Observed::Recording {
            return Some(RecorderOp::Start);
        }
        if let Some(op) = pair.corrective_op(desired) {
            return Some(op);
        }
        // Test-only planted bug (see `sabotage.rs`): never renew.
        if !desired || self.sabotage.no_renewal {
            return None;
        }
        let limit = self.auto_stop_limit(p);
        let due = self.renewal_due_at(now, p)?;
        if due > now {
            // The renewal window's own wake-up, still ahead and no later,
            // reconciles the pair first, and this arms the wake-up then.
            // Every other way out of `decide` before here has its own
            // wake (a reply, a time-out, the back-off's wake-up, the site's
            // recovery), so the pair is reconciled again before `due`.
            let window_wake = self.pairs[p].renewal_wake_at;
            if !(now < window_wake && window_wake <= due) {
                self.timers.arm(due, Timer::Wake(p));
            }
            return None;
        }
        // Stagger: one site at a time renews a camera, so the union of sites
        // never drops. A sibling finishing its renewal marks us dirty again.
        let camera = p / self.nsites;
        let sibling_renewing = (0..self.nsites)
            .filter(|&s| s != site)
            .any(|s| self.pairs[camera * self.nsites + s].renewing);
        // ...but never past this pair's last moment (see `handover.rs`): a
        // sibling stuck in a failing renewal must not let this site run into
        // its own auto-stop. An unknown timer is due "at time 0": measure
        // the patience from when the pair was last confirmed instead.
        let margin = self.policy.renew_before.min(limit.unwrap_or(0) / 2);
        let patience_ends = match self.last_renewal_moment(p) {
            Some(last) if !self.sabotage.careless_handover => last,
            _ => due.max(self.pairs[p].last_op_sent) + margin / 2,
        };
        // Two sites whose recordings began with one click share a last
        // moment; the one that finds its sibling already renewing there
        // waits on, half-way to its auto-stop, so the two recorders never
        // stop together (the sibling's Start ending marks us dirty).
        let patience_ends = match (self.last_renewal_moment(p), limit) {
            (Some(last), Some(limit))
                if sibling_renewing && now >= last && !self.sabotage.careless_handover =>
            {
                let stops_at = self.pairs[p].since.map_or(last, |since| since + limit);
                last + stops_at.saturating_sub(last) / 2
            }
            _ => patience_ends,
        };
        if sibling_renewing && now < patience_ends {
            let recheck = (now + self.policy.retry_max).min(patience_ends);
            self.timers.arm(recheck, Timer::Wake(p));
            return None;
        }
        if let Some(cover_by) = self.wait_for_cover(now, p) {
            self.timers.arm(cover_by, Timer::Wake(p));
            return None;
        }
        match self.handover_readiness(now, p) {
            super::handover::Readiness::Go => {}
            super::handover::Readiness::WaitUntil(t) => {
                self.timers.arm(t.max(now + 1), Timer::Wake(p));
                return None;
            }
            super::handover::Readiness::LoginFirst => {
                // The login's success marks every pair of the site dirty.
                self.sites[site].login_wanted = true;
                return None;
            }
        }
        self.pairs[p].renewing = true;
        Some(RecorderOp::Stop)
    }

    fn next_request_id(&mut self) -> RequestId {
        self.next_req += 1;
        RequestId(self.next_req)
    }

    fn login_due(&self, site: SiteId, now: Nanos) -> bool {
        let st = &self.sites[site];
        if st.login_inflight.is_some() || st.login_retry_at > now {
            return false;
        }
        if st.login_wanted && st.up {
            return true;
        }
        match &st.token {
            None => true,
            Some(t) => now >= self.token_refresh_at(t.expires_at, t.issued_ttl),
        }
    }

    /// When to renew a token: `token_renew_before` ahead of expiry, or at
    /// half its lifetime for short-lived tokens.
    pub(super) fn token_refresh_at(&self, expires_at: Nanos, ttl: Nanos) -> Nanos {
        expires_at.saturating_sub(self.policy.token_renew_before.min(ttl / 2))
    }

    pub(super) fn send_login(&mut self, now: Nanos, site: SiteId) {
        let req = self.next_request_id();
        let current = self.sites[site].token_value().map(str::to_owned);
        self.sites[site].login_inflight = Some(req);
        self.sites[site].login_sent_at = now;
        self.sites[site].login_wanted = false;
        self.inflight.insert(
            req,
            InFlight {
                site,
                purpose: Purpose::Login,
                sent_at: now,
                token: current.clone(),
            },
        );
        self.timers.arm(
            now + self.policy.request_timeout,
            Timer::RequestTimeout(req),
        );
        self.stats.logins += 1;
        self.outbox.push_back(Command::Login {
            req,
            site,
            current_token: current,
        });
    }

    fn send_op(
        &mut self,
        now: Nanos,
        site: SiteId,
        recorder: RecorderId,
        op: RecorderOp,
        pairs: Vec<usize>,
    ) {
        let Some(token) = self.sites[site].token_value().map(str::to_owned) else {
            return;
        };
        let req = self.next_request_id();
        let mut devices = Vec::with_capacity(pairs.len());
        for &p in &pairs {
            let wanted = self.desired(p) == Some(true);
            if self.pairs[p].inflight.is_some() {
                self.supersede(now, p, op);
            }
            let pair = &mut self.pairs[p];
            pair.inflight = Some((req, op));
            pair.last_op_sent = now;
            if let Some(slot) = &pair.slot {
                devices.push(slot.device.clone());
            }
            // A renewal Stop opens the hand-over; one re-sent while the
            // recorder is still believed recording (the first was refused
            // with a fault) opens it afresh, so its pre-buffer clock and
            // overdue watch start from a Stop that can have executed.
            let fresh = pair.handover.is_none() || pair.observed == Observed::Recording;
            if op == RecorderOp::Stop && pair.renewing && wanted && fresh {
                self.open_handover(now, p, req);
            }
        }
        self.inflight.insert(
            req,
            InFlight {
                site,
                purpose: Purpose::Op(op, pairs),
                sent_at: now,
                token: Some(token.clone()),
            },
        );
        self.timers.arm(
            now + self.policy.request_timeout,
            Timer::RequestTimeout(req),
        );
        self.watch_overdue(now, site, req);
        self.stats.requests += 1;
        self.outbox.push_back(Command::Send {
            req,
            site,
            recorder,
            op,
            devices,
            token,
        });
    }

    /// Probes one recorder: the cameras whose state matters there (wanted
    /// recording, or not known to be stopped). A site that is down or
    /// suspect is probed even with nothing to ask, as its health check.
    pub(super) fn send_probe(&mut self, now: Nanos, site: SiteId, recorder: RecorderId) {
        let Some(token) = self.sites[site].token_value().map(str::to_owned) else {
            // Due while a login is under way: ask as soon as it succeeds,
            // not a whole probe interval later.
            self.sites[site].probe_refused[recorder] = true;
            return;
        };
        let (pairs, devices) = self.probe_targets(now, site, recorder);
        if devices.is_empty() && !self.sites[site].probed_closely() {
            return;
        }
        let req = self.next_request_id();
        self.sites[site].probe_inflight[recorder] = Some(req);
        self.inflight.insert(
            req,
            InFlight {
                site,
                purpose: Purpose::Probe(recorder, pairs),
                sent_at: now,
                token: Some(token.clone()),
            },
        );
        self.timers.arm(
            now + self.policy.request_timeout,
            Timer::RequestTimeout(req),
        );
        self.stats.probes += 1;
        self.outbox.push_back(Command::Send {
            req,
            site,
            recorder,
            op: RecorderOp::Probe,
            devices,
            token,
        });
    }

    /// Whether the probe in flight to `recorder` holds the next one back.
    /// On a site that is down or suspect the probe is the health check: one lost in a
    /// black hole (a partition that has just healed) must not delay noticing
    /// the site back by a whole request time-out, so after a down-probe
    /// interval the next one goes anyway.
    pub(super) fn probe_blocks(&self, now: Nanos, site: SiteId, recorder: RecorderId) -> bool {
        let st = &self.sites[site];
        let Some(req) = st.probe_in_flight(recorder) else {
            return false;
        };
        let Some(sent_at) = self.inflight.get(&req).map(|f| f.sent_at) else {
            return !st.probed_closely();
        };
        if st.probed_closely() {
            return now < sent_at + self.policy.down_probe_interval;
        }
        // On a site that is up, a probe is overdue like a Start or Stop
        // (`overdue.rs`) once a request sent after it was answered: its trip
        // met a tail (or its reply was lost) and the path itself works —
        // waiting for its time-out would leave a recorder restart unseen all
        // that while.
        !self.is_overdue(now, site, sent_at, false)
    }

    /// Keeps timed-out probe or login `req` for its late answer (see
    /// [`Mirror::on_reply`]), forgetting those past the late-request horizon.
    ///
    /// The sweep runs only when the earliest kept request has passed the
    /// horizon: sweeping on every time-out made a burst of `n` time-outs
    /// (a site going away under hundreds of recorders) cost `n²`. What is
    /// kept after each call is the same as with a sweep every time.
    fn keep_for_late_answer(&mut self, now: Nanos, req: RequestId, inflight: InFlight) {
        let horizon = super::replies::LATE_REQUEST_HORIZON;
        if self.late_answers_expire <= now {
            self.late_answers.retain(|_, f| f.sent_at + horizon > now);
            self.late_answers_expire = self
                .late_answers
                .values()
                .map(|f| f.sent_at + horizon)
                .min()
                .unwrap_or(Nanos::MAX);
        }
        self.late_answers_expire = self.late_answers_expire.min(inflight.sent_at + horizon);
        self.late_answers.insert(req, inflight);
    }

    pub(super) fn fire(&mut self, now: Nanos, timer: Timer) {
        match timer {
            Timer::RequestTimeout(req) => {
                if let Some(inflight) = self.inflight.remove(&req) {
                    self.stats.timeouts += 1;
                    if matches!(inflight.purpose, Purpose::Probe(..) | Purpose::Login) {
                        self.keep_for_late_answer(now, req, inflight.clone());
                    }
                    self.handle_reply(now, req, inflight, Err(TransportError::Timeout));
                }
            }
            // Most wake-ups find nothing to do: a renewal wake-up armed when
            // the camera started recording fires minutes after a stop click
            // settled it. Reconciling such a pair decides nothing, but put
            // it back in its recorder's probe set for the next probe to
            // drop again — work on a pair long out of cache.
            Timer::Wake(p) if self.pairs[p].settled_without_intent_to_act(now) => {}
            Timer::Wake(p) => self.mark_dirty(p),
            Timer::Probe(site, recorder, gen) => {
                if self.sites[site].probe_gen.get(recorder) != Some(&gen) {
                    return;
                }
                let interval = if self.sites[site].probed_closely() {
                    self.policy.down_probe_interval
                } else {
                    self.policy.probe_interval
                };
                self.timers
                    .arm(now + interval.max(1), Timer::Probe(site, recorder, gen));
                let st = &self.sites[site];
                // Never around the back-off of rejected credentials.
                if !st.up && st.token.is_none() && !st.credentials.is_rejected() {
                    // Without a token the login is the health check: keep
                    // its pace to the down-probe cadence instead of waiting
                    // for a lost login to time out and back off.
                    let stale = st.login_inflight.is_none()
                        || now >= st.login_sent_at + self.policy.down_probe_interval;
                    if stale && recorder == 0 {
                        self.send_login(now, site);
                    }
                }
                if !self.probe_blocks(now, site, recorder) {
                    self.send_probe(now, site, recorder);
                }
            }
            // Logins are sent by `flush` when due; the timer only wakes it.
            Timer::Login(_) => {}
            Timer::HandoverOverdue(p, req) => self.on_handover_overdue(now, p, req),
            Timer::Overdue(req) => self.on_overdue(now, req),
        }
    }
}
