//! Restore after an engine crash: journaled intents come back (highest
//! sequence wins), every site is reconciled (start what should record, stop
//! what should not), cameras without an intent are left alone, and
//! recordings of unknown age are renewed before the recorder stops them.

use super::driver::*;
use crate::core::*;

fn entry(c: usize, seq: u64, recording: bool) -> JournalEntry {
    JournalEntry {
        camera: cam(c),
        seq: IntentSeq(seq),
        recording,
    }
}

#[test]
fn restore_reconciles_every_site_from_the_journal() {
    let mut d = Driver::new(config(2, 1, 4, None), 60);
    // What the recorders are doing when the new engine starts.
    for (site, c, on) in [
        (0, 0, false),
        (1, 0, true), // cam0 should record
        (0, 1, true),
        (1, 1, true), // cam1 should not
        (0, 2, false),
        (1, 2, false), // cam2 should record
        (0, 3, true),
        (1, 3, false), // cam3 has no intent: not ours
    ] {
        d.preset(site, c, on);
    }
    let journal = vec![
        entry(0, 5, true),
        entry(1, 1, true),
        entry(1, 2, false),
        entry(2, 6, true),
        entry(2, 4, false),
        entry(2, 3, true),
        JournalEntry {
            camera: CameraId::new("removed-from-config"),
            seq: IntentSeq(9),
            recording: true,
        },
    ];
    d.restore(journal);
    d.run_for(60 * SECS);
    for site in 0..2 {
        assert!(d.rec(site, 0), "site {site} cam0");
        assert!(!d.rec(site, 1), "site {site} cam1");
        assert!(d.rec(site, 2), "site {site} cam2");
        // Starts are batched: one request per recorder.
        let starts = d.ops(site, RecorderOp::Start, 0);
        assert_eq!(starts.len(), 1, "site {site}: {starts:?}");
    }
    // cam3 is untouched and never named in any request.
    assert!(d.rec(0, 3) && !d.rec(1, 3));
    assert!(d
        .sent
        .iter()
        .all(|s| !s.devices().contains(&dev(s.cmd.site(), 3))));

    let want = [Some((5, true)), Some((2, false)), Some((6, true)), None];
    for (c, want) in want.into_iter().enumerate() {
        let st = d.m.status(&cam(c)).unwrap();
        assert_eq!(st.intent, want.map(|(s, r)| (IntentSeq(s), r)), "cam{c}");
        let observed = match want {
            Some((_, true)) => Observed::Recording,
            Some((_, false)) => Observed::Stopped,
            None => Observed::Unknown,
        };
        assert!(
            st.sites
                .iter()
                .all(|s| s.observed == observed && !s.pending),
            "cam{c}: {st:?}"
        );
    }
    // The sequence continues from the journal.
    assert_eq!(d.click(0, false), IntentSeq(6));
}

#[test]
fn crash_mid_session_then_restore_keeps_recording() {
    let mut d = Driver::started(config(2, 1, 3, Some(300 * SECS)), 61);
    d.click(0, true);
    d.click(1, true);
    d.run_for(SECS);
    d.click(1, false);
    d.run_for(100 * SECS);
    // The engine dies; while it is away the user cannot click, a site
    // restarts (forgetting cam0).
    let journal = d.crash(62, false);
    assert_eq!(journal.len(), 2);
    d.restart_recorder(1);
    d.run_for(30 * SECS);
    d.restore(journal);
    let t = d.now;
    d.run_for(20 * 60 * SECS);
    assert!(d.first_recording_since(1, 0, t).unwrap() <= t + SECS);
    assert!(d.rec(0, 0) && d.rec(1, 0));
    assert!(!d.rec(0, 1) && !d.rec(1, 1) && !d.rec(0, 2) && !d.rec(1, 2));
    assert!(
        d.changes.iter().all(|c| c.cause != Cause::AutoStop),
        "auto-stop fired"
    );
}

#[test]
fn restore_renews_recordings_of_unknown_age_before_they_auto_stop() {
    let mut d = Driver::started(config(2, 1, 1, Some(300 * SECS)), 63);
    d.click(0, true);
    // Renewed at ~271 s; the next renewal is due at ~541 s, the recorders
    // would stop the recording by themselves at ~571 s.
    d.run_until(540 * SECS);
    // The engine crashes just before renewing; a new process, whose
    // monotonic clock starts at zero, restores the journal.
    let journal = d.crash(64, true);
    d.restore(journal);
    d.run_for(10 * 60 * SECS);
    let auto: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.cause == Cause::AutoStop)
        .collect();
    assert!(
        auto.is_empty(),
        "recorder auto-stop fired after restore: {auto:?}"
    );
}

/// A Start the crashed engine sent, held 20 s on its way, executes after the
/// restored engine stopped the camera: the restored engine keeps watching
/// every journaled camera for `LATE_REQUEST_HORIZON`, so the late recording
/// is found and stopped (explorer world 3587 of seed 11 on `slow-site-tail`:
/// a Start sent 1.3 s before a crash landed 15.7 s later, after the restored
/// engine's Stop).
#[test]
fn a_start_of_the_crashed_engine_landing_late_is_stopped() {
    let mut d = Driver::started(config(2, 1, 1, None), 33);
    d.sites[1].latency = 20 * SECS;
    let clicked = d.now;
    d.click(0, true);
    d.run_for(SECS);
    let journal = d.crash(34, true);
    d.sites[1].latency = 10 * MILLIS;
    d.restore(journal);
    d.run_for(2 * SECS);
    assert!(d.rec(1, 0), "the restored engine did not start the camera");
    d.click(0, false);
    d.run_for(2 * SECS);
    assert!(!d.rec(1, 0));
    late_start_lands_and_is_stopped(&mut d, clicked + 20 * SECS);
}
