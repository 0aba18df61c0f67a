//! HTTP authentication as the management server's IIS front does it:
//! parsing `Authorization`, HTTP Basic, bearer tokens, and the 401 answers
//! with their `WWW-Authenticate` challenges. Windows authentication (NTLM,
//! bare or inside SPNEGO) lives in `windows_auth.rs` and is re-exported
//! here.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::state::Shared;
use crate::recorder::LoginRefused;

pub(crate) use super::windows_auth::{windows, with_final_challenge, WindowsAuth};

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

/// Logs a refused login (never the password).
pub(crate) fn log_refusal(shared: &Shared, user: &str, e: LoginRefused) {
    tracing::info!(site = %shared.site_name, user, reason = %e, "login refused");
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
