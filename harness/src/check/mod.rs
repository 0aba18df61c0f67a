//! `dualrec check`: an independent checker of a run's history, in the spirit
//! of Jepsen's — every metric and verdict recomputed from a trace alone.
//!
//! It owns reading the trace ([`history`]), a second implementation of the
//! metric definitions ([`samples`]), the statistics convention ([`stats`])
//! and the guarantee comparison (here). It must not use the runner's metric,
//! verdict or report code (`crate::metrics`, `crate::verdict`,
//! `crate::report`): the point is two implementations that can disagree.
//! It shares the interval type (`sim::intervals`) and reads guarantees
//! through the scenario parser (a file format, not a computation).

pub mod history;
pub mod samples;
pub mod stats;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;

use crate::guarantee::{Cmp, Guarantee, Stat, Threshold};

pub use history::{History, TraceError};
pub use stats::Row;

/// Version tag of the checker's JSON output.
pub const SCHEMA: &str = "dualrec.check/v1";

/// The metrics, in `report.json` order: name, per site, a count (not a
/// time), and whether "no samples" reads as zero (gaps and orphans: no
/// session, no gap).
const METRICS: &[(&str, bool, bool, bool)] = &[
    ("start_latency", true, false, false),
    ("dual_start_latency", false, false, false),
    ("start_skew", false, false, false),
    ("stop_latency", true, false, false),
    ("stop_skew", false, false, false),
    ("site_gap", true, false, true),
    ("union_gap", false, false, true),
    ("recovery_time", true, false, false),
    ("orphan_time", true, false, true),
    ("lost_intents", true, true, false),
];

/// One guarantee, rechecked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub key: String,
    pub condition: String,
    /// Nanoseconds for time stats, a number for counts; `None` when nothing
    /// was measured or the key does not apply.
    pub measured: Option<f64>,
    pub passed: bool,
    /// Why it could not be compared, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What `dualrec check --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub sites: Vec<String>,
    pub cameras: usize,
    /// Every guarantee held (true when none was given).
    pub passed: bool,
    pub verdicts: Vec<Verdict>,
    pub orphan_grace_ns: Nanos,
    /// The same rows, in the same order, as `report.json`'s `stats`.
    pub stats: Vec<Row>,
}

/// Recomputes every statistic of the history and checks `guarantees`.
pub fn check(h: &History, guarantees: &[Guarantee], orphan_grace: Nanos) -> Checked {
    let samples = samples::compute(h, orphan_grace);
    let mut rows = Vec::new();
    for &(metric, per_site, is_count, _) in METRICS {
        let mut scopes: Vec<Option<usize>> = vec![None];
        if per_site {
            scopes.extend((0..h.sites.len()).map(Some));
        }
        for scope in scopes {
            let site = scope.map(|s| h.sites[s].as_str());
            rows.push(if is_count {
                let n = scope.map_or(samples.lost, |s| samples.lost_by_site[s]);
                stats::count_row(metric, site, n)
            } else {
                stats::time_row(metric, site, samples.of(metric, scope))
            });
        }
    }
    let verdicts: Vec<Verdict> = guarantees.iter().map(|g| recheck(g, &rows)).collect();
    Checked {
        schema: SCHEMA.to_string(),
        sites: h.sites.clone(),
        cameras: h.cameras.len(),
        passed: verdicts.iter().all(|v| v.passed),
        verdicts,
        orphan_grace_ns: orphan_grace,
        stats: rows,
    }
}

fn recheck(g: &Guarantee, rows: &[Row]) -> Verdict {
    let out = |measured: Option<f64>, passed: bool, problem: Option<String>| Verdict {
        key: g.key.clone(),
        condition: g.condition.clone(),
        measured,
        passed,
        problem,
    };
    let fail = |why: String| out(None, false, Some(why));
    let Some(&(_, per_site, is_count, zero_if_empty)) = METRICS.iter().find(|m| m.0 == g.metric)
    else {
        return fail(format!("unknown metric `{}`", g.metric));
    };
    if g.site.is_some() && !per_site {
        return fail(format!("`{}` has no per-site figures", g.metric));
    }
    let Some(row) = rows
        .iter()
        .find(|r| r.metric == g.metric && r.site == g.site)
    else {
        return fail(format!("unknown site in `{}`", g.key));
    };
    if is_count && g.stat != Stat::Count {
        return fail(format!("`{}` is a count; only `.count` applies", g.metric));
    }
    let counts = g.stat == Stat::Count;
    let threshold = match (counts, g.threshold) {
        (true, Threshold::Count(n)) => n,
        (false, Threshold::Duration(ns)) => ns as f64,
        _ => return fail(format!("`{}`: threshold of the wrong kind", g.key)),
    };
    let measured = match g.stat {
        Stat::Count => Some(row.count as f64),
        Stat::Min => row.min_ns.map(|v| v as f64),
        Stat::Max => row.max_ns.map(|v| v as f64),
        Stat::P50 => row.p50_ns.map(|v| v as f64),
        Stat::P90 => row.p90_ns.map(|v| v as f64),
        Stat::P95 => row.p95_ns.map(|v| v as f64),
        Stat::P99 => row.p99_ns.map(|v| v as f64),
        Stat::P999 => row.p999_ns.map(|v| v as f64),
        // The exact mean, not the row's rounded one.
        Stat::Mean => row.sum_ns.map(|sum| stats::mean(sum, row.count)),
    };
    let measured = match measured {
        Some(v) => v,
        None if zero_if_empty => 0.0,
        None => return fail(format!("no samples: `{}` was never measured", g.metric)),
    };
    let passed = match g.cmp {
        Cmp::Lt => measured < threshold,
        Cmp::Le => measured <= threshold,
        Cmp::Eq => measured == threshold,
        Cmp::Ge => measured >= threshold,
        Cmp::Gt => measured > threshold,
    };
    out(Some(measured), passed, None)
}

/// Where a checked history disagrees with a `report.json` (parsed): every
/// `stats` row that differs, and `passed`. Empty when they agree.
pub fn differences(checked: &Checked, report: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let theirs = report
        .get("stats")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    let ours: Vec<serde_json::Value> = checked
        .stats
        .iter()
        .map(|r| serde_json::to_value(r).expect("a stats row serializes"))
        .collect();
    if ours.len() != theirs.len() {
        out.push(format!(
            "stats: the trace gives {} rows, the report has {}",
            ours.len(),
            theirs.len()
        ));
    }
    for (a, b) in ours.iter().zip(theirs.iter()) {
        if a != b {
            out.push(format!("stats row differs:\n  trace:  {a}\n  report: {b}"));
        }
    }
    match report.get("passed").and_then(|p| p.as_bool()) {
        Some(p) if p == checked.passed => {}
        Some(p) => out.push(format!(
            "passed: the trace gives {}, the report says {p}",
            checked.passed
        )),
        None => out.push("the report has no boolean `passed`".to_string()),
    }
    out
}
