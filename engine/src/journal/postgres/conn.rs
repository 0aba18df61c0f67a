//! Connections to the journal database: settings, TLS, a lazily
//! (re)connecting client, and the `LISTEN` task.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{PgError, CHANNEL, STATEMENT_TIMEOUT};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the server lets a session sit inside a transaction waiting
/// for this client (a transaction takes milliseconds; well under a lease).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(2);

/// Where the journal database is and how to log in. The password and
/// the CA bytes never appear in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct PgSettings {
    /// `postgresql://user@host:port/db[?sslmode=disable|prefer|require]`
    pub url: String,
    pub password: Option<String>,
    /// Extra trusted CA certificate(s), PEM; without it the public web PKI
    /// roots are trusted.
    pub ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &redact(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<pem>"))
            .finish()
    }
}

/// The URL with any password in it replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Parsed settings plus the TLS connector: everything needed to connect.
#[derive(Clone)]
pub struct Connector {
    config: Config,
    tls: MakeRustlsConnect,
    shown: Arc<str>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Display for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Connector {
    /// Parses the URL and builds the TLS configuration (used when the URL's
    /// `sslmode` is `prefer`, the default, or `require`).
    pub fn new(settings: &PgSettings) -> Result<Connector, PgError> {
        let mut config: Config = settings
            .url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Db(format!("journal_url: {e}")))?;
        if let Some(pw) = &settings.password {
            config.password(pw);
        }
        config.connect_timeout(CONNECT_TIMEOUT);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(5));
        config.application_name("dualrec");
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &settings.ca_pem {
            use rustls_pki_types::pem::PemObject;
            let mut any = false;
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| PgError::Tls(format!("CA file: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| PgError::Tls(format!("CA file: {e}")))?;
                any = true;
            }
            if !any {
                return Err(PgError::Tls(
                    "the CA file holds no PEM certificate; expected -----BEGIN CERTIFICATE-----"
                        .into(),
                ));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PgError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector {
            config,
            tls: MakeRustlsConnect::new(tls),
            shown: redact(&settings.url).into(),
        })
    }

    /// A new client; its connection runs on its own task.
    pub async fn connect(&self) -> Result<Client, PgError> {
        let (client, connection) = timed(async {
            self.config
                .connect(self.tls.clone())
                .await
                .map_err(PgError::from)
        })
        .await?;
        let shown = self.shown.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(target = %shown, error = %e, "journal connection ended");
            }
        });
        // A replica paused (SIGSTOP, a VM freeze) in the middle of a write
        // would otherwise hold its row locks — the lease row among them —
        // until it resumes, and no standby could take over: the server ends
        // such a session and its transaction (never acknowledged) instead.
        timed(async {
            client
                .batch_execute(&format!(
                    "SET idle_in_transaction_session_timeout = {}",
                    IDLE_IN_TRANSACTION.as_millis()
                ))
                .await
                .map_err(PgError::from)
        })
        .await?;
        Ok(client)
    }
}

/// Runs `f`, giving up after [`STATEMENT_TIMEOUT`].
pub(crate) async fn timed<T>(f: impl Future<Output = Result<T, PgError>>) -> Result<T, PgError> {
    tokio::time::timeout(STATEMENT_TIMEOUT, f)
        .await
        .unwrap_or(Err(PgError::Timeout(STATEMENT_TIMEOUT)))
}

/// A client connected on first use and after every failure.
pub(crate) struct Conn {
    connector: Connector,
    client: Option<Client>,
}

impl Conn {
    pub fn new(connector: Connector) -> Self {
        Conn {
            connector,
            client: None,
        }
    }

    pub async fn get(&mut self) -> Result<&mut Client, PgError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(self.connector.connect().await?);
        }
        self.client
            .as_mut()
            .ok_or_else(|| PgError::Db("no connection".into()))
    }

    pub fn reset(&mut self) {
        self.client = None;
    }

    /// After a failed statement the connection may be broken or stuck in
    /// a transaction: drop it, the next use reconnects.
    pub fn reset_on_error<T>(&mut self, result: &Result<T, PgError>) {
        if matches!(result, Err(PgError::Db(_) | PgError::Timeout(_))) {
            self.client = None;
        }
    }
}

/// Holds a `LISTEN` connection and signals `tx` on every notification and
/// after every (re)connect. Ends when `tx`'s receiver is gone.
pub(crate) async fn listen(connector: Connector, tx: mpsc::Sender<()>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if tx.is_closed() {
            return;
        }
        match listen_once(&connector, &tx).await {
            Ok(()) => return,
            Err(e) => {
                tracing::debug!(error = %e, "journal LISTEN connection lost; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn listen_once(connector: &Connector, tx: &mpsc::Sender<()>) -> Result<(), PgError> {
    let (client, mut connection) = timed(async {
        connector
            .config
            .connect(connector.tls.clone())
            .await
            .map_err(PgError::from)
    })
    .await?;
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(m)) => {
                    if msg_tx.send(Ok(m)).is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    let _ = msg_tx.send(Err(PgError::from(e)));
                    return;
                }
                None => {
                    let _ = msg_tx.send(Err(PgError::Db("connection closed".into())));
                    return;
                }
            }
        }
    });
    let result = async {
        timed(async {
            client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .map_err(PgError::from)
        })
        .await?;
        // Anything committed while we were not listening is caught up.
        if tx.send(()).await.is_err() {
            return Ok(());
        }
        while let Some(m) = msg_rx.recv().await {
            if let AsyncMessage::Notification(_) = m? {
                // Coalesce: one pending signal is enough.
                if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                    return Ok(());
                }
            }
        }
        Err(PgError::Db("connection closed".into()))
    }
    .await;
    pump.abort();
    drop(client);
    result
}
