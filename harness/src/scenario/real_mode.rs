//! Which guarantees a scenario can check in real mode.
//!
//! Real mode grants every time guarantee the scenario's `real_tolerance`
//! (wall-clock jitter), which in written time is `real_tolerance /
//! real_time_scale`: a run compressed twenty-fold widens a 25 ms tolerance
//! to 500 ms. A guarantee whose threshold that widened tolerance exceeds
//! checks nothing it claims (`< 30ms` becomes `< 530ms`), so a real run of
//! such a scenario is refused at validation, naming the scale that would
//! work — unless the scenario lists the guarantee in `real_unchecked` (it
//! is then checked in virtual time only, and real runs say so).
//!
//! Guarantees of "none at all" (`== 0s`, `<= 0s`) are the exception: their
//! real-mode form is "nothing longer than the tolerance", which still
//! catches every real gap or orphan, and is how they read in the report.
//!
//! This only decides; it never runs anything.

use crate::guarantee::{Cmp, Guarantee, Threshold};
use engine::core::Nanos;

use crate::verdict::format_duration;

/// A guarantee the widened tolerance would make vacuous.
#[derive(Debug, Clone, PartialEq)]
pub struct TooTight {
    /// Written-time tolerance at the scenario's scale.
    pub tolerance: Nanos,
    /// The smallest `real_time_scale` at which it can be checked.
    pub scale_needed: f64,
}

/// The real-mode tolerance in written time.
pub fn written_tolerance(real_tolerance: Nanos, scale: Option<f64>) -> Nanos {
    (real_tolerance as f64 / scale.unwrap_or(1.0)).round() as Nanos
}

/// Whether `g` cannot be checked in real mode with `tolerance` of written
/// time (see the module doc), and what scale would allow it.
pub fn too_tight(g: &Guarantee, real_tolerance: Nanos, scale: Option<f64>) -> Option<TooTight> {
    let Threshold::Duration(x) = g.threshold else {
        return None;
    };
    let tolerance = written_tolerance(real_tolerance, scale);
    let vacuous = match g.cmp {
        // "None at all": still a real check (see the module doc).
        Cmp::Lt | Cmp::Le | Cmp::Eq if x == 0 => false,
        Cmp::Lt | Cmp::Le | Cmp::Eq => tolerance > x,
        Cmp::Gt | Cmp::Ge => tolerance >= x,
    };
    vacuous.then(|| TooTight {
        tolerance,
        scale_needed: real_tolerance as f64 / x.max(1) as f64,
    })
}

/// The message for a too-tight guarantee `g` of a scenario that runs
/// `length` of written time (duration + settle).
pub fn message(
    g: &Guarantee,
    t: &TooTight,
    real_tolerance: Nanos,
    scale: Option<f64>,
    length: Nanos,
) -> String {
    // Rounded up to two decimals so that it really suffices.
    let needed = (t.scale_needed * 100.0).ceil() / 100.0;
    if needed > 1.0 {
        return format!(
            "guarantee `{} {}` cannot be checked in real mode: its real-time tolerance \
             ±{} exceeds the threshold even at real_time_scale 1; expected it listed in \
             `real_unchecked` (checked in virtual time only) or a smaller `real_tolerance`",
            g.key,
            g.condition,
            format_duration(real_tolerance)
        );
    }
    let scale_now = scale.map_or("1 (unset)".to_owned(), |s| s.to_string());
    let wall = (length as f64 * needed) as Nanos;
    format!(
        "guarantee `{} {}` cannot be checked in real mode at real_time_scale {scale_now}: \
         the real-time tolerance grows to ±{} of scenario time, more than the threshold; \
         expected real_time_scale >= {needed} (a {} run) or the guarantee listed in \
         `real_unchecked` (checked in virtual time only)",
        g.key,
        g.condition,
        format_duration(t.tolerance),
        format_duration(wall),
    )
}
