//! Per-site connection state: health and the login token.
//!
//! A site is `up` until `failures_before_down` consecutive transport failures;
//! then it is only probed (one health probe per recorder at a time) until any
//! reply comes back, which triggers re-assertion of every camera on it.

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
    pub token: Option<Token>,
    /// The newest login in flight (an older one may still answer).
    pub login_inflight: Option<RequestId>,
    pub login_sent_at: Nanos,
    /// Back-off for failed logins.
    pub login_failures: u32,
    pub login_retry_at: Nanos,
    /// The probe in flight per recorder, if any.
    pub probe_inflight: Vec<Option<RequestId>>,
    /// Current probe-timer generation per recorder; older timers are stale.
    pub probe_gen: Vec<u64>,
    /// A probe was refused for an invalid token: repeat it after login.
    pub probe_refused: Vec<bool>,
}

impl SiteState {
    pub fn new(recorders: usize) -> Self {
        SiteState {
            up: true,
            consecutive_failures: 0,
            token: None,
            login_inflight: None,
            login_sent_at: 0,
            login_failures: 0,
            login_retry_at: 0,
            probe_inflight: vec![None; recorders],
            probe_gen: vec![0; recorders],
            probe_refused: vec![false; recorders],
        }
    }

    /// Whether Start/Stop may be sent now.
    pub fn usable(&self) -> bool {
        self.up && self.token.is_some()
    }

    pub fn token_value(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.value.as_str())
    }

    pub fn probe_busy(&self, recorder: RecorderId) -> bool {
        self.probe_inflight
            .get(recorder)
            .is_some_and(Option::is_some)
    }

    /// Records a transport failure; returns true when this takes the site down.
    pub fn record_failure(&mut self, threshold: u32) -> bool {
        self.consecutive_failures += 1;
        if self.up && self.consecutive_failures >= threshold.max(1) {
            self.up = false;
            return true;
        }
        false
    }

    /// Records any reply; returns true when this brings the site back up.
    pub fn record_success(&mut self) -> bool {
        self.consecutive_failures = 0;
        if !self.up {
            self.up = true;
            return true;
        }
        false
    }
}
