//! What a virtual world is made of: sites with their links, cameras, the
//! user's clicks and the fault schedule.
//!
//! This is the simulator's own input form; the harness builds it from a
//! scenario file. It holds no randomness of its own beyond the seed.

use engine::core::{CameraId, DeviceId, DeviceSettings, Nanos, Policy, Sabotage};

use super::latency::LatencyDist;
use crate::recorder::SiteConfig;

/// One simulated XProtect site and the network path to it.
#[derive(Debug, Clone)]
pub struct SiteSetup {
    pub model: SiteConfig,
    /// Recording servers in the site; camera `c` lives on recorder `c % recorders`.
    pub recorders: usize,
    /// One-way latency of a request and, drawn again, of its reply.
    pub latency: LatencyDist,
    /// The engine logs in through the identity provider (`login = "idp"`):
    /// one more round trip per login, and a token lifetime of
    /// min(`TimeToLive`, the bearer's `expires_in`).
    pub idp_login: bool,
    /// Camera `c`'s own settings on this site, at index `c`; cameras past
    /// the end (or with default settings) keep the site's values.
    pub camera_settings: Vec<DeviceSettings>,
}

impl SiteSetup {
    /// Camera `c`'s own settings on this site.
    pub fn settings_of(&self, camera: usize) -> DeviceSettings {
        self.camera_settings
            .get(camera)
            .copied()
            .unwrap_or_default()
    }
}

/// A user click: `recording = true` is Start Record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Click {
    pub at: Nanos,
    pub camera: usize,
    pub recording: bool,
}

/// A fault kind, as in scenario files.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum FaultKind {
    /// Site dead: connections refused, no footage; on return manual
    /// recordings and tokens are forgotten.
    Down,
    /// The engine cannot reach the site; the site keeps recording.
    Partition,
    /// Connections accepted, no answer ever comes.
    Hang,
    /// Another latency distribution for the window.
    Slow(LatencyDist),
    /// A share of requests answers a SOAP fault (HTTP 500).
    Errors { rate: f64 },
    /// A share of requests executes on the site, but the reply never
    /// reaches the engine (a connection reset after the work was done).
    LostReplies { rate: f64 },
    /// Recording servers restart: manual recordings forgotten; refused for
    /// the window's length (which may be zero).
    Restart,
    /// One camera's stream is lost: the recorder says it records, writes nothing.
    StreamLoss { camera: usize },
    /// Every token of the site becomes invalid (instantaneous).
    TokenExpiry,
    /// The engine process dies and restarts from its journal after the window.
    EngineCrash,
    /// The engine's password for the site is wrong during the window; at
    /// its end the operator fixes the password file (the engine is told,
    /// as the runtime notices a changed file). Not in [`FaultKind::NAMES`]:
    /// written scenarios only, the explorer does not draw it.
    WrongPassword,
}

impl FaultKind {
    /// Every spelling, in the order of `docs/scenario-format.md`.
    pub const NAMES: &'static [&'static str] = &[
        "down",
        "partition",
        "hang",
        "slow",
        "errors",
        "lost_replies",
        "restart",
        "stream_loss",
        "token_expiry",
        "engine_crash",
    ];

    /// The scenario spelling, e.g. `stream_loss`.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Down => "down",
            FaultKind::Partition => "partition",
            FaultKind::Hang => "hang",
            FaultKind::Slow(_) => "slow",
            FaultKind::Errors { .. } => "errors",
            FaultKind::LostReplies { .. } => "lost_replies",
            FaultKind::Restart => "restart",
            FaultKind::StreamLoss { .. } => "stream_loss",
            FaultKind::TokenExpiry => "token_expiry",
            FaultKind::EngineCrash => "engine_crash",
            FaultKind::WrongPassword => "wrong_password",
        }
    }
}

/// One scheduled fault: active during `[at, at + duration)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// `None` only for [`FaultKind::EngineCrash`].
    pub site: Option<usize>,
    pub kind: FaultKind,
    pub at: Nanos,
    pub duration: Nanos,
}

/// Which replica an `engine_crash` kills when a world runs several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineTarget {
    /// The replica leading when the fault starts (the default).
    Leader,
    /// The lowest-numbered live standby.
    Standby,
    /// Replica `i` (0-based).
    Index(usize),
}

/// A whole virtual world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    pub seed: u64,
    pub sites: Vec<SiteSetup>,
    pub cameras: Vec<CameraId>,
    pub policy: Policy,
    pub clicks: Vec<Click>,
    pub faults: Vec<FaultSpec>,
    /// Clicks and faults happen in `[0, duration)`; faults are healed at `duration`.
    pub duration: Nanos,
    /// Extra time after `duration` for the engine to settle before final checks.
    pub settle: Nanos,
    /// Test-only planted engine bugs (the explorer's proof); `default()` is
    /// a healthy engine.
    #[doc(hidden)]
    pub sabotage: Sabotage,
    /// Engine replicas sharing one simulated journal and its leader lease
    /// (1: a single engine, restarted from its journal after a crash).
    pub engines: usize,
    /// `(index into faults, target)` for `engine_crash` faults that name
    /// a replica; others hit the leader.
    pub engine_targets: Vec<(usize, EngineTarget)>,
}

/// The device GUID of camera `camera` on site `site`: stable, readable, and
/// distinct per site so a mix-up between sites cannot go unnoticed.
pub fn device_id(site: usize, camera: usize) -> DeviceId {
    DeviceId::new(format!(
        "{:08x}-0000-4000-8000-{:012x}",
        0xd0a1_0000u32 + site as u32,
        camera + 1
    ))
}
