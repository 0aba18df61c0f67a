//! [`LiveSite`]: the acceptance run's own SOAP client of one live site —
//! Login (with the HTTP `Date` header and timing, for the clock offset),
//! and any RecorderCommandService operation (IsManualRecording,
//! SequencesGetTypes, SequencesGet, and Stop for the Ctrl-C clean-up).
//!
//! Logging in is the engine's own ([`SoapClient::login_exchange`]): the
//! same identity-provider, OAuth, NTLM and legacy SOAP logins and the same
//! TLS trust (pinned certificate, extra CAs) as `dualrec engine`, so
//! acceptance proves the engine's way in. Acceptance also reads footage
//! and clocks, which the engine never asks for, so recorder calls go
//! through the same `xprotect` codec over the client's HTTP connection
//! pool. Never logs passwords or tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::core::{Reply, TransportError};
use engine::runtime::{SiteEndpoint, SoapClient};
use xprotect::{
    decode_fault, decode_recorder_response, encode_recorder_request, LoginResult, RecorderRequest,
    RecorderResponse, SoapVersion, UtcTime,
};

/// Time limit of one call of the acceptance run.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Time limit of a login: up to three round trips (identity provider or
/// NTLM handshake, then the SOAP `Login`).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(15);

/// A successful Login and what it tells about the site's clock.
#[derive(Debug, Clone)]
pub struct LoginProbe {
    pub result: LoginResult,
    /// Wall clock (UTC) when the SOAP `Login` was sent and the answer came back.
    pub sent: UtcTime,
    pub received: UtcTime,
    /// Round trip of the SOAP `Login` call.
    pub elapsed: Duration,
    /// The answer's HTTP `Date` header, if any (1 s resolution).
    pub date_header: Option<UtcTime>,
}

/// One live site.
#[derive(Clone)]
pub struct LiveSite {
    pub endpoint: SiteEndpoint,
    client: SoapClient,
}

impl std::fmt::Debug for LiveSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSite")
            .field("site", &self.endpoint.name)
            .finish_non_exhaustive()
    }
}

fn utc(t: SystemTime) -> UtcTime {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    };
    UtcTime::from_unix_nanos(nanos)
}

impl LiveSite {
    /// A client for `endpoint`, trusting what the engine would trust.
    pub fn new(endpoint: &SiteEndpoint) -> Result<Self, String> {
        let client = SoapClient::new(endpoint).map_err(|e| e.to_string())?;
        Ok(LiveSite {
            endpoint: endpoint.clone(),
            client,
        })
    }

    /// The site's name.
    pub fn name(&self) -> &str {
        &self.endpoint.name
    }

    /// Logs in; `Err` says why not (unreachable, untrusted certificate,
    /// refused credentials, fault).
    pub async fn login(&self) -> Result<LoginProbe, String> {
        let url = self.endpoint.login_url();
        let answer = tokio::time::timeout(LOGIN_TIMEOUT, self.client.login_exchange(None))
            .await
            .map_err(|_| format!("login at {url}: no answer in {LOGIN_TIMEOUT:?}"))?;
        match answer {
            Ok(Ok(x)) => Ok(LoginProbe {
                result: x.result,
                sent: utc(x.sent),
                received: utc(x.received),
                elapsed: x.elapsed,
                date_header: x.date_header.as_deref().and_then(parse_http_date),
            }),
            Ok(Err(Reply::CredentialsRejected { message })) => Err(format!(
                "login refused: {message}: check username and password"
            )),
            Ok(Err(Reply::Fault(f))) => Err(format!("login answered a SOAP fault: {}", f.message)),
            Ok(Err(other)) => Err(format!("login answered {other:?}")),
            Err(TransportError::Malformed(why)) => Err(format!("login at {url}: {why}")),
            Err(e) => Err(format!("login at {url}: {e}")),
        }
    }

