//! HTTP authentication as the management server's IIS front does it:
//! parsing `Authorization`, HTTP Basic, NTLM (under the `NTLM` and
//! `Negotiate` schemes) verified for real, bearer tokens, and the 401
//! answers with their `WWW-Authenticate` challenges.
//!
//! NTLM is connection-bound: the NEGOTIATE message gets a CHALLENGE in a
//! 401, and the AUTHENTICATE message must follow on the same connection;
//! the handshake state lives in the connection's [`ConnCtx`]. The NTLMv2
//! response is verified by the `sspi` crate against the site user's
//! password — its MIC by `sspi`, its NTProofStr by `ntlm_proof.rs`, as a
//! domain controller does; the wire user name is then checked against the
//! account (and the attempt counted toward lockout) by the model's
//! [`Accounts`](crate::recorder::Accounts). SPNEGO-wrapped Kerberos tokens
//! are not supported: such a client is answered with a plain `NTLM`
//! challenge, which every Windows client falls back to.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sspi::{
    AuthIdentity, BufferType, CredentialUse, DataRepresentation, Ntlm, SecurityBuffer,
    SecurityStatus, ServerRequestFlags, Sspi, SspiImpl, Username,
};

use super::listener::ConnCtx;
use super::state::Shared;
use crate::recorder::LoginRefused;

const NTLM_SIGNATURE: &[u8] = b"NTLMSSP\0";

/// What the `Authorization` header holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authorization {
    None,
    Basic {
        user: String,
        password: String,
    },
    /// A token under `NTLM` or `Negotiate` (`scheme` as the client wrote it).
    Ntlm {
        scheme: String,
        token: Vec<u8>,
    },
    Bearer(String),
    /// Anything else, or undecodable.
    Other,
}

pub(crate) fn authorization(headers: &HeaderMap) -> Authorization {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Authorization::None;
    };
    let Ok(value) = value.to_str() else {
        return Authorization::Other;
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
    if scheme.eq_ignore_ascii_case("basic") {
        let Some(text) = b64(rest).and_then(|d| String::from_utf8(d).ok()) else {
            return Authorization::Other;
        };
        return match text.split_once(':') {
            Some((user, password)) => Authorization::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
            },
            None => Authorization::Other,
        };
    }
    if scheme.eq_ignore_ascii_case("ntlm") || scheme.eq_ignore_ascii_case("negotiate") {
        return match b64(rest) {
            Some(token) => Authorization::Ntlm {
                scheme: scheme.to_owned(),
                token,
            },
            None => Authorization::Other,
        };
    }
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Authorization::Bearer(rest.to_owned());
    }
    Authorization::Other
}

