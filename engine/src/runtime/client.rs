//! [`SoapClient`]: XProtect SOAP over HTTP for one site, turning the
//! engine's requests into HTTP calls and HTTP answers into [`Reply`]s.
//!
//! One pooled `reqwest::Client` (rustls) per site serves its management
//! server and all its recorders. Messages are encoded and decoded by the
//! `xprotect` crate; this file only moves them and classifies failures:
//!
//! - could not connect (refused, unreachable, DNS, TLS handshake) →
//!   [`TransportError::Refused`], except a rejected site certificate →
//!   [`TransportError::Malformed`] saying so (same handling in the engine,
//!   but an operator can tell it from a site that is down); an untrusted
//!   certificate is also noted by name ([`SoapClient::tls_problem`]) and
//!   logged once;
//! - the HTTP client timed out → [`TransportError::Timeout`] (the driver
//!   also bounds every call with the policy's request timeout);
//! - any status whose body is a SOAP fault (XProtect answers faults with
//!   HTTP 500, malformed requests with 400) → [`Reply::Fault`];
//! - another non-2xx status → [`TransportError::Http`];
//! - a 2xx body that does not decode → [`TransportError::Malformed`].
//!
//! Logging in (identity provider, OAuth and SOAP Logins, NTLM) lives in
//! `login.rs`; TLS trust in `tls.rs`. Never logs passwords or tokens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use xprotect::{
    decode_fault, decode_recorder_response, encode_recorder_request, Fault, RecorderRequest,
    RecorderResponse, SoapVersion,
};

use super::config::SiteEndpoint;
use crate::core::{
    DeviceId, DeviceResult, DeviceState, RecorderId, RecorderOp, Reply, SoapFault, TransportError,
};

/// The site's endpoints could not be turned into a client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("site `{site}`: tls_ca_pem is not a usable PEM certificate bundle: {reason}")]
    BadCa { site: String, reason: String },
    #[error("site `{site}`: tls_ca_pem holds no certificate (expected at least one PEM `CERTIFICATE` block)")]
    EmptyCa { site: String },
    #[error("site `{site}`: could not build the HTTP client: {reason}")]
    Build { site: String, reason: String },
    #[error("site `{site}`: cannot pin the certificate: {reason}")]
    Pin { site: String, reason: String },
}

/// SOAP client of one site. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct SoapClient {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    /// How `http` was built, to build one-connection clients for NTLM.
    tls: TlsTrust,
    pub(super) site: String,
    pub(super) endpoint: SiteEndpoint,
    recorder_urls: Vec<String>,
    /// The password the last login used (re-read from `password_file`).
    pub(super) password: Mutex<String>,
    /// Why the site's certificate is not trusted, while it is not.
    tls_problem: Mutex<Option<String>>,
}

/// The TLS trust of a site's clients.
#[derive(Clone)]
enum TlsTrust {
    WebPki(Vec<reqwest::Certificate>),
    Pinned(Box<rustls::ClientConfig>),
}

impl TlsTrust {
    fn client(&self, site: &str, one_connection: bool) -> Result<reqwest::Client, ClientError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90));
        if one_connection {
            builder = builder.pool_max_idle_per_host(1);
        }
        match self {
            TlsTrust::WebPki(extra) => {
                for cert in extra {
                    builder = builder.add_root_certificate(cert.clone());
                }
            }
            TlsTrust::Pinned(cfg) => builder = builder.use_preconfigured_tls(cfg.as_ref().clone()),
        }
        builder.build().map_err(|e| ClientError::Build {
            site: site.to_owned(),
            reason: e.to_string(),
        })
    }
}

impl std::fmt::Debug for SoapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoapClient")
            .field("site", &self.inner.site)
            .field("login_url", &self.inner.endpoint.login_url())
            .field("recorder_urls", &self.inner.recorder_urls)
            .finish_non_exhaustive()
    }
}

