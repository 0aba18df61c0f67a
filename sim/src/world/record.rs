//! What a run leaves behind: the ground truth every metric is computed from.
//!
//! A [`RunRecord`] holds the user's clicks and the recorders' own state
//! (manual-recording intervals and footage intervals) per site and camera,
//! plus the fault windows. It holds nothing of the engine's beliefs: metrics
//! must be computable from this alone (and from the trace, outside dualrec).

use serde::{Deserialize, Serialize};

use crate::intervals::{IntervalSet, Nanos};

/// A user's click, at the true time it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickRecord {
    pub at: Nanos,
    /// Index into [`RunRecord::cameras`].
    pub camera: usize,
    pub recording: bool,
}

/// A window during which a fault was active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// Index into [`RunRecord::sites`]; `None` for faults of the engine itself.
    pub site: Option<usize>,
    /// Fault kind as written in scenarios (`down`, `partition`, …).
    pub kind: String,
    /// Index into [`RunRecord::cameras`] for per-camera faults (`stream_loss`).
    pub camera: Option<usize>,
    pub start: Nanos,
    /// Equal to `start` for instantaneous faults (`token_expiry`).
    pub end: Nanos,
}

/// Ground truth of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub sites: Vec<String>,
    pub cameras: Vec<String>,
    /// End of the scenario; metric windows are clipped here.
    pub end: Nanos,
    /// End of the settle period after `end` (faults healed, no clicks).
    pub settled_at: Nanos,
    /// Every click, sorted by time (ties keep scenario order).
    pub clicks: Vec<ClickRecord>,
    /// `manual[site][camera]`: when the recorder was manually recording.
    pub manual: Vec<Vec<IntervalSet>>,
    /// `footage[site][camera]`: footage actually written (pre-buffer included).
    pub footage: Vec<Vec<IntervalSet>>,
    /// `final_manual[site][camera]`: manual-recording state at `settled_at`.
    pub final_manual: Vec<Vec<bool>>,
    pub faults: Vec<FaultWindow>,
}
