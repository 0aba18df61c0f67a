//! Rejected credentials: a configuration error, not a network failure.
//!
//! When a site refuses the engine's user (HTTP 401, the identity provider's
//! `invalid_grant`, a token fault on a fresh login), logging in again every
//! few hundred milliseconds would lock the account out of every system that
//! uses it (Active Directory locks after 5–10 failures in 15–30 minutes).
//! So a rejection is reported once, and logins to that site are retried
//! only after a long back-off: 1 minute, then 5, then every 15 minutes —
//! never more than 4 attempts in any 30 minutes, under the 5 failures in
//! 15–30 minutes that common domain policies lock an account after.
//! Changed credentials ([`Mirror::credentials_changed`], e.g. a password
//! file that was fixed) end the back-off at once.
//!
//! State per site lives in [`CredentialGate`]; this file owns it and the
//! `Mirror` methods around it, nothing else.

use super::mirror::Mirror;
use super::timers::Timer;
use super::types::{Nanos, SiteId, SECS};

/// First wait after a rejected login.
pub const CREDENTIAL_RETRY_FIRST: Nanos = 60 * SECS;
/// Second wait.
pub const CREDENTIAL_RETRY_SECOND: Nanos = 5 * 60 * SECS;
/// Longest wait between logins with rejected credentials.
pub const CREDENTIAL_RETRY_MAX: Nanos = 15 * 60 * SECS;

/// Wait after the `n`-th rejection in a row (n ≥ 1): 1, 5, then 15 minutes.
pub(crate) fn retry_delay(n: u32) -> Nanos {
    match n {
        0 | 1 => CREDENTIAL_RETRY_FIRST,
        2 => CREDENTIAL_RETRY_SECOND,
        _ => CREDENTIAL_RETRY_MAX,
    }
}

/// Whether a site accepts the engine's credentials.
#[derive(Debug, Clone, Default)]
pub(crate) struct CredentialGate {
    /// Rejections in a row.
    rejections: u32,
    /// What the site said, while rejected.
    message: Option<String>,
}

impl CredentialGate {
    /// Records a rejection; returns the wait before the next login.
    fn rejected(&mut self, message: &str) -> Nanos {
        self.rejections = self.rejections.saturating_add(1);
        self.message = Some(message.to_owned());
        retry_delay(self.rejections)
    }

    /// Records a successful login; true if the credentials were rejected before.
    pub(crate) fn accepted(&mut self) -> bool {
        let was = self.message.is_some();
        self.rejections = 0;
        self.message = None;
        was
    }

    /// Whether the last login was rejected.
    pub(crate) fn is_rejected(&self) -> bool {
        self.message.is_some()
    }
}

impl Mirror {
    /// The site refused the credentials of a login.
    pub(super) fn on_credentials_rejected(&mut self, now: Nanos, site: SiteId, message: &str) {
        let name = &self.site_specs[site].name;
        let st = &mut self.sites[site];
        st.login_inflight = None;
        let first = !st.credentials.is_rejected();
        let delay = st.credentials.rejected(message);
        if first {
            tracing::error!(site = %name, %message, retry_in_s = delay / SECS,
                "site rejected the credentials: configuration error; fix the user or password \
                 (logins are retried only every few minutes so the account is not locked out)");
        } else {
            tracing::debug!(site = %name, %message, retry_in_s = delay / SECS, "credentials still rejected");
        }
        self.stats.credential_rejections += 1;
        st.login_retry_at = now + delay;
        self.timers.arm(now + delay, Timer::Login(site));
    }

    /// A login succeeded: clears a rejection (and says so once).
    pub(super) fn on_credentials_accepted(&mut self, site: SiteId) {
        if self.sites[site].credentials.accepted() {
            tracing::info!(site = %self.site_specs[site].name, "site accepts the credentials again");
        }
    }

    /// The credentials of `site` were changed (e.g. its password file was
    /// fixed): log in at once instead of waiting out the back-off.
    pub fn credentials_changed(&mut self, now: Nanos, site: SiteId) {
        let Some(st) = self.sites.get_mut(site) else {
            return;
        };
        if !st.credentials.is_rejected() {
            return;
        }
        tracing::info!(site = %self.site_specs[site].name, "credentials changed; logging in again");
        st.login_retry_at = now;
        st.login_failures = 0;
        self.timers.arm(now, Timer::Login(site));
    }

    /// Sites whose credentials are rejected, with what the site said.
    pub fn credential_problems(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.site_specs
            .iter()
            .zip(&self.sites)
            .filter_map(|(spec, st)| {
                st.credentials
                    .message
                    .as_deref()
                    .map(|m| (spec.name.as_str(), m))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_starts_at_a_minute_and_caps_at_fifteen() {
        let mut g = CredentialGate::default();
        let delays: Vec<Nanos> = (0..6).map(|_| g.rejected("401") / SECS).collect();
        assert_eq!(delays, vec![60, 300, 900, 900, 900, 900]);
        // Attempts at 0, 1, 6, 21, 36, … minutes: at most 4 in any 30.
        let mut at = vec![0];
        for d in &delays {
            at.push(at.last().copied().unwrap_or(0) + d);
        }
        for &start in &at {
            let within = at
                .iter()
                .filter(|&&t| t >= start && t < start + 1800)
                .count();
            assert!(
                within <= 4,
                "{within} attempts in 30 minutes from {start} s"
            );
        }
        assert!(g.is_rejected());
        assert!(g.accepted());
        assert!(!g.accepted());
        assert_eq!(g.rejected("401"), CREDENTIAL_RETRY_FIRST);
    }
}
