//! `dualrec run FILE`: run one scenario, print its verdict, write its folder.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Deterministic virtual time (the default).
    Virtual,
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
}

pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let scenario = match harness::scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    let opts = harness::runner::RunOptions {
        seed: args.seed,
        trace: args.trace.is_some(),
    };
    let output = harness::runner::run_virtual(&scenario, &opts)?;
    let dir = args
        .out
        .unwrap_or_else(|| super::default_out_dir(&scenario.name));
    harness::output::write_run(&dir, &output)?;
    if let Some(path) = &args.trace {
        harness::output::write_trace(path, &output).context("writing the trace")?;
    }
    if args.quiet {
        println!("{}", harness::report::headline(&output.report));
    } else {
        print!("{}", harness::report::summary_text(&output.report));
        let t = &output.timing;
        println!(
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
