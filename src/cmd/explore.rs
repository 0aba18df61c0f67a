//! `dualrec explore FILE --runs N`: random fault schedules from a base
//! scenario, on every core, each violation shrunk and written as a scenario
//! file (plus the report of its run). Exit 0 when nothing was found, 1 when
//! a guarantee was violated, 2 on bad input.
//!
//! `--shard I/M` tries only the worlds `i` with `i mod M == I-1` of the run;
//! `dualrec report merge OUT DIR1/explore.json …` (`report.rs`) unites the
//! shards' folders into the one a single machine would have written.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use clap::Args;
use harness::explore::summary::{FindingSummary, Summary};
use harness::explore::{self, Config, Exploration, FaultRule, Knobs};
use harness::scenario::{self, Scenario};
use harness::shard::Shard;

use crate::Outcome;

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The base scenario: its sites, cameras, duration, policy and (the
    /// fault-proof part of) its guarantees.
    file: PathBuf,
    /// Worlds to generate and run.
    #[arg(long, default_value_t = 1000)]
    runs: u64,
    /// Explorer seed; the same seed finds the same violations.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: every core). Does not change the findings.
    #[arg(long)]
    threads: Option<usize>,
    /// Scales the number of faults, sessions and click races.
    #[arg(long, default_value_t = 1.0)]
    intensity: f64,
    /// Drop the "at least one site healthy at every instant" rule: every
    /// site may be out at once. Only `lost_intents.count == 0` (which
    /// includes orphans left after the settle period) is checked then.
    #[arg(long, alias = "unsafe-faults")]
    allow_total_outage: bool,
    /// Check the base's own recovery bounds as written, also where tighter
    /// than the explorer's (3 s plus three trips at the slowest site's p99).
    /// By default a tighter bound is taken as measured against the base's
    /// own faults and loosened to the explorer's.
    #[arg(long)]
    base_bounds: bool,
    /// Shrinking budget: runs per finding.
    #[arg(long, default_value_t = 3000)]
    shrink_runs: usize,
    /// Only shard I of M: the worlds i with i mod M == I-1 (merge the
    /// shards' explore.json with `dualrec report merge`).
    #[arg(long, value_name = "I/M")]
    shard: Option<Shard>,
    /// Output folder (default: reports/explore-<time>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: ExploreArgs) -> anyhow::Result<Outcome> {
    let base = match scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    // Shards merge only when they explored the same base file.
    let base_sha256 = sha256_hex(
        &fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?,
    );
    if !(args.intensity.is_finite() && args.intensity > 0.0) {
        eprintln!(
            "--intensity is {}; expected a positive number like 1.0",
            args.intensity
        );
        return Ok(Outcome::InvalidInput);
    }
    if args.runs == 0 || args.threads == Some(0) {
        eprintln!("--runs and --threads must be at least 1");
        return Ok(Outcome::InvalidInput);
    }
    let rule = if args.allow_total_outage {
        FaultRule::AnyOutage
    } else {
        FaultRule::OneSiteHealthy
    };
    let cfg = Config {
        runs: args.runs,
        seed: args.seed,
        threads: args.threads.unwrap_or_else(|| Config::default().threads),
        knobs: Knobs {
            intensity: args.intensity,
            rule,
            base_bounds: args.base_bounds,
        },
        shrink_budget: args.shrink_runs,
        // The engine's warnings about injected faults only when asked for.
        quiet: std::env::var_os("DUALREC_LOG").is_none(),
        shard: args.shard,
        ..Config::default()
    };
    let checked: Vec<String> = explore::generate::guarantees(&base, &base.sites, cfg.knobs)
        .iter()
        .map(|g| format!("{} {}", g.key, g.condition))
        .collect();
    let part = match cfg.shard {
        None => String::new(),
        Some(s) => format!(
            "shard {s}: the {} worlds i with i mod {} == {} of ",
            explore::world_indices(&cfg).count(),
            s.count,
            s.index - 1
        ),
    };
    outln!(
        "exploring {part}{} worlds from `{}` (seed {}, {} threads, intensity {}); rule: {}; checking {}",
        cfg.runs,
        base.name,
        cfg.seed,
        cfg.threads,
        cfg.knobs.intensity,
        match rule {
            FaultRule::OneSiteHealthy => "one site healthy at every instant",
            FaultRule::AnyOutage => "any outage (all sites may fail at once)",
        },
        checked.join(", ")
    );

    let tenth = AtomicU64::new(0);
    let runs = explore::world_indices(&cfg).count() as u64;
    let result = explore::explore(&base, &cfg, |done| {
        let t = done * 10 / runs;
        if t > tenth.fetch_max(t, Ordering::Relaxed) && t < 10 {
            eprintln!("  {done}/{runs} worlds");
        }
    });

    let dir = args
        .out
        .unwrap_or_else(|| super::default_out_dir("explore"));
    let written = write(&dir, &base, &base_sha256, &cfg, &result)?;
    super::mark_latest(&dir);
    print_summary(&result, &cfg, &written, &dir);
    Ok(if result.findings.is_empty() {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}

/// Writes each finding's minimal scenario (checked to parse back to the
/// same scenario), its original world, its report, and `explore.json`.
fn write(
    dir: &Path,
    base: &Scenario,
    base_sha256: &str,
    cfg: &Config,
    result: &Exploration,
) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut summary = Vec::new();
    for f in &result.findings {
        let stem = f.minimal.name.clone();
        let path = dir.join(format!("{stem}.toml"));
        let text = explore::to_toml(&f.minimal)?;
        let back = scenario::parse(&text, &path.display().to_string())
            .with_context(|| format!("the written reproducer {} does not parse", path.display()))?;
        anyhow::ensure!(
            explore::write::as_written(&back) == explore::write::as_written(&f.minimal),
            "the written reproducer {} does not read back as the same scenario",
            path.display()
        );
        fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        let original = dir.join(format!("{stem}.original.toml"));
        fs::write(&original, explore::to_toml(&f.original)?)
            .with_context(|| format!("writing {}", original.display()))?;
        let report = explore::report(&f.minimal, cfg.sabotage)?;
        let run_dir = dir.join(&stem);
        fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
        fs::write(
            run_dir.join("report.json"),
            harness::report::to_json(&report),
        )
        .with_context(|| format!("writing {}/report.json", run_dir.display()))?;
        let verdict = report.verdicts.iter().find(|v| v.key == f.key);
        summary.push(FindingSummary::new(f, verdict));
        written.push(path);
    }
    let summary = Summary::new(&base.name, base_sha256, cfg, result, summary);
    let path = dir.join("explore.json");
    fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(written)
}

/// Lower-case hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn print_summary(r: &Exploration, cfg: &Config, written: &[PathBuf], dir: &Path) {
    outln!(
        "tried {} worlds in {:.1} s: {:.0} worlds/s on {} thread(s) ({:.2} M steps/s); {} violating worlds, {} distinct violations",
        r.worlds_tried,
        r.explore_seconds,
        r.runs_per_second(),
        cfg.threads,
        r.steps as f64 / r.explore_seconds.max(1e-9) / 1e6,
        r.violating_runs,
        r.findings.len()
    );
    for (f, path) in r.findings.iter().zip(written) {
        let m = &f.minimal;
        outln!(
            "  {}: {} worlds, first world {} (seed {}); shrunk in {} runs to {} camera(s), {} session(s), {} click(s), {} fault(s), {}",
            f.key,
            f.count,
            f.first_run,
            f.world_seed,
            f.shrink_runs,
            m.cameras.len(),
            m.sessions.len(),
            m.clicks.len(),
            m.faults.len(),
            scenario::format_duration(m.duration),
        );
        outln!("    reproduce: dualrec run {}", path.display());
    }
    if r.findings.is_empty() {
        outln!("output in {}", dir.display());
    } else {
        outln!(
            "shrinking took {:.1} s; output in {}",
            r.shrink_seconds,
            dir.display()
        );
    }
}
