//! The checker's own metric computation: a [`History`] in, raw samples out.
//!
//! A second, deliberately plain implementation of the metric definitions in
//! the README ("Metrics"): it shares nothing with `crate::metrics` but the
//! interval type, walks the history the obvious way, and keeps every sample
//! as a number in a list. Disagreement between the two is a bug in one of
//! them; CI runs both on every suite scenario and requires equal figures.

use std::collections::BTreeMap;

use sim::intervals::{IntervalSet, Nanos};

use super::history::History;

/// Recording within this long after a stop click is not orphan time.
pub const DEFAULT_ORPHAN_GRACE: Nanos = 2_000_000_000;

/// A camera that should record counts as recording if it was seen recording
/// in this last stretch of the settle period (a renewal's Stop-then-Start
/// may be in flight at the very end).
const RENEWAL_WINDOW: Nanos = 1_000_000_000;

/// Samples of every metric: `(metric, site)` → values (ns, or 1 per lost
/// intent for `lost_intents`). `site` is `None` for the figure over all sites.
#[derive(Debug, Default)]
pub struct Samples {
    pub values: BTreeMap<(&'static str, Option<usize>), Vec<Nanos>>,
    /// Cameras whose final intent some site disagrees with, overall.
    pub lost: u64,
    /// Per site.
    pub lost_by_site: Vec<u64>,
}

impl Samples {
    /// Adds a sample to the metric's per-site list (when `site` is given)
    /// and to its overall list.
    fn add(&mut self, metric: &'static str, site: Option<usize>, v: Nanos) {
        self.values.entry((metric, None)).or_default().push(v);
        if site.is_some() {
            self.values.entry((metric, site)).or_default().push(v);
        }
    }

