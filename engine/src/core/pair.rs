//! State of one camera on one site (a "pair") and the rule that reconciles
//! it: compare the user's intent with what the recorder was last seen doing
//! and pick the next operation, if any.
//!
//! The decision is a pure function of the pair, the intent and the clock;
//! sending, batching and retries are the mirror's business.

use super::types::{DeviceId, Nanos, Observed, RecorderId, RecorderOp, RequestId};

/// Placement of a camera on a site, when it has one.
/// `repr(C)`, device first: see [`Pair`].
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Slot {
    pub device: DeviceId,
    pub recorder: RecorderId,
    /// This camera's auto-stop limit on the site (its own, else the site's).
    pub limit: Option<Nanos>,
    /// This camera's pre-buffer on the site (its own, else the site's).
    pub prebuffer: Nanos,
}

/// `repr(C)`, in this order: a recorder's probe walks its listed pairs
/// every couple of seconds and reads each one's answer, so what those read
/// comes first (the first 64 bytes, then the device): two cache lines per
/// pair where the compiler's order spread them over four. At ten thousand
/// cameras the pairs no longer fit the per-core cache, and the 10,000-camera
/// benchmark day ran 2.5 % faster.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Pair {
    /// The Start/Stop in flight for this pair (at most one).
    pub inflight: Option<(RequestId, RecorderOp)>,
    /// Until when to keep probing the pair even if it is confirmed stopped:
    /// a request that timed out may still execute late on the recorder.
    pub watch_until: Nanos,
    /// When the last Start/Stop was sent; older probe answers are stale.
    pub last_op_sent: Nanos,
    /// Send time of the newest probe whose answer was read. Probes may
    /// overlap (see `Mirror::probe_blocks`); an older one answering after a
    /// newer one is stale.
    pub last_probe_sent: Nanos,
    /// The camera's intent (`None` before its first click), copied into
    /// each of its pairs: the probe walk reads it with the pair's other
    /// fields instead of from the camera table, a cache miss per listed
    /// camera once the installation outgrows the cache.
    pub desired: Option<bool>,
    pub observed: Observed,
    /// In its recorder's probe set (see `probe_set.rs`).
    pub probe_listed: bool,
    /// Queued for reconciliation in the current step.
    pub dirty: bool,
    /// A renewal (Stop then Start) is under way.
    pub renewing: bool,
    /// The overtaken Stop answered while the Start was in flight: the
    /// Start's success does not prove the recorder records.
    pub start_in_doubt: bool,
    /// Consecutive failures of this pair's operations.
    pub failures: u32,
    /// Overdue requests of this pair superseded since its last answered
    /// Start/Stop or click (paces blind re-sends; see `overdue.rs`).
    pub supersedes: u32,
    /// Answers in a row with a non-zero `ResultCode` for this device (see
    /// `device_errors.rs`).
    pub device_rejections: u32,
    pub slot: Option<Slot>,
    /// When the recorder's manual-recording timer started, as far as the
    /// engine knows. `None` while recording means "unknown": renew at once.
    pub since: Option<Nanos>,
    /// The timer start to assume for the next successful Start when the pair
    /// was `Unknown`: the previous `since` after a site recovery (the
    /// recording may have survived), or `None` after a restore from the
    /// journal (it may have run for a long time already).
    pub since_hint: Option<Option<Nanos>>,
    /// Not before this time (back-off after a failure).
    pub retry_at: Nanos,
    /// When the wake-up for this pair's renewal window (armed by
    /// `Mirror::arm_renewal_wake` when a recording is confirmed) fires;
    /// 0 when none was armed. Until then `decide` arms no wake-up of its
    /// own for a renewal due later: reconciled at that wake-up, it arms it
    /// then. Most recordings at scale end before either, and each wake-up
    /// that finds its pair settled still reads the pair, long out of cache.
    pub renewal_wake_at: Nanos,
    /// Send time of the oldest Start whose fate is unknown (its reply was
    /// lost) since the recorder was last seen stopped. That Start may have
    /// started the recorder's auto-stop timer; a later Start is ignored by a
    /// recording recorder, so the timer is never younger than this.
    pub unconfirmed_start: Option<Nanos>,
    /// A renewal hand-over is open: its Stop was sent at this time, and until
    /// a Start succeeds the recorder may be stopped, covered only by its
    /// pre-buffer. The Start goes first, whatever the intent.
    pub handover: Option<Nanos>,
    /// Stops whose reply was overdue, overtaken by a Start (a renewal's, or
    /// a start click's; see `overdue.rs`): if one answers after all it may
    /// have executed after that Start.
    pub overtaken_stops: Vec<RequestId>,
}

