//! The identity provider's token endpoint (OAuth 2, XProtect 2021 R1+):
//! the form-encoded [`TokenRequest`], the JSON [`AccessToken`] answer and
//! the JSON [`OAuthError`] answer, and their codec.
//!
//! Basic users send `grant_type=password` with `username` and `password`;
//! Windows users send `grant_type=windows_credentials` and prove who they
//! are with HTTP NTLM/Negotiate on the same request (not this module's
//! business: it knows the bodies, not the HTTP authentication). A bad
//! password answers HTTP 400 with `{"error": "invalid_grant", …}`.
//!
//! Like the rest of the crate this performs no I/O.

use serde::{Deserialize, Serialize};

use crate::consts::{GRANT_PASSWORD, GRANT_WINDOWS, IDP_CLIENT_ID};
use crate::error::{quote, DecodeError};

/// A request to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// `grant_type=password`: a basic user.
    Password {
        client_id: String,
        username: String,
        password: String,
    },
    /// `grant_type=windows_credentials`: a Windows user, authenticated by
    /// HTTP NTLM/Negotiate on the request.
    WindowsCredentials { client_id: String },
}

impl TokenRequest {
    /// A basic user's request with XProtect's client id.
    pub fn password(username: &str, password: &str) -> Self {
        TokenRequest::Password {
            client_id: IDP_CLIENT_ID.to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// A Windows user's request with XProtect's client id.
    pub fn windows() -> Self {
        TokenRequest::WindowsCredentials {
            client_id: IDP_CLIENT_ID.to_owned(),
        }
    }

    /// The request's `client_id`.
    pub fn client_id(&self) -> &str {
        match self {
            TokenRequest::Password { client_id, .. }
            | TokenRequest::WindowsCredentials { client_id } => client_id,
        }
    }
}

/// `Content-Type` of a token request.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `Content-Type` of the identity provider's answers.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Encodes a token request as `application/x-www-form-urlencoded`.
pub fn encode_token_request(request: &TokenRequest) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match request {
        TokenRequest::Password {
            client_id,
            username,
            password,
        } => {
            form.append_pair("grant_type", GRANT_PASSWORD)
                .append_pair("username", username)
                .append_pair("password", password)
                .append_pair("client_id", client_id);
        }
        TokenRequest::WindowsCredentials { client_id } => {
            form.append_pair("grant_type", GRANT_WINDOWS)
                .append_pair("client_id", client_id);
        }
    }
    form.finish()
}

/// Decodes a token request. A request the endpoint cannot take answers the
/// [`OAuthError`] an OAuth server sends (`invalid_request`,
/// `unsupported_grant_type`), ready to be encoded as the 400 answer.
pub fn decode_token_request(body: &str) -> Result<TokenRequest, OAuthError> {
    let mut grant = None;
    let mut client_id = None;
    let mut username = None;
    let mut password = None;
    for (key, value) in form_urlencoded::parse(body.as_bytes()) {
        let slot = match key.as_ref() {
            "grant_type" => &mut grant,
            "client_id" => &mut client_id,
            "username" => &mut username,
            "password" => &mut password,
            _ => continue,
        };
        if slot.is_some() {
            return Err(OAuthError::new(
                "invalid_request",
                format!("parameter `{}` given more than once", quote(&key)),
            ));
        }
        *slot = Some(value.into_owned());
    }
    let client_id = match client_id {
        Some(id) if !id.is_empty() => id,
        _ => return Err(OAuthError::new("invalid_client", "client_id is missing")),
    };
    match grant.as_deref() {
        Some(GRANT_PASSWORD) => match (username, password) {
            (Some(username), Some(password)) if !username.is_empty() => Ok(TokenRequest::Password {
                client_id,
                username,
                password,
            }),
            _ => Err(OAuthError::new(
                "invalid_request",
                "grant_type password needs username and password",
            )),
        },
        Some(GRANT_WINDOWS) => Ok(TokenRequest::WindowsCredentials { client_id }),
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!(
                "grant_type `{}` is not supported; expected `{GRANT_PASSWORD}` or `{GRANT_WINDOWS}`",
                quote(other)
            ),
        )),
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
    }
}

/// A successful answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The bearer token for the OAuth login and the REST API.
    pub access_token: String,
    /// Lifetime in seconds (3600 on real sites).
    pub expires_in: u64,
    /// `Bearer`.
    pub token_type: String,
    /// `managementserver`.
    #[serde(default)]
    pub scope: String,
}

