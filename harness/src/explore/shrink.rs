//! Shrinking a violating world to a small reproducer.
//!
//! Greedy delta debugging against one predicate — "this guarantee key is
//! still violated" — over the scenario's parts, repeated until a whole pass
//! changes nothing (or the budget of runs is spent):
//!
//! 1. generated sessions become explicit clicks (the same run, but each
//!    click can now go on its own);
//! 2. fewer faults, then fewer clicks (halves first, then one by one);
//! 3. fewer cameras (the ones still used, renumbered from `cam-001`) and one
//!    recorder per site;
//! 4. shorter faults (halving), a shorter run;
//! 5. simpler latencies (a fixed value for the site and `slow` faults) and
//!    click times rounded to the millisecond, then the second;
//!
//! and at the end a start click followed by a stop click of the same camera
//! is written back as one `[[session]]` when that keeps the violation.
//! The scenario's seed never changes, so every step is a deterministic run.

use engine::core::{Nanos, Sabotage, MILLIS, SECS};
use sim::world::latency::LatencyDist;

use crate::scenario::{camera_name, ClickDef, FaultKind, Scenario, SessionDef};
use crate::workload;

use super::check;

/// The outcome of shrinking.
#[derive(Debug, Clone)]
pub struct Shrunk {
    pub scenario: Scenario,
    /// Runs spent.
    pub runs: usize,
}

struct Shrinker<'a> {
    key: &'a str,
    sabotage: Sabotage,
    budget: usize,
    runs: usize,
}

