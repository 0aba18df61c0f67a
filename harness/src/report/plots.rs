//! The report's plots, drawn with plotters' SVG backend into strings.
//!
//! - [`percentile_svg`]: HDR percentile curves, the way HdrHistogram plots
//!   them: the x axis is `1 / (1 − percentile)` on a log scale (labelled
//!   `0%`, `90%`, `99%`, `99.9%`, …) so the tail gets as much room as the
//!   body; one line per histogram (e.g. per site).
//! - [`gap_histogram_svg`]: a bar histogram of a gap metric's samples.
//!
//! Inputs are histograms decoded from the report's serialized blobs
//! ([`decode`]), so a stored `report.json` redraws the same plots. Values
//! are microseconds (the histograms' unit), shown in milliseconds, or in
//! seconds when the largest value is 10 s or more.

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use plotters::prelude::*;

use super::HistogramBlob;

/// A histogram blob could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("histogram {what}: not base64: {source}")]
    Base64 {
        what: String,
        source: base64::DecodeError,
    },
    #[error("histogram {what}: not an HdrHistogram V2 serialization: {source}")]
    V2 {
        what: String,
        source: hdrhistogram::serialization::DeserializeError,
    },
    #[error(
        "histogram {what}: unsupported encoding `{encoding}`, expected `hdrhistogram-v2+base64`"
    )]
    Encoding { what: String, encoding: String },
}

/// Decodes one blob of `report.json` back into the histogram (µs).
pub fn decode(blob: &HistogramBlob) -> Result<Histogram<u64>, DecodeError> {
    let what = match &blob.site {
        Some(s) => format!("{}.{s}", blob.metric),
        None => blob.metric.clone(),
    };
    if blob.encoding != "hdrhistogram-v2+base64" {
        return Err(DecodeError::Encoding {
            what,
            encoding: blob.encoding.clone(),
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&blob.data)
        .map_err(|source| DecodeError::Base64 {
            what: what.clone(),
            source,
        })?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|source| DecodeError::V2 { what, source })
}

/// Series colours, in order (sites keep their colour across plots).
pub(super) const PALETTE: [RGBColor; 6] = [
    RGBColor(52, 120, 200),
    RGBColor(230, 120, 30),
    RGBColor(46, 160, 90),
    RGBColor(200, 50, 60),
    RGBColor(130, 80, 190),
    RGBColor(120, 120, 120),
];

/// The frame of a line chart (percentiles, latency over time): caption,
/// margins with room for the last x label, label areas.
pub(super) fn line_chart_frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &'b str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut frame = ChartBuilder::on(root);
    frame
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .margin_right(28)
        .x_label_area_size(36)
        .y_label_area_size(60);
    frame
}

/// Label of a log-scaled percentile tick `x = 1 / (1 − q)`.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p < 1e-9 {
        "0%".into()
    } else {
        let digits = (x.log10().round() as i32 - 2).max(0) as usize;
        format!("{p:.digits$}%")
    }
}

/// HDR percentile curves of `series` (label, histogram in µs), titled
/// `title`, `size` pixels. Empty histograms are skipped; with nothing to draw
/// the result is an empty string.
pub fn percentile_svg(
    title: &str,
    series: &[(String, &Histogram<u64>)],
    size: (u32, u32),
) -> String {
    let series: Vec<_> = series.iter().filter(|(_, h)| !h.is_empty()).collect();
    if series.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    if let Err(e) = draw_percentiles(title, &series, size, &mut out) {
        tracing::warn!("drawing {title}: {e}");
        return String::new();
    }
    out
}

