//! Workload generation: every click of a scenario, explicit and generated,
//! in time order.
//!
//! Explicit `[[session]]`s give a start click and (if set) a stop click;
//! `[[click]]`s are taken as written; each `[[workload]]` adds sessions with
//! Poisson arrivals at `per_minute` over its window. An arrival samples its
//! length, then picks uniformly among the workload's cameras that are free
//! for the whole session (no generated session still open, no explicit
//! session overlapping it); when none is free the arrival is skipped. A stop
//! that would fall after the scenario's `duration` is omitted (the session
//! is still open at the end), and such a session keeps its camera busy.
//! Explicit `[[click]]`s do not make a camera busy.
//!
//! Everything is drawn from `rand_chacha::ChaCha8Rng` seeded from the
//! scenario seed XOR [`WORKLOAD_SEED_SALT`], one stream per workload for
//! arrivals and one for picks, so the output depends only on the scenario
//! and other random streams of a run stay independent of it.

use engine::core::{Nanos, SECS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use crate::scenario::Scenario;

mod free;

/// Mixed into the scenario seed for workload streams ("workload" in ASCII).
pub const WORKLOAD_SEED_SALT: u64 = 0x776f_726b_6c6f_6164;

/// One user click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Click {
    pub at: Nanos,
    /// Index into `Scenario::cameras`.
    pub camera: usize,
    /// `true`: Start Record, `false`: Stop Record.
    pub recording: bool,
}

/// All clicks of `s`, sorted by time; ties keep the order explicit
/// sessions, explicit clicks, then generated sessions (in generation order).
pub fn clicks(s: &Scenario) -> Vec<Click> {
    let mut out = Vec::new();
    for session in &s.sessions {
        out.push(Click {
            at: session.start,
            camera: session.camera,
            recording: true,
        });
        if let Some(stop) = session.stop {
            out.push(Click {
                at: stop,
                camera: session.camera,
                recording: false,
            });
        }
    }
    out.extend(s.clicks.iter().map(|c| Click {
        at: c.at,
        camera: c.camera,
        recording: c.recording,
    }));
    generate(s, &mut out);
    out.sort_by_key(|c| c.at);
    out
}

