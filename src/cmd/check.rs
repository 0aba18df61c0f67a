//! `dualrec check TRACE.jsonl [--guarantees SCENARIO] [--format json]
//! [--compare REPORT.json]`: recompute every metric and verdict from a trace
//! alone, with the independent checker (`harness::check`).
//!
//! Exit codes: 0 every guarantee held (and, with `--compare`, the figures
//! equal the report's), 1 a guarantee failed or the figures differ, 2 an
//! unreadable trace, scenario or report, 3 I/O.

use std::path::PathBuf;

use clap::Args;
use harness::check;

use super::report::Format;
use crate::Outcome;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The trace of a run (`dualrec run FILE --trace TRACE.jsonl`).
    trace: PathBuf,
    /// A scenario file whose `[guarantees]` (and `orphan_grace`) to check.
    #[arg(long, value_name = "SCENARIO")]
    guarantees: Option<PathBuf>,
    /// A `report.json` of the same run: every `stats` row and `passed` must be equal.
    #[arg(long, value_name = "REPORT")]
    compare: Option<PathBuf>,
    /// `json`: print the figures (`stats` rows as in report.json, `passed`, verdicts).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reading {}: {e}", args.trace.display());
            return Ok(Outcome::Internal);
        }
    };
    let history = match check::history::read(&text, &args.trace.display().to_string()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    let (guarantees, grace) = match &args.guarantees {
        None => (Vec::new(), check::samples::DEFAULT_ORPHAN_GRACE),
        Some(path) => match harness::scenario::load(path) {
            Ok(s) => (s.guarantees, s.orphan_grace),
            Err(e) => {
                eprintln!("{e}");
                return Ok(Outcome::InvalidInput);
            }
        },
    };
    let checked = check::check(&history, &guarantees, grace);
    let mut differences = Vec::new();
    if let Some(path) = &args.compare {
        let report: serde_json::Value = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("reading {}: {e}", path.display());
                return Ok(Outcome::InvalidInput);
            }
        };
        differences = check::differences(&checked, &report);
    }
    if args.format == Format::Json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&checked).expect("checker output serializes")
        );
    } else {
        out!("{}", crate::term::paint(&text_summary(&checked)));
    }
    for d in &differences {
        eprintln!("DIFFERS {d}");
    }
    if args.compare.is_some() && differences.is_empty() {
        eprintln!("every figure equals the report's");
    }
    Ok(if checked.passed && differences.is_empty() {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}

fn text_summary(c: &check::Checked) -> String {
    let mut out = format!(
        "checked a trace of {} cameras on {}: {}\n",
        c.cameras,
        c.sites.join(", "),
        if c.passed { "PASSED" } else { "FAILED" }
    );
    for v in &c.verdicts {
        let is_count = v.key.ends_with(".count");
        let measured = match v.measured {
            None => "n/a".to_string(),
            Some(m) if is_count => format!("{m}"),
            Some(m) => engine::duration::format_duration(m.round() as u64),
        };
        out.push_str(&format!(
            "  {} {} {}: measured {}{}\n",
            if v.passed { "PASS" } else { "FAIL" },
            v.key,
            v.condition,
            measured,
            v.problem
                .as_deref()
                .map_or(String::new(), |p| format!(" ({p})"))
        ));
    }
    out
}
