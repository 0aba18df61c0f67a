//! Human summaries of a run: the one-line [`headline`], the terminal table
//! ([`summary_text`]) and `summary.md` ([`summary_markdown`]); for a suite,
//! [`suite_summary_markdown`] (short enough for a pull-request comment: the
//! scenario table and the failures up front, every guarantee folded away).
//!
//! Plain text without colours (the CLI adds them):
//!
//! ```text
//! PASS  primary-down-mid-session  seed 7  42 sessions (3 open-ended)  5/5 guarantees hold
//!
//! guarantee               condition  measured  verdict
//! ----------------------- ---------- --------- --------------------------
//! dual_start_latency.p99  < 300ms    212.3ms   pass  87.7ms under the limit
//! ```

use std::fmt::Write as _;

use super::merge::SuiteReport;
use super::Report;

/// One line, no newline: `PASS  name  seed 7  42 sessions (3 open-ended)  5/5 guarantees hold`.
pub fn headline(report: &Report) -> String {
    let held = report.verdicts.iter().filter(|v| v.passed).count();
    format!(
        "{}  {}  seed {}  {} sessions ({} open-ended)  {}/{} guarantees hold",
        if report.passed { "PASS" } else { "FAIL" },
        report.scenario.name,
        report.scenario.seed,
        report.sessions.total,
        report.sessions.open_ended,
        held,
        report.verdicts.len()
    )
}

fn rows(report: &Report) -> Vec<[String; 4]> {
    report
        .verdicts
        .iter()
        .map(|v| {
            [
                v.key.clone(),
                v.condition.clone(),
                v.measured_text.clone(),
                format!(
                    "{}  {}",
                    if v.passed { "pass" } else { "FAIL" },
                    v.margin_text
                ),
            ]
        })
        .collect()
}

fn lost_line(report: &Report) -> Option<String> {
    if report.lost_intents.is_empty() {
        return None;
    }
    let cams: Vec<&str> = report
        .lost_intents
        .iter()
        .map(|l| l.camera.as_str())
        .collect();
    Some(format!("lost intents: {}", cams.join(", ")))
}

const HEADER: [&str; 4] = ["guarantee", "condition", "measured", "verdict"];

/// Headline plus an aligned guarantee table, ending in a newline.
pub fn summary_text(report: &Report) -> String {
    let mut out = headline(report);
    out.push('\n');
    if let Some(line) = lost_line(report) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');
    if report.verdicts.is_empty() {
        out.push_str("(no guarantees)\n");
        return out;
    }
    out.push_str(&terminal_table(&HEADER, rows(report)));
    out.push('\n');
    out
}

/// A plain aligned table (comfy-table): the header, a rule of dashes under
/// it, columns two spaces apart, no borders, no trailing spaces. No colours
/// and no terminal-width wrapping: the CLI colours it, and the text is the
/// same wherever it is printed.
pub fn terminal_table<R: Into<comfy_table::Row>>(
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> String {
    use comfy_table::{presets, Table, TableComponent};
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_style(TableComponent::HeaderLines, '-')
        // A drawn space between columns (presets treat ' ' as "not drawn").
        .set_style(TableComponent::VerticalLines, ' ')
        .set_header(header.to_vec())
        .add_rows(rows);
    let last = header.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, u16::from(i < last)));
    }
    table.trim_fmt()
}

/// `summary.md`: headline, guarantee table and the worst sessions, as
/// Markdown.
pub fn summary_markdown(report: &Report) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = format!("# {}\n\n", cell(&headline(report)));
    if !report.scenario.description.is_empty() {
        let _ = writeln!(out, "{}\n", report.scenario.description);
    }
    if let Some(line) = lost_line(report) {
        let _ = writeln!(out, "**{}**\n", cell(&line));
    }
    let _ = writeln!(out, "Replay: `{}`\n", report.replay_command());
    if report.verdicts.is_empty() {
        out.push_str("No guarantees.\n");
    } else {
        out.push_str("| guarantee | condition | measured | verdict |\n|---|---|---|---|\n");
        for row in rows(report) {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                cell(&row[0]),
                cell(&row[1]),
                cell(&row[2]),
                cell(&row[3])
            );
        }
    }
    if !report.worst_sessions.is_empty() {
        use crate::verdict::format_duration as d;
        let opt = |v: Option<u64>| v.map_or_else(|| "—".to_string(), d);
        out.push_str("\n## Worst sessions\n\n| camera | start | stop | union gap | dual start | worst orphan |\n|---|---|---|---|---|---|\n");
        for s in &report.worst_sessions {
            let _ = writeln!(
                out,
                "| {} | {} | {}{} | {} | {} | {} |",
                cell(&s.camera),
                d(s.start_ns),
                d(s.stop_ns),
                if s.open_ended { " (open)" } else { "" },
                d(s.union_gap_ns),
                opt(s.dual_start_latency_ns),
                d(s.worst_orphan_ns())
            );
        }
    }
    out
}

