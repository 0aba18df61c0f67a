//! Renewal hand-overs, planned around the camera's pre-buffer.
//!
//! A renewal is a Stop then a Start on one recorder (a repeated Start does
//! not extend XProtect's auto-stop timer). Between the Stop executing and the
//! Start executing the recorder writes nothing; when the Start arrives, the
//! pre-buffer `P` back-fills the last `P` of that hole. A hand-over that
//! takes longer than `P` loses footage — evidence, if the other site is out.
//! The rules, in order:
//!
//! 1. **Window.** Renewal falls due `renew_before` (at most half the limit)
//!    before the recorder's auto-stop; twice as early when the site failed
//!    within the last `renew_before`, leaving room for a careful hand-over.
//! 2. **Only a hand-over that fits.** The Stop is sent only while the site
//!    looks able to follow it with a Start inside `P`: no failure within the
//!    last request timeout, no request to the site unanswered for longer
//!    than two round-trip bounds (a lost reply is a failure that has not
//!    timed out yet), a round-trip bound (srtt + 4·rttvar) of at most
//!    `P/2`, and a token that stays valid through the hand-over (otherwise a
//!    fresh login goes first). Failing that, the renewal waits — but only up
//!    to the *last moment*, a third of the margin before the auto-stop; past
//!    it the renewal goes anyway, since a hand-over that may leak beats an
//!    auto-stop that surely does.
//! 3. **The Start follows at once.** It is sent on the Stop's reply; a failed
//!    Start is retried at once (no generic back-off) while the hand-over is
//!    younger than `P`; a token fault logs in at once. The Start goes even
//!    to a site just judged down (other requests timed out meanwhile) while
//!    the hand-over is younger than `P`: the recorder may be idle because of
//!    our Stop, and waiting for a probe to bring the site back would let the
//!    hole outgrow the pre-buffer. When round trips are tight (three of them exceed `P`), a login is sent beside the Start, so
//!    a token that dies mid-hand-over costs one round trip, not two.
//! 4. **An overdue Stop is overtaken.** If the Stop has not answered by
//!    `max(P/2, 2·rtt)` after it was sent (but no later than `P − rtt/2`,
//!    so the Start still lands inside the pre-buffer; a lost reply), the
//!    Start is sent
//!    anyway — Start is idempotent. Should the Stop answer after all, it may
//!    have executed after that Start, so the Start is repeated.
//! 5. **A stop click waits for the hand-over.** A Stop click while a
//!    hand-over is open keeps it: its Start back-fills the footage up to the
//!    click from the pre-buffer, then the click's Stop follows.
//! 6. **Renew under cover.** While another site that should record the
//!    camera is not confirmed recording it (down, or re-asserting), the
//!    renewal waits for it — up to the last moment. A hand-over that leaks
//!    loses nothing while the other site records; alone, a single slow
//!    round trip past `P` is a hole in the evidence.
//!
//! Like the rest of the core, this performs no I/O.

use super::mirror::Mirror;
use super::timers::Timer;
use super::types::*;

/// What a due renewal may do now.
pub(super) enum Readiness {
    /// Send the renewal Stop.
    Go,
    /// Not now; look again at this time.
    WaitUntil(Nanos),
    /// Log in first (the token would not outlive the hand-over).
    LoginFirst,
}

impl Mirror {
    /// The pre-buffer of pair `p`'s camera on its site (the camera's own
    /// setting, else the site's).
    pub(super) fn prebuffer(&self, p: usize) -> Nanos {
        match &self.pairs[p].slot {
            Some(slot) => slot.prebuffer,
            None => self.site_specs[p % self.nsites].prebuffer,
        }
    }

    /// The auto-stop limit of pair `p`'s camera on its site (the camera's
    /// own setting, else the site's).
    pub(super) fn auto_stop_limit(&self, p: usize) -> Option<Nanos> {
        match &self.pairs[p].slot {
            Some(slot) => slot.limit,
            None => self.site_specs[p % self.nsites].manual_recording_max,
        }
    }

