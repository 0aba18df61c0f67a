//! A mock XProtect site over real HTTP/SOAP, in front of the sans-IO
//! [`SiteModel`](crate::recorder::SiteModel) ("one model, two fronts").
//!
//! [`MockSite::start`] binds two listeners (port 0 picks free ports):
//!
//! - the **service** address, serving the management server's Login
//!   endpoints and the recording servers' RecorderCommandService together
//!   (paths and status codes in `soap.rs`; recording server `i > 0` lives
//!   under `/recorder/{i}/…`, see [`recorder_path`]);
//! - the optional **control** address, a JSON API to inject and clear faults
//!   and read ground-truth footage (see `control.rs`), which stays up while
//!   the site is `down`.
//!
//! Faults act at the network edge the way a real site shows them (table in
//! `faults.rs`): `down` closes the service listener (connection refused) and
//! crashes the model, `hang`/`partition` hold requests without answer,
//! `slow` changes latency, `errors` answers a seeded share of requests with
//! HTTP 500, `restart` restarts recording servers (503 for its window),
//! `token_expiry` and `stream_loss` act on the model.
//!
//! Security as on a real site (`auth.rs`, `idp.rs`, `tls.rs`): the
//! identity provider (`/IDP/connect/token`, password and NTLM
//! `windows_credentials` grants) and the OAuth login with its bearer token;
//! HTTP Basic on the legacy `.svc` login (HTTPS only when the site has TLS);
//! real NTLM on the windows login; optional HTTPS on the service address;
//! account lockout in the model (`SiteConfig::lockout`).
//!
//! Time: model time is [`SiteClock::now`], read under the model's lock. By
//! default model time 0 lies one pre-buffer before the site starts, so a
//! Start right after start-up already gets its full pre-buffer of footage.
//! SOAP times are UTC from the same clock.
//!
//! Files: `state.rs` (shared model, clock, fault transitions), `soap.rs`
//! (SOAP routes), `control.rs` (JSON control API), `faults.rs` (fault kinds,
//! parsing, edge state), `listener.rs` (HTTP listener that can be closed and
//! re-opened), `clock.rs` (time scales).
//!
//! This module does real I/O (sockets, timers) and reads the real clock; it
//! must not hold protocol semantics of its own — those live in the model and
//! in the `xprotect` codec. It logs with `tracing` and never prints.

mod auth;
mod clock;
mod control;
mod faults;
mod idp;
mod listener;
mod ntlm_proof;
mod rest;
mod soap;
mod spnego;
mod state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rest;
#[cfg(test)]
mod tests_spnego;
mod tls;
mod windows_auth;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use engine::core::{DeviceId, DeviceSettings};

use crate::intervals::{IntervalSet, Nanos};
use crate::recorder::{SiteConfig, SiteModel};
use crate::world::latency::LatencyDist;

pub use clock::SiteClock;
pub use faults::{
    latency_from_json, parse_duration, parse_latency, EdgeState, FaultError, FaultId, FaultInfo,
    FaultRequest, SiteFaultKind,
};
pub use soap::{recorder_path, BODY_READ_TIMEOUT, RECORDER_INDEX_PREFIX};
pub use tls::{TlsError, TlsIdentity};

/// Default limit of a request body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// What a mock site is.
#[derive(Debug, Clone)]
pub struct MockSiteConfig {
    /// Name, credentials, token lifetime and recorder settings.
    pub site: SiteConfig,
    /// `recorders[i]`: the device GUIDs of recording server `i`.
    pub recorders: Vec<Vec<DeviceId>>,
    /// One-way latency added to each request and again to its reply.
    pub latency: LatencyDist,
    /// Seed of the latency and `errors` draws.
    pub seed: u64,
    /// Larger request bodies answer 413.
    pub max_body_bytes: usize,
    /// The clock to use; `None`: a new one whose origin lies one pre-buffer
    /// before start. Give two sites one clock to compare their footage.
    pub clock: Option<SiteClock>,
    /// Serve the service address over HTTPS with this certificate.
    pub tls: Option<TlsIdentity>,
    /// Cameras whose "stop manual recording after" or pre-buffer differ
    /// from the site's (`site.recorder`).
    pub device_settings: Vec<(DeviceId, DeviceSettings)>,
    /// The configuration the REST API and `GetConfiguration` serve; `None`:
    /// one generated from `recorders` (see `inventory::generated_inventory`).
    /// Its cameras' own settings are applied to the model like
    /// `device_settings`.
    pub inventory: Option<crate::inventory::Inventory>,
}

