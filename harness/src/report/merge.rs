//! The suite report (`suite.json`, schema [`SUITE_SCHEMA`]) and the exact
//! merge of shard suite reports.
//!
//! A suite run — or one shard of it — writes a [`SuiteReport`]: every
//! scenario's [`Report`] (sorted by scenario name), totals, and an
//! *aggregate*: each time metric over all scenarios of the suite, overall
//! and per site name, as a stats row plus a serialized HdrHistogram.
//!
//! [`merge`] combines shard reports into the report of the whole suite:
//!
//! - scenario reports are the union of the shards' (a scenario appearing in
//!   two shards is an error, not a silent pick); each keeps its own verdicts,
//!   which are exactly those of a single-machine run because a scenario's
//!   run depends on nothing but its file and seed;
//! - totals are recomputed;
//! - the aggregate is merged from the shards' *serialized* histograms
//!   (decoded from V2, added bucket by bucket) and exact `count`/`min`/
//!   `max`/`sum` — never re-estimated from percentiles — and checked against
//!   the aggregate recomputed from the merged scenario reports.
//!
//! Every aggregate histogram is stored in a canonical form (a fresh
//! auto-resizing histogram with the merged counts added once), so its bytes
//! do not depend on the order samples or shards were added: the merge of N
//! shards is byte-identical to the unsharded `suite.json` (tested).

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;

use super::plots::{decode, DecodeError};
use super::{HistogramBlob, Report, StatRow, SCHEMA};
use crate::metrics::{histogram, metric_def, MetricKind, METRICS};

/// Version tag of `suite.json`.
pub const SUITE_SCHEMA: &str = "dualrec.suite/v1";

/// Counts over the whole suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTotals {
    pub scenarios: u64,
    pub scenarios_passed: u64,
    pub scenarios_failed: u64,
    pub guarantees: u64,
    pub guarantees_failed: u64,
    pub sessions: u64,
    /// Scenarios that passed only on a retry (counted in `scenarios_passed`
    /// too); absent in files written before it existed.
    #[serde(default)]
    pub flaky: u64,
}

/// Each time metric over every scenario of the suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Per metric (report order): the overall row, then one per site name
    /// (sorted) for per-site metrics.
    pub stats: Vec<StatRow>,
    /// Same order as `stats`.
    pub histograms: Vec<HistogramBlob>,
}

/// Everything `suite.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// Always [`SUITE_SCHEMA`].
    pub schema: String,
    /// `I/N` for the output of one shard; absent for a whole suite (also
    /// after a merge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Every guarantee of every scenario held.
    pub passed: bool,
    pub totals: SuiteTotals,
    pub aggregate: Aggregate,
    /// Sorted by scenario name; names are unique.
    pub reports: Vec<Report>,
}

/// Shard reports that cannot be merged, or a suite that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("scenario `{0}` appears more than once (a scenario belongs to exactly one shard)")]
    Duplicate(String),
    #[error("unsupported schema `{found}`, expected `{expected}`")]
    Schema { found: String, expected: String },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{0}")]
    Inconsistent(String),
    #[error("nothing to merge: no report given")]
    Empty,
}

