//! Generating random worlds from a base scenario (swarm testing).
//!
//! A world keeps the base's sites, cameras, duration and policy, and gets a
//! fresh random workload, click races and fault schedule, all drawn from one
//! `ChaCha8Rng` seeded with the world's own seed — so a world is a pure
//! function of `(base, knobs, seed)`. Each world also enables a random
//! subset of the fault kinds ("swarm" configurations find more than uniform
//! mixes) and may swap a site's latency for a tail, shorten its auto-stop
//! limit or its pre-buffer.
//!
//! Under [`FaultRule::OneSiteHealthy`] the schedule keeps at least one site
//! healthy at every instant (see [`Class`]); under [`FaultRule::AnyOutage`]
//! anything goes, and only the guarantees that must hold even then are
//! checked (see [`guarantees`]).

use engine::core::{Nanos, MILLIS, SECS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::world::latency::LatencyDist;

use crate::guarantee::{Cmp, Guarantee, Threshold};
use crate::scenario::guarantees::parse_guarantee;
use crate::scenario::{ClickDef, FaultDef, FaultKind, Scenario, SessionDef, SiteDef, WorkloadDef};
use crate::workload;

/// After a fault heals, the site counts as unhealthy this much longer: the
/// engine's 3 s reaction time plus a round trip or two.
pub const RECOVERY_MARGIN: Nanos = 5 * SECS;

/// The reaction time the engine promises (README, "Engine behaviour"):
/// a lost recording is re-asserted within this long of its site being
/// reachable again.
pub const REACTION_TIME: Nanos = 3 * SECS;

/// The recovery bound the explorer checks for a world whose sites have
/// these latencies: the reaction time plus three one-way trips at the
/// slowest site's 99th percentile — the health probe that finds the site
/// back (there and back) and the Start that re-asserts the recording
/// (there). The engine cannot make the network faster; a fixed 3 s would
/// blame it for a 200 ms one-way link.
pub fn recovery_bound(sites: &[SiteDef]) -> Nanos {
    let slowest = sites
        .iter()
        .map(|s| tail_p99(&s.latency).min(10 * SECS))
        .max()
        .unwrap_or(0);
    REACTION_TIME + 3 * slowest
}

/// Which fault schedules may be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultRule {
    /// At least one site healthy at every instant; checks the full promise
    /// (no evidence gap, recovery within the reaction time, nothing lost).
    OneSiteHealthy,
    /// Every site may be out at once; checks only what must hold even then
    /// (no lost intent and no orphan once the world has settled).
    AnyOutage,
}

/// Generation knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// Scales the number of faults, sessions and races (1.0 = default).
    pub intensity: f64,
    pub rule: FaultRule,
    /// Hold worlds to the base's own recovery bounds as written, also where
    /// they are tighter than the explorer's latency-derived bound (see
    /// [`guarantees`]): for a base that states what a site must do under
    /// any fault, not what its own faults measured.
    pub base_bounds: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            intensity: 1.0,
            rule: FaultRule::OneSiteHealthy,
            base_bounds: false,
        }
    }
}

/// What a fault does to the "one healthy site" rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The site may lose footage or stop answering: no other site may be in
    /// an outage at the same time.
    Outage,
    /// The site stays usable (token expiry, a low error rate, a moderate
    /// latency tail): may overlap anything on other sites.
    Mild,
    /// The engine itself: overlaps no other fault.
    Engine,
}

/// One-way trips a renewal hand-over needs when a mild fault strikes it:
/// the Stop's reply, the Start, the Start's fault, a fresh login there and
/// back, and the Start again.
pub const FAULTED_HANDOVER_TRIPS: u64 = 6;

/// The chance of a hand-over's every Start failing that a mild fault may
/// leave: small enough that no exploration of millions of worlds meets it.
pub const STREAK_CHANCE: f64 = 1e-9;

