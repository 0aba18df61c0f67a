//! The API's connection handling: plain HTTP or HTTPS, with every limit a
//! hostile or broken client could otherwise exhaust the process with.
//!
//! - **Connections**: at most `max_connections` are served at once (a
//!   semaphore). One over the limit is answered `503 too_many_connections`
//!   with `Retry-After` and closed (over HTTPS, closed without an answer);
//!   while even the few slots for those answers are taken, further
//!   connections are closed at once. File
//!   descriptors stay bounded either way.
//! - **Header-read timeout** (hyper's own): a request's headers must arrive
//!   within `header_timeout` of the connection being ready for a request
//!   (freshly accepted, or after the previous answer); the TLS handshake
//!   gets the same time. Slow-header clients are disconnected.
//! - **Request timeout** (tower's `Timeout`): from the headers to the
//!   answer, reading the body included: a slow body or a stuck request
//!   answers `408 request_timeout`.
//! - **Idle timeout**: a connection on which no byte moved for
//!   `idle_timeout` while no request is being handled is closed (a keep-alive
//!   client gone quiet, a client that stopped reading its answer).
//!
//! Every request carries its peer address ([`ClientAddr`]) for throttling
//! and audit. Shutdown: stop accepting, let each connection finish the
//! request it is handling (at most [`DRAIN_TIMEOUT`]), close.
//!
//! This module owns sockets and timers; it knows nothing of the API.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::tls::TlsReloader;
use crate::config::ServerSettings;

/// Longest a shutdown waits for the requests being handled.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections over the limit that are answered 503 at the same time; more
/// are closed without an answer.
const BUSY_SLOTS: usize = 32;
/// How long an over-limit connection may take to send its request head.
const BUSY_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// The client's address, as the server accepted the connection. `None` when
/// the router is called without a socket (in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(None)))
    }
}

/// Counters of what the limits did, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnStats {
    pub open: AtomicUsize,
    pub accepted: AtomicU64,
    pub over_limit: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub idle_closed: AtomicU64,
    pub tls_failures: AtomicU64,
}

impl ConnStats {
    /// Registers these counters for one scrape.
    pub fn register(&self, reg: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        reg.register(
            "dualrec_http_connections_open",
            "Connections being served now",
            ConstGauge::new(i64::try_from(self.open.load(Ordering::Relaxed)).unwrap_or(i64::MAX)),
        );
        for (name, help, v) in [
            ("dualrec_http_connections", "Connections accepted and served", &self.accepted),
            ("dualrec_http_connections_rejected", "Connections refused because max_connections were open (503 or closed)", &self.over_limit),
            ("dualrec_http_header_timeouts", "Connections closed because request headers (or the TLS handshake) did not arrive in time", &self.header_timeouts),
            ("dualrec_http_idle_closed", "Connections closed after idle_timeout without a byte moving", &self.idle_closed),
            ("dualrec_tls_handshake_failures", "TLS handshakes that failed (bad or missing client certificate, not TLS, ...)", &self.tls_failures),
        ] {
            reg.register(name, help, ConstCounter::new(v.load(Ordering::Relaxed)));
        }
    }
}

