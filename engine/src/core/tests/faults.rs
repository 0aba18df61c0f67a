//! Faults: request timeouts, retry back-off, site health (probed, not
//! hammered), re-assertion after recovery, orphan stops after a partition,
//! drift repair after a silent recorder restart, and lost replies.

use super::driver::*;
use crate::core::*;

fn with_policy(mut cfg: MirrorConfig, f: impl FnOnce(&mut Policy)) -> MirrorConfig {
    f(&mut cfg.policy);
    cfg
}

/// A hung site: the unanswered Start is re-sent at a falling pace (see
/// `core/overdue.rs`), each time-out is counted, and the site coming back
/// gets the camera recorded.
#[test]
fn a_hung_request_times_out_and_is_retried() {
    let cfg = with_policy(config(2, 1, 1, None), |p| p.failures_before_down = 100);
    let mut d = Driver::started(cfg, 20);
    d.sites[1].net = Net::Hang;
    let t = d.now;
    d.click(0, true);
    d.run_until(t + 2 * SECS - 1);
    assert!(d.m.status(&cam(0)).unwrap().sites[1].pending);
    assert_eq!(d.m.stats().timeouts, 0);
    d.run_until(t + 2 * SECS);
    assert_eq!(d.m.stats().timeouts, 1, "the first Start timed out");
    d.run_until(t + 10 * SECS);
    let starts: Vec<Nanos> = d
        .ops(1, RecorderOp::Start, t)
        .iter()
        .map(|s| s.at - t)
        .collect();
    // Re-sent once overdue (at least the first-retry delay), each wait at
    // least four times the one before while nothing answers; retried after
    // the back-off once they have timed out.
    assert!(starts.len() >= 4, "{starts:?}");
    assert!(starts[1] >= 100 * MILLIS, "{starts:?}");
    assert!(starts[2] - starts[1] >= 4 * starts[1], "{starts:?}");
    let within_first_timeout = starts.iter().filter(|&&s| s < 2 * SECS).count();
    assert!(within_first_timeout <= 3, "{starts:?}");
    assert!(d.m.stats().timeouts >= 3);
    // The site comes back: the next attempt lands.
    d.sites[1].net = Net::Up;
    d.run_for(5 * SECS);
    assert!(d.rec(1, 0));
}

/// Send times of the Starts a refusing site 1 receives for camera 0.
fn retry_times(seed: u64) -> Vec<Nanos> {
    let cfg = with_policy(config(2, 1, 1, None), |p| p.failures_before_down = u32::MAX);
    let mut d = Driver::started(cfg, seed);
    d.sites[1].net = Net::Refuse;
    let t = d.now;
    d.click(0, true);
    d.run_for(60 * SECS);
    d.ops(1, RecorderOp::Start, t)
        .iter()
        .map(|s| s.at)
        .collect()
}

#[test]
fn retries_back_off_exponentially_capped_and_seeded() {
    let times = retry_times(21);
    assert!(times.len() > 12, "{} attempts", times.len());
    let p = Policy::default();
    // A refusal comes back after one 10 ms trip; the rest is back-off.
    for (n, w) in times.windows(2).enumerate() {
        let failures = n as u32 + 1;
        let cap = (p.retry_initial << (failures - 1).min(20)).min(p.retry_max);
        let delay = w[1] - w[0] - 10 * MILLIS;
        assert!(
            (cap / 2..=cap).contains(&delay),
            "retry {failures}: delay {delay} not in [{}, {cap}]",
            cap / 2
        );
    }
    // Capped: no gap beyond retry_max + one trip.
    assert!(times
        .windows(2)
        .all(|w| w[1] - w[0] <= p.retry_max + 10 * MILLIS));
    // Same seed, same delays; another seed, other delays.
    assert_eq!(retry_times(21), times);
    assert_ne!(retry_times(22), times);
}

