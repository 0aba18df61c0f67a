//! [`RuntimeEvent`]: what the runtime reports to an optional observer, each
//! with the [`Instant`] it happened, to measure the engine's own overhead
//! (click → dispatch, reply → next dispatch) apart from the network's.
//!
//! Events never carry tokens or passwords.

use std::time::Instant;

use crate::core::{CameraId, IntentSeq, RecorderId, RecorderOp, RequestId, SiteId, TransportError};

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Login {
        renew: bool,
    },
    Recorder {
        recorder: RecorderId,
        op: RecorderOp,
        devices: usize,
    },
}

/// The gist of an answer (the full reply went to the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    LoggedIn,
    /// Start/Stop results: how many devices succeeded and failed.
    Results {
        ok: usize,
        failed: usize,
    },
    /// Probe answer with this many device states.
    States(usize),
    Fault {
        token_invalid: bool,
    },
    /// The site refused the login's credentials.
    CredentialsRejected,
    Failed(TransportError),
}

/// One thing the runtime did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeEvent {
    /// A click was accepted by the engine (its commands are dispatched next).
    Intent {
        at: Instant,
        camera: CameraId,
        seq: IntentSeq,
        recording: bool,
    },
    /// A command was handed to its own task.
    Dispatched {
        at: Instant,
        req: RequestId,
        site: SiteId,
        kind: RequestKind,
    },
    /// A command's outcome was fed to the engine.
    Replied {
        at: Instant,
        req: RequestId,
        site: SiteId,
        outcome: Outcome,
    },
}
