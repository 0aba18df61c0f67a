//! `dualrec report merge|render`: put shard reports back together, and
//! re-render stored reports; plus the terminal helpers every subcommand
//! shares (output format, colours, progress bars).
//!
//! - `dualrec report merge OUT A.json B.json …` reads shard `suite.json`
//!   files (or single `report.json` files), merges them exactly
//!   (`harness::report::merge`) and writes the whole suite folder into `OUT`:
//!   `suite.json`, `junit.xml`, `summary.md`, `report.html` and one folder per
//!   scenario. Exit code: the merged verdict (0 all held, 1 a guarantee
//!   failed), 2 for unreadable or unmergeable input. Given the
//!   `explore.json` files of an explorer's shards instead, it merges the
//!   exploration (`explore_merge.rs`).
//! - `dualrec report render FILE [--out DIR]` re-renders `report.html`,
//!   `summary.md` and `junit.xml` from a stored `report.json` or
//!   `suite.json` (into the file's folder unless `--out`). Exit code 0 once
//!   written: rendering checks nothing.
//!
//! Terminal conventions: colours only when stdout is a terminal and
//! `NO_COLOR` is unset or empty (`crate::term`, through anstream);
//! progress bars only on a terminal, never with `--quiet` or `--format json`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use harness::explore::summary::{Summary as ExploreSummary, SCHEMA as EXPLORE_SCHEMA};
use harness::output::{self, Renderings};
use harness::report::{self, Report, SuiteReport, SCHEMA, SUITE_SCHEMA};

use crate::Outcome;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Merge shard reports (`suite.json` or `report.json`) into one suite
    /// folder, or explorer shards (`explore.json`) into one exploration.
    Merge {
        /// Output folder of the merged suite or exploration.
        out: PathBuf,
        /// Shard reports: `suite.json` of `dualrec suite --shard I/N`, single `report.json` files, or `explore.json` of `dualrec explore --shard I/M`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// `json`: print the merged suite.json to stdout.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Re-render report.html, summary.md and junit.xml from a report.json or suite.json.
    Render {
        /// A `report.json` or `suite.json`.
        file: PathBuf,
        /// Output folder (default: the file's folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only these renderings (comma-separated).
        #[arg(long, value_enum, value_delimiter = ',')]
        only: Vec<Rendering>,
        /// For a suite.json: only the suite's own files, not one folder per scenario.
        #[arg(long)]
        no_scenarios: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Rendering {
    Html,
    Md,
    Junit,
}

/// Output format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Human text (tables, coloured on a terminal).
    #[default]
    Text,
    /// The report as JSON (report.json / suite.json), nothing else on stdout.
    Json,
}

pub fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    match args.command {
        ReportCommand::Merge {
            out,
            inputs,
            quiet,
            format,
        } => merge(&out, &inputs, quiet, format),
        ReportCommand::Render {
            file,
            out,
            only,
            no_scenarios,
        } => render(&file, out, &only, no_scenarios),
    }
}

/// A stored report of any kind.
pub(crate) enum Loaded {
    Scenario(Box<Report>),
    Suite(Box<SuiteReport>),
    Explore(Box<ExploreSummary>),
}

/// Reads a `report.json` or `suite.json`; `Err` carries a message for the
/// user (exit code 2).
pub(crate) fn load(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let schema = value
        .get("schema")
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_string();
    drop(value);
    let bad =
        |e: serde_json::Error| format!("{}: not a valid {schema} document: {e}", path.display());
    match schema.as_str() {
        SCHEMA => Ok(Loaded::Scenario(Box::new(
            serde_json::from_str(&text).map_err(bad)?,
        ))),
        SUITE_SCHEMA => Ok(Loaded::Suite(Box::new(
            serde_json::from_str(&text).map_err(bad)?,
        ))),
        EXPLORE_SCHEMA => Ok(Loaded::Explore(Box::new(
            serde_json::from_str(&text).map_err(bad)?,
        ))),
        other => Err(format!(
            "{}: unsupported schema `{other}`, expected `{SCHEMA}`, `{SUITE_SCHEMA}` or `{EXPLORE_SCHEMA}`",
            path.display()
        )),
    }
}

