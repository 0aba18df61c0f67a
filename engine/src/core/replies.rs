//! Learning from replies: observed state, site health, tokens, back-off.
//!
//! A reply only ever updates the pairs whose in-flight request it answers,
//! and a probe answer older than the pair's last Start/Stop is ignored; this
//! is what makes the last click win over late replies.

use rand::Rng;

use super::backoff;
use super::mirror::{InFlight, Mirror, Purpose};
use super::site::Token;
use super::timers::Timer;
use super::types::*;

/// How many request timeouts a request of unknown fate is watched for: a
/// recorder may still execute a request it received late.
const LATE_REQUEST_WATCH: u64 = 10;

/// How long after it was sent a request of unknown fate may still execute,
/// whatever the request time-out: the engine keeps probing the camera until
/// then (a late Start after the Stop that followed it is an orphan, a late
/// Stop a hole). This is the engine's one assumption about delay: a request
/// executes within two minutes of being sent, or never — its connection was
/// closed at the time-out long before, and a server does not keep a closed
/// connection's request waiting that long.
pub const LATE_REQUEST_HORIZON: Nanos = 120 * SECS;

impl Mirror {
    pub(super) fn handle_reply(
        &mut self,
        now: Nanos,
        req: RequestId,
        inflight: InFlight,
        reply: Result<Reply, TransportError>,
    ) {
        let site = inflight.site;
        let reply = match reply {
            Err(err) => return self.on_failure(now, req, inflight, &err),
            Ok(reply) => reply,
        };
        // Any answer proves the site reachable.
        let overtaking = self.sites[site]
            .last_answered_sent_at
            .is_none_or(|t| t < inflight.sent_at);
        if self.sites[site].record_success(inflight.sent_at) {
            self.on_site_recovered(site);
        }
        if overtaking {
            self.on_overtaking_answer(now, site, inflight.sent_at);
        }
        self.sites[site]
            .rtt
            .observe(now.saturating_sub(inflight.sent_at));
        match (inflight.purpose, reply) {
            (Purpose::Login, Reply::LoggedIn { token, ttl }) => {
                self.on_credentials_accepted(site);
                let st = &mut self.sites[site];
                // A late answer leaves the login sent after it in flight.
                if st.login_inflight == Some(req) {
                    st.login_inflight = None;
                }
                st.login_failures = 0;
                let expires_at = inflight.sent_at + ttl;
                st.token = Some(Token {
                    value: token,
                    expires_at,
                    issued_ttl: ttl,
                });
                let refresh = self.token_refresh_at(expires_at, ttl).max(now + 1);
                self.timers.arm(refresh, Timer::Login(site));
                self.mark_site_dirty(site);
                // A probe refused for the old token is asked again now rather
                // than a probe interval later.
                for rec in 0..self.recorder_cameras[site].len() {
                    if std::mem::take(&mut self.sites[site].probe_refused[rec])
                        && !self.probe_blocks(now, site, rec)
                    {
                        self.send_probe(now, site, rec);
                    }
                }
            }
            (Purpose::Op(op, pairs), Reply::Results(results)) => {
                // One back-off per request, so its failed pairs retry together
                // (still batched).
                let mut delay = None;
                let mut answered = vec![false; pairs.len()];
                for (i, r) in results.iter().enumerate() {
                    // Replies list devices in request order; fall back to a
                    // lookup when a recorder reorders them.
                    let idx = match pairs.get(i) {
                        Some(&p) if self.device_of(p) == Some(&r.device) => Some(i),
                        _ => pairs
                            .iter()
                            .position(|&p| self.device_of(p) == Some(&r.device)),
                    };
                    let Some(idx) = idx else { continue };
                    if answered[idx] {
                        continue;
                    }
                    answered[idx] = true;
                    let p = pairs[idx];
                    if self.pairs[p].inflight != Some((req, op)) {
                        if self.pairs[p].overtaken_stops.contains(&req) {
                            if r.ok {
                                self.on_overtaken_stop_settled(p, req);
                            } else {
                                self.pairs[p].overtaken_stops.retain(|&o| o != req);
                            }
                        }
                        continue;
                    }
                    if r.ok {
                        self.pairs[p].device_rejections = 0;
                        self.on_op_success(now, p, op, inflight.sent_at);
                    } else {
                        self.on_device_rejected(now, p);
                    }
                }
                for (idx, &p) in pairs.iter().enumerate() {
                    if !answered[idx] && self.pairs[p].inflight == Some((req, op)) {
                        self.on_op_failure(now, p, &mut delay);
                    }
                }
            }
            (Purpose::Probe(recorder, pairs), Reply::States(states)) => {
                self.sites[site].probe_settled(recorder, req);
                for (i, s) in states.iter().enumerate() {
                    let p = match pairs.get(i) {
                        Some(&p) if self.device_of(p) == Some(&s.device) => Some(p),
                        _ => self.device_index[site]
                            .get(&s.device)
                            .map(|&c| c * self.nsites + site),
                    };
                    if let Some(p) = p {
                        self.on_probe_answer(p, s.recording, inflight.sent_at);
                    }
                }
            }
            (Purpose::Login, Reply::CredentialsRejected { message }) => {
                self.on_credentials_rejected(now, site, &message);
            }
            (purpose, Reply::Fault(fault)) => {
                if fault.token_invalid {
                    self.abandon_overtaken_login(site, inflight.sent_at);
                }
                self.on_fault(now, req, site, purpose, &fault, inflight.token.as_deref());
            }
            (purpose, other) => {
                tracing::warn!(?other, "reply does not match the request it answers");
                let err = TransportError::Malformed("reply of the wrong kind".into());
                let inflight = InFlight {
                    purpose,
                    ..inflight
                };
                self.on_failure(now, req, inflight, &err);
            }
        }
    }

