//! Login tokens: re-login and retry on a "token invalid" fault, renewal
//! before the token's `TimeToLive` ends (with `currentToken`).

use super::driver::*;
use crate::core::*;

fn token_of(s: &Sent) -> &str {
    match &s.cmd {
        Command::Send { token, .. } => token,
        Command::Login { .. } => panic!("not a recorder call: {s:?}"),
    }
}

#[test]
fn token_invalid_fault_relogs_in_and_retries() {
    let mut d = Driver::started(config(2, 1, 1, None), 50);
    d.invalidate_tokens(1);
    let t = d.now;
    d.click(0, true);
    d.run_for(SECS);
    assert!(d.rec(0, 0) && d.rec(1, 0));
    assert_eq!(d.token_faults, 1);
    let sent = d.sent_to(1, t);
    assert!(sent.len() >= 3, "{sent:?}");
    assert_eq!(sent[0].op(), Some(RecorderOp::Start));
    assert_eq!(token_of(sent[0]), "s1-token1");
    assert!(
        matches!(sent[1].cmd, Command::Login { .. }),
        "{:?}",
        sent[1]
    );
    assert_eq!(
        sent[1].at,
        t + 20 * MILLIS,
        "re-login right after the fault"
    );
    assert_eq!(sent[2].op(), Some(RecorderOp::Start));
    assert_eq!(token_of(sent[2]), "s1-token2");
    assert_eq!(
        sent[2].at,
        t + 40 * MILLIS,
        "retry right after the new token"
    );
    // Site 0 was not bothered.
    assert!(d.logins(0, t).is_empty());
}

#[test]
fn site_restart_with_token_loss_is_repaired_within_3s() {
    let mut d = Driver::started(config(2, 1, 1, None), 51);
    d.click(0, true);
    d.run_for(SECS);
    // The whole site restarts in a blink: recordings and tokens are gone;
    // the next drift probe meets a token fault.
    d.invalidate_tokens(1);
    d.restart_recorder(1);
    let t = d.now;
    d.run_for(10 * SECS);
    assert_eq!(d.logins(1, t).len(), 1);
    let back = d.first_recording_since(1, 0, t).expect("never repaired");
    assert!(
        back <= t + 3 * SECS,
        "repaired {} ms after the restart",
        (back - t) / MILLIS
    );
}

/// Runs a 30-minute session against sites granting `ttl` tokens.
fn session_with_ttl(ttl: Nanos) -> Driver {
    let mut d = Driver::new(config(2, 1, 1, None), 52);
    for s in &mut d.sites {
        s.token_ttl = ttl;
    }
    d.run_for(SECS);
    d.click(0, true);
    d.run_until(30 * 60 * SECS);
    d
}

fn assert_renewed_at(d: &Driver, every: Nanos) {
    assert_eq!(d.token_faults, 0, "a request carried an expired token");
    assert_eq!(
        d.changes.len(),
        2,
        "recording was interrupted: {:?}",
        d.changes
    );
    for site in 0..2 {
        let logins = d.logins(site, 0);
        assert!(logins.len() >= 3);
        for (i, w) in logins.windows(2).enumerate() {
            assert_eq!(w[1].at - w[0].at, every, "site {site}: login {}", i + 1);
            let Command::Login { current_token, .. } = &w[1].cmd else {
                unreachable!()
            };
            assert_eq!(
                current_token.as_deref(),
                Some(format!("s{site}-token{}", i + 1).as_str())
            );
        }
    }
}

#[test]
fn token_is_renewed_a_minute_before_its_ttl() {
    let d = session_with_ttl(10 * 60 * SECS);
    assert_renewed_at(&d, 9 * 60 * SECS);
}

#[test]
fn short_lived_token_is_renewed_at_half_its_ttl() {
    let d = session_with_ttl(60 * SECS);
    assert_renewed_at(&d, 30 * SECS);
}

#[test]
fn a_login_lost_in_an_outage_does_not_hold_back_the_relogin_after_it() {
    // Short-lived tokens, so a renewal login falls inside the outage.
    let mut d = Driver::new(config(2, 1, 1, None), 53);
    d.sites[1].token_ttl = 20 * SECS;
    d.run_for(SECS);
    d.click(0, true);
    d.run_for(SECS);
    assert!(d.rec(1, 0));
    // Site 1 is cut off, restarts behind the cut (recordings and tokens
    // gone), and the engine's renewal login vanishes into the cut.
    d.sites[1].net = Net::Hang;
    d.restart_recorder(1);
    d.invalidate_tokens(1);
    let cut = d.now;
    while d.logins(1, cut).is_empty() {
        assert!(
            d.now < cut + 30 * SECS,
            "no renewal login during the outage"
        );
        d.run_for(10 * MILLIS);
    }
    // The cut heals while that login is still out (its time-out is 2 s).
    d.run_for(100 * MILLIS);
    // The first probe after the heal meets a token fault: the site is
    // back, so the login sent into the cut is given up and a new one goes
    // at once, instead of after the lost one's time-out.
    let back = d.heal_and_time_reassertion(1, 0, 5 * SECS);
    assert!(
        back <= SECS,
        "re-asserted {} ms after the heal",
        back / MILLIS
    );
}
