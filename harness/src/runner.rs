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
use crate::guarantee::{Cmp, Guarantee, Threshold};
use crate::metrics::{self, Metrics, MetricsConfig};
use crate::report::{Report, ReportMeta};
use crate::scenario::Scenario;
use crate::verdict;

/// Virtual time (deterministic) or real time (sockets, wall clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Virtual,
    Real,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Virtual => "virtual",
            Mode::Real => "real",
        }
    }
}

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the raw history (see `sim::world::trace`; in real mode see
    /// `crate::real::trace` for what it holds).
    pub trace: bool,
    pub mode: Mode,
    /// Real mode: the `dualrec` executable to run the engine as a child
    /// process behind its REST API (`None`: the engine runs in-process).
    pub engine_binary: Option<std::path::PathBuf>,
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
    #[error(transparent)]
    Real(#[from] crate::real::RealError),
    /// The scenario claims more than a real run could check (see
    /// `scenario::real_mode`); one `file:line:col: …` line per guarantee.
    #[error("{}", .0.join("\n"))]
    NotCheckableInRealMode(Vec<String>),
    #[error("computing metrics of `{scenario}`: {source}")]
    Metrics {
        scenario: String,
        source: metrics::MetricsError,
    },
}

/// Runs `scenario` in the mode `opts` asks for.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    match opts.mode {
        Mode::Virtual => run_virtual(scenario, opts),
        Mode::Real => run_real(scenario, opts),
    }
}

/// Runs `scenario` in virtual time.
pub fn run_virtual(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    let scenario = with_seed(scenario, opts);
    let world = build::world_config(&scenario);
    let started = Instant::now();
    let outcome = if opts.trace {
        World::with_trace(world).run()
    } else {
        World::new(world).run()
    };
    measure(
        scenario,
        outcome.record,
        outcome.steps,
        outcome.trace,
        Mode::Virtual,
        started,
    )
}

/// Runs `scenario` in real time against in-process mock sites over HTTP.
pub fn run_real(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    if !scenario.real_mode_errors.is_empty() {
        return Err(RunError::NotCheckableInRealMode(
            scenario.real_mode_errors.clone(),
        ));
    }
    let scenario = with_seed(scenario, opts);
    let unchecked = &scenario.real_unchecked;
    if !unchecked.is_empty() {
        tracing::info!(
            scenario = %scenario.name,
            "checked in virtual time only (`real_unchecked`): {}",
            unchecked.join(", ")
        );
    }
    if let Some(wall) = long_real_run(&scenario) {
        tracing::warn!(
            scenario = %scenario.name,
            "real mode runs on the wall clock: this run will take about {} \
             (duration + settle × real_time_scale {}); set a smaller \
             `real_time_scale` in [scenario] to run it faster",
            crate::verdict::format_duration(wall),
            scenario.real_time_scale.unwrap_or(1.0)
        );
    }
    let started = Instant::now();
    let outcome = crate::real::run_real(&scenario, opts.engine_binary.as_deref())?;
    let steps = outcome.events.len() as u64;
    let trace = if opts.trace {
        crate::real::trace(&outcome)
    } else {
        Vec::new()
    };
    measure(scenario, outcome.record, steps, trace, Mode::Real, started)
}

/// Wall-clock runs longer than this get a warning before they start.
pub const LONG_REAL_RUN: u64 = 3 * 60 * 1_000_000_000;

/// How long `scenario` will take in real mode, if that is over
/// [`LONG_REAL_RUN`].
pub fn long_real_run(scenario: &Scenario) -> Option<u64> {
    let k = scenario.real_time_scale.unwrap_or(1.0);
    let wall = ((scenario.duration + scenario.settle) as f64 * k).round() as u64;
    (wall > LONG_REAL_RUN).then_some(wall)
}

fn with_seed(scenario: &Scenario, opts: &RunOptions) -> Scenario {
    let mut scenario = scenario.clone();
    if let Some(seed) = opts.seed {
        scenario.seed = seed;
    }
    scenario
}

