//! [`SiteTracker`]: each site's health as an operator sees it, derived from
//! the runtime's request events: up/down (the engine's own verdict), the
//! kind of problem (unreachable, timeout, auth, certificate, error), the
//! last error and when, the last request's round-trip time and when the
//! engine last logged in (the token's age).
//!
//! It only watches: every decision about a site stays in the engine.

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use serde::Serialize;

use crate::core::{RequestId, TransportError};
use crate::runtime::{Outcome, RequestKind, RuntimeEvent};

/// What is wrong with a site, as far as the requests show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Connection refused or unreachable.
    Unreachable,
    /// Requests time out.
    Timeout,
    /// Login refused, or HTTP 401/403: credentials or permissions.
    Auth,
    /// The site's TLS certificate was rejected.
    Certificate,
    /// Other failures (HTTP errors, malformed answers, SOAP faults).
    Error,
}

/// One site's health, as `GET /v1/events` shows it (`event: site`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteView {
    pub site: String,
    /// The engine considers the site up.
    pub up: bool,
    pub problem: Option<Problem>,
    pub last_error: Option<String>,
    /// Unix milliseconds of `last_error`.
    pub last_error_at_ms: Option<i64>,
    /// Round-trip time of the latest answered request, whole milliseconds.
    pub rtt_ms: Option<u64>,
    /// Unix milliseconds of the latest successful login (the token's birth).
    pub logged_in_at_ms: Option<i64>,
}

#[derive(Debug)]
struct Site {
    view: SiteView,
    /// Requests in flight: when they left and whether they are logins.
    inflight: HashMap<RequestId, (Instant, bool)>,
}

/// Folds runtime events into one [`SiteView`] per site.
#[derive(Debug)]
pub struct SiteTracker {
    sites: Vec<Site>,
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The problem a transport failure points at.
pub fn classify(e: &TransportError) -> Problem {
    match e {
        TransportError::Refused => Problem::Unreachable,
        TransportError::Timeout => Problem::Timeout,
        TransportError::Http(401 | 403) => Problem::Auth,
        TransportError::Malformed(m) if m.to_ascii_lowercase().contains("certificate") => {
            Problem::Certificate
        }
        TransportError::Http(_) | TransportError::Malformed(_) => Problem::Error,
    }
}

impl SiteTracker {
    /// Sites in configuration order, all up until the engine says otherwise.
    pub fn new(names: &[String]) -> Self {
        SiteTracker {
            sites: names
                .iter()
                .map(|name| Site {
                    view: SiteView {
                        site: name.clone(),
                        up: true,
                        problem: None,
                        last_error: None,
                        last_error_at_ms: None,
                        rtt_ms: None,
                        logged_in_at_ms: None,
                    },
                    inflight: HashMap::new(),
                })
                .collect(),
        }
    }

    /// Takes one runtime event into account; `wall` is the wall-clock time
    /// it is seen at.
    pub fn on_event(&mut self, event: &RuntimeEvent, wall: SystemTime) {
        match event {
            RuntimeEvent::Intent { .. } => {}
            RuntimeEvent::Dispatched {
                at,
                req,
                site,
                kind,
            } => {
                if let Some(s) = self.sites.get_mut(*site) {
                    let login = matches!(kind, RequestKind::Login { .. });
                    s.inflight.insert(*req, (*at, login));
                }
            }
            RuntimeEvent::Replied {
                at,
                req,
                site,
                outcome,
            } => {
                let Some(s) = self.sites.get_mut(*site) else {
                    return;
                };
                let Some((sent, login)) = s.inflight.remove(req) else {
                    return;
                };
                let v = &mut s.view;
                let mut fail = |problem: Problem, message: String| {
                    v.problem = Some(problem);
                    v.last_error = Some(message);
                    v.last_error_at_ms = Some(unix_ms(wall));
                };
                match outcome {
                    Outcome::Failed(e) => {
                        let what = if login { "login" } else { "recorder call" };
                        fail(classify(e), format!("{what}: {e}"));
                        return;
                    }
                    Outcome::CredentialsRejected => fail(
                        Problem::Auth,
                        "login refused by the site: wrong user name or password (a configuration \
                         error; retried after 1 and 5 minutes, then every 15)"
                            .into(),
                    ),
                    Outcome::Fault { .. } if login => fail(
                        Problem::Auth,
                        "login refused by the site (SOAP fault): check the user name and password"
                            .into(),
                    ),
                    Outcome::Fault {
                        token_invalid: true,
                    } => fail(
                        Problem::Error,
                        "the site rejected the login token (the engine logs in again)".into(),
                    ),
                    Outcome::Fault { .. } => {
                        fail(Problem::Error, "the site answered with a SOAP fault".into())
                    }
                    Outcome::LoggedIn => {
                        v.logged_in_at_ms = Some(unix_ms(wall));
                        v.problem = None;
                    }
                    Outcome::Results { .. } | Outcome::States(_) => {
                        // A login refusal stays until a login succeeds:
                        // calls may still pass on the old token for a while.
                        if v.problem != Some(Problem::Auth) {
                            v.problem = None;
                        }
                    }
                }
                let rtt = at.saturating_duration_since(sent);
                v.rtt_ms = Some(u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX));
            }
        }
    }

