//! Overdue requests: a Start or Stop whose reply is late is superseded
//! instead of waited for.
//!
//! A pair has at most one Start/Stop it waits on. When that request's reply
//! is lost, or the request itself vanished in a partition that has since
//! healed, waiting for its time-out (`request_timeout`, often several
//! seconds) leaves the camera unrecorded on that site all the while — with
//! the other site out, that is a hole in the evidence. So an overdue
//! request no longer holds the pair back. A request is **overdue** one
//! round-trip bound (srtt + 4·rttvar, at least the first retry delay) after
//! it was sent if the site has answered a request sent after it — the path
//! works, this one met a latency tail or lost its reply; or, once per pair
//! between answers, blindly two bounds after it was sent (a lost reply with
//! no other traffic to tell). A link with a heavy tail can take longer than
//! the bound twice in a row (a probe's reply, then the Start it calls for):
//! the evidence rule is what keeps such a recovery within a few bounds
//! instead of a request time-out. To get that evidence soon, an overdue request with nothing newer
//! answered makes the site *suspect* (see `site.rs`): it is health-probed at
//! the down-probe cadence, one light probe per recorder, rather than having
//! Starts re-sent into what may be a hang or a partition. What supersedes it:
//!
//! - **A Start is re-sent** (Start is idempotent). The overdue one may have
//!   executed: its send time stays the earliest the recorder's auto-stop
//!   timer can have started (`Pair::note_unconfirmed_start`).
//! - **A Stop is overtaken by a Start** when the user wants the camera
//!   recording again (a stop click, then a start click). Should the Stop
//!   answer after all, or time out, it may have executed after the Start, so
//!   the Start is repeated (the overtaken-Stop bookkeeping of `handover.rs`).
//! - **A Start is followed by a Stop** when the user has clicked stop: a late
//!   Start executing after it is an orphan, which the late-request watch
//!   finds and stops.
//! - An overdue Stop is **not** re-sent while the user still wants the
//!   camera stopped: footage is not at stake, and two Stops in doubt would
//!   make a later overtaking Start harder to protect.
//!
//! Whatever supersedes it, the overdue request stays in flight until it
//! answers or times out (its late answer is then ignored), the camera is
//! watched for the late-request horizon. No request becomes overdue
//! before the engine has timed a round trip to its site, nor when two bounds
//! reach the request time-out (the time-out then comes first); the site is
//! judged down after `failures_before_down` time-outs, which stops it.
//!
//! A renewal's Stop has its own, pre-buffer-aware overdue rule (rule 4 in
//! `handover.rs`) and is left to it.
//!
//! Like the rest of the core, this performs no I/O.

use super::mirror::Mirror;
use super::replies::LATE_REQUEST_HORIZON;
use super::timers::Timer;
use super::types::*;

impl Mirror {
    /// How long after sending a Start/Stop to `site` its reply is overdue
    /// with no other evidence (a lost reply), or `None` when the request
    /// time-out comes first (or no round trip to the site has been timed
    /// yet).
    pub(super) fn overdue_after(&self, site: SiteId) -> Option<Nanos> {
        // Test-only planted bug (see `sabotage.rs`): wait for time-outs.
        if self.sabotage.patient_requests {
            return None;
        }
        let bound = self.sites[site].rtt.bound();
        let after = (2 * bound).max(self.policy.retry_initial);
        (bound > 0 && after < self.policy.request_timeout).then_some(after)
    }

    /// How long after sending a request to `site` its reply is overdue once
    /// the site has answered a request sent after it: the path works, and
    /// this one has been out longer than a round trip rarely takes — it met
    /// a latency tail or its reply was lost. `None` as for
    /// [`Mirror::overdue_after`].
    pub(super) fn overdue_when_overtaken(&self, site: SiteId) -> Option<Nanos> {
        // On a heavy-tailed link the variance term can push one bound past
        // the time-out; with the path shown working, half of it is patience
        // enough.
        let bound = self.sites[site].rtt.bound();
        if self.sabotage.patient_requests || bound == 0 {
            return None;
        }
        let timeout = self.policy.request_timeout;
        let after = bound.min(timeout / 2).max(self.policy.retry_initial);
        (after < timeout).then_some(after)
    }

    /// Whether a request sent to `site` at `sent_at` is overdue at `now`:
    /// blindly after [`Mirror::overdue_after`] (`blind_ok`), or after
    /// [`Mirror::overdue_when_overtaken`] once a request sent later was
    /// answered.
    pub(super) fn is_overdue(
        &self,
        now: Nanos,
        site: SiteId,
        sent_at: Nanos,
        blind_ok: bool,
    ) -> bool {
        let waited = now.saturating_sub(sent_at);
        let overtaken = self.sites[site]
            .last_answered_sent_at
            .is_some_and(|t| t > sent_at);
        let past = |after: Option<Nanos>| after.is_some_and(|a| waited >= a);
        (overtaken && past(self.overdue_when_overtaken(site)))
            || (blind_ok && past(self.overdue_after(site)))
    }

