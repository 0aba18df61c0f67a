//! Logging in to a site, the ways XProtect 2023–2025 sites take it
//! (see `docs/site-config.md` and `docs/mock-site.md`):
//!
//! - `login = "idp"` (default): a bearer token from the identity provider
//!   (`POST /IDP/connect/token`; password grant for basic users, NTLM
//!   `windows_credentials` for Windows users), then the SOAP `Login` on
//!   `ServerCommandServiceOAuth.svc` with `Authorization: Bearer`. The
//!   token's lifetime is min(`TimeToLive`, `expires_in`), so the engine
//!   renews before either runs out.
//! - `login = "soap"`: the legacy SOAP Logins — HTTP Basic on the WCF
//!   `.svc` endpoint, or NTLM on the ASMX endpoint for Windows users.
//!
//! A refused credential (401 after a complete handshake, `invalid_grant`, a
//! token fault on a fresh login) answers [`Reply::CredentialsRejected`]:
//! the engine treats it as a configuration error and backs off for
//! minutes, so an account is never locked out. The password is read again
//! from its file before each fresh login (hot reload).

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE};

use xprotect::idp::FORM_CONTENT_TYPE;
use xprotect::{
    decode_login_response, decode_token_response, encode_login_request, encode_token_request,
    AccessToken, LoginEndpoint, LoginRequest, LoginResult, TokenRequest, NIL_GUID,
};

use super::client::{classify, fault_reply, undecodable, SoapClient};
use super::config::{SiteAuth, SiteLogin};
use super::ntlm::{challenge_token, NtlmClient};
use crate::core::{Nanos, Reply, TransportError, MICROS, SECS};

/// Why a password file was not used.
#[derive(Debug)]
enum PasswordFileError {
    /// Others may read it or group/others may write it: refused, as at
    /// start-up, so a file made readable while running is not trusted.
    Exposed(String),
    Io(std::io::Error),
}

