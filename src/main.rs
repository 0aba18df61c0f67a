//! `dualrec`: the command line. Argument parsing, output folders, exit codes;
//! every decision of substance lives in the library crates.
//!
//! Exit codes: 0 every guarantee held, 1 a guarantee failed, 2 invalid input
//! or usage, 3 an internal or I/O error, 4 `dualrec accept` refused to run.

#[macro_use]
mod term;
mod cmd;
mod logging;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the simulator and the engine
/// allocate small, short-lived vectors (device lists of requests and
/// replies) by the million; glibc's allocator cost 12 % of a 10,000-camera
/// day and grew faster than the heap (free-chunk consolidation), mimalloc's
/// per-size pages keep that flat (see the README's performance section).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One click, two recorders: mirror manual recording across XProtect sites,
/// and prove it in simulation.
#[derive(Debug, Parser)]
#[command(name = "dualrec", version, about)]
struct Cli {
    /// Log lines on stderr as `text` or `json` (one object a line); default
    /// from DUALREC_LOG_FORMAT, else text. DUALREC_LOG sets the level.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<logging::LogFormat>,
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
    /// Read the sites' configuration, pair their cameras, write `[[camera]]` tables.
    Discover(cmd::discover::DiscoverArgs),
}

/// Process exit status, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed = 0,
    GuaranteeFailed = 1,
    InvalidInput = 2,
    Internal = 3,
    /// `dualrec accept` refused to run (a site failed preflight, or a test
    /// camera was already recording): nothing was tested.
    Refused = 4,
}

impl Outcome {
    /// The one of `self` and `other` with the higher exit code.
    pub fn max_by_code(self, other: Outcome) -> Outcome {
        if other as u8 > self as u8 {
            other
        } else {
            self
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match logging::format(cli.log_format) {
        Ok(format) => logging::init(format),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(Outcome::InvalidInput as u8);
        }
    }
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
        Command::Discover(args) => cmd::discover::run(args),
    };
    let outcome = outcome.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        Outcome::Internal
    });
    ExitCode::from(outcome as u8)
}