    fn device_of(&self, p: usize) -> Option<&DeviceId> {
        self.pairs[p].slot.as_ref().map(|s| &s.device)
    }

    fn on_op_success(&mut self, now: Nanos, p: usize, op: RecorderOp, sent_at: Nanos) {
        let site = p % self.nsites;
        let pair = &mut self.pairs[p];
        pair.inflight = None;
        pair.failures = 0;
        pair.retry_at = 0;
        pair.supersedes = 0;
        match op {
            RecorderOp::Start => {
                let was_renewing = pair.renewing || pair.handover.is_some();
                let since = match (pair.observed, pair.since_hint.take()) {
                    (Observed::Unknown, Some(hint)) => hint,
                    _ => Some(sent_at),
                };
                // Test-only planted bug (see `sabotage.rs`): trust the
                // confirmed Start's send time.
                pair.since = if self.sabotage.young_timer {
                    pair.unconfirmed_start = None;
                    since
                } else {
                    pair.settle_since(since)
                };
                // An overtaken hand-over Stop answered while this Start was
                // out: it may have executed after it.
                pair.observed = if std::mem::take(&mut pair.start_in_doubt) {
                    // The repeated Start must not date the timer from
                    // itself: the recording may be the one this Start found.
                    pair.since_hint = Some(pair.since);
                    Observed::Unknown
                } else {
                    Observed::Recording
                };
                // While an overtaken Stop may still execute, the renewal is
                // not over: siblings keep waiting (stagger), so the late Stop
                // cannot meet a sibling's renewal Stop.
                pair.renewing = !pair.overtaken_stops.is_empty();
                pair.handover = None;
                if was_renewing {
                    self.stats.renewals += 1;
                }
                self.arm_renewal_wake(now, p);
                // A sibling may have been waiting for this renewal to finish.
                let camera = p / self.nsites;
                for s in 0..self.nsites {
                    if s != site {
                        self.mark_dirty(camera * self.nsites + s);
                    }
                }
            }
            RecorderOp::Stop => {
                if self.desired(p) == Some(false) && self.pairs[p].observed == Observed::Recording {
                    self.stats.orphans_stopped += 1;
                }
                self.pairs[p].confirm_stopped();
                if self.pairs[p].handover.is_some() {
                    self.login_beside_handover_start(p);
                }
            }
            RecorderOp::Probe => {}
        }
        // Test-only planted bug (see `sabotage.rs`): no reconciling.
        if self.sabotage.no_reconcile {
            return;
        }
        // The intent may have moved while the request was out.
        self.mark_dirty(p);
    }

    /// A pair's operation failed. `delay` is shared by the pairs of one
    /// request: drawn for the first, reused for the rest.
    pub(super) fn on_op_failure(&mut self, now: Nanos, p: usize, delay: &mut Option<Nanos>) {
        // The request may have executed: the pair is watched again.
        self.relist_probe(p);
        if matches!(self.pairs[p].inflight, Some((_, RecorderOp::Start)))
            && self.retry_handover_at_once(now, p)
        {
            self.stats.failures += 1;
            return;
        }
        let failures = self.pairs[p].failures + 1;
        let delay = *delay.get_or_insert_with(|| {
            backoff::delay(
                &mut self.rng,
                self.policy.retry_initial,
                self.policy.retry_max,
                failures,
            )
        });
        let pair = &mut self.pairs[p];
        pair.inflight = None;
        // A failed renewal must not hold the sibling sites' renewals back.
        pair.renewing = false;
        pair.failures += 1;
        pair.retry_at = now + delay;
        self.timers.arm(now + delay, Timer::Wake(p));
        self.stats.failures += 1;
    }