/// Classifies a fault for [`FaultRule::OneSiteHealthy`], on its site
/// (`None`: every site).
///
/// A fault is mild only where the engine can absorb it inside a renewal's
/// hand-over, which may be the one moment a site carries the evidence
/// alone: [`FAULTED_HANDOVER_TRIPS`] one-way trips at the site's 99th
/// percentile (under the fault's own latency, for a slow link) must fit in
/// its pre-buffer. A fault that strikes at a `rate` (errors, lost replies)
/// may strike every attempt in a row: the Starts that fit in the
/// pre-buffer after the Stop's round trip, one round trip each, must all
/// fail with a chance of at most [`STREAK_CHANCE`]. On a site too far for
/// that, the fault mid-hand-over costs footage whatever the engine does,
/// so it counts as an outage.
pub fn class(kind: &FaultKind, site: Option<&SiteDef>) -> Class {
    let mild = match kind {
        FaultKind::EngineCrash => return Class::Engine,
        FaultKind::TokenExpiry => true,
        FaultKind::Errors { rate } | FaultKind::LostReplies { rate } => *rate <= 0.3,
        FaultKind::Slow(d) => tail_p99(d) <= 500 * MILLIS,
        _ => false,
    };
    let room = |s: &SiteDef| {
        let trip = match kind {
            FaultKind::Slow(d) => tail_p99(d).max(tail_p99(&s.latency)),
            _ => tail_p99(&s.latency),
        };
        if trip.saturating_mul(FAULTED_HANDOVER_TRIPS) > s.prebuffer {
            return false;
        }
        match kind {
            FaultKind::Errors { rate } | FaultKind::LostReplies { rate } => {
                let round_trip = (2 * trip).max(1);
                let attempts = s.prebuffer.saturating_sub(round_trip) / round_trip;
                rate.powi(attempts.min(i32::MAX as u64) as i32) <= STREAK_CHANCE
            }
            _ => true,
        }
    };
    if mild && site.is_none_or(room) {
        Class::Mild
    } else {
        Class::Outage
    }
}

/// The z-score of the latency quantile [`covers_alone`] is judged at: one
/// trip in ten million is slower (a 100,000-world exploration sends a few
/// million requests, and only the few at an uncovered moment matter).
const Z_COVER: f64 = 5.199;

/// Whether a site can carry the evidence alone while another site is in an
/// outage, with one-way `latency` (its own, or a `slow` fault's). The
/// uncovered moments of a site alone are a renewal's hand-over (the Stop's
/// reply, then the Start: two trips) and a click's Start (one trip); they
/// must fit its pre-buffer even when one of the trips is a one-in-ten-
/// million one (two slow trips together are far rarer still). A site with a
/// longer tail loses footage at some renewal or click while the other is
/// out, whatever the engine does (explorer world 686 of seed 11 on
/// `slow-site-tail`: a renewal on a 2 s p99 site took 5.2 s while the
/// primary was down), so the rule keeps the other site's outages away.
pub fn covers_alone(site: &SiteDef, latency: &LatencyDist) -> bool {
    tail_quantile(latency).saturating_add(median(latency)) <= site.prebuffer
}

/// The median of a distribution.
fn median(d: &LatencyDist) -> Nanos {
    match *d {
        LatencyDist::Fixed(v) => v,
        LatencyDist::Uniform { min, max } => min / 2 + max / 2,
        LatencyDist::Normal { mean, .. } => mean,
        LatencyDist::LogNormal { median, .. } => median,
        LatencyDist::Pareto { scale, shape } => {
            (scale as f64 * 2f64.powf(1.0 / shape.max(0.01))).min(3.6e12) as Nanos
        }
    }
}

/// The latency one trip in ten million exceeds (see [`Z_COVER`]).
fn tail_quantile(d: &LatencyDist) -> Nanos {
    let q = match *d {
        LatencyDist::Fixed(v) => return v,
        LatencyDist::Uniform { max, .. } => return max,
        LatencyDist::Normal { mean, stddev } => mean as f64 + Z_COVER * stddev as f64,
        LatencyDist::LogNormal { median, p99 } => {
            let (m, p) = (median.max(1) as f64, p99.max(median).max(1) as f64);
            let sigma = (p / m).ln() / 2.326_348;
            m * (sigma * Z_COVER).exp()
        }
        // P(X > x) = (scale / x)^shape = 1e-7.
        LatencyDist::Pareto { scale, shape } => scale as f64 * 1e7f64.powf(1.0 / shape.max(0.01)),
    };
    q.min(3.6e12) as Nanos
}

