//! Sessions: the user's intent windows, derived from each camera's clicks.
//!
//! Clicks of one camera are read in time order (ties keep record order):
//!
//! - a start click opens a window; a start while a window is already open is a
//!   *double click* and is ignored (counted in [`ClickTally::double_starts`]);
//! - a stop click closes the open window; a stop while none is open is ignored
//!   (counted in [`ClickTally::stray_stops`]);
//! - a window still open at `record.end` is closed at `end` and marked
//!   *open-ended*: it has no stop click, so no stop metrics;
//! - clicks at or after `record.end` open or close no window (counted in
//!   [`ClickTally::after_end`]), but they do count for the camera's final
//!   intent, which is the state after *every* click.
//!
//! This module also holds [`SessionRecord`], the per-session figures kept for
//! reports (worst sessions).

use serde::{Deserialize, Serialize};
use sim::intervals::Nanos;
use sim::world::record::RunRecord;

/// One intent window `[start, stop)` of one camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntentWindow {
    /// Index into `RunRecord::cameras`.
    pub camera: usize,
    /// The start click.
    pub start: Nanos,
    /// The stop click, or `record.end` when open-ended.
    pub stop: Nanos,
    /// Still open at `record.end` (no stop click).
    pub open_ended: bool,
}

/// What happened to clicks that opened or closed no window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickTally {
    /// Every click in the record.
    pub clicks: u64,
    /// Start clicks while a window was already open (ignored).
    pub double_starts: u64,
    /// Stop clicks while no window was open (ignored).
    pub stray_stops: u64,
    /// Clicks at or after `record.end` (no window; final intent only).
    pub after_end: u64,
}

/// Intent windows of a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intents {
    /// `windows[camera]`, in time order; windows of one camera never overlap.
    pub windows: Vec<Vec<IntentWindow>>,
    /// `final_intent[camera]`: `Some(true)` if the last click left the camera
    /// recording, `Some(false)` if stopped, `None` if it was never clicked.
    pub final_intent: Vec<Option<bool>>,
    pub tally: ClickTally,
}

/// Derives every camera's intent windows from the record's clicks.
///
/// Clicks whose camera index is out of range are skipped (the caller checks
/// the record's shape first).
pub fn derive_intents(record: &RunRecord) -> Intents {
    let n = record.cameras.len();
    let mut clicks: Vec<_> = record.clicks.iter().collect();
    clicks.sort_by_key(|c| c.at); // stable: ties keep record order
    let mut open: Vec<Option<Nanos>> = vec![None; n];
    let mut out = Intents {
        windows: vec![Vec::new(); n],
        final_intent: vec![None; n],
        tally: ClickTally::default(),
    };
    for click in clicks {
        let c = click.camera;
        if c >= n {
            continue;
        }
        out.tally.clicks += 1;
        let was = out.final_intent[c].unwrap_or(false);
        out.final_intent[c] = Some(click.recording);
        if click.recording == was {
            if click.recording {
                out.tally.double_starts += 1;
            } else {
                out.tally.stray_stops += 1;
            }
            continue;
        }
        if click.at >= record.end {
            out.tally.after_end += 1;
            continue;
        }
        if click.recording {
            open[c] = Some(click.at);
        } else if let Some(start) = open[c].take() {
            out.windows[c].push(IntentWindow {
                camera: c,
                start,
                stop: click.at,
                open_ended: false,
            });
        }
    }
    for (c, start) in open.into_iter().enumerate() {
        if let Some(start) = start {
            out.windows[c].push(IntentWindow {
                camera: c,
                start,
                stop: record.end,
                open_ended: true,
            });
        }
    }
    out
}

