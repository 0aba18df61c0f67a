//! [`TlsIdentity`]: the certificate a mock site serves HTTPS with — a
//! self-signed one generated at start for `127.0.0.1`/`localhost` (what a
//! fresh XProtect install has), or one read from PEM files — and the
//! rustls server configuration built from it.
//!
//! Owns certificate generation, PEM loading and the SHA-256 fingerprint
//! clients pin. No sockets: `listener.rs` does the handshakes.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} `{path}`: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "`{path}` holds no PEM `CERTIFICATE` block; expected the site certificate (then any chain)"
    )]
    NoCertificate { path: String },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a TLS server configuration: {0}")]
    Config(String),
}

/// A certificate chain (leaf first) and its private key.
#[derive(Clone)]
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key_der: Arc<Vec<u8>>,
    key_kind: KeyKind,
    /// PEM of the leaf certificate, for clients that trust it as a CA file.
    leaf_pem: String,
}

#[derive(Clone, Copy)]
enum KeyKind {
    Pkcs8,
    Pkcs1,
    Sec1,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("sha256", &self.fingerprint_sha256())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl TlsIdentity {
    /// A fresh self-signed certificate for `127.0.0.1`, `::1` and
    /// `localhost` (ECDSA P-256), as a fresh site's own certificate is.
    pub fn self_signed() -> Result<Self, TlsError> {
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let cert = rcgen::generate_simple_self_signed(names)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let leaf_pem = cert.cert.pem();
        Ok(TlsIdentity {
            chain: vec![cert.cert.der().clone()],
            key_der: Arc::new(cert.signing_key.serialize_der()),
            key_kind: KeyKind::Pkcs8,
            leaf_pem,
        })
    }

    /// A certificate chain and key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|e| TlsError::Read {
                what,
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let cert_pem = read("certificate file", cert)?;
        let key_pem = read("key file", key)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Read {
                what: "certificate file",
                path: cert.display().to_string(),
                reason: e.to_string(),
            })?;
        let Some(leaf) = chain.first() else {
            return Err(TlsError::NoCertificate {
                path: cert.display().to_string(),
            });
        };
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Read {
            what: "key file",
            path: key.display().to_string(),
            reason: format!("{e}; expected a PEM private key (PKCS#8, PKCS#1 or SEC1)"),
        })?;
        let (key_kind, key_der) = match &key {
            PrivateKeyDer::Pkcs8(k) => (KeyKind::Pkcs8, k.secret_pkcs8_der().to_vec()),
            PrivateKeyDer::Pkcs1(k) => (KeyKind::Pkcs1, k.secret_pkcs1_der().to_vec()),
            PrivateKeyDer::Sec1(k) => (KeyKind::Sec1, k.secret_sec1_der().to_vec()),
            _ => {
                return Err(TlsError::Config(
                    "unsupported private key type; expected PKCS#8, PKCS#1 or SEC1".into(),
                ))
            }
        };
        let leaf_pem = pem_of(leaf.as_ref());
        Ok(TlsIdentity {
            chain,
            key_der: Arc::new(key_der),
            key_kind,
            leaf_pem,
        })
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        let der = self.key_der.as_ref().clone();
        match self.key_kind {
            KeyKind::Pkcs8 => PrivateKeyDer::Pkcs8(der.into()),
            KeyKind::Pkcs1 => PrivateKeyDer::Pkcs1(der.into()),
            KeyKind::Sec1 => PrivateKeyDer::Sec1(der.into()),
        }
    }

    /// The leaf certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], |c| c.as_ref())
    }

    /// The leaf certificate, PEM.
    pub fn leaf_pem(&self) -> &str {
        &self.leaf_pem
    }

    /// SHA-256 of the leaf certificate, upper-case hex pairs joined by `:`
    /// (the way certificate viewers show it).
    pub fn fingerprint_sha256(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.leaf_der());
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The rustls server configuration (HTTP/1.1, TLS 1.2 and 1.3).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key())
            .map_err(|e| TlsError::Config(e.to_string()))?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_round_trips_through_pem_files() {
        let id = TlsIdentity::self_signed().expect("rcgen makes a certificate");
        let fp = id.fingerprint_sha256();
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(id.server_config().is_ok());
        let dir = tempfile::tempdir().expect("a temp dir");
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        std::fs::write(&cert, id.leaf_pem()).expect("write cert");
        let key_pem = pem_key(&id.key_der);
        std::fs::write(&key, key_pem).expect("write key");
        let back = TlsIdentity::from_pem_files(&cert, &key).expect("reads back");
        assert_eq!(back.fingerprint_sha256(), fp);
        assert!(back.server_config().is_ok());
        std::fs::write(&cert, "nothing").expect("write");
        assert!(matches!(
            TlsIdentity::from_pem_files(&cert, &key),
            Err(TlsError::NoCertificate { .. })
        ));
    }

    fn pem_key(der: &[u8]) -> String {
        pem_of(der).replace("CERTIFICATE", "PRIVATE KEY")
    }
}