/// A conservative 99th percentile of a distribution.
fn tail_p99(d: &LatencyDist) -> Nanos {
    match *d {
        LatencyDist::Fixed(v) => v,
        LatencyDist::Uniform { max, .. } => max,
        LatencyDist::Normal { mean, stddev } => mean + 3 * stddev,
        LatencyDist::LogNormal { p99, .. } => p99,
        // A tail index under 2 has no variance: treat it as unbounded.
        LatencyDist::Pareto { shape, .. } if shape < 2.0 => Nanos::MAX,
        LatencyDist::Pareto { scale, shape } => {
            (scale as f64 * 100f64.powf(1.0 / shape.max(0.01))).min(3.6e12) as Nanos
        }
    }
}

/// The window a fault occupies for the rule: its own plus the time its site
/// may take to recover — the recovery margin, or the world's recovery bound
/// where its links are slower (a 2 s p99 tail: 9 s). A second fault inside
/// that would be charged to the first one's recovery, and a site still
/// recovering is not a healthy one.
fn window(f: &FaultDef, sites: &[SiteDef]) -> (Nanos, Nanos) {
    (f.at, f.end() + RECOVERY_MARGIN.max(recovery_bound(sites)))
}

/// Classifies `f` on its own site of `sites` (see [`class`]).
fn class_on(f: &FaultDef, sites: &[SiteDef]) -> Class {
    match f.site {
        Some(i) => class(&f.kind, sites.get(i)),
        // Every site: mild only if mild on each.
        None if sites.iter().all(|s| class(&f.kind, Some(s)) == Class::Mild) => {
            class(&f.kind, None)
        }
        None => match class(&f.kind, None) {
            Class::Engine => Class::Engine,
            _ => Class::Outage,
        },
    }
}

/// Whether `f` may join `faults` under the one-healthy-site rule, on a
/// world with these `sites`.
pub fn fits(f: &FaultDef, faults: &[FaultDef], sites: &[SiteDef]) -> bool {
    let (a0, a1) = window(f, sites);
    let ca = class_on(f, sites);
    // An outage leaves the other sites to carry the evidence alone.
    if ca == Class::Outage && !others_cover(f, None, sites) {
        return false;
    }
    faults.iter().all(|g| {
        let (b0, b1) = window(g, sites);
        let overlap = a0 < b1 && b0 < a1;
        if !overlap {
            return true;
        }
        let cb = class_on(g, sites);
        if ca == Class::Engine || cb == Class::Engine {
            return false;
        }
        // A token expiry at the very instant another fault on its site heals
        // adds no recovery of its own (aimed worlds use it).
        let at_heal =
            |x: &FaultDef, y: &FaultDef| x.kind == FaultKind::TokenExpiry && x.at == y.end();
        if f.site == g.site && (at_heal(f, g) || at_heal(g, f)) {
            return true;
        }
        // A slow link on the site left alone must still let it cover.
        let slowed_cover = |x: &FaultDef, cx: Class, y: &FaultDef| {
            cx != Class::Outage || others_cover(x, Some(y), sites)
        };
        // One fault at a time per site (each one's recovery is measured),
        // and never two sites in an outage at once.
        f.site != g.site
            && !(ca == Class::Outage && cb == Class::Outage)
            && slowed_cover(f, ca, g)
            && slowed_cover(g, cb, f)
    })
}

/// Whether every site but the one outage `f` takes out covers alone (see
/// [`covers_alone`]), on its own latency or, where `slow` is a `slow` fault
/// on it, on that fault's.
fn others_cover(f: &FaultDef, slow: Option<&FaultDef>, sites: &[SiteDef]) -> bool {
    sites.iter().enumerate().all(|(i, s)| {
        if f.site.is_none_or(|out| out == i) {
            return true;
        }
        match slow {
            Some(FaultDef {
                site: Some(j),
                kind: FaultKind::Slow(d),
                ..
            }) if *j == i => covers_alone(s, d),
            _ => covers_alone(s, &s.latency),
        }
    })
}

