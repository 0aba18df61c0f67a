//! Humane durations, as scenario files, the site config, the mock site's
//! control API and the command line write them: `250ms`, `1m30s`,
//! `10.05s`, `0.5ms`. One parser for all of them, so a duration reads the
//! same everywhere.
//!
//! A duration is one or more `<number><unit>` parts with units from largest
//! to smallest, each unit at most once. Units: `h`, `m`, `s`, `ms`, `us`
//! (also `µs`) and `ns`. Numbers may have a decimal fraction, which is
//! parsed decimally (never through `f64`), so `10.05s` is exactly
//! 10 050 000 000 ns. The result must be a whole number of nanoseconds.
//!
//! [`format_duration`] prints the same syntax back.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::core::{Nanos, MICROS, MILLIS, SECS};

/// The hint every duration error ends with.
pub const EXPECTED: &str = "expected a duration like `250ms` or `1m30s` (units: h, m, s, ms, us)";

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The text as written.
    pub input: String,
    /// What is wrong with it, without the "expected" hint.
    pub problem: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a duration: {}; {EXPECTED}",
            self.input, self.problem
        )
    }
}

impl std::error::Error for DurationError {}

/// Units from largest to smallest, with their length in nanoseconds.
const UNITS: &[(&str, Nanos)] = &[
    ("h", 3_600 * SECS),
    ("m", 60 * SECS),
    ("s", SECS),
    ("ms", MILLIS),
    ("us", MICROS),
    ("µs", MICROS),
    ("ns", 1),
];

/// Parses a duration such as `1m30s` into exact nanoseconds.
pub fn parse_duration(text: &str) -> Result<Nanos, DurationError> {
    let err = |problem: String| DurationError {
        input: text.to_string(),
        problem,
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(err("it is empty".to_string()));
    }
    if s.starts_with('-') {
        return Err(err("durations cannot be negative".to_string()));
    }
    let mut rest = s;
    let mut total: Nanos = 0;
    // Unit length of the previous part: later parts must be smaller.
    let mut previous: Option<(&str, Nanos)> = None;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if int_len == 0 {
            return Err(err(format!(
                "expected a number at `{rest}`, found `{}`",
                rest.chars().next().unwrap_or(' ')
            )));
        }
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_dot.len());
            if frac_len == 0 {
                return Err(err(format!(
                    "`{int_part}.` needs digits after the decimal point"
                )));
            }
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.starts_with(char::is_whitespace) {
            return Err(err("spaces are not allowed inside a duration".to_string()));
        }
        if unit.is_empty() {
            return Err(err(format!("`{int_part}` has no unit")));
        }
        let Some(&(unit, unit_ns)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(err(format!("unknown unit `{unit}`")));
        };
        if let Some((prev, prev_ns)) = previous {
            if unit_ns >= prev_ns {
                return Err(err(format!(
                    "`{unit}` after `{prev}`: units must go from largest to smallest, each once"
                )));
            }
        }
        previous = Some((unit, unit_ns));
        let overflow = || err("it is too long (more than 584 years)".to_string());
        let whole: Nanos = int_part.parse().map_err(|_| overflow())?;
        let mut part = whole.checked_mul(unit_ns).ok_or_else(overflow)?;
        if !frac_part.is_empty() {
            // frac_part / 10^len * unit_ns must be a whole number of ns.
            let digits = frac_part.trim_end_matches('0');
            if !digits.is_empty() {
                let scale = u32::try_from(digits.len())
                    .ok()
                    .and_then(|len| 10u128.checked_pow(len));
                let numerator: Option<u128> = digits
                    .parse::<u128>()
                    .ok()
                    .and_then(|d| d.checked_mul(u128::from(unit_ns)));
                let (Some(scale), Some(numerator)) = (scale, numerator) else {
                    return Err(err("the fraction is finer than a nanosecond".to_string()));
                };
                if numerator % scale != 0 {
                    return Err(err("the fraction is finer than a nanosecond".to_string()));
                }
                let frac_ns = Nanos::try_from(numerator / scale).map_err(|_| overflow())?;
                part = part.checked_add(frac_ns).ok_or_else(overflow)?;
            }
        }
        total = total.checked_add(part).ok_or_else(overflow)?;
    }
    Ok(total)
}

