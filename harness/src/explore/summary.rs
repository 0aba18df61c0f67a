//! `explore.json`: what an exploration (or one shard of it) found, and
//! merging the shards of one exploration back into what a single machine
//! would have reported.
//!
//! This module owns the file's schema and the merge rule; it does no I/O
//! (the binary reads the shards' folders and renames their reproducers as
//! [`Merged::renames`] says).
//!
//! The merge is exact because a world's outcome depends only on the base,
//! the knobs and `derive_seed(seed, i)`: shard `I/M` tries the worlds
//! `i ≡ I-1 (mod M)`, so every world is tried by exactly one shard, the
//! lowest violating world of a key over all shards is the lowest of the
//! shards' own first worlds, and the shard that owned it shrank exactly the
//! world one machine would have shrunk. Findings are ordered as one machine
//! orders them — by first appearance: first world, then the order in which
//! that world's run listed its violations (which only its owner saw).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{finding_name, Config, Exploration, FaultRule, Finding, WORLDS_LISTED};
use crate::verdict::Verdict;

/// Version tag of `explore.json`.
pub const SCHEMA: &str = "dualrec.explore/v1";

/// Everything `explore.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The dualrec version that explored (shards of different versions do
    /// not merge: the engine under test differs).
    pub version: String,
    /// The base scenario's name, and the SHA-256 of its file.
    pub base: String,
    pub base_sha256: String,
    pub seed: u64,
    /// Worlds of the full run.
    pub runs: u64,
    /// `I/M` for one shard's part; `None` for a whole (or merged) run.
    pub shard: Option<String>,
    /// Worlds tried: `runs`, or the shard's part of them.
    pub worlds_tried: u64,
    /// Worker threads (merged: over all shards).
    pub threads: usize,
    pub intensity: f64,
    /// `one_site_healthy` or `any_outage`.
    pub rule: String,
    /// `--base-bounds`: the base's recovery bounds checked as written.
    #[serde(default)]
    pub base_bounds: bool,
    /// Shrinking runs allowed per finding.
    pub shrink_budget: usize,
    /// Worlds with at least one violation.
    pub violating_worlds: u64,
    /// Simulation steps over the worlds tried.
    pub steps: u64,
    /// Wall-clock seconds of exploring (merged: the slowest shard's, the
    /// run's wall time when the shards ran side by side).
    pub explore_seconds: f64,
    /// `worlds_tried / explore_seconds`.
    pub runs_per_second: f64,
    /// The shards a merged summary was made of, in shard order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardRun>,
    /// One per distinct violation, in order of first appearance.
    pub findings: Vec<FindingSummary>,
}

/// One shard of a merged exploration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRun {
    pub shard: String,
    pub worlds_tried: u64,
    pub violating_worlds: u64,
    pub threads: usize,
    pub explore_seconds: f64,
}

/// One distinct violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingSummary {
    /// The guarantee key violated (or `panic`, `run_error`).
    pub key: String,
    /// How many worlds violated it.
    pub worlds: u64,
    /// The lowest world that violated it, and that world's seed.
    pub first_world: u64,
    pub world_seed: u64,
    /// The lowest (up to [`WORLDS_LISTED`]) worlds that violated it.
    pub violating_worlds: Vec<u64>,
    /// The minimal world's measured figure and the condition it broke.
    pub measured: Option<String>,
    pub condition: Option<String>,
    /// The reproducer's file name, `explore-<n>-<key>.toml`.
    pub scenario: String,
    pub shrink_runs: usize,
    /// The reproducer's size.
    pub cameras: usize,
    pub faults: usize,
    pub sessions: usize,
    pub clicks: usize,
}

impl FindingSummary {
    /// The entry of finding `f`, whose minimal world's run gave `verdict`
    /// for the finding's key.
    pub fn new(f: &Finding, verdict: Option<&Verdict>) -> FindingSummary {
        FindingSummary {
            key: f.key.clone(),
            worlds: f.count,
            first_world: f.first_run,
            world_seed: f.world_seed,
            violating_worlds: f.worlds.clone(),
            measured: verdict.map(|v| v.measured_text.clone()),
            condition: verdict.map(|v| v.condition.clone()),
            scenario: format!("{}.toml", f.minimal.name),
            shrink_runs: f.shrink_runs,
            cameras: f.minimal.cameras.len(),
            faults: f.minimal.faults.len(),
            sessions: f.minimal.sessions.len(),
            clicks: f.minimal.clicks.len(),
        }
    }

    /// The reproducer's stem (its file name without `.toml`).
    pub fn stem(&self) -> &str {
        self.scenario
            .strip_suffix(".toml")
            .unwrap_or(&self.scenario)
    }
}