impl Pair {
    pub fn new(slot: Option<Slot>) -> Self {
        Pair {
            slot,
            observed: Observed::Unknown,
            since: None,
            since_hint: None,
            inflight: None,
            renewing: false,
            failures: 0,
            retry_at: 0,
            last_op_sent: 0,
            last_probe_sent: 0,
            dirty: false,
            watch_until: 0,
            unconfirmed_start: None,
            handover: None,
            overtaken_stops: Vec::new(),
            supersedes: 0,
            start_in_doubt: false,
            device_rejections: 0,
            probe_listed: false,
            renewal_wake_at: 0,
            desired: None,
        }
    }

    /// When a renewal of this pair falls due, if it is recording on a site
    /// with an auto-stop limit.
    pub fn renewal_due(&self, limit: Option<Nanos>, renew_before: Nanos) -> Option<Nanos> {
        let limit = limit?;
        if self.observed != Observed::Recording {
            return None;
        }
        // An unknown timer start means the recorder may stop at any moment:
        // due at once (time 0 is always in the past).
        let Some(since) = self.since else {
            return Some(0);
        };
        Some((since + limit).saturating_sub(renew_before.min(limit / 2)))
    }

    /// The recorder was seen stopped: no earlier Start can be running its
    /// auto-stop timer any more.
    pub fn confirm_stopped(&mut self) {
        self.observed = Observed::Stopped;
        self.since = None;
        self.since_hint = None;
        self.unconfirmed_start = None;
    }

    /// Remembers a Start whose fate is unknown (it may have executed).
    pub fn note_unconfirmed_start(&mut self, sent_at: Nanos) {
        self.unconfirmed_start = Some(self.unconfirmed_start.map_or(sent_at, |t| t.min(sent_at)));
    }

    /// The timer start to believe for a recording confirmed now, given the
    /// best `candidate` from the confirming reply: never younger than a Start
    /// of unknown fate (which the recorder may have executed first).
    pub fn settle_since(&mut self, candidate: Option<Nanos>) -> Option<Nanos> {
        match (candidate, self.unconfirmed_start.take()) {
            (Some(c), Some(u)) => Some(c.min(u)),
            (c, _) => c,
        }
    }

    /// Drops what the engine believed about the recorder (after a lost reply
    /// or a site outage), keeping the timer start of a recording that may
    /// have survived as the hint for the next confirmation.
    pub fn forget_observation(&mut self) {
        match self.observed {
            Observed::Recording => self.since_hint = Some(self.since),
            Observed::Stopped => self.since_hint = None,
            Observed::Unknown => {}
        }
        self.observed = Observed::Unknown;
    }

    /// Nothing for reconciliation to do, nor for a probe to ask: no
    /// intent, or one to stop that the recorder was seen to follow, with no
    /// request of unknown fate that could still execute, none in flight and
    /// no renewal hand-over open (whose Start is owed whatever the intent).
    pub fn settled_without_intent_to_act(&self, now: Nanos) -> bool {
        match self.desired {
            None => true,
            Some(true) => false,
            Some(false) => {
                self.observed == Observed::Stopped
                    && self.inflight.is_none()
                    && self.handover.is_none()
                    && now >= self.watch_until
            }
        }
    }