/// One aggregate scope being accumulated.
struct Acc {
    hist: Histogram<u64>,
    count: u64,
    min: Option<Nanos>,
    max: Option<Nanos>,
    sum: u128,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            hist: Histogram::new(histogram::SIGNIFICANT_DIGITS)
                .expect("3 significant digits is a valid HdrHistogram precision"),
            count: 0,
            min: None,
            max: None,
            sum: 0,
        }
    }

    fn add(&mut self, row: &StatRow, blob: &HistogramBlob) -> Result<(), MergeError> {
        let h = decode(blob)?;
        self.hist.add(&h).map_err(|e| {
            MergeError::Inconsistent(format!("adding histogram {}: {e:?}", blob.metric))
        })?;
        self.count += row.count;
        self.min = match (self.min, row.min_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = self.max.max(row.max_ns);
        self.sum += row.sum_ns.unwrap_or(0);
        Ok(())
    }

    /// The stats row and canonical blob of this scope.
    fn finish(self, metric: &str, site: Option<String>) -> (StatRow, HistogramBlob) {
        let mut canonical = Histogram::<u64>::new(histogram::SIGNIFICANT_DIGITS)
            .expect("3 significant digits is a valid HdrHistogram precision");
        canonical
            .add(&self.hist)
            .expect("an auto-resizing histogram accepts any histogram of the same precision");
        let some = self.count > 0;
        let (lo, hi) = (self.min.unwrap_or(0), self.max.unwrap_or(0));
        let q = |q: f64| {
            some.then(|| {
                canonical
                    .value_at_quantile(q)
                    .saturating_mul(histogram::NANOS_PER_UNIT)
                    .clamp(lo, hi)
            })
        };
        let row = StatRow {
            metric: metric.to_string(),
            site: site.clone(),
            unit: "ns".to_string(),
            count: self.count,
            min_ns: self.min.filter(|_| some),
            p50_ns: q(0.5),
            p90_ns: q(0.9),
            p95_ns: q(0.95),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: self.max.filter(|_| some),
            mean_ns: some.then(|| (self.sum as f64 / self.count as f64).round() as Nanos),
            sum_ns: some.then_some(self.sum),
        };
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&canonical, &mut bytes)
            .expect("V2-serializing a u64 histogram into a Vec cannot fail");
        let blob = HistogramBlob {
            metric: metric.to_string(),
            site,
            unit: "us".to_string(),
            significant_digits: histogram::SIGNIFICANT_DIGITS,
            encoding: "hdrhistogram-v2+base64".to_string(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        };
        (row, blob)
    }
}

/// Scope key: metric position in [`METRICS`], then overall before sites,
/// sites by name.
type Key = (usize, Option<String>);

/// Adds the time-metric rows and blobs of `stats`/`histograms` (matched by
/// metric and site) into `accs`.
fn accumulate(
    accs: &mut BTreeMap<Key, Acc>,
    stats: &[StatRow],
    histograms: &[HistogramBlob],
) -> Result<(), MergeError> {
    for blob in histograms {
        let Some(pos) = METRICS.iter().position(|d| d.name == blob.metric) else {
            return Err(MergeError::Inconsistent(format!(
                "histogram of unknown metric `{}`",
                blob.metric
            )));
        };
        let row = stats
            .iter()
            .find(|r| r.metric == blob.metric && r.site == blob.site)
            .ok_or_else(|| {
                MergeError::Inconsistent(format!(
                    "histogram {} {:?} has no stats row",
                    blob.metric, blob.site
                ))
            })?;
        accs.entry((pos, blob.site.clone()))
            .or_insert_with(Acc::new)
            .add(row, blob)?;
    }
    Ok(())
}

fn finish(accs: BTreeMap<Key, Acc>) -> Aggregate {
    let mut out = Aggregate::default();
    for ((pos, site), acc) in accs {
        let (row, blob) = acc.finish(METRICS[pos].name, site);
        out.stats.push(row);
        out.histograms.push(blob);
    }
    out
}

/// The aggregate of a set of scenario reports.
pub fn aggregate(reports: &[Report]) -> Result<Aggregate, MergeError> {
    let mut accs = BTreeMap::new();
    for r in reports {
        accumulate(&mut accs, &r.stats, &r.histograms)?;
    }
    // Every time metric appears, even with no report at all.
    for (pos, d) in METRICS.iter().enumerate() {
        if d.kind == MetricKind::Time {
            accs.entry((pos, None)).or_insert_with(Acc::new);
        }
    }
    Ok(finish(accs))
}

fn totals(reports: &[Report]) -> SuiteTotals {
    let failed = reports.iter().filter(|r| !r.passed).count() as u64;
    SuiteTotals {
        scenarios: reports.len() as u64,
        scenarios_passed: reports.len() as u64 - failed,
        scenarios_failed: failed,
        guarantees: reports.iter().map(|r| r.verdicts.len() as u64).sum(),
        guarantees_failed: reports.iter().map(|r| r.failures().count() as u64).sum(),
        sessions: reports.iter().map(|r| r.sessions.total).sum(),
        flaky: reports.iter().filter(|r| r.flaky).count() as u64,
    }
}

