//! Property tests: whatever the interleaving of clicks, latencies, reply
//! reordering and loss, outages, SOAP faults, token loss and recorder
//! restarts and engine crashes, once every fault has healed and 60 s pass without clicks,
//! every recorder does what the last click on each camera asked, the engine
//! knows it, no (camera, site) ever had two Start/Stop in flight at once,
//! and (with an auto-stop limit) no recorder stops a wanted recording by
//! itself and the sites never both drop a camera once healthy.

use proptest::prelude::*;

use super::driver::*;
use crate::core::*;

const CAMS: usize = 3;
const WINDOW_MS: u64 = 15_000;
/// Virtual time without clicks or faults before the invariants are checked.
const QUIET: Nanos = 60 * SECS;
/// Time allowed after the heal to re-assert everything.
const SETTLE: Nanos = 10 * SECS;

#[derive(Debug, Clone)]
enum Action {
    Click(usize, bool),
    /// The site's network misbehaves for the given time, then recovers.
    Outage(SiteId, Net, Nanos),
    /// The site answers every recorder call with a SOAP fault for a while.
    Faults(SiteId, Nanos),
    /// The site's recorder restarts (forgets its manual recordings).
    Restart(SiteId),
    /// The site forgets every token it issued.
    DropTokens(SiteId),
    /// The engine crashes and a new one restores its journal at once.
    Crash,
}

#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    recorders: usize,
    /// The sites' "stop manual recording after" limit.
    limit: Option<Nanos>,
    /// Per site: base one-way latency and jitter.
    links: Vec<(Nanos, Nanos)>,
    /// Per site: probability a reply is lost during the fault window.
    drop_reply: Vec<f64>,
    actions: Vec<(Nanos, Action)>,
}

/// What the driver does at one instant of the plan.
#[derive(Debug, Clone, Copy)]
enum Step {
    Click(usize, bool),
    Net(SiteId, Net),
    Faults(SiteId, bool),
    Restart(SiteId),
    DropTokens(SiteId),
    Crash,
}

fn action() -> impl Strategy<Value = Action> {
    let site = 0..2usize;
    prop_oneof![
        8 => (0..CAMS, any::<bool>()).prop_map(|(c, on)| Action::Click(c, on)),
        2 => (site.clone(), prop_oneof![Just(Net::Hang), Just(Net::Refuse)], 0..8_000u64)
            .prop_map(|(s, n, ms)| Action::Outage(s, n, ms * MILLIS)),
        1 => (site.clone(), 0..3_000u64).prop_map(|(s, ms)| Action::Faults(s, ms * MILLIS)),
        1 => site.clone().prop_map(Action::Restart),
        1 => site.prop_map(Action::DropTokens),
        1 => Just(Action::Crash),
    ]
}

/// `max_jitter_ms` bounds the one-way jitter; `max_drop` the reply loss.
fn plan(max_jitter_ms: u64, max_drop: f64) -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        1..=2usize,
        prop_oneof![Just(None), Just(Some(60 * SECS)), Just(Some(300 * SECS))],
        prop::collection::vec((1..150u64, 0..=max_jitter_ms), 2),
        prop::collection::vec(0.0..=max_drop, 2),
        prop::collection::vec((0..WINDOW_MS, action()), 1..25),
    )
        .prop_map(
            |(seed, recorders, limit, links, drop_reply, actions)| Plan {
                seed,
                recorders,
                limit,
                links: links
                    .into_iter()
                    .map(|(l, j)| (l * MILLIS, j * MILLIS))
                    .collect(),
                drop_reply,
                actions: actions.into_iter().map(|(t, a)| (t * MILLIS, a)).collect(),
            },
        )
}

/// The plan as timed driver steps, and when its last fault ends.
fn timeline(plan: &Plan) -> (Vec<(Nanos, Step)>, Nanos) {
    let mut steps = Vec::new();
    for &(t, ref a) in &plan.actions {
        match *a {
            Action::Click(c, on) => steps.push((t, Step::Click(c, on))),
            Action::Outage(s, n, dur) => {
                steps.push((t, Step::Net(s, n)));
                steps.push((t + dur, Step::Net(s, Net::Up)));
            }
            Action::Faults(s, dur) => {
                steps.push((t, Step::Faults(s, true)));
                steps.push((t + dur, Step::Faults(s, false)));
            }
            Action::Restart(s) => steps.push((t, Step::Restart(s))),
            Action::DropTokens(s) => steps.push((t, Step::DropTokens(s))),
            Action::Crash => steps.push((t, Step::Crash)),
        }
    }
    // Stable: simultaneous steps keep the plan's order.
    steps.sort_by_key(|s| s.0);
    let heal = steps.last().map_or(0, |s| s.0).max(WINDOW_MS * MILLIS);
    (steps, heal)
}

