//! Worlds aimed at renewal hand-overs while the other site is out.
//!
//! Uniformly random schedules rarely line a fault up with the few hundred
//! milliseconds of a renewal's hand-over, yet that is where one site alone
//! carries the evidence and where the engine's timing rules matter most.
//! An aimed world takes one camera, gives it a long session on a site with
//! a short auto-stop limit (the *carrier*), predicts when the engine will
//! renew it there, takes the other site out from before the renewal falls
//! due (`start + k·(limit − margin)`, the engine's own rule with the timer
//! dated from the Start's send) until after the renewal's *last moment*
//! (a third of the margin before the auto-stop: with no other site to
//! cover it, the engine waits for cover until then), and adds one of:
//!
//! - **timer**: a partition that begins while the session's Start is on the
//!   wire (the Start executes, its reply is lost) and outlasts the renewal
//!   margin, so the engine must not date the auto-stop timer from the Start
//!   it re-sends afterwards;
//! - **stop click**: the user's Stop lands inside the renewal's hand-over;
//! - **mild fault**: errors (≤ 30 %), lost replies (≤ 30 %), a token expiry
//!   or a moderate latency tail right at the hand-over, sometimes on a site
//!   with a 100–200 ms one-way latency and a short pre-buffer.
//!
//! Every fault it adds keeps the one-healthy-site rule (one outage at a
//! time, mild faults anywhere), so a violation is a real broken promise.

use engine::core::{Nanos, MILLIS, SECS};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sim::world::latency::LatencyDist;

use super::generate::{fits, log_uniform, ms, tail_latency, RECOVERY_MARGIN};
use crate::scenario::{ClickDef, FaultDef, FaultKind, Scenario, SessionDef, WorkloadDef};

/// The patterns an aimed world may take.
const PATTERNS: usize = 3;

/// A rough one-way latency of `d` (its median or mean).
fn typical(d: &LatencyDist) -> Nanos {
    match *d {
        LatencyDist::Fixed(v) => v,
        LatencyDist::Uniform { min, max } => (min + max) / 2,
        LatencyDist::Normal { mean, .. } => mean,
        LatencyDist::LogNormal { median, .. } => median,
        LatencyDist::Pareto { scale, .. } => scale,
    }
}