impl MockSiteConfig {
    /// A site with no added latency, seed 0, 1 MiB body limit, own clock.
    pub fn new(site: SiteConfig, recorders: Vec<Vec<DeviceId>>) -> Self {
        MockSiteConfig {
            site,
            recorders,
            latency: LatencyDist::Fixed(0),
            seed: 0,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: None,
            tls: None,
            device_settings: Vec::new(),
            inventory: None,
        }
    }
}

/// Why a mock site could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr} for the {what}: {error}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        error: io::Error,
    },
    #[error("invalid mock site: {0}")]
    Config(String),
}

/// A running mock site. Dropping it stops it without waiting; prefer
/// [`MockSite::shutdown`].
pub struct MockSite {
    shared: Arc<state::Shared>,
    control: Option<listener::Listener>,
    service_addr: SocketAddr,
    control_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for MockSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockSite")
            .field("site", &self.shared.site_name)
            .field("service", &self.service_addr)
            .field("control", &self.control_addr)
            .finish()
    }
}

impl MockSite {
    /// Starts serving; must be called inside a tokio runtime. Device GUIDs
    /// are matched case-insensitively (kept in lower case).
    pub async fn start(
        cfg: MockSiteConfig,
        service: SocketAddr,
        control: Option<SocketAddr>,
    ) -> Result<MockSite, ServerError> {
        if cfg.recorders.is_empty() {
            return Err(ServerError::Config(
                "a site needs at least one recording server".into(),
            ));
        }
        cfg.latency
            .validate()
            .map_err(|e| ServerError::Config(format!("latency: {e}")))?;
        let clock = cfg
            .clock
            .unwrap_or_else(|| SiteClock::start(Duration::from_nanos(cfg.site.recorder.prebuffer)));
        let recorders = cfg
            .recorders
            .iter()
            .map(|devs| {
                devs.iter()
                    .map(|d| state::canonical_device(&d.text()))
                    .collect()
            })
            .collect();
        // Model time 0 is the clock's origin: cameras stream from there on.
        let mut model = SiteModel::new(cfg.site, recorders, 0);
        let inventory_settings = cfg
            .inventory
            .as_ref()
            .map(|i| i.device_settings())
            .unwrap_or_default();
        for (device, settings) in cfg.device_settings.iter().chain(&inventory_settings) {
            model.set_device_settings(&state::canonical_device(&device.text()), *settings);
        }
        let tls = match &cfg.tls {
            Some(id) => Some(
                id.server_config()
                    .map_err(|e| ServerError::Config(e.to_string()))?,
            ),
            None => None,
        };
        let mut shared =
            state::Shared::new(model, clock, cfg.latency, cfg.seed, cfg.max_body_bytes, tls);
        if let Some(inventory) = cfg.inventory {
            shared.inventory = inventory;
        }
        let shared = Arc::new(shared);
        let app = Router::new()
            .fallback(soap::service)
            .with_state(shared.clone());
        let service_addr =
            shared
                .service
                .start(service, app)
                .map_err(|error| ServerError::Bind {
                    what: "service (SOAP) listener",
                    addr: service,
                    error,
                })?;
        let (control, control_addr) = match control {
            None => (None, None),
            Some(addr) => {
                let l = listener::Listener::new("control");
                match l.start(addr, control::router(shared.clone())) {
                    Ok(bound) => (Some(l), Some(bound)),
                    Err(error) => {
                        shared.shutdown().await;
                        return Err(ServerError::Bind {
                            what: "control listener",
                            addr,
                            error,
                        });
                    }
                }
            }
        };
        tracing::info!(site = %shared.site_name, service = %service_addr,
            control = ?control_addr, "mock site listening");
        Ok(MockSite {
            shared,
            control,
            service_addr,
            control_addr,
        })
    }

