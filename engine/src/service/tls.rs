//! HTTPS for the API: the rustls server configuration built from the
//! `[engine]` PEM files (`tls_cert_file`, `tls_key_file`, optionally
//! `tls_client_ca_file` for mutual TLS), and its reloading.
//!
//! [`TlsReloader`] holds the current configuration; every new connection
//! takes the one that is current when it arrives, so a reload never touches
//! a connection already open. [`TlsReloader::watch`] reloads on SIGHUP and
//! whenever one of the files changes (modification time or size, polled).
//! A reload that fails — a half-written file, a key that does not match the
//! certificate — is logged and the previous configuration stays in force.
//!
//! Only HTTP/1.1 is offered (ALPN), the protocol the server's timeouts are
//! written for. Crypto is rustls with the *ring* provider.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// How often [`TlsReloader::watch`] looks at the files.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// A TLS file could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TlsError {
    /// The file at fault (or the pair, for a key that does not fit).
    pub file: String,
    pub message: String,
}

fn err(file: &Path, message: impl Into<String>) -> TlsError {
    TlsError {
        file: file.display().to_string(),
        message: message.into(),
    }
}

fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(path, format!("cannot read {what}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(path, format!("not a valid PEM file of {what}: {e}")))?;
    if certs.is_empty() {
        return Err(err(
            path,
            format!("holds no `-----BEGIN CERTIFICATE-----` block; expected {what}"),
        ));
    }
    Ok(certs)
}

/// Builds the rustls server configuration from `files`.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = certificates(&files.cert, "the certificate chain")?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        err(
            &files.key,
            format!("no usable private key ({e}); expected a PEM PKCS#8, PKCS#1 or SEC1 key"),
        )
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&files.cert, e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca, "CA certificates for client certificates")? {
                roots
                    .add(cert)
                    .map_err(|e| err(ca, format!("not a usable CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| err(ca, format!("cannot verify client certificates: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| TlsError {
        file: format!("{} and {}", files.cert.display(), files.key.display()),
        message: format!("the key does not fit the certificate: {e}"),
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// What identifies a file's version: modification time and size.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The current TLS configuration, replaceable while the server runs.
#[derive(Debug)]
pub struct TlsReloader {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamps: Mutex<Vec<Stamp>>,
}

impl TlsReloader {
    /// Loads `files`; fails when they cannot serve HTTPS.
    pub fn load(files: &TlsFiles) -> Result<Arc<TlsReloader>, TlsError> {
        let config = server_config(files)?;
        Ok(Arc::new(TlsReloader {
            stamps: Mutex::new(Self::paths(files).iter().map(|p| stamp(p)).collect()),
            files: files.clone(),
            current: RwLock::new(Arc::new(config)),
        }))
    }

    fn paths(files: &TlsFiles) -> Vec<PathBuf> {
        let mut p = vec![files.cert.clone(), files.key.clone()];
        p.extend(files.client_ca.clone());
        p
    }

    /// An acceptor for the next connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        TlsAcceptor::from(config)
    }

    /// Whether clients must present a certificate.
    pub fn mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// Re-reads the files; on success new connections use them, on failure
    /// the previous configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps: Vec<Stamp> = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
        let config = server_config(&self.files)?;
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(config);
        }
        if let Ok(mut s) = self.stamps.lock() {
            *s = stamps;
        }
        Ok(())
    }

    fn changed(&self) -> bool {
        let now: Vec<Stamp> = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
        self.stamps.lock().is_ok_and(|s| *s != now)
    }

    fn reload_logged(&self, why: &str) {
        match self.reload() {
            Ok(()) => {
                tracing::info!(why, cert = %self.files.cert.display(), "TLS certificate reloaded")
            }
            Err(e) => {
                // Do not retry the same broken files every poll: remember them.
                if let Ok(mut s) = self.stamps.lock() {
                    *s = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
                }
                tracing::error!(why, error = %e, "TLS reload failed; the previous certificate stays in use");
            }
        }
    }

    /// Reloads on SIGHUP and when a file changes (polled every
    /// `interval`), until the task is dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        #[cfg(unix)]
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGHUP; TLS files are reloaded when they change only");
                None
            }
        };
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            {
                let hup_recv = async {
                    match hup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = hup_recv => { self.reload_logged("SIGHUP"); continue; }
                    _ = tick.tick() => {}
                }
            }
            #[cfg(not(unix))]
            tick.tick().await;
            if self.changed() {
                self.reload_logged("file changed");
            }
        }
    }
}
