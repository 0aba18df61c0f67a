//! Guarantees: what a scenario promises, e.g. `"start_skew.p99" = "< 100ms"`.
//!
//! This module owns the parsed form of a guarantee. Parsing lives in
//! `scenario`, evaluation against measured figures in `verdict`.

use serde::{Deserialize, Serialize};

/// Statistic of a metric's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    Min,
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
    Count,
}

/// Comparison operator of a guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
}

impl Cmp {
    pub fn holds(self, measured: f64, threshold: f64) -> bool {
        match self {
            Cmp::Lt => measured < threshold,
            Cmp::Le => measured <= threshold,
            Cmp::Eq => measured == threshold,
            Cmp::Ge => measured >= threshold,
            Cmp::Gt => measured > threshold,
        }
    }
}

/// A threshold: a duration for time metrics (and their `count`s are plain).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Nanoseconds.
    Duration(u64),
    Count(f64),
}

/// One parsed guarantee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guarantee {
    /// The key as written, e.g. `start_latency.primary.p99`.
    pub key: String,
    /// Metric name, e.g. `start_latency`.
    pub metric: String,
    /// Site name for per-site metrics; `None` means over all sites.
    pub site: Option<String>,
    pub stat: Stat,
    pub cmp: Cmp,
    pub threshold: Threshold,
    /// The condition as written, e.g. `< 300ms`.
    pub condition: String,
}