impl SoapClient {
    /// Builds the site's client. Fails only on a bad `tls_ca_pem`.
    ///
    /// System proxy variables are ignored: recorders are reached directly.
    pub fn new(site: &SiteEndpoint) -> Result<Self, ClientError> {
        let tls = match (site.tls_cert_sha256, &site.tls_ca_pem) {
            (Some(fp), _) => {
                let cfg = super::tls::pinned_config(fp).map_err(|e| ClientError::Pin {
                    site: site.name.clone(),
                    reason: e.to_string(),
                })?;
                TlsTrust::Pinned(Box::new(cfg))
            }
            (None, Some(pem)) => {
                let certs =
                    reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientError::BadCa {
                        site: site.name.clone(),
                        reason: e.to_string(),
                    })?;
                if certs.is_empty() {
                    return Err(ClientError::EmptyCa {
                        site: site.name.clone(),
                    });
                }
                TlsTrust::WebPki(certs)
            }
            (None, None) => TlsTrust::WebPki(Vec::new()),
        };
        let http = tls.client(&site.name, false)?;
        let recorder_urls = (0..site.recorder_urls.len())
            .filter_map(|r| site.recorder_url(r))
            .collect();
        Ok(SoapClient {
            inner: Arc::new(Inner {
                http,
                tls,
                site: site.name.clone(),
                endpoint: site.clone(),
                recorder_urls,
                password: Mutex::new(site.password.clone()),
                tls_problem: Mutex::new(None),
            }),
        })
    }

    pub(super) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// A client whose pool keeps one connection per host (NTLM handshakes
    /// must finish on the connection they started on).
    pub(super) fn one_connection_client(&self) -> Result<reqwest::Client, TransportError> {
        self.inner
            .tls
            .client(&self.inner.site, true)
            .map_err(|e| TransportError::Malformed(e.to_string()))
    }

    /// The site's pooled HTTP client, with the site's TLS trust (pinned
    /// certificate or extra CAs), for a diagnostic client's own calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Why the site's TLS certificate is not trusted, if the last attempt
    /// to connect failed for that.
    pub fn tls_problem(&self) -> Option<String> {
        lock(&self.inner.tls_problem).clone()
    }

    /// The site's name.
    pub fn site(&self) -> &str {
        &self.inner.site
    }

    /// How the site is logged in to (`login` in its config).
    pub fn login_kind(&self) -> super::SiteLogin {
        self.inner.endpoint.login
    }

    /// One batched RecorderCommandService call on `recorder`:
    /// Start/Stop answer [`Reply::Results`], Probe answers [`Reply::States`];
    /// a SOAP fault answers [`Reply::Fault`].
    pub async fn call(
        &self,
        recorder: RecorderId,
        op: RecorderOp,
        devices: &[DeviceId],
        token: &str,
    ) -> Result<Reply, TransportError> {
        let inner = &*self.inner;
        let Some(url) = inner.recorder_urls.get(recorder) else {
            return Err(TransportError::Malformed(format!(
                "site `{}` has no URL for recorder {recorder} (it has {})",
                inner.site,
                inner.recorder_urls.len()
            )));
        };
        let token = token.to_owned();
        let device_ids: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
        let request = match op {
            RecorderOp::Start => RecorderRequest::StartManualRecording { token, device_ids },
            RecorderOp::Stop => RecorderRequest::StopManualRecording { token, device_ids },
            RecorderOp::Probe => RecorderRequest::IsManualRecording { token, device_ids },
        };
        let operation = request.operation();
        tracing::debug!(site = %inner.site, recorder, %operation, devices = devices.len(), "recorder call");
        let body = encode_recorder_request(&request);
        let (status, text) = self
            .post(
                inner.http.post(url),
                SoapVersion::V11,
                operation.soap_action(),
                body,
            )
            .await?;
        match decode_recorder_response(operation, &text) {
            Ok(Ok(response)) => Ok(to_reply(response)),
            Ok(Err(fault)) => Ok(fault_reply(&inner.site, fault)),
            Err(e) => Err(undecodable(&inner.site, status, &text, e)),
        }
    }

    /// Sends one SOAP request; returns the status and body of any answer
    /// that is 2xx or carries a SOAP fault.
    pub(super) async fn post(
        &self,
        request: reqwest::RequestBuilder,
        version: SoapVersion,
        action: &str,
        body: String,
    ) -> Result<(u16, String), TransportError> {
        let mut request = request.body(body);
        for (name, value) in version.request_headers(action) {
            request = request.header(name, value);
        }
        let response = self.send(request).await?;
        let status = response.status();
        let site = &self.inner.site;
        let text = response.text().await.map_err(|e| classify(site, &e))?;
        if status.is_success() || decode_fault(&text).is_ok() {
            Ok((status.as_u16(), text))
        } else {
            tracing::debug!(site = %site, status = status.as_u16(), "HTTP error without a SOAP fault");
            Err(TransportError::Http(status.as_u16()))
        }
    }
}

