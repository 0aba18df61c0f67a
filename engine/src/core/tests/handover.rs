//! Evidence while one site carries it alone: the auto-stop timer is never
//! believed younger than a Start of unknown fate, a stop click does not
//! abandon a renewal's hand-over, and hand-overs fit in the pre-buffer even
//! when the renewal's Start fails or its token dies mid-way.
//!
//! In each test the other site is down (connections refused), so any hole
//! in the first site's footage is an evidence gap. Each test fails on an
//! engine with the matching planted bug (see `sabotage.rs`), which the last
//! test checks.

use super::driver::*;
use crate::core::*;

const LIMIT: Nanos = 60 * SECS;

/// Two sites, one camera, a 60 s auto-stop and a `prebuffer`; site 1 down.
fn lone_site(prebuffer: Nanos, seed: u64, sabotage: Sabotage) -> Driver {
    let mut cfg = config(2, 1, 1, Some(LIMIT));
    for s in &mut cfg.sites {
        s.prebuffer = prebuffer;
    }
    let mut d = Driver::new(cfg, seed);
    d.m.sabotage(sabotage);
    d.sites[1].net = Net::Refuse;
    d.run_for(SECS);
    d
}

/// Runs until the engine sends a renewal Stop for camera 0 to site 0 (a
/// Stop while the intent is recording); returns its send time.
fn until_renewal_stop(d: &mut Driver, from: Nanos) -> Nanos {
    for _ in 0..(10 * 60 * 1000) {
        if let Some(s) = d.ops(0, RecorderOp::Stop, from).first() {
            return s.at;
        }
        d.run_for(MILLIS);
    }
    panic!("no renewal within 10 minutes");
}

/// The longest hole in site 0's recording of camera 0 between `from` and
/// `to`, not counting a final stop at or after `stop_click`.
fn longest_hole(d: &Driver, from: Nanos, to: Nanos, stop_click: Option<Nanos>) -> Nanos {
    let mut stopped_at: Option<Nanos> = None;
    let mut worst = 0;
    for ch in d.changes_of(0, &dev(0, 0)) {
        if ch.at < from || ch.at > to {
            continue;
        }
        if !ch.recording {
            if stop_click.is_some_and(|t| ch.at >= t) {
                continue;
            }
            stopped_at = Some(ch.at);
        } else if let Some(s) = stopped_at.take() {
            worst = worst.max(ch.at - s);
        }
    }
    if let Some(s) = stopped_at {
        let end = stop_click.unwrap_or(to);
        worst = worst.max(end.saturating_sub(s));
    }
    worst
}

fn timer_dated_from_a_lost_start(sabotage: Sabotage) -> Vec<Change> {
    let mut d = lone_site(SECS, 50, sabotage);
    // The Start executes, its reply is lost...
    d.sites[0].drop_reply = 1.0;
    d.click(0, true);
    d.run_for(100 * MILLIS);
    assert!(d.rec(0, 0));
    // ...and the site answers nothing but faults for 40 s.
    d.sites[0].drop_reply = 0.0;
    d.sites[0].fault_all = true;
    d.run_for(40 * SECS);
    d.sites[0].fault_all = false;
    d.run_for(5 * 60 * SECS);
    d.changes.clone()
}

#[test]
fn a_start_of_unknown_fate_dates_the_auto_stop_timer() {
    let changes = timer_dated_from_a_lost_start(Sabotage::default());
    let auto: Vec<_> = changes
        .iter()
        .filter(|c| c.site == 0 && c.cause == Cause::AutoStop)
        .collect();
    assert!(
        auto.is_empty(),
        "the recorder auto-stopped before the engine renewed: {auto:?}"
    );
}

/// Clicks Stop while the renewal's Stop has executed but not answered.
fn stop_click_inside_a_renewal(sabotage: Sabotage) -> (Driver, Nanos, Nanos) {
    let mut d = lone_site(SECS, 51, sabotage);
    d.sites[0].latency = 50 * MILLIS;
    d.click(0, true);
    let from = d.now + MILLIS;
    let stop_sent = until_renewal_stop(&mut d, from);
    d.run_until(stop_sent + 70 * MILLIS);
    assert!(!d.rec(0, 0), "the renewal Stop has executed");
    d.click(0, false);
    let click = d.now;
    d.run_for(10 * SECS);
    (d, stop_sent, click)
}

#[test]
fn a_stop_click_during_a_renewal_stop_still_gets_the_back_fill() {
    let (d, stop_sent, click) = stop_click_inside_a_renewal(Sabotage::default());
    let ch = d.changes_of(0, &dev(0, 0));
    let backfill = ch
        .iter()
        .find(|c| c.at > stop_sent && c.recording)
        .expect("a Start back-fills the hand-over before the click's Stop");
    assert!(
        backfill.at - stop_sent < SECS,
        "back-fill {} ms after the renewal Stop",
        (backfill.at - stop_sent) / MILLIS
    );
    assert!(!d.rec(0, 0), "the click's Stop followed");
    assert!(longest_hole(&d, stop_sent, d.now, Some(click)) < SECS);
}

