//! [`TokenTable`]: login tokens of a simulated management server.
//!
//! Issues deterministic tokens shaped like real ones
//! (`TOKEN#<guid>#<host>//ServerConnector#`, the GUID built from a counter and
//! the host name), renews them, checks them (missing vs invalid/expired, as
//! XProtect's `SubErrorNumber` 1 and 2) and prunes expired ones.
//!
//! No clock, no randomness, no I/O: `now` comes from the caller.

use std::collections::{BTreeSet, HashMap};

use crate::intervals::Nanos;

/// `ErrorNumber` of XProtect's token-check faults.
pub const TOKEN_ERROR_NUMBER: u32 = 40000;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token in the request (`SubErrorNumber` 1).
    #[error("Token missing: the request carries no token; log in first")]
    Missing,
    /// Unknown, invalidated or expired token (`SubErrorNumber` 2).
    #[error("Token invalid: unknown or expired token; log in again")]
    Invalid,
}

impl TokenError {
    /// XProtect's `SubErrorNumber` for this error.
    pub fn sub_error_number(self) -> u32 {
        match self {
            TokenError::Missing => 1,
            TokenError::Invalid => 2,
        }
    }
}

/// Tokens a management server has issued and their expiry times.
#[derive(Debug, Clone)]
pub struct TokenTable {
    host: String,
    host_hash: u64,
    counter: u64,
    /// token → expiry (valid while `now < expiry`)
    tokens: HashMap<String, Nanos>,
    /// `(expiry, token)` for pruning; kept exactly in step with `tokens`.
    by_expiry: BTreeSet<(Nanos, String)>,
}