/// Formats nanoseconds in the syntax [`parse_duration`] reads, exactly:
/// `0s`, `250ms`, `10.05s`, `1m30s`, `1h`, `1.5us`, `7ns`. Whatever it
/// prints reads back to the same value.
pub fn format_duration(ns: Nanos) -> String {
    const MINUTE: Nanos = 60 * SECS;
    const HOUR: Nanos = 60 * MINUTE;
    if ns == 0 {
        return "0s".to_string();
    }
    if ns >= MINUTE {
        let mut out = String::new();
        let h = ns / HOUR;
        let m = (ns % HOUR) / MINUTE;
        let rest = ns % MINUTE;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if rest > 0 {
            out.push_str(&decimal(rest, SECS, "s"));
        }
        return out;
    }
    if ns >= SECS {
        decimal(ns, SECS, "s")
    } else if ns >= MILLIS {
        decimal(ns, MILLIS, "ms")
    } else if ns >= MICROS {
        decimal(ns, MICROS, "us")
    } else {
        format!("{ns}ns")
    }
}

/// `ns` in `unit`s with an exact, trimmed decimal fraction.
fn decimal(ns: Nanos, unit: Nanos, suffix: &str) -> String {
    let whole = ns / unit;
    let frac = ns % unit;
    if frac == 0 {
        return format!("{whole}{suffix}");
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}{suffix}", digits.trim_end_matches('0'))
}

/// A duration in serde input (`"250ms"`), for config and scenario files;
/// its error is [`parse_duration`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Nanos);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&EXPECTED["expected ".len()..])
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A duration or `"off"` (`manual_recording_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurOrOff(pub Option<Nanos>);

impl<'de> Deserialize<'de> for DurOrOff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurOrOff;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like `5m`, or \"off\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurOrOff, E> {
                if v.trim() == "off" {
                    return Ok(DurOrOff(None));
                }
                parse_duration(v)
                    .map(|ns| DurOrOff(Some(ns)))
                    .map_err(|e| E::custom(format!("{e}, or \"off\"")))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_values() {
        let cases: &[(&str, Nanos)] = &[
            ("0s", 0),
            ("0ms", 0),
            ("250ms", 250 * MILLIS),
            ("1m30s", 90 * SECS),
            ("10.05s", 10_050_000_000),
            ("0.5ms", 500_000),
            ("1h", 3_600 * SECS),
            ("2h15m", 8_100 * SECS),
            ("1h0m5.5s", 3_605_500_000_000),
            ("1.5h", 5_400 * SECS),
            ("20us", 20_000),
            ("20µs", 20_000),
            ("7ns", 7),
            ("1s500ms", 1_500 * MILLIS),
            ("0.000000001s", 1),
            ("1.10s", 1_100 * MILLIS),
            ("  5s ", 5 * SECS),
        ];
        for &(text, ns) in cases {
            assert_eq!(parse_duration(text), Ok(ns), "{text}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("", "it is empty"),
            ("5", "`5` has no unit"),
            ("5x", "unknown unit `x`"),
            ("5 s", "spaces are not allowed inside a duration"),
            ("-5s", "durations cannot be negative"),
            ("1.s", "`1.` needs digits after the decimal point"),
            (".5s", "expected a number at `.5s`, found `.`"),
            (
                "30s1m",
                "`m` after `s`: units must go from largest to smallest, each once",
            ),
            (
                "1s1s",
                "`s` after `s`: units must go from largest to smallest, each once",
            ),
            ("1m30", "`30` has no unit"),
            ("0.1ns", "the fraction is finer than a nanosecond"),
            ("0.0000000001s", "the fraction is finer than a nanosecond"),
            ("99999999999h", "it is too long (more than 584 years)"),
            ("abc", "expected a number at `abc`, found `a`"),
        ];
        for &(text, problem) in cases {
            let e = parse_duration(text).expect_err(text);
            assert_eq!(e.problem, problem, "{text}");
        }
        assert_eq!(
            parse_duration("5x").unwrap_err().to_string(),
            "`5x` is not a duration: unknown unit `x`; expected a duration like `250ms` or \
             `1m30s` (units: h, m, s, ms, us)"
        );
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ns in any::<u64>()) {
            prop_assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
        }
    }
}
