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
//!   but an operator can tell it from a site that is down);
//! - the HTTP client timed out → [`TransportError::Timeout`] (the driver
//!   also bounds every call with the policy's request timeout);
//! - any status whose body is a SOAP fault (XProtect answers faults with
//!   HTTP 500, malformed requests with 400) → [`Reply::Fault`];
//! - another non-2xx status → [`TransportError::Http`];
//! - a 2xx body that does not decode → [`TransportError::Malformed`].
//!
//! Never logs passwords or tokens.

use std::sync::Arc;
use std::time::Duration;

use xprotect::{
    decode_fault, decode_login_response, decode_recorder_response, encode_login_request,
    encode_recorder_request, Fault, LoginEndpoint, LoginRequest, RecorderRequest, RecorderResponse,
    SoapVersion, NIL_GUID,
};

use super::config::SiteEndpoint;
use crate::core::{
    DeviceId, DeviceResult, DeviceState, RecorderId, RecorderOp, Reply, SoapFault, TransportError,
    MICROS,
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
}

/// SOAP client of one site. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct SoapClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    site: String,
    login_url: String,
    endpoint: LoginEndpoint,
    recorder_urls: Vec<String>,
    username: String,
    password: String,
}

impl std::fmt::Debug for SoapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoapClient")
            .field("site", &self.inner.site)
            .field("login_url", &self.inner.login_url)
            .field("recorder_urls", &self.inner.recorder_urls)
            .finish_non_exhaustive()
    }
}

impl SoapClient {
    /// Builds the site's client. Fails only on a bad `tls_ca_pem`.
    ///
    /// System proxy variables are ignored: recorders are reached directly.
    pub fn new(site: &SiteEndpoint) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90));
        if let Some(pem) = &site.tls_ca_pem {
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
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| ClientError::Build {
            site: site.name.clone(),
            reason: e.to_string(),
        })?;
        let recorder_urls = (0..site.recorder_urls.len())
            .filter_map(|r| site.recorder_url(r))
            .collect();
        Ok(SoapClient {
            inner: Arc::new(Inner {
                http,
                site: site.name.clone(),
                login_url: site.login_url(),
                endpoint: site.auth.login_endpoint(),
                recorder_urls,
                username: site.username.clone(),
                password: site.password.clone(),
            }),
        })
    }

    /// The site's name.
    pub fn site(&self) -> &str {
        &self.inner.site
    }

    /// `Login` on the management server (renewing `current_token` if given).
    /// Answers [`Reply::LoggedIn`] (TTL converted to nanoseconds) or
    /// [`Reply::Fault`].
    pub async fn login(&self, current_token: Option<&str>) -> Result<Reply, TransportError> {
        let inner = &*self.inner;
        let version = inner.endpoint.soap_version();
        let body = encode_login_request(
            version,
            &LoginRequest {
                instance_id: NIL_GUID.to_owned(),
                current_token: current_token.map(str::to_owned),
            },
        );
        tracing::debug!(site = %inner.site, renew = current_token.is_some(), "login");
        let request = inner
            .http
            .post(&inner.login_url)
            .basic_auth(&inner.username, Some(&inner.password));
        let (status, text) = self
            .post(request, version, inner.endpoint.soap_action(), body)
            .await?;
        match decode_login_response(&text) {
            Ok(Ok(result)) => Ok(Reply::LoggedIn {
                token: result.token,
                ttl: result.time_to_live_micros.saturating_mul(MICROS),
            }),
            Ok(Err(fault)) => Ok(fault_reply(&inner.site, fault)),
            Err(e) => Err(undecodable(&inner.site, status, &text, e)),
        }
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
        let device_ids: Vec<String> = devices.iter().map(|d| d.as_str().to_owned()).collect();
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
    async fn post(
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
        let site = &self.inner.site;
        let response = request.send().await.map_err(|e| classify(site, &e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| classify(site, &e))?;
        if status.is_success() || decode_fault(&text).is_ok() {
            Ok((status.as_u16(), text))
        } else {
            tracing::debug!(site = %site, status = status.as_u16(), "HTTP error without a SOAP fault");
            Err(TransportError::Http(status.as_u16()))
        }
    }
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

fn fault_reply(site: &str, fault: Fault) -> Reply {
    tracing::debug!(site, %fault, token = fault.is_token_fault(), "SOAP fault");
    Reply::Fault(SoapFault {
        token_invalid: fault.is_token_fault(),
        message: fault.to_string(),
    })
}

fn undecodable(site: &str, status: u16, text: &str, e: xprotect::DecodeError) -> TransportError {
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

fn classify(site: &str, e: &reqwest::Error) -> TransportError {
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