/// `summary.md` of a suite: a headline, one row per scenario, the failed
/// guarantees with their replay commands, and every scenario's guarantee
/// table inside a collapsed `<details>` block.
pub fn suite_summary_markdown(suite: &SuiteReport) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let t = &suite.totals;
    let mut out = format!(
        "# {} dualrec suite{}: {}/{} scenarios passed, {}/{} guarantees hold\n\n",
        if suite.passed { "PASS" } else { "FAIL" },
        suite
            .shard
            .as_ref()
            .map_or(String::new(), |s| format!(" (shard {s})")),
        t.scenarios_passed,
        t.scenarios,
        t.guarantees - t.guarantees_failed,
        t.guarantees
    );
    out.push_str("| scenario | verdict | guarantees | sessions |\n|---|---|---|---|\n");
    for r in &suite.reports {
        let held = r.verdicts.iter().filter(|v| v.passed).count();
        let _ = writeln!(
            out,
            "| `{}` | {} | {held}/{} | {} |",
            cell(&r.scenario.name),
            match (r.passed, r.flaky) {
                (true, true) => "pass, **flaky**",
                (true, false) => "pass",
                (false, _) => "**FAIL**",
            },
            r.verdicts.len(),
            r.sessions.total
        );
    }
    let failures: Vec<&Report> = suite.failures().collect();
    if !failures.is_empty() {
        out.push_str("\n## Failures\n\n| scenario | guarantee | condition | measured | margin |\n|---|---|---|---|---|\n");
        for r in &failures {
            for v in r.failures() {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | `{}` | {} | {} |",
                    cell(&r.scenario.name),
                    cell(&v.key),
                    cell(&v.condition),
                    cell(&v.measured_text),
                    cell(&v.margin_text)
                );
            }
        }
        out.push_str("\nReplay:\n\n```sh\n");
        for r in &failures {
            let _ = writeln!(out, "{}", r.replay_command());
        }
        out.push_str("```\n");
    }
    out.push_str("\n<details><summary>Every guarantee</summary>\n\n");
    for r in &suite.reports {
        let _ = writeln!(
            out,
            "### {} `{}`\n",
            if r.passed { "pass" } else { "FAIL" },
            cell(&r.scenario.name)
        );
        out.push_str("| guarantee | condition | measured | verdict |\n|---|---|---|---|\n");
        for row in rows(r) {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                cell(&row[0]),
                cell(&row[1]),
                cell(&row[2]),
                cell(&row[3])
            );
        }
        out.push('\n');
    }
    out.push_str("</details>\n");
    out
}

/// The end-of-run summary of every metric (not only those with guarantees),
/// one line each in the manner of k6:
///
/// ```text
/// dual_start_latency .............. count=42  min=15ms  p50=31ms  p90=45ms  p95=52ms  p99=80ms  max=81ms  mean=33.2ms
/// start_latency{site=primary} ..... count=42  …
/// lost_intents .................... 0
/// ```
pub fn every_metric_text(report: &Report) -> String {
    let name = |r: &super::StatRow| match &r.site {
        Some(s) => format!("{}{{site={s}}}", r.metric),
        None => r.metric.clone(),
    };
    let width = report
        .stats
        .iter()
        .map(|r| name(r).chars().count())
        .max()
        .unwrap_or(0)
        + 4;
    let d = |v: Option<u64>| v.map_or("-".to_string(), crate::verdict::format_duration);
    let mut out = String::new();
    for r in &report.stats {
        let label = name(r);
        let dots = ".".repeat(width - label.chars().count());
        let figures = if r.unit == "count" {
            r.count.to_string()
        } else if r.count == 0 {
            "count=0  (no samples)".to_string()
        } else {
            format!(
                "count={}  min={}  p50={}  p90={}  p95={}  p99={}  max={}  mean={}",
                r.count,
                d(r.min_ns),
                d(r.p50_ns),
                d(r.p90_ns),
                d(r.p95_ns),
                d(r.p99_ns),
                d(r.max_ns),
                d(r.mean_ns)
            )
        };
        let _ = writeln!(out, "{label} {dots} {figures}");
    }
    out
}
