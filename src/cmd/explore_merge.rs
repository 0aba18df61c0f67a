//! `dualrec report merge OUT DIR1/explore.json DIR2/explore.json …`: the
//! shards of one exploration (`dualrec explore --shard I/M`) put back
//! together into the folder one machine would have written.
//!
//! The merge rule lives in `harness::explore::summary::merge`; this module
//! reads the shards, carries each finding's reproducer from the shard that
//! owned its lowest violating world (renamed to its place in the merged
//! order: the scenario's `name`, its file names and its report's scenario
//! name), and writes `explore.json`. Exit code 0 when no shard found
//! anything, 1 when one did, 2 when the inputs are not the complete shards
//! of one exploration.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use harness::explore::summary::{self, Rename, Summary};
use harness::report::Report;
use harness::scenario;

use super::report::{load, Format, Loaded};
use crate::Outcome;

pub fn merge(
    out: &Path,
    inputs: &[PathBuf],
    quiet: bool,
    format: Format,
) -> anyhow::Result<Outcome> {
    let mut parts: Vec<Summary> = Vec::new();
    for path in inputs {
        match load(path) {
            Ok(Loaded::Explore(s)) => parts.push(*s),
            Ok(_) => {
                eprintln!(
                    "{}: not an explore.json; an exploration merges only with its own shards",
                    path.display()
                );
                return Ok(Outcome::InvalidInput);
            }
            Err(msg) => {
                eprintln!("{msg}");
                return Ok(Outcome::InvalidInput);
            }
        }
    }
    // Reproducers are renamed while they are carried: writing into a
    // shard's own folder could overwrite one before it is read.
    let canonical = |p: &Path| fs::canonicalize(p).ok();
    let out_dir = canonical(out);
    if out_dir.is_some() && inputs.iter().any(|i| canonical(&shard_dir(i)) == out_dir) {
        eprintln!(
            "{}: is the folder of an input; merge into a new folder",
            out.display()
        );
        return Ok(Outcome::InvalidInput);
    }
    let merged = match summary::merge(&parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cannot merge: {e}");
            return Ok(Outcome::InvalidInput);
        }
    };
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for rename in &merged.renames {
        if let Err(e) = carry(&shard_dir(&inputs[rename.part]), out, rename) {
            eprintln!("cannot merge: {e:#}");
            return Ok(Outcome::InvalidInput);
        }
    }
    let json = serde_json::to_string_pretty(&merged.summary)? + "\n";
    let path = out.join("explore.json");
    fs::write(&path, &json).with_context(|| format!("writing {}", path.display()))?;

    let s = &merged.summary;
    match format {
        Format::Json => out!("{json}"),
        Format::Text if !quiet => {
            outln!(
                "{}",
                crate::term::paint(&format!(
                    "{}  merged {} shards of `{}` (seed {}): {} worlds, {} violating, {} distinct violations; output in {}",
                    if s.findings.is_empty() { "PASS" } else { "FAIL" },
                    s.shards.len(),
                    s.base,
                    s.seed,
                    s.worlds_tried,
                    s.violating_worlds,
                    s.findings.len(),
                    out.display()
                ))
            );
            for f in &s.findings {
                outln!(
                    "  {}: {} worlds, first world {} (seed {}); reproduce: dualrec run {}",
                    f.key,
                    f.worlds,
                    f.first_world,
                    f.world_seed,
                    out.join(&f.scenario).display()
                );
            }
        }
        Format::Text => {}
    }
    Ok(if s.findings.is_empty() {
        Outcome::Passed
    } else {
        Outcome::GuaranteeFailed
    })
}

/// The folder of a shard's `explore.json`, where its reproducers are.
fn shard_dir(explore_json: &Path) -> PathBuf {
    explore_json
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Copies one finding's reproducer, its original world and its report from
/// a shard's folder into `out` under its merged name.
fn carry(from_dir: &Path, out: &Path, r: &Rename) -> anyhow::Result<()> {
    let read =
        |p: PathBuf| fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()));

    let source = from_dir.join(format!("{}.toml", r.from));
    let mut minimal = scenario::parse(&read(source.clone())?, &source.display().to_string())
        .with_context(|| format!("{} is not a valid scenario", source.display()))?;
    minimal.name = r.to.clone();
    let target = out.join(format!("{}.toml", r.to));
    fs::write(&target, harness::explore::to_toml(&minimal)?)
        .with_context(|| format!("writing {}", target.display()))?;

    let original = read(from_dir.join(format!("{}.original.toml", r.from)))?;
    let target = out.join(format!("{}.original.toml", r.to));
    fs::write(&target, original).with_context(|| format!("writing {}", target.display()))?;

    let source = from_dir.join(&r.from).join("report.json");
    let mut report: Report = serde_json::from_str(&read(source.clone())?)
        .with_context(|| format!("{} is not a report.json", source.display()))?;
    report.scenario.name = r.to.clone();
    let dir = out.join(&r.to);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(dir.join("report.json"), harness::report::to_json(&report))
        .with_context(|| format!("writing {}/report.json", dir.display()))?;
    Ok(())
}