    /// The operation that moves this pair toward `desired`, ignoring renewal.
    pub fn corrective_op(&self, desired: bool) -> Option<RecorderOp> {
        match (desired, self.observed) {
            (true, Observed::Recording) | (false, Observed::Stopped) => None,
            (true, _) => Some(RecorderOp::Start),
            (false, _) => Some(RecorderOp::Stop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::SECS;

    #[test]
    fn corrective_op_moves_toward_intent() {
        let mut p = Pair::new(None);
        assert_eq!(p.corrective_op(true), Some(RecorderOp::Start));
        assert_eq!(p.corrective_op(false), Some(RecorderOp::Stop));
        p.observed = Observed::Recording;
        assert_eq!(p.corrective_op(true), None);
        assert_eq!(p.corrective_op(false), Some(RecorderOp::Stop));
        p.observed = Observed::Stopped;
        assert_eq!(p.corrective_op(true), Some(RecorderOp::Start));
        assert_eq!(p.corrective_op(false), None);
    }

    #[test]
    fn settled_only_when_stopped_as_asked_and_nothing_is_pending() {
        let mut p = Pair::new(None);
        assert!(p.settled_without_intent_to_act(0), "no intent yet");
        p.desired = Some(true);
        p.observed = Observed::Recording;
        assert!(
            !p.settled_without_intent_to_act(0),
            "recording is never settled"
        );
        p.desired = Some(false);
        assert!(!p.settled_without_intent_to_act(0), "still to be stopped");
        p.observed = Observed::Stopped;
        assert!(p.settled_without_intent_to_act(0));
        p.watch_until = 10 * SECS;
        assert!(
            !p.settled_without_intent_to_act(5 * SECS),
            "a late request may still run"
        );
        assert!(p.settled_without_intent_to_act(10 * SECS));
        p.inflight = Some((crate::core::types::RequestId(7), RecorderOp::Stop));
        assert!(
            !p.settled_without_intent_to_act(10 * SECS),
            "a request in flight"
        );
        p.inflight = None;
        p.handover = Some(SECS);
        assert!(
            !p.settled_without_intent_to_act(10 * SECS),
            "a hand-over owes its Start"
        );
    }

    #[test]
    fn renewal_due_before_the_limit() {
        let mut p = Pair::new(None);
        p.observed = Observed::Recording;
        p.since = Some(100 * SECS);
        assert_eq!(p.renewal_due(Some(300 * SECS), 30 * SECS), Some(370 * SECS));
        assert_eq!(p.renewal_due(None, 30 * SECS), None);
        // A margin larger than half the limit is clamped to half.
        assert_eq!(p.renewal_due(Some(20 * SECS), 30 * SECS), Some(110 * SECS));
        p.since = None;
        assert_eq!(p.renewal_due(Some(300 * SECS), 30 * SECS), Some(0));
    }

    #[test]
    fn a_start_of_unknown_fate_keeps_the_timer_old() {
        let mut p = Pair::new(None);
        p.note_unconfirmed_start(10 * SECS);
        p.note_unconfirmed_start(25 * SECS);
        // A later Start succeeded (sent at 50 s): the recorder ignored it if
        // the first one had executed.
        assert_eq!(p.settle_since(Some(50 * SECS)), Some(10 * SECS));
        assert_eq!(p.unconfirmed_start, None);
        assert_eq!(p.settle_since(Some(50 * SECS)), Some(50 * SECS));
        // Seen stopped: the old Start no longer counts.
        p.note_unconfirmed_start(60 * SECS);
        p.confirm_stopped();
        assert_eq!(p.settle_since(Some(70 * SECS)), Some(70 * SECS));
        // Unknown stays unknown.
        p.note_unconfirmed_start(80 * SECS);
        assert_eq!(p.settle_since(None), None);
    }
}
#[cfg(test)]
mod layout_tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn what_a_probe_reads_of_a_pair_lies_together() {
        // The probe walk and a probe's answer read these and the device.
        for end in [
            offset_of!(Pair, inflight) + 16,
            offset_of!(Pair, watch_until) + 8,
            offset_of!(Pair, last_op_sent) + 8,
            offset_of!(Pair, last_probe_sent) + 8,
            offset_of!(Pair, desired) + 1,
            offset_of!(Pair, observed) + 1,
            offset_of!(Pair, probe_listed) + 1,
        ] {
            assert!(end <= 64, "{end}");
        }
        assert_eq!(offset_of!(Pair, slot) + offset_of!(Slot, device), 64);
    }
}
