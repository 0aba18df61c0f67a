//! [`UtcTime`]: an XProtect timestamp (`xs:dateTime`), UTC, nanosecond count.
//!
//! **Parsing is liberal.** Accepted: `2023-07-20T18:52:49`, `…49Z`,
//! `…49.0530000Z`, any number of fractional digits up to 9 (nanoseconds;
//! more digits are a parse error), with `Z`, a numeric offset (`+02:00`, converted
//! to UTC) or no zone at all (a zone-less time is UTC, as real clients mean it).
//! Surrounding whitespace is ignored. Times outside what an `i64` of
//! nanoseconds holds (before 1677-09-21 or after 2262-04-11), such as .NET's
//! `DateTime.MinValue` (`0001-01-01T00:00:00`) that clients send as an open
//! lower bound, saturate to [`UtcTime::MIN`] / [`UtcTime::MAX`].
//!
//! **Formatting is strict.** [`UtcTime`]'s `Display` writes UTC with a `Z` and
//! exactly 7 fractional digits, e.g. `2023-07-20T18:52:49.0530000Z`: that is
//! .NET's round-trip format (`DateTime.ToString("o")`), which every XProtect
//! component parses, and its 100 ns tick is the resolution of a .NET
//! `DateTime`. Nanoseconds below a tick are truncated (rounded toward the
//! past), so formatting never reorders two times.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDateTime};
use thiserror::Error;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_TICK: i64 = 100;

/// A UTC instant as nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UtcTime(i64);

/// A text that is not an `xs:dateTime` this crate understands.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid timestamp `{text}`: expected an xs:dateTime like 2023-07-20T18:52:49.0530000Z ({reason})")]
pub struct TimeParseError {
    text: String,
    reason: String,
}

impl UtcTime {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: UtcTime = UtcTime(0);
    /// The earliest representable instant (1677-09-21T00:12:43.145224192Z).
    pub const MIN: UtcTime = UtcTime(i64::MIN);
    /// The latest representable instant (2262-04-11T23:47:16.854775807Z).
    pub const MAX: UtcTime = UtcTime(i64::MAX);

