//! Clicks: login before the first Start, fan-out to every site in one step,
//! a hung site not delaying the others, batching per recorder, last click
//! wins, idempotent double clicks, `status()` and unknown cameras.

use super::driver::*;
use crate::core::*;

fn sites_of<'a>(sent: impl IntoIterator<Item = &'a Sent>) -> Vec<SiteId> {
    let mut v: Vec<_> = sent.into_iter().map(|s| s.cmd.site()).collect();
    v.sort();
    v
}

#[test]
fn logins_first_then_starts() {
    let mut d = Driver::new(config(2, 1, 1, None), 1);
    d.click(0, true);
    // The click at t=0 can only log in: no token yet.
    assert_eq!(d.sent.len(), 2, "{:?}", d.sent);
    for (i, s) in d.sent.iter().enumerate() {
        assert_eq!(
            s.cmd,
            Command::Login {
                req: s.cmd.req(),
                site: i,
                current_token: None
            }
        );
    }
    d.run_for(SECS);
    for site in 0..2 {
        let sent = d.sent_to(site, 0);
        assert!(matches!(sent[0].cmd, Command::Login { .. }));
        let Command::Send {
            op, token, devices, ..
        } = &sent[1].cmd
        else {
            panic!(
                "second command to site {site} is not a Start: {:?}",
                sent[1]
            );
        };
        assert_eq!(*op, RecorderOp::Start);
        assert_eq!(token, &format!("s{site}-token1"));
        assert_eq!(devices, &vec![dev(site, 0)]);
        // Sent as soon as the login reply arrived (one round trip).
        assert_eq!(sent[1].at, 20 * MILLIS);
        assert_eq!(d.first_recording_since(site, 0, 0), Some(30 * MILLIS));
    }
}

#[test]
fn one_click_fans_out_to_every_site_in_the_same_step() {
    let mut d = Driver::started(config(3, 1, 2, None), 2);
    let before = d.sent.len();
    let t = d.now;
    d.click(1, true);
    let new = &d.sent[before..];
    // Before any reply: exactly one Start per site, for that camera only.
    assert_eq!(new.len(), 3, "{new:?}");
    assert_eq!(sites_of(new), vec![0, 1, 2]);
    for s in new {
        assert_eq!(s.at, t);
        assert_eq!(s.op(), Some(RecorderOp::Start));
        assert_eq!(s.devices(), &[dev(s.cmd.site(), 1)]);
    }
    d.run_for(SECS);
    for site in 0..3 {
        assert!(d.rec(site, 1));
        assert!(!d.rec(site, 0));
    }
}

#[test]
fn a_hung_site_does_not_delay_the_other() {
    let mut d = Driver::started(config(2, 1, 1, None), 3);
    d.sites[1].net = Net::Hang;
    let t = d.now;
    d.click(0, true);
    assert_eq!(sites_of(d.ops(0, RecorderOp::Start, t)), vec![0]);
    assert_eq!(sites_of(d.ops(1, RecorderOp::Start, t)), vec![1]);
    d.run_for(30 * SECS);
    assert_eq!(d.first_recording_since(0, 0, t), Some(t + 10 * MILLIS));
    assert!(d.rec(0, 0) && !d.rec(1, 0));
    // Site 0 got its Start once and was left alone.
    assert_eq!(d.ops(0, RecorderOp::Start, t).len(), 1);
    assert_eq!(d.ops(0, RecorderOp::Stop, t).len(), 0);
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.sites[0].observed, Observed::Recording);
    assert!(st.sites[0].site_up);
    assert!(!st.sites[1].site_up, "a site that never answers is down");
}

#[test]
fn a_slow_site_does_not_delay_the_other() {
    let mut d = Driver::new(config(2, 1, 1, None), 4);
    d.sites[1].latency = 900 * MILLIS;
    // Long enough for the engine to time the slow site's round trips.
    d.run_for(10 * SECS);
    let t = d.now;
    d.click(0, true);
    d.run_for(5 * SECS);
    assert_eq!(d.first_recording_since(0, 0, t), Some(t + 10 * MILLIS));
    assert_eq!(d.first_recording_since(1, 0, t), Some(t + 900 * MILLIS));
    assert_eq!(
        d.ops(1, RecorderOp::Start, t).len(),
        1,
        "no retry of a slow but timely Start"
    );
}