    fn on_probe_answer(&mut self, p: usize, recording: bool, probe_sent_at: Nanos) {
        let Some(desired) = self.desired(p) else {
            return;
        };
        let pair = &mut self.pairs[p];
        // A Start/Stop or probe sent after this probe (or a Start/Stop still
        // in flight) knows better.
        // Test-only planted bug (see `sabotage.rs`): probes find no drift.
        if pair.inflight.is_some()
            || pair.last_op_sent > probe_sent_at
            || pair.last_probe_sent > probe_sent_at
            || self.sabotage.no_drift_probes
        {
            return;
        }
        pair.last_probe_sent = probe_sent_at;
        match (recording, pair.observed) {
            (true, Observed::Recording) | (false, Observed::Stopped) => return,
            (true, _) => {
                let hint = pair.since_hint.take().unwrap_or(None);
                pair.since = if self.sabotage.young_timer {
                    hint
                } else {
                    pair.settle_since(hint)
                };
                pair.observed = Observed::Recording;
                let now = self.now;
                self.arm_renewal_wake(now, p);
            }
            (false, previous) => {
                if previous == Observed::Recording && desired {
                    // The recorder dropped a recording we asked for (restart,
                    // auto-stop we did not foresee): re-assert it.
                    self.stats.drifts_repaired += 1;
                }
                pair.confirm_stopped();
            }
        }
        self.mark_dirty(p);
    }

    /// Wakes pair `p` when its renewal may first fall due (the earlier
    /// window of a failing site; `decide` re-arms for the normal one).
    fn arm_renewal_wake(&mut self, now: Nanos, p: usize) {
        let early = 2 * self.policy.renew_before;
        if let Some(due) = self.pairs[p].renewal_due(self.auto_stop_limit(p), early) {
            let at = due.max(now);
            self.timers.arm(at, Timer::Wake(p));
            self.pairs[p].renewal_wake_at = at;
        }
    }

    /// `site` answered a request sent at `sent_at` (it is reachable) and
    /// refused its token. A login sent before that request and still
    /// unanswered was most likely lost in the outage the site came back
    /// from: waiting out its time-out left the site's cameras unasserted
    /// for up to a request time-out after the site was back (the explorer
    /// found `token-expiry` worlds whose recovery missed its bound by that
    /// wait). The next flush logs in again at once, within the login
    /// back-off as ever; should the old login answer after all, its token
    /// is as good as the new one's.
    fn abandon_overtaken_login(&mut self, site: SiteId, sent_at: Nanos) {
        let st = &mut self.sites[site];
        if st.login_inflight.is_some() && st.login_sent_at < sent_at {
            st.login_inflight = None;
        }
    }

    fn on_fault(
        &mut self,
        now: Nanos,
        req: RequestId,
        site: SiteId,
        purpose: Purpose,
        fault: &SoapFault,
        used_token: Option<&str>,
    ) {
        if fault.token_invalid && self.sites[site].token_value() == used_token {
            // Log in again; the pairs retry as soon as the new token arrives.
            self.sites[site].token = None;
        }
        if !fault.token_invalid {
            self.sites[site].last_failure_at = Some(now);
        }
        match purpose {
            Purpose::Login => {
                tracing::warn!(site = %self.site_specs[site].name, message = %fault.message, "login refused");
                self.sites[site].login_inflight = None;
                self.schedule_login_retry(now, site);
            }
            Purpose::Probe(recorder, _) => {
                self.sites[site].probe_settled(recorder, req);
                if fault.token_invalid {
                    self.sites[site].probe_refused[recorder] = true;
                }
            }
            Purpose::Op(op, pairs) => {
                let mut delay = None;
                for p in pairs {
                    if self.pairs[p].inflight != Some((req, op)) {
                        // A faulted request did not execute: an overtaken
                        // Stop leaves no doubt behind, a superseded request
                        // nothing to retry.
                        if op == RecorderOp::Stop {
                            self.pairs[p].overtaken_stops.retain(|&o| o != req);
                        }
                        continue;
                    }
                    if fault.token_invalid {
                        self.pairs[p].inflight = None;
                        self.mark_dirty(p);
                    } else {
                        self.on_op_failure(now, p, &mut delay);
                    }
                }
            }
        }
    }