/// When a byte last moved on a connection, and how many requests on it are
/// being handled.
#[derive(Debug)]
struct Activity {
    since: Instant,
    last_ms: AtomicU64,
    handling: AtomicUsize,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            since: Instant::now(),
            last_ms: AtomicU64::new(0),
            handling: AtomicUsize::new(0),
        })
    }
    fn touch(&self) {
        let ms = self.since.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }
    fn idle_for(&self) -> Duration {
        let now = self.since.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// An I/O stream that records when bytes move.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Decrements the handling count when a request's handler is done.
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

/// Everything a connection task needs.
#[derive(Clone)]
struct Ctx {
    router: Router,
    settings: Arc<ServerSettings>,
    tls: Option<Arc<TlsReloader>>,
    stats: Arc<ConnStats>,
    stop: watch::Receiver<bool>,
}

/// Serves `router` on `listener` under `settings` until `shutdown` resolves,
/// then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServerSettings,
    tls: Option<Arc<TlsReloader>>,
    stats: Arc<ConnStats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let max = settings.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    let busy = Arc::new(Semaphore::new(BUSY_SLOTS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = Ctx {
        router,
        settings: Arc::new(settings),
        tls,
        stats,
        stop: stop_rx,
    };
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                ctx.stats.accepted.fetch_add(1, Ordering::Relaxed);
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    ctx.stats.open.fetch_add(1, Ordering::Relaxed);
                    connection(stream, peer, &ctx).await;
                    ctx.stats.open.fetch_sub(1, Ordering::Relaxed);
                    drop(permit);
                });
            }
            Err(_) => {
                ctx.stats.over_limit.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(client = %peer, max_connections = max, "connection refused: too many open connections");
                // Over TLS a plain 503 would be garbage to the client: close.
                let slot = if ctx.tls.is_none() {
                    busy.clone().try_acquire_owned().ok()
                } else {
                    None
                };
                if let Some(slot) = slot {
                    tokio::spawn(async move {
                        too_busy(stream).await;
                        drop(slot);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection task holds a permit until it ends.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(
        DRAIN_TIMEOUT + Duration::from_secs(1),
        permits.acquire_many(all),
    )
    .await
    .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
    Ok(())
}

/// One accepted connection: TLS handshake if configured, then HTTP/1.1.
async fn connection(stream: TcpStream, peer: SocketAddr, ctx: &Ctx) {
    let activity = Activity::new();
    match &ctx.tls {
        None => {
            http(
                Watched {
                    inner: stream,
                    activity: activity.clone(),
                },
                peer,
                activity,
                ctx,
            )
            .await
        }
        Some(tls) => {
            let handshake = tls.acceptor().accept(Watched {
                inner: stream,
                activity: activity.clone(),
            });
            match tokio::time::timeout(ctx.settings.header_timeout, handshake).await {
                Ok(Ok(stream)) => http(stream, peer, activity, ctx).await,
                Ok(Err(e)) => {
                    ctx.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "dualrec_audit", client = %peer, reason = %e, "TLS handshake refused");
                }
                Err(_) => {
                    ctx.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(client = %peer, "TLS handshake timed out; connection closed");
                }
            }
        }
    }
}

async fn http<IO>(io: IO, peer: SocketAddr, activity: Arc<Activity>, ctx: &Ctx)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let router = ctx.router.clone();
    let act = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        act.handling.fetch_add(1, Ordering::AcqRel);
        let guard = Handling(act.clone());
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ClientAddr(Some(peer)));
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await;
            drop(guard);
            res
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(ctx.settings.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut stop = ctx.stop.clone();
    let idle = ctx.settings.idle_timeout;
    let mut tick =
        tokio::time::interval((idle / 4).clamp(Duration::from_millis(25), Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    if e.is_timeout() {
                        ctx.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(client = %peer, "request headers timed out; connection closed");
                    } else {
                        tracing::debug!(client = %peer, error = %e, "connection ended with an error");
                    }
                }
                return;
            }
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, conn.as_mut()).await;
                return;
            }
            _ = tick.tick() => {
                if activity.handling.load(Ordering::Acquire) == 0 && activity.idle_for() >= idle {
                    ctx.stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(client = %peer, "idle connection closed");
                    return;
                }
            }
        }
    }
}

/// Answers an over-limit connection's first request `503` and closes it.
async fn too_busy(stream: TcpStream) {
    let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
        let body = br#"{"code":"too_many_connections","message":"the service has as many connections open as it allows (max_connections); retry shortly"}"#;
        let mut res = Response::new(Body::from(&body[..]));
        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(res)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(BUSY_HEADER_TIMEOUT)
        .keep_alive(false);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(BUSY_HEADER_TIMEOUT * 2, conn).await;
}