fn renewal_start_failing_for_a_while(sabotage: Sabotage) -> Nanos {
    let mut d = lone_site(1500 * MILLIS, 52, sabotage);
    d.click(0, true);
    let from = d.now + MILLIS;
    let stop_sent = until_renewal_stop(&mut d, from);
    // The Stop executes; every Start fails (ResultCode != 0) for 1.3 s.
    d.run_until(stop_sent + 15 * MILLIS);
    d.sites[0].failing.insert(dev(0, 0));
    d.run_for(1300 * MILLIS);
    d.sites[0].failing.clear();
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    longest_hole(&d, stop_sent, d.now, None)
}

#[test]
fn a_failing_renewal_start_is_retried_inside_the_prebuffer() {
    let hole = renewal_start_failing_for_a_while(Sabotage::default());
    assert!(
        hole < 1500 * MILLIS,
        "hand-over of {} ms with a 1.5 s pre-buffer",
        hole / MILLIS
    );
}

fn token_dies_mid_handover(sabotage: Sabotage) -> Nanos {
    let mut d = lone_site(SECS, 53, sabotage);
    d.sites[0].latency = 200 * MILLIS;
    d.click(0, true);
    let from = d.now + MILLIS;
    let stop_sent = until_renewal_stop(&mut d, from);
    // The Stop executes at +200 ms; every token dies at +250 ms.
    d.run_until(stop_sent + 250 * MILLIS);
    d.invalidate_tokens(0);
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    longest_hole(&d, stop_sent, d.now, None)
}

#[test]
fn a_token_dying_mid_handover_costs_no_footage() {
    let hole = token_dies_mid_handover(Sabotage::default());
    assert!(
        hole < SECS,
        "hand-over of {} ms with a 1 s pre-buffer",
        hole / MILLIS
    );
}

fn lost_renewal_stop_reply(sabotage: Sabotage) -> Nanos {
    let mut d = lone_site(SECS, 54, sabotage);
    d.sites[0].latency = 20 * MILLIS;
    d.click(0, true);
    let from = d.now + MILLIS;
    let stop_sent = until_renewal_stop(&mut d, from);
    // The renewal Stop executes; its reply is lost.
    d.sites[0].drop_reply = 1.0;
    d.run_until(stop_sent + 30 * MILLIS);
    d.sites[0].drop_reply = 0.0;
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    longest_hole(&d, stop_sent, d.now, None)
}

#[test]
fn a_lost_renewal_stop_reply_is_overtaken_by_the_start() {
    let hole = lost_renewal_stop_reply(Sabotage::default());
    assert!(
        hole < SECS,
        "hand-over of {} ms with a 1 s pre-buffer and a 2 s request timeout",
        hole / MILLIS
    );
}

#[test]
fn a_short_outage_is_noticed_and_repaired_within_the_reaction_time() {
    let mut d = lone_site(SECS, 55, Sabotage::default());
    d.sites[1].net = Net::Up;
    d.sites[0].latency = 200 * MILLIS;
    d.click(0, true);
    d.run_for(20 * SECS);
    let mut worst = 0;
    for _ in 0..10 {
        // A short down: refused, recordings forgotten.
        d.sites[0].net = Net::Refuse;
        d.restart_recorder(0);
        d.run_for(1200 * MILLIS);
        d.sites[0].net = Net::Up;
        let back = d.now;
        d.run_for(10 * SECS);
        let again = d.first_recording_since(0, 0, back).expect("re-asserted");
        worst = worst.max(again - back);
        d.run_for(3700 * MILLIS);
    }
    assert!(
        worst < 3 * SECS,
        "recovery took {} ms at 200 ms one way",
        worst / MILLIS
    );
}

/// The tests above are not vacuous: each planted bug breaks its own.
#[test]
fn each_planted_bug_breaks_its_test() {
    let young = Sabotage {
        young_timer: true,
        ..Sabotage::default()
    };
    let changes = timer_dated_from_a_lost_start(young);
    assert!(changes
        .iter()
        .any(|c| c.site == 0 && c.cause == Cause::AutoStop));

    let abandon = Sabotage {
        abandon_handover: true,
        ..Sabotage::default()
    };
    let (d, stop_sent, _) = stop_click_inside_a_renewal(abandon);
    assert!(!d
        .changes_of(0, &dev(0, 0))
        .iter()
        .any(|c| c.at > stop_sent && c.recording));

    let careless = Sabotage {
        careless_handover: true,
        ..Sabotage::default()
    };
    assert!(renewal_start_failing_for_a_while(careless) >= 1500 * MILLIS);
    assert!(token_dies_mid_handover(careless) >= SECS);
    assert!(lost_renewal_stop_reply(careless) >= SECS);
}
