//! One metric's distribution: an HdrHistogram plus the exact figures kept
//! beside it.
//!
//! Samples arrive in nanoseconds and are recorded in an
//! `hdrhistogram::Histogram<u64>` in **microseconds** (rounded to the nearest
//! microsecond) with **3 significant digits** and auto-resize. Beside the
//! histogram we keep the exact sample count, minimum, maximum and sum in
//! nanoseconds, so that `min`, `max` and `mean` are exact (an `== 0s` check on
//! a maximum is a check on the true figure, not on a bucket) and quantiles can
//! be clamped to the exact range.
//!
//! Quantiles are the histogram's (the highest value equivalent to the bucket
//! holding the quantile, as HdrHistogram reports them), converted back to
//! nanoseconds and clamped to `[min, max]`.

use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use sim::intervals::Nanos;

use crate::guarantee::Stat;

/// Precision of every metric histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Nanoseconds per histogram unit (histograms count microseconds).
pub const NANOS_PER_UNIT: u64 = 1_000;

/// The quantile (0–1) a percentile [`Stat`] stands for; `None` for the others.
pub fn quantile_of(stat: Stat) -> Option<f64> {
    match stat {
        Stat::P50 => Some(0.5),
        Stat::P90 => Some(0.9),
        Stat::P95 => Some(0.95),
        Stat::P99 => Some(0.99),
        Stat::P999 => Some(0.999),
        Stat::Min | Stat::Max | Stat::Mean | Stat::Count => None,
    }
}

/// Distribution of one time metric in one scope (a site, or all sites).
#[derive(Debug, Clone)]
pub struct Distribution {
    hist: Histogram<u64>,
    count: u64,
    min_ns: Nanos,
    max_ns: Nanos,
    sum_ns: u128,
}

impl Default for Distribution {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Distribution {
    fn eq(&self, other: &Self) -> bool {
        self.hist == other.hist
            && self.count == other.count
            && self.min_ns == other.min_ns
            && self.max_ns == other.max_ns
            && self.sum_ns == other.sum_ns
    }
}

impl Distribution {
    /// An empty distribution.
    pub fn new() -> Self {
        let hist = Histogram::new(SIGNIFICANT_DIGITS)
            .expect("3 significant digits is a valid HdrHistogram precision");
        Distribution {
            hist,
            count: 0,
            min_ns: Nanos::MAX,
            max_ns: 0,
            sum_ns: 0,
        }
    }

    /// Records one sample, in nanoseconds.
    pub fn record(&mut self, ns: Nanos) {
        let us = ns / NANOS_PER_UNIT + u64::from(ns % NANOS_PER_UNIT >= NANOS_PER_UNIT / 2);
        if self.hist.record(us).is_err() {
            // Only beyond what a resized histogram can track (~2^62 us).
            self.hist.saturating_record(us);
        }
        self.count += 1;
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        self.sum_ns += u128::from(ns);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Exact smallest sample.
    pub fn min_ns(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.min_ns)
    }

    /// Exact largest sample.
    pub fn max_ns(&self) -> Option<Nanos> {
        (self.count > 0).then_some(self.max_ns)
    }

    /// Exact sum of all samples.
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// Exact mean.
    pub fn mean_ns(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64)
    }

    /// Quantile `q` (0–1) from the histogram, in nanoseconds, clamped to the
    /// exact `[min, max]`.
    pub fn quantile_ns(&self, q: f64) -> Option<Nanos> {
        if self.count == 0 {
            return None;
        }
        let v = self
            .hist
            .value_at_quantile(q)
            .saturating_mul(NANOS_PER_UNIT);
        Some(v.clamp(self.min_ns, self.max_ns))
    }

    /// A statistic in nanoseconds (`count` is the sample count). `None` when
    /// there are no samples, except for `count`, which is then 0.
    pub fn stat(&self, stat: Stat) -> Option<f64> {
        match stat {
            Stat::Count => Some(self.count as f64),
            Stat::Min => self.min_ns().map(|v| v as f64),
            Stat::Max => self.max_ns().map(|v| v as f64),
            Stat::Mean => self.mean_ns(),
            Stat::P50 | Stat::P90 | Stat::P95 | Stat::P99 | Stat::P999 => {
                let q = quantile_of(stat).expect("percentile stats have a quantile");
                self.quantile_ns(q).map(|v| v as f64)
            }
        }
    }

    /// The underlying histogram (microseconds).
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// The histogram in HdrHistogram's V2 serialization (not deflated).
    pub fn serialize_v2(&self) -> Vec<u8> {
        let mut out = Vec::new();
        V2Serializer::new()
            .serialize(&self.hist, &mut out)
            .expect("V2-serializing a u64 histogram into a Vec cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn metrics_histogram_keeps_exact_extremes_and_mean() {
        let mut d = Distribution::new();
        assert_eq!(d.stat(Stat::Count), Some(0.0));
        assert_eq!(d.stat(Stat::Max), None);
        assert_eq!(d.stat(Stat::P99), None);
        d.record(15_000_123);
        d.record(55_000_000);
        assert_eq!(d.min_ns(), Some(15_000_123));
        assert_eq!(d.max_ns(), Some(55_000_000));
        assert_eq!(d.mean_ns(), Some(35_000_061.5));
        assert_eq!(d.stat(Stat::Count), Some(2.0));
        // p99 is the bucket's highest equivalent, clamped to the exact max.
        assert_eq!(d.quantile_ns(0.99), Some(55_000_000));
        // p50: 15000 us sits in a bucket of width 8 us -> 15007 us.
        assert_eq!(d.quantile_ns(0.5), Some(15_007_000));
        assert_eq!(d.histogram().len(), 2);
    }

    #[test]
    fn metrics_histogram_rounds_to_microseconds() {
        let mut d = Distribution::new();
        d.record(1_499);
        d.record(1_500);
        assert_eq!(d.histogram().count_at(1), 1);
        assert_eq!(d.histogram().count_at(2), 1);
    }

    #[test]
    fn metrics_histogram_v2_roundtrip() {
        let mut d = Distribution::new();
        for v in [0, 1_000, 40_000_000, 1_500_000_000, 3_600_000_000_000] {
            d.record(v);
        }
        let bytes = d.serialize_v2();
        let back: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .expect("valid V2 bytes");
        assert_eq!(&back, d.histogram());
    }
}