/// A site that slows down all at once (1.8 s round trips where the engine
/// timed 20 ms): its Start counts as overdue and is re-sent once; after
/// that the site is suspect and health-probed, and no further Start goes
/// until something sent later answers.
#[test]
fn a_suddenly_slow_site_gets_few_repeated_starts() {
    let mut d = Driver::started(config(2, 1, 1, None), 4);
    d.sites[1].latency = 900 * MILLIS;
    let t = d.now;
    d.click(0, true);
    d.run_for(5 * SECS);
    assert_eq!(d.first_recording_since(1, 0, t), Some(t + 900 * MILLIS));
    let starts: Vec<Nanos> = d
        .ops(1, RecorderOp::Start, t)
        .iter()
        .map(|s| s.at - t)
        .collect();
    // Overdue after two round-trip bounds (at least the 100 ms first-retry
    // delay).
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(starts[1] >= 100 * MILLIS, "{starts:?}");
    // Suspect: probed at the down cadence (500 ms) until the first reply.
    let probes = d.ops(1, RecorderOp::Probe, t + starts[1]);
    let before_reply = probes.iter().filter(|p| p.at < t + 1800 * MILLIS).count();
    assert!((2..=3).contains(&before_reply), "{probes:?}");
    assert_eq!(d.ops(0, RecorderOp::Start, t).len(), 1);
    assert!(d.rec(0, 0) && d.rec(1, 0));
}

/// 100 cameras clicked in one step (same `now`, no reply in between).
fn click_all_in_one_step(recorders: usize) -> (Driver, Nanos) {
    let mut d = Driver::started(config(2, recorders, 100, None), 5);
    let t = d.now;
    for c in 0..100 {
        d.m.set_intent(t, &cam(c), true).unwrap();
    }
    d.pump();
    (d, t)
}

#[test]
fn hundred_clicks_in_one_step_make_one_start_per_recorder() {
    let (mut d, t) = click_all_in_one_step(1);
    for site in 0..2 {
        let starts = d.ops(site, RecorderOp::Start, t);
        assert_eq!(
            starts.len(),
            1,
            "site {site}: {} Start requests",
            starts.len()
        );
        let mut devs = starts[0].devices().to_vec();
        devs.sort();
        let mut want: Vec<_> = (0..100).map(|c| dev(site, c)).collect();
        want.sort();
        assert_eq!(devs, want);
    }
    d.run_for(SECS);
    assert!((0..100).all(|c| d.rec(0, c) && d.rec(1, c)));
}

#[test]
fn hundred_clicks_on_two_recorders_make_two_starts_per_site() {
    let (_d, t) = click_all_in_one_step(2);
    for site in 0..2 {
        let starts = _d.ops(site, RecorderOp::Start, t);
        let mut recorders: Vec<_> = starts
            .iter()
            .map(|s| match &s.cmd {
                Command::Send {
                    recorder, devices, ..
                } => (*recorder, devices.len()),
                _ => unreachable!(),
            })
            .collect();
        recorders.sort();
        assert_eq!(recorders, vec![(0, 50), (1, 50)], "site {site}");
    }
}

#[test]
fn clicks_before_login_are_batched_when_the_token_arrives() {
    let mut d = Driver::new(config(2, 2, 100, None), 6);
    for c in 0..100 {
        d.click(c, true);
    }
    d.run_for(SECS);
    for site in 0..2 {
        let starts = d.ops(site, RecorderOp::Start, 0);
        assert_eq!(starts.len(), 2, "site {site}");
        assert!(starts.iter().all(|s| s.devices().len() == 50));
    }
    assert!((0..100).all(|c| d.rec(0, c) && d.rec(1, c)));
}

/// Clicks `pattern` 15 ms apart with a 20 ms round trip, then settles.
fn rapid_clicks(pattern: &[bool]) -> Driver {
    let mut d = Driver::started(config(2, 1, 1, None), 7);
    for &on in pattern {
        d.click(0, on);
        d.run_for(15 * MILLIS);
    }
    d.run_for(10 * SECS);
    d
}

#[test]
fn start_stop_start_within_50ms_ends_recording_everywhere() {
    let d = rapid_clicks(&[true, false, true]);
    for site in 0..2 {
        assert!(d.rec(site, 0), "site {site} not recording");
    }
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.intent, Some((IntentSeq(3), true)));
    assert!(st
        .sites
        .iter()
        .all(|s| s.observed == Observed::Recording && !s.pending));
}

#[test]
fn start_stop_within_50ms_ends_stopped_everywhere() {
    let d = rapid_clicks(&[true, false]);
    for site in 0..2 {
        assert!(!d.rec(site, 0), "site {site} still recording");
    }
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.intent, Some((IntentSeq(2), false)));
    assert!(st
        .sites
        .iter()
        .all(|s| s.observed == Observed::Stopped && !s.pending));
}