/// Metrics, verdicts and the report of a finished run.
fn measure(
    scenario: Scenario,
    record: sim::world::record::RunRecord,
    steps: u64,
    trace: Vec<TraceEvent>,
    mode: Mode,
    started: Instant,
) -> Result<RunOutput, RunError> {
    let metrics = metrics::compute(
        &record,
        &MetricsConfig {
            orphan_grace: scenario.orphan_grace,
        },
    )
    .map_err(|source| RunError::Metrics {
        scenario: scenario.name.clone(),
        source,
    })?;
    let wall = started.elapsed().as_secs_f64();
    let guarantees = match mode {
        Mode::Virtual => scenario.guarantees.clone(),
        Mode::Real => {
            // Jitter is a wall-clock quantity; in written time it grows as
            // the run is compressed.
            let written = crate::scenario::real_mode::written_tolerance(
                scenario.real_tolerance,
                scenario.real_time_scale,
            );
            with_real_tolerance(&scenario.real_mode_guarantees(), written)
        }
    };
    let verdicts = verdict::evaluate(&guarantees, &metrics);
    let meta = ReportMeta {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        seed: scenario.seed,
        tags: scenario.tags.clone(),
        duration_ns: scenario.duration,
        settle_ns: scenario.settle,
        mode: mode.name().into(),
    };
    let report = Report::build(meta, &record, &metrics, verdicts);
    let simulated = (record.settled_at as f64) / 1e9;
    let timing = Timing {
        scenario: scenario.name.clone(),
        mode: mode.name().into(),
        wall_seconds: wall,
        simulated_seconds: simulated,
        speedup: simulated / wall.max(1e-9),
        steps,
        steps_per_second: steps as f64 / wall.max(1e-9),
        cameras: scenario.cameras.len(),
        sessions: metrics.sessions().len(),
    };
    Ok(RunOutput {
        scenario,
        report,
        metrics,
        timing,
        trace,
    })
}

/// Real clocks and schedulers add jitter that virtual time does not have: a
/// fault timer fires a little late, a reply is scheduled a little later. In
/// real mode every time guarantee is granted `tolerance` (the scenario's
/// `real_tolerance`) in its own direction: `< x` / `<= x` / `== x` become
/// `< x+t` / `<= x+t` / `<= x+t`, and `> x` / `>= x` become `> x-t` /
/// `>= x-t`. The condition shown in reports says so.
pub fn with_real_tolerance(guarantees: &[Guarantee], tolerance: u64) -> Vec<Guarantee> {
    guarantees
        .iter()
        .map(|g| {
            let Threshold::Duration(x) = g.threshold else {
                return g.clone();
            };
            let mut g = g.clone();
            let (cmp, threshold) = match g.cmp {
                Cmp::Lt => (Cmp::Lt, x.saturating_add(tolerance)),
                Cmp::Le | Cmp::Eq => (Cmp::Le, x.saturating_add(tolerance)),
                Cmp::Gt => (Cmp::Gt, x.saturating_sub(tolerance)),
                Cmp::Ge => (Cmp::Ge, x.saturating_sub(tolerance)),
            };
            g.cmp = cmp;
            g.threshold = Threshold::Duration(threshold);
            g.condition = format!(
                "{} (±{} real-time tolerance)",
                g.condition,
                verdict::format_duration(tolerance)
            );
            g
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        crate::scenario::parse(
            &format!(
                "[scenario]\nname = \"x\"\nseed = 1\nduration = \"10m\"\nsettle = \"30s\"\n{extra}\n\
                 [[site]]\nname = \"a\"\n[cameras]\ncount = 1\n"
            ),
            "x.toml",
        )
        .expect("a valid scenario")
    }

    #[test]
    fn a_real_run_over_three_minutes_is_announced() {
        // 10.5 minutes on the wall clock without a scale.
        assert_eq!(long_real_run(&scenario("")), Some(630_000_000_000));
        // Scaled to 31.5 s: no warning.
        assert_eq!(long_real_run(&scenario("real_time_scale = 0.05")), None);
    }
}
