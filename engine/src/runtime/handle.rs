//! [`EngineHandle`]: the async API to a running engine. Every call is a
//! message to the driver task that owns the [`crate::core::Mirror`]; the
//! answer comes back on a oneshot once the engine has acted on it.

use tokio::sync::{mpsc, oneshot};

use crate::core::{CameraId, CameraStatus, IntentSeq, JournalEntry, MirrorStats, UnknownCamera};

/// The engine task has stopped (shut down, or its runtime went away).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the engine has stopped; no further requests are accepted")]
pub struct EngineStopped;

/// Why a click was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntentError {
    #[error(transparent)]
    UnknownCamera(#[from] UnknownCamera),
    #[error(transparent)]
    Stopped(#[from] EngineStopped),
}

/// Counters and health of a running engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeStats {
    pub mirror: MirrorStats,
    /// `(site name, up)` in configuration order.
    pub sites_up: Vec<(String, bool)>,
    /// Requests the engine awaits a reply to.
    pub inflight: usize,
    /// Configuration problems of sites (rejected credentials, untrusted
    /// certificates), in configuration order.
    pub site_problems: Vec<SiteProblem>,
}

/// A site the engine cannot use until its configuration is fixed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteProblem {
    pub site: String,
    /// `credentials_rejected`, `untrusted_certificate` or `unknown_device`.
    pub kind: &'static str,
    /// What the site said, or what is wrong with its certificate.
    pub message: String,
}

/// A message to the task that owns an engine (what [`EngineHandle`] sends).
#[doc(hidden)]
#[derive(Debug)]
pub enum Request {
    SetIntent {
        camera: CameraId,
        recording: bool,
        answer: oneshot::Sender<Result<IntentSeq, UnknownCamera>>,
    },
    SetIntents {
        intents: Vec<(CameraId, bool)>,
        answer: oneshot::Sender<Vec<Result<IntentSeq, UnknownCamera>>>,
    },
    Status {
        camera: CameraId,
        answer: oneshot::Sender<Option<CameraStatus>>,
    },
    Statuses {
        answer: oneshot::Sender<Vec<CameraStatus>>,
    },
    Restore {
        entries: Vec<JournalEntry>,
        answer: oneshot::Sender<()>,
    },
    Stats {
        answer: oneshot::Sender<RuntimeStats>,
    },
    Shutdown {
        answer: oneshot::Sender<()>,
    },
}

/// Handle to a running engine. Clones talk to the same engine; the engine
/// stops on [`EngineHandle::shutdown`] or when every handle is dropped.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    pub(super) tx: mpsc::Sender<Request>,
}

impl EngineHandle {
    /// A handle whose requests go to `tx` (a task answering them as an engine would).
    pub(crate) fn from_sender(tx: mpsc::Sender<Request>) -> Self {
        EngineHandle { tx }
    }

    /// Passes a request on to this engine unchanged.
    pub(crate) async fn forward(&self, request: Request) {
        let _ = self.tx.send(request).await;
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, EngineStopped> {
        let (answer, rx) = oneshot::channel();
        self.tx
            .send(make(answer))
            .await
            .map_err(|_| EngineStopped)?;
        rx.await.map_err(|_| EngineStopped)
    }

    /// The user clicked: `camera` should (not) record. Answers once the
    /// engine accepted the intent, by which time its commands to every site
    /// have been dispatched.
    pub async fn set_intent(
        &self,
        camera: &CameraId,
        recording: bool,
    ) -> Result<IntentSeq, IntentError> {
        let camera = camera.clone();
        Ok(self
            .ask(|answer| Request::SetIntent {
                camera,
                recording,
                answer,
            })
            .await??)
    }

    /// Many clicks at once ("record all", a batch API call): applied in one
    /// engine step, so they go out batched — one request per recorder —
    /// with one result per intent, in order.
    pub async fn set_intents(
        &self,
        intents: Vec<(CameraId, bool)>,
    ) -> Result<Vec<Result<IntentSeq, UnknownCamera>>, EngineStopped> {
        self.ask(|answer| Request::SetIntents { intents, answer })
            .await
    }

    /// The engine's view of `camera` (`None` if it is not configured).
    pub async fn status(&self, camera: &CameraId) -> Result<Option<CameraStatus>, EngineStopped> {
        let camera = camera.clone();
        self.ask(|answer| Request::Status { camera, answer }).await
    }

    /// Every camera's status in configuration order, in one engine step
    /// (one consistent view, one message instead of one per camera).
    pub async fn statuses(&self) -> Result<Vec<CameraStatus>, EngineStopped> {
        self.ask(|answer| Request::Statuses { answer }).await
    }

    /// Restores journaled intents (see [`crate::core::Mirror::restore`]).
    pub async fn restore(&self, entries: Vec<JournalEntry>) -> Result<(), EngineStopped> {
        self.ask(|answer| Request::Restore { entries, answer })
            .await
    }

    /// Engine counters and site health.
    pub async fn stats(&self) -> Result<RuntimeStats, EngineStopped> {
        self.ask(|answer| Request::Stats { answer }).await
    }

    /// Stops the engine: requests in flight are abandoned. Returns once the
    /// engine task has stopped (at once if it already had).
    pub async fn shutdown(&self) {
        let _ = self.ask(|answer| Request::Shutdown { answer }).await;
    }
}