/// Counts what a down site received over 30 s after it went down.
fn down_site_traffic(net: Net) -> (Driver, Nanos) {
    let mut d = Driver::started(config(2, 1, 3, None), 23);
    d.click(0, true);
    d.click(1, true);
    d.run_for(SECS);
    d.sites[1].net = net;
    d.run_for(10 * SECS);
    assert!(
        !d.m.status(&cam(0)).unwrap().sites[1].site_up,
        "site 1 not down after 10 s"
    );
    let from = d.now;
    // Clicks during the outage must not reach the dead site either.
    d.click(0, false);
    d.click(2, true);
    d.run_for(30 * SECS);
    (d, from)
}

fn assert_only_paced_probes(d: &Driver, from: Nanos) {
    let p = Policy::default();
    let sent = d.sent_to(1, from);
    for s in &sent {
        assert_eq!(s.op(), Some(RecorderOp::Probe), "down site got {:?}", s.cmd);
    }
    assert!(!sent.is_empty(), "a down site must be probed");
    // At most one probe per down_probe_interval (one recorder).
    let max = (30 * SECS / p.down_probe_interval) as usize + 1;
    assert!(
        sent.len() <= max,
        "{} probes in 30 s (max {max})",
        sent.len()
    );
    for w in sent.windows(2) {
        assert!(
            w[1].at - w[0].at >= p.down_probe_interval,
            "probes {} ms apart",
            (w[1].at - w[0].at) / MILLIS
        );
    }
}

#[test]
fn a_dead_site_is_probed_not_hammered() {
    let (d, from) = down_site_traffic(Net::Hang);
    assert_only_paced_probes(&d, from);
    // The healthy site followed the clicks.
    assert!(!d.rec(0, 0) && d.rec(0, 1) && d.rec(0, 2));
}

#[test]
fn a_refusing_site_is_probed_not_hammered() {
    let (d, from) = down_site_traffic(Net::Refuse);
    assert_only_paced_probes(&d, from);
}

#[test]
fn probe_rate_does_not_grow_with_repeated_outages() {
    let mut d = Driver::started(config(2, 1, 1, None), 24);
    d.click(0, true);
    for _ in 0..5 {
        d.sites[1].net = Net::Refuse;
        d.run_for(10 * SECS);
        d.sites[1].net = Net::Up;
        d.run_for(10 * SECS);
    }
    assert_eq!(d.m.stats().sites_down, 5);
    let from = d.now;
    d.run_for(30 * SECS);
    // Up and healthy: one drift probe per probe_interval.
    let probes = d.ops(1, RecorderOp::Probe, from).len();
    assert!(
        probes <= 16,
        "{probes} probes in 30 s on a healthy site after 5 outages"
    );
    assert_eq!(d.ops(0, RecorderOp::Probe, from).len(), 15);
}

/// Site 1 is unreachable for 20 s and restarts meanwhile (its recorder
/// forgets its manual recordings); returns when it answers again.
fn outage_with_restart(net: Net) -> Driver {
    let mut d = Driver::started(config(2, 1, 3, None), 25);
    d.click(0, true);
    d.click(1, true);
    d.run_for(SECS);
    d.sites[1].net = net;
    d.run_for(10 * SECS);
    d.restart_recorder(1);
    d.run_for(10 * SECS);
    d.sites[1].net = Net::Up;
    d
}

#[test]
fn recordings_are_reasserted_within_3s_after_recovery() {
    for net in [Net::Hang, Net::Refuse] {
        let mut d = outage_with_restart(net);
        let healed = d.now;
        d.run_for(3 * SECS);
        for c in [0, 1] {
            let at = d.first_recording_since(1, c, healed);
            assert!(at.is_some(), "{net:?}: cam{c} not re-asserted within 3 s");
        }
        assert!(!d.rec(1, 2));
        assert!(d.m.stats().sites_recovered >= 1);
        // The healthy site never stopped.
        assert!(d.changes.iter().all(|c| c.site == 1 || c.recording));
    }
}