/// Adds an aimed pattern to `s` (sessions, clicks, site settings, faults),
/// or leaves it untouched when the base has fewer than two sites, no
/// auto-stop limit or too short a run.
pub(super) fn aim(rng: &mut ChaCha8Rng, s: &mut Scenario, safe: bool) {
    let d = s.duration;
    if s.sites.len() < 2 || d < 2 * 60 * SECS {
        return;
    }
    let carrier = rng.random_range(0..s.sites.len());
    if s.sites[carrier].manual_recording_max.is_none() {
        return;
    }
    let other = (carrier + rng.random_range(1..s.sites.len())) % s.sites.len();
    let limit = [60, 90, 120][rng.random_range(0..3)] * SECS;
    s.sites[carrier].manual_recording_max = Some(limit);
    if rng.random_bool(0.5) {
        s.sites[carrier].prebuffer = [SECS, 2 * SECS][rng.random_range(0..2)];
    }
    if rng.random_bool(0.35) {
        // A far site: hand-overs take a sizeable share of the pre-buffer.
        s.sites[carrier].latency = tail_latency(rng, 100 * MILLIS, 200 * MILLIS, 400 * MILLIS);
    }
    let lat = typical(&s.sites[carrier].latency).max(MILLIS);
    let margin = s.policy.renew_before.min(limit / 2);

    // The camera's long session, kept free of workload clicks.
    let camera = rng.random_range(0..s.cameras.len());
    // A workload over the camera splits into the contiguous ranges on
    // either side of it (scenario files name ranges), sharing its rate.
    let mut workloads = Vec::new();
    for w in std::mem::take(&mut s.workloads) {
        if !w.cameras.contains(&camera) {
            workloads.push(w);
            continue;
        }
        let total = w.cameras.len() as f64;
        let (left, right): (Vec<usize>, Vec<usize>) = w
            .cameras
            .iter()
            .filter(|&&c| c != camera)
            .partition(|&&c| c < camera);
        for part in [left, right] {
            if part.is_empty() {
                continue;
            }
            let per_minute = (w.per_minute * part.len() as f64 / total * 100.0).round() / 100.0;
            workloads.push(WorkloadDef {
                cameras: part,
                per_minute,
                ..w.clone()
            });
        }
    }
    s.workloads = workloads;
    s.sessions.retain(|x| x.camera != camera);
    let start = ms(rng.random_range(SECS..d / 6));
    s.sessions.push(SessionDef {
        camera,
        start,
        stop: None,
    });
    // Renewals fall due at `start + k·(limit − margin)`; with the other
    // site out, the hand-over goes at the last moment.
    let period = limit - margin;
    let uncovered = margin - margin / 3;
    let dues: Vec<Nanos> = (1..)
        .map(|k| start + k * period)
        .take_while(|&t| t + uncovered + 20 * SECS < d)
        .collect();
    if dues.is_empty() {
        return;
    }
    let due = dues[rng.random_range(0..dues.len())];
    let renewal = due + uncovered;

    let mut faults: Vec<FaultDef> = Vec::new();
    let sites = s.sites.clone();
    let push = |f: FaultDef, faults: &mut Vec<FaultDef>| {
        if f.duration < d && f.end() <= d && (!safe || fits(&f, faults, &sites)) {
            faults.push(f);
        }
    };
    // The other site out around `[from, to)`.
    let outage = |rng: &mut ChaCha8Rng, from: Nanos, to: Nanos| FaultDef {
        site: Some(other),
        kind: [FaultKind::Down, FaultKind::Partition, FaultKind::Hang][rng.random_range(0..3)]
            .clone(),
        at: ms(from),
        duration: ms(to.saturating_sub(from)).max(SECS),
    };
    match rng.random_range(0..PATTERNS) {
        0 => {
            // The Start executes, its reply is cut off by a partition that
            // outlasts the renewal margin; the other site is out when the
            // recorder's own timer (dated from the first Start) runs out.
            // Cut between the Start's arrival and its reply's (one-way
            // latency around `lat` each way).
            let cut = start + ms(rng.random_range(lat / 2..=5 * lat / 2).max(MILLIS));
            // Longer than the margin, short enough that the other site's
            // outage (after the recovery margin) covers the auto-stop.
            let longest = limit.saturating_sub(RECOVERY_MARGIN + 3 * SECS);
            let length = ms(rng.random_range(margin + 2 * SECS..=longest.max(margin + 2 * SECS)));
            let first = FaultDef {
                site: Some(carrier),
                kind: FaultKind::Partition,
                at: cut,
                duration: length,
            };
            let from = first.end() + RECOVERY_MARGIN + SECS;
            let to = start + limit + ms(log_uniform(rng, 3 * SECS, 15 * SECS));
            let heal = first.end();
            push(first, &mut faults);
            if rng.random_bool(0.6) {
                // The tokens die as the partition heals: the engine logs in
                // and re-sends the Start before any probe can see the
                // recording. An instant at the partition's own end, so the
                // partition's recovery is measured as before (the one
                // same-site overlap the rule allows, see `fits`).
                let expiry = FaultDef {
                    site: Some(carrier),
                    kind: FaultKind::TokenExpiry,
                    at: heal,
                    duration: 0,
                };
                push(expiry, &mut faults);
            }
            if from < to {
                push(outage(rng, from, to), &mut faults);
            }
        }
        1 => {
            // The user's Stop lands inside the hand-over.
            let from = due.saturating_sub(ms(log_uniform(rng, 3 * SECS, 20 * SECS)));
            let to = renewal + ms(log_uniform(rng, 2 * SECS, 10 * SECS));
            push(outage(rng, from, to), &mut faults);
            s.clicks.push(ClickDef {
                camera,
                at: renewal + rng.random_range(0..=4 * lat) / MILLIS * MILLIS,
                recording: false,
            });
        }
        _ => {
            let from = due.saturating_sub(ms(log_uniform(rng, 3 * SECS, 20 * SECS)));
            let to = renewal + ms(log_uniform(rng, 2 * SECS, 10 * SECS));
            push(outage(rng, from, to), &mut faults);
            let before = ms(rng.random_range(0..=2 * SECS));
            let after = ms(log_uniform(rng, 2 * SECS, 8 * SECS));
            let (kind, at, duration) = match rng.random_range(0..4) {
                0 => (
                    FaultKind::Errors {
                        rate: [0.2, 0.3][rng.random_range(0..2)],
                    },
                    renewal.saturating_sub(before),
                    before + after,
                ),
                1 => (
                    FaultKind::LostReplies {
                        rate: [0.1, 0.2, 0.3][rng.random_range(0..3)],
                    },
                    renewal.saturating_sub(before),
                    before + after,
                ),
                2 => (
                    FaultKind::TokenExpiry,
                    renewal + rng.random_range(0..=4 * lat) / MILLIS * MILLIS,
                    0,
                ),
                _ => (
                    FaultKind::Slow(tail_latency(rng, 20 * MILLIS, 100 * MILLIS, 400 * MILLIS)),
                    renewal.saturating_sub(before),
                    before + after,
                ),
            };
            push(
                FaultDef {
                    site: Some(carrier),
                    kind,
                    at,
                    duration,
                },
                &mut faults,
            );
        }
    }
    s.faults.extend(faults);
}