fn sorted_unique(mut reports: Vec<Report>) -> Result<Vec<Report>, MergeError> {
    for r in &reports {
        if r.schema != SCHEMA {
            return Err(MergeError::Schema {
                found: r.schema.clone(),
                expected: SCHEMA.to_string(),
            });
        }
    }
    reports.sort_by(|a, b| a.scenario.name.cmp(&b.scenario.name));
    if let Some(w) = reports
        .windows(2)
        .find(|w| w[0].scenario.name == w[1].scenario.name)
    {
        return Err(MergeError::Duplicate(w[0].scenario.name.clone()));
    }
    Ok(reports)
}

impl SuiteReport {
    /// The suite report of a set of scenario reports (a whole suite, or one
    /// shard when `shard` is given as `I/N`).
    pub fn from_reports(
        reports: Vec<Report>,
        shard: Option<String>,
    ) -> Result<SuiteReport, MergeError> {
        let reports = sorted_unique(reports)?;
        Ok(SuiteReport {
            schema: SUITE_SCHEMA.to_string(),
            shard,
            passed: reports.iter().all(|r| r.passed),
            totals: totals(&reports),
            aggregate: aggregate(&reports)?,
            reports,
        })
    }

    /// Scenario reports that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Report> {
        self.reports.iter().filter(|r| !r.passed)
    }

    /// The aggregate histogram blob of `metric` over `site` (`None`: all).
    pub fn aggregate_histogram(&self, metric: &str, site: Option<&str>) -> Option<&HistogramBlob> {
        self.aggregate
            .histograms
            .iter()
            .find(|b| b.metric == metric && b.site.as_deref() == site)
    }
}

/// Merges shard suite reports into the report of the whole suite (see the
/// module doc). The result has no `shard`.
pub fn merge(parts: Vec<SuiteReport>) -> Result<SuiteReport, MergeError> {
    if parts.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut accs = BTreeMap::new();
    let mut reports = Vec::new();
    for p in parts {
        if p.schema != SUITE_SCHEMA {
            return Err(MergeError::Schema {
                found: p.schema,
                expected: SUITE_SCHEMA.to_string(),
            });
        }
        accumulate(&mut accs, &p.aggregate.stats, &p.aggregate.histograms)?;
        reports.extend(p.reports);
    }
    for (pos, d) in METRICS.iter().enumerate() {
        if d.kind == MetricKind::Time {
            accs.entry((pos, None)).or_insert_with(Acc::new);
        }
    }
    let merged = finish(accs);
    let suite = SuiteReport::from_reports(reports, None)?;
    if merged != suite.aggregate {
        let which = merged
            .stats
            .iter()
            .zip(&suite.aggregate.stats)
            .find(|(a, b)| a != b)
            .map_or_else(
                || "the set of metrics".to_string(),
                |(a, _)| {
                    format!(
                        "{}{}",
                        a.metric,
                        a.site.as_ref().map_or(String::new(), |s| format!(".{s}"))
                    )
                },
            );
        return Err(MergeError::Inconsistent(format!(
            "the shards' aggregates disagree with their scenario reports ({which}); \
             was a suite.json edited, or are shards from different versions?"
        )));
    }
    Ok(suite)
}

/// `suite.json`: pretty JSON with a trailing newline, like `report.json`.
pub fn suite_json(suite: &SuiteReport) -> String {
    let mut s = serde_json::to_string_pretty(suite)
        .expect("a suite report has string keys and finite numbers: it always serializes");
    s.push('\n');
    s
}

/// Whether `metric` is a per-site time metric (for renderers).
pub fn is_per_site(metric: &str) -> bool {
    metric_def(metric).is_some_and(|d| d.per_site)
}
