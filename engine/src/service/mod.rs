//! The mirroring engine as a service: the REST API a client button (a
//! Smart Client plug-in, a script) calls, on top of the tokio runtime and
//! the durable journal.
//!
//! [`Service::start`] opens the journal in the config's data directory,
//! starts the engine ([`crate::runtime`]) with the config's sites and
//! cameras, serves the API (axum) on the given listener, restores the
//! journal's intents into the engine (every site is reconciled) and only
//! then reports ready: until then writes answer 503 `not_ready`.
//! [`Service::shutdown`] stops accepting, lets REST requests in flight
//! finish (each waits for its journal commit), lets the engine's requests to
//! the sites finish (so no renewal is left half-way, at most
//! [`DRAIN_TIMEOUT`]), stops the engine *without* touching the recorders
//! (recording continues; intents persist) and closes the journal. [`serve`] is both around a shutdown future.
//!
//! Connections (`limits.rs`): plain HTTP or HTTPS (`tls.rs`, rustls,
//! reloaded on SIGHUP or when the files change, optional client
//! certificates), header-read, request and idle timeouts, a connection
//! limit. Every request is seen by the audit layer (`audit.rs`): failed
//! authentications are throttled per client address (`throttle.rs`), and
//! refused attempts are logged, journaled and counted.
//!
//! Endpoints (`api.rs`; described by `GET /openapi.json`):
//! `PUT|GET /v1/cameras/{camera}/recording`, `GET /v1/cameras`,
//! `POST /v1/recording/batch`, `GET /healthz`, `GET /readyz`,
//! `GET /metrics` (Prometheus text), `GET /openapi.json`, `GET /v1/events`
//! (Server-Sent Events of camera and site changes, `events/`),
//! `GET /v1/whoami`, `GET /v1/cluster` (this replica's role, `cluster.rs`),
//! and the operator console under `/ui` (`ui.rs`). Errors
//! are JSON `{code, message}` (`error.rs`). Bearer keys, compared in
//! constant time (`auth.rs`): role `read` may GET, `write` may also write;
//! `/healthz`, `/readyz`, `/openapi.json` and the console's static assets
//! need no key.
//!
//! This module does I/O (sockets, the journal's file) and reads the clock;
//! it makes no engine decision.

mod api;
mod audit;
mod auth;
mod cluster;
pub mod device_check;
mod error;
pub mod events;
#[cfg(test)]
mod fuzz;
pub mod limits;
pub(crate) mod metrics;
mod openapi;
pub mod throttle;
pub mod tls;
mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use api::{CameraState, SiteState, MAX_BATCH_INTENTS};
pub use audit::Security;
pub use auth::{authenticate, Caller};
pub use error::ApiError;
pub use limits::{ClientAddr, ConnStats};
pub use tls::{TlsError, TlsReloader};

use crate::config::{EngineConfig, ServerSettings};
use crate::journal::postgres::{Connector as PgConnector, PgJournal};
use crate::journal::{Journal, JournalError};
use crate::replica::{Node, NodeOptions};
use crate::runtime::{Driver, EngineHandle, RuntimeError};

/// The service could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot start the engine: {0}")]
    Runtime(#[from] RuntimeError),
    #[error("the HTTP listener failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot serve HTTPS: {0}")]
    Tls(#[from] TlsError),
    #[error("the engine stopped during start-up")]
    EngineStopped,
    #[error("the PostgreSQL journal: {0}")]
    Postgres(#[from] crate::journal::postgres::PgError),
}

/// Knobs that are not part of the site config.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// Test hook (`DUALREC_TEST_CRASH_AFTER_JOURNAL=N`): abort the process
    /// after the N-th journaled write, between commit and answer.
    pub crash_after_journal: Option<u64>,
}

/// How long one device check may take per site.
const DEVICE_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// A running service.
pub struct Service {
    addr: SocketAddr,
    engine: EngineHandle,
    /// The embedded journal; `None` for a replica (the shared PostgreSQL
    /// journal belongs to the replica node).
    journal: Option<Arc<Journal>>,
    hub: Arc<events::Hub>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("addr", &self.addr).finish()
    }
}