/// Whether a whole schedule keeps the rule.
pub fn schedule_fits(faults: &[FaultDef], sites: &[SiteDef]) -> bool {
    (0..faults.len()).all(|i| fits(&faults[i], &faults[i + 1..], sites))
}

/// The guarantees explored worlds are checked against: the base's own
/// guarantees on the metrics the promise covers under faults, then the
/// explorer's (skipping keys the base already states).
///
/// The recovery bound is [`recovery_bound`] of `sites` (the world's own
/// sites, whose latency the explorer may have changed). Only a base's
/// upper bounds carry over: `union_gap.max == 20s` describes the base's
/// own faults (both sites down for 20 s), which the explorer replaces, and
/// would fail every world. A base's own
/// recovery bound applies where it is looser; a tighter one was measured
/// against the base's own faults and latency (a password fixed on a 15 ms
/// link), and the explorer's worlds bring others (a restart found by the
/// next 2 s health probe, a 200 ms link): holding the engine to it blamed
/// the engine for the explorer's own changes (unless `knobs.base_bounds`).
pub fn guarantees(base: &Scenario, sites: &[SiteDef], knobs: Knobs) -> Vec<Guarantee> {
    let bound = recovery_bound(sites).div_ceil(MILLIS) * MILLIS;
    let recovery = format!("< {}ms", bound / MILLIS);
    let (metrics, defaults): (&[&str], Vec<(&str, &str)>) = match knobs.rule {
        FaultRule::OneSiteHealthy => (
            &["union_gap", "lost_intents", "recovery_time"],
            vec![
                ("union_gap.max", "== 0s"),
                ("recovery_time.max", recovery.as_str()),
                ("lost_intents.count", "== 0"),
            ],
        ),
        FaultRule::AnyOutage => (&["lost_intents"], vec![("lost_intents.count", "== 0")]),
    };
    let site_names: Vec<String> = base.sites.iter().map(|s| s.name.clone()).collect();
    let mut out: Vec<Guarantee> = base
        .guarantees
        .iter()
        .filter(|g| metrics.contains(&g.metric.as_str()) && is_upper_bound(g))
        .map(|g| {
            let tighter = !knobs.base_bounds
                && g.metric == "recovery_time"
                && matches!(g.cmp, Cmp::Lt | Cmp::Le)
                && matches!(g.threshold, Threshold::Duration(t) if t < bound);
            if tighter {
                parse_guarantee(&g.key, &recovery, &site_names)
                    .expect("a base's recovery key takes a duration bound")
            } else {
                g.clone()
            }
        })
        .collect();
    for (key, cond) in defaults {
        if out.iter().all(|g| g.key != key) {
            out.push(
                parse_guarantee(key, cond, &site_names)
                    .expect("the explorer's own guarantees are well-formed"),
            );
        }
    }
    out
}

/// `< x`, `<= x` or `== 0`: a limit a world with other faults can keep.
fn is_upper_bound(g: &Guarantee) -> bool {
    match g.cmp {
        Cmp::Lt | Cmp::Le => true,
        Cmp::Eq => match g.threshold {
            Threshold::Duration(t) => t == 0,
            Threshold::Count(n) => n == 0.0,
        },
        Cmp::Ge | Cmp::Gt => false,
    }
}

pub(super) fn log_uniform(rng: &mut ChaCha8Rng, lo: Nanos, hi: Nanos) -> Nanos {
    let (l, h) = ((lo.max(1)) as f64, (hi.max(lo + 1)) as f64);
    (l * (h / l).powf(rng.random::<f64>())).round() as Nanos
}

/// Rounds to whole milliseconds (readable reproducers).
pub(super) fn ms(ns: Nanos) -> Nanos {
    ns / MILLIS * MILLIS
}