    fn on_failure(&mut self, now: Nanos, req: RequestId, inflight: InFlight, err: &TransportError) {
        let site = inflight.site;
        tracing::debug!(site = %self.site_specs[site].name, ?req, %err, "request failed");
        self.sites[site].last_failure_at = Some(now);
        if self.sites[site].record_failure(self.policy.failures_before_down, inflight.sent_at) {
            self.on_site_down(now, site);
        }
        match inflight.purpose {
            Purpose::Login => {
                if self.sites[site].login_inflight == Some(req) {
                    self.sites[site].login_inflight = None;
                    self.schedule_login_retry(now, site);
                }
            }
            Purpose::Probe(recorder, _) => {
                self.sites[site].probe_settled(recorder, req);
                if self.sites[site].up {
                    // Not down yet: ask again soon rather than a whole probe
                    // interval later, so a short outage is noticed (and its
                    // lost recordings re-asserted) within the reaction time.
                    self.reprobe_soon(now, site, recorder);
                }
            }
            Purpose::Op(op, pairs) => {
                let mut delay = None;
                // A refused connection never reached the recorder.
                let may_have_executed = *err != TransportError::Refused;
                for p in pairs {
                    if op == RecorderOp::Stop && self.pairs[p].overtaken_stops.contains(&req) {
                        self.on_overtaken_stop_settled(p, req);
                        continue;
                    }
                    if self.pairs[p].inflight == Some((req, op)) {
                        if op == RecorderOp::Start && may_have_executed {
                            self.pairs[p].note_unconfirmed_start(inflight.sent_at);
                        }
                        // The request may have executed (a lost reply, a
                        // late request): what the recorder does is unknown.
                        self.pairs[p].forget_observation();
                        self.pairs[p].watch_until = (now
                            + LATE_REQUEST_WATCH * self.policy.request_timeout)
                            .max(inflight.sent_at + LATE_REQUEST_HORIZON);
                        self.on_op_failure(now, p, &mut delay);
                    }
                }
            }
        }
    }

    fn schedule_login_retry(&mut self, now: Nanos, site: SiteId) {
        let st = &mut self.sites[site];
        st.login_failures += 1;
        let failures = st.login_failures;
        let delay = backoff::delay(
            &mut self.rng,
            self.policy.retry_initial,
            self.policy.retry_max,
            failures,
        );
        self.sites[site].login_retry_at = now + delay;
        self.timers.arm(now + delay, Timer::Login(site));
    }

    fn on_site_down(&mut self, now: Nanos, site: SiteId) {
        tracing::info!(site = %self.site_specs[site].name, "site down; probing it until it answers");
        self.stats.sites_down += 1;
        for c in 0..self.cameras.len() {
            self.pairs[c * self.nsites + site].renewing = false;
        }
        // Switch the recorders to the faster health-probe cadence now.
        for rec in 0..self.recorder_cameras[site].len() {
            self.reprobe_soon(now, site, rec);
        }
    }

    /// Starts a new probe chain for one recorder, due after the health-probe
    /// interval (plus jitter); older chains retire.
    pub(super) fn reprobe_soon(&mut self, now: Nanos, site: SiteId, recorder: RecorderId) {
        let jitter = self
            .rng
            .random_range(0..=self.policy.down_probe_interval / 4);
        let gen = &mut self.sites[site].probe_gen[recorder];
        *gen += 1;
        let gen = *gen;
        self.timers.arm(
            now + self.policy.down_probe_interval + jitter,
            Timer::Probe(site, recorder, gen),
        );
    }

    /// Re-assertion after recovery: forget what we believed about the site
    /// and reconcile every camera with an intent from scratch, starting what
    /// should record and stopping orphans left by a partition.
    fn on_site_recovered(&mut self, site: SiteId) {
        tracing::info!(site = %self.site_specs[site].name, "site answers again; re-asserting intents");
        self.stats.sites_recovered += 1;
        // Test-only planted bug (see `sabotage.rs`): no re-assertion.
        if self.sabotage.no_reassert {
            return;
        }
        for c in 0..self.cameras.len() {
            if self.cameras[c].intent.is_none() {
                continue;
            }
            let p = c * self.nsites + site;
            let pair = &mut self.pairs[p];
            if pair.slot.is_none() {
                continue;
            }
            pair.forget_observation();
            pair.failures = 0;
            pair.retry_at = 0;
            pair.renewing = false;
            pair.handover = None;
            pair.overtaken_stops.clear();
            pair.supersedes = 0;
            pair.start_in_doubt = false;
            self.mark_dirty(p);
        }
    }

    fn mark_site_dirty(&mut self, site: SiteId) {
        for c in 0..self.cameras.len() {
            if self.cameras[c].intent.is_some() {
                self.mark_dirty(c * self.nsites + site);
            }
        }
    }
}
