//! The engine under test in real mode, in either of its two forms: the
//! tokio runtime in this process, or `dualrec engine` as a child process
//! behind its REST API. Both take clicks in batches (so a "record all" is
//! one engine step) while keeping each camera's clicks in order.

use engine::core::{CameraId, JournalEntry, MirrorConfig};
use engine::runtime::{Driver, EngineHandle, RuntimeEvent, SiteEndpoint};
use sim::world::derive_seed;
use tokio::sync::mpsc;

use super::child::ChildEngine;
use super::RealError;

pub(super) enum Engine {
    InProcess {
        handle: Option<EngineHandle>,
        cfg: MirrorConfig,
        endpoints: Vec<SiteEndpoint>,
        seed: u64,
        incarnation: u64,
        events: mpsc::UnboundedSender<RuntimeEvent>,
    },
    Child(ChildEngine),
}

impl Engine {
    /// Starts the in-process engine (a child is started when built).
    pub async fn start(&mut self) -> Result<(), RealError> {
        if let Engine::InProcess {
            handle,
            cfg,
            endpoints,
            seed,
            incarnation,
            events,
        } = self
        {
            let driver = Driver::new(
                cfg.clone(),
                endpoints.clone(),
                derive_seed(*seed, 0xe + *incarnation),
            )
            .map_err(|e| RealError::Engine(e.to_string()))?;
            *handle = Some(driver.observer(events.clone()).spawn());
        }
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        match self {
            Engine::InProcess { handle, .. } => handle.is_some(),
            Engine::Child(c) => c.is_running(),
        }
    }

    /// The process dies: in-process by dropping the runtime's engine, as a
    /// child by `SIGKILL`.
    pub async fn crash(&mut self) {
        match self {
            Engine::InProcess { handle, .. } => {
                if let Some(h) = handle.take() {
                    h.shutdown().await;
                }
            }
            Engine::Child(c) => c.kill(),
        }
    }

    /// A new incarnation: in-process restored from the harness's journal, a
    /// child from its own SQLite journal.
    pub async fn restart(&mut self, journal: &[JournalEntry]) -> Result<(), RealError> {
        match self {
            Engine::InProcess { incarnation, .. } => {
                *incarnation += 1;
                self.start().await?;
                if let Engine::InProcess {
                    handle: Some(h), ..
                } = self
                {
                    h.restore(journal.to_vec()).await.map_err(|_| {
                        RealError::Engine("the restarted engine stopped at once".into())
                    })?;
                }
                Ok(())
            }
            Engine::Child(c) => c.spawn().await,
        }
    }

    pub async fn stop(&mut self) {
        self.crash().await;
    }

    /// Sends a burst of clicks in waves in which each camera appears once:
    /// a wave is one batch, waves go in order.
    pub async fn click(
        &mut self,
        cameras: &[CameraId],
        burst: Vec<(usize, bool)>,
        journal: &mut Vec<JournalEntry>,
    ) {
        let mut rest = burst;
        while !rest.is_empty() {
            let mut seen = std::collections::HashSet::new();
            let (wave, later): (Vec<_>, Vec<_>) = rest
                .into_iter()
                .partition(|(camera, _)| seen.insert(*camera));
            self.wave(cameras, wave, journal).await;
            rest = later;
        }
    }

    async fn wave(
        &mut self,
        cameras: &[CameraId],
        wave: Vec<(usize, bool)>,
        journal: &mut Vec<JournalEntry>,
    ) {
        match self {
            Engine::InProcess {
                handle: Some(h), ..
            } => {
                let intents = wave.iter().map(|&(c, r)| (cameras[c].clone(), r)).collect();
                let Ok(results) = h.set_intents(intents).await else {
                    tracing::warn!("the engine stopped before accepting the clicks");
                    return;
                };
                // The in-process engine has no journal of its own: the
                // harness keeps one, written after the acknowledgement.
                for ((camera, recording), result) in wave.into_iter().zip(results) {
                    let id = &cameras[camera];
                    match result {
                        Ok(seq) => {
                            if journal
                                .iter()
                                .rev()
                                .find(|j| &j.camera == id)
                                .map(|j| j.seq)
                                != Some(seq)
                            {
                                journal.push(JournalEntry {
                                    camera: id.clone(),
                                    seq,
                                    recording,
                                });
                            }
                        }
                        Err(err) => {
                            tracing::warn!(camera = %id, error = %err, "click not accepted")
                        }
                    }
                }
            }
            Engine::InProcess { handle: None, .. } => {}
            Engine::Child(c) => {
                let intents: Vec<(String, bool)> = wave
                    .iter()
                    .map(|&(cam, r)| (cameras[cam].to_string(), r))
                    .collect();
                if let Err(e) = c.click(&intents).await {
                    tracing::warn!(error = %e, clicks = intents.len(), "clicks not accepted by the engine");
                }
            }
        }
    }
}