/// Appends the clicks of generated sessions.
fn generate(s: &Scenario, out: &mut Vec<Click>) {
    if s.workloads.is_empty() {
        return;
    }
    let seed = s.seed ^ WORKLOAD_SEED_SALT;
    let stream = |n: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(n);
        rng
    };

    // Arrivals of every workload, then handled in time order so workloads
    // over the same cameras see each other's sessions.
    let mut arrivals: Vec<(Nanos, usize)> = Vec::new();
    for (i, w) in s.workloads.iter().enumerate() {
        if !(w.per_minute.is_finite() && w.per_minute > 0.0) {
            continue;
        }
        let mut rng = stream(2 * i as u64);
        let mean_gap = (60 * SECS) as f64 / w.per_minute;
        let mut t = w.from as f64;
        loop {
            let e: f64 = Exp1.sample(&mut rng);
            t += e * mean_gap;
            if t.is_nan() || t >= w.until as f64 {
                break;
            }
            let at = t.round() as Nanos;
            if at >= w.until {
                break;
            }
            arrivals.push((at, i));
        }
    }
    // Stable: equal times keep workload order.
    arrivals.sort_by_key(|&(at, i)| (at, i));

    let mut picks: Vec<ChaCha8Rng> = (0..s.workloads.len())
        .map(|i| stream(2 * i as u64 + 1))
        .collect();
    // Explicit sessions per camera, as [start, end) with end MAX when open.
    let mut explicit: Vec<Vec<(Nanos, Nanos)>> = vec![Vec::new(); s.cameras.len()];
    for session in &s.sessions {
        if let Some(list) = explicit.get_mut(session.camera) {
            list.push((session.start, session.stop.unwrap_or(Nanos::MAX)));
        }
    }
    let lists: Vec<&[usize]> = s.workloads.iter().map(|w| w.cameras.as_slice()).collect();
    let mut free = free::FreeCameras::new(&lists, &explicit);
    // Length cap: anything past the end is an open session anyway.
    let cap = s.duration.saturating_add(1);

    for (at, i) in arrivals {
        let w = &s.workloads[i];
        let rng = &mut picks[i];
        let length = w.length.sample_capped(rng, cap).max(1);
        let stop = at.saturating_add(length);
        let end = if stop > s.duration { Nanos::MAX } else { stop };
        let count = free.count(i, at, end);
        if count == 0 {
            continue;
        }
        let camera = free.take(i, rng.random_range(0..count), end);
        out.push(Click {
            at,
            camera,
            recording: true,
        });
        if end != Nanos::MAX {
            out.push(Click {
                at: stop,
                camera,
                recording: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    fn scenario(extra: &str) -> Scenario {
        let text = format!(
            "[scenario]\nname = \"w\"\nseed = 7\nduration = \"1h\"\n\
             [[site]]\nname = \"a\"\n[cameras]\ncount = 16\n{extra}"
        );
        parse(&text, "w.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    const POISSON: &str = "[[workload]]\ncameras = \"*\"\narrivals = { per_minute = 6 }\n\
        length = { dist = \"fixed\", value = \"1s\" }\n";

    #[test]
    fn explicit_sessions_and_clicks_in_time_order() {
        let s = scenario(
            "[[session]]\ncamera = \"cam-002\"\nstart = \"10s\"\nstop = \"20s\"\n\
             [[session]]\ncamera = \"cam-001\"\nstart = \"10s\"\n\
             [[click]]\ncamera = \"cam-003\"\nat = \"5s\"\nrecording = true\n\
             [[click]]\ncamera = \"cam-003\"\nat = \"5s\"\nrecording = false\n",
        );
        let c = clicks(&s);
        let got: Vec<(Nanos, usize, bool)> =
            c.iter().map(|c| (c.at, c.camera, c.recording)).collect();
        assert_eq!(
            got,
            vec![
                (5 * SECS, 2, true),
                (5 * SECS, 2, false),
                (10 * SECS, 1, true),
                (10 * SECS, 0, true),
                (20 * SECS, 1, false),
            ]
        );
    }

    #[test]
    fn poisson_rate_is_roughly_per_minute() {
        // 6 per minute over an hour: 360 expected, sd ≈ 19. Every arrival
        // finds a free camera (16 cameras, 1 s sessions).
        for seed in [1u64, 2, 3] {
            let mut s = scenario(POISSON);
            s.seed = seed;
            let starts = clicks(&s).iter().filter(|c| c.recording).count();
            assert!(
                (300..=420).contains(&starts),
                "seed {seed}: {starts} sessions"
            );
        }
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let s = scenario(POISSON);
        assert_eq!(clicks(&s), clicks(&s));
        let mut other = s.clone();
        other.seed = 8;
        assert_ne!(clicks(&s), clicks(&other));
    }

    #[test]
    fn sessions_never_overlap_per_camera_and_long_ones_stay_open() {
        let s = scenario(
            "[[session]]\ncamera = \"cam-001\"\nstart = \"10m\"\nstop = \"20m\"\n\
             [[workload]]\ncameras = \"cam-001..cam-003\"\narrivals = { per_minute = 30 }\n\
             length = { dist = \"lognormal\", median = \"2m\", p99 = \"2h\" }\n",
        );
        let c = clicks(&s);
        assert!(c.windows(2).all(|w| w[0].at <= w[1].at), "sorted");
        let mut open = [false; 3];
        for click in &c {
            assert!(click.camera < 3);
            if click.recording {
                assert!(
                    !open[click.camera],
                    "overlap at {} on {}",
                    click.at, click.camera
                );
            } else {
                assert!(open[click.camera], "stop without start at {}", click.at);
            }
            open[click.camera] = click.recording;
            assert!(click.at <= s.duration);
        }
        // The 2 h tail guarantees sessions still open at the end.
        assert!(open.iter().any(|&o| o), "some session open at the end");
        // With 30/min over 3 cameras most arrivals are skipped.
        let starts = c.iter().filter(|c| c.recording).count();
        assert!(starts < 1_800 / 2, "{starts}");
    }

    /// The pick as a plain scan of every camera per arrival (the definition
    /// the incremental free set must reproduce exactly).
    fn generate_by_scan(s: &Scenario) -> Vec<Click> {
        let seed = s.seed ^ WORKLOAD_SEED_SALT;
        let stream = |n: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(n);
            rng
        };
        let mut arrivals: Vec<(Nanos, usize)> = Vec::new();
        for (i, w) in s.workloads.iter().enumerate() {
            let mut rng = stream(2 * i as u64);
            let mean_gap = (60 * SECS) as f64 / w.per_minute;
            let mut t = w.from as f64;
            loop {
                let e: f64 = Exp1.sample(&mut rng);
                t += e * mean_gap;
                if t >= w.until as f64 || t.round() as Nanos >= w.until {
                    break;
                }
                arrivals.push((t.round() as Nanos, i));
            }
        }
        arrivals.sort_by_key(|&(at, i)| (at, i));
        let mut picks: Vec<ChaCha8Rng> = (0..s.workloads.len())
            .map(|i| stream(2 * i as u64 + 1))
            .collect();
        let mut explicit: Vec<Vec<(Nanos, Nanos)>> = vec![Vec::new(); s.cameras.len()];
        for session in &s.sessions {
            explicit[session.camera].push((session.start, session.stop.unwrap_or(Nanos::MAX)));
        }
        let mut busy_until: Vec<Nanos> = vec![0; s.cameras.len()];
        let mut out = Vec::new();
        for (at, i) in arrivals {
            let w = &s.workloads[i];
            let rng = &mut picks[i];
            let length = w.length.sample_capped(rng, s.duration + 1).max(1);
            let stop = at.saturating_add(length);
            let end = if stop > s.duration { Nanos::MAX } else { stop };
            let free: Vec<usize> = w
                .cameras
                .iter()
                .copied()
                .filter(|&c| {
                    busy_until[c] <= at && !explicit[c].iter().any(|&(a, b)| a < end && at < b)
                })
                .collect();
            if free.is_empty() {
                continue;
            }
            let camera = free[rng.random_range(0..free.len())];
            busy_until[camera] = end;
            out.push((at, camera, true));
            if end != Nanos::MAX {
                out.push((stop, camera, false));
            }
        }
        out.into_iter()
            .map(|(at, camera, recording)| Click {
                at,
                camera,
                recording,
            })
            .collect()
    }

    #[test]
    fn incremental_pick_equals_the_plain_scan() {
        // Overlapping workloads, explicit sessions (open and closed) on some
        // of their cameras, busy periods: every pick must be the scan's.
        let s = scenario(
            "[[session]]\ncamera = \"cam-002\"\nstart = \"5m\"\nstop = \"9m\"\n\
             [[session]]\ncamera = \"cam-002\"\nstart = \"30m\"\nstop = \"31m\"\n\
             [[session]]\ncamera = \"cam-007\"\nstart = \"40m\"\n\
             [[session]]\ncamera = \"cam-016\"\nstart = \"1m\"\nstop = \"50m\"\n\
             [[workload]]\ncameras = \"*\"\narrivals = { per_minute = 8 }\n\
             length = { dist = \"lognormal\", median = \"1m\", p99 = \"20m\" }\n\
             [[workload]]\ncameras = \"cam-001..cam-008\"\narrivals = { per_minute = 3 }\n\
             length = { dist = \"fixed\", value = \"90s\" }\nfrom = \"10m\"\n",
        );
        for seed in 0..40u64 {
            let mut s = s.clone();
            s.seed = seed;
            let mut fast = Vec::new();
            generate(&s, &mut fast);
            assert_eq!(fast, generate_by_scan(&s), "seed {seed}");
        }
    }

    #[test]
    fn window_is_respected() {
        let s = scenario(
            "[[workload]]\ncameras = \"*\"\narrivals = { per_minute = 60 }\n\
             length = { dist = \"fixed\", value = \"1s\" }\nfrom = \"10m\"\nuntil = \"20m\"\n",
        );
        let c = clicks(&s);
        assert!(!c.is_empty());
        assert!(c
            .iter()
            .filter(|c| c.recording)
            .all(|c| (600 * SECS..1_200 * SECS).contains(&c.at)));
    }
}
