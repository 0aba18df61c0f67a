//! `dualrec suite DIR`: run every selected scenario of a folder (or this
//! machine's shard of them) and write the suite folder: one sub-folder per
//! scenario, plus `suite.json`, `junit.xml`, `summary.md` and `report.html`.
//!
//! A progress bar shows on a terminal; `--quiet` prints one line per
//! scenario; `--format json` prints `suite.json` to stdout and nothing else.

use std::path::PathBuf;

use clap::Args;
use harness::shard::Shard;

use super::report::{progress_allowed, progress_bar, Format};
use crate::Outcome;

#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// Folder of scenario files (`*.toml`).
    dir: PathBuf,
    /// Only scenarios whose name or file name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Only scenarios with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Include sub-folders (e.g. bench scenarios).
    #[arg(long)]
    recursive: bool,
    /// Run only shard I of N (1-based): the selected scenarios in path order,
    /// scenario k going to shard k mod N + 1. Merge shards with `dualrec report merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Output folder (default: reports/suite-<time>/), one sub-folder per scenario.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print only one line per scenario.
    #[arg(long, short)]
    quiet: bool,
    /// `real` runs every scenario on the wall clock against in-process mock
    /// sites over HTTP (virtual-only scenarios are skipped, and said so).
    #[arg(long, value_enum, default_value = "virtual")]
    mode: super::run::Mode,
    /// `json`: print suite.json to stdout (and nothing else).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// List the selected scenarios (file, name, tags) and run nothing.
    #[arg(long)]
    list: bool,
    /// Stop at the first scenario with a failed guarantee (the suite's files
    /// then hold the scenarios run so far).
    #[arg(long, alias = "abort-on-fail")]
    fail_fast: bool,
    /// Real mode: run a failed scenario again up to N times; a pass on a
    /// retry is reported as flaky (never as a plain pass). Virtual runs are
    /// deterministic, so retries are refused there.
    #[arg(long, default_value_t = 0, value_name = "N")]
    retries: u32,
}

