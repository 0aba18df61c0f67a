//! `dualrec validate FILE...`: parse and validate scenario files.

use std::path::PathBuf;

use clap::Args;

use crate::Outcome;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::Passed;
    for file in &args.files {
        match harness::scenario::load(file) {
            Ok(s) => outln!(
                "ok    {}  ({}, {} guarantees)",
                file.display(),
                s.name,
                s.guarantees.len()
            ),
            Err(e) => {
                eprintln!("{e}");
                outcome = Outcome::InvalidInput;
            }
        }
    }
    Ok(outcome)
}