impl Shrinker<'_> {
    fn fails(&mut self, s: &Scenario) -> bool {
        if self.runs >= self.budget {
            return false;
        }
        self.runs += 1;
        check(s, self.sabotage)
            .violations
            .iter()
            .any(|k| k == self.key)
    }

    /// Tries `candidate`; keeps it in `s` when it still fails.
    fn attempt(&mut self, s: &mut Scenario, candidate: Scenario) -> bool {
        if candidate != *s && self.fails(&candidate) {
            *s = candidate;
            true
        } else {
            false
        }
    }

    /// Removes items of the list `field` selects, halves first.
    fn reduce_list<T: Clone>(
        &mut self,
        s: &mut Scenario,
        field: fn(&mut Scenario) -> &mut Vec<T>,
    ) -> bool {
        let mut changed = false;
        let mut chunk = field(s).len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            while i < field(s).len() {
                let mut candidate = s.clone();
                let list = field(&mut candidate);
                let end = (i + chunk).min(list.len());
                list.drain(i..end);
                if self.attempt(s, candidate) {
                    changed = true;
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        changed
    }
}

/// Shrinks `s` while guarantee `key` stays violated (with `sabotage`
/// planted), spending at most `budget` runs.
pub fn shrink(s: &Scenario, key: &str, sabotage: Sabotage, budget: usize) -> Shrunk {
    let mut sh = Shrinker {
        key,
        sabotage,
        budget,
        runs: 0,
    };
    let mut s = s.clone();

    // 1. Generated sessions → explicit clicks (the same run).
    let mut explicit = s.clone();
    explicit.clicks = workload::clicks(&s)
        .into_iter()
        .map(|c| ClickDef {
            camera: c.camera,
            at: c.at,
            recording: c.recording,
        })
        .collect();
    explicit.sessions.clear();
    explicit.workloads.clear();
    sh.attempt(&mut s, explicit);

    for _pass in 0..4 {
        let mut changed = false;
        changed |= sh.reduce_list(&mut s, |s| &mut s.faults);
        changed |= sh.reduce_list(&mut s, |s| &mut s.clicks);
        changed |= sh.reduce_list(&mut s, |s| &mut s.sessions);
        changed |= sh.reduce_list(&mut s, |s| &mut s.workloads);
        changed |= fewer_cameras(&mut sh, &mut s);
        changed |= shorter_faults(&mut sh, &mut s);
        changed |= shorter_run(&mut sh, &mut s);
        changed |= simpler_sites(&mut sh, &mut s);
        changed |= rounder_times(&mut sh, &mut s);
        if !changed || sh.runs >= sh.budget {
            break;
        }
    }
    sessions_back(&mut sh, &mut s);
    Shrunk {
        scenario: s,
        runs: sh.runs,
    }
}

/// Keeps only the cameras still used, renumbered; one recorder per site.
fn fewer_cameras(sh: &mut Shrinker<'_>, s: &mut Scenario) -> bool {
    let mut changed = false;
    let mut used: Vec<usize> = s.clicks.iter().map(|c| c.camera).collect();
    used.extend(s.sessions.iter().map(|x| x.camera));
    used.extend(s.faults.iter().filter_map(|f| match f.kind {
        FaultKind::StreamLoss { camera } => Some(camera),
        _ => None,
    }));
    for w in &s.workloads {
        used.extend(w.cameras.iter().copied());
    }
    used.sort_unstable();
    used.dedup();
    let count = used.len().max(1);
    if count < s.cameras.len() {
        let map = |c: usize| used.binary_search(&c).unwrap_or(0);
        let mut c = s.clone();
        c.cameras = (1..=count).map(|i| camera_name(i, count)).collect();
        for x in &mut c.clicks {
            x.camera = map(x.camera);
        }
        for x in &mut c.sessions {
            x.camera = map(x.camera);
        }
        for w in &mut c.workloads {
            for cam in &mut w.cameras {
                *cam = map(*cam);
            }
        }
        for f in &mut c.faults {
            if let FaultKind::StreamLoss { camera } = &mut f.kind {
                *camera = map(*camera);
            }
        }
        changed |= sh.attempt(s, c);
    }
    for i in 0..s.sites.len() {
        if s.sites[i].recorders > 1 {
            let mut c = s.clone();
            c.sites[i].recorders = 1;
            changed |= sh.attempt(s, c);
        }
    }
    changed
}

/// Halves fault windows while the violation holds (never below 1 s; a
/// `restart` may become instantaneous).
fn shorter_faults(sh: &mut Shrinker<'_>, s: &mut Scenario) -> bool {
    let mut changed = false;
    for i in 0..s.faults.len() {
        loop {
            let f = &s.faults[i];
            let shorter = match f.kind {
                FaultKind::Restart if f.duration > 0 && f.duration <= SECS => 0,
                _ if f.duration <= SECS => break,
                _ => (f.duration / 2 / MILLIS * MILLIS).max(SECS),
            };
            let mut c = s.clone();
            c.faults[i].duration = shorter;
            if !sh.attempt(s, c) {
                break;
            }
            changed = true;
        }
    }
    changed
}

/// Ends the run shortly after its last event.
fn shorter_run(sh: &mut Shrinker<'_>, s: &mut Scenario) -> bool {
    let mut last: Nanos = 0;
    last = last.max(s.clicks.iter().map(|c| c.at).max().unwrap_or(0));
    for x in &s.sessions {
        last = last.max(x.stop.unwrap_or(x.start));
    }
    last = last.max(s.faults.iter().map(|f| f.end()).max().unwrap_or(0));
    if !s.workloads.is_empty() {
        return false;
    }
    let end = (last + 10 * SECS).div_ceil(SECS) * SECS;
    if end >= s.duration {
        return false;
    }
    let mut c = s.clone();
    c.duration = end;
    sh.attempt(s, c)
}

/// Click times to the whole millisecond, then the whole second (readable
/// files), where that keeps the violation.
fn rounder_times(sh: &mut Shrinker<'_>, s: &mut Scenario) -> bool {
    let mut changed = false;
    for unit in [MILLIS, SECS] {
        let mut c = s.clone();
        for x in &mut c.clicks {
            x.at = x.at / unit * unit;
        }
        changed |= sh.attempt(s, c);
    }
    changed
}

/// A fixed stand-in for a distribution: its median, to the millisecond.
fn fixed(d: &LatencyDist) -> LatencyDist {
    let v = match *d {
        LatencyDist::Fixed(v) => v,
        LatencyDist::Uniform { min, max } => (min + max) / 2,
        LatencyDist::Normal { mean, .. } => mean,
        LatencyDist::LogNormal { median, .. } => median,
        LatencyDist::Pareto { scale, shape } => (scale as f64 * 2f64.powf(1.0 / shape)) as Nanos,
    };
    LatencyDist::Fixed((v / MILLIS * MILLIS).max(MILLIS))
}

/// Fixed latencies; default auto-stop limit and pre-buffer where it still
/// fails.
fn simpler_sites(sh: &mut Shrinker<'_>, s: &mut Scenario) -> bool {
    let mut changed = false;
    for i in 0..s.sites.len() {
        if !matches!(s.sites[i].latency, LatencyDist::Fixed(_)) {
            let mut c = s.clone();
            c.sites[i].latency = fixed(&s.sites[i].latency);
            changed |= sh.attempt(s, c);
        }
    }
    for i in 0..s.faults.len() {
        if let FaultKind::Slow(d) = &s.faults[i].kind {
            if !matches!(d, LatencyDist::Fixed(_)) {
                let mut c = s.clone();
                c.faults[i].kind = FaultKind::Slow(fixed(d));
                changed |= sh.attempt(s, c);
            }
        }
    }
    changed
}

/// Start/stop click pairs of one camera → `[[session]]`s, if still failing.
fn sessions_back(sh: &mut Shrinker<'_>, s: &mut Scenario) {
    if !s.sessions.is_empty() || !s.workloads.is_empty() {
        return;
    }
    let mut c = s.clone();
    let mut clicks = std::mem::take(&mut c.clicks);
    clicks.sort_by_key(|x| x.at);
    let mut keep = Vec::new();
    let mut i = 0;
    while i < clicks.len() {
        let a = clicks[i];
        let next = clicks[i + 1..].iter().position(|x| x.camera == a.camera);
        let tied = clicks
            .iter()
            .enumerate()
            .any(|(j, x)| j != i && x.camera == a.camera && x.at == a.at);
        if let (true, false, Some(off)) = (a.recording, tied, next) {
            let j = i + 1 + off;
            let b = clicks[j];
            if !b.recording && b.at > a.at && b.at <= c.duration && a.at < c.duration {
                c.sessions.push(SessionDef {
                    camera: a.camera,
                    start: a.at,
                    stop: Some(b.at),
                });
                clicks.remove(j);
                i += 1;
                continue;
            }
        }
        keep.push(a);
        i += 1;
    }
    if c.sessions.len() == s.sessions.len() {
        return;
    }
    c.clicks = keep;
    // Explicit sessions of one camera must not overlap (they cannot here:
    // a session is two consecutive clicks of its camera), and they sort
    // ahead of clicks at the same instant, which the run re-checks.
    c.sessions.sort_by_key(|x| (x.start, x.camera));
    sh.attempt(s, c);
}