/// A 401 with the given challenges (one `WWW-Authenticate` header each)
/// and an IIS-like body.
pub(crate) fn unauthorized(challenges: &[&str], body: &str) -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=us-ascii")],
        format!(
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><HTML><HEAD><TITLE>Not Authorized</TITLE></HEAD>\
             <BODY><h2>Not Authorized</h2><hr><p>HTTP Error 401. {body}</p></BODY></HTML>"
        ),
    )
        .into_response();
    for c in challenges {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

/// The challenges of a Windows-authenticated endpoint (IIS order).
pub(crate) const WINDOWS_CHALLENGES: [&str; 2] = ["Negotiate", "NTLM"];

/// The challenge of a Basic endpoint.
pub(crate) const BASIC_CHALLENGE: &str = "Basic realm=\"XProtect\"";

/// Outcome of Windows authentication on one request.
pub(crate) enum WindowsAuth {
    /// The handshake completed: the account that logged in.
    Authenticated(String),
    /// Not (yet) authenticated: answer this (a 401 with a challenge).
    Respond(Response),
}

/// The per-connection NTLM server state between NEGOTIATE and AUTHENTICATE.
struct Handshake {
    ntlm: Ntlm,
    creds: Option<sspi::AuthIdentityBuffers>,
    /// The site user's password and the challenge sent, for the NTProofStr check.
    password: String,
    server_challenge: [u8; 8],
}

/// Runs one step of NTLM server authentication for a request on a
/// Windows-authenticated endpoint.
pub(crate) fn windows(shared: &Shared, conn: Option<&ConnCtx>, headers: &HeaderMap) -> WindowsAuth {
    let refuse = |why: &str| {
        WindowsAuth::Respond(unauthorized(
            &WINDOWS_CHALLENGES,
            &format!("Windows authentication (NTLM) required: {why}"),
        ))
    };
    let (scheme, token) = match authorization(headers) {
        Authorization::Ntlm { scheme, token } => (scheme, token),
        Authorization::None => return refuse("no credentials"),
        _ => return refuse("this endpoint takes NTLM or Negotiate only"),
    };
    let Some(conn) = conn else {
        return refuse("no connection state");
    };
    if !token.starts_with(NTLM_SIGNATURE) || token.len() < 12 {
        // SPNEGO (Kerberos) is not spoken here: ask for plain NTLM.
        return WindowsAuth::Respond(unauthorized(
            &["NTLM"],
            "only NTLM is supported; send an NTLMSSP token",
        ));
    }
    let kind = u32::from_le_bytes([token[8], token[9], token[10], token[11]]);
    let mut slot = conn.handshake.lock().unwrap_or_else(|e| e.into_inner());
    match kind {
        1 => {
            let (user, password) = shared.with_model(|m, _| {
                let (u, p) = m.accounts().credentials();
                (u.to_owned(), p.to_owned())
            });
            match negotiate(&user, &password, token) {
                Ok((hs, challenge)) => {
                    *slot = Some(Box::new(hs));
                    let value = format!(
                        "{scheme} {}",
                        base64::engine::general_purpose::STANDARD.encode(challenge)
                    );
                    WindowsAuth::Respond(unauthorized(&[&value], "NTLM challenge"))
                }
                Err(e) => {
                    *slot = None;
                    tracing::debug!(site = %shared.site_name, error = %e, "bad NTLM NEGOTIATE");
                    refuse("malformed NTLM NEGOTIATE message")
                }
            }
        }
        3 => {
            let Some(hs) = slot.take().and_then(|b| b.downcast::<Handshake>().ok()) else {
                return refuse("NTLM AUTHENTICATE without a NEGOTIATE on this connection");
            };
            drop(slot);
            let (name, verified) = authenticate(*hs, token);
            let outcome =
                shared.with_model(|m, now| m.accounts_mut().verified_login(now, &name, verified));
            match outcome {
                Ok(()) => WindowsAuth::Authenticated(name),
                Err(e) => {
                    log_refusal(shared, &name, e);
                    refuse("logon failed")
                }
            }
        }
        _ => refuse("unexpected NTLM message"),
    }
}

/// Logs a refused login (never the password).
pub(crate) fn log_refusal(shared: &Shared, user: &str, e: LoginRefused) {
    tracing::info!(site = %shared.site_name, user, reason = %e, "login refused");
}

fn negotiate(user: &str, password: &str, token: Vec<u8>) -> Result<(Handshake, Vec<u8>), String> {
    let mut ntlm = Ntlm::new();
    let account = crate::recorder::account_key(user);
    let identity = AuthIdentity {
        username: Username::new(&account, None).map_err(|e| e.to_string())?,
        password: password.to_owned().into(),
    };
    let acquired = ntlm
        .acquire_credentials_handle()
        .with_credential_use(CredentialUse::Inbound)
        .with_auth_data(&identity)
        .execute(&mut ntlm)
        .map_err(|e| e.to_string())?;
    let mut creds = acquired.credentials_handle;
    let mut input = vec![SecurityBuffer::new(token, BufferType::Token)];
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let builder = ntlm
        .accept_security_context()
        .with_credentials_handle(&mut creds)
        .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let result = ntlm
        .accept_security_context_impl(builder)
        .and_then(|mut g| g.resolve_to_result())
        .map_err(|e| e.to_string())?;
    if result.status != SecurityStatus::ContinueNeeded {
        return Err(format!(
            "unexpected status {:?} after NEGOTIATE",
            result.status
        ));
    }
    let challenge = std::mem::take(&mut output[0].buffer);
    let server_challenge = super::ntlm_proof::server_challenge(&challenge)
        .ok_or_else(|| "the CHALLENGE message has no server challenge".to_owned())?;
    Ok((
        Handshake {
            ntlm,
            creds,
            password: password.to_owned(),
            server_challenge,
        },
        challenge,
    ))
}

/// Verifies the AUTHENTICATE message: the wire user name and whether its
/// NTLMv2 response proves the site user's password.
fn authenticate(mut hs: Handshake, token: Vec<u8>) -> (String, bool) {
    let proof = super::ntlm_proof::proves_password(&token, &hs.server_challenge, &hs.password);
    let mut input = vec![SecurityBuffer::new(token, BufferType::Token)];
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let builder = hs
        .ntlm
        .accept_security_context()
        .with_credentials_handle(&mut hs.creds)
        .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
        .with_target_data_representation(DataRepresentation::Native)
        .with_input(&mut input)
        .with_output(&mut output);
    let status = hs
        .ntlm
        .accept_security_context_impl(builder)
        .and_then(|mut g| g.resolve_to_result())
        .map(|r| r.status);
    let verified = match status {
        Ok(SecurityStatus::CompleteNeeded | SecurityStatus::CompleteAndContinue) => {
            hs.ntlm.complete_auth_token(&mut output).is_ok()
        }
        Ok(SecurityStatus::Ok) => true,
        Ok(other) => {
            tracing::debug!(?other, "unexpected NTLM status after AUTHENTICATE");
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, "NTLM AUTHENTICATE refused");
            false
        }
    };
    let name = hs
        .ntlm
        .query_context_names()
        .map(|n| n.username.inner().to_owned())
        .unwrap_or_default();
    if verified && !proof {
        tracing::debug!(user = %name, "NTLMv2 response does not prove the password");
    }
    (name, verified && proof)
}

/// HTTP Basic on a login endpoint: the user if the password is right and
/// the account not locked; otherwise the 401 to answer.
pub(crate) fn basic(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Response>> {
    let challenge = || {
        unauthorized(
            &[BASIC_CHALLENGE],
            "HTTP Basic credentials of a site user expected",
        )
    };
    match authorization(headers) {
        Authorization::Basic { user, password } => {
            match shared.with_model(|m, now| m.check_credentials(now, &user, &password)) {
                Ok(()) => Ok(user),
                Err(e) => {
                    log_refusal(shared, &user, e);
                    Err(Box::new(challenge()))
                }
            }
        }
        _ => Err(Box::new(challenge())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(authorization(&h), Authorization::None);
        let mut set = |v: &'static str| {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
            authorization(&h)
        };
        assert_eq!(
            set("Basic dTpwOnE="),
            Authorization::Basic {
                user: "u".into(),
                password: "p:q".into()
            }
        );
        assert_eq!(set("Basic !!!"), Authorization::Other);
        assert_eq!(set("Bearer abc"), Authorization::Bearer("abc".into()));
        assert_eq!(
            set("Negotiate TlRMTVNTUAAB"),
            Authorization::Ntlm {
                scheme: "Negotiate".into(),
                token: b"NTLMSSP\0\x01".to_vec()
            }
        );
        assert_eq!(set("Digest x"), Authorization::Other);
    }
}