impl Summary {
    /// The summary of `result`, explored from the base scenario `base`
    /// (whose file has SHA-256 `base_sha256`) with `cfg`; `findings` are
    /// [`FindingSummary::new`] of `result.findings`, in order.
    pub fn new(
        base: &str,
        base_sha256: &str,
        cfg: &Config,
        result: &Exploration,
        findings: Vec<FindingSummary>,
    ) -> Summary {
        Summary {
            schema: SCHEMA.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            base: base.to_string(),
            base_sha256: base_sha256.to_string(),
            seed: cfg.seed,
            runs: result.runs,
            shard: cfg.shard.map(|s| s.to_string()),
            worlds_tried: result.worlds_tried,
            threads: cfg.threads,
            intensity: cfg.knobs.intensity,
            rule: rule_name(cfg.knobs.rule).to_string(),
            base_bounds: cfg.knobs.base_bounds,
            shrink_budget: cfg.shrink_budget,
            violating_worlds: result.violating_runs,
            steps: result.steps,
            explore_seconds: result.explore_seconds,
            runs_per_second: result.runs_per_second(),
            shards: Vec::new(),
            findings,
        }
    }
}

/// The name `explore.json` gives a fault rule.
pub fn rule_name(rule: FaultRule) -> &'static str {
    match rule {
        FaultRule::OneSiteHealthy => "one_site_healthy",
        FaultRule::AnyOutage => "any_outage",
    }
}

/// A merged exploration, and the reproducer files to carry over.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub summary: Summary,
    /// Per finding of `summary`, in order: which part's reproducer it is,
    /// under which stem there and under which stem in the merged folder.
    pub renames: Vec<Rename>,
}

/// One reproducer carried from a shard's folder to the merged one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// Index into the parts given to [`merge`].
    pub part: usize,
    pub from: String,
    pub to: String,
}

/// Why shards do not merge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("input {part} has `{field}` = {found}, input 1 has {expected}: the shards are not of one exploration")]
    Mismatch {
        part: usize,
        field: &'static str,
        found: String,
        expected: String,
    },
    #[error("input {part} is not a shard (`shard` is missing or not I/M): only shards of one exploration merge")]
    NotAShard { part: usize },
    #[error("shard {shard} is given twice (inputs {first} and {second})")]
    Duplicate {
        shard: String,
        first: usize,
        second: usize,
    },
    #[error("shard {index}/{count} is missing: the worlds i with i mod {count} == {} were not tried", index - 1)]
    Missing { index: usize, count: usize },
    #[error("input {part}: {message}")]
    Inconsistent { part: usize, message: String },
}

/// Merges the summaries of shards `1/M` … `M/M` of one exploration (in any
/// order) into the summary one machine would have written.
pub fn merge(parts: &[Summary]) -> Result<Merged, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let shards = check_parts(parts)?;

    // The owner of each key's lowest violating world, and every shard's
    // listed worlds for it.
    struct Key {
        owner: (usize, usize),
        first_world: u64,
        worlds: u64,
        listed: Vec<u64>,
    }
    let mut keys: BTreeMap<&str, Key> = BTreeMap::new();
    for (p, part) in parts.iter().enumerate() {
        for (position, f) in part.findings.iter().enumerate() {
            let k = keys.entry(&f.key).or_insert(Key {
                owner: (p, position),
                first_world: f.first_world,
                worlds: 0,
                listed: Vec::new(),
            });
            if f.first_world < k.first_world {
                k.owner = (p, position);
                k.first_world = f.first_world;
            }
            k.worlds += f.worlds;
            k.listed.extend(&f.violating_worlds);
        }
    }
    let mut order: Vec<&str> = keys.keys().copied().collect();
    order.sort_by_key(|k| (keys[k].first_world, keys[k].owner.1));

    let mut findings = Vec::with_capacity(order.len());
    let mut renames = Vec::with_capacity(order.len());
    for (n, key) in order.iter().enumerate() {
        let k = &keys[key];
        let (p, position) = k.owner;
        let mut f = parts[p].findings[position].clone();
        let mut listed = k.listed.clone();
        listed.sort_unstable();
        listed.dedup();
        listed.truncate(WORLDS_LISTED);
        let to = finding_name(n + 1, key);
        renames.push(Rename {
            part: p,
            from: f.stem().to_string(),
            to: to.clone(),
        });
        f.worlds = k.worlds;
        f.violating_worlds = listed;
        f.scenario = format!("{to}.toml");
        findings.push(f);
    }

    let explore_seconds = parts.iter().map(|p| p.explore_seconds).fold(0.0, f64::max);
    let summary = Summary {
        schema: SCHEMA.to_string(),
        version: first.version.clone(),
        base: first.base.clone(),
        base_sha256: first.base_sha256.clone(),
        seed: first.seed,
        runs: first.runs,
        shard: None,
        worlds_tried: parts.iter().map(|p| p.worlds_tried).sum(),
        threads: parts.iter().map(|p| p.threads).sum(),
        intensity: first.intensity,
        rule: first.rule.clone(),
        base_bounds: first.base_bounds,
        shrink_budget: first.shrink_budget,
        violating_worlds: parts.iter().map(|p| p.violating_worlds).sum(),
        steps: parts.iter().map(|p| p.steps).sum(),
        explore_seconds,
        runs_per_second: first.runs as f64 / explore_seconds.max(1e-9),
        shards,
        findings,
    };
    Ok(Merged { summary, renames })
}

