//! Parsing of `[guarantees]` entries such as `"start_skew.p99" = "< 100ms"`
//! into [`Guarantee`]s.
//!
//! A key is `metric[.site].stat`. Time metrics take a duration threshold
//! (their `count` stat a plain number); `lost_intents` is a count metric
//! checked only with `count`. Only per-site metrics may name a site.

use crate::guarantee::{Cmp, Guarantee, Stat, Threshold};

use super::duration::parse_duration;

/// What kind of figure a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A time per session (or per fault) in a histogram.
    Time,
    /// A count over the run.
    Count,
}

/// A metric a guarantee may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    pub name: &'static str,
    pub kind: MetricKind,
    /// Whether `metric.<site>.stat` is allowed.
    pub per_site: bool,
}

/// Every metric of `docs/scenario-format.md` "Guarantees", in that order.
pub const METRICS: &[MetricInfo] = &[
    time("start_latency", true),
    time("dual_start_latency", false),
    time("start_skew", false),
    time("stop_latency", true),
    time("stop_skew", false),
    time("site_gap", true),
    time("union_gap", false),
    time("recovery_time", true),
    time("orphan_time", true),
    MetricInfo {
        name: "lost_intents",
        kind: MetricKind::Count,
        per_site: false,
    },
];

const fn time(name: &'static str, per_site: bool) -> MetricInfo {
    MetricInfo {
        name,
        kind: MetricKind::Time,
        per_site,
    }
}

/// Stats with their spelling in keys.
pub const STATS: &[(&str, Stat)] = &[
    ("min", Stat::Min),
    ("p50", Stat::P50),
    ("p90", Stat::P90),
    ("p95", Stat::P95),
    ("p99", Stat::P99),
    ("p999", Stat::P999),
    ("max", Stat::Max),
    ("mean", Stat::Mean),
    ("count", Stat::Count),
];

/// Comparators, longest first so `<=` is not read as `<`.
const CMPS: &[(&str, Cmp)] = &[
    ("<=", Cmp::Le),
    (">=", Cmp::Ge),
    ("==", Cmp::Eq),
    ("<", Cmp::Lt),
    (">", Cmp::Gt),
];

/// Which half of a guarantee entry is wrong (for pointing at it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuaranteeError {
    /// The key (`metric[.site].stat`) is wrong.
    Key(String),
    /// The condition (`< 300ms`) is wrong.
    Value(String),
}

