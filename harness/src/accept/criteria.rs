//! Acceptance criteria: the defaults, the drill's own checks, and
//! `[acceptance.guarantees]` (same syntax as a scenario's `[guarantees]`,
//! parsed by [`crate::scenario::guarantees::parse_guarantee`]). A
//! configured key replaces the default of the same key; other keys add to
//! them.

use crate::guarantee::Guarantee;
use crate::scenario::guarantees::parse_guarantee;

use super::plan::{secs, Criterion, Settings};
use super::AcceptError;

/// The criteria every acceptance run checks unless the config says otherwise.
pub const DEFAULTS: [(&str, &str); 3] = [
    ("dual_start_latency.p99", "< 1s"),
    ("union_gap.max", "== 0s"),
    ("lost_intents.count", "== 0"),
];

/// Defaults, then the drill's checks (when there is a drill), then the
/// configured criteria replacing same-named ones.
pub fn criteria(settings: &Settings, sites: &[String]) -> Vec<Criterion> {
    let mut out: Vec<Criterion> = DEFAULTS
        .iter()
        .map(|(k, c)| Criterion {
            key: (*k).to_owned(),
            condition: (*c).to_owned(),
            at: None,
        })
        .collect();
    if settings.drill.is_some() {
        for (i, site) in sites.iter().enumerate() {
            let (key, condition) = if i == settings.drill_site {
                (
                    format!("recovery_time.{site}.max"),
                    format!("< {}", secs(settings.drill_recovery)),
                )
            } else {
                (format!("site_gap.{site}.max"), "== 0s".to_owned())
            };
            out.push(Criterion {
                key,
                condition,
                at: None,
            });
        }
    }
    for c in &settings.configured {
        match out.iter_mut().find(|d| d.key == c.key) {
            Some(d) => *d = c.clone(),
            None => out.push(c.clone()),
        }
    }
    out
}

/// Parses every criterion; an error names where it was written.
pub fn parse(criteria: &[Criterion], sites: &[String]) -> Result<Vec<Guarantee>, AcceptError> {
    criteria
        .iter()
        .map(|c| {
            parse_guarantee(&c.key, &c.condition, sites).map_err(|e| {
                AcceptError::Invalid(format!(
                    "{}: {}",
                    c.at.as_deref().unwrap_or("default acceptance criterion"),
                    e.message()
                ))
            })
        })
        .collect()
}