#[test]
fn an_orphan_left_by_a_partition_is_stopped_when_it_heals() {
    let mut d = Driver::started(config(2, 1, 1, None), 26);
    d.click(0, true);
    d.run_for(SECS);
    d.sites[1].net = Net::Hang;
    d.run_for(3 * SECS);
    d.click(0, false);
    d.run_for(20 * MILLIS);
    assert!(!d.rec(0, 0));
    d.run_for(20 * SECS);
    assert!(d.rec(1, 0), "partitioned site cannot have heard the stop");
    d.sites[1].net = Net::Up;
    let healed = d.now;
    d.run_for(3 * SECS);
    assert!(
        !d.rec(1, 0),
        "orphan still recording 3 s after the partition healed"
    );
    let stop = d.changes_of(1, &dev(1, 0)).last().map(|c| c.at).unwrap();
    assert!(stop > healed);
    assert!(d.m.stats().orphans_stopped >= 1);
}

#[test]
fn a_silently_restarted_recorder_is_repaired_after_the_next_probe() {
    let mut d = Driver::started(config(2, 1, 2, None), 27);
    d.click(0, true);
    d.click(1, true);
    d.run_for(SECS);
    let p = Policy::default();
    let rtt = 20 * MILLIS;
    // Restarts at various phases of the probe cycle, no downtime.
    for (i, gap) in [3_100, 5_730, 4_410, 2_050].into_iter().enumerate() {
        d.run_for(gap * MILLIS);
        d.restart_recorder(1);
        let at = d.now;
        d.run_for(p.probe_interval + 2 * rtt + MILLIS);
        for c in [0, 1] {
            let back = d.first_recording_since(1, c, at);
            assert!(back.is_some(), "restart {i}: cam{c} not repaired in time");
            assert!(back.unwrap() <= at + p.probe_interval + 2 * rtt);
        }
        assert_eq!(d.m.stats().drifts_repaired, 2 * (i as u64 + 1));
    }
    // No site was ever considered down for it.
    assert_eq!(d.m.stats().sites_down, 0);
    assert!(d.changes.iter().all(|c| c.site == 1 || c.recording));
}

#[test]
fn stop_after_a_lost_start_reply_leaves_no_orphan() {
    let mut d = Driver::started(config(2, 1, 1, None), 28);
    d.click(0, true);
    d.run_for(SECS);
    d.click(0, false);
    d.run_for(SECS);
    // The next Start executes on site 1 but its reply is lost.
    d.sites[1].drop_reply = 1.0;
    d.click(0, true);
    d.run_for(50 * MILLIS);
    d.sites[1].drop_reply = 0.0;
    assert!(d.rec(1, 0));
    // The user changes their mind before the engine gives up on the reply.
    d.run_for(SECS);
    d.click(0, false);
    d.run_for(60 * SECS);
    assert!(!d.rec(0, 0));
    assert!(
        !d.rec(1, 0),
        "site 1 still records 60 s after the stop click"
    );
}

#[test]
fn stop_after_a_start_that_executed_after_its_timeout_leaves_no_orphan() {
    let mut d = Driver::started(config(2, 1, 1, None), 29);
    d.click(0, true);
    d.run_for(SECS);
    d.click(0, false);
    d.run_for(SECS);
    // Site 1 stalls: the Start reaches it only after the engine timed out.
    d.sites[1].latency = 2500 * MILLIS;
    d.click(0, true);
    d.sites[1].latency = 10 * MILLIS;
    d.run_for(2100 * MILLIS);
    d.click(0, false);
    d.run_for(60 * SECS);
    assert!(!d.rec(0, 0));
    assert!(
        !d.rec(1, 0),
        "site 1 still records 60 s after the stop click"
    );
}

