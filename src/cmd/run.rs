//! `dualrec run FILE`: run one scenario, print its verdict, write its folder.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Deterministic virtual time (the default).
    Virtual,
    /// Wall-clock time: in-process mock sites over HTTP/SOAP on loopback and
    /// the tokio engine runtime.
    Real,
}

impl From<Mode> for harness::runner::Mode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Virtual => harness::runner::Mode::Virtual,
            Mode::Real => harness::runner::Mode::Real,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    file: PathBuf,
    #[arg(long, value_enum, default_value = "virtual")]
    mode: Mode,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default: reports/<name>-<time>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the run's raw history as JSON lines to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Print only the verdict line.
    #[arg(long, short)]
    quiet: bool,
    /// `json`: print report.json to stdout (and nothing else).
    #[arg(long, value_enum, default_value = "text")]
    format: super::report::Format,
}

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let scenario = match harness::scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    if args.mode == Mode::Real {
        if let Some(reason) = &scenario.virtual_only {
            eprintln!(
                "{}: virtual-only scenario, not run in real mode: {reason}",
                args.file.display()
            );
            return Ok(Outcome::InvalidInput);
        }
        if !scenario.real_mode_errors.is_empty() {
            for e in &scenario.real_mode_errors {
                eprintln!("{e}");
            }
            return Ok(Outcome::InvalidInput);
        }
        if !scenario.real_unchecked.is_empty() {
            eprintln!(
                "not checked in real mode (`real_unchecked`, virtual time only): {}",
                scenario.real_unchecked.join(", ")
            );
        }
    }
    let opts = harness::runner::RunOptions {
        seed: args.seed,
        trace: args.trace.is_some(),
        mode: args.mode.into(),
        // Real mode drives the engine the way a client does: this very
        // binary as `dualrec engine`, over its REST API.
        engine_binary: std::env::current_exe().ok(),
    };
    // A spinner for real-time runs (virtual runs take milliseconds).
    let spinner = super::report::spinner(
        format!("running {} in real time", scenario.name),
        args.mode == Mode::Real && super::report::progress_allowed(args.quiet, args.format),
    );
    let output = harness::runner::run(&scenario, &opts);
    spinner.finish_and_clear();
    let mut output = output?;
    output.report.scenario_file = Some(args.file.to_string_lossy().replace('\\', "/"));
    let dir = args
        .out
        .unwrap_or_else(|| super::default_out_dir(&scenario.name));
    harness::output::write_run(&dir, &output)?;
    super::mark_latest(&dir);
    if let Some(path) = &args.trace {
        harness::output::write_trace(path, &output).context("writing the trace")?;
    }
    if args.format == super::report::Format::Json {
        out!("{}", harness::report::to_json(&output.report));
    } else if args.quiet {
        outln!(
            "{}",
            crate::term::paint(&harness::report::headline(&output.report))
        );
    } else {
        out!(
            "{}",
            crate::term::paint(&harness::report::summary_text(&output.report))
        );
        // Every metric, guaranteed or not (the end-of-run summary).
        out!(
            "\nevery metric:\n{}",
            harness::report::every_metric_text(&output.report)
        );
        let t = &output.timing;
        outln!(
            "simulated {:.0} s in {:.3} s wall ({:.0}x real time, {:.0} steps/s); report in {}",
            t.simulated_seconds,
            t.wall_seconds,
            t.speedup,
            t.steps_per_second,
            dir.display()
        );
    }
    Ok(if output.report.passed {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}
