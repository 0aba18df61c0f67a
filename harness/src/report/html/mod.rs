//! `report.html`: one self-contained page per run ([`report_html`]) and per
//! suite ([`suite_html`]), written with maud, which escapes every value it
//! splices in; only the page's own constants (stylesheet, error probe) and
//! plotters' SVGs (which escape their own text) go in unescaped.
//!
//! Self-contained means: inline CSS, plots as inline SVG drawn by plotters
//! ([`super::plots`], [`super::timeline`]), system fonts only, no network
//! request of any kind. The only script is a few inline lines that record
//! JavaScript errors into `#render-status` (`data-errors="N"`), so that a
//! headless browser check can assert the page rendered cleanly; the page
//! does not need it.
//!
//! Order, for a reader with a minute: the verdict (every guarantee with its
//! threshold, the measured figure, pass/fail and by how much), the
//! scenario (description, seed, the exact replay command), then the
//! distributions (HDR percentile curves per site with a log-scaled tail,
//! histograms of site and union gaps), start and stop latency over the
//! run's time with the faults shaded, the worst sessions with their
//! timelines, and finally the full statistics table.
//!
//! The output is a pure function of the report: re-rendering a stored
//! `report.json` gives the same bytes.
//!
//! One file per part of the page: [`page`] (shell, badges, figures),
//! [`tables`], [`distributions`], [`over_time`], [`sessions`].

mod distributions;
mod over_time;
mod page;
mod sessions;
mod tables;

use maud::html;

use super::merge::SuiteReport;
use super::{headline, Report};
use crate::verdict::format_duration;
use distributions::distribution_sections;
use over_time::latency_over_time;
use page::{badge, page};
use sessions::worst_sessions;
use tables::{faults_table, lost_intents, stats_table, verdict_head, verdict_rows, verdict_table};

/// The page of one scenario run.
pub fn report_html(report: &Report) -> String {
    let held = report.verdicts.iter().filter(|v| v.passed).count();
    let s = &report.scenario;
    let body = html! {
        header {
            h1 { (badge(report.passed)) " " (s.name) }
            p.summary {
                (held) " of " (report.verdicts.len()) " guarantees hold · seed " (s.seed) " · "
                (report.sessions.total) " sessions (" (report.sessions.open_ended) " open-ended) · "
                (report.cameras) " cameras · sites " (report.sites.join(", "))
            }
        }
        section #verdict {
            h2 { "Verdict" }
            @if report.verdicts.is_empty() { p { "No guarantees stated." } }
            (verdict_table(report))
            (lost_intents(&report.lost_intents))
        }
        section #scenario {
            h2 { "Scenario" }
            @if !s.description.is_empty() { p { (s.description) } }
            dl.meta {
                dt { "seed" } dd { (s.seed) }
                dt { "duration" }
                dd { (format_duration(s.duration_ns)) " (+ " (format_duration(s.settle_ns)) " settle)" }
                dt { "mode" } dd { (s.mode) }
                dt { "tags" } dd { (s.tags.join(", ")) }
                dt { "faults" } dd { (report.faults.len()) }
                dt { "orphan grace" } dd { (format_duration(report.orphan_grace_ns)) }
            }
            p { "Replay this exact run:" }
            pre.replay { code { (report.replay_command()) } }
            (faults_table(&report.faults))
        }
        (distribution_sections(&report.histograms, &report.sites))
        (latency_over_time(report))
        (worst_sessions(report))
        section #statistics {
            h2 { "Statistics" }
            (stats_table(&report.stats))
        }
    };
    page(
        &format!("{} — dualrec", headline(report)),
        &report.schema,
        body,
    )
}

/// The page of a suite: every scenario's verdict, links to the scenario
/// pages (`<name>/report.html`), and the distributions over the whole suite.
pub fn suite_html(suite: &SuiteReport) -> String {
    let t = &suite.totals;
    let title = format!(
        "{} suite{}: {}/{} scenarios passed — dualrec",
        if suite.passed { "PASS" } else { "FAIL" },
        suite
            .shard
            .as_ref()
            .map_or(String::new(), |s| format!(" (shard {s})")),
        t.scenarios_passed,
        t.scenarios
    );
    let failures: Vec<Report> = suite
        .failures()
        .map(|r| Report {
            verdicts: r.failures().cloned().collect(),
            ..r.clone()
        })
        .collect();
    let mut sites: Vec<String> = suite
        .aggregate
        .histograms
        .iter()
        .filter_map(|b| b.site.clone())
        .collect();
    sites.sort();
    sites.dedup();
    let replays: String = failures
        .iter()
        .map(|r| format!("{}\n", r.replay_command()))
        .collect();
    let body = html! {
        header {
            h1 {
                (badge(suite.passed)) " dualrec suite"
                @if let Some(shard) = &suite.shard { ", shard " (shard) }
            }
            p.summary {
                (t.scenarios_passed) " of " (t.scenarios) " scenarios passed · "
                (t.guarantees - t.guarantees_failed) " of " (t.guarantees) " guarantees hold · "
                (t.sessions) " sessions"
                @if t.flaky > 0 { " · " (t.flaky) " flaky (passed on a retry)" }
            }
        }
        section #verdict {
            h2 { "Verdict" }
            table.scenarios {
                thead {
                    tr {
                        th { "scenario" } th { "result" } th { "guarantees" } th { "seed" }
                        th { "sessions" } th { "description" }
                    }
                }
                tbody {
                    @for r in &suite.reports {
                        tr class=(if r.passed { "pass-row" } else { "fail" }) {
                            td { a href={ (r.scenario.name) "/report.html" } { (r.scenario.name) } }
                            td {
                                (badge(r.passed))
                                @if r.flaky {
                                    " " span.badge.flaky title={ "passed on attempt " (r.attempts.unwrap_or(2)) } { "FLAKY" }
                                }
                            }
                            td.num { (r.verdicts.iter().filter(|v| v.passed).count()) "/" (r.verdicts.len()) }
                            td.num { (r.scenario.seed) }
                            td.num { (r.sessions.total) }
                            td { (r.scenario.description) }
                        }
                    }
                }
            }
            @if !failures.is_empty() {
                h3 { "Failed guarantees" }
                table.verdicts {
                    (verdict_head(true))
                    tbody { @for r in &failures { (verdict_rows(r, true)) } }
                }
                p { "Replay the failures:" }
                pre.replay { code { (replays) } }
            }
            details open[!failures.is_empty()] {
                summary { "Every guarantee (" (t.guarantees) ")" }
                table.verdicts {
                    (verdict_head(true))
                    tbody { @for r in &suite.reports { (verdict_rows(r, true)) } }
                }
            }
        }
        p.muted {
            "Distributions below are over every scenario of the suite, merged exactly from the scenarios' histograms; sites are matched by name."
        }
        (distribution_sections(&suite.aggregate.histograms, &sites))
        section #statistics {
            h2 { "Statistics over the suite" }
            (stats_table(&suite.aggregate.stats))
        }
    };
    page(&title, &suite.schema, body)
}
