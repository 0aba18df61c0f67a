//! [`SiteClock`]: the real clock of a mock site, as the model's [`Nanos`] and
//! as wall-clock UTC for SOAP times.
//!
//! Owns the mapping between three time scales: model time (nanoseconds since
//! the clock's origin, monotonic, from [`Instant`]), [`Instant`]s, and UTC
//! ([`UtcTime`], `origin_wall + model time`). The wall clock is read once,
//! when the clock is made; after that UTC is derived from the monotonic clock,
//! so a wall-clock step never makes footage go backwards.
//!
//! Readers of [`SiteClock::now`] that feed the sans-IO model must read it
//! while holding the model's lock (see `state.rs`). This module does no I/O
//! and holds no state besides the two origins.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use xprotect::UtcTime;

use crate::intervals::Nanos;

/// A monotonic clock with a fixed UTC origin; cheap to copy and share
/// between sites (two mock sites started with one clock have comparable
/// footage times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteClock {
    origin: Instant,
    origin_wall: UtcTime,
}

impl SiteClock {
    /// A clock whose model time 0 lies `lead` before now (less if the
    /// monotonic clock cannot go back that far). A mock site uses its
    /// pre-buffer as `lead`, so its cameras have been streaming for a full
    /// pre-buffer when the first request arrives.
    pub fn start(lead: Duration) -> Self {
        let now = Instant::now();
        let wall = SystemTime::now();
        let origin = now.checked_sub(lead).unwrap_or(now);
        let lead = now.saturating_duration_since(origin);
        let wall_nanos = match wall.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
        };
        let lead_nanos = i64::try_from(lead.as_nanos()).unwrap_or(i64::MAX);
        SiteClock {
            origin,
            origin_wall: UtcTime::from_unix_nanos(wall_nanos.saturating_sub(lead_nanos)),
        }
    }

    /// A clock from explicit origins (tests, or a harness that already
    /// fixed its time base).
    pub fn from_origin(origin: Instant, origin_wall: UtcTime) -> Self {
        SiteClock {
            origin,
            origin_wall,
        }
    }

    /// The same clock with its UTC shifted by `offset_nanos` (negative:
    /// behind true time), as a site whose clock is off would report it
    /// (`dualrec recorder --clock-offset`). Model time is unchanged.
    pub fn shifted(self, offset_nanos: i64) -> Self {
        SiteClock {
            origin: self.origin,
            origin_wall: UtcTime::from_unix_nanos(
                self.origin_wall.unix_nanos().saturating_add(offset_nanos),
            ),
        }
    }

    /// The [`Instant`] of model time 0.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// UTC of model time 0.
    pub fn origin_wall(&self) -> UtcTime {
        self.origin_wall
    }

    /// Model time now: nanoseconds since the origin.
    pub fn now(&self) -> Nanos {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The [`Instant`] of model time `t`.
    pub fn instant(&self, t: Nanos) -> Instant {
        let d = Duration::from_nanos(t);
        self.origin.checked_add(d).unwrap_or(self.origin)
    }

    /// UTC of model time `t`.
    pub fn utc(&self, t: Nanos) -> UtcTime {
        let t = i64::try_from(t).unwrap_or(i64::MAX);
        UtcTime::from_unix_nanos(self.origin_wall.unix_nanos().saturating_add(t))
    }

    /// Model time of a UTC instant, clamped to `0..=u64::MAX` (times before
    /// the origin map to 0).
    pub fn nanos_at(&self, utc: UtcTime) -> Nanos {
        let d = i128::from(utc.unix_nanos()) - i128::from(self.origin_wall.unix_nanos());
        u64::try_from(d.max(0)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_nanos_round_trip_and_clamp() {
        let c = SiteClock::from_origin(Instant::now(), UtcTime::from_unix_nanos(1_000_000));
        assert_eq!(c.utc(5).unix_nanos(), 1_000_005);
        assert_eq!(c.nanos_at(UtcTime::from_unix_nanos(1_000_005)), 5);
        assert_eq!(c.nanos_at(UtcTime::MIN), 0);
        assert_eq!(c.nanos_at(UtcTime::from_unix_nanos(0)), 0);
        assert_eq!(c.nanos_at(UtcTime::MAX), (i64::MAX - 1_000_000) as u64);
        assert_eq!(c.utc(u64::MAX), UtcTime::MAX);
    }

    #[test]
    fn shifted_moves_utc_only() {
        let c = SiteClock::from_origin(Instant::now(), UtcTime::from_unix_nanos(10_000));
        let s = c.shifted(-1_500);
        assert_eq!(s.origin(), c.origin());
        assert_eq!(s.utc(5).unix_nanos(), 8_505);
        assert_eq!(c.shifted(0), c);
    }

    #[test]
    fn lead_puts_origin_in_the_past() {
        let c = SiteClock::start(Duration::from_millis(50));
        let wall_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let model_utc = c.utc(c.now()).unix_nanos();
        assert!(
            (wall_now - model_utc).abs() < 50_000_000,
            "{wall_now} vs {model_utc}"
        );
    }
}