    /// The samples of one metric in one scope (empty if none).
    pub fn of(&self, metric: &str, site: Option<usize>) -> &[Nanos] {
        self.values
            .iter()
            .find(|((m, s), _)| *m == metric && *s == site)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// One intent window of one camera: `[start, stop)`.
struct Window {
    start: Nanos,
    stop: Nanos,
    /// No stop click closed it: it ends at the end of the scenario.
    open_ended: bool,
}

/// The intent windows of one camera, and its intent after every click.
fn windows_of(h: &History, camera: usize) -> (Vec<Window>, Option<bool>) {
    let mut clicks: Vec<_> = h.clicks.iter().filter(|c| c.camera == camera).collect();
    clicks.sort_by_key(|c| c.t); // stable: simultaneous clicks keep their order
    let mut windows = Vec::new();
    let mut intent: Option<bool> = None;
    let mut open: Option<Nanos> = None;
    for c in clicks {
        let before = intent.unwrap_or(false);
        intent = Some(c.start);
        // A repeated click (a second Start, a Stop while stopped) changes nothing;
        // clicks at or after the end only decide the final intent.
        if c.start == before || c.t >= h.end {
            continue;
        }
        if c.start {
            open = Some(c.t);
        } else if let Some(start) = open.take() {
            windows.push(Window {
                start,
                stop: c.t,
                open_ended: false,
            });
        }
    }
    if let Some(start) = open {
        windows.push(Window {
            start,
            stop: h.end,
            open_ended: true,
        });
    }
    (windows, intent)
}

/// Every metric's samples.
pub fn compute(h: &History, orphan_grace: Nanos) -> Samples {
    let sites = 0..h.sites.len();
    let mut out = Samples {
        lost_by_site: vec![0; h.sites.len()],
        ..Samples::default()
    };
    let mut all_windows = Vec::new();

    for camera in 0..h.cameras.len() {
        let (windows, intent) = windows_of(h, camera);
        let manual: Vec<IntervalSet> = sites.clone().map(|s| h.manual(s, camera)).collect();
        let footage: Vec<IntervalSet> = sites.clone().map(|s| h.footage(s, camera)).collect();
        let any_footage = footage
            .iter()
            .fold(IntervalSet::new(), |acc, f| acc.union(f));

        // Recording before the camera's first start click is orphan time.
        let first_start = windows.first().map_or(h.end, |w| w.start);
        for s in sites.clone() {
            let orphan = manual[s].clip(0, first_start).measure();
            if orphan > 0 {
                out.add("orphan_time", Some(s), orphan);
            }
        }

        for (i, w) in windows.iter().enumerate() {
            let next_start = windows.get(i + 1).map_or(h.end, |n| n.start);
            // Start latency per site: when the site first records inside the window.
            let start_lat: Vec<Option<Nanos>> = manual
                .iter()
                .map(|m| {
                    let t = m.first_at_or_after(w.start)?;
                    (t < w.stop).then_some(t - w.start)
                })
                .collect();
            let started: Vec<Nanos> = start_lat.iter().flatten().copied().collect();
            if started.len() == h.sites.len() && !started.is_empty() {
                let hi = *started.iter().max().expect("non-empty");
                let lo = *started.iter().min().expect("non-empty");
                out.add("dual_start_latency", None, hi);
                out.add("start_skew", None, hi - lo);
            }
            for (s, lat) in start_lat.iter().enumerate() {
                if let Some(l) = *lat {
                    out.add("start_latency", Some(s), l);
                    let gap = IntervalSet::single(w.start + l, w.stop)
                        .subtract(&footage[s])
                        .measure();
                    out.add("site_gap", Some(s), gap);
                }
            }
            let from = started.iter().min().map_or(w.start, |l| w.start + l);
            let union_gap = IntervalSet::single(from, w.stop)
                .subtract(&any_footage)
                .measure();
            out.add("union_gap", None, union_gap);

            if !w.open_ended {
                let mut stop_lat = Vec::new();
                for s in sites.clone() {
                    // First instant at or after the stop click with no manual
                    // recording, but never past the next start click.
                    let stopped_at = manual[s].first_gap_at_or_after(w.stop).min(next_start);
                    stop_lat.push(stopped_at - w.stop);
                    out.add("stop_latency", Some(s), stopped_at - w.stop);
                    let orphan = manual[s]
                        .clip(w.stop.saturating_add(orphan_grace), next_start)
                        .measure();
                    out.add("orphan_time", Some(s), orphan);
                }
                if let (Some(hi), Some(lo)) = (stop_lat.iter().max(), stop_lat.iter().min()) {
                    out.add("stop_skew", None, hi - lo);
                }
            }
        }

        // Lost intent: the final state on some site is not the final intent.
        if let Some(want) = intent {
            let tail = h.settled.saturating_sub(RENEWAL_WINDOW).max(h.end);
            let mut lost_somewhere = false;
            for s in sites.clone() {
                let at_settle = h.recording_at_settle.contains(&(s, camera));
                let agrees = if want {
                    at_settle || !manual[s].clip(tail, h.settled).is_empty()
                } else {
                    !at_settle
                };
                if !agrees {
                    out.lost_by_site[s] += 1;
                    lost_somewhere = true;
                }
            }
            out.lost += u64::from(lost_somewhere);
        }
        all_windows.push(windows);
    }

    // Recovery: from the end of a site fault, for every session open then,
    // until the site records the camera and writes footage again.
    for f in &h.faults {
        if f.kind == "token_expiry" {
            continue; // instantaneous: nothing to recover from
        }
        for (camera, windows) in all_windows.iter().enumerate() {
            if f.kind == "stream_loss" && f.camera.is_some_and(|c| c != camera) {
                continue;
            }
            for w in windows
                .iter()
                .filter(|w| w.start <= f.end && f.end < w.stop)
            {
                let healthy = h
                    .manual(f.site, camera)
                    .intersect(&h.footage(f.site, camera))
                    .clip(f.end, w.stop);
                let back = healthy.spans().first().map_or(w.stop, |s| s.start);
                out.add("recovery_time", Some(f.site), back - f.end);
            }
        }
    }
    out
}
