//! Metrics of a run, computed exactly from the recorders' own ground truth.
//!
//! Input is a [`RunRecord`]: clicks, and per site and camera the intervals in
//! which the recorder was *manually recording* (`manual`) and in which it
//! *wrote footage* (`footage`). Every figure is an exact interval computation
//! on those sets ([`sim::intervals::IntervalSet`]); nothing is sampled.
//!
//! **Which ground truth feeds which metric.** State metrics — `start_latency`,
//! `dual_start_latency`, `start_skew`, `stop_latency`, `stop_skew`,
//! `orphan_time`, `lost_intents` — read the manual-recording state, because
//! they are about what the recorder was told and did. Gap metrics —
//! `site_gap`, `union_gap` — read footage, because evidence is footage (a
//! recorder can say it records while writing nothing: `stream_loss`).
//! `recovery_time` needs both: the site must be manually recording *and*
//! writing footage again.
//!
//! Sessions are intent windows `[a, b)` derived from clicks (see
//! [`sessions`]). For a session of camera `c` and each site `r`:
//!
//! | metric | sample |
//! |---|---|
//! | `start_latency.<r>` | first `t ≥ a` with `r` manually recording `c`, minus `a`, if `t < b`; otherwise no sample and the site is *not started* in the session record |
//! | `dual_start_latency` | max over sites of `start_latency`, only if every site started |
//! | `start_skew` | max − min over sites of `start_latency`, only if every site started |
//! | `stop_latency.<r>` | first `t ≥ b` with `r` not manually recording `c`, capped at the camera's next session start (or `record.end`), minus `b`; sessions closed by a stop click only; a capped sample is flagged *censored* |
//! | `stop_skew` | max − min over sites of `stop_latency` |
//! | `site_gap.<r>` | measure of `[a + start_latency(r), b)` without footage on `r`; only if `r` started |
//! | `union_gap` | measure of `[a + min start_latency, b)` without footage on any site; when no site started, of the whole `[a, b)` (nobody recorded: that is an evidence gap, not a missing sample) |
//! | `recovery_time.<r>` | see below |
//! | `orphan_time.<r>` | manual recording of `c` on `r` in `[b + orphan_grace, next start or record.end)`, for each session closed by a stop click; plus one sample per camera and site for `[0, first start or record.end)` (normally 0; cameras never clicked included) |
//! | `lost_intents` | count of clicked cameras whose final intent disagrees with `final_manual` on any site (per site: on that site) |
//!
//! `recovery_time.<r>`: for every fault window on site `r` ending at `e`
//! (every kind except the instantaneous `token_expiry`; faults of the engine
//! itself have no site and are skipped; `stream_loss` only for its camera)
//! and every session of any camera open at `e` (`a ≤ e < b`): the first
//! `t ≥ e` at which `r` is manually recording `c` and writing footage for it,
//! minus `e`; if that never happens before `b`, the sample is `b − e` and is
//! flagged *censored*.
//!
//! Windows are clipped at `record.end`; the settle period only matters for
//! `lost_intents` (`final_manual` is taken at `settled_at`).
//!
//! Time metrics go into [`Distribution`]s (HdrHistogram in µs, 3 significant
//! digits, plus exact min/max/sum) per site for per-site metrics and overall
//! (all sites merged) for every metric. [`Metrics::stat`] returns figures in
//! nanoseconds.

pub mod compute;
pub mod histogram;
pub mod sessions;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;

pub use compute::compute;
pub use histogram::Distribution;
pub use sessions::{ClickTally, SessionRecord, SiteSession};

use crate::guarantee::Stat;

/// Default grace after a stop click during which recording is not orphan.
pub const DEFAULT_ORPHAN_GRACE: Nanos = 2_000_000_000;

/// Parameters of the metric computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// Recording within this long after a stop click is not orphan time.
    pub orphan_grace: Nanos,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            orphan_grace: DEFAULT_ORPHAN_GRACE,
        }
    }
}

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Durations, kept in histograms; every [`Stat`] applies.
    Time,
    /// A plain count; only [`Stat::Count`] applies.
    Count,
}

/// Static description of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    /// Has per-site figures (`metric.<site>.stat`) besides the overall one.
    pub per_site: bool,
    pub kind: MetricKind,
    /// With no samples, the metric's time statistics are taken as 0 by
    /// verdicts (no session ⇒ no gap, no orphan recording). Other metrics
    /// without samples fail their guarantees with "no samples".
    pub empty_means_zero: bool,
}

const fn def(name: &'static str, per_site: bool, kind: MetricKind, zero: bool) -> MetricDef {
    MetricDef {
        name,
        per_site,
        kind,
        empty_means_zero: zero,
    }
}

/// Every metric, in report order.
pub const METRICS: &[MetricDef] = &[
    def("start_latency", true, MetricKind::Time, false),
    def("dual_start_latency", false, MetricKind::Time, false),
    def("start_skew", false, MetricKind::Time, false),
    def("stop_latency", true, MetricKind::Time, false),
    def("stop_skew", false, MetricKind::Time, false),
    def("site_gap", true, MetricKind::Time, true),
    def("union_gap", false, MetricKind::Time, true),
    def("recovery_time", true, MetricKind::Time, false),
    def("orphan_time", true, MetricKind::Time, true),
    def("lost_intents", true, MetricKind::Count, false),
];