impl SoapClient {
    /// Sends a request; notes (and clears) an untrusted certificate.
    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, TransportError> {
        let site = &self.inner.site;
        match request.send().await {
            Ok(r) => {
                let mut problem = lock(&self.inner.tls_problem);
                if problem.take().is_some() {
                    tracing::info!(site = %site, "site certificate trusted again");
                }
                Ok(r)
            }
            Err(e) => {
                if let Some(why) = super::tls::untrusted_certificate(&e) {
                    let mut problem = lock(&self.inner.tls_problem);
                    if problem.as_deref() != Some(why.as_str()) {
                        tracing::error!(site = %site, reason = %why,
                            "untrusted TLS certificate: the site is treated as unreachable \
                             (set tls_cert_sha256 or tls_ca_file for it)");
                    }
                    *problem = Some(why.clone());
                    return Err(TransportError::Malformed(format!(
                        "TLS certificate rejected: {why}"
                    )));
                }
                Err(classify(site, &e))
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn to_reply(response: RecorderResponse) -> Reply {
    match response {
        RecorderResponse::StartManualRecording(results)
        | RecorderResponse::StopManualRecording(results) => Reply::Results(
            results
                .into_iter()
                .map(|r| DeviceResult {
                    ok: r.is_success(),
                    device: DeviceId::new(r.device_id),
                })
                .collect(),
        ),
        RecorderResponse::IsManualRecording(infos) => Reply::States(
            infos
                .into_iter()
                .map(|i| DeviceState {
                    device: DeviceId::new(i.device_id),
                    recording: i.is_manual_recording,
                })
                .collect(),
        ),
        // Never asked for by the engine; decode_recorder_response only
        // returns the operation that was requested.
        RecorderResponse::SequencesGetTypes(_) | RecorderResponse::SequencesGet(_) => {
            Reply::Results(Vec::new())
        }
    }
}

pub(super) fn fault_reply(site: &str, fault: Fault) -> Reply {
    tracing::debug!(site, %fault, token = fault.is_token_fault(), "SOAP fault");
    Reply::Fault(SoapFault {
        token_invalid: fault.is_token_fault(),
        message: fault.to_string(),
    })
}

pub(super) fn undecodable(
    site: &str,
    status: u16,
    text: &str,
    e: xprotect::DecodeError,
) -> TransportError {
    tracing::warn!(site, status, bytes = text.len(), error = %e, "undecodable SOAP answer");
    TransportError::Malformed(e.to_string())
}

/// The TLS layer's complaint about the site's certificate, if that is what
/// `e` is (rustls says "invalid peer certificate: …" somewhere in the chain).
fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if text.to_ascii_lowercase().contains("certificate") {
            return Some(text);
        }
        cur = err.source();
    }
    None
}

pub(super) fn classify(site: &str, e: &reqwest::Error) -> TransportError {
    let err = if e.is_timeout() {
        TransportError::Timeout
    } else if let Some(why) = e.is_connect().then(|| certificate_problem(e)).flatten() {
        // The engine treats it like any failure; the text lets operators
        // see a certificate problem apart from a site that is down.
        TransportError::Malformed(format!("TLS certificate rejected: {why}"))
    } else if e.is_connect() {
        TransportError::Refused
    } else {
        TransportError::Malformed(format!("transport failure: {e}"))
    };
    tracing::debug!(site, error = %e, ?err, "request failed");
    err
}

#[cfg(test)]
mod classify_tests {
    use super::certificate_problem;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn a_certificate_complaint_is_found_anywhere_in_the_chain() {
        let tls = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "invalid peer certificate: UnknownIssuer",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            certificate_problem(&tls).as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        let refused = Layer(
            "error sending request",
            Some(Box::new(Layer("Connection refused (os error 111)", None))),
        );
        assert_eq!(certificate_problem(&refused), None);
    }
}
