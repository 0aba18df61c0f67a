//! Verdicts: each [`Guarantee`] checked against the run's [`Metrics`].
//!
//! A verdict carries the measured figure (nanoseconds for time stats, a plain
//! number for `count` and `lost_intents`), a humane rendering of it, whether
//! the guarantee held, and by how much it held or missed.
//!
//! Rules, in order:
//!
//! - an unknown metric or site, a per-site key on a metric that only exists
//!   over all sites, a stat other than `count` on `lost_intents`, or a
//!   threshold of the wrong kind (a duration on a count, a bare number on a
//!   time stat) fails, saying what was wrong;
//! - `count` always has a value (0 without samples);
//! - a time stat without samples: for the gap and orphan metrics
//!   (`site_gap`, `union_gap`, `orphan_time`) it is taken as **0** — no
//!   session means no gap and no orphan recording — and shown as
//!   `0s (no samples)`; for every other metric the guarantee **fails** with
//!   "no samples" (a latency guarantee that measured nothing proves nothing).
//!
//! Durations are formatted by [`format_duration`]: `0s`, `500ns`, `850us`,
//! `212.3ms`, `1.25s`, `2m05s`, `1h02m03s`.

use serde::{Deserialize, Serialize};

use crate::guarantee::{Cmp, Guarantee, Stat, Threshold};
use crate::metrics::{metric_def, MetricKind, Metrics};

/// The outcome of one guarantee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The guarantee key as written, e.g. `dual_start_latency.p99`.
    pub key: String,
    /// The condition as written, e.g. `< 300ms`.
    pub condition: String,
    /// Nanoseconds for time stats, a number for counts; `None` when nothing
    /// could be measured.
    pub measured: Option<f64>,
    /// E.g. `212.3ms`, `3`, `no samples`.
    pub measured_text: String,
    pub passed: bool,
    /// E.g. `87.7ms under the limit`, `1.2s over the limit`, or why nothing
    /// could be compared.
    pub margin_text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Time,
    Count,
}

impl Unit {
    fn format(self, v: f64) -> String {
        match self {
            Unit::Time => format_duration(round_ns(v)),
            Unit::Count => format_count(v),
        }
    }
}

/// Evaluates every guarantee, in order.
pub fn evaluate(guarantees: &[Guarantee], metrics: &Metrics) -> Vec<Verdict> {
    guarantees
        .iter()
        .map(|g| evaluate_one(g, metrics))
        .collect()
}

/// Evaluates one guarantee.
pub fn evaluate_one(g: &Guarantee, metrics: &Metrics) -> Verdict {
    let verdict =
        |measured: Option<f64>, measured_text: String, passed, margin_text: String| Verdict {
            key: g.key.clone(),
            condition: g.condition.clone(),
            measured,
            measured_text,
            passed,
            margin_text,
        };
    let cannot = |why: String| verdict(None, "n/a".to_string(), false, why);

    let Some(def) = metric_def(&g.metric) else {
        return cannot(format!("unknown metric `{}`", g.metric));
    };
    if let Some(site) = &g.site {
        if !def.per_site {
            return cannot(format!(
                "`{}` is measured over all sites, not per site",
                def.name
            ));
        }
        if metrics.site_index(site).is_none() {
            return cannot(format!(
                "unknown site `{site}`; sites are {}",
                metrics.sites().join(", ")
            ));
        }
    }
    if def.kind == MetricKind::Count && g.stat != Stat::Count {
        return cannot(format!(
            "`{}` is a count; use `{}.count`",
            def.name, def.name
        ));
    }
    let unit = if def.kind == MetricKind::Count || g.stat == Stat::Count {
        Unit::Count
    } else {
        Unit::Time
    };
    let threshold = match (unit, g.threshold) {
        (Unit::Time, Threshold::Duration(ns)) => ns as f64,
        (Unit::Count, Threshold::Count(n)) => n,
        (Unit::Time, Threshold::Count(_)) => {
            return cannot(format!(
                "`{}` is a duration; the condition needs a unit (e.g. `< 300ms`)",
                g.key
            ))
        }
        (Unit::Count, Threshold::Duration(_)) => {
            return cannot(format!(
                "`{}` is a count; the condition must be a plain number (e.g. `== 0`)",
                g.key
            ))
        }
    };

    let (measured, measured_text) = match metrics.stat(&g.metric, g.site.as_deref(), g.stat) {
        Some(v) => (v, unit.format(v)),
        None if def.empty_means_zero && unit == Unit::Time => {
            (0.0, format!("{} (no samples)", unit.format(0.0)))
        }
        None => {
            return verdict(
                None,
                "no samples".to_string(),
                false,
                format!("no samples: `{}` was never measured in this run", g.metric),
            )
        }
    };
    let passed = g.cmp.holds(measured, threshold);
    let margin_text = margin(g.cmp, measured, threshold, unit);
    verdict(Some(measured), measured_text, passed, margin_text)
}