/// Checks that `parts` are the shards `1/M` … `M/M` of one exploration,
/// each once, and lists them in shard order.
fn check_parts(parts: &[Summary]) -> Result<Vec<ShardRun>, MergeError> {
    let first = &parts[0];
    let mut by_index: BTreeMap<usize, usize> = BTreeMap::new();
    let mut count = None;
    for (p, part) in parts.iter().enumerate() {
        let same = |field: &'static str, found: String, expected: String| {
            if found == expected {
                Ok(())
            } else {
                Err(MergeError::Mismatch {
                    part: p + 1,
                    field,
                    found,
                    expected,
                })
            }
        };
        same("version", part.version.clone(), first.version.clone())?;
        same("base", part.base.clone(), first.base.clone())?;
        same(
            "base_sha256",
            part.base_sha256.clone(),
            first.base_sha256.clone(),
        )?;
        same("seed", part.seed.to_string(), first.seed.to_string())?;
        same("runs", part.runs.to_string(), first.runs.to_string())?;
        same(
            "intensity",
            part.intensity.to_string(),
            first.intensity.to_string(),
        )?;
        same("rule", part.rule.clone(), first.rule.clone())?;
        same(
            "base_bounds",
            part.base_bounds.to_string(),
            first.base_bounds.to_string(),
        )?;
        same(
            "shrink_budget",
            part.shrink_budget.to_string(),
            first.shrink_budget.to_string(),
        )?;
        let shard: crate::shard::Shard = part
            .shard
            .as_deref()
            .and_then(|s| s.parse().ok())
            .ok_or(MergeError::NotAShard { part: p + 1 })?;
        same(
            "shard count",
            shard.count.to_string(),
            count.unwrap_or(shard.count).to_string(),
        )?;
        count = Some(shard.count);
        if let Some(earlier) = by_index.insert(shard.index, p) {
            return Err(MergeError::Duplicate {
                shard: shard.to_string(),
                first: earlier + 1,
                second: p + 1,
            });
        }
        check_worlds(part, shard).map_err(|message| MergeError::Inconsistent {
            part: p + 1,
            message,
        })?;
    }
    let count = count.unwrap_or(1);
    if let Some(index) = (1..=count).find(|i| !by_index.contains_key(i)) {
        return Err(MergeError::Missing { index, count });
    }
    Ok(by_index
        .values()
        .map(|&p| ShardRun {
            shard: parts[p].shard.clone().unwrap_or_default(),
            worlds_tried: parts[p].worlds_tried,
            violating_worlds: parts[p].violating_worlds,
            threads: parts[p].threads,
            explore_seconds: parts[p].explore_seconds,
        })
        .collect())
}

/// A shard's worlds are its own: the count it tried is its share of the
/// run, and every world it names is one it owns.
fn check_worlds(part: &Summary, shard: crate::shard::Shard) -> Result<(), String> {
    let cfg = Config {
        runs: part.runs,
        shard: Some(shard),
        ..Config::default()
    };
    let share = super::world_indices(&cfg).count() as u64;
    if part.worlds_tried != share {
        return Err(format!(
            "shard {shard} of {} worlds tried {} worlds, expected {share}",
            part.runs, part.worlds_tried
        ));
    }
    for f in &part.findings {
        let theirs = std::iter::once(f.first_world).chain(f.violating_worlds.iter().copied());
        for w in theirs {
            if w >= part.runs || (w % shard.count as u64) as usize != shard.index - 1 {
                return Err(format!(
                    "finding `{}` names world {w}, which shard {shard} does not own",
                    f.key
                ));
            }
        }
    }
    Ok(())
}
