//! `[engine]` settings of the HTTP(S) server itself: TLS files, timeouts,
//! the connection limit — and the start-up warnings a config deserves
//! (plain HTTP on a non-loopback address).
//!
//! Only validation lives here; the server that applies these settings is
//! `crate::service::limits` and `crate::service::tls`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::raw::{Dur, RawEngine};
use super::validate::Cx;
use super::ConfigError;

/// Default time for a request's headers to arrive.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time from a request's headers to its answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a connection may sit without a byte moving.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Longest any server timeout may be configured.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The API's certificate, key and (for mutual TLS) client CA files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates must chain to; when
    /// set, every client must present one.
    pub client_ca: Option<PathBuf>,
}

/// How the API server treats connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// HTTPS when set; plain HTTP otherwise.
    pub tls: Option<TlsFiles>,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            tls: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServerSettings {
    /// What an operator should hear at start-up about serving on `listen`
    /// with these settings (empty when all is well).
    pub fn warnings(&self, listen: SocketAddr) -> Vec<String> {
        let mut out = Vec::new();
        if self.tls.is_none() && !listen.ip().is_loopback() {
            out.push(format!(
                "the API listens on {listen}, which is not a loopback address, without TLS: \
                 bearer keys and intents travel in cleartext; set `tls_cert_file` and \
                 `tls_key_file` in [engine]"
            ));
        }
        out
    }
}

fn timeout(
    cx: &Cx<'_>,
    raw: &Option<Spanned<Dur>>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(d) = raw else { return Ok(default) };
    let value = Duration::from_nanos(d.get_ref().0);
    if value < Duration::from_millis(100) || value > MAX_TIMEOUT {
        return Err(cx.err(
            d.span(),
            format!(
                "{value:?} is out of range; expected a duration from 100ms to {}s",
                MAX_TIMEOUT.as_secs()
            ),
        ));
    }
    Ok(value)
}

/// Validates the server part of `[engine]`. TLS files must exist and hold
/// PEM; the private key must not be readable or writable by others.
pub(super) fn server_settings(
    cx: &Cx<'_>,
    engine: &RawEngine,
) -> Result<ServerSettings, ConfigError> {
    let tls = match (&engine.tls_cert_file, &engine.tls_key_file) {
        (None, None) => {
            if let Some(ca) = &engine.tls_client_ca_file {
                return Err(cx.err(
                    ca.span(),
                    "`tls_client_ca_file` without `tls_cert_file` and `tls_key_file`; expected \
                     all three (client certificates need HTTPS)",
                ));
            }
            None
        }
        (Some(cert), Some(key)) => {
            let cert_path = cx.pem_file(cert, "CERTIFICATE", "the API's certificate chain")?;
            cx.private_file(key)?;
            let key_path = cx.pem_file(key, "PRIVATE KEY", "the API's private key")?;
            let client_ca = match &engine.tls_client_ca_file {
                None => None,
                Some(ca) => Some(cx.pem_file(
                    ca,
                    "CERTIFICATE",
                    "CA certificates for client certificates",
                )?),
            };
            Some(TlsFiles {
                cert: cert_path,
                key: key_path,
                client_ca,
            })
        }
        (Some(one), None) | (None, Some(one)) => {
            return Err(cx.err(
                one.span(),
                "only one of `tls_cert_file` and `tls_key_file`; expected both (HTTPS needs a \
                 certificate and its private key)",
            ))
        }
    };
    let max_connections = match &engine.max_connections {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(n) if (1..=1_000_000).contains(n.get_ref()) => *n.get_ref() as usize,
        Some(n) => {
            return Err(cx.err(
                n.span(),
                format!(
                    "`max_connections = {}` is out of range; expected 1 to 1000000",
                    n.get_ref()
                ),
            ))
        }
    };
    Ok(ServerSettings {
        tls,
        header_timeout: timeout(cx, &engine.header_timeout, DEFAULT_HEADER_TIMEOUT)?,
        request_timeout: timeout(cx, &engine.request_timeout, DEFAULT_REQUEST_TIMEOUT)?,
        idle_timeout: timeout(cx, &engine.idle_timeout, DEFAULT_IDLE_TIMEOUT)?,
        max_connections,
    })
}
