//! [`Accounts`]: the site's user accounts as a domain controller and the
//! identity provider see them — password checks, account lockout after
//! repeated failures, and the identity provider's bearer tokens.
//!
//! Lockout models an Active Directory policy: `threshold` failed logins of
//! one account within `window` lock it for `duration`; while locked, every
//! login of the account fails exactly as a wrong password does (a client
//! cannot tell). A successful login resets the account's failure count.
//!
//! Bearer tokens are what `POST /IDP/connect/token` hands out: valid for
//! `access_token_ttl`, bound to the user, checked by the OAuth login and by
//! any bearer-protected endpoint ([`Accounts::check_access_token`]).
//!
//! Sans-IO like the rest of the model: time comes from the caller, no
//! randomness (tokens are numbered; fronts that need unguessable tokens add
//! their own secret part, see `sim::server`).

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::intervals::Nanos;

/// An AD-style lockout policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockoutPolicy {
    /// Failed logins within `window` that lock the account.
    pub threshold: u32,
    /// Observation window of failed logins.
    pub window: Nanos,
    /// How long a locked account stays locked.
    pub duration: Nanos,
}

impl LockoutPolicy {
    /// `threshold` failures in 15 minutes lock the account for 15 minutes,
    /// as a common domain policy does.
    pub fn domain_default(threshold: u32) -> Self {
        const FIFTEEN_MINUTES: Nanos = 15 * 60 * 1_000_000_000;
        LockoutPolicy {
            threshold: threshold.max(1),
            window: FIFTEEN_MINUTES,
            duration: FIFTEEN_MINUTES,
        }
    }
}

/// Why a login was refused. Fronts answer both the same way (401 or
/// `invalid_grant`); the distinction is for logs and reports only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    #[error("wrong user name or password")]
    WrongCredentials,
    #[error("the account is locked out after repeated failed logins")]
    LockedOut,
}

#[derive(Debug, Clone, Default)]
struct AccountState {
    failures: VecDeque<Nanos>,
    locked_until: Option<Nanos>,
}

/// A bearer token the identity provider issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub token: String,
    /// Lifetime from issue, in nanoseconds.
    pub ttl: Nanos,
}

/// Counters for reports and the mock's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountStats {
    pub logins: u64,
    pub failed_logins: u64,
    /// Times an account went from unlocked to locked.
    pub lockouts: u64,
    /// Logins refused because the account was locked.
    pub refused_while_locked: u64,
}

/// The site's accounts: one configured user (the service account dualrec
/// logs in with), lockout state of every name tried, bearer tokens.
#[derive(Debug, Clone)]
pub struct Accounts {
    username: String,
    password: String,
    lockout: Option<LockoutPolicy>,
    access_token_ttl: Nanos,
    state: BTreeMap<String, AccountState>,
    tokens: HashMap<String, (String, Nanos)>,
    counter: u64,
    stats: AccountStats,
}

/// Constant-time (in the contents) string equality.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// The account part of a login name, lower-case: `DOMAIN\user`,
/// `user@domain` and `user` all name account `user` (Windows account names
/// are case-insensitive; so are XProtect basic users).
pub fn account_key(name: &str) -> String {
    let name = name.rsplit('\\').next().unwrap_or(name);
    let name = name.split('@').next().unwrap_or(name);
    name.trim().to_lowercase()
}

impl Accounts {
    pub fn new(
        username: &str,
        password: &str,
        lockout: Option<LockoutPolicy>,
        access_token_ttl: Nanos,
    ) -> Self {
        Accounts {
            username: username.to_owned(),
            password: password.to_owned(),
            lockout,
            access_token_ttl,
            state: BTreeMap::new(),
            tokens: HashMap::new(),
            counter: 0,
            stats: AccountStats::default(),
        }
    }

    /// The configured user's name and password (an NTLM verifier needs the
    /// password to check a response).
    pub fn credentials(&self) -> (&str, &str) {
        (&self.username, &self.password)
    }

    pub fn stats(&self) -> AccountStats {
        self.stats
    }

    /// Whether `name`'s account is locked at `now`.
    pub fn is_locked(&self, now: Nanos, name: &str) -> bool {
        self.state
            .get(&account_key(name))
            .and_then(|s| s.locked_until)
            .is_some_and(|until| now < until)
    }

    /// A login with a password in the clear (HTTP Basic, the password grant).
    pub fn login(&mut self, now: Nanos, name: &str, password: &str) -> Result<(), LoginRefused> {
        // Evaluate both, so timing does not reveal which one was wrong.
        let user_ok = account_key(name) == account_key(&self.username);
        let pass_ok = ct_eq(password, &self.password);
        self.attempt(now, name, user_ok & pass_ok)
    }

