//! Renewal of manual recordings before a site's "stop manual recording
//! after" limit: Stop then Start inside the pre-buffer, staggered so the
//! sites never both stop a camera at once, and none when the limit is off.

use super::driver::*;
use crate::core::*;

const LIMIT: Nanos = 300 * SECS;
const SESSION: Nanos = 40 * 60 * SECS;

/// Asserts that camera `c` on `site` went Start, then (Stop, Start)* with
/// each hand-over shorter than the pre-buffer; returns the renewal count.
fn assert_renewal_pattern(d: &Driver, site: SiteId, c: usize) -> usize {
    let ch = d.changes_of(site, &dev(site, c));
    assert!(
        ch[0].recording && ch[0].cause == Cause::Start,
        "{:?}",
        ch[0]
    );
    let mut renewals = 0;
    for pair in ch[1..].chunks(2) {
        let [stop, start] = pair else {
            panic!("site {site} cam{c}: ends stopped: {:?}", pair[0]);
        };
        assert_eq!(
            (stop.cause, stop.recording),
            (Cause::Stop, false),
            "{stop:?}"
        );
        assert_eq!(
            (start.cause, start.recording),
            (Cause::Start, true),
            "{start:?}"
        );
        assert!(
            start.at - stop.at < 3 * SECS,
            "hand-over of {} ms",
            (start.at - stop.at) / MILLIS
        );
        renewals += 1;
    }
    // The engine sent exactly these operations, alternating (a request
    // re-sent because its reply was overdue counts once).
    let mut ops: Vec<_> = d
        .sent
        .iter()
        .filter(|s| s.cmd.site() == site && s.devices().contains(&dev(site, c)))
        .filter_map(|s| s.op().filter(|&o| o != RecorderOp::Probe))
        .collect();
    ops.dedup();
    assert_eq!(ops.len(), 1 + 2 * renewals, "site {site} cam{c}: {ops:?}");
    for (i, op) in ops.iter().enumerate() {
        let want = if i % 2 == 0 {
            RecorderOp::Start
        } else {
            RecorderOp::Stop
        };
        assert_eq!(*op, want, "site {site} cam{c}: op #{i} of {ops:?}");
    }
    renewals
}

/// Asserts that from the moment both sites record camera `c`, at least one
/// of them records it at every instant.
fn assert_never_both_stopped(d: &Driver, c: usize) {
    let mut on = [false, false];
    let mut armed = false;
    for ch in d.changes.iter().filter(|ch| ch.device == dev(ch.site, c)) {
        on[ch.site] = ch.recording;
        armed |= on[0] && on[1];
        assert!(
            !armed || on[0] || on[1],
            "cam{c}: both sites stopped at {} ms",
            ch.at / MILLIS
        );
    }
}

#[test]
fn a_40_minute_session_is_renewed_and_never_auto_stopped() {
    let mut d = Driver::started(config(2, 1, 2, Some(LIMIT)), 40);
    d.click(0, true);
    d.run_for(3 * SECS);
    d.click(1, true);
    d.run_until(SESSION);
    let auto: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.cause == Cause::AutoStop)
        .collect();
    assert!(auto.is_empty(), "recorder auto-stop fired: {auto:?}");
    let mut total = 0;
    for site in 0..2 {
        for c in 0..2 {
            let n = assert_renewal_pattern(&d, site, c);
            assert!(n >= 8, "site {site} cam{c}: only {n} renewals in 40 min");
            total += n;
        }
    }
    assert_eq!(d.m.stats().renewals, total as u64);
    for c in 0..2 {
        assert_never_both_stopped(&d, c);
    }
    // Stop ends the session for good: no renewal restarts it.
    d.click(0, false);
    d.click(1, false);
    let t = d.now;
    d.run_for(20 * 60 * SECS);
    assert!((0..2).all(|s| !d.rec(s, 0) && !d.rec(s, 1)));
    assert!(d.changes.iter().all(|c| c.at < t + SECS));
}

