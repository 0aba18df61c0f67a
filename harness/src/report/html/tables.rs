//! The report's tables: verdicts (per run, or per suite with a scenario
//! column), the fault schedule, lost intents, and the statistics table.
//!
//! Markup only; every figure comes formatted from the report, nothing is
//! computed here.

use maud::{html, Markup};

use super::page::{badge, opt_d};
use crate::metrics::LostIntent;
use crate::report::{FaultReport, Report, StatRow};
use crate::verdict::format_duration;

/// The header of a verdict table; `with_scenario` adds the scenario column.
pub(super) fn verdict_head(with_scenario: bool) -> Markup {
    html! {
        thead {
            tr {
                @if with_scenario { th { "scenario" } }
                th { "guarantee" } th { "threshold" } th { "measured" } th { "result" } th { "margin" }
            }
        }
    }
}

/// One run's verdicts as a table.
pub(super) fn verdict_table(report: &Report) -> Markup {
    html! {
        table.verdicts {
            (verdict_head(false))
            tbody { (verdict_rows(report, false)) }
        }
    }
}

/// One row per verdict of `report`; `with_scenario` links the scenario's
/// page (`<name>/report.html`) in a first column.
pub(super) fn verdict_rows(report: &Report, with_scenario: bool) -> Markup {
    html! {
        @for v in &report.verdicts {
            tr class=(if v.passed { "pass-row" } else { "fail" }) {
                @if with_scenario {
                    td { a href={ (report.scenario.name) "/report.html" } { (report.scenario.name) } }
                }
                td { code { (v.key) } }
                td { code { (v.condition) } }
                td.num { (v.measured_text) }
                td { (badge(v.passed)) }
                td { (v.margin_text) }
            }
        }
    }
}

/// Cameras whose final state disagrees with the last click.
pub(super) fn lost_intents(lost: &[LostIntent]) -> Markup {
    html! {
        @if !lost.is_empty() {
            p { strong { "Lost intents" } " (final state disagrees with the last click):" }
            ul {
                @for l in lost {
                    li {
                        (l.camera) " — wanted "
                        (if l.intent_recording { "recording" } else { "stopped" })
                        ", differs on " (l.sites.join(", "))
                    }
                }
            }
        }
    }
}

/// The fault schedule as run.
pub(super) fn faults_table(faults: &[FaultReport]) -> Markup {
    html! {
        @if !faults.is_empty() {
            table {
                thead { tr { th { "fault" } th { "site" } th { "camera" } th { "from" } th { "to" } } }
                tbody {
                    @for f in faults {
                        tr {
                            td { (f.kind) }
                            td { (f.site.as_deref().unwrap_or("(engine)")) }
                            td { (f.camera.as_deref().unwrap_or("all")) }
                            td.num { (format_duration(f.start_ns)) }
                            td.num { (format_duration(f.end_ns)) }
                        }
                    }
                }
            }
        }
    }
}

/// Every statistics row: count and the time figures.
pub(super) fn stats_table(stats: &[StatRow]) -> Markup {
    html! {
        table.stats {
            thead {
                tr {
                    th { "metric" } th { "site" } th { "count" } th { "min" } th { "p50" } th { "p90" }
                    th { "p99" } th { "p99.9" } th { "max" } th { "mean" }
                }
            }
            tbody {
                @for r in stats {
                    tr {
                        td { code { (r.metric) } }
                        td { (r.site.as_deref().unwrap_or("all")) }
                        td.num { (r.count) }
                        @for v in [r.min_ns, r.p50_ns, r.p90_ns, r.p99_ns, r.p999_ns, r.max_ns, r.mean_ns] {
                            td.num { (opt_d(v)) }
                        }
                    }
                }
            }
        }
    }
}