#[test]
fn retries_of_a_failed_batch_stay_batched() {
    // 100 clicks before login go out as one Start per site (see clicks.rs);
    // site 1 answers that one request with a SOAP fault.
    let mut d = Driver::new(config(2, 1, 100, None), 30);
    d.sites[1].fault_all = true;
    for c in 0..100 {
        d.click(c, true);
    }
    d.run_for(45 * MILLIS);
    assert_eq!(d.ops(1, RecorderOp::Start, 0).len(), 1);
    d.sites[1].fault_all = false;
    let t = d.now;
    d.run_for(5 * SECS);
    assert!((0..100).all(|c| d.rec(1, c)));
    let starts = d.ops(1, RecorderOp::Start, t).len();
    assert!(
        starts <= 5,
        "{starts} Start requests to retry one failed batch"
    );
}

#[test]
fn reassertion_after_a_black_hole_heals_stays_within_3s_at_any_phase() {
    // 100 ms one way: the worst case is a health probe lost just before
    // the heal, its timeout, the next probe tick, then two round trips.
    for phase in 0..25u64 {
        let mut d = Driver::started(config(2, 1, 1, None), 31);
        for s in &mut d.sites {
            s.latency = 100 * MILLIS;
        }
        d.click(0, true);
        d.run_for(SECS);
        d.sites[1].net = Net::Hang;
        d.run_for(10 * SECS);
        d.restart_recorder(1);
        d.run_for(phase * 100 * MILLIS);
        let back = d.heal_and_time_reassertion(1, 0, 5 * SECS);
        assert!(
            back <= 3 * SECS,
            "phase {phase}: re-asserted after {} ms",
            back / MILLIS
        );
    }
}

#[test]
fn drift_probes_are_batched_per_recorder() {
    let mut d = Driver::started(config(2, 2, 100, None), 32);
    for c in 0..100 {
        d.click(c, true);
    }
    d.run_for(SECS);
    let from = d.now;
    d.run_for(20 * SECS);
    let p = Policy::default();
    for site in 0..2 {
        let probes = d.ops(site, RecorderOp::Probe, from);
        // One probe per recorder per probe_interval, each naming all of
        // that recorder's devices.
        let per_interval = (20 * SECS / p.probe_interval) as usize;
        assert!(
            probes.len() <= 2 * per_interval + 2,
            "site {site}: {} probes",
            probes.len()
        );
        assert!(
            probes.len() >= 2 * per_interval - 2,
            "site {site}: {} probes",
            probes.len()
        );
        assert!(
            probes.iter().all(|s| s.devices().len() == 50),
            "site {site}"
        );
    }
}

/// A health probe lost in a black hole does not hold the next one back: a
/// partition that heals just after a probe went out into it is noticed
/// within a down-probe interval and a round trip, not a request time-out
/// later (explorer world 16 of seed 11 on `slow-site-tail`, whose 5 s
/// time-out made recovery take 3.7 s).
#[test]
fn a_health_probe_lost_in_a_partition_does_not_delay_recovery() {
    let cfg = with_policy(config(2, 1, 1, None), |p| p.request_timeout = 5 * SECS);
    let policy = cfg.policy.clone();
    let mut d = Driver::started(cfg, 31);
    d.click(0, true);
    d.run_for(SECS);
    d.sites[1].net = Net::Hang;
    d.restart_recorder(1);
    d.run_for(30 * SECS);
    assert!(!d.m.status(&cam(0)).unwrap().sites[1].site_up);
    // Heal 10 ms after a health probe vanished into the partition.
    let lost_probe = d.sent_to(1, 0).last().map(|s| s.at).unwrap();
    d.run_until(lost_probe + 10 * MILLIS);
    let back = d.heal_and_time_reassertion(1, 0, 10 * SECS);
    // The next probe (one down-probe interval, plus up to a quarter of it in
    // jitter), its round trip, a login round trip and the Start's trip.
    let bound = policy.down_probe_interval * 5 / 4 + 5 * 10 * MILLIS;
    assert!(
        back <= bound,
        "recording back {} ms after the heal (bound {} ms)",
        back / MILLIS,
        bound / MILLIS
    );
}