    /// Arms the overdue check of Start/Stop `req`, just sent to `site`.
    pub(super) fn watch_overdue(&mut self, now: Nanos, site: SiteId, req: RequestId) {
        if let Some(after) = self.overdue_when_overtaken(site) {
            self.timers.arm(now + after, Timer::Overdue(req));
        }
    }

    /// Request `req` may be overdue: reconsider the pairs still waiting on
    /// it, and look again one overdue delay later while it is out.
    pub(super) fn on_overdue(&mut self, now: Nanos, req: RequestId) {
        if !self.mark_waiting_dirty(req) {
            return;
        }
        let Some((site, sent_at)) = self.inflight.get(&req).map(|f| (f.site, f.sent_at)) else {
            return;
        };
        // Overdue, and nothing sent later has answered either: the site may
        // be hung or cut off. Probe it at the health cadence so its return
        // is seen (and this request superseded) within a probe interval.
        let st = &self.sites[site];
        let later_answered = st.last_answered_sent_at.is_some_and(|t| t > sent_at);
        let blind_overdue = self
            .overdue_after(site)
            .is_some_and(|after| now >= sent_at + after);
        if st.up && st.suspect_since.is_none() && !later_answered && blind_overdue {
            self.sites[site].suspect_since = Some(now);
            for rec in 0..self.recorder_cameras[site].len() {
                self.reprobe_soon(now, site, rec);
            }
        }
        // One timer chain per request: next at the blind threshold if still
        // ahead, else one evidence delay on.
        let blind_at = self
            .overdue_after(site)
            .map(|after| sent_at + after)
            .filter(|&at| at > now);
        let next = match (self.overdue_when_overtaken(site), blind_at) {
            (Some(after), Some(blind)) => Some(blind.min(now + after)),
            (Some(after), None) => Some(now + after),
            (None, blind) => blind,
        };
        if let Some(at) = next.filter(|&at| at < sent_at + self.policy.request_timeout) {
            self.timers.arm(at, Timer::Overdue(req));
        }
    }

    /// `site` answered a request sent at `sent_at`, later than any it had
    /// answered: Start/Stops sent before it and out for the overtaken delay
    /// are overdue now, not at their next overdue check.
    pub(super) fn on_overtaking_answer(&mut self, now: Nanos, site: SiteId, sent_at: Nanos) {
        let Some(after) = self.overdue_when_overtaken(site) else {
            return;
        };
        // Out for the overtaken delay: sent no later than `now - after`.
        let Some(sent_by) = now.checked_sub(after) else {
            return;
        };
        let mut overdue: Vec<RequestId> = self
            .inflight
            .ops_sent_before(site, sent_at, sent_by)
            .collect();
        // In request order, as always (send order may tie).
        overdue.sort_unstable();
        for req in overdue {
            self.mark_waiting_dirty(req);
        }
    }

    /// Marks the pairs still waiting on Start/Stop `req` for reconciliation;
    /// false when none is.
    fn mark_waiting_dirty(&mut self, req: RequestId) -> bool {
        let Some(f) = self.inflight.get(&req) else {
            return false;
        };
        let super::mirror::Purpose::Op(op, pairs) = &f.purpose else {
            return false;
        };
        let waiting: Vec<usize> = pairs
            .iter()
            .copied()
            .filter(|&p| self.pairs[p].inflight == Some((req, *op)))
            .collect();
        for &p in &waiting {
            self.mark_dirty(p);
        }
        !waiting.is_empty()
    }

    /// Whether pair `p`'s request in flight may be superseded now by the
    /// operation its intent (`desired`) calls for.
    pub(super) fn may_supersede(&self, now: Nanos, p: usize, desired: bool) -> bool {
        let pair = &self.pairs[p];
        let Some((req, op)) = pair.inflight else {
            return true;
        };
        match (op, desired) {
            // Footage is not at stake; see the module doc.
            (RecorderOp::Stop, false) => return false,
            // A renewal's Stop follows the hand-over's own rule.
            (RecorderOp::Stop, true) if pair.handover.is_some() => return false,
            _ => {}
        }
        let site = p % self.nsites;
        self.inflight
            .get(&req)
            .is_some_and(|f| self.is_overdue(now, site, f.sent_at, pair.supersedes == 0))
    }

    /// Pair `p` is about to send `next` while its request in flight is
    /// overdue: leave that one behind, remembering what it may still do.
    pub(super) fn supersede(&mut self, now: Nanos, p: usize, next: RecorderOp) {
        let Some((req, op)) = self.pairs[p].inflight.take() else {
            return;
        };
        let sent_at = self.inflight.get(&req).map_or(now, |f| f.sent_at);
        let pair = &mut self.pairs[p];
        pair.supersedes += 1;
        match (op, next) {
            (RecorderOp::Start, _) => pair.note_unconfirmed_start(sent_at),
            (RecorderOp::Stop, RecorderOp::Start) => pair.overtaken_stops.push(req),
            _ => {}
        }
        pair.forget_observation();
        pair.watch_until = pair.watch_until.max(sent_at + LATE_REQUEST_HORIZON);
        self.relist_probe(p);
    }
}