/// A latency with a tail: lognormal (p99 at most 20× the median) or pareto
/// (tail index ≥ 2.5), median in `[lo, hi]`, p99 within `max_p99`. Tails
/// stay finite-variance: a request delivered many timeouts after the engine
/// gave up on it is not a network this engine is specified for.
pub(super) fn tail_latency(
    rng: &mut ChaCha8Rng,
    lo: Nanos,
    hi: Nanos,
    max_p99: Nanos,
) -> LatencyDist {
    let median = ms(log_uniform(rng, lo, hi)).max(MILLIS);
    let max_p99 = max_p99.min(20 * median).max(2 * median);
    if rng.random_bool(0.5) {
        let p99 = ms(log_uniform(rng, median * 2, max_p99));
        LatencyDist::LogNormal {
            median,
            p99: p99.max(median),
        }
    } else {
        // p99 = scale · 100^(1/shape) ≤ max_p99
        let min_shape = (100f64.ln() / (max_p99 as f64 / median as f64).ln()).max(2.5);
        let shape = min_shape + rng.random::<f64>() * 2.0;
        LatencyDist::Pareto {
            scale: median,
            shape: (shape * 100.0).ceil() / 100.0,
        }
    }
}

/// Draws one world. Its name is `<base>-explore-<index>`.
pub fn world(base: &Scenario, knobs: &Knobs, seed: u64, index: u64) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let intensity = knobs.intensity.max(0.0);
    let safe = knobs.rule == FaultRule::OneSiteHealthy;
    let d = base.duration;
    let n = base.cameras.len();
    let mut s = base.clone();
    s.name = format!("{}-explore-{index}", base.name);
    s.description = format!(
        "Generated by `dualrec explore` from `{}` (world {index}, seed {seed}).",
        base.name
    );
    s.seed = rng.random::<u32>() as u64;
    s.tags = vec!["explore".to_string()];
    s.sessions.clear();
    s.clicks.clear();
    s.workloads.clear();
    s.faults.clear();

    // Sites: sometimes a latency tail, a short auto-stop, a short pre-buffer.
    let max_tail = if safe { 400 * MILLIS } else { SECS };
    for site in &mut s.sites {
        if rng.random_bool(0.25) {
            site.latency = tail_latency(&mut rng, 2 * MILLIS, 60 * MILLIS, max_tail);
        }
        if site.manual_recording_max.is_some() && rng.random_bool(0.3) {
            site.manual_recording_max = Some([60, 90, 120, 180][rng.random_range(0..4)] * SECS);
        }
        if rng.random_bool(0.3) {
            site.prebuffer = [SECS, 2 * SECS][rng.random_range(0..2)];
        }
    }

    // Workloads over random contiguous camera ranges.
    for _ in 0..rng.random_range(1..=3) {
        let (lo, hi) = if rng.random_bool(0.5) {
            (0, n - 1)
        } else {
            let a = rng.random_range(0..n);
            let b = rng.random_range(0..n);
            (a.min(b), a.max(b))
        };
        let median = ms(log_uniform(&mut rng, 5 * SECS, 150 * SECS));
        let p99 = ms(median * rng.random_range(2..=8));
        let per_minute = ((rng.random_range(0.5..8.0) * intensity * (hi - lo + 1) as f64 / 16.0)
            .max(0.2)
            * 100.0)
            .round()
            / 100.0;
        s.workloads.push(WorkloadDef {
            cameras: (lo..=hi).collect(),
            per_minute,
            length: LatencyDist::LogNormal { median, p99 },
            from: 0,
            until: d,
        });
    }
    // A long explicit session (renewals), sometimes open-ended.
    if rng.random_bool(0.5) {
        let start = ms(rng.random_range(0..d / 4 + 1));
        let stop = ms(rng.random_range(start + (d - start) / 2..=d)).max(start + MILLIS);
        s.sessions.push(SessionDef {
            camera: rng.random_range(0..n),
            start,
            stop: if rng.random_bool(0.3) || stop > d {
                None
            } else {
                Some(stop)
            },
        });
    }
    // Half the worlds aim a fault at a renewal hand-over (see `aimed.rs`).
    if rng.random_bool(0.5) {
        super::aimed::aim(&mut rng, &mut s, safe);
    }
    s.guarantees = guarantees(base, &s.sites, *knobs);

    // Click races: double clicks and bursts within 0–100 ms. Under the
    // one-healthy-site rule no burst holds a Start followed by a Stop: a
    // session shorter than a round trip (or than a re-login, after a token
    // expiry nobody has noticed yet) is recorded by no site when its Start
    // cannot be sent before the Stop click supersedes it — a known limit
    // (README, "The explorer") that would otherwise mask other evidence
    // gaps. Every pattern runs under `AnyOutage`, which checks that the
    // last click wins.
    const SAFE_BURSTS: &[&[bool]] = &[
        &[true, true],
        &[false, false],
        &[false, true],
        &[false, true, true],
        &[false, false, true],
        &[true, true, true],
    ];
    const ALL_BURSTS: &[&[bool]] = &[
        &[true, true],
        &[false, false],
        &[true, false],
        &[false, true],
        &[true, false, true],
        &[false, true, false],
        &[true, true, false],
        &[true, false, true, false],
        &[false, true, false, true],
    ];
    let bursts = if safe { SAFE_BURSTS } else { ALL_BURSTS };
    // Safe bursts also keep 2 s away from the camera's other clicks, so a
    // session's own Stop cannot land inside a burst either.
    let planned = if safe {
        workload::clicks(&s)
    } else {
        Vec::new()
    };
    let quiet = |camera: usize, at: Nanos| {
        planned
            .iter()
            .all(|c| c.camera != camera || c.at + 2 * SECS < at || c.at > at + 2 * SECS)
    };
    let races = rng.random_range(0..=((3.0 * intensity).ceil() as u32));
    for _ in 0..races {
        let mut camera = rng.random_range(0..n);
        let mut at = ms(rng.random_range(0..d));
        for _attempt in 0..10 {
            if quiet(camera, at) {
                break;
            }
            camera = rng.random_range(0..n);
            at = ms(rng.random_range(0..d));
        }
        if !quiet(camera, at) {
            continue;
        }
        for &recording in bursts[rng.random_range(0..bursts.len())] {
            s.clicks.push(ClickDef {
                camera,
                at,
                recording,
            });
            at = (at + rng.random_range(0..=100) * MILLIS).min(d);
        }
    }

    // Faults: a swarm subset of kinds, then windows drawn one by one.
    let kinds: Vec<usize> = loop {
        let k: Vec<usize> = (0..FaultKind::NAMES.len())
            .filter(|_| rng.random_bool(0.5))
            .collect();
        if !k.is_empty() {
            break k;
        }
    };
    let minutes = d as f64 / (60 * SECS) as f64;
    let max_faults = (intensity * minutes).ceil().max(1.0) as u32;
    let wanted = rng.random_range(0..=max_faults);
    let mut faults: Vec<FaultDef> = std::mem::take(&mut s.faults);
    for _ in 0..wanted {
        for _attempt in 0..20 {
            let kind = kinds[rng.random_range(0..kinds.len())];
            let f = fault(&mut rng, &s, kind, safe);
            let Some(f) = f else { continue };
            if !safe || fits(&f, &faults, &s.sites) {
                faults.push(f);
                break;
            }
        }
    }
    faults.sort_by_key(|f| f.at);
    s.faults = faults;
    if safe {
        no_clicks_while_crashed(&mut s);
    }
    s
}

