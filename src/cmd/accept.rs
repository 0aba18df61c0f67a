//! `dualrec accept --config FILE`: acceptance run against the live sites of
//! a site config (see `harness::accept`).
//!
//! Owns argument parsing, the tokio runtime, the output folder and the exit
//! code: 0 every criterion held (or `--dry-run`), 1 a criterion failed or
//! the run was interrupted, 2 invalid input, 3 an internal or I/O error,
//! 4 the run refused to start (preflight failed, or a test camera was
//! already recording) — nothing was tested, which is not a failed criterion. Log lines go to stderr with their UTC time.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use engine::core::Nanos;
use harness::accept::plan::{DrillMode, Overrides};
use harness::accept::{AcceptError, AcceptOptions, RemoteEngine, Status};

use crate::Outcome;

/// Acceptance run against live recorders: preflight, start/stop cycles
/// through the engine, footage read back, an optional fault drill, verdict.
#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Site config (the same file as `dualrec engine`), with an optional [acceptance] table.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Output folder (default reports/acceptance-<time>/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Who runs the acceptance (shown in the reports).
    #[arg(long, value_name = "NAME", default_value = "unnamed operator")]
    operator: String,
    /// Start/stop cycles (default 3, or [acceptance] cycles).
    #[arg(long, value_name = "N")]
    cycles: Option<u32>,
    /// How long each cycle records (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = engine::config::parse_duration)]
    session: Option<Nanos>,
    /// Pause between cycles (default 5s; keep it above the recorders' pre-buffer).
    #[arg(long, value_name = "DURATION", value_parser = engine::config::parse_duration)]
    pause: Option<Nanos>,
    /// Go on although a test camera is already recording: that camera is left out, never stopped.
    #[arg(long)]
    force: bool,
    /// Print the plan and exit without contacting any recorder.
    #[arg(long)]
    dry_run: bool,
    /// Click through a running `dualrec engine` at this URL instead of an in-process engine.
    #[arg(long, value_name = "URL", requires = "key_env")]
    engine: Option<String>,
    /// Environment variable holding the engine's API key (role write).
    #[arg(long, value_name = "VAR", requires = "engine")]
    key_env: Option<String>,
    /// Fault drill: `prompt` asks the operator to cut and restore a site; `hooks` runs --drill-cut/--drill-restore.
    #[arg(long, value_name = "prompt|hooks")]
    drill: Option<String>,
    /// Shell command that cuts the drill site off (implies --drill hooks).
    #[arg(long, value_name = "CMD", requires = "drill_restore")]
    drill_cut: Option<String>,
    /// Shell command that restores the drill site.
    #[arg(long, value_name = "CMD", requires = "drill_cut")]
    drill_restore: Option<String>,
    /// The site the drill cuts (default the last configured site).
    #[arg(long, value_name = "NAME")]
    drill_site: Option<String>,
}

fn invalid(message: impl std::fmt::Display) -> anyhow::Result<Outcome> {
    eprintln!("error: {message}");
    Ok(Outcome::InvalidInput)
}

pub fn run(args: AcceptArgs) -> anyhow::Result<Outcome> {
    let drill = match (args.drill.as_deref(), &args.drill_cut, &args.drill_restore) {
        (None, None, _) => None,
        (Some("prompt"), None, _) => Some(DrillMode::Prompt),
        (Some("hooks") | None, Some(cut), Some(restore)) => Some(DrillMode::Hooks {
            cut: cut.clone(),
            restore: restore.clone(),
        }),
        (Some("hooks"), None, _) => {
            return invalid("--drill hooks needs --drill-cut CMD and --drill-restore CMD")
        }
        (Some("prompt"), Some(_), _) => {
            return invalid("--drill prompt takes no --drill-cut/--drill-restore hooks")
        }
        (Some(other), _, _) => {
            return invalid(format!("--drill `{other}`: expected `prompt` or `hooks`"))
        }
        (None, Some(_), None) => return invalid("--drill-cut needs --drill-restore"),
    };
    let remote = match (&args.engine, &args.key_env) {
        (Some(url), Some(var)) => match std::env::var(var) {
            Ok(key) if !key.is_empty() => Some(RemoteEngine {
                url: url.clone(),
                key,
            }),
            _ => {
                return invalid(format!(
                    "environment variable {var} (named by --key-env) is not set; expected the engine's API key"
                ))
            }
        },
        _ => None,
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| super::default_out_dir("acceptance"));
    let opts = AcceptOptions {
        command_line: command_line(),
        config: args.config.clone(),
        out_dir,
        operator: args.operator.clone(),
        overrides: Overrides {
            cycles: args.cycles,
            session: args.session,
            pause: args.pause,
            drill,
            drill_site: args.drill_site.clone(),
        },
        force: args.force,
        dry_run: args.dry_run,
        remote,
        echo: Box::new(|line| eprintln!("{line}")),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let written_to = opts.out_dir.clone();
    let outcome = runtime.block_on(harness::accept::run(opts));
    match outcome {
        Ok(o) => Ok({
            // A refused or dry run may have written nothing.
            if written_to.is_dir() {
                super::mark_latest(&written_to);
            }
            match o.status {
                Status::Passed | Status::DryRun => Outcome::Passed,
                Status::Failed | Status::Interrupted => Outcome::GuaranteeFailed,
                Status::Refused(why) => {
                    eprintln!("acceptance refused: {why}");
                    Outcome::Refused
                }
            }
        }),
        Err(AcceptError::Invalid(e)) => invalid(e),
        Err(AcceptError::Internal(e)) => {
            eprintln!("error: {e}");
            Ok(Outcome::Internal)
        }
    }
}

/// This process's command line as a shell would take it back: what the
/// report names as the way to run the same acceptance again.
fn command_line() -> String {
    let mut args = std::env::args();
    let mut words = vec!["dualrec".to_owned()];
    args.next();
    words.extend(args.map(|a| shell_quote(&a)));
    words.join(" ")
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(super::shell_quote("--cycles"), "--cycles");
        assert_eq!(super::shell_quote("site.toml"), "site.toml");
        assert_eq!(super::shell_quote("Jane Doe"), "'Jane Doe'");
        assert_eq!(super::shell_quote("it's"), "'it'\\''s'");
        assert_eq!(super::shell_quote(""), "''");
    }
}
