//! Protocol constants: namespaces, endpoint paths, SOAPAction strings,
//! content types and the sequence-type GUIDs seen on real recorders.
//!
//! Values are those real XProtect sites use (see `docs/mock-site.md`);
//! nothing here is configurable.

/// SOAP 1.1 envelope namespace.
pub const SOAP11_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace.
pub const SOAP12_ENVELOPE_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Namespace of the management server's ServerCommandService (Login).
pub const SERVER_COMMAND_NS: &str = "http://videoos.net/2/XProtectCSServerCommand";
/// Namespace of every RecorderCommandService operation.
pub const RECORDER_COMMAND_NS: &str = "http://videoos.net/2/XProtectCSRecorderCommand";
/// Namespace of the .NET `guid` type, used by the `<a:guid>` device list encoding.
pub const WSDL_TYPES_NS: &str = "http://microsoft.com/wsdl/types/";

/// Content type of a SOAP 1.1 message.
pub const CONTENT_TYPE_SOAP11: &str = "text/xml; charset=utf-8";
/// Content type of a SOAP 1.2 message (the action goes in an `action` parameter).
pub const CONTENT_TYPE_SOAP12: &str = "application/soap+xml; charset=utf-8";

/// Path of the basic-user (WCF) login endpoint on the management server.
pub const LOGIN_PATH_BASIC: &str = "/ManagementServer/ServerCommandService.svc";
/// Path of the windows-user (ASMX) login endpoint on the management server.
pub const LOGIN_PATH_WINDOWS: &str = "/ServerAPI/ServerCommandService.asmx";
/// SOAPAction of Login on the basic-user (WCF) endpoint.
pub const LOGIN_ACTION_BASIC: &str =
    "http://videoos.net/2/XProtectCSServerCommand/IServerCommandService/Login";
/// SOAPAction of Login on the windows-user (ASMX) endpoint.
pub const LOGIN_ACTION_WINDOWS: &str = "http://videoos.net/2/XProtectCSServerCommand/Login";

/// Path of the RecorderCommandService on a recording server.
pub const RECORDER_PATH: &str = "/RecorderCommandService/RecorderCommandService.asmx";
/// Default port of the RecorderCommandService (plain HTTP on real sites).
pub const DEFAULT_RECORDER_PORT: u16 = 7563;

/// Real default of a Login token's time to live: 4 hours, in microseconds.
pub const DEFAULT_TIME_TO_LIVE_MICROS: u64 = 14_400_000_000;

/// The all-zero GUID commonly sent as Login `instanceId`.
pub const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Id of the `RecordingSequence` type; manual recording shows up as these.
pub const RECORDING_SEQUENCE_ID: &str = "f9c62604-d0c5-4050-ae25-72de51639b14";
/// Name of the `RecordingSequence` type.
pub const RECORDING_SEQUENCE_NAME: &str = "RecordingSequence";
/// Id of the `RecordingWithTriggerSequence` type.
pub const RECORDING_WITH_TRIGGER_SEQUENCE_ID: &str = "0601d294-b7e5-4d93-9614-9658561ad5e4";
/// Name of the `RecordingWithTriggerSequence` type.
pub const RECORDING_WITH_TRIGGER_SEQUENCE_NAME: &str = "RecordingWithTriggerSequence";
/// Id of the `MotionSequence` type.
pub const MOTION_SEQUENCE_ID: &str = "53cb5e33-2183-44bd-9491-8364d2457480";
/// Name of the `MotionSequence` type.
pub const MOTION_SEQUENCE_NAME: &str = "MotionSequence";

/// The sequence types seen on real recorders, as `(id, name)`.
pub const KNOWN_SEQUENCE_TYPES: [(&str, &str); 3] = [
    (RECORDING_SEQUENCE_ID, RECORDING_SEQUENCE_NAME),
    (
        RECORDING_WITH_TRIGGER_SEQUENCE_ID,
        RECORDING_WITH_TRIGGER_SEQUENCE_NAME,
    ),
    (MOTION_SEQUENCE_ID, MOTION_SEQUENCE_NAME),
];

/// Path of the OAuth login endpoint: `Login` with `Authorization: Bearer`.
pub const LOGIN_PATH_OAUTH: &str = "/ManagementServer/ServerCommandServiceOAuth.svc";
/// Token endpoint of the identity provider on the management server.
pub const IDP_TOKEN_PATH: &str = "/IDP/connect/token";
/// The same endpoint through the API gateway.
pub const IDP_TOKEN_PATH_GATEWAY: &str = "/API/IDP/connect/token";
/// Discovery document of the identity provider.
pub const IDP_DISCOVERY_PATH: &str = "/IDP/.well-known/openid-configuration";
/// The `client_id` every XProtect client sends to the identity provider.
pub const IDP_CLIENT_ID: &str = "GrantValidatorClient";
/// `grant_type` of a basic user (user name and password in the form).
pub const GRANT_PASSWORD: &str = "password";
/// `grant_type` of a Windows user (credentials by HTTP NTLM/Negotiate).
pub const GRANT_WINDOWS: &str = "windows_credentials";
/// Lifetime of an access token a real identity provider issues, in seconds.
pub const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;