/// How long before an engine crash nobody clicks under the one-healthy-site
/// rule: a click's Start may wait a round trip (or a re-login) behind a
/// Stop still in flight for the camera, and a crash then catches it unsent
/// — the camera records nowhere until the engine is back (explorer world
/// 3755 of seed 11 on `slow-site-tail`: a stop-start burst 66 ms before a
/// 12.6 s crash on a 184 ms site).
pub const CRASH_QUIET: Nanos = REACTION_TIME;

/// Under the one-healthy-site rule, nobody clicks while the engine is down,
/// nor [`CRASH_QUIET`] before it crashes: a session that begins and ends
/// while the engine is dead is recorded by no one (an evidence gap no engine
/// can avoid). The sessions become explicit clicks (the same ones the
/// workloads would make), minus those in a crash's window. Clicks during
/// crashes are explored under [`FaultRule::AnyOutage`].
fn no_clicks_while_crashed(s: &mut Scenario) {
    let crashes: Vec<(Nanos, Nanos)> = s
        .faults
        .iter()
        .filter(|f| f.kind == FaultKind::EngineCrash)
        .map(|f| (f.at.saturating_sub(CRASH_QUIET), f.end()))
        .collect();
    if crashes.is_empty() {
        return;
    }
    s.clicks = workload::clicks(s)
        .into_iter()
        .filter(|c| !crashes.iter().any(|&(a, b)| a <= c.at && c.at <= b))
        .map(|c| ClickDef {
            camera: c.camera,
            at: c.at,
            recording: c.recording,
        })
        .collect();
    s.sessions.clear();
    s.workloads.clear();
}