    /// How long before the auto-stop a renewal falls due (rule 1).
    pub(super) fn renewal_margin(&self, now: Nanos, site: SiteId) -> Nanos {
        let base = self.policy.renew_before;
        let failing = self.sites[site].failed_since(now.saturating_sub(base));
        if failing && !self.sabotage.careless_handover {
            2 * base
        } else {
            base
        }
    }

    /// When pair `p`'s renewal falls due, if it records on a site with a limit.
    pub(super) fn renewal_due_at(&self, now: Nanos, p: usize) -> Option<Nanos> {
        let margin = self.renewal_margin(now, p % self.nsites);
        self.pairs[p].renewal_due(self.auto_stop_limit(p), margin)
    }

    /// The latest time pair `p`'s renewal may wait for a good moment or a
    /// sibling's renewal (rule 2), when its timer is known.
    pub(super) fn last_renewal_moment(&self, p: usize) -> Option<Nanos> {
        let limit = self.auto_stop_limit(p)?;
        let since = self.pairs[p].since?;
        Some((since + limit).saturating_sub(self.policy.renew_before.min(limit / 2) / 3))
    }

    /// When a due renewal of pair `p` should look again because no other
    /// site covers the camera (rule 6); `None` to go ahead. Waits only when
    /// the timer is known and a sibling could cover it (placed, wanted).
    pub(super) fn wait_for_cover(&self, now: Nanos, p: usize) -> Option<Nanos> {
        if self.sabotage.careless_handover || self.desired(p) != Some(true) {
            return None;
        }
        let last = self.last_renewal_moment(p)?;
        if now >= last {
            return None;
        }
        let camera = p / self.nsites;
        let site = p % self.nsites;
        let uncovered = (0..self.nsites)
            .filter(|&s| s != site)
            .map(|s| (s, &self.pairs[camera * self.nsites + s]))
            .any(|(s, sib)| {
                sib.slot.is_some() && !(self.sites[s].up && sib.observed == Observed::Recording)
            });
        uncovered.then(|| (now + self.policy.retry_max).min(last))
    }

    /// Whether a due renewal of pair `p` may send its Stop now (rule 2).
    pub(super) fn handover_readiness(&mut self, now: Nanos, p: usize) -> Readiness {
        if self.sabotage.careless_handover {
            return Readiness::Go;
        }
        let site = p % self.nsites;
        let prebuffer = self.prebuffer(p);
        let (Some(limit), Some(since)) = (self.auto_stop_limit(p), self.pairs[p].since) else {
            // The recorder may stop at any moment: renew now.
            return Readiness::Go;
        };
        let last_moment =
            (since + limit).saturating_sub(self.policy.renew_before.min(limit / 2) / 3);
        if now >= last_moment {
            return Readiness::Go;
        }
        let st = &self.sites[site];
        let rtt = st.rtt.bound();
        let horizon = now + self.policy.request_timeout + 4 * rtt;
        if let Some(t) = &st.token {
            if self.token_refresh_at(t.expires_at, t.issued_ttl) <= horizon {
                return Readiness::LoginFirst;
            }
        }
        let recent_failure = st.failed_since(now.saturating_sub(self.policy.request_timeout));
        if recent_failure || rtt > prebuffer / 2 || self.reply_overdue(now, site) {
            let look_again = now + self.policy.retry_initial.max(self.policy.retry_max / 4);
            return Readiness::WaitUntil(look_again.min(last_moment));
        }
        Readiness::Go
    }

    /// Whether a request to `site` has gone unanswered for more than two
    /// round-trip bounds: a failure that has not timed out yet. A lost reply
    /// shows here a whole request timeout before it counts as a failure —
    /// long enough for a hand-over started now to be caught by it.
    fn reply_overdue(&self, now: Nanos, site: SiteId) -> bool {
        let overdue_after = 2 * self.sites[site].rtt.bound();
        self.inflight
            .values()
            .any(|f| f.site == site && now.saturating_sub(f.sent_at) > overdue_after)
    }

