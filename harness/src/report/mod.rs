//! The report of one scenario run: what `report.json` holds, and its
//! renderings (`junit.xml`, the terminal summary, `summary.md`,
//! `report.html`); the suite report (`suite.json`) and the merge of shards
//! live in [`merge`].
//!
//! A [`Report`] is built from the scenario's meta data, the run's ground
//! truth, its [`Metrics`] and [`Verdict`]s. It is deterministic by
//! construction: Vecs and `BTreeMap`s only, sites in the record's order,
//! metrics in [`METRICS`] order, no wall-clock figure anywhere (those go to
//! `timing.json`). The schema is documented in `docs/report-schema.md`;
//! [`SCHEMA`] names its version.
//!
//! Histograms are embedded in HdrHistogram's V2 serialization (not
//! deflated), base64-encoded, beside the exact count/min/max/sum of the stats
//! table, so reports of shards can be merged exactly later.

pub mod html;
pub mod json;
pub mod junit;
pub mod merge;
pub mod over_time;
pub mod plots;
pub mod summary;
pub mod timeline;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;
use sim::world::record::RunRecord;

use crate::metrics::{
    histogram, Distribution, LostIntent, MetricKind, Metrics, SessionCounts, SessionRecord, METRICS,
};
use crate::verdict::Verdict;

pub use html::{report_html, suite_html};
pub use json::to_json;
pub use junit::{junit_xml, junit_xml_runs, junit_xml_suites, JunitRun};
pub use merge::{merge, SuiteReport, SuiteTotals, SUITE_SCHEMA};
pub use over_time::LatencyOverTime;
pub use summary::{
    every_metric_text, headline, suite_summary_markdown, summary_markdown, summary_text,
};
pub use timeline::SessionTimeline;

/// Version tag of the report format.
pub const SCHEMA: &str = "dualrec.report/v1";

/// How many sessions the report lists as worst.
pub const WORST_SESSIONS: usize = 10;

/// The scenario as run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMeta {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub tags: Vec<String>,
    /// Scenario duration (the end of the run), ns.
    pub duration_ns: Nanos,
    /// Settle period after the end, ns.
    pub settle_ns: Nanos,
    /// `virtual` or `real`.
    pub mode: String,
}

/// One row of the statistics table. Time figures in ns; all `None` (and
/// `count` 0) when there are no samples. For count metrics (`lost_intents`)
/// only `count` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatRow {
    pub metric: String,
    /// `None`: over all sites.
    pub site: Option<String>,
    /// `ns` or `count`.
    pub unit: String,
    pub count: u64,
    pub min_ns: Option<Nanos>,
    pub p50_ns: Option<Nanos>,
    pub p90_ns: Option<Nanos>,
    pub p95_ns: Option<Nanos>,
    pub p99_ns: Option<Nanos>,
    pub p999_ns: Option<Nanos>,
    pub max_ns: Option<Nanos>,
    /// Exact mean, rounded to the nearest ns.
    pub mean_ns: Option<Nanos>,
    /// Exact sum of samples (for merging means).
    pub sum_ns: Option<u128>,
}

/// One serialized histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBlob {
    pub metric: String,
    /// `None`: all sites merged.
    pub site: Option<String>,
    /// Unit of recorded values: `us`.
    pub unit: String,
    pub significant_digits: u8,
    /// `hdrhistogram-v2+base64`.
    pub encoding: String,
    pub data: String,
}

/// A fault window, with names instead of indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultReport {
    pub site: Option<String>,
    pub kind: String,
    pub camera: Option<String>,
    pub start_ns: Nanos,
    pub end_ns: Nanos,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub scenario: ReportMeta,
    pub sites: Vec<String>,
    pub cameras: usize,
    /// Every guarantee held.
    pub passed: bool,
    pub verdicts: Vec<Verdict>,
    /// Grace after a stop click not counted as orphan time, ns.
    pub orphan_grace_ns: Nanos,
    pub sessions: SessionCounts,
    pub stats: Vec<StatRow>,
    pub histograms: Vec<HistogramBlob>,
    pub lost_intents: Vec<LostIntent>,
    /// Up to [`WORST_SESSIONS`], worst first.
    pub worst_sessions: Vec<SessionRecord>,
    pub faults: Vec<FaultReport>,
    /// The ground truth around each worst session, in the same order.
    #[serde(default)]
    pub timelines: Vec<SessionTimeline>,
    /// Start and stop latency per site over the run's time, downsampled;
    /// `None` in files written before it existed (their page says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_over_time: Option<LatencyOverTime>,
    /// The scenario file as the command line named it (`/`-separated), for
    /// the replay command; absent when the report was built without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_file: Option<String>,
    /// How many runs a real-mode suite with `--retries` needed for this
    /// scenario (every run before the last failed); absent for one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Passed on a retry after failing: flaky, never a plain pass. Absent
    /// (false) otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
}

