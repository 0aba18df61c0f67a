//! [`Listener`]: an HTTP/1.1 listener that can be closed and re-opened on the
//! same address, as a `down` site needs (connection refused while closed).
//!
//! Owns the TCP listening socket, the accept loop and every connection task.
//! Closing is synchronous from the caller's view: [`Listener::close`] returns
//! once the listening socket is closed, and every open connection is dropped
//! without a reply (a dead server). A request handler can drop its own
//! connection without replying through the [`ConnCtx`] found in the request's
//! extensions (a `hang` that ends).
//!
//! With a TLS configuration it serves HTTPS; a connection whose first byte
//! is not a TLS handshake is served as plain HTTP and marked so in its
//! [`ConnCtx`] (endpoints that require HTTPS refuse it there). Each
//! connection also carries the state of an HTTP authentication handshake
//! that spans requests (NTLM is connection-bound), opaque to this file.
//!
//! It knows nothing about SOAP, faults or the model: it serves the axum
//! [`Router`] it is given.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Per-connection handle, in every request's extensions.
#[derive(Clone)]
pub(crate) struct ConnCtx {
    abort: Arc<Notify>,
    /// Whether the connection is TLS.
    pub(crate) secure: bool,
    /// An authentication handshake under way on this connection.
    pub(crate) handshake: Arc<Mutex<Option<Box<dyn std::any::Any + Send>>>>,
}

impl std::fmt::Debug for ConnCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnCtx")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl ConnCtx {
    /// Drops the connection without a reply (the handler's future is dropped
    /// with it).
    pub(crate) fn abort(&self) {
        self.abort.notify_one();
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Inner {
    addr: Option<SocketAddr>,
    app: Option<Router>,
    running: Option<Running>,
}

/// A listener that can be closed and re-opened on the same address.
pub(crate) struct Listener {
    name: &'static str,
    tls: Option<Arc<rustls::ServerConfig>>,
    inner: Mutex<Inner>,
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Listener {
    /// A listener that is not bound yet.
    pub(crate) fn new(name: &'static str) -> Self {
        Listener {
            name,
            tls: None,
            inner: Mutex::new(Inner {
                addr: None,
                app: None,
                running: None,
            }),
        }
    }

    /// A listener that is not bound yet and will serve HTTPS with `tls`.
    pub(crate) fn with_tls(name: &'static str, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        Listener {
            tls,
            ..Listener::new(name)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Binds `addr` (port 0 picks a free port) and serves `app`; returns the
    /// bound address. Must run inside a tokio runtime.
    pub(crate) fn start(&self, addr: SocketAddr, app: Router) -> io::Result<SocketAddr> {
        let listener = bind(addr)?;
        let bound = listener.local_addr()?;
        let mut inner = self.lock();
        inner.addr = Some(bound);
        inner.app = Some(app.clone());
        inner.running = Some(self.spawn(listener, app));
        Ok(bound)
    }

    fn spawn(&self, listener: TcpListener, app: Router) -> Running {
        let (stop, stop_rx) = watch::channel(false);
        let tls = self.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let task = tokio::spawn(accept_loop(self.name, listener, app, tls, stop_rx));
        Running { stop, task }
    }

    /// The bound address (the same after a re-open).
    pub(crate) fn addr(&self) -> Option<SocketAddr> {
        self.lock().addr
    }

    pub(crate) fn is_open(&self) -> bool {
        self.lock().running.is_some()
    }

    /// Closes the listening socket and drops every connection; returns once
    /// the socket is closed. No-op if closed.
    pub(crate) async fn close(&self) {
        let running = self.lock().running.take();
        if let Some(r) = running {
            let _ = r.stop.send(true);
            let _ = r.task.await;
            tracing::debug!(listener = self.name, "closed");
        }
    }

    /// Re-binds the address it was started on. No-op if open; an error if it
    /// was never started, was shut down, or the address is taken.
    pub(crate) fn reopen(&self) -> io::Result<()> {
        let mut inner = self.lock();
        if inner.running.is_some() {
            return Ok(());
        }
        let (Some(addr), Some(app)) = (inner.addr, inner.app.clone()) else {
            return Err(io::Error::other(format!(
                "{} listener cannot be re-opened: never started or shut down",
                self.name
            )));
        };
        let listener = bind(addr)?;
        inner.running = Some(self.spawn(listener, app));
        tracing::debug!(listener = self.name, %addr, "re-opened");
        Ok(())
    }

    /// Closes for good and forgets the app (breaking the reference cycle
    /// through the router's state).
    pub(crate) async fn shutdown(&self) {
        self.lock().app = None;
        self.close().await;
    }

    /// [`Listener::shutdown`] without waiting (for `Drop`): the accept loop
    /// and the connections stop on their own.
    pub(crate) fn shutdown_now(&self) {
        let mut inner = self.lock();
        inner.app = None;
        if let Some(r) = inner.running.take() {
            let _ = r.stop.send(true);
        }
    }
}

async fn accept_loop(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let mut stopped = stop.clone();
    loop {
        tokio::select! {
            () = stopped_signal(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!(listener = name, %peer, "connection");
                    tokio::spawn(serve_connection(stream, app.clone(), tls.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
    drop(listener);
}

/// Completes when the listener is told to stop (or its sender is gone).
async fn stopped_signal(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let Some(acceptor) = tls else {
        return serve_io(stream, false, app, stop).await;
    };
    // A TLS ClientHello starts with record type 22; anything else is plain
    // HTTP sent to an HTTPS port.
    let mut first = [0u8; 1];
    let is_tls = matches!(
        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await,
        Ok(Ok(1))
    ) && first[0] == 0x16;
    if !is_tls {
        return serve_io(stream, false, app, stop).await;
    }
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => serve_io(tls_stream, true, app, stop).await,
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

async fn serve_io<I>(io: I, secure: bool, app: Router, mut stop: watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let ctx = ConnCtx {
        abort: Arc::new(Notify::new()),
        secure,
        handshake: Arc::new(Mutex::new(None)),
    };
    let abort = ctx.abort.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ctx.clone());
        app.clone().oneshot(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        res = conn => {
            if let Err(e) = res {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        }
        () = stopped_signal(&mut stop) => {}
        _ = abort.notified() => {}
    }
}