/// One random fault of kind `NAMES[kind]`, or `None` when it cannot fit in
/// the run.
/// The longest engine crash a safe world holds: 20 s, and no longer than
/// the engine's worst-case renewal margin allows. A renewal that cannot fit
/// its site's pre-buffer waits for a better moment up to its *last moment*
/// — a third of `min(renew_before, limit/2)` before the auto-stop (the
/// engine's hand-over rule 2) — so a crash must end, and the restored engine
/// re-assert within its reaction time, inside that: 7 s at the defaults.
/// Longer crashes are a dead engine the promise does not cover (they are
/// explored with `--allow-total-outage`).
pub fn safe_crash_max(s: &Scenario) -> Nanos {
    s.sites
        .iter()
        .filter_map(|site| site.manual_recording_max)
        .map(|limit| (s.policy.renew_before.min(limit / 2) / 3).saturating_sub(REACTION_TIME))
        .min()
        .map_or(20 * SECS, |m| m.clamp(SECS, 20 * SECS))
}

fn fault(rng: &mut ChaCha8Rng, s: &Scenario, kind: usize, safe: bool) -> Option<FaultDef> {
    let site = Some(rng.random_range(0..s.sites.len()));
    let span = |rng: &mut ChaCha8Rng, lo: Nanos, hi: Nanos| ms(log_uniform(rng, lo, hi));
    let (site, kind, length) = match FaultKind::NAMES[kind] {
        "down" => (site, FaultKind::Down, span(rng, SECS, 60 * SECS)),
        "partition" => (site, FaultKind::Partition, span(rng, SECS, 60 * SECS)),
        "hang" => (site, FaultKind::Hang, span(rng, SECS, 60 * SECS)),
        "slow" => {
            let latency = if rng.random_bool(0.5) {
                tail_latency(rng, 20 * MILLIS, 100 * MILLIS, 400 * MILLIS)
            } else {
                tail_latency(rng, 100 * MILLIS, 500 * MILLIS, 3 * SECS)
            };
            (
                site,
                FaultKind::Slow(latency),
                span(rng, 5 * SECS, 60 * SECS),
            )
        }
        "errors" => {
            let rate = [0.1, 0.3, 0.5, 1.0][rng.random_range(0..4)];
            (
                site,
                FaultKind::Errors { rate },
                span(rng, 2 * SECS, 60 * SECS),
            )
        }
        "lost_replies" => {
            let rate = [0.1, 0.3, 0.5, 1.0][rng.random_range(0..4)];
            (
                site,
                FaultKind::LostReplies { rate },
                span(rng, 2 * SECS, 60 * SECS),
            )
        }
        "restart" => {
            let length = if rng.random_bool(0.5) {
                0
            } else {
                span(rng, SECS, 20 * SECS)
            };
            (site, FaultKind::Restart, length)
        }
        "stream_loss" => (
            site,
            FaultKind::StreamLoss {
                camera: rng.random_range(0..s.cameras.len()),
            },
            span(rng, 2 * SECS, 60 * SECS),
        ),
        "token_expiry" => (site, FaultKind::TokenExpiry, 0),
        _ => {
            // Safe worlds keep crashes inside the renewal margin.
            let max = if safe { safe_crash_max(s) } else { 90 * SECS };
            (None, FaultKind::EngineCrash, span(rng, SECS, max))
        }
    };
    if length >= s.duration {
        return None;
    }
    let at = ms(rng.random_range(0..s.duration - length));
    Some(FaultDef {
        site,
        kind,
        at,
        duration: length,
    })
}