    /// The instant `nanos` nanoseconds after the Unix epoch.
    pub const fn from_unix_nanos(nanos: i64) -> Self {
        UtcTime(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Parses an `xs:dateTime`; see the module docs for what is accepted.
    pub fn parse(text: &str) -> Result<Self, TimeParseError> {
        let trimmed = text.trim();
        let error = |reason: &str| TimeParseError {
            text: crate::error::quote(trimmed),
            reason: reason.to_owned(),
        };
        let fraction_digits = fraction_digits(trimmed);
        if fraction_digits > 9 {
            return Err(error("more than 9 fractional digits"));
        }
        let utc = match DateTime::parse_from_rfc3339(trimmed) {
            Ok(with_zone) => with_zone.naive_utc(),
            Err(zoned_err) => {
                let format = if fraction_digits > 0 {
                    "%Y-%m-%dT%H:%M:%S%.f"
                } else {
                    "%Y-%m-%dT%H:%M:%S"
                };
                match NaiveDateTime::parse_from_str(trimmed, format) {
                    Ok(naive) => naive,
                    Err(_) => return Err(error(&zoned_err.to_string())),
                }
            }
        };
        Ok(match utc.and_utc().timestamp_nanos_opt() {
            Some(nanos) => UtcTime(nanos),
            None if utc.year() < 1970 => UtcTime::MIN,
            None => UtcTime::MAX,
        })
    }

    /// The strict wire form: UTC, `Z`, exactly 7 fractional digits.
    pub fn format(self) -> String {
        self.to_string()
    }
}

/// Number of digits after the seconds' decimal point, if any.
fn fraction_digits(text: &str) -> usize {
    // The fraction follows the first '.' after the time separator.
    let Some(time) = text.split_once(['T', 't', ' ']).map(|(_, time)| time) else {
        return 0;
    };
    match time.split_once('.') {
        Some((_, rest)) => rest.chars().take_while(char::is_ascii_digit).count(),
        None => 0,
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let datetime = DateTime::from_timestamp_nanos(self.0);
        let ticks = self.0.rem_euclid(NANOS_PER_SEC) / NANOS_PER_TICK;
        write!(f, "{}.{ticks:07}Z", datetime.format("%Y-%m-%dT%H:%M:%S"))
    }
}

impl FromStr for UtcTime {
    type Err = TimeParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        UtcTime::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2023-07-20T18:52:49Z
    const BASE: i64 = 1_689_879_169 * NANOS_PER_SEC;

    fn parse(text: &str) -> i64 {
        match UtcTime::parse(text) {
            Ok(t) => t.unix_nanos(),
            Err(err) => panic!("{text}: {err}"),
        }
    }

    #[test]
    fn accepts_the_styles_clients_send() {
        assert_eq!(parse("2023-07-20T18:52:49"), BASE);
        assert_eq!(parse("2023-07-20T18:52:49Z"), BASE);
        assert_eq!(parse("2023-07-20T18:52:49.0530000Z"), BASE + 53_000_000);
        assert_eq!(parse("2023-07-20T18:52:49.0530000"), BASE + 53_000_000);
        assert_eq!(parse("2023-07-20T18:52:49.9"), BASE + 900_000_000);
        assert_eq!(parse("2023-07-20T18:52:49.123456789Z"), BASE + 123_456_789);
        assert_eq!(parse(" 2023-07-20T18:52:49Z\n"), BASE);
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        assert_eq!(parse("2023-07-20T18:52:49+00:00"), BASE);
        assert_eq!(parse("2023-07-20T20:52:49+02:00"), BASE);
        assert_eq!(parse("2023-07-20T13:52:49.5-05:00"), BASE + 500_000_000);
    }

    #[test]
    fn dotnet_extremes_saturate() {
        assert_eq!(UtcTime::parse("0001-01-01T00:00:00"), Ok(UtcTime::MIN));
        assert_eq!(
            UtcTime::parse("9999-12-31T23:59:59.9999999Z"),
            Ok(UtcTime::MAX)
        );
    }

    #[test]
    fn rejects_what_is_not_a_datetime() {
        for bad in [
            "",
            "yesterday",
            "2023-07-20",
            "2023-13-20T18:52:49Z",
            "2023-07-20T18:52:49.1234567890Z",
            "2023-07-20T18:52:49.Z",
            "2023-07-20T18:52:49 UTC",
        ] {
            let err = UtcTime::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("expected an xs:dateTime"), "{err}");
        }
    }

    #[test]
    fn formats_dotnet_round_trip_style() {
        assert_eq!(
            UtcTime::from_unix_nanos(BASE + 53_000_000).to_string(),
            "2023-07-20T18:52:49.0530000Z"
        );
        assert_eq!(UtcTime::UNIX_EPOCH.format(), "1970-01-01T00:00:00.0000000Z");
        // Sub-tick nanoseconds are truncated toward the past, also before 1970.
        assert_eq!(
            UtcTime::from_unix_nanos(BASE + 199).to_string(),
            "2023-07-20T18:52:49.0000001Z"
        );
        assert_eq!(
            UtcTime::from_unix_nanos(-1).to_string(),
            "1969-12-31T23:59:59.9999999Z"
        );
        assert_eq!(UtcTime::MIN.to_string(), "1677-09-21T00:12:43.1452241Z");
        assert_eq!(UtcTime::MAX.to_string(), "2262-04-11T23:47:16.8547758Z");
    }

    #[test]
    fn format_then_parse_is_identity_on_ticks() {
        for nanos in [0, 100, -100, BASE + 53_000_000, i64::MIN / 100 * 100] {
            let t = UtcTime::from_unix_nanos(nanos);
            assert_eq!(UtcTime::parse(&t.format()), Ok(t));
        }
    }
}
