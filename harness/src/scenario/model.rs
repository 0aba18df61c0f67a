//! The validated scenario: plain data, every name resolved to an index,
//! every duration in nanoseconds, every default applied.
//!
//! A [`Scenario`] only comes out of `scenario::parse`/`scenario::load`, so
//! code that runs one may rely on the invariants documented on each field.

use engine::core::{DeviceSettings, Nanos, Policy};
use serde::Serialize;
use sim::world::latency::LatencyDist;

use crate::guarantee::Guarantee;

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Letters, digits, `-`, `_` and `.` only (it names report folders).
    pub name: String,
    /// Empty when not given.
    pub description: String,
    pub seed: u64,
    /// Length of the run in which clicks and faults happen; > 0.
    pub duration: Nanos,
    /// Time after `duration` with all faults healed and no clicks, before
    /// the final checks (default 30 s).
    pub settle: Nanos,
    /// Recording within this long after a stop click is not an orphan
    /// (default 2 s).
    pub orphan_grace: Nanos,
    pub tags: Vec<String>,
    /// `Some(reason)` when the scenario can only run in virtual time; the
    /// reason is empty when none was given.
    pub virtual_only: Option<String>,
    /// For real-mode runs: wall time = written time × this (> 0; `0.1` runs
    /// ten times faster than written).
    pub real_time_scale: Option<f64>,
    /// For real-mode runs: slack granted to time guarantees for the jitter
    /// of real clocks and schedulers, in wall-clock time (default 25 ms; a
    /// run at `real_time_scale` k grants `real_tolerance / k` of written time).
    pub real_tolerance: Nanos,
    /// Keys of guarantees checked in virtual time only: real runs leave them
    /// out and say so (see `real_mode.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub real_unchecked: Vec<String>,
    /// Why a real run of this scenario would check less than it claims
    /// (`file:line:col: …` each); empty when it can run in real mode.
    #[serde(skip)]
    pub real_mode_errors: Vec<String>,
    /// Engine replicas sharing one journal and a leader lease (≥ 1).
    pub engines: usize,
    /// `(index into faults, replica)` for `engine_crash` faults naming one.
    pub engine_targets: Vec<(usize, sim::world::EngineTarget)>,
    /// At least one; names are unique.
    pub sites: Vec<SiteDef>,
    /// `cam-001`…, zero-padded to max(3, digits(count)); at least one.
    pub cameras: Vec<String>,
    /// Cameras' own settings, in file order; no two entries set the same
    /// key for the same camera on the same site. Left out of serialized
    /// output when empty, so scenarios without it serialize as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub camera_settings: Vec<CameraSettingsDef>,
    /// Explicit sessions in file order, ranges expanded camera by camera.
    /// Sessions of one camera do not overlap.
    pub sessions: Vec<SessionDef>,
    /// Explicit clicks in file order, ranges expanded camera by camera.
    pub clicks: Vec<ClickDef>,
    pub workloads: Vec<WorkloadDef>,
    /// Faults with repetitions (`every`) expanded, sorted by `at` (stable:
    /// ties keep file order). Every window ends by `duration`.
    pub faults: Vec<FaultDef>,
    /// Engine defaults with `[policy]` overrides applied.
    pub policy: Policy,
    /// In file order.
    pub guarantees: Vec<Guarantee>,
}

impl Scenario {
    /// The guarantees a real-mode run checks: all but `real_unchecked`.
    pub fn real_mode_guarantees(&self) -> Vec<Guarantee> {
        self.guarantees
            .iter()
            .filter(|g| !self.real_unchecked.contains(&g.key))
            .cloned()
            .collect()
    }
}

/// One `[[site]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteDef {
    /// Letters, digits, `-` and `_` only (no `.`: guarantee keys use it).
    pub name: String,
    /// One-way latency of requests and replies (default fixed 1 ms).
    pub latency: LatencyDist,
    /// "Stop manual recording after"; `None` when `"off"` (default 5 min).
    pub manual_recording_max: Option<Nanos>,
    /// Default 3 s.
    pub prebuffer: Nanos,
    /// Recording servers in the site, ≥ 1 (default 1). Camera `i` sits on
    /// recorder `i % recorders`.
    pub recorders: usize,
    /// Whether a repeated Start extends the auto-stop timer (default false).
    pub start_extends_timer: bool,
    /// Login token lifetime, > 0 (default 4 h).
    pub token_ttl: Nanos,
    /// `login = "idp"`: the engine logs in through the identity provider
    /// (default `"soap"`, the legacy SOAP Login).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub idp_login: bool,
    /// The site's domain locks an account after this many failed logins
    /// in 15 minutes, for 15 minutes (default: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockout_after: Option<u32>,
}