/// Runs `plan`, heals everything, runs [`QUIET`] more and checks the
/// invariants.
fn check(plan: &Plan) -> Result<(), TestCaseError> {
    let mut d = Driver::new(config(2, plan.recorders, CAMS, plan.limit), plan.seed);
    for (s, site) in d.sites.iter_mut().enumerate() {
        (site.latency, site.jitter) = plan.links[s];
        site.drop_reply = plan.drop_reply[s];
    }
    let (steps, heal) = timeline(plan);
    for (t, step) in steps {
        d.run_until(t);
        match step {
            Step::Click(c, on) => {
                d.click(c, on);
            }
            Step::Net(s, n) => d.sites[s].net = n,
            Step::Faults(s, on) => d.sites[s].fault_all = on,
            Step::Restart(s) => d.restart_recorder(s),
            Step::DropTokens(s) => d.invalidate_tokens(s),
            Step::Crash => {
                let journal = d.crash(plan.seed.wrapping_add(t), false);
                d.restore(journal);
            }
        }
    }
    d.run_until(heal);
    // Healed: no loss, and round trips well inside the request timeout.
    for site in &mut d.sites {
        site.net = Net::Up;
        site.fault_all = false;
        site.drop_reply = 0.0;
        site.jitter = site.jitter.min(400 * MILLIS);
    }
    d.run_for(QUIET);
    let end = d.now;

    prop_assert!(
        d.overlaps.is_empty(),
        "two Start/Stop in flight at once: {:?}",
        d.overlaps
    );
    let late_auto_stops: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.cause == Cause::AutoStop && c.at > heal + SETTLE)
        .collect();
    prop_assert!(
        late_auto_stops.is_empty(),
        "auto-stop after healing: {:?}",
        late_auto_stops
    );
    for c in 0..CAMS {
        let st = d.m.status(&cam(c)).unwrap();
        let want = st.intent.is_some_and(|(_, on)| on);
        for site in 0..2 {
            let device = dev(site, c);
            let last = d
                .changes_of(site, &device)
                .last()
                .map(|ch| (ch.at, ch.cause));
            // A renewal may be between its Stop and its Start right now.
            let renewing = want && matches!(last, Some((at, Cause::Stop)) if at + 2 * SECS > end);
            prop_assert!(
                d.rec(site, c) == want || renewing,
                "cam{} on site{}: recorder {}, intent {:?}, engine sees {:?}, last change {:?}",
                c,
                site,
                d.rec(site, c),
                st.intent,
                st.sites[site],
                last
            );
            // Only a renewal explains a request in flight after the quiet time.
            let pending = st.sites[site].pending;
            prop_assert!(
                !pending || plan.limit.is_some(),
                "cam{} on site{}: still pending",
                c,
                site
            );
            if st.intent.is_some() && !renewing && !pending {
                let observed = if want {
                    Observed::Recording
                } else {
                    Observed::Stopped
                };
                prop_assert_eq!(
                    st.sites[site].observed,
                    observed,
                    "cam{} on site{}: engine's belief is stale: {:?}; {:?}",
                    c,
                    site,
                    st,
                    d.m.stats()
                );
            }
        }
        if want {
            // Once healed, the union of sites never drops the camera.
            let mut on = [false, false];
            for ch in d.changes.iter().filter(|ch| ch.device == dev(ch.site, c)) {
                on[ch.site] = ch.recording;
                prop_assert!(
                    ch.at <= heal + SETTLE || on[0] || on[1],
                    "cam{}: both sites stopped at {} ms",
                    c,
                    ch.at / MILLIS
                );
            }
        }
    }
    Ok(())
}

/// Fixed seed: a failure reproduces on every run (and no regression files
/// are written into the source tree).
fn config_for(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0064_7561_6c72_6563),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config_for(1000))]

    /// Reordering (jitter below the timeout), outages, faults, token loss,
    /// restarts; replies are lost only when a partition cuts them.
    #[test]
    fn recorders_converge_to_the_last_click(plan in plan(400, 0.0)) {
        check(&plan)?;
    }

    /// Also random reply loss and requests that execute after the engine
    /// timed them out (one-way latency up to 2.1 s during the faults).
    #[test]
    fn recorders_converge_despite_lost_replies_and_late_requests(plan in plan(2_000, 0.3)) {
        check(&plan)?;
    }
}

/// Found by the property test once late login answers were used: two sites
/// whose recordings started in the same click, on links too slow for a good
/// renewal moment, must not both renew at their common last moment.
#[test]
fn same_timer_slow_links_renew_one_site_at_a_time() {
    let plan = Plan {
        seed: 9747371194042179623,
        recorders: 1,
        limit: Some(60000000000),
        links: vec![(1000000, 1614000000), (60000000, 1358000000)],
        drop_reply: vec![0.0, 0.2845537733598199],
        actions: vec![
            (3010000000, Action::Click(0, true)),
            (10336000000, Action::Outage(1, Net::Hang, 5960000000)),
        ],
    };
    check(&plan).unwrap_or_else(|e| panic!("{e}"));
}
