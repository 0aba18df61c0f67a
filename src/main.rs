//! `dualrec`: the command line. Argument parsing, output folders, exit codes;
//! every decision of substance lives in the library crates.
//!
//! Exit codes: 0 every guarantee held, 1 a guarantee failed, 2 invalid input
//! or usage, 3 an internal or I/O error.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// One click, two recorders: mirror manual recording across XProtect sites,
/// and prove it in simulation.
#[derive(Debug, Parser)]
#[command(name = "dualrec", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scenario and check its guarantees.
    Run(cmd::run::RunArgs),
    /// Run every scenario of a folder.
    Suite(cmd::suite::SuiteArgs),
    /// Check scenario files without running them.
    Validate(cmd::validate::ValidateArgs),
    /// Search random fault schedules for guarantee violations and shrink them.
    Explore(cmd::explore::ExploreArgs),
    /// A standalone mock XProtect site.
    Recorder(cmd::recorder::RecorderArgs),
    /// The mirroring engine as a service.
    Engine(cmd::engine::EngineArgs),
    /// Recompute every metric and verdict from a run's trace (an independent checker).
    Check(cmd::check::CheckArgs),
    /// Merge or re-render reports.
    Report(cmd::report::ReportArgs),
    /// Acceptance run against live recorders.
    Accept(cmd::accept::AcceptArgs),
}

/// Process exit status, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed = 0,
    GuaranteeFailed = 1,
    InvalidInput = 2,
    Internal = 3,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DUALREC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => cmd::run::run(args),
        Command::Suite(args) => cmd::suite::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Explore(args) => cmd::explore::run(args),
        Command::Recorder(args) => cmd::recorder::run(args),
        Command::Engine(args) => cmd::engine::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Accept(args) => cmd::accept::run(args),
    };
    let outcome = outcome.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        Outcome::Internal
    });
    ExitCode::from(outcome as u8)
}
