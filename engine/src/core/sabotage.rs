//! Test-only switches that plant known bugs in the engine, so the harness's
//! explorer can prove it finds (and shrinks) a broken capability.
//!
//! Nothing in the shipped configuration sets these: [`Sabotage::default`]
//! disables every switch, and the policy's serialized shape is untouched.
//! Each switch removes exactly one capability of the resilience contract.

use super::mirror::Mirror;

/// Capabilities to switch off (all `false` by default: a healthy engine).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sabotage {
    /// Skip re-assertion when a site answers again after being down.
    pub no_reassert: bool,
    /// Never renew a recording before the site's auto-stop limit.
    pub no_renewal: bool,
    /// Ignore what health probes report about recordings: a recorder that
    /// silently dropped one (restart, stream loss) is never corrected.
    pub no_drift_probes: bool,
    /// Do not reconcile a camera when its request answers: an intent that
    /// moved while the request was out waits for the next probe.
    pub no_reconcile: bool,
    /// Date the recorder's auto-stop timer from the Start that was
    /// confirmed, even when an earlier Start of unknown fate may have
    /// started it (a re-sent Start is ignored by a recording recorder).
    pub young_timer: bool,
    /// A stop click while a renewal's Stop is in flight abandons the
    /// hand-over: no back-filling Start before the click's Stop.
    pub abandon_handover: bool,
    /// Renewal hand-overs ignore the pre-buffer: no fresh token or health
    /// check before the Stop, the Start retried with the generic back-off,
    /// no early Start when the Stop's reply is overdue.
    pub careless_handover: bool,
    /// Wait for every Start/Stop's reply until its time-out: no request is
    /// overdue, none superseded, no site suspect (see `overdue.rs`).
    pub patient_requests: bool,
}

impl Sabotage {
    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.no_reassert
            || self.no_renewal
            || self.no_drift_probes
            || self.no_reconcile
            || self.young_timer
            || self.abandon_handover
            || self.careless_handover
            || self.patient_requests
    }
}

impl Mirror {
    /// Plants the bugs `s` asks for (test-only; see [`Sabotage`]).
    #[doc(hidden)]
    pub fn sabotage(&mut self, s: Sabotage) {
        self.sabotage = s;
    }
}
