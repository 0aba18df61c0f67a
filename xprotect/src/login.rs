//! ServerCommandService `Login` on the management server: the two endpoint
//! variants, [`LoginRequest`] / [`LoginResult`], and their codec.
//!
//! Encoded messages put `Login` / `LoginResponse` in the default namespace
//! `http://videoos.net/2/XProtectCSServerCommand`. A request with no
//! `current_token` is sent with an empty `<currentToken />`, which is how
//! clients ask for a fresh token; an empty `currentToken` decodes as `None`.
//! A missing `instanceId` decodes as the all-zero GUID (what .NET gives a
//! missing `Guid`). Decoding accepts SOAP 1.1 and 1.2 on either endpoint.

use std::time::Duration;

use crate::consts::{
    LOGIN_ACTION_BASIC, LOGIN_ACTION_WINDOWS, LOGIN_PATH_BASIC, LOGIN_PATH_OAUTH,
    LOGIN_PATH_WINDOWS, NIL_GUID, SERVER_COMMAND_NS,
};
use crate::envelope::{self, SoapVersion};
use crate::error::DecodeError;
use crate::fault::{self, Fault};
use crate::fields;
use crate::time::UtcTime;
use crate::write;
use crate::xml::Element;

/// Which of the management server's two Login endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginEndpoint {
    /// Basic users: the WCF endpoint, SOAP 1.1.
    Basic,
    /// Windows users: the ASMX endpoint, where clients send SOAP 1.2.
    Windows,
    /// Any user with a bearer token from the identity provider: the WCF
    /// OAuth endpoint, SOAP 1.1, same contract as [`LoginEndpoint::Basic`].
    OAuth,
}

impl LoginEndpoint {
    /// HTTP path of the endpoint.
    pub const fn path(self) -> &'static str {
        match self {
            LoginEndpoint::Basic => LOGIN_PATH_BASIC,
            LoginEndpoint::Windows => LOGIN_PATH_WINDOWS,
            LoginEndpoint::OAuth => LOGIN_PATH_OAUTH,
        }
    }

    /// SOAPAction of Login on this endpoint.
    pub const fn soap_action(self) -> &'static str {
        match self {
            LoginEndpoint::Basic | LoginEndpoint::OAuth => LOGIN_ACTION_BASIC,
            LoginEndpoint::Windows => LOGIN_ACTION_WINDOWS,
        }
    }

    /// The SOAP version clients send to this endpoint (the site accepts both).
    pub const fn soap_version(self) -> SoapVersion {
        match self {
            LoginEndpoint::Basic | LoginEndpoint::OAuth => SoapVersion::V11,
            LoginEndpoint::Windows => SoapVersion::V12,
        }
    }
}

/// SOAPAction of Login on `endpoint`.
pub const fn soap_action_login(endpoint: LoginEndpoint) -> &'static str {
    endpoint.soap_action()
}

/// A `Login` request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginRequest {
    /// Client instance GUID; the all-zero GUID is common.
    pub instance_id: String,
    /// The token being renewed, or `None` for a fresh login.
    pub current_token: Option<String>,
}

/// The `LoginResult` of a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginResult {
    /// Opaque token for the recorder service's `token` element.
    pub token: String,
    /// When the token was issued (UTC).
    pub registration_time: UtcTime,
    /// How long the token lives after `registration_time`, in microseconds.
    pub time_to_live_micros: u64,
    /// Whether the time to live is limited at all.
    pub time_to_live_limited: bool,
}

impl LoginResult {
    /// `time_to_live_micros` as a [`Duration`].
    pub fn time_to_live(&self) -> Duration {
        Duration::from_micros(self.time_to_live_micros)
    }
}

/// Encodes a `Login` request in `version` (1.1 for the basic endpoint, 1.2
/// for the windows endpoint, see [`LoginEndpoint::soap_version`]).
pub fn encode_login_request(version: SoapVersion, request: &LoginRequest) -> String {
    write::envelope(version, |xml| {
        xml.open("Login", &[("xmlns", SERVER_COMMAND_NS)]);
        xml.leaf("instanceId", &request.instance_id);
        match request.current_token.as_deref() {
            Some(token) if !token.is_empty() => xml.leaf("currentToken", token),
            _ => xml.empty("currentToken", &[]),
        }
        xml.close("Login");
    })
}

/// Encodes the response to a successful `Login` in `version` (answer in the
/// version the request came in).
pub fn encode_login_response(version: SoapVersion, result: &LoginResult) -> String {
    write::envelope(version, |xml| {
        xml.open("LoginResponse", &[("xmlns", SERVER_COMMAND_NS)]);
        xml.open("LoginResult", &[]);
        xml.leaf("Token", &result.token);
        xml.leaf("RegistrationTime", &result.registration_time.to_string());
        xml.open("TimeToLive", &[]);
        xml.leaf("MicroSeconds", &result.time_to_live_micros.to_string());
        xml.close("TimeToLive");
        xml.leaf(
            "TimeToLiveLimited",
            &result.time_to_live_limited.to_string(),
        );
        xml.close("LoginResult");
        xml.close("LoginResponse");
    })
}

/// Decodes a `Login` request, with the SOAP version it came in. Another
/// operation in the Body gives [`DecodeError::UnsupportedOperation`].
pub fn decode_login_request(message: &str) -> Result<(SoapVersion, LoginRequest), DecodeError> {
    let received = envelope::unwrap_request(message, SERVER_COMMAND_NS)?;
    let login = &received.operation;
    if !login.is("Login") {
        return Err(DecodeError::UnsupportedOperation(crate::error::quote(
            &login.name,
        )));
    }
    let instance_id = match login.child("instanceId").map(Element::text) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => NIL_GUID.to_owned(),
    };
    let current_token = login
        .child("currentToken")
        .map(Element::text)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok((
        received.version,
        LoginRequest {
            instance_id,
            current_token,
        },
    ))
}

/// Decodes the answer to a `Login`: the result, or the fault the server sent.
pub fn decode_login_response(message: &str) -> Result<Result<LoginResult, Fault>, DecodeError> {
    let received = envelope::unwrap(message)?;
    let response = &received.operation;
    if let Some(fault) = fault::check(response) {
        return Ok(Err(fault));
    }
    if !response.is("LoginResponse") {
        return Err(DecodeError::unexpected(
            &response.name,
            "Body",
            "`LoginResponse` or `Fault`",
        ));
    }
    let result = response.require("LoginResult", "LoginResponse")?;
    let ttl = result.require("TimeToLive", "LoginResult")?;
    let time_to_live_micros = match ttl.child("MicroSeconds") {
        Some(_) => fields::integer(
            ttl,
            "MicroSeconds",
            "TimeToLive",
            "microseconds as a non-negative integer",
        )?,
        None => ttl
            .text()
            .parse()
            .map_err(|_| DecodeError::missing("MicroSeconds", "TimeToLive"))?,
    };
    let time_to_live_limited = match result.child("TimeToLiveLimited") {
        Some(_) => fields::boolean(result, "TimeToLiveLimited", "LoginResult")?,
        None => false,
    };
    Ok(Ok(LoginResult {
        token: fields::string(result, "Token", "LoginResult")?,
        registration_time: fields::time(result, "RegistrationTime", "LoginResult")?,
        time_to_live_micros,
        time_to_live_limited,
    }))
}

#[cfg(test)]
mod tests;
