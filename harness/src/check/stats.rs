//! Samples → the statistics rows of `report.json` (`stats`), by the
//! documented convention: `min`, `max`, `sum` and the mean are exact; the
//! percentiles are an HdrHistogram's (samples rounded to the nearest
//! microsecond, 3 significant digits, the bucket's highest equivalent value
//! in ns), clamped to the exact `[min, max]`.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;

/// One row, field for field what `report.json` has under `stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub metric: String,
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
    pub mean_ns: Option<Nanos>,
    pub sum_ns: Option<u128>,
}

/// A row for a count metric: only `count` is set.
pub fn count_row(metric: &str, site: Option<&str>, count: u64) -> Row {
    Row {
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

/// A row for a time metric from its samples (ns).
pub fn time_row(metric: &str, site: Option<&str>, samples: &[Nanos]) -> Row {
    let mut row = count_row(metric, site, samples.len() as u64);
    row.unit = "ns".to_string();
    let (Some(&min), Some(&max)) = (samples.iter().min(), samples.iter().max()) else {
        return row;
    };
    let sum: u128 = samples.iter().map(|&v| u128::from(v)).sum();
    let mut hist =
        Histogram::<u64>::new(3).expect("3 significant digits is a valid HdrHistogram precision");
    for &ns in samples {
        let us = ns / 1_000 + u64::from(ns % 1_000 >= 500); // nearest µs, halves up
        if hist.record(us).is_err() {
            hist.saturating_record(us); // beyond ~2^62 µs only
        }
    }
    let q = |q: f64| Some((hist.value_at_quantile(q).saturating_mul(1_000)).clamp(min, max));
    row.min_ns = Some(min);
    row.p50_ns = q(0.5);
    row.p90_ns = q(0.9);
    row.p95_ns = q(0.95);
    row.p99_ns = q(0.99);
    row.p999_ns = q(0.999);
    row.max_ns = Some(max);
    row.mean_ns = Some(mean(sum, samples.len() as u64).round() as Nanos);
    row.sum_ns = Some(sum);
    row
}

/// Exact mean as a float (what a `mean` guarantee compares).
pub fn mean(sum: u128, count: u64) -> f64 {
    sum as f64 / count as f64
}
