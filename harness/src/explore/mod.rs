//! The explorer: random fault schedules against the real engine, in virtual
//! time, shrunk to a reproducer when a guarantee breaks (swarm testing in
//! the spirit of FoundationDB's simulation and TigerBeetle's VOPR).
//!
//! [`explore`] draws `runs` worlds from a base scenario ([`generate`]),
//! world `i` from seed `derive_seed(seed, i)`, runs them on all cores
//! ([`parallel`]), and for each distinct violated guarantee key shrinks the
//! first (lowest-index) violating world ([`shrink`]). Findings depend only
//! on the base, the knobs and the seed — never on the thread count. The
//! binary writes each minimal world as a scenario file ([`write`]) next to
//! the report of its run.
//!
//! With a [`Shard`] `I/M` only the worlds `i` with `i mod M == I-1` of the
//! full run are tried (each still from `derive_seed(seed, i)`), and each
//! finding is the shard's own lowest violating world, shrunk.
//! [`summary::merge`] unites the shards' summaries into exactly what one
//! machine would have reported: every finding's first world is the lowest
//! over all shards, and the shard that owned that world shrank it.
//!
//! A violation is a guarantee that failed on a measured figure; a metric
//! without samples (a world without faults has no recovery) is not one.
//! An engine panic or a run error is a violation too (keys [`PANIC`] and
//! [`RUN_ERROR`]).

mod aimed;
pub mod generate;
pub mod parallel;
pub mod shrink;
pub mod summary;
pub mod write;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use engine::core::{Nanos, Sabotage};
use sim::world::{derive_seed, World};

pub use generate::{FaultRule, Knobs};
pub use write::{to_toml, WriteError};

use crate::build;
use crate::metrics::{self, MetricsConfig};
use crate::report::{Report, ReportMeta};
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::Scenario;
use crate::shard::Shard;
use crate::verdict::{self, Verdict};

/// Violation key of a world whose run panicked.
pub const PANIC: &str = "panic";
/// Violation key of a world whose metrics could not be computed.
pub const RUN_ERROR: &str = "run_error";

/// What to explore.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worlds to try.
    pub runs: u64,
    /// The explorer seed; world `i` gets `derive_seed(seed, i)`.
    pub seed: u64,
    /// Worker threads (≥ 1).
    pub threads: usize,
    pub knobs: Knobs,
    /// Planted engine bugs (tests of the explorer only).
    pub sabotage: Sabotage,
    /// Runs the shrinker may spend per finding.
    pub shrink_budget: usize,
    /// Silence the engine's log while exploring (thousands of worlds of
    /// warnings about the faults the explorer injected on purpose).
    pub quiet: bool,
    /// Only this shard's worlds of the `runs` (`None`: all of them).
    pub shard: Option<Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            runs: 1000,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            knobs: Knobs::default(),
            sabotage: Sabotage::default(),
            shrink_budget: 3000,
            quiet: true,
            shard: None,
        }
    }
}

/// The outcome of checking one world.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Keys of the guarantees violated, in guarantee order.
    pub violations: Vec<String>,
    /// Simulation steps.
    pub steps: u64,
}

/// Runs `s` in virtual time (with `sabotage` planted) and lists the
/// guarantees it violates. Panics of the engine or simulator are caught.
/// A lost intent counts only if it is still lost [`SETTLE_RECHECK`] later
/// (a renewal in flight at the settle instant is not a loss).
pub fn check(s: &Scenario, sabotage: Sabotage) -> Check {
    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut cfg = build::world_config(s);
        cfg.sabotage = sabotage;
        let outcome = World::new(cfg).run();
        let m = metrics::compute(
            &outcome.record,
            &MetricsConfig {
                orphan_grace: s.orphan_grace,
            },
        );
        (m, outcome.steps)
    }));
    match run {
        Ok((Ok(m), steps)) => {
            let mut violations: Vec<String> = verdict::evaluate(&s.guarantees, &m)
                .into_iter()
                .filter(is_violation)
                .map(|v| v.key)
                .collect();
            if violations.iter().any(|k| k.starts_with("lost_intents.")) {
                let still = still_lost(s, sabotage);
                let persists = m.lost_intents().iter().any(|l| {
                    still
                        .iter()
                        .any(|(c, sites)| *c == l.camera && *sites == l.sites)
                });
                violations.retain(|k| !k.starts_with("lost_intents.") || persists);
            }
            Check { violations, steps }
        }
        Ok((Err(_), steps)) => Check {
            violations: vec![RUN_ERROR.to_string()],
            steps,
        },
        Err(_) => Check {
            violations: vec![PANIC.to_string()],
            steps: 0,
        },
    }
}