    /// The engine's up/down verdicts, `(site, up)` in configuration order.
    pub fn set_up(&mut self, sites_up: &[(String, bool)]) {
        for (s, (_, up)) in self.sites.iter_mut().zip(sites_up) {
            s.view.up = *up;
        }
    }

    pub fn views(&self) -> impl Iterator<Item = &SiteView> {
        self.sites.iter().map(|s| &s.view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::RecorderOp;
    use std::time::Duration;

    fn dispatched(at: Instant, req: u64, login: bool) -> RuntimeEvent {
        RuntimeEvent::Dispatched {
            at,
            req: RequestId(req),
            site: 1,
            kind: if login {
                RequestKind::Login { renew: false }
            } else {
                RequestKind::Recorder {
                    recorder: 0,
                    op: RecorderOp::Start,
                    devices: 1,
                }
            },
        }
    }

    fn replied(at: Instant, req: u64, outcome: Outcome) -> RuntimeEvent {
        RuntimeEvent::Replied {
            at,
            req: RequestId(req),
            site: 1,
            outcome,
        }
    }

    #[test]
    fn round_trips_logins_and_problems() {
        let mut t = SiteTracker::new(&["a".into(), "b".into()]);
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        t.on_event(&dispatched(t0, 1, true), wall);
        t.on_event(
            &replied(t0 + Duration::from_millis(42), 1, Outcome::LoggedIn),
            wall,
        );
        let b = t.views().nth(1).unwrap().clone();
        assert_eq!(b.rtt_ms, Some(42));
        assert_eq!(b.logged_in_at_ms, Some(1_000_000));
        assert_eq!(b.problem, None);
        assert_eq!(t.views().next().unwrap().rtt_ms, None, "site a untouched");

        // A refused login is an auth problem, and stays one while recorder
        // calls still pass on the old token.
        t.on_event(&dispatched(t0, 2, true), wall);
        t.on_event(
            &replied(
                t0,
                2,
                Outcome::Fault {
                    token_invalid: false,
                },
            ),
            wall,
        );
        t.on_event(&dispatched(t0, 3, false), wall);
        t.on_event(&replied(t0, 3, Outcome::Results { ok: 1, failed: 0 }), wall);
        let b = t.views().nth(1).unwrap().clone();
        assert_eq!(b.problem, Some(Problem::Auth));
        assert!(b.last_error.unwrap().contains("login refused"));

        for (e, p) in [
            (TransportError::Refused, Problem::Unreachable),
            (TransportError::Timeout, Problem::Timeout),
            (TransportError::Http(401), Problem::Auth),
            (TransportError::Http(500), Problem::Error),
            (
                TransportError::Malformed("TLS: invalid peer certificate: UnknownIssuer".into()),
                Problem::Certificate,
            ),
        ] {
            t.on_event(&dispatched(t0, 4, false), wall);
            t.on_event(&replied(t0, 4, Outcome::Failed(e.clone())), wall);
            let b = t.views().nth(1).unwrap().clone();
            assert_eq!(b.problem, Some(p), "{e}");
            assert_eq!(b.last_error, Some(format!("recorder call: {e}")));
        }
        // A login clears the problem; the last error stays for the record.
        t.on_event(&dispatched(t0, 5, true), wall);
        t.on_event(&replied(t0, 5, Outcome::LoggedIn), wall);
        let b = t.views().nth(1).unwrap().clone();
        assert_eq!(b.problem, None);
        assert!(b.last_error.is_some());

        t.set_up(&[("a".into(), false), ("b".into(), true)]);
        let up: Vec<bool> = t.views().map(|v| v.up).collect();
        assert_eq!(up, [false, true]);
    }
}