    /// A login whose proof was checked elsewhere (an NTLM response verified
    /// against [`Accounts::credentials`]): counts toward lockout the same way.
    pub fn verified_login(
        &mut self,
        now: Nanos,
        name: &str,
        proof_ok: bool,
    ) -> Result<(), LoginRefused> {
        let user_ok = account_key(name) == account_key(&self.username);
        self.attempt(now, name, user_ok & proof_ok)
    }

    fn attempt(&mut self, now: Nanos, name: &str, ok: bool) -> Result<(), LoginRefused> {
        self.stats.logins += 1;
        let policy = self.lockout;
        let st = self.state.entry(account_key(name)).or_default();
        if let Some(until) = st.locked_until {
            if now < until {
                self.stats.refused_while_locked += 1;
                self.stats.failed_logins += 1;
                return Err(LoginRefused::LockedOut);
            }
            st.locked_until = None;
            st.failures.clear();
        }
        if ok {
            st.failures.clear();
            return Ok(());
        }
        self.stats.failed_logins += 1;
        if let Some(p) = policy {
            st.failures.push_back(now);
            while st
                .failures
                .front()
                .is_some_and(|&t| now.saturating_sub(t) >= p.window)
            {
                st.failures.pop_front();
            }
            if st.failures.len() >= p.threshold as usize {
                st.locked_until = Some(now.saturating_add(p.duration));
                st.failures.clear();
                self.stats.lockouts += 1;
                tracing::debug!(account = %account_key(name), "account locked out");
            }
        }
        Err(LoginRefused::WrongCredentials)
    }

    /// Issues a bearer token to `name` (after a successful login).
    pub fn issue_access_token(&mut self, now: Nanos, name: &str) -> AccessGrant {
        self.tokens.retain(|_, (_, expiry)| *expiry > now);
        self.counter += 1;
        let token = format!("idp.{:016x}.{}", self.counter, account_key(name));
        let ttl = self.access_token_ttl;
        self.tokens
            .insert(token.clone(), (account_key(name), now.saturating_add(ttl)));
        AccessGrant { token, ttl }
    }

    /// The account a bearer token belongs to, if it is valid at `now`.
    pub fn check_access_token(&self, now: Nanos, token: &str) -> Option<&str> {
        match self.tokens.get(token) {
            Some((user, expiry)) if now < *expiry => Some(user),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn lockout_after_threshold_within_window_and_wears_off() {
        let mut a = Accounts::new(
            "svc",
            "right",
            Some(LockoutPolicy::domain_default(3)),
            3600 * S,
        );
        for t in 0..2 {
            assert_eq!(
                a.login(t * S, "svc", "wrong"),
                Err(LoginRefused::WrongCredentials)
            );
        }
        assert_eq!(
            a.login(2 * S, "svc", "right"),
            Ok(()),
            "a success resets the count"
        );
        for t in 3..6 {
            assert!(a.login(t * S, "DOMAIN\\SVC", "wrong").is_err());
        }
        assert!(a.is_locked(6 * S, "svc"));
        assert_eq!(a.login(6 * S, "svc", "right"), Err(LoginRefused::LockedOut));
        assert_eq!(a.stats().lockouts, 1);
        // Locked for 15 minutes from the third failure (at 5 s).
        assert!(a.is_locked(5 * S + 15 * 60 * S - 1, "svc"));
        assert_eq!(a.login(5 * S + 15 * 60 * S, "svc", "right"), Ok(()));
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let mut a = Accounts::new(
            "svc",
            "right",
            Some(LockoutPolicy::domain_default(3)),
            3600 * S,
        );
        for i in 0..10 {
            let _ = a.login(i * 8 * 60 * S, "svc", "wrong");
        }
        assert!(!a.is_locked(80 * 60 * S, "svc"));
        assert_eq!(a.stats().lockouts, 0);
    }

    #[test]
    fn no_policy_never_locks() {
        let mut a = Accounts::new("svc", "right", None, 3600 * S);
        for i in 0..100 {
            let _ = a.login(i, "svc", "wrong");
        }
        assert_eq!(a.login(100, "svc", "right"), Ok(()));
    }

    #[test]
    fn access_tokens_expire_and_name_their_user() {
        let mut a = Accounts::new("svc", "right", None, 10 * S);
        let g = a.issue_access_token(0, "CORP\\Svc");
        assert_eq!(a.check_access_token(9 * S, &g.token), Some("svc"));
        assert_eq!(a.check_access_token(10 * S, &g.token), None);
        assert_eq!(a.check_access_token(0, "idp.forged"), None);
    }
}