#[test]
fn a_slow_site_still_renews_inside_the_prebuffer() {
    let mut d = Driver::started(config(2, 1, 1, Some(LIMIT)), 41);
    d.sites[1].latency = 600 * MILLIS;
    d.click(0, true);
    d.run_until(SESSION);
    assert!(d.changes.iter().all(|c| c.cause != Cause::AutoStop));
    for site in 0..2 {
        assert!(assert_renewal_pattern(&d, site, 0) >= 8);
    }
    assert_never_both_stopped(&d, 0);
}

#[test]
fn no_renewal_when_the_limit_is_off() {
    let mut d = Driver::started(config(2, 1, 2, None), 42);
    d.click(0, true);
    d.click(1, true);
    d.run_until(SESSION);
    assert_eq!(d.m.stats().renewals, 0);
    for site in 0..2 {
        assert!(d.ops(site, RecorderOp::Stop, 0).is_empty());
        assert_eq!(d.ops(site, RecorderOp::Start, 0).len(), 2);
    }
    assert_eq!(d.changes.len(), 4);
}

#[test]
fn only_the_site_with_a_limit_renews() {
    let mut cfg = config(2, 1, 1, Some(LIMIT));
    cfg.sites[1].manual_recording_max = None;
    let mut d = Driver::started(cfg, 43);
    d.click(0, true);
    d.run_until(SESSION);
    assert!(d.changes.iter().all(|c| c.cause != Cause::AutoStop));
    assert!(assert_renewal_pattern(&d, 0, 0) >= 8);
    assert_eq!(assert_renewal_pattern(&d, 1, 0), 0);
}

#[test]
fn a_sibling_stuck_in_its_renewal_does_not_block_the_other_site() {
    let mut d = Driver::started(config(2, 1, 1, Some(LIMIT)), 44);
    d.click(0, true);
    // Before the first renewal, site 0's device starts refusing Start/Stop
    // (ResultCode != 0) while the site itself stays up.
    d.run_until(200 * SECS);
    d.sites[0].failing.insert(dev(0, 0));
    d.run_until(SESSION);
    let auto: Vec<_> = d
        .changes_of(1, &dev(1, 0))
        .into_iter()
        .filter(|c| c.cause == Cause::AutoStop)
        .collect();
    assert!(
        auto.is_empty(),
        "healthy site 1 was auto-stopped {} times, first at {} s",
        auto.len(),
        auto.first().map_or(0, |c| c.at / SECS)
    );
}

#[test]
fn a_recording_that_survived_a_partition_is_still_renewed() {
    let mut d = Driver::started(config(2, 1, 1, Some(LIMIT)), 45);
    d.click(0, true);
    d.run_until(100 * SECS);
    // Site 1 is cut off for 20 s; its recorder keeps recording meanwhile,
    // and the first health probe after the heal says so.
    d.sites[1].net = Net::Hang;
    d.run_until(120 * SECS);
    assert!(!d.m.status(&cam(0)).unwrap().sites[1].site_up);
    d.sites[1].net = Net::Up;
    d.run_until(SESSION);
    let auto: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.cause == Cause::AutoStop)
        .collect();
    assert!(auto.is_empty(), "recorder auto-stop fired: {auto:?}");
    assert!(assert_renewal_pattern(&d, 1, 0) >= 8);
}

#[test]
fn a_recording_first_seen_by_a_probe_is_renewed() {
    // Only site 1 has a limit, so no sibling renewal wakes its camera up.
    let mut cfg = config(2, 1, 1, Some(LIMIT));
    cfg.sites[0].manual_recording_max = None;
    let mut d = Driver::started(cfg, 46);
    let t = d.now;
    d.click(0, true);
    // Site 1 executes the Start, then is cut off before its reply leaves;
    // after the heal, its health probe is the first to report the recording.
    d.run_until(t + 15 * MILLIS);
    assert!(d.rec(1, 0));
    d.sites[1].net = Net::Hang;
    d.run_until(t + 20 * SECS);
    d.sites[1].net = Net::Up;
    d.run_until(SESSION);
    let auto: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.cause == Cause::AutoStop)
        .collect();
    assert!(auto.is_empty(), "recorder auto-stop fired: {auto:?}");
    let renewals = d
        .changes_of(1, &dev(1, 0))
        .iter()
        .filter(|c| c.cause == Cause::Stop)
        .count();
    assert!(renewals >= 8, "{renewals} renewals");
}
