//! The "Latency over time" section of a run's page: start and stop latency
//! per site against the run's time, the fault windows shaded, from the
//! report's `latency_over_time` series ([`crate::report::over_time`]).

use maud::{html, Markup};

use super::page::figure;
use crate::report::over_time::{over_time_svg, OVER_TIME_METRICS};
use crate::report::Report;
use crate::verdict::format_duration;

/// Size of one plot, pixels: the page's full width.
const PLOT: (u32, u32) = (1180, 320);

/// The section; a note instead of plots for reports written before the
/// series existed.
pub(super) fn latency_over_time(report: &Report) -> Markup {
    let Some(lot) = &report.latency_over_time else {
        return html! {
            section #latency-over-time {
                h2 { "Latency over time" }
                p.muted { "This report.json was written before reports kept latency over time; re-run the scenario to see it." }
            }
        };
    };
    let titles = [
        "Start latency over time (click → manually recording)",
        "Stop latency over time (click → stopped)",
    ];
    let plots: Vec<(String, String)> = OVER_TIME_METRICS
        .iter()
        .zip(titles)
        .map(|(metric, title)| {
            let series: Vec<_> = lot.series.iter().filter(|s| s.metric == *metric).collect();
            let not_started: u64 = series
                .iter()
                .flat_map(|s| &s.points)
                .map(|p| p.not_started)
                .sum();
            let mut caption = format!(
                "{metric} per site: the largest sample of each {} bucket, placed at its click",
                format_duration(lot.bucket_ns)
            );
            if not_started > 0 {
                caption.push_str(&format!(
                    "; × marks {not_started} session(s) a site never started"
                ));
            }
            let svg = over_time_svg(
                title,
                &series,
                lot.bucket_ns,
                &report.faults,
                report.scenario.duration_ns,
                PLOT,
            );
            (svg, caption)
        })
        .collect();
    html! {
        section #latency-over-time {
            h2 { "Latency over time" }
            p.muted { "Shaded: fault windows of the run (red a site's, purple the engine's)." }
            @for (svg, caption) in &plots { (figure(svg, caption)) }
            @if plots.iter().all(|(svg, _)| svg.is_empty()) {
                p.muted { "No start or stop latency samples." }
            }
        }
    }
}