    /// One RecorderCommandService call on `recorder`.
    pub async fn call(
        &self,
        recorder: usize,
        request: &RecorderRequest,
    ) -> Result<RecorderResponse, CallError> {
        let plain = |message: String| CallError {
            token: false,
            message,
        };
        let url = self.endpoint.recorder_url(recorder).ok_or_else(|| {
            plain(format!(
                "site `{}` has no URL for recorder {recorder}",
                self.endpoint.name
            ))
        })?;
        let op = request.operation();
        let mut req = self
            .client
            .http()
            .post(&url)
            .timeout(CALL_TIMEOUT)
            .body(encode_recorder_request(request));
        for (k, v) in SoapVersion::V11.request_headers(op.soap_action()) {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| plain(format!("{op} at {url}: {e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| plain(format!("{op} answer: {e}")))?;
        let fault = |fault: xprotect::Fault| CallError {
            token: fault.is_token_fault(),
            message: format!("{op} answered a SOAP fault: {fault}"),
        };
        match decode_recorder_response(op, &text) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(f)) => Err(fault(f)),
            Err(e) => match decode_fault(&text) {
                Ok(f) => Err(fault(f)),
                Err(_) => Err(plain(format!(
                    "{op} answer (HTTP {status}) did not decode: {e}"
                ))),
            },
        }
    }
}

/// A recorder call that failed; `token` when the site rejected the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub token: bool,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A logged-in site: calls carry the token and log in again once when the
/// site says the token is invalid (a restarted site forgets its tokens).
#[derive(Debug)]
pub struct Session {
    pub site: LiveSite,
    token: tokio::sync::Mutex<Option<String>>,
}

impl Session {
    /// A session that logs in on first use.
    pub fn new(site: LiveSite) -> Self {
        Session {
            site,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// Uses `token` until the site rejects it.
    pub async fn set_token(&self, token: String) {
        *self.token.lock().await = Some(token);
    }

    async fn token(&self, fresh: bool) -> Result<String, String> {
        let mut guard = self.token.lock().await;
        if let (Some(t), false) = (guard.as_ref(), fresh) {
            return Ok(t.clone());
        }
        let probe = self.site.login().await?;
        *guard = Some(probe.result.token.clone());
        Ok(probe.result.token)
    }

    /// `make(token)` on `recorder`, logging in again once on a token fault.
    pub async fn call(
        &self,
        recorder: usize,
        make: impl Fn(String) -> RecorderRequest,
    ) -> Result<RecorderResponse, String> {
        let token = self.token(false).await?;
        match self.site.call(recorder, &make(token)).await {
            Err(e) if e.token => {
                let token = self.token(true).await?;
                self.site
                    .call(recorder, &make(token))
                    .await
                    .map_err(|e| e.message)
            }
            other => other.map_err(|e| e.message),
        }
    }

    /// IsManualRecording of `devices` on `recorder`: `(device, recording)`.
    pub async fn is_recording(
        &self,
        recorder: usize,
        devices: &[String],
    ) -> Result<Vec<(String, bool)>, String> {
        let r = self
            .call(recorder, |token| RecorderRequest::IsManualRecording {
                token,
                device_ids: devices.to_vec(),
            })
            .await?;
        match r {
            RecorderResponse::IsManualRecording(infos) => Ok(infos
                .into_iter()
                .map(|i| (i.device_id.to_ascii_lowercase(), i.is_manual_recording))
                .collect()),
            other => Err(format!(
                "IsManualRecording answered {:?}",
                other.operation()
            )),
        }
    }
}

/// Parses an HTTP date (`Wed, 25 Nov 2026 07:46:41 GMT`, RFC 9110 IMF-fixdate).
pub fn parse_http_date(text: &str) -> Option<UtcTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some(UtcTime::from_unix_nanos(secs.checked_mul(1_000_000_000)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Wed, 25 Nov 2026 07:46:41 GMT");
        assert_eq!(
            t.map(|t| t.format()),
            UtcTime::parse("2026-11-25T07:46:41Z")
                .ok()
                .map(|t| t.format())
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").map(|t| t.unix_nanos()),
            Some(0)
        );
        assert!(parse_http_date("yesterday").is_none());
    }
}