/// FNV-1a, 64 bit: a stable, dependency-free hash of the host name.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl TokenTable {
    /// An empty table for the management server `host` (the site name).
    pub fn new(host: impl Into<String>) -> Self {
        let host = host.into();
        TokenTable {
            host_hash: fnv1a(&host),
            host,
            counter: 0,
            tokens: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Number of tokens currently held (expired ones may linger until the
    /// next prune).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn mint(&mut self) -> String {
        self.counter += 1;
        let h = self.host_hash;
        let c = self.counter;
        format!(
            "TOKEN#{:08x}-{:04x}-{:04x}-{:04x}-{:012x}#{}//ServerConnector#",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xffff,
            (c >> 48) & 0xffff,
            c & 0xffff_ffff_ffff,
            self.host
        )
    }

    /// Issues a fresh token valid for `ttl` from `now`; returns it and `ttl`.
    pub fn issue(&mut self, now: Nanos, ttl: Nanos) -> (String, Nanos) {
        self.prune(now);
        let token = self.mint();
        let expiry = now.saturating_add(ttl);
        self.tokens.insert(token.clone(), expiry);
        self.by_expiry.insert((expiry, token.clone()));
        (token, ttl)
    }

    /// Login with `currentToken`: a still-valid token keeps its text and is
    /// valid for `ttl` from `now`; an unknown or expired one is replaced by a
    /// fresh token.
    pub fn renew(&mut self, now: Nanos, current: &str, ttl: Nanos) -> (String, Nanos) {
        self.prune(now);
        match self.tokens.get_mut(current) {
            Some(expiry) => {
                let old = *expiry;
                let new = now.saturating_add(ttl);
                *expiry = new;
                self.by_expiry.remove(&(old, current.to_owned()));
                self.by_expiry.insert((new, current.to_owned()));
                (current.to_owned(), ttl)
            }
            None => self.issue(now, ttl),
        }
    }

    /// Whether `token` may be used at `now`. A token issued at `t` with
    /// `ttl` is refused from `t + ttl` on.
    pub fn check(&self, now: Nanos, token: &str) -> Result<(), TokenError> {
        if token.trim().is_empty() {
            return Err(TokenError::Missing);
        }
        match self.tokens.get(token) {
            Some(&expiry) if now < expiry => Ok(()),
            _ => Err(TokenError::Invalid),
        }
    }

    /// Every issued token becomes invalid.
    pub fn invalidate_all(&mut self) {
        self.tokens.clear();
        self.by_expiry.clear();
    }

    /// Forgets tokens expired at `now`.
    pub fn prune(&mut self, now: Nanos) {
        while let Some((expiry, _)) = self.by_expiry.first() {
            if *expiry > now {
                break;
            }
            if let Some((_, token)) = self.by_expiry.pop_first() {
                self.tokens.remove(&token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::core::SECS;

    #[test]
    fn tokens_look_real_and_are_deterministic_and_unique() {
        let mut a = TokenTable::new("primary");
        let mut b = TokenTable::new("primary");
        let (t1, ttl) = a.issue(0, 10 * SECS);
        assert_eq!(ttl, 10 * SECS);
        assert_eq!(b.issue(0, 10 * SECS).0, t1);
        let (t2, _) = a.issue(0, 10 * SECS);
        assert_ne!(t1, t2);
        assert!(t1.starts_with("TOKEN#"));
        assert!(t1.ends_with("#primary//ServerConnector#"));
        let guid = &t1["TOKEN#".len()..t1.len() - "#primary//ServerConnector#".len()];
        let parts: Vec<usize> = guid.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(guid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(TokenTable::new("secondary").issue(0, 1).0, t1);
    }

    #[test]
    fn tokens_expire_at_ttl() {
        let mut t = TokenTable::new("s");
        let (tok, _) = t.issue(100, 50);
        assert_eq!(t.check(100, &tok), Ok(()));
        assert_eq!(t.check(149, &tok), Ok(()));
        assert_eq!(t.check(150, &tok), Err(TokenError::Invalid));
    }

    #[test]
    fn missing_vs_invalid() {
        let mut t = TokenTable::new("s");
        t.issue(0, 50);
        assert_eq!(t.check(0, ""), Err(TokenError::Missing));
        assert_eq!(TokenError::Missing.sub_error_number(), 1);
        assert_eq!(t.check(0, "TOKEN#nope#"), Err(TokenError::Invalid));
        assert_eq!(TokenError::Invalid.sub_error_number(), 2);
    }

    #[test]
    fn invalidate_all_refuses_every_token() {
        let mut t = TokenTable::new("s");
        let (a, _) = t.issue(0, 50);
        let (b, _) = t.issue(0, 50);
        t.invalidate_all();
        assert_eq!(t.check(1, &a), Err(TokenError::Invalid));
        assert_eq!(t.check(1, &b), Err(TokenError::Invalid));
        let (c, _) = t.issue(1, 50);
        assert_ne!(c, a, "new tokens after invalidation are new");
        assert_eq!(t.check(1, &c), Ok(()));
    }

    #[test]
    fn renew_extends_valid_and_replaces_expired() {
        let mut t = TokenTable::new("s");
        let (a, _) = t.issue(0, 100);
        let (a2, ttl) = t.renew(90, &a, 100);
        assert_eq!((a2.as_str(), ttl), (a.as_str(), 100));
        assert_eq!(t.check(150, &a), Ok(()));
        assert_eq!(t.check(190, &a), Err(TokenError::Invalid));
        let (b, _) = t.renew(200, &a, 100);
        assert_ne!(b, a);
        assert_eq!(t.check(200, &b), Ok(()));
    }

    #[test]
    fn expired_tokens_are_pruned() {
        let mut t = TokenTable::new("s");
        for i in 0..10 {
            t.issue(0, 10 + i);
        }
        assert_eq!(t.len(), 10);
        t.issue(100, 5);
        assert_eq!(t.len(), 1);
        let (a, _) = t.issue(100, 50);
        t.renew(120, &a, 50); // expiry moved to 170
        t.prune(160);
        assert_eq!(t.check(160, &a), Ok(()));
        t.prune(170);
        assert!(t.is_empty());
    }
}