/// The lost intents (camera, sites) when the world settles
/// [`SETTLE_RECHECK`] later. `lost_intents` compares each site with the
/// final intent at one instant; a routine renewal (Stop, then Start a round
/// trip later — longer with a latency tail) in flight at that instant is not
/// a lost intent. A real one is still there 10 s later on the same camera
/// and sites, when any renewal has long finished (renewals of one camera
/// are at least 30 s apart).
fn still_lost(s: &Scenario, sabotage: Sabotage) -> Vec<(String, Vec<String>)> {
    let mut later = s.clone();
    later.settle += SETTLE_RECHECK;
    let mut cfg = build::world_config(&later);
    cfg.sabotage = sabotage;
    let outcome = World::new(cfg).run();
    match metrics::compute(
        &outcome.record,
        &MetricsConfig {
            orphan_grace: s.orphan_grace,
        },
    ) {
        Ok(m) => m
            .lost_intents()
            .iter()
            .map(|l| (l.camera.clone(), l.sites.clone()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// How much later a lost intent is checked again (see [`check`]).
pub const SETTLE_RECHECK: Nanos = 10_000_000_000;

/// A guarantee that failed on a measured figure (not for lack of samples).
pub fn is_violation(v: &Verdict) -> bool {
    !v.passed && v.measured.is_some()
}

/// The full report of `s` (with `sabotage` planted): what `dualrec run`
/// writes for it. Without sabotage this is exactly [`runner::run_virtual`].
pub fn report(s: &Scenario, sabotage: Sabotage) -> Result<Report, RunError> {
    if !sabotage.any() {
        return runner::run_virtual(s, &RunOptions::default()).map(|o| o.report);
    }
    let mut cfg = build::world_config(s);
    cfg.sabotage = sabotage;
    let outcome = World::new(cfg).run();
    let m = metrics::compute(
        &outcome.record,
        &MetricsConfig {
            orphan_grace: s.orphan_grace,
        },
    )
    .map_err(|source| RunError::Metrics {
        scenario: s.name.clone(),
        source,
    })?;
    let verdicts = verdict::evaluate(&s.guarantees, &m);
    let meta = ReportMeta {
        name: s.name.clone(),
        description: s.description.clone(),
        seed: s.seed,
        tags: s.tags.clone(),
        duration_ns: s.duration,
        settle_ns: s.settle,
        mode: "virtual".into(),
    };
    Ok(Report::build(meta, &outcome.record, &m, verdicts))
}

/// The name of the `n`-th finding's minimal scenario (1-based, in order of
/// first appearance), which is also the stem of its files.
pub fn finding_name(n: usize, key: &str) -> String {
    format!("explore-{n}-{key}")
}

/// How many violating worlds a [`Finding`] lists.
pub const WORLDS_LISTED: usize = 20;

/// One distinct violation, shrunk.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The guarantee key violated (or [`PANIC`], [`RUN_ERROR`]).
    pub key: String,
    /// The first world that violated it, and its seed.
    pub first_run: u64,
    pub world_seed: u64,
    /// How many worlds violated it.
    pub count: u64,
    /// The first (up to [`WORLDS_LISTED`]) worlds that violated it.
    pub worlds: Vec<u64>,
    /// The world as generated.
    pub original: Scenario,
    /// The shrunk world: it still violates `key`, and states only that
    /// guarantee (all of the explorer's for a panic or run error).
    pub minimal: Scenario,
    /// Runs the shrinker spent.
    pub shrink_runs: usize,
}

/// What an exploration found.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Worlds of the full run ([`Config::runs`]).
    pub runs: u64,
    /// Worlds this exploration tried: `runs`, or its shard's part of them.
    pub worlds_tried: u64,
    /// Worlds with at least one violation.
    pub violating_runs: u64,
    /// Simulation steps over all worlds.
    pub steps: u64,
    /// Wall-clock seconds of the exploring (without shrinking).
    pub explore_seconds: f64,
    pub shrink_seconds: f64,
    /// One per distinct key, in order of first appearance.
    pub findings: Vec<Finding>,
}

impl Exploration {
    /// Worlds tried per wall-clock second.
    pub fn runs_per_second(&self) -> f64 {
        self.worlds_tried as f64 / self.explore_seconds.max(1e-9)
    }
}

/// The world indices an exploration tries, in increasing order: all of
/// `0..runs`, or those its shard owns.
pub fn world_indices(cfg: &Config) -> impl Iterator<Item = u64> {
    let (first, step) = match cfg.shard {
        None => (0, 1),
        Some(s) => ((s.index - 1) as u64, s.count as u64),
    };
    (first..cfg.runs).step_by(step as usize)
}

/// The seed of world `index`.
pub fn world_seed(seed: u64, index: u64) -> u64 {
    derive_seed(seed, index)
}

/// World `index` of an exploration.
pub fn world(base: &Scenario, cfg: &Config, index: u64) -> Scenario {
    generate::world(base, &cfg.knobs, world_seed(cfg.seed, index), index)
}

/// Explores; `progress` is told how many worlds are done (from workers).
pub fn explore<P: Fn(u64) + Sync>(base: &Scenario, cfg: &Config, progress: P) -> Exploration {
    explore_logged(base, cfg, &progress)
}

/// Runs `f` without a tracing subscriber on this thread when `quiet`.
fn maybe_quiet<T>(quiet: bool, f: impl FnOnce() -> T) -> T {
    if quiet {
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), f)
    } else {
        f()
    }
}