pub fn run(args: SuiteArgs) -> anyhow::Result<Outcome> {
    let files = harness::suite::discover(&args.dir, args.recursive)?;
    let selection = harness::suite::Selection {
        filter: args.filter,
        tag: args.tag,
        recursive: args.recursive,
    };
    let scenarios = match harness::suite::load(&files, &selection) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return Ok(Outcome::InvalidInput);
        }
    };
    if scenarios.is_empty() {
        eprintln!(
            "no scenario in {} matches the selection",
            args.dir.display()
        );
        return Ok(Outcome::InvalidInput);
    }
    let scenarios = match args.shard {
        Some(shard) => shard.select(scenarios),
        None => scenarios,
    };
    if args.list {
        for (path, s) in &scenarios {
            outln!("{}  {}  [{}]", path.display(), s.name, s.tags.join(", "));
        }
        return Ok(Outcome::Passed);
    }
    if args.mode == super::run::Mode::Real {
        // A real run that would check less than a scenario claims is
        // refused before anything runs (virtual-only scenarios are skipped).
        let errors: Vec<&String> = scenarios
            .iter()
            .filter(|(_, s)| s.virtual_only.is_none())
            .flat_map(|(_, s)| &s.real_mode_errors)
            .collect();
        if !errors.is_empty() {
            for e in errors {
                eprintln!("{e}");
            }
            return Ok(Outcome::InvalidInput);
        }
    }
    if args.retries > 0 && args.mode != super::run::Mode::Real {
        eprintln!("--retries applies to real mode only: a virtual run is deterministic, a retry gives the same result");
        return Ok(Outcome::InvalidInput);
    }
    let text = args.format == Format::Text;
    let out = args.out.unwrap_or_else(|| super::default_out_dir("suite"));
    let bar = progress_bar(
        scenarios.len() as u64,
        progress_allowed(args.quiet, args.format),
    );
    let mut reports = Vec::new();
    // Per scenario: wall seconds and the failed attempts before the last.
    let mut attempts: std::collections::BTreeMap<String, (f64, Vec<harness::report::Report>)> =
        Default::default();
    let mut flaky = Vec::new();
    let mut wall = 0.0;
    let opts = harness::runner::RunOptions {
        mode: args.mode.into(),
        // Real mode drives the engine the way a client does: this very
        // binary as `dualrec engine`, over its REST API.
        engine_binary: std::env::current_exe().ok(),
        ..Default::default()
    };
    for (path, scenario) in &scenarios {
        if args.mode == super::run::Mode::Real {
            if let Some(reason) = &scenario.virtual_only {
                bar.suspend(|| eprintln!("skipped {} (virtual-only: {reason})", scenario.name));
                bar.inc(1);
                continue;
            }
        }
        bar.set_message(scenario.name.clone());
        let mut earlier = Vec::new();
        let mut output = harness::runner::run(scenario, &opts)?;
        while !output.report.passed && (earlier.len() as u32) < args.retries {
            bar.suspend(|| {
                eprintln!(
                    "retrying {} (attempt {} failed)",
                    scenario.name,
                    earlier.len() + 1
                )
            });
            let again = harness::runner::run(scenario, &opts)?;
            earlier.push(std::mem::replace(&mut output, again).report);
        }
        output.report.scenario_file = Some(path.to_string_lossy().replace('\\', "/"));
        // Recorded in report.json and suite.json, not only on the terminal.
        output.report.record_attempts(earlier.len() as u32 + 1);
        if output.report.passed && !earlier.is_empty() {
            flaky.push(format!(
                "{} (passed on attempt {}, after {} failed)",
                scenario.name,
                earlier.len() + 1,
                earlier.len()
            ));
        }
        harness::output::write_run(&out.join(&scenario.name), &output)?;
        wall += output.timing.wall_seconds;
        if text {
            let shown = if args.quiet {
                harness::report::headline(&output.report) + "\n"
            } else {
                harness::report::summary_text(&output.report) + "\n"
            };
            bar.suspend(|| out!("{}", crate::term::paint(&shown)));
        }
        bar.inc(1);
        let failed = !output.report.passed;
        attempts.insert(scenario.name.clone(), (output.timing.wall_seconds, earlier));
        reports.push(output.report);
        if failed && args.fail_fast {
            bar.suspend(|| eprintln!("stopping at the first failure (--fail-fast)"));
            break;
        }
    }
    bar.finish_and_clear();
    let suite =
        harness::report::SuiteReport::from_reports(reports, args.shard.map(|s| s.to_string()))?;
    harness::output::write_suite_files(&out, &suite, harness::output::Renderings::ALL)?;
    let runs: Vec<harness::report::JunitRun> = suite
        .reports
        .iter()
        .map(|report| {
            let (wall, earlier) = attempts
                .get(&report.scenario.name)
                .map_or((None, &[][..]), |(w, e)| (Some(*w), e.as_slice()));
            harness::report::JunitRun {
                report,
                wall_seconds: wall,
                earlier,
            }
        })
        .collect();
    harness::output::write_suite_junit(&out, &runs)?;
    super::mark_latest(&out);
    if !text {
        out!("{}", harness::report::merge::suite_json(&suite));
    } else {
        let t = &suite.totals;
        outln!(
            "{}",
            crate::term::paint(&format!(
                "suite{}: {} scenarios, {} passed, {} failed ({:.2} s of simulation); reports in {}",
                args.shard.map_or(String::new(), |s| format!(" shard {s}")),
                t.scenarios,
                t.scenarios_passed,
                t.scenarios_failed,
                wall,
                out.display()
            ))
        );
        for r in suite.failures() {
            outln!(
                "{}",
                crate::term::paint(&format!("  FAILED {}", r.scenario.name))
            );
        }
        for f in &flaky {
            outln!("{}", crate::term::paint(&format!("  FLAKY {f}")));
        }
    }
    Ok(if suite.passed {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}
