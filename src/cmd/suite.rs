//! `dualrec suite DIR`: run every selected scenario of a folder.

use std::path::PathBuf;

use clap::Args;

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
    /// Output folder (default: reports/suite-<time>/), one sub-folder per scenario.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print only one line per scenario.
    #[arg(long, short)]
    quiet: bool,
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
    let out = args.out.unwrap_or_else(|| super::default_out_dir("suite"));
    let mut reports = Vec::new();
    let mut wall = 0.0;
    for (_, scenario) in &scenarios {
        let output = harness::runner::run_virtual(scenario, &Default::default())?;
        harness::output::write_run(&out.join(&scenario.name), &output)?;
        wall += output.timing.wall_seconds;
        if args.quiet {
            println!("{}", harness::report::headline(&output.report));
        } else {
            print!("{}", harness::report::summary_text(&output.report));
            println!();
        }
        reports.push(output.report);
    }
    let failed: Vec<_> = reports.iter().filter(|r| !r.passed).collect();
    harness::output::write_suite(&out, &reports)?;
    println!(
        "suite: {} scenarios, {} passed, {} failed ({:.2} s of simulation); reports in {}",
        reports.len(),
        reports.len() - failed.len(),
        failed.len(),
        wall,
        out.display()
    );
    for r in &failed {
        println!("  FAILED {}", r.scenario.name);
    }
    Ok(if failed.is_empty() {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}
