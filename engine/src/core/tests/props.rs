//! Property tests: whatever the interleaving of clicks, latencies, reply
//! reordering, outages and recorder restarts, once every fault has healed
//! and 60 s pass without clicks, every recorder does what the last click on
//! each camera asked, and no (camera, site) ever had two Start/Stop in
//! flight at once.

use proptest::prelude::*;

use super::driver::*;
use crate::core::*;

const CAMS: usize = 3;
const WINDOW_MS: u64 = 15_000;

#[derive(Debug, Clone)]
enum Action {
    Click(usize, bool),
    /// The site's network misbehaves for the given time, then recovers.
    Outage(SiteId, Net, Nanos),
    /// The site's recorder restarts (forgets its manual recordings).
    Restart(SiteId),
}

#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    recorders: usize,
    /// Per site: base one-way latency and jitter.
    links: Vec<(Nanos, Nanos)>,
    /// Per site: probability a reply is lost during the fault window.
    drop_reply: Vec<f64>,
    actions: Vec<(Nanos, Action)>,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0..CAMS, any::<bool>()).prop_map(|(c, on)| Action::Click(c, on)),
        2 => (0..2usize, prop_oneof![Just(Net::Hang), Just(Net::Refuse)], 0..8_000u64)
            .prop_map(|(s, n, ms)| Action::Outage(s, n, ms * MILLIS)),
        1 => (0..2usize).prop_map(Action::Restart),
    ]
}

/// `max_jitter_ms` bounds the one-way jitter; `max_drop` the reply loss.
fn plan(max_jitter_ms: u64, max_drop: f64) -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        1..=2usize,
        prop::collection::vec((1..150u64, 0..=max_jitter_ms), 2),
        prop::collection::vec(0.0..=max_drop, 2),
        prop::collection::vec((0..WINDOW_MS, action()), 1..25),
    )
        .prop_map(|(seed, recorders, links, drop_reply, mut actions)| {
            actions.sort_by_key(|a| a.0);
            Plan {
                seed,
                recorders,
                links: links.into_iter().map(|(l, j)| (l * MILLIS, j * MILLIS)).collect(),
                drop_reply,
                actions: actions.into_iter().map(|(t, a)| (t * MILLIS, a)).collect(),
            }
        })
}

/// Runs `plan`, heals everything, runs 60 s more and checks the invariants.
fn check(plan: &Plan) -> Result<(), TestCaseError> {
    let mut d = Driver::new(config(2, plan.recorders, CAMS, None), plan.seed);
    for (s, site) in d.sites.iter_mut().enumerate() {
        (site.latency, site.jitter) = plan.links[s];
        site.drop_reply = plan.drop_reply[s];
    }
    // Timed network changes: (time, site, net).
    let mut nets: Vec<(Nanos, SiteId, Net)> = Vec::new();
    for (t, a) in &plan.actions {
        if let Action::Outage(s, n, dur) = a {
            nets.push((*t, *s, *n));
            nets.push((t + dur, *s, Net::Up));
        }
    }
    nets.sort_by_key(|n| n.0);
    let heal = nets.last().map_or(0, |n| n.0).max(WINDOW_MS * MILLIS);
    let mut timeline: Vec<(Nanos, Option<&Action>, Option<(SiteId, Net)>)> = plan
        .actions
        .iter()
        .filter(|(_, a)| !matches!(a, Action::Outage(..)))
        .map(|(t, a)| (*t, Some(a), None))
        .chain(nets.iter().map(|&(t, s, n)| (t, None, Some((s, n)))))
        .collect();
    timeline.sort_by_key(|e| e.0);
    for (t, action, net) in timeline {
        d.run_until(t);
        match (action, net) {
            (Some(Action::Click(c, on)), _) => {
                d.click(*c, *on);
            }
            (Some(Action::Restart(s)), _) => d.restart_recorder(*s),
            (_, Some((s, n))) => d.sites[s].net = n,
            _ => {}
        }
    }
    d.run_until(heal);
    // Healed: no loss, and round trips well inside the request timeout.
    for site in &mut d.sites {
        site.net = Net::Up;
        site.drop_reply = 0.0;
        site.jitter = site.jitter.min(400 * MILLIS);
    }
    d.run_for(60 * SECS);

    prop_assert!(d.overlaps.is_empty(), "two Start/Stop in flight at once: {:?}", d.overlaps);
    for c in 0..CAMS {
        let st = d.m.status(&cam(c)).unwrap();
        let want = st.intent.is_some_and(|(_, on)| on);
        for site in 0..2 {
            prop_assert_eq!(
                d.rec(site, c),
                want,
                "cam{} on site{}: intent {:?}, engine sees {:?}",
                c,
                site,
                st.intent,
                st.sites[site]
            );
            if st.intent.is_some() {
                let observed = if want { Observed::Recording } else { Observed::Stopped };
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
    }
    Ok(())
}

fn config_for(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config_for(256))]

    /// Reordering (jitter below the timeout), outages, restarts: replies
    /// are lost only when a partition cuts them.
    #[test]
    fn recorders_converge_to_the_last_click(plan in plan(400, 0.0)) {
        check(&plan)?;
    }

    /// Also lost replies and requests that execute after the engine timed
    /// them out (one-way latency up to 2.1 s).
    #[test]
    fn recorders_converge_despite_lost_replies_and_late_requests(plan in plan(2_000, 0.3)) {
        check(&plan)?;
    }
}