/// Figures of one session on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSession {
    pub site: String,
    /// Time from the start click until the site manually recorded the camera;
    /// `None` if it did not before the window closed.
    pub start_latency_ns: Option<Nanos>,
    /// The site never started inside the window.
    pub not_started: bool,
    /// Time from the stop click until the site stopped, capped at the next
    /// session's start (or `record.end`); `None` for open-ended sessions.
    pub stop_latency_ns: Option<Nanos>,
    /// The site was still recording at the cap: `stop_latency_ns` is a lower
    /// bound.
    pub stop_censored: bool,
    /// Time without footage on this site after it started, inside the window;
    /// `None` if it never started.
    pub site_gap_ns: Option<Nanos>,
    /// Manual recording between `stop + orphan_grace` and the next start (or
    /// `record.end`); `None` for open-ended sessions.
    pub orphan_time_ns: Option<Nanos>,
}

/// Figures of one session (one intent window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub camera: String,
    /// The start click.
    pub start_ns: Nanos,
    /// The stop click, or `record.end` when open-ended.
    pub stop_ns: Nanos,
    pub open_ended: bool,
    /// Per site, in the record's site order.
    pub sites: Vec<SiteSession>,
    /// Max over sites of start latency; `None` unless every site started.
    pub dual_start_latency_ns: Option<Nanos>,
    /// Max − min of start latency; `None` unless every site started.
    pub start_skew_ns: Option<Nanos>,
    /// Max − min of stop latency; `None` for open-ended sessions.
    pub stop_skew_ns: Option<Nanos>,
    /// Time in `[start + min start latency, stop)` (from `start` when no site
    /// started) with footage on no site.
    pub union_gap_ns: Nanos,
}

impl SessionRecord {
    /// Largest orphan time over sites (0 for open-ended sessions).
    pub fn worst_orphan_ns(&self) -> Nanos {
        self.sites
            .iter()
            .filter_map(|s| s.orphan_time_ns)
            .max()
            .unwrap_or(0)
    }

    /// Ordering key for "worst sessions", worst first when sorted ascending:
    /// union gap, then dual-start latency (a session some site never started
    /// counts as worse than any latency), then orphan time, all descending;
    /// then start time and camera ascending.
    pub fn badness_key(&self) -> impl Ord + '_ {
        use std::cmp::Reverse;
        (
            Reverse(self.union_gap_ns),
            Reverse(self.dual_start_latency_ns.unwrap_or(Nanos::MAX)),
            Reverse(self.worst_orphan_ns()),
            self.start_ns,
            self.camera.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::world::record::ClickRecord;

    fn record(clicks: &[(Nanos, usize, bool)], end: Nanos) -> RunRecord {
        RunRecord {
            sites: vec!["a".into()],
            cameras: vec!["c1".into(), "c2".into()],
            end,
            settled_at: end,
            clicks: clicks
                .iter()
                .map(|&(at, camera, recording)| ClickRecord {
                    at,
                    camera,
                    recording,
                })
                .collect(),
            manual: vec![vec![Default::default(); 2]],
            footage: vec![vec![Default::default(); 2]],
            final_manual: vec![vec![false; 2]],
            faults: vec![],
        }
    }

    #[test]
    fn metrics_sessions_double_click_stray_stop_and_open_end() {
        let r = record(
            &[
                (5, 0, false), // stray stop
                (10, 0, true),
                (13, 0, true), // double click
                (20, 0, false),
                (30, 0, true), // open at end
                (15, 1, true),
                (100, 1, false), // at end: final intent only
            ],
            100,
        );
        let i = derive_intents(&r);
        let w = |camera, start, stop, open_ended| IntentWindow {
            camera,
            start,
            stop,
            open_ended,
        };
        assert_eq!(
            i.windows,
            vec![
                vec![w(0, 10, 20, false), w(0, 30, 100, true)],
                vec![w(1, 15, 100, true)],
            ]
        );
        assert_eq!(i.final_intent, vec![Some(true), Some(false)]);
        assert_eq!(
            i.tally,
            ClickTally {
                clicks: 7,
                double_starts: 1,
                stray_stops: 1,
                after_end: 1
            }
        );
    }
}