impl Report {
    /// Assembles the report of one run.
    pub fn build(
        meta: ReportMeta,
        record: &RunRecord,
        metrics: &Metrics,
        verdicts: Vec<Verdict>,
    ) -> Report {
        let mut stats = Vec::new();
        let mut histograms = Vec::new();
        for def in METRICS {
            let mut scopes: Vec<Option<&str>> = vec![None];
            if def.per_site {
                scopes.extend(metrics.sites().iter().map(|s| Some(s.as_str())));
            }
            for site in scopes {
                match def.kind {
                    MetricKind::Count => stats.push(count_row(def.name, site, metrics)),
                    MetricKind::Time => {
                        let Some(d) = metrics.distribution(def.name, site) else {
                            continue;
                        };
                        stats.push(time_row(def.name, site, d));
                        histograms.push(HistogramBlob {
                            metric: def.name.to_string(),
                            site: site.map(str::to_string),
                            unit: "us".to_string(),
                            significant_digits: histogram::SIGNIFICANT_DIGITS,
                            encoding: "hdrhistogram-v2+base64".to_string(),
                            data: base64::engine::general_purpose::STANDARD
                                .encode(d.serialize_v2()),
                        });
                    }
                }
            }
        }
        let name = |names: &[String], i: Option<usize>| {
            i.map(|i| names.get(i).cloned().unwrap_or_else(|| format!("#{i}")))
        };
        let faults = record
            .faults
            .iter()
            .map(|f| FaultReport {
                site: name(&record.sites, f.site),
                kind: f.kind.clone(),
                camera: name(&record.cameras, f.camera),
                start_ns: f.start,
                end_ns: f.end,
            })
            .collect();
        let worst_sessions: Vec<SessionRecord> = metrics
            .worst_sessions(WORST_SESSIONS)
            .into_iter()
            .cloned()
            .collect();
        let timelines = worst_sessions
            .iter()
            .filter_map(|s| timeline::build(record, s))
            .collect();
        let latency_over_time = Some(over_time::build(metrics, meta.duration_ns));
        Report {
            schema: SCHEMA.to_string(),
            scenario: meta,
            sites: metrics.sites().to_vec(),
            cameras: metrics.camera_count(),
            passed: verdicts.iter().all(|v| v.passed),
            verdicts,
            orphan_grace_ns: metrics.config().orphan_grace,
            sessions: metrics.counts().clone(),
            stats,
            histograms,
            lost_intents: metrics.lost_intents().to_vec(),
            worst_sessions,
            faults,
            timelines,
            latency_over_time,
            scenario_file: None,
            attempts: None,
            flaky: false,
        }
    }

    /// Records that this report is of the last of `attempts` runs of the
    /// scenario, the earlier ones failed: a pass is then flaky. One run
    /// records nothing.
    pub fn record_attempts(&mut self, attempts: u32) {
        if attempts > 1 {
            self.attempts = Some(attempts);
            self.flaky = self.passed;
        }
    }

    /// The command that replays this run: `dualrec run FILE --seed N`
    /// (`scenarios/<name>.toml` when the file is not known).
    pub fn replay_command(&self) -> String {
        let file = self
            .scenario_file
            .clone()
            .unwrap_or_else(|| format!("scenarios/{}.toml", self.scenario.name));
        let mode = if self.scenario.mode == "real" {
            " --mode real"
        } else {
            ""
        };
        format!("dualrec run {file} --seed {}{mode}", self.scenario.seed)
    }

    /// Verdicts that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| !v.passed)
    }
}

fn count_row(metric: &str, site: Option<&str>, metrics: &Metrics) -> StatRow {
    let count = metrics
        .stat(metric, site, crate::guarantee::Stat::Count)
        .unwrap_or(0.0) as u64;
    StatRow {
        metric: metric.to_string(),
        site: site.map(str::to_string),
        unit: "count".to_string(),
        count,
        min_ns: None,
        p50_ns: None,
        p90_ns: None,
        p95_ns: None,
        p99_ns: None,
        p999_ns: None,
        max_ns: None,
        mean_ns: None,
        sum_ns: None,
    }
}

fn time_row(metric: &str, site: Option<&str>, d: &Distribution) -> StatRow {
    let q = |q| d.quantile_ns(q);
    StatRow {
        metric: metric.to_string(),
        site: site.map(str::to_string),
        unit: "ns".to_string(),
        count: d.count(),
        min_ns: d.min_ns(),
        p50_ns: q(0.5),
        p90_ns: q(0.9),
        p95_ns: q(0.95),
        p99_ns: q(0.99),
        p999_ns: q(0.999),
        max_ns: d.max_ns(),
        mean_ns: d.mean_ns().map(|m| m.round() as Nanos),
        sum_ns: (!d.is_empty()).then(|| d.sum_ns()),
    }
}

#[cfg(test)]
mod tests;
