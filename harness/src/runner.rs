//! Running one scenario in virtual time and measuring it.
//!
//! The run itself is a pure function of the scenario and seed; only the
//! [`Timing`] figures (wall-clock time, simulation speed) depend on the
//! machine, and they are kept apart from the report for that reason.

use std::time::Instant;

use serde::Serialize;
use sim::world::trace::TraceEvent;
use sim::world::World;

use crate::build;
use crate::metrics::{self, Metrics, MetricsConfig};
use crate::report::{Report, ReportMeta};
use crate::scenario::Scenario;
use crate::verdict;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the raw history (see `sim::world::trace`).
    pub trace: bool,
}

/// Wall-clock figures of a run (they go to `timing.json`, never into the
/// byte-reproducible `report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub scenario: String,
    pub mode: String,
    pub wall_seconds: f64,
    pub simulated_seconds: f64,
    /// Simulated seconds per wall-clock second.
    pub speedup: f64,
    /// Simulation steps (events, engine and recorder wake-ups).
    pub steps: u64,
    pub steps_per_second: f64,
    pub cameras: usize,
    pub sessions: usize,
}

/// Everything a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    pub scenario: Scenario,
    pub report: Report,
    pub metrics: Metrics,
    pub timing: Timing,
    pub trace: Vec<TraceEvent>,
}

/// Errors of a run that are not guarantee failures.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("computing metrics of `{scenario}`: {source}")]
    Metrics {
        scenario: String,
        source: metrics::MetricsError,
    },
}

/// Runs `scenario` in virtual time.
pub fn run_virtual(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    let mut scenario = scenario.clone();
    if let Some(seed) = opts.seed {
        scenario.seed = seed;
    }
    let world = build::world_config(&scenario);
    let started = Instant::now();
    let outcome = if opts.trace {
        World::with_trace(world).run()
    } else {
        World::new(world).run()
    };
    let metrics = metrics::compute(
        &outcome.record,
        &MetricsConfig {
            orphan_grace: scenario.orphan_grace,
        },
    )
    .map_err(|source| RunError::Metrics {
        scenario: scenario.name.clone(),
        source,
    })?;
    let wall = started.elapsed().as_secs_f64();
    let verdicts = verdict::evaluate(&scenario.guarantees, &metrics);
    let meta = ReportMeta {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        seed: scenario.seed,
        tags: scenario.tags.clone(),
        duration_ns: scenario.duration,
        settle_ns: scenario.settle,
        mode: "virtual".into(),
    };
    let report = Report::build(meta, &outcome.record, &metrics, verdicts);
    let simulated = (outcome.record.settled_at as f64) / 1e9;
    let timing = Timing {
        scenario: scenario.name.clone(),
        mode: "virtual".into(),
        wall_seconds: wall,
        simulated_seconds: simulated,
        speedup: simulated / wall.max(1e-9),
        steps: outcome.steps,
        steps_per_second: outcome.steps as f64 / wall.max(1e-9),
        cameras: scenario.cameras.len(),
        sessions: metrics.sessions().len(),
    };
    Ok(RunOutput {
        scenario,
        report,
        metrics,
        timing,
        trace: outcome.trace,
    })
}
