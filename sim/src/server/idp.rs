//! The identity provider of a mock site: `POST /IDP/connect/token` (also
//! `/API/IDP/connect/token`, paths case-insensitive like IIS) and its
//! discovery document, and [`bearer`], the check every bearer-protected
//! endpoint uses (the OAuth SOAP login; the configuration REST API).
//!
//! Grants as real sites take them (`docs/mock-site.md`): `password` (user name and password
//! in the form) and `windows_credentials` (NTLM on the request, see
//! `auth.rs`), `client_id=GrantValidatorClient`. Answers are JSON; a wrong
//! password or a locked account answers 400 `invalid_grant`, a malformed
//! request 400 with the OAuth error it is. Tokens are the model's (lockout
//! and token lifetime live there); a random per-site secret is appended so
//! that they cannot be guessed from the outside.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use xprotect::idp::JSON_CONTENT_TYPE;
use xprotect::{
    decode_token_request, encode_oauth_error, encode_token_response, AccessToken, OAuthError,
    TokenRequest, IDP_CLIENT_ID,
};

use super::auth::{self, Authorization, WindowsAuth};
use super::listener::ConnCtx;
use super::state::Shared;

/// A JSON answer with the headers OAuth requires on token responses.
fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, JSON_CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store, no-cache, max-age=0"),
            (header::PRAGMA, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn oauth_error(e: &OAuthError) -> Response {
    json(StatusCode::BAD_REQUEST, encode_oauth_error(e))
}

/// 405 on an identity-provider path, as an OAuth JSON error like its other
/// answers, with `Allow: expected`.
pub(crate) fn method_not_allowed(expected: &'static str) -> Response {
    let mut r = json(
        StatusCode::METHOD_NOT_ALLOWED,
        encode_oauth_error(&OAuthError::new(
            "invalid_request",
            format!("method not allowed: expected {expected}"),
        )),
    );
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(expected));
    r
}

/// `POST …/connect/token`; returns the answer and a log outcome.
pub(crate) fn token(
    shared: &Shared,
    conn: Option<&ConnCtx>,
    headers: &HeaderMap,
    body: &str,
) -> (Response, String) {
    // IIS authenticates a request carrying Windows credentials before the
    // identity provider sees it: the NEGOTIATE leg (whose body is empty
    // with curl, which sends the form on the AUTHENTICATE leg only) is
    // answered with the challenge whatever the body holds, and a failed
    // handshake with a 401.
    let mut windows = None;
    if let Authorization::Ntlm { .. } = auth::authorization(headers) {
        match auth::windows(shared, conn, headers) {
            WindowsAuth::Authenticated {
                user,
                final_challenge,
            } => windows = Some((user, final_challenge)),
            WindowsAuth::Respond(r) => return (r, "NTLM handshake".into()),
        }
    }
    let (r, outcome) = grant(shared, conn, headers, body, &mut windows);
    let final_challenge = windows.and_then(|(_, f)| f);
    (auth::with_final_challenge(r, final_challenge), outcome)
}

/// The token request itself, once any Windows handshake is done
/// (`windows`: the account it authenticated).
fn grant(
    shared: &Shared,
    conn: Option<&ConnCtx>,
    headers: &HeaderMap,
    body: &str,
    windows: &mut Option<(String, Option<header::HeaderValue>)>,
) -> (Response, String) {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(xprotect::idp::FORM_CONTENT_TYPE)
        });
    if !form {
        let e = OAuthError::new(
            "invalid_request",
            "expected Content-Type application/x-www-form-urlencoded",
        );
        return (oauth_error(&e), "not a form".into());
    }
    let request = match decode_token_request(body) {
        Ok(r) => r,
        Err(e) => return (oauth_error(&e), format!("bad request: {}", e.error)),
    };
    if request.client_id() != IDP_CLIENT_ID {
        let e = OAuthError::new("invalid_client", "unknown client_id");
        return (oauth_error(&e), "unknown client".into());
    }
    let user = match &request {
        TokenRequest::Password {
            username, password, ..
        } => match shared.with_model(|m, now| m.check_credentials(now, username, password)) {
            Ok(()) => username.clone(),
            Err(e) => {
                auth::log_refusal(shared, username, e);
                return (
                    oauth_error(&OAuthError::invalid_grant()),
                    "invalid_grant".into(),
                );
            }
        },
        TokenRequest::WindowsCredentials { .. } => match windows {
            Some((user, _)) => user.clone(),
            // No Windows credentials on the request: the challenge.
            None => match auth::windows(shared, conn, headers) {
                WindowsAuth::Authenticated {
                    user,
                    final_challenge,
                } => {
                    *windows = Some((user.clone(), final_challenge));
                    user
                }
                WindowsAuth::Respond(r) => return (r, "NTLM handshake".into()),
            },
        },
    };
    let grant = shared.with_model(|m, now| m.accounts_mut().issue_access_token(now, &user));
    let token = format!("{}.{}", grant.token, shared.token_secret);
    let expires_in = (grant.ttl / 1_000_000_000).max(1);
    (
        json(
            StatusCode::OK,
            encode_token_response(&AccessToken::bearer(token, expires_in)),
        ),
        format!("token issued to {user}"),
    )
}

/// `GET /IDP/.well-known/openid-configuration`, enough for clients that
/// check for an identity provider before using it.
pub(crate) fn discovery(base: &str) -> Response {
    let doc = serde_json::json!({
        "issuer": format!("{base}/IDP"),
        "token_endpoint": format!("{base}/IDP/connect/token"),
        "grant_types_supported": ["password", "windows_credentials"],
        "scopes_supported": ["managementserver", "openid"],
        "server_version": "25.2",
    });
    json(StatusCode::OK, doc.to_string())
}

/// The account a request's `Authorization: Bearer` token belongs to, or
/// the 401 to answer (`WWW-Authenticate: Bearer`, with `invalid_token` for
/// a token that is unknown or expired).
pub(crate) fn bearer(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Response>> {
    let token = match auth::authorization(headers) {
        Authorization::Bearer(t) => t,
        _ => {
            return Err(Box::new(auth::unauthorized(
                &["Bearer"],
                "a bearer token from the identity provider is required",
            )))
        }
    };
    let model_token = token
        .strip_suffix(&format!(".{}", shared.token_secret))
        .unwrap_or("");
    shared
        .with_model(|m, now| m.accounts().check_access_token(now, model_token).map(str::to_owned))
        .ok_or_else(|| {
            Box::new(auth::unauthorized(
                &["Bearer error=\"invalid_token\", error_description=\"The access token is not valid\""],
                "the bearer token is invalid or expired",
            ))
        })
}