fn merge(out: &Path, inputs: &[PathBuf], quiet: bool, format: Format) -> anyhow::Result<Outcome> {
    if let Some(first) = inputs.first() {
        if matches!(load(first), Ok(Loaded::Explore(_))) {
            return super::explore_merge::merge(out, inputs, quiet, format);
        }
    }
    let mut parts = Vec::new();
    for path in inputs {
        match load(path) {
            Ok(Loaded::Explore(_)) => {
                eprintln!(
                    "{}: an explorer's explore.json does not merge with suite reports",
                    path.display()
                );
                return Ok(Outcome::InvalidInput);
            }
            Ok(Loaded::Suite(s)) => parts.push(*s),
            Ok(Loaded::Scenario(r)) => match SuiteReport::from_reports(vec![*r], None) {
                Ok(s) => parts.push(s),
                Err(e) => {
                    eprintln!("{}: {e}", path.display());
                    return Ok(Outcome::InvalidInput);
                }
            },
            Err(msg) => {
                eprintln!("{msg}");
                return Ok(Outcome::InvalidInput);
            }
        }
    }
    let suite = match report::merge(parts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot merge: {e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    output::write_suite_tree(out, &suite, Renderings::ALL)?;
    match format {
        Format::Json => out!("{}", report::merge::suite_json(&suite)),
        Format::Text if !quiet => {
            outln!(
                "{}",
                crate::term::paint(&format!(
                    "{}  merged {} reports: {} scenarios, {} passed, {} failed; suite in {}",
                    if suite.passed { "PASS" } else { "FAIL" },
                    inputs.len(),
                    suite.totals.scenarios,
                    suite.totals.scenarios_passed,
                    suite.totals.scenarios_failed,
                    out.display()
                ))
            );
            for r in suite.failures() {
                outln!(
                    "{}",
                    crate::term::paint(&format!("  FAILED {}", r.scenario.name))
                );
            }
        }
        Format::Text => {}
    }
    Ok(if suite.passed {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}

fn render(
    file: &Path,
    out: Option<PathBuf>,
    only: &[Rendering],
    no_scenarios: bool,
) -> anyhow::Result<Outcome> {
    let loaded = match load(file) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("{msg}");
            return Ok(Outcome::InvalidInput);
        }
    };
    let dir = out.unwrap_or_else(|| {
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let all = only.is_empty();
    let which = Renderings {
        json: false,
        html: all || only.contains(&Rendering::Html),
        markdown: all || only.contains(&Rendering::Md),
        junit: all || only.contains(&Rendering::Junit),
    };
    match loaded {
        Loaded::Scenario(r) => output::write_report_files(&dir, &r, which).and_then(|()| {
            // The run's wall time, when its timing.json sits beside the
            // report, goes back into junit.xml's time attributes.
            let wall = file
                .parent()
                .map(|p| p.join("timing.json"))
                .and_then(|t| std::fs::read_to_string(t).ok())
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|t| t["wall_seconds"].as_f64());
            match wall {
                Some(w) if which.junit => output::write_suite_junit(
                    &dir,
                    &[report::JunitRun {
                        report: &r,
                        wall_seconds: Some(w),
                        earlier: &[],
                    }],
                ),
                _ => Ok(()),
            }
        }),
        Loaded::Suite(s) if no_scenarios => output::write_suite_files(&dir, &s, which),
        Loaded::Suite(s) => output::write_suite_tree(&dir, &s, which),
        Loaded::Explore(_) => {
            eprintln!(
                "{}: an explorer's explore.json has no renderings; each finding's folder holds its report.json",
                file.display()
            );
            return Ok(Outcome::InvalidInput);
        }
    }
    .with_context(|| format!("rendering {}", file.display()))?;
    outln!("rendered {} into {}", file.display(), dir.display());
    Ok(Outcome::Passed)
}

/// Whether progress bars may be drawn: stdout is a terminal and the output
/// is human text that is not `--quiet`.
pub fn progress_allowed(quiet: bool, format: Format) -> bool {
    !quiet && format == Format::Text && std::io::stdout().is_terminal()
}

/// A progress bar of `len` steps on stdout, or a hidden one when not allowed.
pub fn progress_bar(len: u64, allowed: bool) -> indicatif::ProgressBar {
    if !allowed {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stdout(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A spinner for work of unknown length (real-time runs), or a hidden one.
pub fn spinner(message: String, allowed: bool) -> indicatif::ProgressBar {
    if !allowed {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
    {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