fn draw_percentiles(
    title: &str,
    series: &[&(String, &Histogram<u64>)],
    size: (u32, u32),
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let max_count = series.iter().map(|(_, h)| h.len()).max().unwrap_or(1);
    // Up to the percentile the sample count resolves: at least 99%, at
    // most 99.9999%.
    let decades = ((max_count.max(10) as f64).log10().ceil() as i32).clamp(2, 6);
    let x_max = 10f64.powi(decades);
    // Milliseconds up to 10 s, seconds above.
    let top_us = series.iter().map(|(_, h)| h.max()).max().unwrap_or(0);
    let (per_unit, unit) = if top_us >= 10_000_000 {
        (1e6, "s")
    } else {
        (1e3, "ms")
    };
    let y_max = series
        .iter()
        .map(|(_, h)| h.max() as f64 / per_unit)
        .fold(0.0, f64::max)
        .max(0.001)
        * 1.1;
    let root = SVGBackend::with_string(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = line_chart_frame(&root, title)
        .build_cartesian_2d((1f64..x_max).log_scale(), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_labels(decades as usize + 1)
        .x_label_formatter(&|x| percentile_label(*x))
        .x_desc("percentile")
        .y_desc(unit)
        .y_label_formatter(&|y| format!("{y:.1}"))
        .max_light_lines(3)
        .light_line_style(RGBColor(236, 236, 236))
        .draw()?;
    for (i, (label, h)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut points: Vec<(f64, f64)> = Vec::new();
        for v in h.iter_quantiles(4) {
            let q = v.quantile_iterated_to();
            let x = if q >= 1.0 {
                x_max
            } else {
                (1.0 / (1.0 - q)).min(x_max)
            };
            let y = h.highest_equivalent(v.value_iterated_to()).min(h.max()) as f64 / per_unit;
            points.push((x, y));
            if x >= x_max {
                break;
            }
        }
        if let Some(&(_, y)) = points.last() {
            points.push((x_max, y));
        }
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A bar histogram of one gap metric's samples (µs), in up to 20 equal bins
/// from 0 to the largest sample; the y axis counts sessions.
pub fn gap_histogram_svg(title: &str, h: &Histogram<u64>, size: (u32, u32)) -> String {
    let mut out = String::new();
    if let Err(e) = draw_gaps(title, h, size, &mut out) {
        tracing::warn!("drawing {title}: {e}");
        return String::new();
    }
    out
}

fn draw_gaps(
    title: &str,
    h: &Histogram<u64>,
    size: (u32, u32),
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    const BINS: usize = 20;
    // Milliseconds below 10 s, seconds above.
    let (per_unit, unit) = if h.max() >= 10_000_000 {
        (1e6, "s")
    } else {
        (1e3, "ms")
    };
    let max_v = (h.max() as f64 / per_unit).max(1.0);
    let width = max_v / BINS as f64;
    let mut counts = [0u64; BINS];
    for v in h.iter_recorded() {
        let x = v.value_iterated_to() as f64 / per_unit;
        let bin = ((x / width) as usize).min(BINS - 1);
        counts[bin] += v.count_at_value();
    }
    let decimals = if max_v < 10.0 { 1 } else { 0 };
    let y_max = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.15;
    let root = SVGBackend::with_string(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..max_v, 0f64..y_max)?;
    let x_desc = format!("gap ({unit})");
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("sessions")
        .max_light_lines(2)
        .x_label_formatter(&|x| format!("{x:.decimals$}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .light_line_style(RGBColor(236, 236, 236))
        .draw()?;
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let x = i as f64 * width;
                Rectangle::new(
                    [(x, 0.0), (x + width * 0.92, c as f64)],
                    PALETTE[0].filled(),
                )
            }),
    )?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_plots_percentile_labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(10000.0), "99.99%");
    }

    #[test]
    fn report_plots_draw_svg() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in [1_000, 2_000, 15_000, 80_000] {
            h.record(v).unwrap();
        }
        let svg = percentile_svg("t", &[("a".into(), &h)], (400, 300));
        assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{svg}");
        let svg = gap_histogram_svg("g", &h, (400, 300));
        assert!(svg.contains("<rect"));
        let empty = Histogram::<u64>::new(3).unwrap();
        assert_eq!(percentile_svg("t", &[("a".into(), &empty)], (400, 300)), "");
    }
}
