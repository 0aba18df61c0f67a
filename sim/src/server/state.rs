//! [`Shared`]: everything the request handlers of one mock site share — the
//! sans-IO [`SiteModel`] behind a mutex, the site's [`SiteClock`], the seeded
//! RNGs of the network edge, the active faults and the service listener that
//! a `down` closes.
//!
//! **Lock and clock.** Model time is read *while holding the model's lock*
//! ([`Shared::with_model`]), so two requests can never hand the model times
//! out of order; auto-stops due by then are applied first (`on_timeout`).
//! Fault transitions are serialised by an async mutex (they await the
//! listener closing and re-opening); the edge state handlers read is
//! published through a `watch` channel, so a held request learns at once when
//! a `hang` ends.
//!
//! Owns fault *transitions* (what starting and ending each kind does to the
//! model and the listener, mirroring `sim::world`); it does not parse
//! anything or speak HTTP.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use engine::core::DeviceId;

use super::clock::SiteClock;
use super::faults::{EdgeState, FaultError, FaultId, FaultInfo, FaultRequest, SiteFaultKind};
use super::listener::{ConnCtx, Listener};
use crate::intervals::Nanos;
use crate::recorder::{SiteModel, REQUEST_MAX_AGE};
use crate::world::latency::LatencyDist;

/// How often re-binding the service port is tried when a `down` ends.
const REOPEN_ATTEMPTS: u32 = 50;
const REOPEN_BACKOFF: Duration = Duration::from_millis(20);

/// The canonical form of a device GUID on a mock site: trimmed, without
/// braces, lower case (GUIDs are case-insensitive in XProtect).
pub(crate) fn canonical_device(id: &str) -> DeviceId {
    DeviceId::new(
        id.trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .to_ascii_lowercase(),
    )
}

struct Active {
    info: FaultInfo,
    timer: Option<AbortHandle>,
}

#[derive(Default)]
struct FaultTable {
    next_id: FaultId,
    active: Vec<Active>,
    shut_down: bool,
    /// The service port could not be re-bound after a `down`.
    reopen_failed: bool,
}

impl FaultTable {
    fn any(&self, f: impl Fn(&SiteFaultKind) -> bool) -> bool {
        self.active.iter().any(|a| f(&a.info.request.kind))
    }
}

