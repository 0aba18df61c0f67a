//! Per-site connection state: health and the login token.
//!
//! A site is `up` until `failures_before_down` consecutive transport failures
//! (counting only requests sent after the newest request that was answered:
//! a request that times out after a younger one came back says nothing new
//! about the site — on a link that loses some replies, counting it would
//! call a working site down and hold back every Start for a probe cycle);
//! then it is only probed (one health probe per recorder at a time) until any
//! reply comes back, which triggers re-assertion of every camera on it.
//!
//! Between the two, a site is **suspect** when a Start/Stop to it is overdue
//! (see `overdue.rs`) and nothing sent later has answered: it stays up, but
//! is health-probed at the down cadence, so the end of a hang or partition
//! shorter than the time-outs that would call it down is noticed within a
//! probe interval, not when those time-outs come.

use super::types::{Nanos, RecorderId, RequestId};

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub value: String,
    pub expires_at: Nanos,
    /// The `TimeToLive` the site granted.
    pub issued_ttl: Nanos,
}

#[derive(Debug, Clone)]
pub(crate) struct SiteState {
    pub up: bool,
    pub consecutive_failures: u32,
    /// When the newest answered request was sent.
    pub last_answered_sent_at: Option<Nanos>,
    pub token: Option<Token>,
    /// The newest login in flight (an older one may still answer).
    pub login_inflight: Option<RequestId>,
    pub login_sent_at: Nanos,
    /// Back-off for failed logins.
    pub login_failures: u32,
    pub login_retry_at: Nanos,
    /// Whether the site accepts our credentials (see `credentials.rs`).
    pub credentials: super::credentials::CredentialGate,
    /// The probe in flight per recorder, if any.
    pub probe_inflight: Vec<Option<RequestId>>,
    /// Current probe-timer generation per recorder; older timers are stale.
    pub probe_gen: Vec<u64>,
    /// A probe was refused for an invalid token: repeat it after login.
    pub probe_refused: Vec<bool>,
    /// Log in now although the token is still valid (a fresh token ahead of
    /// a renewal hand-over).
    pub login_wanted: bool,
    /// When the last transport failure or server fault happened.
    pub last_failure_at: Option<Nanos>,
    /// Round-trip estimate of the site's replies.
    pub rtt: RttEstimate,
    /// Since when a Start/Stop has been overdue with no answer since (the
    /// site is suspect; cleared by any answer).
    pub suspect_since: Option<Nanos>,
}

/// Smoothed round-trip time and its variation, as TCP keeps them
/// (RFC 6298): enough to tell whether a Start can follow a Stop within a
/// camera's pre-buffer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RttEstimate {
    srtt: Option<Nanos>,
    rttvar: Nanos,
}

impl RttEstimate {
    pub fn observe(&mut self, sample: Nanos) {
        match self.srtt {
            None => {
                self.srtt = Some(sample);
                self.rttvar = sample / 2;
            }
            Some(srtt) => {
                let err = srtt.abs_diff(sample);
                self.rttvar = (3 * self.rttvar + err) / 4;
                self.srtt = Some((7 * srtt + sample) / 8);
            }
        }
    }

    /// A round trip the site will rarely exceed (srtt + 4·rttvar), or 0
    /// before any reply was timed.
    pub fn bound(&self) -> Nanos {
        self.srtt.map_or(0, |s| s + 4 * self.rttvar)
    }
}

impl SiteState {
    pub fn new(recorders: usize) -> Self {
        SiteState {
            up: true,
            consecutive_failures: 0,
            last_answered_sent_at: None,
            token: None,
            login_inflight: None,
            login_sent_at: 0,
            login_failures: 0,
            login_retry_at: 0,
            credentials: Default::default(),
            probe_inflight: vec![None; recorders],
            probe_gen: vec![0; recorders],
            probe_refused: vec![false; recorders],
            login_wanted: false,
            last_failure_at: None,
            rtt: RttEstimate::default(),
            suspect_since: None,
        }
    }

    /// Whether the site is probed at the health-probe cadence: down, or up
    /// but suspect.
    pub fn probed_closely(&self) -> bool {
        !self.up || self.suspect_since.is_some()
    }

    /// Whether Start/Stop may be sent now.
    pub fn usable(&self) -> bool {
        self.up && self.token.is_some()
    }

    pub fn token_value(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.value.as_str())
    }

    /// The probe in flight to `recorder`, if any.
    pub fn probe_in_flight(&self, recorder: RecorderId) -> Option<RequestId> {
        self.probe_inflight.get(recorder).copied().flatten()
    }

    /// Probe `req` to `recorder` has answered or failed. Only the newest
    /// probe frees the slot: on a site that is down an older one may still
    /// be out in a black hole when the next is sent.
    pub fn probe_settled(&mut self, recorder: RecorderId, req: RequestId) {
        if let Some(slot) = self.probe_inflight.get_mut(recorder) {
            if *slot == Some(req) {
                *slot = None;
            }
        }
    }

    /// Records a transport failure of a request sent at `sent_at`; returns
    /// true when this takes the site down.
    pub fn record_failure(&mut self, threshold: u32, sent_at: Nanos) -> bool {
        if self.last_answered_sent_at.is_some_and(|t| sent_at < t) {
            // A younger request was answered: the site has worked since.
            return false;
        }
        self.consecutive_failures += 1;
        if self.up && self.consecutive_failures >= threshold.max(1) {
            self.up = false;
            return true;
        }
        false
    }

    /// Whether the site failed (transport error or server fault) since `t`.
    pub fn failed_since(&self, t: Nanos) -> bool {
        self.consecutive_failures > 0 || self.last_failure_at.is_some_and(|f| f >= t)
    }

    /// Records a reply to a request sent at `sent_at`; returns true when
    /// this brings the site back up.
    pub fn record_success(&mut self, sent_at: Nanos) -> bool {
        self.consecutive_failures = 0;
        self.suspect_since = None;
        self.last_answered_sent_at = Some(
            self.last_answered_sent_at
                .map_or(sent_at, |t| t.max(sent_at)),
        );
        if !self.up {
            self.up = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::MILLIS;

    #[test]
    fn rtt_bound_follows_the_samples() {
        let mut r = RttEstimate::default();
        assert_eq!(r.bound(), 0);
        r.observe(40 * MILLIS);
        assert_eq!(r.bound(), 120 * MILLIS);
        for _ in 0..50 {
            r.observe(40 * MILLIS);
        }
        assert!(r.bound() < 45 * MILLIS, "{}", r.bound());
        for _ in 0..10 {
            r.observe(400 * MILLIS);
        }
        assert!(r.bound() > 400 * MILLIS, "{}", r.bound());
    }

    #[test]
    fn only_failures_younger_than_the_last_answer_take_a_site_down() {
        let mut st = SiteState::new(1);
        assert!(!st.record_success(10 * MILLIS));
        // Sent before the answered request: the site has worked since.
        assert!(!st.record_failure(2, 5 * MILLIS));
        assert!(!st.record_failure(2, 9 * MILLIS));
        assert!(st.up);
        assert_eq!(st.consecutive_failures, 0);
        // Sent after it: two of them take the site down.
        assert!(!st.record_failure(2, 11 * MILLIS));
        assert!(st.record_failure(2, 12 * MILLIS));
        assert!(!st.up);
        assert!(st.record_success(13 * MILLIS));
        assert!(st.up);
    }
}
