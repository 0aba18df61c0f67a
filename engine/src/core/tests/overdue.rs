//! Overdue requests (see `core/overdue.rs`): a Start lost in a short
//! partition, a Stop whose reply was lost ahead of a start click, and a hang
//! shorter than the time-outs — none may hold a camera back until the
//! request time-out (5 s here, as a deployment over a slow WAN sets it).

use super::driver::*;
use crate::core::*;

/// Two sites, one camera, a 5 s request time-out; site 1 alone can fail.
fn slow_timeout_sites(seed: u64) -> Driver {
    let mut cfg = config(2, 1, 1, None);
    cfg.policy.request_timeout = 5 * SECS;
    for s in &mut cfg.sites {
        s.prebuffer = SECS;
    }
    Driver::started(cfg, seed)
}

/// How long after `heal` site `site` records camera 0 again.
/// Site 1 swallows every request (a partition or hang) from `before` ahead
/// of a start click until `inside` after it; returns the driver and how
/// long after the heal site 1 records camera 0.
fn click_inside_a_hang(seed: u64, before: Nanos, inside: Nanos) -> (Driver, Nanos) {
    let mut d = slow_timeout_sites(seed);
    d.sites[1].net = Net::Hang;
    d.run_for(before);
    d.click(0, true);
    d.run_for(inside);
    d.sites[1].net = Net::Up;
    let heal = d.now;
    d.run_for(10 * SECS);
    let back = d
        .first_recording_since(1, 0, heal)
        .expect("recording again")
        - heal;
    (d, back)
}

#[test]
fn a_start_lost_in_a_short_partition_lands_soon_after_it_heals() {
    // A 1 s partition swallows the click's Start (the site is not called
    // down: nothing has timed out yet). Suspect after the overdue Start: it
    // is probed every 500 ms (+ up to 125 ms jitter), and the first answered
    // probe lets the Start be re-sent.
    let (d, back) = click_inside_a_hang(60, 350 * MILLIS, 650 * MILLIS);
    assert!(
        back < 700 * MILLIS,
        "recording {} ms after the heal (time-out 5 s)",
        back / MILLIS
    );
    assert_eq!(d.m.stats().sites_down, 0, "never called down");
}

#[test]
fn a_hang_shorter_than_the_time_outs_is_noticed_within_a_probe_interval() {
    let (_, back) = click_inside_a_hang(61, 666 * MILLIS, 2300 * MILLIS);
    assert!(
        back < 700 * MILLIS,
        "recording {} ms after a 2.97 s hang ended",
        back / MILLIS
    );
}

/// Site 1 refuses everything (the other site is out); site 0's Stop
/// executes but its reply is lost, and the user clicks start 50 ms later.
fn start_click_behind_a_lost_stop_reply(seed: u64) -> (Driver, Nanos) {
    let mut d = slow_timeout_sites(seed);
    d.sites[1].net = Net::Refuse;
    d.click(0, true);
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    d.sites[0].drop_reply = 1.0;
    d.click(0, false);
    d.run_for(30 * MILLIS);
    assert!(!d.rec(0, 0), "the Stop executed");
    d.sites[0].drop_reply = 0.0;
    d.run_for(20 * MILLIS);
    d.click(0, true);
    let click = d.now;
    d.run_for(10 * SECS);
    (d, click)
}

#[test]
fn a_start_click_overtakes_a_stop_whose_reply_was_lost() {
    let (d, click) = start_click_behind_a_lost_stop_reply(62);
    // The Start must land within the 1 s pre-buffer of the click, or the
    // footage between the click and the Start is lost with site 1 out.
    let back = d
        .first_recording_since(0, 0, click)
        .expect("recording again")
        - click;
    assert!(
        back < SECS,
        "recording {} ms after the start click (pre-buffer 1 s)",
        back / MILLIS
    );
    assert!(d.rec(0, 0));
    // The overtaken Stop timed out 5 s after it was sent: it might have
    // executed after the Start, so the Start was repeated.
    let starts = d.ops(0, RecorderOp::Start, click);
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(starts[1].at >= click + 5 * SECS - 50 * MILLIS, "{starts:?}");
}

/// On a link slow enough that two round-trip bounds reach the request
/// time-out (no blind re-send), a Start caught in a latency tail is still
/// re-sent before its time-out once a request sent after it was answered.
#[test]
fn a_start_overtaken_by_an_answered_request_is_resent_before_its_timeout() {
    let mut cfg = config(2, 1, 3, None);
    cfg.policy.request_timeout = 5 * SECS;
    let mut d = Driver::new(cfg, 31);
    d.sites[1].latency = 1200 * MILLIS;
    d.sites[1].jitter = 400 * MILLIS;
    d.click(0, true);
    // Logins, Starts and drift probes time the 2.4–3.2 s round trips.
    d.run_for(30 * SECS);
    assert!(d.rec(1, 0));
    let bound = d.m.sites[1].rtt.bound();
    assert!(
        2 * bound >= d.policy.request_timeout && bound < d.policy.request_timeout,
        "round-trip bound {} ms",
        bound / MILLIS
    );
    d.sites[1].tails = vec![(RecorderOp::Start, 20 * SECS)];
    let t = d.now;
    d.click(1, true);
    d.run_for(50 * MILLIS);
    d.click(2, true);
    d.run_for(10 * SECS);
    let starts: Vec<Nanos> = d
        .ops(1, RecorderOp::Start, t)
        .iter()
        .filter(|s| s.devices().contains(&dev(1, 1)))
        .map(|s| s.at)
        .collect();
    assert!(starts.len() >= 2, "never re-sent: {starts:?}");
    assert!(
        starts[1] < starts[0] + d.policy.request_timeout,
        "re-sent {} ms after the first, only at its time-out",
        (starts[1] - starts[0]) / MILLIS
    );
    assert!(d.rec(1, 1) && d.rec(1, 2));
}