impl AccessToken {
    /// A bearer token as real sites issue it.
    pub fn bearer(access_token: String, expires_in: u64) -> Self {
        AccessToken {
            access_token,
            expires_in,
            token_type: "Bearer".to_owned(),
            scope: "managementserver".to_owned(),
        }
    }
}

/// An OAuth error answer (`{"error": …, "error_description": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OAuthError {
    pub fn new(error: &str, description: impl Into<String>) -> Self {
        OAuthError {
            error: error.to_owned(),
            error_description: Some(description.into()),
        }
    }

    /// Wrong user name or password, or a locked account: real identity
    /// providers do not tell which.
    pub fn invalid_grant() -> Self {
        OAuthError::new("invalid_grant", "invalid_username_or_password")
    }

    /// Whether the credentials were refused (as opposed to a bad request).
    pub fn is_invalid_grant(&self) -> bool {
        self.error == "invalid_grant"
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(d) => write!(f, "{} ({d})", self.error),
            None => f.write_str(&self.error),
        }
    }
}

/// Encodes a successful answer.
pub fn encode_token_response(token: &AccessToken) -> String {
    serde_json::to_string(token).unwrap_or_else(|_| "{}".to_owned())
}

/// Encodes an error answer.
pub fn encode_oauth_error(error: &OAuthError) -> String {
    serde_json::to_string(error).unwrap_or_else(|_| "{}".to_owned())
}

/// Decodes an answer of the token endpoint: the token, or the OAuth error
/// the server sent. Anything else is a [`DecodeError::InvalidValue`].
pub fn decode_token_response(body: &str) -> Result<Result<AccessToken, OAuthError>, DecodeError> {
    if let Ok(token) = serde_json::from_str::<AccessToken>(body) {
        if token.access_token.is_empty() {
            return Err(DecodeError::invalid(
                "access_token",
                "",
                "a non-empty bearer token",
            ));
        }
        return Ok(Ok(token));
    }
    match serde_json::from_str::<OAuthError>(body) {
        Ok(error) => Ok(Err(error)),
        Err(_) => Err(DecodeError::invalid(
            "token response",
            body,
            "JSON with `access_token` and `expires_in`, or an OAuth `error`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_grant_round_trips_with_escaping() {
        let req = TokenRequest::password("dom\\svc dual", "p&ss=w+rd");
        let body = encode_token_request(&req);
        assert_eq!(
            body,
            "grant_type=password&username=dom%5Csvc+dual&password=p%26ss%3Dw%2Brd&client_id=GrantValidatorClient"
        );
        assert_eq!(decode_token_request(&body), Ok(req));
    }

    #[test]
    fn the_samples_form_decodes() {
        // What Milestone's Python sample sends, unescaped, in its own order.
        let body =
            "grant_type=password&username=admin&password=secret&client_id=GrantValidatorClient";
        assert_eq!(
            decode_token_request(body),
            Ok(TokenRequest::password("admin", "secret"))
        );
        let body = "grant_type=windows_credentials&client_id=GrantValidatorClient";
        assert_eq!(decode_token_request(body), Ok(TokenRequest::windows()));
    }

    #[test]
    fn bad_requests_answer_oauth_errors() {
        let err = |b: &str| decode_token_request(b).err().map(|e| e.error);
        assert_eq!(
            err("grant_type=password&client_id=x").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(
            err("grant_type=code&client_id=x").as_deref(),
            Some("unsupported_grant_type")
        );
        assert_eq!(
            err("grant_type=password&username=a&password=b").as_deref(),
            Some("invalid_client")
        );
        assert_eq!(err("client_id=x").as_deref(), Some("invalid_request"));
        assert_eq!(
            err("grant_type=password&grant_type=password&client_id=x").as_deref(),
            Some("invalid_request")
        );
    }

    #[test]
    fn responses_round_trip() {
        let t = AccessToken::bearer("eyJ.abc".into(), 3600);
        let json = encode_token_response(&t);
        assert_eq!(
            json,
            r#"{"access_token":"eyJ.abc","expires_in":3600,"token_type":"Bearer","scope":"managementserver"}"#
        );
        assert_eq!(decode_token_response(&json), Ok(Ok(t)));
        let e = OAuthError::invalid_grant();
        let json = encode_oauth_error(&e);
        assert_eq!(decode_token_response(&json), Ok(Err(e.clone())));
        assert!(e.is_invalid_grant());
        assert!(decode_token_response("<html/>").is_err());
        assert!(decode_token_response(
            r#"{"access_token":"","expires_in":1,"token_type":"Bearer"}"#
        )
        .is_err());
    }
}