    /// The renewal Stop `req` of pair `p` was just sent: open the hand-over
    /// and watch for its reply being overdue (rule 4).
    pub(super) fn open_handover(&mut self, now: Nanos, p: usize, req: RequestId) {
        self.pairs[p].handover = Some(now);
        if self.sabotage.careless_handover {
            return;
        }
        // Overdue after two round trips (at least half the pre-buffer), but
        // early enough that the Start, travelling half a round trip, still
        // lands inside the pre-buffer after the Stop executed — never before
        // a normal reply could have come back.
        let rtt = self.sites[p % self.nsites].rtt.bound();
        let prebuffer = self.prebuffer(p);
        let latest = prebuffer.saturating_sub(rtt / 2).max(rtt);
        let overdue = now + (prebuffer / 2).max(2 * rtt).min(latest);
        if overdue < now + self.policy.request_timeout {
            self.timers.arm(overdue, Timer::HandoverOverdue(p, req));
        }
    }

    /// The hand-over Stop `req` of pair `p` has not answered in time: send
    /// the Start without waiting for it (rule 4).
    pub(super) fn on_handover_overdue(&mut self, now: Nanos, p: usize, req: RequestId) {
        let pair = &mut self.pairs[p];
        if pair.handover.is_none() || pair.inflight != Some((req, RecorderOp::Stop)) {
            return;
        }
        // A reply this late is a symptom: the next renewal waits for a
        // healthy moment (rule 2) instead of following at once.
        self.sites[p % self.nsites].last_failure_at = Some(now);
        let pair = &mut self.pairs[p];
        pair.inflight = None;
        pair.overtaken_stops.push(req);
        pair.forget_observation();
        self.mark_dirty(p);
    }

    /// The overtaken Stop `req` of pair `p` (a hand-over's, or one a start
    /// click overtook) answered or timed out after all: it may have executed
    /// after the Start, so the Start is repeated.
    pub(super) fn on_overtaken_stop_settled(&mut self, p: usize, req: RequestId) {
        let pair = &mut self.pairs[p];
        pair.overtaken_stops.retain(|&r| r != req);
        if pair.handover.is_none() && pair.overtaken_stops.is_empty() {
            // The renewal's Start is done: release the siblings it held.
            pair.renewing = false;
            let camera = p / self.nsites;
            for s in 0..self.nsites {
                if s != p % self.nsites {
                    self.mark_dirty(camera * self.nsites + s);
                }
            }
        }
        let pair = &mut self.pairs[p];
        if pair.inflight.is_some() {
            pair.start_in_doubt = true;
        } else {
            pair.forget_observation();
            self.mark_dirty(p);
        }
    }

    /// Whether pair `p`'s hand-over Start may go to its site although the
    /// site is judged down (rule 3): it has a token, and the hand-over is
    /// open, unconfirmed and younger than the pre-buffer.
    pub(super) fn handover_start_despite_down(&self, now: Nanos, p: usize) -> bool {
        if self.sabotage.careless_handover {
            return false;
        }
        let pair = &self.pairs[p];
        let Some(stop_sent) = pair.handover else {
            return false;
        };
        self.sites[p % self.nsites].token.is_some()
            && pair.observed != Observed::Recording
            && now < stop_sent + self.prebuffer(p)
    }

    /// A hand-over Start of pair `p` failed: when the hand-over is still
    /// inside the pre-buffer, retry at once rather than back off (rule 3).
    /// Returns whether it did.
    pub(super) fn retry_handover_at_once(&mut self, now: Nanos, p: usize) -> bool {
        if self.sabotage.careless_handover {
            return false;
        }
        let Some(stop_sent) = self.pairs[p].handover else {
            return false;
        };
        if now >= stop_sent + self.prebuffer(p) {
            return false;
        }
        let pair = &mut self.pairs[p];
        pair.inflight = None;
        pair.failures += 1;
        pair.retry_at = now;
        self.mark_dirty(p);
        true
    }

    /// The hand-over Stop of pair `p` succeeded and its Start goes out now:
    /// with tight round trips, log in beside it (rule 3).
    pub(super) fn login_beside_handover_start(&mut self, p: usize) {
        if self.sabotage.careless_handover {
            return;
        }
        let site = p % self.nsites;
        let st = &self.sites[site];
        if st.login_inflight.is_none() && 3 * st.rtt.bound() > self.prebuffer(p) {
            self.sites[site].login_wanted = true;
        }
    }
}
