//! Humane durations of the site config: `250ms`, `1m30s`, `10.05s`.
//!
//! The same syntax as scenario files (`harness::scenario::parse_duration`,
//! which the engine cannot use: the harness depends on the engine). One or
//! more `<number><unit>` parts, units from largest to smallest, each once;
//! units `h`, `m`, `s`, `ms`, `us` (`µs`), `ns`; fractions are parsed
//! decimally, so `10.05s` is exactly 10 050 000 000 ns.

use crate::core::{Nanos, MICROS, MILLIS, SECS};

/// The hint every duration error ends with.
pub const EXPECTED: &str = "expected a duration like `250ms` or `1m30s` (units: h, m, s, ms, us)";

const UNITS: &[(&str, Nanos)] = &[
    ("h", 3_600 * SECS),
    ("m", 60 * SECS),
    ("s", SECS),
    ("ms", MILLIS),
    ("us", MICROS),
    ("µs", MICROS),
    ("ns", 1),
];

/// Parses a duration such as `1m30s` into exact nanoseconds; the error says
/// what is wrong and what was expected.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let err = |problem: String| format!("`{text}` is not a duration: {problem}; {EXPECTED}");
    let s = text.trim();
    if s.is_empty() {
        return Err(err("it is empty".to_string()));
    }
    if s.starts_with('-') {
        return Err(err("durations cannot be negative".to_string()));
    }
    let mut rest = s;
    let mut total: Nanos = 0;
    let mut previous: Option<(&str, Nanos)> = None;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if int_len == 0 {
            return Err(err(format!("expected a number at `{rest}`")));
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
        let overflow = || err("it is too long".to_string());
        let whole: Nanos = int_part.parse().map_err(|_| overflow())?;
        let mut part = whole.checked_mul(unit_ns).ok_or_else(overflow)?;
        let digits = frac_part.trim_end_matches('0');
        if !digits.is_empty() {
            let scale = u32::try_from(digits.len())
                .ok()
                .and_then(|len| 10u128.checked_pow(len));
            let numerator = digits
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
        total = total.checked_add(part).ok_or_else(overflow)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_and_errors() {
        assert_eq!(parse_duration("1m30s"), Ok(90 * SECS));
        assert_eq!(parse_duration("10.05s"), Ok(10_050_000_000));
        assert_eq!(parse_duration("250ms"), Ok(250 * MILLIS));
        assert!(parse_duration("5").unwrap_err().contains("has no unit"));
        assert!(parse_duration("30s1m").unwrap_err().contains("largest"));
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
    }
}
