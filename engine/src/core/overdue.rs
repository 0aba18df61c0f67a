//! Overdue requests: a Start or Stop whose reply is late is superseded
//! instead of waited for.
//!
//! A pair has at most one Start/Stop it waits on. When that request's reply
//! is lost, or the request itself vanished in a partition that has since
//! healed, waiting for its time-out (`request_timeout`, often several
//! seconds) leaves the camera unrecorded on that site all the while — with
//! the other site out, that is a hole in the evidence. So a request becomes
//! **overdue** two round-trip bounds (srtt + 4·rttvar, at least the first
//! retry delay) after it was sent, and an overdue request no longer holds
//! the pair back. The first time blindly (a lost reply); after that only on
//! evidence that the path works again — the site answered a request sent
//! later. To get that evidence soon, an overdue request with nothing newer
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
    /// How long after sending a Start/Stop to `site` its reply is overdue,
    /// or `None` when the request time-out comes first (or no round trip to
    /// the site has been timed yet).
    pub(super) fn overdue_after(&self, site: SiteId) -> Option<Nanos> {
        // Test-only planted bug (see `sabotage.rs`): wait for time-outs.
        if self.sabotage.patient_requests {
            return None;
        }
        let bound = self.sites[site].rtt.bound();
        let after = (2 * bound).max(self.policy.retry_initial);
        (bound > 0 && after < self.policy.request_timeout).then_some(after)
    }

    /// Arms the overdue check of Start/Stop `req`, just sent to `site`.
    pub(super) fn watch_overdue(&mut self, now: Nanos, site: SiteId, req: RequestId) {
        if let Some(after) = self.overdue_after(site) {
            self.timers.arm(now + after, Timer::Overdue(req));
        }
    }

    /// Request `req` may be overdue: reconsider the pairs still waiting on
    /// it, and look again one overdue delay later while it is out.
    pub(super) fn on_overdue(&mut self, now: Nanos, req: RequestId) {
        let Some(f) = self.inflight.get(&req) else {
            return;
        };
        let super::mirror::Purpose::Op(op, pairs) = &f.purpose else {
            return;
        };
        let (site, sent_at) = (f.site, f.sent_at);
        let waiting: Vec<usize> = pairs
            .iter()
            .copied()
            .filter(|&p| self.pairs[p].inflight == Some((req, *op)))
            .collect();
        if waiting.is_empty() {
            return;
        }
        for p in waiting {
            self.mark_dirty(p);
        }
        // Nothing sent later has answered either: the site may be hung or
        // cut off. Probe it at the health cadence so its return is seen
        // (and this request superseded) within a probe interval.
        let st = &self.sites[site];
        let later_answered = st.last_answered_sent_at.is_some_and(|t| t > sent_at);
        if st.up && st.suspect_since.is_none() && !later_answered {
            self.sites[site].suspect_since = Some(now);
            for rec in 0..self.recorder_cameras[site].len() {
                self.reprobe_soon(now, site, rec);
            }
        }
        if let Some(after) = self.overdue_after(site) {
            if now + after < sent_at + self.policy.request_timeout {
                self.timers.arm(now + after, Timer::Overdue(req));
            }
        }
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
        let (Some(f), Some(after)) = (self.inflight.get(&req), self.overdue_after(site)) else {
            return false;
        };
        let waited = now.saturating_sub(f.sent_at);
        let later_answered = self.sites[site]
            .last_answered_sent_at
            .is_some_and(|t| t > f.sent_at);
        waited >= after && (pair.supersedes == 0 || later_answered)
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
    }
}
