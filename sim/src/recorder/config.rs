//! Configuration of simulated recorders and sites, with XProtect's defaults.
//!
//! Plain data only: no parsing of scenario files (that lives elsewhere), no
//! I/O, no clock.

use std::fmt;

use engine::core::{Nanos, SECS};
use serde::{Deserialize, Serialize};

use super::accounts::LockoutPolicy;

/// XProtect's default "stop manual recording after": 5 minutes.
pub const DEFAULT_MANUAL_RECORDING_MAX: Nanos = 5 * 60 * SECS;
/// A common recorder pre-buffer: 3 seconds.
pub const DEFAULT_PREBUFFER: Nanos = 3 * SECS;
/// XProtect's default token `TimeToLive`: 4 hours.
pub const DEFAULT_TOKEN_TTL: Nanos = 4 * 3600 * SECS;

/// Lifetime of an identity-provider bearer token: 1 hour, as real sites.
pub const DEFAULT_ACCESS_TOKEN_TTL: Nanos = 3600 * SECS;

/// Behaviour of one recording server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecorderConfig {
    /// "Stop manual recording after"; `None` when the site switched it off.
    pub manual_recording_max: Option<Nanos>,
    /// How far before a Start footage begins (video held in memory).
    pub prebuffer: Nanos,
    /// Whether a Start on a device already manually recording restarts the
    /// auto-stop timer (undocumented in XProtect; assumed not).
    pub start_extends_timer: bool,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            manual_recording_max: Some(DEFAULT_MANUAL_RECORDING_MAX),
            prebuffer: DEFAULT_PREBUFFER,
            start_extends_timer: false,
        }
    }
}

/// One XProtect site: a management server and its recording servers.
#[derive(Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// Site name; also the host part of the tokens it issues.
    pub name: String,
    /// Settings shared by every recording server of the site.
    pub recorder: RecorderConfig,
    /// `TimeToLive` of issued tokens.
    pub token_ttl: Nanos,
    /// Credentials the management server accepts (HTTP Basic or NTLM on
    /// Login, the identity provider's grants).
    pub username: String,
    pub password: String,
    /// Account lockout after repeated failed logins; `None`: never.
    pub lockout: Option<LockoutPolicy>,
    /// Lifetime of the identity provider's bearer tokens (`expires_in`).
    pub access_token_ttl: Nanos,
}

impl SiteConfig {
    /// A site with default recorder settings and token lifetime.
    pub fn new(
        name: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        SiteConfig {
            name: name.into(),
            recorder: RecorderConfig::default(),
            token_ttl: DEFAULT_TOKEN_TTL,
            username: username.into(),
            password: password.into(),
            lockout: None,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
        }
    }
}

impl fmt::Debug for SiteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteConfig")
            .field("name", &self.name)
            .field("recorder", &self.recorder)
            .field("token_ttl", &self.token_ttl)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("lockout", &self.lockout)
            .field("access_token_ttl", &self.access_token_ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_xprotect() {
        let c = RecorderConfig::default();
        assert_eq!(c.manual_recording_max, Some(300 * SECS));
        assert_eq!(c.prebuffer, 3 * SECS);
        assert!(!c.start_extends_timer);
        let s = SiteConfig::new("a", "u", "secret");
        assert_eq!(s.token_ttl, 14_400 * SECS);
        assert!(!format!("{s:?}").contains("secret"));
    }
}
