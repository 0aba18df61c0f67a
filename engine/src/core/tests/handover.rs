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
    lone_site_with(1, prebuffer, seed, sabotage)
}

/// [`lone_site`] with `cameras` cameras on one recorder.
fn lone_site_with(cameras: usize, prebuffer: Nanos, seed: u64, sabotage: Sabotage) -> Driver {
    let mut cfg = config(2, 1, cameras, Some(LIMIT));
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
    let mut cfg = config(2, 1, 1, Some(LIMIT));
    for s in &mut cfg.sites {
        s.prebuffer = SECS;
    }
    // Drift probes would see the recording first and date its timer as
    // unknown (renew at once); this is about a Start confirming first.
    cfg.policy.probe_interval = 10 * 60 * SECS;
    let mut d = Driver::new(cfg, 50);
    d.m.sabotage(sabotage);
    d.sites[1].net = Net::Refuse;
    d.run_for(SECS);
    // The Start executes, its reply is lost...
    d.sites[0].drop_reply = 1.0;
    d.click(0, true);
    d.run_for(50 * MILLIS);
    assert!(d.rec(0, 0));
    // ...and the site answers nothing but faults for 40 s (from before the
    // Start is overdue, so its re-sending faults too).
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

/// The lone site loses 30% of its replies (the commands execute) for ten
/// minutes of renewals: no hand-over may outgrow the pre-buffer.
fn lossy_lone_site(sabotage: Sabotage, seed: u64) -> Nanos {
    let mut d = lone_site(3 * SECS, seed, sabotage);
    d.sites[0].latency = 15 * MILLIS;
    d.click(0, true);
    d.run_for(5 * SECS);
    let from = d.now;
    d.sites[0].drop_reply = 0.3;
    d.run_for(10 * 60 * SECS);
    d.sites[0].drop_reply = 0.0;
    d.run_for(20 * SECS);
    // The run may end inside a renewal's hand-over: let it close.
    for _ in 0..100 {
        if d.rec(0, 0) {
            break;
        }
        d.run_for(100 * MILLIS);
    }
    assert!(d.rec(0, 0));
    longest_hole(&d, from, d.now, None)
}

#[test]
fn hand_overs_on_a_site_losing_replies_fit_the_prebuffer() {
    for seed in 60..70 {
        let hole = lossy_lone_site(Sabotage::default(), seed);
        assert!(
            hole < 3 * SECS,
            "seed {seed}: hand-over of {} ms with a 3 s pre-buffer",
            hole / MILLIS
        );
    }
}

/// The renewal Stop executes and its reply is lost; meanwhile other
/// requests fail and the engine judges the site down, and its health
/// probes go unanswered until well past the pre-buffer.
fn site_judged_down_mid_handover(sabotage: Sabotage) -> Nanos {
    let mut d = lone_site_with(2, 3 * SECS, 56, sabotage);
    d.sites[0].latency = 15 * MILLIS;
    d.click(0, true);
    let from = d.now + MILLIS;
    let stop_sent = until_renewal_stop(&mut d, from);
    d.sites[0].drop_reply = 1.0;
    d.run_until(stop_sent + 20 * MILLIS);
    assert!(!d.rec(0, 0), "the renewal Stop has executed");
    // Connections refused for a moment: a click on camera 1 fails twice
    // and takes the site down in the engine's eyes.
    d.sites[0].net = Net::Refuse;
    d.click(1, true);
    d.run_until(stop_sent + 1400 * MILLIS);
    // Back, but every reply (and so every health probe's) is lost.
    d.sites[0].net = Net::Up;
    d.run_until(stop_sent + 4500 * MILLIS);
    d.sites[0].drop_reply = 0.0;
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    longest_hole(&d, stop_sent, d.now, None)
}

#[test]
fn a_site_judged_down_mid_handover_still_gets_the_start() {
    let hole = site_judged_down_mid_handover(Sabotage::default());
    assert!(
        hole < 3 * SECS,
        "hand-over of {} ms with a 3 s pre-buffer",
        hole / MILLIS
    );
}

/// Runs camera 0 to its first renewal on site 0 with one health probe's reply lost
/// just before it; returns when the Stop went and when that probe did.
fn renewal_after_a_lost_probe_reply(sabotage: Sabotage) -> (Nanos, Nanos) {
    let twin = || {
        let mut d = lone_site(3 * SECS, 57, sabotage);
        // Site 1 records too, so the renewal need not wait for cover.
        d.sites[1].net = Net::Up;
        d.sites[0].latency = 15 * MILLIS;
        d.click(0, true);
        d
    };
    // Where the renewal falls without the fault, then the same run with
    // the replies of the last probe before it lost.
    let mut d = twin();
    let from = d.now + MILLIS;
    let due = until_renewal_stop(&mut d, from);
    let probe = d
        .ops(0, RecorderOp::Probe, from)
        .into_iter()
        .map(|s| s.at)
        .rfind(|&t| t + 200 * MILLIS < due)
        .expect("a probe before the renewal");
    let mut d = twin();
    d.run_until(probe);
    d.sites[0].drop_reply = 1.0;
    d.run_until(probe + 100 * MILLIS);
    d.sites[0].drop_reply = 0.0;
    (until_renewal_stop(&mut d, from), probe)
}

#[test]
fn no_handover_starts_while_a_reply_is_overdue() {
    let (stop_sent, probe) = renewal_after_a_lost_probe_reply(Sabotage::default());
    let timeout = Policy::default().request_timeout;
    assert!(
        stop_sent >= probe + timeout,
        "renewal Stop {} ms after a probe whose reply never came (timeout {} ms)",
        (stop_sent - probe) / MILLIS,
        timeout / MILLIS
    );
}

/// Two Starts lose their replies; the site answers a probe sent after
/// them; then both time out. Those timeouts are old news: a click right
/// after them gets its Start at once, not after a health-probe cycle.
#[test]
fn stale_timeouts_do_not_call_a_working_site_down() {
    let mut d = lone_site_with(4, 3 * SECS, 58, Sabotage::default());
    d.sites[0].latency = 15 * MILLIS;
    // Camera 2 records, so the recorder is probed.
    d.click(2, true);
    d.run_for(5 * SECS);
    d.sites[0].drop_reply = 1.0;
    d.click(0, true);
    d.click(1, true);
    d.run_for(40 * MILLIS);
    let lost_at = d.now;
    d.sites[0].drop_reply = 0.0;
    d.run_for(2 * SECS);
    assert!(
        !d.ops(0, RecorderOp::Probe, lost_at).is_empty(),
        "a probe was answered after the lost replies"
    );
    d.click(3, true);
    let click = d.now;
    d.run_for(MILLIS);
    let starts = d.ops(0, RecorderOp::Start, click);
    assert!(
        starts.iter().any(|s| s.devices().contains(&dev(0, 3))),
        "the click's Start waits: {starts:?}"
    );
}

/// Site 1 is down across site 0's renewal; returns when site 0's renewal
/// Stop went and when site 1 came back.
fn renewal_while_the_other_site_is_down(sabotage: Sabotage) -> (Nanos, Nanos) {
    let twin = || {
        let mut d = lone_site(SECS, 59, sabotage);
        d.sites[1].net = Net::Up;
        d.click(0, true);
        d
    };
    let mut d = twin();
    let from = d.now + MILLIS;
    let due = until_renewal_stop(&mut d, from);
    let mut d = twin();
    d.run_until(due - 5 * SECS);
    d.sites[1].net = Net::Refuse;
    d.run_until(due + 10 * SECS);
    d.sites[1].net = Net::Up;
    let back = d.now;
    (until_renewal_stop(&mut d, from), back)
}

#[test]
fn a_renewal_waits_for_the_other_site_to_cover_it() {
    let (stop_sent, back) = renewal_while_the_other_site_is_down(Sabotage::default());
    assert!(
        stop_sent > back,
        "site 0 renewed {} ms before site 1 was back",
        (back - stop_sent) / MILLIS
    );
}

/// The renewal Stop is refused with a fault; the re-sent one executes and
/// its reply is lost: the Start must overtake it inside the pre-buffer.
fn refused_then_lost_renewal_stop(sabotage: Sabotage) -> Nanos {
    let mut d = lone_site(SECS, 61, sabotage);
    d.sites[0].latency = 20 * MILLIS;
    d.click(0, true);
    let from = d.now + MILLIS;
    let first = until_renewal_stop(&mut d, from);
    d.sites[0].fault_all = true;
    d.run_until(first + 45 * MILLIS);
    d.sites[0].fault_all = false;
    d.sites[0].drop_reply = 1.0;
    let second = until_renewal_stop(&mut d, first + MILLIS);
    d.run_until(second + 30 * MILLIS);
    d.sites[0].drop_reply = 0.0;
    d.run_for(10 * SECS);
    assert!(d.rec(0, 0));
    longest_hole(&d, first, d.now, None)
}

#[test]
fn a_re_sent_renewal_stop_opens_the_handover_afresh() {
    let hole = refused_then_lost_renewal_stop(Sabotage::default());
    assert!(
        hole < SECS,
        "hand-over of {} ms with a 1 s pre-buffer",
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
    assert!(site_judged_down_mid_handover(careless) >= 3 * SECS);
    let (stop_sent, back) = renewal_while_the_other_site_is_down(careless);
    assert!(stop_sent < back);
    let (stop_sent, probe) = renewal_after_a_lost_probe_reply(careless);
    assert!(stop_sent < probe + Policy::default().request_timeout);
}
