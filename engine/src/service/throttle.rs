//! Failed-authentication throttling per client address (a leaky bucket).
//!
//! Every failed authentication adds one to the address's score; the score
//! leaks one every [`LEAK`]. While the score is at [`ALLOWED_FAILURES`] or
//! more, the address is refused `429` with `Retry-After` (until the score
//! has leaked below the threshold) *without* its key being looked at, so a
//! brute force gets a handful of guesses a minute at most. Refusals while
//! throttled do not add to the score: a client that waits is let back in.
//!
//! IPv6 clients are grouped by /64 (one host usually owns a whole /64).
//! The table is bounded ([`MAX_TRACKED`]): when full, entries that have
//! leaked to zero are dropped first, then the oldest.
//!
//! Pure bookkeeping: the caller supplies the time; nothing here does I/O.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures in a row (less what has leaked) before an address is throttled.
pub const ALLOWED_FAILURES: u32 = 5;
/// One failure is forgiven per this much time.
pub const LEAK: Duration = Duration::from_secs(12);
/// Addresses tracked at most.
pub const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Score in units of 1/1000 failure, as of `at`.
    milli: u64,
    at: Instant,
    /// Whether the current throttled period has been reported.
    reported: bool,
}

impl Entry {
    fn score_at(&self, now: Instant) -> u64 {
        let leaked = now.saturating_duration_since(self.at).as_millis() as u64 * 1000
            / LEAK.as_millis() as u64;
        self.milli.saturating_sub(leaked)
    }
}

/// What [`Throttle::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on (authenticate).
    Allow,
    /// Refuse with 429; retry after this long. `first` is true for the
    /// first refusal of a throttled period (log that one).
    Throttled { retry_after: Duration, first: bool },
}

/// The throttle state of every client address.
#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

/// The key an address is tracked under: itself, or its /64 for IPv6.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

const THRESHOLD: u64 = ALLOWED_FAILURES as u64 * 1000;

impl Throttle {
    pub fn new() -> Throttle {
        Throttle::default()
    }

    /// Whether `ip` may try to authenticate at `now`.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Verdict {
        let Ok(mut map) = self.entries.lock() else {
            return Verdict::Allow;
        };
        let Some(e) = map.get_mut(&key(ip)) else {
            return Verdict::Allow;
        };
        let score = e.score_at(now);
        if score < THRESHOLD {
            e.reported = false;
            return Verdict::Allow;
        }
        // Time until the score leaks below the threshold.
        let excess = score - THRESHOLD + 1;
        let wait_ms = (excess * LEAK.as_millis() as u64).div_ceil(1000);
        let first = !e.reported;
        e.reported = true;
        Verdict::Throttled {
            retry_after: Duration::from_millis(wait_ms),
            first,
        }
    }

    /// Records a failed authentication from `ip`; returns the score after it
    /// (in failures, rounded up).
    pub fn fail(&self, ip: IpAddr, now: Instant) -> u32 {
        let Ok(mut map) = self.entries.lock() else {
            return 0;
        };
        let k = key(ip);
        if !map.contains_key(&k) && map.len() >= MAX_TRACKED {
            map.retain(|_, e| e.score_at(now) > 0);
            if map.len() >= MAX_TRACKED {
                if let Some(oldest) = map.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| *k) {
                    map.remove(&oldest);
                }
            }
        }
        let e = map.entry(k).or_insert(Entry {
            milli: 0,
            at: now,
            reported: false,
        });
        let score = e.score_at(now) + 1000;
        *e = Entry {
            milli: score,
            at: now,
            reported: e.reported,
        };
        score.div_ceil(1000) as u32
    }

    /// Addresses currently tracked (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.entries.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_handful_of_failures_then_429_that_decays() {
        let t = Throttle::new();
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        for i in 0..ALLOWED_FAILURES {
            assert_eq!(t.check(a, t0), Verdict::Allow, "failure {i}");
            t.fail(a, t0);
        }
        let Verdict::Throttled { retry_after, first } = t.check(a, t0) else {
            panic!("throttled after {ALLOWED_FAILURES} failures");
        };
        assert!(first);
        assert!(
            retry_after > Duration::ZERO && retry_after <= LEAK,
            "{retry_after:?}"
        );
        // Only the first refusal of the period is reported.
        assert!(matches!(
            t.check(a, t0),
            Verdict::Throttled { first: false, .. }
        ));
        // Another address is not affected.
        assert_eq!(t.check(ip("10.0.0.2"), t0), Verdict::Allow);
        // After Retry-After, one more guess; failing it throttles again.
        let later = t0 + retry_after;
        assert_eq!(t.check(a, later), Verdict::Allow);
        t.fail(a, later);
        assert!(matches!(
            t.check(a, later),
            Verdict::Throttled { first: true, .. }
        ));
        // Everything leaks away.
        assert_eq!(
            t.check(a, later + LEAK * (ALLOWED_FAILURES + 1)),
            Verdict::Allow
        );
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let t = Throttle::new();
        let now = Instant::now();
        for i in 0..ALLOWED_FAILURES {
            t.fail(ip(&format!("2001:db8:1:2::{i}")), now);
        }
        assert!(matches!(
            t.check(ip("2001:db8:1:2::ffff"), now),
            Verdict::Throttled { .. }
        ));
        assert_eq!(t.check(ip("2001:db8:1:3::1"), now), Verdict::Allow);
        for _ in 0..ALLOWED_FAILURES {
            t.fail(ip("::ffff:192.0.2.7"), now);
        }
        assert!(matches!(
            t.check(ip("192.0.2.7"), now),
            Verdict::Throttled { .. }
        ));
    }

    #[test]
    fn the_table_is_bounded() {
        let t = Throttle::new();
        let now = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 10) {
            t.fail(IpAddr::V4(std::net::Ipv4Addr::from(i)), now);
        }
        assert!(t.tracked() <= MAX_TRACKED);
    }
}
