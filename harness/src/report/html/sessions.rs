//! The worst-sessions section: the ranking table and, per session, its
//! timeline (drawn by [`crate::report::timeline`]) with the shared legend.

use maud::{html, Markup, PreEscaped};
use plotters::style::RGBColor;

use super::page::opt_d;
use crate::report::timeline::{self, colour};
use crate::report::Report;
use crate::verdict::format_duration;

/// Width of a timeline, pixels.
const TIMELINE_WIDTH: u32 = 1180;

/// The colours of the timelines, explained.
fn legend() -> Markup {
    let items: [(RGBColor, f64, &str); 7] = [
        (colour::INTENT, 0.85, "intent window"),
        (colour::MANUAL, 0.85, "manual recording on"),
        (colour::FOOTAGE, 0.85, "footage written"),
        (colour::FAULT, 0.25, "site fault"),
        (colour::ENGINE_FAULT, 0.25, "engine crash"),
        (colour::START, 1.0, "start click"),
        (colour::STOP, 1.0, "stop click"),
    ];
    html! {
        p.legend {
            @for (c, alpha, label) in items {
                span {
                    i style=(format!("background: rgba({},{},{},{alpha})", c.0, c.1, c.2)) {}
                    (label)
                }
            }
        }
    }
}

/// The worst sessions of one run, with their timelines.
pub(super) fn worst_sessions(report: &Report) -> Markup {
    html! {
        section #worst-sessions {
            h2 { "Worst sessions" }
            @if report.worst_sessions.is_empty() {
                p.muted { "No sessions." }
            } @else {
                p.muted {
                    "Ordered by union gap, then dual-start latency (a site that never started ranks worst), then orphan time."
                }
                table {
                    thead {
                        tr {
                            th { "#" } th { "camera" } th { "start" } th { "stop" } th { "union gap" }
                            th { "dual start" } th { "start skew" } th { "worst orphan" }
                            @for s in &report.sites { th { (s) " gap" } }
                        }
                    }
                    tbody {
                        @for (i, s) in report.worst_sessions.iter().enumerate() {
                            tr {
                                td { a href={ "#timeline-" (i + 1) } { (i + 1) } }
                                td { (s.camera) }
                                td.num { (format_duration(s.start_ns)) }
                                td.num {
                                    (format_duration(s.stop_ns))
                                    @if s.open_ended { " (open)" }
                                }
                                td.num { (format_duration(s.union_gap_ns)) }
                                td.num {
                                    (s.dual_start_latency_ns.map_or_else(|| "not started".to_string(), format_duration))
                                }
                                td.num { (opt_d(s.start_skew_ns)) }
                                td.num { (format_duration(s.worst_orphan_ns())) }
                                @for site in &s.sites { td.num { (opt_d(site.site_gap_ns)) } }
                            }
                        }
                    }
                }
                @if !report.timelines.is_empty() {
                    h3 { "Timelines" }
                    (legend())
                }
                @for (i, t) in report.timelines.iter().enumerate() {
                    figure.timeline id={ "timeline-" (i + 1) } {
                        figcaption {
                            "#" (i + 1) " " (t.camera) " — session " (format_duration(t.start_ns))
                            " → " (format_duration(t.stop_ns))
                            @if t.open_ended { " (open at the end)" }
                            ", shown " (format_duration(t.from_ns)) " → " (format_duration(t.to_ns))
                        }
                        (PreEscaped(timeline::timeline_svg(t, TIMELINE_WIDTH)))
                    }
                }
            }
        }
    }
}
