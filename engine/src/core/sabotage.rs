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
}

impl Sabotage {
    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.no_reassert || self.no_renewal
    }
}

impl Mirror {
    /// Plants the bugs `s` asks for (test-only; see [`Sabotage`]).
    #[doc(hidden)]
    pub fn sabotage(&mut self, s: Sabotage) {
        self.sabotage = s;
    }
}