#[test]
fn late_reply_of_an_older_intent_does_not_override_a_newer_one() {
    let mut d = Driver::started(config(2, 1, 1, None), 8);
    // Site 1 is slow: its Start lands 700 ms after the click and its reply
    // arrives long after the user clicked stop.
    d.sites[1].latency = 700 * MILLIS;
    let t = d.now;
    d.click(0, true);
    d.run_for(100 * MILLIS);
    d.click(0, false);
    d.run_for(10 * MILLIS);
    assert!(!d.rec(0, 0), "the fast site stops at once");
    assert!(!d.rec(1, 0), "the slow site has not even started yet");
    d.run_for(10 * SECS);
    assert!(!d.rec(0, 0) && !d.rec(1, 0));
    // Site 1 recorded only between the late Start and the Stop that followed
    // (sent 120 ms after the Start, when the Start was overdue: two bounds
    // of the 20 ms round trips the engine had timed, not its reply at 1.4 s).
    let ch = d.changes_of(1, &dev(1, 0));
    assert_eq!(ch.len(), 2, "{ch:?}");
    assert_eq!((ch[0].at, ch[0].recording), (t + 700 * MILLIS, true));
    assert_eq!((ch[1].at, ch[1].recording), (t + 820 * MILLIS, false));
}

#[test]
fn double_click_is_idempotent() {
    let mut d = Driver::started(config(2, 1, 1, None), 9);
    let a = d.click(0, true);
    let n = d.sent.len();
    let b = d.click(0, true);
    assert_eq!(a, b);
    assert_eq!(d.sent.len(), n, "a repeated click sent requests");
    assert!(d.settle(SECS));
    let n = d.sent.len();
    let c = d.click(0, true);
    assert_eq!(
        d.sent.len(),
        n,
        "a repeated click after the Start landed sent requests"
    );
    assert_eq!(c, a);
    assert_eq!(d.m.stats().intents, 1);
    assert_eq!(d.click(0, false), IntentSeq(a.0 + 1));
    assert_eq!(d.click(0, false), IntentSeq(a.0 + 1));
}

#[test]
fn status_reflects_intent_progress_and_health() {
    let mut d = Driver::started(config(2, 1, 2, None), 10);
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.camera, cam(0));
    assert_eq!(st.intent, None);
    assert_eq!(st.sites.len(), 2);
    assert_eq!(st.sites[1].site, "site1");
    assert!(st
        .sites
        .iter()
        .all(|s| s.observed == Observed::Unknown && !s.pending && s.site_up));

    let seq = d.click(0, true);
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.intent, Some((seq, true)));
    assert!(
        st.sites.iter().all(|s| s.pending),
        "Start in flight on every site"
    );

    d.run_for(SECS);
    let st = d.m.status(&cam(0)).unwrap();
    assert!(st
        .sites
        .iter()
        .all(|s| s.observed == Observed::Recording && !s.pending));
    // The other camera is untouched.
    assert_eq!(d.m.status(&cam(1)).unwrap().intent, None);

    d.sites[1].net = Net::Refuse;
    d.run_for(10 * SECS);
    let st = d.m.status(&cam(0)).unwrap();
    assert!(st.sites[0].site_up);
    assert!(!st.sites[1].site_up);
    assert_eq!(
        d.m.sites_up().collect::<Vec<_>>(),
        vec![("site0", true), ("site1", false)]
    );
}

#[test]
fn unknown_camera_is_an_error() {
    let mut d = Driver::started(config(2, 1, 1, None), 11);
    let nope = CameraId::new("nope");
    assert_eq!(
        d.m.set_intent(d.now, &nope, true),
        Err(UnknownCamera(nope.clone()))
    );
    assert_eq!(d.m.status(&nope), None);
    d.pump();
    assert!(d.sent.iter().all(|s| s.op() != Some(RecorderOp::Start)));
    assert_eq!(d.m.stats().intents, 0);
}

#[test]
fn a_stale_probe_answer_does_not_override_a_newer_stop() {
    let mut d = Driver::started(config(2, 1, 1, None), 12);
    d.click(0, true);
    d.run_for(SECS);
    // Wait for the next drift probe to site 1.
    let probes = d.ops(1, RecorderOp::Probe, 0).len();
    while d.ops(1, RecorderOp::Probe, 0).len() == probes {
        d.run_for(MILLIS);
    }
    // The probe reads "recording" but its answer is slow to return; the
    // user clicks stop meanwhile, and that Stop is answered first.
    d.run_for(3 * MILLIS);
    d.sites[1].latency = 500 * MILLIS;
    d.run_for(8 * MILLIS);
    d.sites[1].latency = 10 * MILLIS;
    d.click(0, false);
    d.run_for(100 * MILLIS);
    assert!(!d.rec(1, 0));
    assert_eq!(
        d.m.status(&cam(0)).unwrap().sites[1].observed,
        Observed::Stopped
    );
    d.run_for(SECS);
    assert!(!d.rec(0, 0) && !d.rec(1, 0));
    assert_eq!(
        d.ops(1, RecorderOp::Stop, 0).len(),
        1,
        "a stale probe answer caused another Stop"
    );
    let st = d.m.status(&cam(0)).unwrap();
    assert_eq!(st.sites[1].observed, Observed::Stopped);
}
