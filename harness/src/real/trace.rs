//! The raw history of a real-mode run, in the JSON-lines form of virtual
//! time ([`TraceEvent`]), so `--trace` means the same in both modes.
//!
//! From the ground truth: the run's sites and cameras, every click, fault
//! window, manual-recording and footage span of the mock sites, the final
//! manual-recording state, and the end (what `dualrec check` reads). From the engine runtime's
//! events, when the engine ran in this process: intents, commands and
//! replies, their wall-clock instants turned into written time. An engine
//! run as a child process reports no events to the harness, so its trace
//! has no `intent`/`command`/`reply` lines; everything the metrics need is
//! there either way. `served` lines (a site processed a request) exist only
//! in virtual time. Command `devices` lists are empty here: the runtime
//! reports how many devices a request carried, not which.

use std::time::Instant;

use engine::core::{Nanos, RecorderOp};
use engine::runtime::{Outcome, RequestKind, RuntimeEvent};
use sim::world::trace::TraceEvent;

use super::RealOutcome;

/// The trace of `outcome`, in written time, ordered like a virtual trace:
/// timed events by time, then the spans, then `end`.
pub fn trace(outcome: &RealOutcome) -> Vec<TraceEvent> {
    let r = &outcome.record;
    let written = |at: Instant| -> Nanos {
        let wall = at.saturating_duration_since(outcome.origin).as_nanos() as f64;
        (wall / outcome.scale).round() as Nanos
    };
    let site = |i: usize| r.sites.get(i).cloned().unwrap_or_else(|| i.to_string());
    let mut timed: Vec<(Nanos, TraceEvent)> = Vec::new();
    for c in &r.clicks {
        timed.push((
            c.at,
            TraceEvent::Click {
                t: c.at,
                camera: r.cameras[c.camera].clone(),
                recording: c.recording,
            },
        ));
    }
    for e in &outcome.events {
        let (t, ev) = match e {
            RuntimeEvent::Intent {
                at,
                camera,
                seq,
                recording,
            } => {
                let t = written(*at);
                (
                    t,
                    TraceEvent::Intent {
                        t,
                        camera: camera.as_str().to_owned(),
                        recording: *recording,
                        seq: seq.0,
                    },
                )
            }
            RuntimeEvent::Dispatched {
                at,
                req,
                site: s,
                kind,
            } => {
                let t = written(*at);
                let (recorder, op) = match kind {
                    RequestKind::Login { .. } => (None, "login"),
                    RequestKind::Recorder { recorder, op, .. } => (
                        Some(*recorder),
                        match op {
                            RecorderOp::Start => "start",
                            RecorderOp::Stop => "stop",
                            RecorderOp::Probe => "probe",
                        },
                    ),
                };
                (
                    t,
                    TraceEvent::Command {
                        t,
                        engine: 0,
                        req: req.0,
                        site: site(*s),
                        recorder,
                        op: op.to_owned(),
                        devices: Vec::new(),
                    },
                )
            }
            RuntimeEvent::Replied {
                at,
                req,
                site: s,
                outcome,
            } => {
                let t = written(*at);
                (
                    t,
                    TraceEvent::Reply {
                        t,
                        engine: 0,
                        req: req.0,
                        site: site(*s),
                        outcome: match outcome {
                            Outcome::Fault {
                                token_invalid: true,
                            } => "fault: token invalid".into(),
                            Outcome::Fault { .. } => "fault".into(),
                            Outcome::Failed(e) => format!("error: {e}"),
                            _ => "ok".into(),
                        },
                    },
                )
            }
        };
        timed.push((t, ev));
    }
    for f in &r.faults {
        timed.push((
            f.start,
            TraceEvent::Fault {
                start: f.start,
                end: f.end,
                site: f.site.map(site),
                kind: f.kind.clone(),
                camera: f.camera.map(|c| r.cameras[c].clone()),
            },
        ));
    }
    // Stable: events of one instant keep the order they were pushed in.
    timed.sort_by_key(|(t, _)| *t);
    let mut out = vec![TraceEvent::Run {
        sites: r.sites.clone(),
        cameras: r.cameras.clone(),
    }];
    out.extend(timed.into_iter().map(|(_, e)| e));
    for (s, name) in r.sites.iter().enumerate() {
        for (c, camera) in r.cameras.iter().enumerate() {
            for span in r.manual[s][c].spans() {
                out.push(TraceEvent::Manual {
                    site: name.clone(),
                    camera: camera.clone(),
                    start: span.start,
                    end: span.end,
                });
            }
            for span in r.footage[s][c].spans() {
                out.push(TraceEvent::Footage {
                    site: name.clone(),
                    camera: camera.clone(),
                    start: span.start,
                    end: span.end,
                });
            }
            if r.final_manual[s][c] {
                out.push(TraceEvent::FinalManual {
                    site: name.clone(),
                    camera: camera.clone(),
                });
            }
        }
    }
    out.push(TraceEvent::End {
        end: r.end,
        settled: r.settled_at,
    });
    out
}
