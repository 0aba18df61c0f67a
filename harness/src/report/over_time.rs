//! Start and stop latency over the run's time: what `report.json` keeps of
//! it (`latency_over_time`, downsampled per site), and its drawing.
//!
//! The samples are exactly those of the `start_latency.<site>` and
//! `stop_latency.<site>` statistics (see [`crate::metrics`]): a start
//! latency is placed at its session's start click, a stop latency at its
//! stop click. The run `[0, duration)` is cut into at most [`MAX_BUCKETS`]
//! buckets of whole seconds ([`bucket_ns`]); per bucket the series keeps the
//! sample count, the exact mean (rounded to the nearest ns) and the maximum,
//! and — for start latency — how many sessions started in the bucket that
//! the site never started (those have no latency sample, and they are the
//! ones a reader looks for). Buckets without anything are left out, so a
//! quiet run stays small and a 24-hour day stays bounded. Everything is
//! integer arithmetic over sessions in their sorted order: byte-reproducible.
//!
//! [`over_time_svg`] draws one metric with plotters: one line per site
//! through the buckets' maxima, crosses at the top for sessions a site never
//! started, and the run's fault windows shaded behind (site faults red,
//! engine crashes purple, as in the session timelines).

use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;

use super::plots::{line_chart_frame, PALETTE};
use super::timeline::colour;
use super::FaultReport;
use crate::metrics::Metrics;

/// Most buckets a series has.
pub const MAX_BUCKETS: u64 = 200;

const SECOND: Nanos = 1_000_000_000;

/// The metrics drawn over time, in report order.
pub const OVER_TIME_METRICS: [&str; 2] = ["start_latency", "stop_latency"];

/// `latency_over_time` of `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyOverTime {
    /// Width of one bucket, ns (whole seconds).
    pub bucket_ns: Nanos,
    /// [`OVER_TIME_METRICS`] order, then site order.
    pub series: Vec<LatencySeries>,
}

/// One metric on one site over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySeries {
    pub metric: String,
    pub site: String,
    /// Non-empty buckets, in time order.
    pub points: Vec<LatencyPoint>,
}

/// One bucket `[at_ns, at_ns + bucket_ns)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyPoint {
    pub at_ns: Nanos,
    /// Latency samples in the bucket.
    pub count: u64,
    /// `None` when `count` is 0.
    pub mean_ns: Option<Nanos>,
    pub max_ns: Option<Nanos>,
    /// Sessions started in the bucket that the site never started (start
    /// latency only; always 0 for stop latency).
    pub not_started: u64,
}

/// The bucket width for a run of `duration_ns`: at most [`MAX_BUCKETS`]
/// buckets, each a whole number of seconds, at least one.
pub fn bucket_ns(duration_ns: Nanos) -> Nanos {
    duration_ns
        .div_ceil(MAX_BUCKETS)
        .div_ceil(SECOND)
        .max(1)
        .saturating_mul(SECOND)
}

#[derive(Default, Clone)]
struct Bucket {
    count: u64,
    sum: u128,
    max: Nanos,
    not_started: u64,
}

/// Downsamples the start and stop latencies of `metrics` over a run of
/// `duration_ns`.
pub fn build(metrics: &Metrics, duration_ns: Nanos) -> LatencyOverTime {
    let width = bucket_ns(duration_ns);
    let mut series = Vec::new();
    for metric in OVER_TIME_METRICS {
        for (r, site) in metrics.sites().iter().enumerate() {
            // Indexed by bucket number: at most MAX_BUCKETS within the run
            // (a stop after its end grows it).
            let mut buckets: Vec<Bucket> = Vec::new();
            for s in metrics.sessions() {
                let Some(lane) = s.sites.get(r) else { continue };
                let (at, sample) = if metric == "start_latency" {
                    (s.start_ns, lane.start_latency_ns)
                } else if s.open_ended {
                    continue;
                } else {
                    (s.stop_ns, lane.stop_latency_ns)
                };
                let i = (at / width) as usize;
                if i >= buckets.len() {
                    buckets.resize(i + 1, Bucket::default());
                }
                let b = &mut buckets[i];
                match sample {
                    Some(v) => {
                        b.count += 1;
                        b.sum += u128::from(v);
                        b.max = b.max.max(v);
                    }
                    None if metric == "start_latency" && lane.not_started => b.not_started += 1,
                    None => {}
                }
            }
            let points = buckets
                .into_iter()
                .enumerate()
                .filter(|(_, b)| b.count > 0 || b.not_started > 0)
                .map(|(i, b)| LatencyPoint {
                    at_ns: i as Nanos * width,
                    count: b.count,
                    mean_ns: (b.count > 0).then(|| {
                        let n = u128::from(b.count);
                        ((b.sum + n / 2) / n) as Nanos
                    }),
                    max_ns: (b.count > 0).then_some(b.max),
                    not_started: b.not_started,
                })
                .collect();
            series.push(LatencySeries {
                metric: metric.to_string(),
                site: site.clone(),
                points,
            });
        }
    }
    LatencyOverTime {
        bucket_ns: width,
        series,
    }
}