/// Looks a metric up by name.
pub fn metric_def(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|d| d.name == name)
}

/// The record does not hold together (sizes or indices disagree).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("inconsistent run record: {what}")]
    InconsistentRecord { what: String },
}

/// One time metric: overall, and per site (empty for metrics over all sites).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub overall: Distribution,
    /// In the record's site order; empty unless the metric is per site.
    pub by_site: Vec<Distribution>,
}

/// A recovery sample, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySample {
    /// Index into `RunRecord::faults`.
    pub fault: usize,
    pub site: String,
    pub camera: String,
    pub fault_end_ns: Nanos,
    pub recovery_ns: Nanos,
    /// The site never recovered before the session closed.
    pub censored: bool,
}

/// A camera whose final state disagrees with the user's final intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostIntent {
    pub camera: String,
    /// The final intent: `true` = recording.
    pub intent_recording: bool,
    /// Sites whose final manual-recording state differs, in site order.
    pub sites: Vec<String>,
}

/// Session and click counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCounts {
    /// Intent windows.
    pub total: u64,
    /// Closed by a stop click.
    pub stopped: u64,
    /// Still open at the end of the run.
    pub open_ended: u64,
    /// Sessions every site started.
    pub all_sites_started: u64,
    /// Per site: sessions the site never started.
    pub not_started: BTreeMap<String, u64>,
    /// Per site: stop latencies capped before the site stopped.
    pub stop_censored: BTreeMap<String, u64>,
    pub clicks: ClickTally,
    pub recovery_samples: u64,
    /// Recovery samples where the site never recovered within the session.
    pub recovery_censored: u64,
}

/// Every metric of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub(crate) sites: Vec<String>,
    pub(crate) cameras: usize,
    pub(crate) config: MetricsConfig,
    pub(crate) series: BTreeMap<&'static str, Series>,
    /// `lost_intents` per site, in site order.
    pub(crate) lost_by_site: Vec<u64>,
    pub(crate) lost_intents: Vec<LostIntent>,
    /// Sorted by start, then camera.
    pub(crate) sessions: Vec<SessionRecord>,
    pub(crate) recoveries: Vec<RecoverySample>,
    pub(crate) counts: SessionCounts,
}

impl Metrics {
    pub fn sites(&self) -> &[String] {
        &self.sites
    }

    pub fn camera_count(&self) -> usize {
        self.cameras
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    pub fn site_index(&self, site: &str) -> Option<usize> {
        self.sites.iter().position(|s| s == site)
    }

    /// A time metric's distribution, overall (`site = None`) or for a site.
    /// `None` for unknown metrics or sites, count metrics, and per-site
    /// queries of metrics that only exist over all sites.
    pub fn distribution(&self, metric: &str, site: Option<&str>) -> Option<&Distribution> {
        let def = metric_def(metric)?;
        let series = self.series.get(def.name)?;
        match site {
            None => Some(&series.overall),
            Some(s) if def.per_site => series.by_site.get(self.site_index(s)?),
            Some(_) => None,
        }
    }

    /// A statistic: time stats in nanoseconds (`min`/`max`/`mean` exact,
    /// percentiles from the histogram clamped to the exact range), `count`
    /// the number of samples (0 when empty), `lost_intents` only with
    /// `count`. `None` when the metric, site or stat does not apply, or a
    /// time stat has no samples.
    pub fn stat(&self, metric: &str, site: Option<&str>, stat: Stat) -> Option<f64> {
        let def = metric_def(metric)?;
        match def.kind {
            MetricKind::Count => {
                if stat != Stat::Count {
                    return None;
                }
                match site {
                    None => Some(self.lost_intents.len() as f64),
                    Some(s) => self
                        .lost_by_site
                        .get(self.site_index(s)?)
                        .map(|&n| n as f64),
                }
            }
            MetricKind::Time => self.distribution(metric, site)?.stat(stat),
        }
    }

    /// Per-session figures, sorted by start time, then camera.
    pub fn sessions(&self) -> &[SessionRecord] {
        &self.sessions
    }

    /// Every recovery sample, in fault order.
    pub fn recoveries(&self) -> &[RecoverySample] {
        &self.recoveries
    }

    /// Cameras whose final state disagrees with the final intent.
    pub fn lost_intents(&self) -> &[LostIntent] {
        &self.lost_intents
    }

    pub fn counts(&self) -> &SessionCounts {
        &self.counts
    }

    /// The `n` worst sessions (see [`SessionRecord::badness_key`]).
    pub fn worst_sessions(&self, n: usize) -> Vec<&SessionRecord> {
        // The order of a stable sort of all sessions, without sorting them
        // all: a day at 10,000 cameras has 290,000 sessions and wants 20.
        let by_badness = |a: &(usize, &SessionRecord), b: &(usize, &SessionRecord)| {
            (a.1.badness_key().cmp(&b.1.badness_key())).then(a.0.cmp(&b.0))
        };
        if n == 0 {
            return Vec::new();
        }
        let mut v: Vec<(usize, &SessionRecord)> = self.sessions.iter().enumerate().collect();
        if v.len() > n {
            v.select_nth_unstable_by(n - 1, by_badness);
            v.truncate(n);
        }
        v.sort_by(by_badness);
        v.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests;