    /// The service (SOAP) address, the same after a `down` ends.
    pub fn service_addr(&self) -> SocketAddr {
        self.service_addr
    }

    /// The control API's address, if it has one.
    pub fn control_addr(&self) -> Option<SocketAddr> {
        self.control_addr
    }

    /// Base URL of the service, `http://ADDR`, or `https://ADDR` with TLS.
    pub fn service_url(&self) -> String {
        let scheme = if self.shared.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.service_addr)
    }

    pub fn site_name(&self) -> &str {
        &self.shared.site_name
    }

    /// The site's clock (model time ↔ `Instant` ↔ UTC).
    pub fn clock(&self) -> SiteClock {
        self.shared.clock
    }

    /// Model time now.
    pub fn now(&self) -> Nanos {
        self.shared.clock.now()
    }

    /// Whether the service listener is open (it is not while `down`).
    pub fn is_service_open(&self) -> bool {
        self.shared.service.is_open()
    }

    /// Starts a fault; with a duration it ends by itself.
    pub async fn apply_fault(&self, req: FaultRequest) -> Result<FaultInfo, FaultError> {
        self.shared.apply_fault(req).await
    }

    /// Ends one active fault; `None` if it is not active.
    pub async fn end_fault(&self, id: FaultId) -> Option<FaultInfo> {
        self.shared.end_fault(id).await
    }

    /// Ends every active fault; returns them.
    pub async fn clear_faults(&self) -> Vec<FaultInfo> {
        self.shared.clear_faults().await
    }

    /// The active faults, oldest first.
    pub async fn active_faults(&self) -> Vec<FaultInfo> {
        self.shared.active_faults().await
    }

    /// Ground-truth footage of a device up to now (model time); `None` for
    /// a device not on this site.
    pub fn footage(&self, device: &DeviceId) -> Option<IntervalSet> {
        let d = state::canonical_device(&device.text());
        self.shared.with_model(|m, now| m.footage(&d, now))
    }

    /// Manual-recording intervals of a device up to now (model time).
    pub fn manual_intervals(&self, device: &DeviceId) -> Option<IntervalSet> {
        let d = state::canonical_device(&device.text());
        self.shared.with_model(|m, now| m.manual_intervals(&d, now))
    }

    /// Whether a device is manually recording now.
    pub fn is_recording(&self, device: &DeviceId) -> Option<bool> {
        let d = state::canonical_device(&device.text());
        self.shared.with_model(|m, _| {
            let (r, i) = m.locate(&d)?;
            m.recorder(r).map(|rec| rec.is_recording(i))
        })
    }

    /// Runs `f` on the model at the current model time (for harness
    /// read-outs beyond the methods above). Keep it short: requests wait.
    pub fn with_model<R>(&self, f: impl FnOnce(&SiteModel, Nanos) -> R) -> R {
        self.shared.with_model(|m, now| f(m, now))
    }

    /// Stops both listeners (dropping open connections) and the fault
    /// timers; returns when the ports are closed. Active faults are not
    /// reverted.
    pub async fn shutdown(self) {
        self.shared.shutdown().await;
        if let Some(c) = &self.control {
            c.shutdown().await;
        }
        tracing::info!(site = %self.shared.site_name, "mock site stopped");
    }
}

impl Drop for MockSite {
    fn drop(&mut self) {
        self.shared.shutdown_now();
        if let Some(c) = &self.control {
            c.shutdown_now();
        }
    }
}

/// Runs a mock site until `shutdown` completes, then stops it.
pub async fn serve(
    cfg: MockSiteConfig,
    service: SocketAddr,
    control: Option<SocketAddr>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let site = MockSite::start(cfg, service, control).await?;
    shutdown.await;
    site.shutdown().await;
    Ok(())
}