/// One metric's series over a run of `duration_ns` as an SVG document,
/// faults shaded; empty when no series has a point.
pub fn over_time_svg(
    title: &str,
    series: &[&LatencySeries],
    bucket_ns: Nanos,
    faults: &[FaultReport],
    duration_ns: Nanos,
    size: (u32, u32),
) -> String {
    if series.iter().all(|s| s.points.is_empty()) {
        return String::new();
    }
    let mut out = String::new();
    if let Err(e) = draw(
        title,
        series,
        bucket_ns,
        faults,
        duration_ns,
        size,
        &mut out,
    ) {
        tracing::warn!("drawing {title}: {e}");
        return String::new();
    }
    out
}

/// The time axis: seconds up to 10 minutes, minutes up to 10 hours, hours.
fn time_unit(duration_ns: Nanos) -> (f64, &'static str) {
    if duration_ns <= 600 * SECOND {
        (1e9, "s")
    } else if duration_ns <= 36_000 * SECOND {
        (60e9, "min")
    } else {
        (3600e9, "h")
    }
}

fn draw(
    title: &str,
    series: &[&LatencySeries],
    bucket_ns: Nanos,
    faults: &[FaultReport],
    duration_ns: Nanos,
    size: (u32, u32),
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let (per_x, x_unit) = time_unit(duration_ns);
    let x_max = (duration_ns as f64 / per_x).max(1e-3);
    let top_ns = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.max_ns))
        .max()
        .unwrap_or(0);
    // Milliseconds below 10 s, seconds above, as in the percentile plots.
    let (per_y, y_unit) = if top_ns >= 10 * SECOND {
        (1e9, "s")
    } else {
        (1e6, "ms")
    };
    let y_max = (top_ns as f64 / per_y).max(0.001) * 1.15;
    // A bucket's point sits in its middle, clipped to the run.
    let x_of = |at: Nanos| (at.saturating_add(bucket_ns / 2)).min(duration_ns) as f64 / per_x;
    let root = SVGBackend::with_string(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = line_chart_frame(&root, title).build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since the run began ({x_unit})"))
        .y_desc(y_unit)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .max_light_lines(3)
        .light_line_style(RGBColor(236, 236, 236))
        .draw()?;
    let in_run: Vec<&FaultReport> = faults.iter().filter(|f| f.start_ns < duration_ns).collect();
    chart.draw_series(in_run.iter().map(|f| {
        let c = if f.site.is_some() {
            colour::FAULT
        } else {
            colour::ENGINE_FAULT
        };
        let a = f.start_ns as f64 / per_x;
        // Instantaneous faults (token_expiry) get a sliver a 400th wide.
        let b = if f.end_ns > f.start_ns {
            f.end_ns.min(duration_ns) as f64 / per_x
        } else {
            a + x_max / 400.0
        };
        Rectangle::new([(a, 0.0), (b, y_max)], c.mix(0.18).filled())
    }))?;
    chart.draw_series(in_run.iter().map(|f| {
        let (c, who) = match &f.site {
            Some(s) => (colour::FAULT, s.as_str()),
            None => (colour::ENGINE_FAULT, "engine"),
        };
        Text::new(
            format!("{} {who}", f.kind),
            (f.start_ns as f64 / per_x, y_max * 0.96),
            ("sans-serif", 11).into_font().color(&c),
        )
    }))?;
    for (i, s) in series.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| p.max_ns.map(|m| (x_of(p.at_ns), m as f64 / per_y)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
            .label(s.site.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
        chart.draw_series(
            s.points
                .iter()
                .filter(|p| p.not_started > 0)
                .map(|p| Cross::new((x_of(p.at_ns), y_max * 0.9), 5, c.stroke_width(2))),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_over_time_bucket_width() {
        assert_eq!(bucket_ns(0), SECOND);
        assert_eq!(bucket_ns(180 * SECOND), SECOND);
        assert_eq!(bucket_ns(1000 * SECOND), 5 * SECOND);
        // 24 h: 432 s buckets, exactly 200 of them.
        assert_eq!(bucket_ns(86_400 * SECOND), 432 * SECOND);
        assert_eq!(bucket_ns(86_400 * SECOND + 1), 433 * SECOND);
    }

    #[test]
    fn report_over_time_draws_lines_faults_and_not_started() {
        let s = LatencySeries {
            metric: "start_latency".into(),
            site: "primary".into(),
            points: vec![
                LatencyPoint {
                    at_ns: 0,
                    count: 2,
                    mean_ns: Some(20_000_000),
                    max_ns: Some(30_000_000),
                    not_started: 0,
                },
                LatencyPoint {
                    at_ns: 10 * SECOND,
                    count: 1,
                    mean_ns: Some(12_000_000),
                    max_ns: Some(12_000_000),
                    not_started: 1,
                },
            ],
        };
        let fault = FaultReport {
            site: Some("primary".into()),
            kind: "down".into(),
            camera: None,
            start_ns: 5 * SECOND,
            end_ns: 8 * SECOND,
        };
        let svg = over_time_svg("t", &[&s], SECOND, &[fault], 20 * SECOND, (600, 300));
        assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{svg}");
        assert!(svg.contains("down primary"), "fault labelled");
        assert!(svg.contains("<circle"), "bucket maxima marked");
        let empty = LatencySeries {
            points: vec![],
            ..s.clone()
        };
        assert_eq!(
            over_time_svg("t", &[&empty], SECOND, &[], 20 * SECOND, (600, 300)),
            ""
        );
    }
}
