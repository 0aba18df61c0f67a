//! Acceptance criteria: the defaults, the drill's own checks, and
//! `[acceptance.guarantees]` (same syntax as a scenario's `[guarantees]`,
//! parsed by [`crate::scenario::guarantees::parse_guarantee`]). A
//! configured key replaces the default of the same key; other keys add to
//! them.
//!
//! Footage times are corrected by each site's clock offset, which preflight
//! knows only to ± half its Login round trip; a criterion on times is
//! therefore granted that uncertainty in its own direction
//! ([`with_clock_tolerance`]), and the report's condition says by how much.

use engine::core::Nanos;

use crate::guarantee::{Cmp, Guarantee, Threshold};
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

/// How far clock-offset uncertainty can move a figure of `g`: a site's own
/// uncertainty for its per-site figures, the largest one for figures over
/// all sites, and the two largest added for a skew (the difference of two
/// sites' times). `uncertainty` is per site, in `sites` order.
pub fn clock_tolerance(g: &Guarantee, sites: &[String], uncertainty: &[Nanos]) -> Nanos {
    let mut sorted = uncertainty.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let largest = sorted.first().copied().unwrap_or(0);
    let two = largest + sorted.get(1).copied().unwrap_or(0);
    match (g.metric.as_str(), &g.site) {
        ("start_skew" | "stop_skew", None) => two,
        (_, Some(site)) => sites
            .iter()
            .position(|s| s == site)
            .and_then(|i| uncertainty.get(i).copied())
            .unwrap_or(largest),
        (_, None) => largest,
    }
}

/// Every time criterion widened by its [`clock_tolerance`] in its own
/// direction (`== x` becomes `<= x + t`, `> x` becomes `> x - t`); the
/// condition then reads e.g. `== 0s (±2.4ms clock-offset uncertainty)`.
/// Count criteria and criteria with no uncertainty are unchanged.
pub fn with_clock_tolerance(
    guarantees: &[Guarantee],
    sites: &[String],
    uncertainty: &[Nanos],
) -> Vec<Guarantee> {
    guarantees
        .iter()
        .map(|g| {
            let t = clock_tolerance(g, sites, uncertainty);
            let Threshold::Duration(x) = g.threshold else {
                return g.clone();
            };
            if t == 0 {
                return g.clone();
            }
            let mut g = g.clone();
            let (cmp, threshold) = match g.cmp {
                Cmp::Lt => (Cmp::Lt, x.saturating_add(t)),
                Cmp::Le | Cmp::Eq => (Cmp::Le, x.saturating_add(t)),
                Cmp::Gt => (Cmp::Gt, x.saturating_sub(t)),
                Cmp::Ge => (Cmp::Ge, x.saturating_sub(t)),
            };
            g.cmp = cmp;
            g.threshold = Threshold::Duration(threshold);
            g.condition = format!("{} (±{} clock-offset uncertainty)", g.condition, secs(t));
            g
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn g(key: &str, cond: &str) -> Guarantee {
        let sites = ["primary".to_owned(), "secondary".to_owned()];
        parse_guarantee(key, cond, &sites).expect("a valid criterion")
    }

    #[test]
    fn each_figure_gets_the_uncertainty_of_the_clocks_it_reads() {
        let sites = ["primary".to_owned(), "secondary".to_owned()];
        let u = [2 * MS, 22 * MS];
        let t = |key: &str| clock_tolerance(&g(key, "< 1s"), &sites, &u);
        assert_eq!(t("site_gap.primary.max"), 2 * MS);
        assert_eq!(t("site_gap.secondary.max"), 22 * MS);
        assert_eq!(t("union_gap.max"), 22 * MS);
        assert_eq!(t("start_skew.p99"), 24 * MS);
    }

    #[test]
    fn a_gap_within_the_uncertainty_passes_and_the_condition_says_why() {
        let sites = ["primary".to_owned(), "secondary".to_owned()];
        let out = with_clock_tolerance(
            &[
                g("site_gap.primary.max", "== 0s"),
                g("lost_intents.count", "== 0"),
            ],
            &sites,
            &[2_400_000, 0],
        );
        assert_eq!(out[0].cmp, Cmp::Le);
        assert_eq!(out[0].threshold, Threshold::Duration(2_400_000));
        assert!(
            out[0].condition.contains("clock-offset uncertainty"),
            "{}",
            out[0].condition
        );
        // Counts are exact: untouched.
        assert_eq!(out[1].condition, "== 0");
        assert_eq!(out[1].cmp, Cmp::Eq);
    }
}