fn margin(cmp: Cmp, measured: f64, threshold: f64, unit: Unit) -> String {
    let d = unit.format((measured - threshold).abs());
    let (above, same, below) = match cmp {
        Cmp::Lt | Cmp::Le => ("over the limit", "at the limit", "under the limit"),
        Cmp::Gt | Cmp::Ge => ("above the minimum", "at the minimum", "below the minimum"),
        Cmp::Eq => (
            "over the required value",
            "exactly as required",
            "under the required value",
        ),
    };
    if measured > threshold {
        format!("{d} {above}")
    } else if measured < threshold {
        format!("{d} {below}")
    } else {
        same.to_string()
    }
}

fn round_ns(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

/// A count: integral values without a fraction, others as written.
pub fn format_count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Humane duration: `0s`, `500ns`, `850us`, `212.3ms`, `1.25s`, `2m05s`,
/// `1h02m03s` (two decimals below 10 of a unit, one above, trailing zeros
/// dropped; minutes and hours to a tenth of a second).
pub fn format_duration(ns: u64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    for (scale, unit, limit) in [(1e3, "us", 1000.0), (1e6, "ms", 1000.0), (1e9, "s", 60.0)] {
        let v = ns as f64 / scale;
        let text = if v < 10.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.1}")
        };
        let rounded: f64 = text.parse().unwrap_or(f64::MAX);
        if rounded < limit {
            return format!("{}{unit}", trim_zeros(&text));
        }
    }
    let tenths = (ns + 50_000_000) / 100_000_000;
    let (h, m, s10) = (tenths / 36_000, (tenths / 600) % 60, tenths % 600);
    let secs = if s10 % 10 == 0 {
        format!("{:02}", s10 / 10)
    } else {
        format!("{:02}.{}", s10 / 10, s10 % 10)
    };
    if h > 0 {
        format!("{h}h{m:02}m{secs}s")
    } else {
        format!("{m}m{secs}s")
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{compute, MetricsConfig};
    use sim::intervals::IntervalSet;
    use sim::world::record::{ClickRecord, RunRecord};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    /// One camera, two sites; session [10s, 70s); primary starts after
    /// 15 ms, secondary after 55 ms; secondary misses 1.5 s of footage.
    fn metrics() -> Metrics {
        let one = |a, b| IntervalSet::single(a, b);
        let rec = RunRecord {
            sites: vec!["primary".into(), "secondary".into()],
            cameras: vec!["cam-001".into()],
            end: 100 * S,
            settled_at: 110 * S,
            clicks: vec![
                ClickRecord {
                    at: 10 * S,
                    camera: 0,
                    recording: true,
                },
                ClickRecord {
                    at: 70 * S,
                    camera: 0,
                    recording: false,
                },
            ],
            manual: vec![
                vec![one(10 * S + 15 * MS, 70 * S + 10 * MS)],
                vec![one(10 * S + 55 * MS, 70 * S + 50 * MS)],
            ],
            footage: vec![
                vec![one(7 * S, 70 * S + 10 * MS)],
                vec![one(7 * S, 30 * S).union(&one(31 * S + 500 * MS, 71 * S))],
            ],
            final_manual: vec![vec![false], vec![false]],
            faults: vec![],
        };
        compute(&rec, &MetricsConfig::default()).expect("consistent record")
    }

    fn g(key: &str, stat: Stat, cmp: Cmp, threshold: Threshold, condition: &str) -> Guarantee {
        let mut parts: Vec<&str> = key.split('.').collect();
        parts.pop();
        Guarantee {
            key: key.into(),
            metric: parts[0].into(),
            site: parts.get(1).map(|s| s.to_string()),
            stat,
            cmp,
            threshold,
            condition: condition.into(),
        }
    }

    #[test]
    fn verdict_pass_with_margin() {
        let v = evaluate_one(
            &g(
                "dual_start_latency.p99",
                Stat::P99,
                Cmp::Lt,
                Threshold::Duration(300 * MS),
                "< 300ms",
            ),
            &metrics(),
        );
        assert_eq!(v.measured, Some(55e6));
        assert_eq!(v.measured_text, "55ms");
        assert!(v.passed);
        assert_eq!(v.margin_text, "245ms under the limit");
    }

    #[test]
    fn verdict_fail_with_margin() {
        let v = evaluate_one(
            &g(
                "site_gap.secondary.max",
                Stat::Max,
                Cmp::Eq,
                Threshold::Duration(0),
                "== 0s",
            ),
            &metrics(),
        );
        assert_eq!(v.measured, Some(1.5e9));
        assert_eq!(v.measured_text, "1.5s");
        assert!(!v.passed);
        assert_eq!(v.margin_text, "1.5s over the required value");

        let v = evaluate_one(
            &g(
                "start_skew.max",
                Stat::Max,
                Cmp::Lt,
                Threshold::Duration(40 * MS),
                "< 40ms",
            ),
            &metrics(),
        );
        assert!(!v.passed, "40ms is not < 40ms");
        assert_eq!(v.margin_text, "at the limit");

        let v = evaluate_one(
            &g(
                "start_latency.primary.min",
                Stat::Min,
                Cmp::Ge,
                Threshold::Duration(20 * MS),
                ">= 20ms",
            ),
            &metrics(),
        );
        assert!(!v.passed);
        assert_eq!(v.margin_text, "5ms below the minimum");
    }

    #[test]
    fn verdict_union_gap_zero_passes() {
        let v = evaluate_one(
            &g(
                "union_gap.max",
                Stat::Max,
                Cmp::Eq,
                Threshold::Duration(0),
                "== 0s",
            ),
            &metrics(),
        );
        assert_eq!(v.measured, Some(0.0));
        assert!(v.passed);
        assert_eq!(v.margin_text, "exactly as required");
    }

    #[test]
    fn verdict_no_samples() {
        // No fault: no recovery sample -> fails.
        let v = evaluate_one(
            &g(
                "recovery_time.max",
                Stat::Max,
                Cmp::Lt,
                Threshold::Duration(2 * S),
                "< 2s",
            ),
            &metrics(),
        );
        assert_eq!(v.measured, None);
        assert_eq!(v.measured_text, "no samples");
        assert!(!v.passed);
        // ... but its count is 0 and can be checked.
        let v = evaluate_one(
            &g(
                "recovery_time.count",
                Stat::Count,
                Cmp::Eq,
                Threshold::Count(0.0),
                "== 0",
            ),
            &metrics(),
        );
        assert!(v.passed);
        assert_eq!(v.measured_text, "0");
        // Gap metrics without samples count as 0: an empty record.
        let empty = RunRecord {
            sites: vec!["primary".into()],
            cameras: vec![],
            end: S,
            settled_at: S,
            clicks: vec![],
            manual: vec![vec![]],
            footage: vec![vec![]],
            final_manual: vec![vec![]],
            faults: vec![],
        };
        let m = compute(&empty, &MetricsConfig::default()).expect("consistent");
        let v = evaluate_one(
            &g(
                "union_gap.max",
                Stat::Max,
                Cmp::Eq,
                Threshold::Duration(0),
                "== 0s",
            ),
            &m,
        );
        assert!(v.passed);
        assert_eq!(v.measured_text, "0s (no samples)");
        let v = evaluate_one(
            &g(
                "dual_start_latency.p99",
                Stat::P99,
                Cmp::Lt,
                Threshold::Duration(S),
                "< 1s",
            ),
            &m,
        );
        assert!(!v.passed);
        assert_eq!(v.measured, None);
    }

    #[test]
    fn verdict_counts_and_misuse() {
        let m = metrics();
        let v = evaluate_one(
            &g(
                "lost_intents.count",
                Stat::Count,
                Cmp::Eq,
                Threshold::Count(0.0),
                "== 0",
            ),
            &m,
        );
        assert!(v.passed);
        // Misused guarantees fail and say why.
        let misuse = [
            (
                "lost_intents.max",
                Threshold::Count(0.0),
                "== 0",
                "use `lost_intents.count`",
            ),
            (
                "union_gap.primary.max",
                Threshold::Duration(0),
                "== 0s",
                "over all sites",
            ),
            (
                "site_gap.tertiary.max",
                Threshold::Duration(0),
                "== 0s",
                "unknown site `tertiary`",
            ),
            (
                "union_gap.max",
                Threshold::Count(0.0),
                "== 0",
                "needs a unit",
            ),
        ];
        for (key, threshold, condition, why) in misuse {
            let v = evaluate_one(&g(key, Stat::Max, Cmp::Eq, threshold, condition), &m);
            assert!(!v.passed, "{key} should fail");
            assert!(v.margin_text.contains(why), "{key}: {}", v.margin_text);
        }
    }

    #[test]
    fn verdict_format_duration() {
        let cases = [
            (0, "0s"),
            (500, "500ns"),
            (850_000, "850us"),
            (1_250_000, "1.25ms"),
            (212_345_678, "212.3ms"),
            (87_700_000, "87.7ms"),
            (999_960_000, "1s"),
            (1_250_000_000, "1.25s"),
            (1_500_000_000, "1.5s"),
            (59_940_000_000, "59.9s"),
            (59_960_000_000, "1m00s"),
            (125_000_000_000, "2m05s"),
            (125_500_000_000, "2m05.5s"),
            (3_723_000_000_000, "1h02m03s"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(ns), text, "{ns} ns");
        }
        assert_eq!(format_count(3.0), "3");
        assert_eq!(format_count(0.5), "0.5");
    }
}
