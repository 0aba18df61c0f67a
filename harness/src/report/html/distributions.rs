//! The distribution sections of a page: HDR percentile curves (start and
//! stop latency per site, skew, recovery time) and gap histograms, drawn
//! from the report's serialized histograms.
//!
//! Decoding failures are logged and the histogram left out; the page is
//! still written.

use hdrhistogram::Histogram;
use maud::{html, Markup};

use super::page::figure;
use crate::report::plots::{decode, gap_histogram_svg, percentile_svg};
use crate::report::HistogramBlob;
use crate::verdict::format_duration;

/// Size of one plot, pixels.
const PLOT: (u32, u32) = (600, 340);

/// Labelled histograms of one chart.
type Series<'a> = Vec<(String, &'a Histogram<u64>)>;

fn decode_all(blobs: &[HistogramBlob]) -> Vec<(&HistogramBlob, Histogram<u64>)> {
    blobs
        .iter()
        .filter_map(|b| match decode(b) {
            Ok(h) => Some((b, h)),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        })
        .collect()
}

fn find<'a>(
    hists: &'a [(&HistogramBlob, Histogram<u64>)],
    metric: &str,
    site: Option<&str>,
) -> Option<&'a Histogram<u64>> {
    hists
        .iter()
        .find(|(b, _)| b.metric == metric && b.site.as_deref() == site)
        .map(|(_, h)| h)
}

/// Percentile curves and gap histograms of a set of histograms; `sites`
/// orders the per-site series.
pub(super) fn distribution_sections(blobs: &[HistogramBlob], sites: &[String]) -> Markup {
    let hists = decode_all(blobs);
    let per_site = |metric: &str, extra: Option<(&str, &str)>| {
        let mut series: Series = sites
            .iter()
            .filter_map(|s| find(&hists, metric, Some(s)).map(|h| (s.clone(), h)))
            .collect();
        if let Some((m, label)) = extra {
            if let Some(h) = find(&hists, m, None) {
                series.push((label.to_string(), h));
            }
        }
        series
    };
    let charts: [(&str, Series, &str); 4] = [
        (
            "Start latency (click → manually recording)",
            per_site(
                "start_latency",
                Some(("dual_start_latency", "dual start (all sites)")),
            ),
            "start_latency per site, and dual_start_latency (the slowest site of each session)",
        ),
        (
            "Stop latency (click → stopped)",
            per_site("stop_latency", None),
            "stop_latency per site",
        ),
        (
            "Skew between sites",
            ["start_skew", "stop_skew"]
                .iter()
                .filter_map(|m| find(&hists, m, None).map(|h| (m.to_string(), h)))
                .collect(),
            "start_skew and stop_skew: max − min over sites",
        ),
        (
            "Recovery time (fault end → recording again)",
            per_site("recovery_time", None),
            "recovery_time per site",
        ),
    ];
    let percentiles: Vec<(String, &str)> = charts
        .iter()
        .map(|(title, series, caption)| (percentile_svg(title, series, PLOT), *caption))
        .collect();
    let mut gaps: Series = sites
        .iter()
        .filter_map(|s| find(&hists, "site_gap", Some(s)).map(|h| (format!("site_gap.{s}"), h)))
        .collect();
    if let Some(h) = find(&hists, "union_gap", None) {
        gaps.push(("union_gap (the evidence gap)".to_string(), h));
    }
    html! {
        section #distributions {
            h2 { "Latency and skew" }
            p.muted {
                "HDR percentile curves: the x axis is 1/(1 − percentile) on a log scale, so the tail (99%, 99.9%, …) gets as much room as the median."
            }
            div.plots {
                @for (svg, caption) in &percentiles { (figure(svg, caption)) }
                @if percentiles.iter().all(|(svg, _)| svg.is_empty()) {
                    p.muted { "No latency samples." }
                }
            }
            h2 { "Gaps" }
            div.plots {
                @for (label, h) in &gaps {
                    @if h.is_empty() {
                        p.muted { (label) ": no samples." }
                    } @else {
                        (figure(
                            &gap_histogram_svg(label, h, PLOT),
                            &format!(
                                "{label}: {} sessions, largest {}",
                                h.len(),
                                format_duration(h.max().saturating_mul(1_000))
                            ),
                        ))
                    }
                }
            }
        }
    }
}