fn explore_logged<P: Fn(u64) + Sync>(base: &Scenario, cfg: &Config, progress: &P) -> Exploration {
    let started = Instant::now();
    let indices: Vec<u64> = world_indices(cfg).collect();
    let checks = parallel::map_indexed(
        indices.len() as u64,
        cfg.threads,
        |k| {
            let i = indices[k as usize];
            maybe_quiet(cfg.quiet, || check(&world(base, cfg, i), cfg.sabotage))
        },
        progress,
    );
    let explore_seconds = started.elapsed().as_secs_f64();

    // First world and count per key, in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut worlds: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut violating_runs = 0;
    for (&i, c) in indices.iter().zip(&checks) {
        violating_runs += u64::from(!c.violations.is_empty());
        for k in &c.violations {
            let e = seen.entry(k.clone()).or_insert_with(|| {
                order.push(k.clone());
                (i, 0)
            });
            e.1 += 1;
            let w = worlds.entry(k.clone()).or_default();
            if w.len() < WORLDS_LISTED {
                w.push(i);
            }
        }
    }

    let started = Instant::now();
    let findings = parallel::map_indexed(
        order.len() as u64,
        cfg.threads,
        |n| {
            let key = &order[n as usize];
            let (first_run, count) = seen[key];
            let original = world(base, cfg, first_run);
            let mut focused = original.clone();
            if key != PANIC && key != RUN_ERROR {
                focused.guarantees.retain(|g| &g.key == key);
            }
            let shrunk = maybe_quiet(cfg.quiet, || {
                shrink::shrink(&focused, key, cfg.sabotage, cfg.shrink_budget)
            });
            let mut minimal = shrunk.scenario;
            minimal.name = finding_name(n as usize + 1, key);
            minimal.description = format!(
                "Found by `dualrec explore` from `{}` with seed {} in world {first_run} \
                 (world seed {}), then shrunk in {} runs: `{key}` is violated.",
                base.name,
                cfg.seed,
                world_seed(cfg.seed, first_run),
                shrunk.runs
            );
            Finding {
                key: key.clone(),
                first_run,
                world_seed: world_seed(cfg.seed, first_run),
                count,
                worlds: worlds.get(key).cloned().unwrap_or_default(),
                original,
                minimal,
                shrink_runs: shrunk.runs,
            }
        },
        |_| {},
    );
    Exploration {
        runs: cfg.runs,
        worlds_tried: indices.len() as u64,
        violating_runs,
        steps: checks.iter().map(|c| c.steps).sum(),
        explore_seconds,
        shrink_seconds: started.elapsed().as_secs_f64(),
        findings,
    }
}

#[cfg(test)]
mod tests;