/// One `[[camera_settings]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraSettingsDef {
    /// Indices into [`Scenario::cameras`], ascending, non-empty.
    pub cameras: Vec<usize>,
    /// Index into [`Scenario::sites`]; `None`: every site.
    pub site: Option<usize>,
    /// At least one of the two is set; a set limit is positive.
    pub settings: DeviceSettings,
}

/// One explicit session: a start click and, optionally, a stop click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionDef {
    /// Index into [`Scenario::cameras`].
    pub camera: usize,
    /// `< duration`.
    pub start: Nanos,
    /// `> start` and `<= duration`; `None`: still recording at the end.
    pub stop: Option<Nanos>,
}

/// One explicit click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClickDef {
    /// Index into [`Scenario::cameras`].
    pub camera: usize,
    /// `<= duration`.
    pub at: Nanos,
    pub recording: bool,
}

/// Generated sessions: Poisson arrivals over a set of cameras.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadDef {
    /// Indices into [`Scenario::cameras`], ascending, non-empty.
    pub cameras: Vec<usize>,
    /// Mean arrivals per minute over the whole set, finite and ≥ 0.
    pub per_minute: f64,
    /// Session length.
    pub length: LatencyDist,
    /// Arrival window `[from, until)`, `from < until <= duration` (default:
    /// the whole run).
    pub from: Nanos,
    pub until: Nanos,
}

/// One fault window on a site (or on the engine).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultDef {
    /// Index into [`Scenario::sites`]; `None` only for
    /// [`FaultKind::EngineCrash`].
    pub site: Option<usize>,
    pub kind: FaultKind,
    pub at: Nanos,
    /// How long it lasts; 0 for instantaneous faults (`token_expiry`, a
    /// `restart` without downtime). `at + duration <= Scenario::duration`.
    pub duration: Nanos,
}

impl FaultDef {
    /// When the fault heals.
    pub fn end(&self) -> Nanos {
        self.at + self.duration
    }
}

/// What a fault does (`docs/scenario-format.md`, "Fault kinds"): the world's own type, so
/// a scenario's faults reach the simulator unchanged. In a scenario,
/// `StreamLoss::camera` is an index into [`Scenario::cameras`].
pub use sim::world::FaultKind;

impl Scenario {
    /// Index of the site called `name`.
    pub fn site_index(&self, name: &str) -> Option<usize> {
        self.sites.iter().position(|s| s.name == name)
    }

    /// Index of the camera called `name` (e.g. `cam-007`).
    pub fn camera_index(&self, name: &str) -> Option<usize> {
        super::validate::camera_number(name, self.cameras.len()).map(|n| n - 1)
    }

    /// Every camera's own settings on `site`, indexed by camera; empty when
    /// no `[[camera_settings]]` applies there (all cameras keep the site's).
    pub fn camera_settings_on(&self, site: usize) -> Vec<DeviceSettings> {
        let mut out = Vec::new();
        for def in self
            .camera_settings
            .iter()
            .filter(|d| d.site.is_none_or(|s| s == site))
        {
            if out.is_empty() {
                out = vec![DeviceSettings::default(); self.cameras.len()];
            }
            for &c in &def.cameras {
                let cur: &mut DeviceSettings = &mut out[c];
                if def.settings.manual_recording_max.is_some() {
                    cur.manual_recording_max = def.settings.manual_recording_max;
                }
                if def.settings.prebuffer.is_some() {
                    cur.prebuffer = def.settings.prebuffer;
                }
            }
        }
        out
    }

    /// The recorder of `site` that camera `camera` sits on.
    pub fn recorder_of(&self, site: usize, camera: usize) -> usize {
        camera % self.sites[site].recorders.max(1)
    }

    /// End of the run including the settle time.
    pub fn end(&self) -> Nanos {
        self.duration.saturating_add(self.settle)
    }
}