/// A Start held 50 s on its way (a latency tail far beyond the time-out)
/// executes after the Stop that followed it. The engine keeps watching the
/// camera for `LATE_REQUEST_HORIZON` after sending a request of unknown
/// fate, so the late recording is found and stopped (explorer world 14240 of
/// seed 11 on `slow-site-tail`: a Start executed 67 s late, after the
/// engine's watch of 10 time-outs had ended).
#[test]
fn a_start_executing_long_after_its_timeout_is_stopped() {
    let mut d = Driver::started(config(2, 1, 1, None), 32);
    d.sites[1].latency = 50 * SECS;
    let clicked = d.now;
    d.click(0, true);
    d.pump();
    d.sites[1].latency = 10 * MILLIS;
    d.run_for(10 * SECS);
    assert!(d.rec(1, 0), "the retried Start did not land");
    d.click(0, false);
    d.run_for(5 * SECS);
    assert!(!d.rec(1, 0));
    late_start_lands_and_is_stopped(&mut d, clicked + 50 * SECS);
}

/// A probe's answer that arrives after its time-out still says what the
/// recorder was doing: a restart it reveals is repaired then, not a whole
/// probe round trip later.
#[test]
fn a_probe_answer_after_its_time_out_still_counts() {
    let cfg = with_policy(config(2, 1, 1, None), |p| p.request_timeout = 5 * SECS);
    let mut d = Driver::started(cfg, 22);
    d.click(0, true);
    d.run_for(5 * SECS);
    assert!(d.rec(1, 0));
    // Round trips of 7 s from now on: every answer comes after its time-out.
    d.sites[1].latency = 3500 * MILLIS;
    d.restart_recorder(1);
    let restart = d.now;
    d.run_for(30 * SECS);
    let probe = d.ops(1, RecorderOp::Probe, restart)[0].at;
    let back = d.first_recording_since(1, 0, restart).expect("re-asserted") - probe;
    // The first probe's answer (7 s), then the Start's trip (3.5 s); waiting
    // for a second probe would take 5.5 s + 7 s + 3.5 s.
    assert!(
        back <= 10500 * MILLIS + 10 * MILLIS,
        "recording {} ms after the first probe",
        back / MILLIS
    );
}

/// A probe caught in a latency tail on a site that otherwise answers is
/// overdue like a Start or Stop: the next drift probe goes out on time, so
/// a recorder restart is repaired a probe interval later, not after the
/// stuck probe's time-out.
#[test]
fn a_probe_stuck_in_a_tail_does_not_hold_back_the_next() {
    let cfg = with_policy(config(2, 1, 2, None), |p| p.request_timeout = 5 * SECS);
    let mut d = Driver::started(cfg, 23);
    d.click(0, true);
    d.run_for(5 * SECS);
    assert!(d.rec(1, 0));
    // The next probe's request takes 10 s to arrive; everything else 10 ms.
    d.sites[1].tails = vec![(RecorderOp::Probe, 10 * SECS)];
    d.restart_recorder(1);
    let restart = d.now;
    while d.ops(1, RecorderOp::Probe, restart).is_empty() {
        d.run_for(10 * MILLIS);
    }
    let stuck = d.ops(1, RecorderOp::Probe, restart)[0].at;
    // A request sent after the stuck probe is answered at once: the path
    // to the site works.
    d.click(1, true);
    d.run_for(20 * SECS);
    let back = d.first_recording_since(1, 0, restart).expect("re-asserted") - stuck;
    // The next drift probe, one probe interval on, finds the restart.
    let bound = d.policy.probe_interval + 100 * MILLIS;
    assert!(
        back <= bound,
        "recording {} ms after the stuck probe (bound {} ms)",
        back / MILLIS,
        bound / MILLIS
    );
}