impl GuaranteeError {
    /// The message, whichever half it is about.
    pub fn message(&self) -> &str {
        match self {
            GuaranteeError::Key(m) | GuaranteeError::Value(m) => m,
        }
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

fn metric_list() -> String {
    list(METRICS.iter().map(|m| format!("`{}`", m.name)))
}

fn stat_list() -> String {
    list(STATS.iter().map(|(s, _)| format!("`{s}`")))
}

/// Parses one guarantee; `sites` are the scenario's site names.
pub fn parse_guarantee(
    key: &str,
    value: &str,
    sites: &[String],
) -> Result<Guarantee, GuaranteeError> {
    let parts: Vec<&str> = key.split('.').collect();
    let (metric_name, site, stat_name) = match parts.as_slice() {
        [metric, stat] => (*metric, None, *stat),
        [metric, site, stat] => (*metric, Some(*site), *stat),
        _ => {
            return Err(GuaranteeError::Key(format!(
                "guarantee key `{key}` has {} part(s); expected `metric.stat` or \
                 `metric.site.stat`, like `start_latency.primary.p99`",
                parts.len()
            )))
        }
    };
    let Some(metric) = METRICS.iter().find(|m| m.name == metric_name) else {
        return Err(GuaranteeError::Key(format!(
            "unknown metric `{metric_name}` in guarantee `{key}`; expected one of {}",
            metric_list()
        )));
    };
    if let Some(site) = site {
        if !metric.per_site {
            let per_site = list(
                METRICS
                    .iter()
                    .filter(|m| m.per_site)
                    .map(|m| format!("`{}`", m.name)),
            );
            return Err(GuaranteeError::Key(format!(
                "metric `{metric_name}` is not per site, so `{key}` cannot name site `{site}`; \
                 expected `{metric_name}.{stat_name}` (per-site metrics: {per_site})"
            )));
        }
        if !sites.iter().any(|s| s == site) {
            return Err(GuaranteeError::Key(format!(
                "unknown site `{site}` in guarantee `{key}`; expected one of {}",
                list(sites.iter().map(|s| format!("`{s}`")))
            )));
        }
    }
    let Some(&(_, stat)) = STATS.iter().find(|(s, _)| *s == stat_name) else {
        return Err(GuaranteeError::Key(format!(
            "unknown stat `{stat_name}` in guarantee `{key}`; expected one of {}",
            stat_list()
        )));
    };
    if metric.kind == MetricKind::Count && stat != Stat::Count {
        return Err(GuaranteeError::Key(format!(
            "`{metric_name}` is a count, so `{key}` cannot use stat `{stat_name}`; \
             expected `{metric_name}.count`"
        )));
    }

    let condition = value.trim();
    let Some(&(cmp_text, cmp)) = CMPS.iter().find(|(c, _)| condition.starts_with(c)) else {
        return Err(GuaranteeError::Value(format!(
            "`{condition}` does not start with a comparison; expected one of `<`, `<=`, \
             `==`, `>=`, `>` and a value, like `< 300ms`"
        )));
    };
    let operand = condition[cmp_text.len()..].trim();
    if operand.starts_with(['<', '>', '=', '!']) {
        return Err(GuaranteeError::Value(format!(
            "`{condition}` is not a comparison; expected one of `<`, `<=`, `==`, `>=`, `>` \
             and a value, like `< 300ms`"
        )));
    }
    let threshold = if stat == Stat::Count {
        match parse_count(operand) {
            Some(n) => Threshold::Count(n),
            None => {
                return Err(GuaranteeError::Value(format!(
                    "`{operand}` in `{condition}` is not a count; expected a plain number \
                     like `== 0` for the stat `count`"
                )))
            }
        }
    } else {
        match parse_duration(operand) {
            Ok(ns) => Threshold::Duration(ns),
            Err(e) => {
                return Err(GuaranteeError::Value(format!(
                    "in `{condition}`: {e} (`{metric_name}` is a time metric)"
                )))
            }
        }
    };
    Ok(Guarantee {
        key: key.to_string(),
        metric: metric_name.to_string(),
        site: site.map(str::to_string),
        stat,
        cmp,
        threshold,
        condition: condition.to_string(),
    })
}

/// A plain non-negative decimal number: `0`, `12`, `2.5`.
fn parse_count(text: &str) -> Option<f64> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::core::{MILLIS, SECS};

    fn sites() -> Vec<String> {
        vec!["primary".to_string(), "secondary".to_string()]
    }

    fn ok(key: &str, value: &str) -> Guarantee {
        parse_guarantee(key, value, &sites()).unwrap_or_else(|e| panic!("{key}: {e:?}"))
    }

    fn err(key: &str, value: &str) -> GuaranteeError {
        parse_guarantee(key, value, &sites()).expect_err(key)
    }

    #[test]
    fn good_guarantees() {
        let g = ok("dual_start_latency.p99", "< 300ms");
        assert_eq!(
            g,
            Guarantee {
                key: "dual_start_latency.p99".into(),
                metric: "dual_start_latency".into(),
                site: None,
                stat: Stat::P99,
                cmp: Cmp::Lt,
                threshold: Threshold::Duration(300 * MILLIS),
                condition: "< 300ms".into(),
            }
        );
        let g = ok("start_latency.primary.p999", "<=1.5s");
        assert_eq!(g.site.as_deref(), Some("primary"));
        assert_eq!((g.stat, g.cmp), (Stat::P999, Cmp::Le));
        assert_eq!(g.threshold, Threshold::Duration(1_500 * MILLIS));
        assert_eq!(
            ok("union_gap.max", "== 0s").threshold,
            Threshold::Duration(0)
        );
        assert_eq!(ok("union_gap.max", " == 0s ").condition, "== 0s");
        let g = ok("lost_intents.count", "== 0");
        assert_eq!(
            (g.stat, g.cmp, g.threshold),
            (Stat::Count, Cmp::Eq, Threshold::Count(0.0))
        );
        let g = ok("recovery_time.secondary.count", ">= 2");
        assert_eq!(g.threshold, Threshold::Count(2.0));
        assert_eq!(ok("orphan_time.mean", "> 2.5s").cmp, Cmp::Gt);
        assert_eq!(
            ok("site_gap.secondary.min", ">= 1m").threshold,
            Threshold::Duration(60 * SECS)
        );
        for (stat, _) in STATS {
            let value = if *stat == "count" { "< 10" } else { "< 1s" };
            ok(&format!("stop_skew.{stat}"), value);
        }
    }

    #[test]
    fn bad_keys() {
        let cases = [
            ("start_latency", "< 1s", "has 1 part(s)"),
            ("a.b.c.d", "< 1s", "has 4 part(s)"),
            ("start_lag.p99", "< 1s", "unknown metric `start_lag`"),
            ("start_latency.p98", "< 1s", "unknown stat `p98`"),
            (
                "start_latency.tertiary.p99",
                "< 1s",
                "unknown site `tertiary`",
            ),
            (
                "union_gap.primary.max",
                "== 0s",
                "metric `union_gap` is not per site",
            ),
            (
                "lost_intents.primary.count",
                "== 0",
                "metric `lost_intents` is not per site",
            ),
            ("lost_intents.max", "== 0", "`lost_intents` is a count"),
        ];
        for (key, value, want) in cases {
            match err(key, value) {
                GuaranteeError::Key(m) => assert!(m.contains(want), "{key}: {m}"),
                other => panic!("{key}: expected a key error, got {other:?}"),
            }
        }
        let m = err("start_lag.p99", "< 1s");
        assert!(m.message().contains("expected one of `start_latency`"));
        let m = err("start_latency.tertiary.p99", "< 1s");
        assert!(m
            .message()
            .ends_with("expected one of `primary`, `secondary`"));
    }

    #[test]
    fn bad_conditions() {
        let cases = [
            (
                "start_skew.p99",
                "100ms",
                "does not start with a comparison",
            ),
            (
                "start_skew.p99",
                "=< 100ms",
                "does not start with a comparison",
            ),
            (
                "start_skew.p99",
                "!= 100ms",
                "does not start with a comparison",
            ),
            ("start_skew.p99", "<< 100ms", "is not a comparison"),
            ("start_skew.p99", "< 100", "`100` has no unit"),
            ("start_skew.p99", "< fast", "is not a duration"),
            ("start_skew.p99", "<", "it is empty"),
            ("lost_intents.count", "== 0s", "is not a count"),
            ("lost_intents.count", "== -1", "is not a count"),
            ("lost_intents.count", "== 1e3", "is not a count"),
            ("start_skew.count", "< 1.", "is not a count"),
        ];
        for (key, value, want) in cases {
            match err(key, value) {
                GuaranteeError::Value(m) => assert!(m.contains(want), "{value}: {m}"),
                other => panic!("{value}: expected a value error, got {other:?}"),
            }
        }
    }
}
