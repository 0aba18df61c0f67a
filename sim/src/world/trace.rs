//! The raw history of a run, as JSON lines (the way Jepsen keeps a history).
//!
//! Every click, command, reply, fault window and, at the end, every
//! manual-recording and footage interval, with its virtual time in
//! nanoseconds. Anyone can recompute dualrec's metrics from this file alone.

use serde::Serialize;

use engine::core::Nanos;

/// One line of the trace. Field meanings are documented in the README.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceEvent {
    /// The first line: the run's sites in order and every camera.
    Run {
        sites: Vec<String>,
        cameras: Vec<String>,
    },
    /// A user click (`recording`: Start if true, Stop if false).
    Click {
        t: Nanos,
        camera: String,
        recording: bool,
    },
    /// The engine accepted a click (it may be later than the click while the
    /// engine is crashed); `seq` is the intent sequence it assigned.
    Intent {
        t: Nanos,
        camera: String,
        recording: bool,
        seq: u64,
    },
    /// A request the engine sent. `op` is `login`, `start`, `stop` or `probe`.
    Command {
        t: Nanos,
        engine: u64,
        req: u64,
        site: String,
        recorder: Option<usize>,
        op: String,
        devices: Vec<String>,
    },
    /// A request reached the site and was processed there.
    Served {
        t: Nanos,
        engine: u64,
        req: u64,
        site: String,
    },
    /// What reached the engine for request `req`: `ok`, `fault` or an error.
    Reply {
        t: Nanos,
        engine: u64,
        req: u64,
        site: String,
        outcome: String,
    },
    /// A fault window (`end == start` for instantaneous faults).
    Fault {
        start: Nanos,
        end: Nanos,
        site: Option<String>,
        kind: String,
        camera: Option<String>,
    },
    /// The engine process died (`engine` is the incarnation that died).
    EngineCrash { t: Nanos, engine: u64 },
    /// A new engine incarnation restored `intents` journal entries.
    EngineRestore {
        t: Nanos,
        engine: u64,
        intents: usize,
    },
    /// A span during which `site` was manually recording `camera`.
    Manual {
        site: String,
        camera: String,
        start: Nanos,
        end: Nanos,
    },
    /// A span of footage written by `site` for `camera`.
    Footage {
        site: String,
        camera: String,
        start: Nanos,
        end: Nanos,
    },
    /// At the end of the settle period `site` was manually recording
    /// `camera` (the state `lost_intents` is judged on).
    FinalManual { site: String, camera: String },
    /// End of the scenario (`end`) and of the settle period (`settled`).
    End { end: Nanos, settled: Nanos },
}

/// Where trace events go: nowhere (the default, free) or into memory.
#[derive(Debug, Default)]
pub struct Trace {
    events: Option<Vec<TraceEvent>>,
}

impl Trace {
    pub fn enabled() -> Self {
        Trace {
            events: Some(Vec::new()),
        }
    }

    pub fn is_on(&self) -> bool {
        self.events.is_some()
    }

    /// Records an event; the closure runs only when tracing is on.
    pub fn emit(&mut self, make: impl FnOnce() -> TraceEvent) {
        if let Some(events) = &mut self.events {
            events.push(make());
        }
    }

    pub fn into_events(self) -> Vec<TraceEvent> {
        self.events.unwrap_or_default()
    }
}