/// A site's password file (one trailing newline removed), refused when its
/// mode lets others read it or group or others write it (`mode & 027`).
fn read_password_file(path: &std::path::Path) -> Result<String, PasswordFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(PasswordFileError::Io)?
            .permissions()
            .mode();
        if mode & 0o027 != 0 {
            return Err(PasswordFileError::Exposed(format!(
                "password file `{}` is readable or writable by others (mode {:04o}); expected `chmod 600`",
                path.display(),
                mode & 0o7777
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(PasswordFileError::Io)?;
    let fresh = text.strip_suffix('\n').unwrap_or(&text);
    let fresh = fresh.strip_suffix('\r').unwrap_or(fresh);
    Ok(fresh.to_owned())
}

/// What a login step gave: go on, or answer the engine now.
type Step<T> = Result<Result<T, Reply>, TransportError>;

fn rejected(message: impl Into<String>) -> Reply {
    Reply::CredentialsRejected {
        message: message.into(),
    }
}

/// A successful login as a diagnostic client (the acceptance run) sees it:
/// the site's `LoginResult` and the timing of the final SOAP `Login`
/// exchange (after any identity-provider or NTLM round trips), for clock
/// offsets.
#[derive(Debug, Clone)]
pub struct LoginExchange {
    pub result: LoginResult,
    /// The token's lifetime as the engine uses it: min(`TimeToLive`,
    /// the identity provider's `expires_in`).
    pub ttl: Nanos,
    /// Wall clock when the final SOAP `Login` was sent and answered.
    pub sent: SystemTime,
    pub received: SystemTime,
    /// Its round trip.
    pub elapsed: Duration,
    /// Its answer's HTTP `Date` header, as sent.
    pub date_header: Option<String>,
}

impl SoapClient {
    /// Logs in (renewing `current_token` if given). Answers
    /// [`Reply::LoggedIn`] (lifetime in nanoseconds), [`Reply::Fault`] or
    /// [`Reply::CredentialsRejected`].
    pub async fn login(&self, current_token: Option<&str>) -> Result<Reply, TransportError> {
        Ok(match self.login_exchange(current_token).await? {
            Ok(x) => Reply::LoggedIn {
                token: x.result.token,
                ttl: x.ttl,
            },
            Err(reply) => reply,
        })
    }

    /// Logs in like [`SoapClient::login`], answering the whole
    /// [`LoginExchange`] on success and the engine's [`Reply`]
    /// ([`Reply::Fault`], [`Reply::CredentialsRejected`]) otherwise.
    pub async fn login_exchange(
        &self,
        current_token: Option<&str>,
    ) -> Result<Result<LoginExchange, Reply>, TransportError> {
        let password = self.current_password();
        let ep = &self.inner().endpoint;
        let user = ep.username.as_str();
        tracing::debug!(site = %self.site(), user, login = ?ep.login, auth = ?ep.auth,
            renew = current_token.is_some(), "login");
        let (request_for, endpoint, expires_in): (_, LoginEndpoint, Option<u64>) = match ep.login {
            SiteLogin::Idp => {
                let access = match self.idp_token(user, &password).await? {
                    Ok(a) => a,
                    Err(reply) => return Ok(Err(reply)),
                };
                let bearer = access.access_token.clone();
                (
                    Auth::Bearer(bearer),
                    LoginEndpoint::OAuth,
                    Some(access.expires_in),
                )
            }
            SiteLogin::Soap => match ep.auth {
                SiteAuth::Basic => (Auth::Basic, LoginEndpoint::Basic, None),
                SiteAuth::Windows => (Auth::Ntlm, LoginEndpoint::Windows, None),
            },
        };
        let answer = self
            .soap_login(endpoint, request_for, user, &password, current_token)
            .await?;
        Ok(match answer {
            Ok(mut x) => {
                if let Some(s) = expires_in {
                    x.ttl = x.ttl.min(s.saturating_mul(SECS));
                }
                Ok(x)
            }
            Err(Reply::Fault(f)) if f.token_invalid && current_token.is_none() => Err(rejected(
                format!("the site refused a fresh login: {}", f.message),
            )),
            Err(other) => Err(other),
        })
    }

    /// The password to log in with: the file's current content if the
    /// password came from a file (kept as before if it cannot be read).
    pub(super) fn current_password(&self) -> String {
        let inner = self.inner();
        let mut kept = inner.password.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = &inner.endpoint.password_file {
            match read_password_file(path) {
                Ok(fresh) => {
                    if *kept != fresh {
                        tracing::info!(site = %inner.site, "password file changed; using the new password");
                        *kept = fresh;
                    }
                }
                Err(PasswordFileError::Exposed(why)) => {
                    tracing::error!(site = %inner.site, "{why}; refusing it and using the password read before");
                }
                Err(PasswordFileError::Io(e)) => {
                    tracing::warn!(site = %inner.site, file = %path.display(), error = %e,
                        "cannot read the password file; using the password read before");
                }
            }
        }
        kept.clone()
    }

    /// Whether the password file now holds something else than the password
    /// the last login used (the driver then lifts a credential back-off).
    pub fn password_changed(&self) -> bool {
        let inner = self.inner();
        let Some(path) = &inner.endpoint.password_file else {
            return false;
        };
        // An exposed file is refused (and logged) when the login reads it.
        let Ok(fresh) = read_password_file(path) else {
            return false;
        };
        *inner.password.lock().unwrap_or_else(|e| e.into_inner()) != fresh
    }

    /// A bearer token from the identity provider.
    pub(super) async fn idp_token(&self, user: &str, password: &str) -> Step<AccessToken> {
        let inner = self.inner();
        let url = inner.endpoint.idp_url();
        let windows = inner.endpoint.auth == SiteAuth::Windows;
        let form = if windows {
            encode_token_request(&TokenRequest::windows())
        } else {
            encode_token_request(&TokenRequest::password(user, password))
        };
        let build = |c: &reqwest::Client| {
            c.post(&url)
                .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
                .header(ACCEPT, "application/json")
                .body(form.clone())
        };
        let response = if windows {
            match self.ntlm_send(build, user, password).await? {
                Ok((r, _, _)) => r,
                Err(reply) => return Ok(Err(reply)),
            }
        } else {
            self.send(build(&inner.http)).await?
        };
        let status = response.status();
        let site = &inner.site;
        let text = response.text().await.map_err(|e| classify(site, &e))?;
        match decode_token_response(&text) {
            Ok(Ok(token)) if status.is_success() => Ok(Ok(token)),
            Ok(Err(e)) if status.as_u16() == 400 => {
                // invalid_grant (wrong password, locked account) and
                // invalid_client alike: the configuration must change.
                Ok(Err(rejected(format!("identity provider: {e}"))))
            }
            _ if status.as_u16() == 401 => Ok(Err(rejected(
                "identity provider: Windows authentication (NTLM) failed",
            ))),
            _ if status.is_success() => Err(TransportError::Malformed(format!(
                "identity provider answered 200 without a token ({} bytes)",
                text.len()
            ))),
            _ => {
                if status.as_u16() == 404 {
                    tracing::warn!(site = %site, "the site has no identity provider (404); \
                        for sites older than XProtect 2021 R1 set login = \"soap\"");
                }
                Err(TransportError::Http(status.as_u16()))
            }
        }
    }

    /// The SOAP `Login` on `endpoint`, authenticated as `auth` says.
    async fn soap_login(
        &self,
        endpoint: LoginEndpoint,
        auth: Auth,
        user: &str,
        password: &str,
        current_token: Option<&str>,
    ) -> Step<LoginExchange> {
        let inner = self.inner();
        let version = endpoint.soap_version();
        let body = encode_login_request(
            version,
            &LoginRequest {
                instance_id: NIL_GUID.to_owned(),
                current_token: current_token.map(str::to_owned),
            },
        );
        let url = format!(
            "{}{}",
            inner.endpoint.management_url.trim_end_matches('/'),
            endpoint.path()
        );
        let build = |c: &reqwest::Client| {
            let mut r = c.post(&url).body(body.clone());
            for (name, value) in version.request_headers(endpoint.soap_action()) {
                r = r.header(name, value);
            }
            match &auth {
                Auth::Basic => r.basic_auth(user, Some(password)),
                Auth::Bearer(t) => r.bearer_auth(t),
                Auth::Ntlm => r,
            }
        };
        let (response, sent, t0) = match auth {
            Auth::Ntlm => match self.ntlm_send(build, user, password).await? {
                Ok(timed) => timed,
                Err(reply) => return Ok(Err(reply)),
            },
            _ => {
                let (sent, t0) = (SystemTime::now(), Instant::now());
                (self.send(build(&inner.http)).await?, sent, t0)
            }
        };
        let status = response.status();
        let date_header = response
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let site = &inner.site;
        let text = response.text().await.map_err(|e| classify(site, &e))?;
        let (received, elapsed) = (SystemTime::now(), t0.elapsed());
        if status.as_u16() == 401 {
            return Ok(Err(rejected(match endpoint {
                LoginEndpoint::OAuth => "the OAuth login refused a fresh bearer token (401)",
                LoginEndpoint::Windows => "Windows authentication (NTLM) failed (401)",
                LoginEndpoint::Basic => "user name or password refused (401)",
            })));
        }
        match decode_login_response(&text) {
            Ok(Ok(result)) if status.is_success() => Ok(Ok(LoginExchange {
                ttl: result.time_to_live_micros.saturating_mul(MICROS) as Nanos,
                result,
                sent,
                received,
                elapsed,
                date_header,
            })),
            Ok(Err(fault)) => Ok(Err(fault_reply(site, fault))),
            Ok(Ok(_)) => Err(TransportError::Http(status.as_u16())),
            Err(e) if status.is_success() => Err(undecodable(site, status.as_u16(), &text, e)),
            Err(_) => Err(TransportError::Http(status.as_u16())),
        }
    }

    /// Sends a request with NTLM authentication: NEGOTIATE, the server's
    /// CHALLENGE in a 401, AUTHENTICATE — all on one connection.
    /// Returns the final response (401 there means refused credentials)
    /// with the wall clock and instant its request was sent at.
    async fn ntlm_send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        user: &str,
        password: &str,
    ) -> Step<(reqwest::Response, SystemTime, Instant)> {
        let client = self.one_connection_client()?;
        let host = reqwest::Url::parse(&self.inner().endpoint.management_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        let b64 = |t: &[u8]| base64::engine::general_purpose::STANDARD.encode(t);
        let mut ntlm = match NtlmClient::new(user, password, &host) {
            Ok(n) => n,
            Err(e) => {
                return Ok(Err(rejected(format!(
                    "cannot use the user name for NTLM: {e}"
                ))))
            }
        };
        let negotiate = ntlm
            .negotiate()
            .map_err(|e| TransportError::Malformed(e.to_string()))?;
        let (sent, t0) = (SystemTime::now(), Instant::now());
        let first = self
            .send(build(&client).header(AUTHORIZATION, format!("NTLM {}", b64(&negotiate))))
            .await?;
        if first.status().as_u16() != 401 {
            return Ok(Ok((first, sent, t0)));
        }
        let Some(challenge) = challenge_token(first.headers()) else {
            return Ok(Err(rejected(
                "the site answered 401 without an NTLM challenge (is Windows authentication on?)",
            )));
        };
        // Read the 401's body so its connection goes back to the pool.
        let _ = first.bytes().await;
        let authenticate = ntlm
            .authenticate(challenge)
            .map_err(|e| TransportError::Malformed(e.to_string()))?;
        let (sent, t0) = (SystemTime::now(), Instant::now());
        let second = self
            .send(build(&client).header(AUTHORIZATION, format!("NTLM {}", b64(&authenticate))))
            .await?;
        Ok(Ok((second, sent, t0)))
    }
}

/// How a SOAP Login request is authenticated.
enum Auth {
    Basic,
    Ntlm,
    Bearer(String),
}

#[cfg(all(test, unix))]
mod tests {
    use super::{read_password_file, PasswordFileError};
    use std::os::unix::fs::PermissionsExt;

    fn file_with_mode(dir: &std::path::Path, mode: u32) -> std::path::PathBuf {
        let path = dir.join(format!("pw-{mode:o}"));
        std::fs::write(&path, "s3cret\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn a_password_file_others_may_read_or_write_is_refused_on_every_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        for mode in [0o600, 0o400, 0o640] {
            let path = file_with_mode(dir.path(), mode);
            assert_eq!(read_password_file(&path).expect("private file"), "s3cret");
        }
        for mode in [0o644, 0o604, 0o660, 0o622, 0o666] {
            let path = file_with_mode(dir.path(), mode);
            match read_password_file(&path) {
                Err(PasswordFileError::Exposed(why)) => {
                    assert!(why.contains(&path.display().to_string()), "{why}");
                    assert!(why.contains(&format!("{mode:04o}")), "{why}");
                    assert!(!why.contains("s3cret"), "{why}");
                }
                other => panic!("mode {mode:o}: expected a refusal, got {other:?}"),
            }
        }
        match read_password_file(&dir.path().join("missing")) {
            Err(PasswordFileError::Io(_)) => {}
            other => panic!("a missing file: expected an I/O error, got {other:?}"),
        }
    }
}
