//! Latency percentiles for the wall-clock benches, from an HdrHistogram
//! (the crate the reports use), not from hand-indexed sorted vectors: one
//! percentile convention everywhere, values kept to 3 significant digits
//! whatever the range (1 µs to an hour).
//!
//! Shared by path (`#[path = "support/latencies.rs"] mod latencies;`):
//! each bench is its own crate.

// Each bench uses a part of this module.
#![allow(dead_code)]

use std::time::Duration;

use hdrhistogram::Histogram;

/// Recorded latencies, in nanoseconds.
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Latencies {
    pub fn new() -> Latencies {
        Latencies {
            // 1 ns .. 1 hour, 3 significant digits.
            hist: Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .expect("valid histogram bounds"),
        }
    }

    /// The latencies `ns`.
    pub fn of(ns: impl IntoIterator<Item = u64>) -> Latencies {
        let mut l = Latencies::new();
        for v in ns {
            l.record(v);
        }
        l
    }

    /// Records `ns` (clamped into the histogram's range).
    pub fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
    }

    pub fn record_duration(&mut self, d: Duration) {
        self.record(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// The value at quantile `q` (0..=1); `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        (!self.hist.is_empty()).then(|| Duration::from_nanos(self.hist.value_at_quantile(q)))
    }

    /// `p50 1.234 ms  p99 …  max …` for the quantiles `qs` (1.0 prints as max).
    pub fn line(&self, qs: &[f64]) -> String {
        qs.iter()
            .map(|&q| {
                let label = if q >= 1.0 {
                    "max".to_string()
                } else {
                    format!("p{}", q * 100.0)
                };
                match self.quantile(q) {
                    Some(d) => format!("{label} {:.3} ms", d.as_secs_f64() * 1e3),
                    None => format!("{label} -"),
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    }
}
