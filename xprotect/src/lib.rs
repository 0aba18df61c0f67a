//! XProtect SOAP vocabulary and codec.
//!
//! This crate is the one place dualrec knows what Milestone XProtect's SOAP
//! messages look like on real sites (see `docs/mock-site.md`): the management server's
//! ServerCommandService `Login` ([`login`]) and `GetConfiguration`
//! ([`configuration`]), the identity provider's token
//! endpoint ([`idp`]), the recording server's
//! RecorderCommandService manual-recording operations ([`recorder`]), SOAP
//! faults with XProtect's error numbers ([`Fault`]), timestamps
//! ([`UtcTime`]), endpoint paths, SOAPAction strings, namespaces and content
//! types ([`consts`]).
//!
//! It owns the typed messages and their encoding to and decoding from
//! strings, nothing else. **It performs no I/O whatsoever**: no sockets, no
//! HTTP, no clock reads, no logging. The engine's runtime and the mock
//! recorders (`sim::server`) move the strings; this crate turns them into
//! types and back.
//!
//! Encoding is strict and deterministic (one documented form per message).
//! Decoding is liberal: any namespace prefix or none, SOAP 1.1 or 1.2 on
//! every endpoint, both `deviceIds` encodings, element order and whitespace
//! not significant, zone-less timestamps as UTC. Decoders never panic; every
//! [`DecodeError`] says what was wrong and what was expected.

pub mod configuration;
pub mod consts;
mod envelope;
mod error;
mod fault;
mod fields;
pub mod idp;
pub mod login;
pub mod recorder;
mod time;
mod write;
mod xml;

pub use configuration::{
    decode_get_configuration_request, decode_get_configuration_response,
    encode_get_configuration_request, encode_get_configuration_response, CameraInfo,
    ConfigurationInfo, RecorderInfo, GET_CONFIGURATION_ACTION,
};
pub use consts::*;
pub use envelope::{sniff_soap_version, SoapVersion};
pub use error::DecodeError;
pub use fault::{
    decode_fault, encode_fault, Fault, TOKEN_ERROR_NUMBER, TOKEN_INVALID_SUB_ERROR,
    TOKEN_MISSING_SUB_ERROR,
};
pub use idp::{
    decode_token_request, decode_token_response, encode_oauth_error, encode_token_request,
    encode_token_response, AccessToken, OAuthError, TokenRequest,
};
pub use login::{
    decode_login_request, decode_login_response, encode_login_request, encode_login_response,
    soap_action_login, LoginEndpoint, LoginRequest, LoginResult,
};
pub use recorder::{
    decode_recorder_request, decode_recorder_response, encode_recorder_request,
    encode_recorder_response, encode_recorder_response_as, soap_action, ManualRecordingInfo,
    ManualRecordingResult, Operation, RecorderRequest, RecorderResponse, SequenceEntry,
    SequenceType,
};
pub use time::{TimeParseError, UtcTime};

/// `Content-Type` of a message in `version`: `text/xml; charset=utf-8` for
/// SOAP 1.1, `application/soap+xml; charset=utf-8` for SOAP 1.2.
pub const fn content_type(version: SoapVersion) -> &'static str {
    version.content_type()
}