/// State shared by the handlers of one mock site.
pub(crate) struct Shared {
    pub(crate) site_name: String,
    pub(crate) clock: SiteClock,
    pub(crate) max_body_bytes: usize,
    base_latency: LatencyDist,
    model: Mutex<SiteModel>,
    latency_rng: Mutex<ChaCha8Rng>,
    error_rng: Mutex<ChaCha8Rng>,
    lost_rng: Mutex<ChaCha8Rng>,
    edge: watch::Sender<EdgeState>,
    faults: tokio::sync::Mutex<FaultTable>,
    pub(crate) service: Listener,
    recorders: usize,
    /// Whether the site serves HTTPS (`--tls`).
    pub(crate) tls: bool,
    /// Random per-site suffix of bearer tokens, so they cannot be guessed.
    pub(crate) token_secret: String,
    /// The site's configuration, served by the REST API and
    /// `GetConfiguration`; set once before the site serves.
    pub(crate) inventory: crate::inventory::Inventory,
    /// The site-wide auto-stop (`None` off) and pre-buffer.
    pub(crate) default_limit: Option<Nanos>,
    pub(crate) default_prebuffer: Nanos,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(
        model: SiteModel,
        clock: SiteClock,
        base_latency: LatencyDist,
        seed: u64,
        max_body_bytes: usize,
        tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    ) -> Self {
        let recorder = model.config().recorder;
        Shared {
            inventory: crate::inventory::generated_inventory(
                model.name(),
                &model
                    .recorders()
                    .iter()
                    .map(|r| r.devices().to_vec())
                    .collect::<Vec<_>>(),
            ),
            default_limit: recorder.manual_recording_max,
            default_prebuffer: recorder.prebuffer,
            tls: tls.is_some(),
            token_secret: format!(
                "{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
            site_name: model.name().to_owned(),
            recorders: model.recorders().len(),
            clock,
            max_body_bytes,
            base_latency,
            model: Mutex::new(model),
            latency_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            error_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_e770)),
            lost_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x105e_7e91)),
            edge: watch::channel(EdgeState::default()).0,
            faults: tokio::sync::Mutex::new(FaultTable::default()),
            service: Listener::with_tls("service", tls),
        }
    }

    /// Number of recording servers.
    pub(crate) fn recorders(&self) -> usize {
        self.recorders
    }

    /// Runs `f` on the model at the current model time, read under the lock,
    /// after applying the auto-stops due by then.
    pub(crate) fn with_model<R>(&self, f: impl FnOnce(&mut SiteModel, Nanos) -> R) -> R {
        let mut model = lock(&self.model);
        let now = self.clock.now();
        model.on_timeout(now);
        f(&mut model, now)
    }

    /// The edge as it is now.
    pub(crate) fn edge(&self) -> EdgeState {
        self.edge.borrow().clone()
    }

    /// If nothing gets answered now (`hang`, `partition`), holds the request
    /// until that ends, then drops the connection without a reply: this
    /// future then never completes. Returns at once otherwise.
    pub(crate) async fn hold_if_blackholed(&self, conn: Option<&ConnCtx>) {
        let mut rx = self.edge.subscribe();
        if !rx.borrow_and_update().blackholed {
            return;
        }
        let _ = rx.wait_for(|e| !e.blackholed).await;
        if let Some(conn) = conn {
            conn.abort();
        }
        std::future::pending::<()>().await;
    }

    /// Draws one one-way latency from the active `slow` fault's distribution
    /// or the site's base one.
    fn draw_one_way(&self) -> u64 {
        let dist = self.edge.borrow().slow.clone();
        let mut rng = lock(&self.latency_rng);
        dist.as_ref()
            .unwrap_or(&self.base_latency)
            .sample(&mut *rng)
    }

    /// Waits one one-way latency (a reply's trip back).
    pub(crate) async fn one_way_delay(&self) {
        let ns = self.draw_one_way();
        if ns > 0 {
            tokio::time::sleep(Duration::from_nanos(ns)).await;
        }
    }

    /// Waits a request's trip to the site; `false` when the trip is longer
    /// than [`REQUEST_MAX_AGE`]: the request never reaches the recorder.
    pub(crate) async fn request_trip(&self) -> bool {
        let ns = self.draw_one_way();
        let wait = ns.min(REQUEST_MAX_AGE);
        if wait > 0 {
            tokio::time::sleep(Duration::from_nanos(wait)).await;
        }
        ns <= REQUEST_MAX_AGE
    }

    /// Whether this request is one of the `errors` fault's share. Draws only
    /// while such a fault is active.
    pub(crate) fn draw_error(&self) -> bool {
        let rate = self.edge.borrow().error_rate;
        rate > 0.0 && lock(&self.error_rng).random::<f64>() < rate
    }

    /// Whether the reply to a request just executed is lost (the
    /// `lost_replies` fault's share). Draws only while such a fault is active.
    pub(crate) fn draw_lost_reply(&self) -> bool {
        let rate = self.edge.borrow().lost_reply_rate;
        rate > 0.0 && lock(&self.lost_rng).random::<f64>() < rate
    }

    fn publish(&self, table: &FaultTable) {
        let edge = EdgeState::of(table.active.iter().map(|a| &a.info.request));
        self.edge.send_replace(edge);
    }

    /// Starts a fault (see `faults.rs` for what each kind does).
    pub(crate) async fn apply_fault(
        self: &Arc<Self>,
        req: FaultRequest,
    ) -> Result<FaultInfo, FaultError> {
        req.validate()?;
        let mut req = req;
        if let SiteFaultKind::StreamLoss { device } = &req.kind {
            let device = canonical_device(&device.text());
            if self.with_model(|m, _| m.locate(&device)).is_none() {
                return Err(FaultError {
                    code: "unknown_device",
                    message: format!(
                        "device `{device}` is not on site `{}`; expected one of its device GUIDs",
                        self.site_name
                    ),
                });
            }
            req.kind = SiteFaultKind::StreamLoss { device };
        }
        let mut table = self.faults.lock().await;
        if table.shut_down {
            return Err(FaultError {
                code: "shut_down",
                message: "the mock site is shut down".into(),
            });
        }
        table.next_id += 1;
        let id = table.next_id;
        let since = self.with_model(|_, now| now);
        let info = FaultInfo {
            id,
            until: if req.is_instantaneous() {
                None
            } else {
                req.duration.map(|d| since.saturating_add(d))
            },
            since,
            request: req.clone(),
        };
        tracing::info!(site = %self.site_name, id, kind = req.kind.name(),
            duration_ns = ?req.duration, "fault starts");
        if req.is_instantaneous() {
            match req.kind {
                SiteFaultKind::TokenExpiry => self.with_model(|m, _| m.invalidate_tokens()),
                _ => self.with_model(|m, now| m.restart_recorders(now)),
            }
            return Ok(info);
        }
        match &req.kind {
            SiteFaultKind::Down if !table.any(|k| matches!(k, SiteFaultKind::Down)) => {
                self.edge.send_modify(|e| e.down = true);
                self.service.close().await;
                self.with_model(|m, now| m.crash(now));
            }
            SiteFaultKind::Restart => self.with_model(|m, now| m.crash_recorders(now)),
            SiteFaultKind::StreamLoss { device } => {
                self.with_model(|m, now| m.set_stream_lost(now, device, true));
            }
            _ => {}
        }
        let timer = req.duration.map(|d| {
            let weak: Weak<Shared> = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_nanos(d)).await;
                if let Some(shared) = weak.upgrade() {
                    shared.end_fault_inner(id, true).await;
                }
            })
            .abort_handle()
        });
        table.active.push(Active {
            info: info.clone(),
            timer,
        });
        self.publish(&table);
        Ok(info)
    }

    /// Ends one active fault; `None` if there is no such fault.
    pub(crate) async fn end_fault(self: &Arc<Self>, id: FaultId) -> Option<FaultInfo> {
        self.end_fault_inner(id, false).await
    }

    async fn end_fault_inner(self: &Arc<Self>, id: FaultId, from_timer: bool) -> Option<FaultInfo> {
        let mut table = self.faults.lock().await;
        if table.shut_down {
            return None;
        }
        let pos = table.active.iter().position(|a| a.info.id == id)?;
        let active = table.active.remove(pos);
        if !from_timer {
            if let Some(t) = &active.timer {
                t.abort();
            }
        }
        self.revert(&mut table, &active.info).await;
        self.publish(&table);
        Some(active.info)
    }

    /// Ends every active fault, oldest first; returns them.
    pub(crate) async fn clear_faults(self: &Arc<Self>) -> Vec<FaultInfo> {
        let mut table = self.faults.lock().await;
        let mut ended = Vec::new();
        while !table.active.is_empty() {
            let active = table.active.remove(0);
            if let Some(t) = &active.timer {
                t.abort();
            }
            self.revert(&mut table, &active.info).await;
            ended.push(active.info);
        }
        self.publish(&table);
        ended
    }

    /// Undoes what starting `info` did, given the faults still active.
    async fn revert(&self, table: &mut FaultTable, info: &FaultInfo) {
        tracing::info!(site = %self.site_name, id = info.id, kind = info.request.kind.name(), "fault ends");
        match &info.request.kind {
            SiteFaultKind::Down if !table.any(|k| matches!(k, SiteFaultKind::Down)) => {
                self.with_model(|m, now| m.boot(now));
                table.reopen_failed = !self.reopen_service().await;
            }
            SiteFaultKind::Restart
                if !table.any(|k| matches!(k, SiteFaultKind::Restart | SiteFaultKind::Down)) =>
            {
                self.with_model(|m, now| m.boot_recorders(now));
            }
            SiteFaultKind::StreamLoss { device }
                if !table.any(
                    |k| matches!(k, SiteFaultKind::StreamLoss { device: d } if d == device),
                ) =>
            {
                self.with_model(|m, now| m.set_stream_lost(now, device, false));
            }
            _ => {}
        }
    }

    async fn reopen_service(&self) -> bool {
        for attempt in 1..=REOPEN_ATTEMPTS {
            match self.service.reopen() {
                Ok(()) => return true,
                Err(e) if attempt == REOPEN_ATTEMPTS => {
                    tracing::error!(site = %self.site_name, error = %e,
                        "cannot re-open the service port after `down`; the site stays unreachable");
                }
                Err(_) => tokio::time::sleep(REOPEN_BACKOFF).await,
            }
        }
        false
    }

    /// The active faults, oldest first.
    pub(crate) async fn active_faults(&self) -> Vec<FaultInfo> {
        let table = self.faults.lock().await;
        table.active.iter().map(|a| a.info.clone()).collect()
    }

    /// Whether re-binding the service port failed after the last `down`.
    pub(crate) async fn reopen_failed(&self) -> bool {
        self.faults.lock().await.reopen_failed
    }

    /// Stops every fault timer (without reverting effects) and refuses new
    /// faults; then closes the service listener for good.
    pub(crate) async fn shutdown(&self) {
        {
            let mut table = self.faults.lock().await;
            table.shut_down = true;
            for a in &table.active {
                if let Some(t) = &a.timer {
                    t.abort();
                }
            }
        }
        self.service.shutdown().await;
    }

    /// [`Shared::shutdown`] without waiting, for `Drop`.
    pub(crate) fn shutdown_now(&self) {
        if let Ok(mut table) = self.faults.try_lock() {
            table.shut_down = true;
            for a in &table.active {
                if let Some(t) = &a.timer {
                    t.abort();
                }
            }
        }
        self.service.shutdown_now();
    }
}