impl Service {
    /// Opens the journal, starts the engine, serves on `listener`, restores
    /// the journal and returns once ready. Must run inside a tokio runtime.
    pub async fn start(
        cfg: &EngineConfig,
        listener: TcpListener,
        opts: ServiceOptions,
    ) -> Result<Service, ServiceError> {
        let addr = listener.local_addr()?;
        let tls = match &cfg.server.tls {
            Some(files) => Some(TlsReloader::load(files)?),
            None => None,
        };
        for warning in cfg.server.warnings(addr) {
            tracing::warn!("{warning}");
        }
        let seed = cfg.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        let (runtime_tx, runtime_rx) = mpsc::unbounded_channel();
        let (journal, latest, cluster, engine) = match &cfg.cluster {
            None => {
                let data_dir = cfg.data_dir.clone();
                let (journal, latest) =
                    tokio::task::spawn_blocking(move || Journal::open(&data_dir))
                        .await
                        .map_err(|e| JournalError::Sqlite {
                            path: cfg.data_dir.display().to_string(),
                            message: format!("the journal opener panicked: {e}"),
                        })??;
                let engine = Driver::new(cfg.mirror_config(), cfg.endpoints(), seed)?
                    .observer(runtime_tx)
                    .spawn();
                (Some(Arc::new(journal)), latest, None, engine)
            }
            Some(c) => {
                // A replica: the engine runs only while this replica leads,
                // restored from the shared journal by the replica itself.
                let connector = PgConnector::new(&c.journal)?;
                let journal = Arc::new(PgJournal::open(connector, &c.replica).await?);
                let opts = NodeOptions {
                    replica_id: c.replica.clone(),
                    advertise_url: c.advertise_url.clone(),
                    lease: c.lease,
                    mirror: cfg.mirror_config(),
                    endpoints: cfg.endpoints(),
                    seed,
                };
                let handle = Node::start(journal, opts, Some(runtime_tx)).await?;
                let engine = handle.engine();
                (None, Vec::new(), Some(handle), engine)
            }
        };
        let site_names: Vec<String> = cfg.sites.iter().map(|s| s.spec.name.clone()).collect();
        let metrics = metrics::Metrics::new(site_names.clone());
        let cameras = Arc::new(cfg.camera_ids());
        // The metrics and the event feed each see every runtime event.
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (feed_tx, feed_rx) = mpsc::unbounded_channel();
        let hub = events::new_hub(cameras.len(), site_names.len());
        let (feed_ready_tx, feed_ready_rx) = oneshot::channel();
        let device_check = device_check::LatestCheck::default();
        let mut background = vec![
            tokio::spawn(events::tee(runtime_rx, events_tx, feed_tx)),
            tokio::spawn(events::run_feed(
                hub.clone(),
                engine.clone(),
                site_names,
                feed_rx,
                feed_ready_tx,
            )),
            tokio::spawn(metrics.clone().collect(events_rx)),
            tokio::spawn(metrics.clone().census(engine.clone(), cameras.clone())),
            tokio::spawn(device_check::run_periodically(
                Arc::new(cfg.clone()),
                cfg.device_check_interval.map(Duration::from_nanos),
                DEVICE_CHECK_TIMEOUT,
                device_check.clone(),
            )),
        ];
        if let Some(tls) = &tls {
            background.push(tokio::spawn(tls.clone().watch(tls::POLL_INTERVAL)));
        }
        let conn_stats = Arc::new(ConnStats::default());
        let openapi = serde_json::to_vec_pretty(&openapi::document())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let state = Arc::new(api::AppState {
            keys: cfg.api_keys.clone(),
            engine: engine.clone(),
            journal: journal.clone(),
            cluster,
            ready: AtomicBool::new(false),
            metrics,
            camera_set: cameras.iter().cloned().collect(),
            cameras,
            openapi: openapi.into(),
            crash_after_journal: opts.crash_after_journal,
            journaled: AtomicU64::new(0),
            hub: hub.clone(),
            device_check,
            security: Security::new(),
            conn_stats: conn_stats.clone(),
        });
        let router = router(state.clone(), cfg.max_body_bytes, &cfg.server);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let settings = cfg.server.clone();
        let https = tls.is_some();
        let server = tokio::spawn(limits::serve(
            listener,
            router,
            settings,
            tls,
            conn_stats,
            async move {
                let _ = stop_rx.await;
            },
        ));
        tracing::info!(%addr, https, cameras = state.cameras.len(), restored = latest.len(), "engine service listening");
        engine
            .restore(latest)
            .await
            .map_err(|_| ServiceError::EngineStopped)?;
        // Event subscribers' first snapshot must hold every camera.
        feed_ready_rx
            .await
            .map_err(|_| ServiceError::EngineStopped)?;
        state.ready.store(true, Ordering::Release);
        tracing::info!("engine service ready");
        Ok(Service {
            addr,
            engine,
            journal,
            hub,
            stop: Some(stop_tx),
            server,
            background,
        })
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The running engine (for in-process callers and tests).
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Graceful stop: no new connections, requests in flight finish, the
    /// engine stops (recorders untouched), the journal is closed.
    pub async fn shutdown(mut self) -> Result<(), ServiceError> {
        // Event streams never end by themselves; end them so that the
        // server's graceful stop does not wait for them.
        self.hub.close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.server).await;
        self.drain().await;
        self.engine.shutdown().await;
        for task in &self.background {
            task.abort();
        }
        if let Some(journal) = self.journal.clone() {
            let _ = tokio::task::spawn_blocking(move || journal.close()).await;
        }
        tracing::info!("engine service stopped");
        match served {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServiceError::Io(std::io::Error::other(e.to_string()))),
        }
    }
}

impl Service {
    /// Lets the engine finish what it has in flight (a renewal's Start
    /// after its Stop, above all) before it stops, for at most
    /// [`DRAIN_TIMEOUT`]: a shutdown must not leave a recorder stopped
    /// half-way through a renewal.
    async fn drain(&self) {
        let until = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        loop {
            match self.engine.stats().await {
                Ok(stats) if stats.inflight > 0 && tokio::time::Instant::now() < until => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Ok(stats) if stats.inflight > 0 => {
                    tracing::warn!(
                        inflight = stats.inflight,
                        "shutting down with requests in flight"
                    );
                    return;
                }
                _ => return,
            }
        }
    }
}

/// Longest a shutdown waits for requests in flight to the sites.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs the service on `listener` until `shutdown` completes, then stops it
/// gracefully.
pub async fn serve(
    cfg: &EngineConfig,
    listener: TcpListener,
    opts: ServiceOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServiceError> {
    let service = Service::start(cfg, listener, opts).await?;
    shutdown.await;
    service.shutdown().await
}

/// The API's routes behind the body limit, the request timeout and the
/// audit layer (outermost, so that it sees timeouts and throttles first).
fn router(state: Arc<api::AppState>, max_body_bytes: usize, server: &ServerSettings) -> Router {
    let (routes, _described) = openapi::routes().split_for_parts();
    routes
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(api::request_timeout))
                .timeout(server.request_timeout),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::guard,
        ))
        .with_state(state)
}
