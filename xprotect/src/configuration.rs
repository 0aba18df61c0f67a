//! ServerCommandService `GetConfiguration(token)` on the management
//! server: the SOAP way to list a site's recording servers (with their
//! `WebServerUri`) and the cameras on each, and its codec.
//!
//! The answer is `GetConfigurationResponse/GetConfigurationResult`
//! (a `ConfigurationInfo`) in `http://videoos.net/2/XProtectCSServerCommand`:
//! `ServerId`, `ServerName`, then `Recorders` holding one `RecorderInfo` per
//! recording server (`RecorderId`, `Name`, `HostName`, `WebServerUri`,
//! `Cameras`), each camera a `CameraInfo` (`RecorderId`, `HardwareId`,
//! `DeviceId`, `Name`, `DeviceIndex`). Real sites send many more children;
//! the decoder reads these and skips the rest. The token is the `TOKEN#…`
//! of `Login`; no HTTP authentication is needed on this call.

use crate::consts::SERVER_COMMAND_NS;
use crate::envelope::{self, SoapVersion};
use crate::error::DecodeError;
use crate::fault::{self, Fault};
use crate::fields;
use crate::write;
use crate::xml::Element;

/// SOAPAction of `GetConfiguration` on the WCF (basic-user) endpoints.
pub const GET_CONFIGURATION_ACTION: &str =
    "http://videoos.net/2/XProtectCSServerCommand/IServerCommandService/GetConfiguration";

/// A site's configuration as `GetConfiguration` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigurationInfo {
    /// The management server's (site's) GUID.
    pub server_id: String,
    pub server_name: String,
    pub recorders: Vec<RecorderInfo>,
}

/// One recording server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecorderInfo {
    pub recorder_id: String,
    pub name: String,
    pub host_name: String,
    /// Base URL of its RecorderCommandService (`https://rec1:7563/`).
    pub web_server_uri: String,
    pub cameras: Vec<CameraInfo>,
}

/// One camera on a recording server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CameraInfo {
    pub device_id: String,
    pub name: String,
    pub hardware_id: String,
    pub recorder_id: String,
    /// The channel on its hardware.
    pub device_index: u32,
}

/// Encodes a `GetConfiguration` request.
pub fn encode_get_configuration_request(version: SoapVersion, token: &str) -> String {
    write::envelope(version, |xml| {
        xml.open("GetConfiguration", &[("xmlns", SERVER_COMMAND_NS)]);
        xml.leaf("token", token);
        xml.close("GetConfiguration");
    })
}

/// Decodes a `GetConfiguration` request: its SOAP version and token.
/// Another operation gives [`DecodeError::UnsupportedOperation`], a missing
/// token a [`DecodeError::MissingElement`] for which
/// [`DecodeError::is_missing_token`] holds.
pub fn decode_get_configuration_request(
    message: &str,
) -> Result<(SoapVersion, String), DecodeError> {
    let received = envelope::unwrap_request(message, SERVER_COMMAND_NS)?;
    let op = &received.operation;
    if !op.is("GetConfiguration") {
        return Err(DecodeError::UnsupportedOperation(crate::error::quote(
            &op.name,
        )));
    }
    let token = op
        .child("token")
        .map(Element::text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| DecodeError::missing("token", "GetConfiguration"))?;
    Ok((received.version, token.to_owned()))
}

/// Encodes the answer to `GetConfiguration` in `version`.
pub fn encode_get_configuration_response(version: SoapVersion, info: &ConfigurationInfo) -> String {
    write::envelope(version, |xml| {
        xml.open("GetConfigurationResponse", &[("xmlns", SERVER_COMMAND_NS)]);
        xml.open("GetConfigurationResult", &[]);
        xml.leaf("ServerId", &info.server_id);
        xml.leaf("ServerName", &info.server_name);
        xml.open("Recorders", &[]);
        for r in &info.recorders {
            xml.open("RecorderInfo", &[]);
            xml.leaf("RecorderId", &r.recorder_id);
            xml.leaf("Name", &r.name);
            xml.leaf("HostName", &r.host_name);
            xml.leaf("WebServerUri", &r.web_server_uri);
            xml.open("Cameras", &[]);
            for c in &r.cameras {
                xml.open("CameraInfo", &[]);
                xml.leaf("RecorderId", &c.recorder_id);
                xml.leaf("HardwareId", &c.hardware_id);
                xml.leaf("DeviceId", &c.device_id);
                xml.leaf("Name", &c.name);
                xml.leaf("DeviceIndex", &c.device_index.to_string());
                xml.close("CameraInfo");
            }
            xml.close("Cameras");
            xml.close("RecorderInfo");
        }
        xml.close("Recorders");
        xml.close("GetConfigurationResult");
        xml.close("GetConfigurationResponse");
    })
}

/// Decodes the answer to `GetConfiguration`: the configuration, or the
/// fault the server sent.
pub fn decode_get_configuration_response(
    message: &str,
) -> Result<Result<ConfigurationInfo, Fault>, DecodeError> {
    let received = envelope::unwrap(message)?;
    let response = &received.operation;
    if let Some(fault) = fault::check(response) {
        return Ok(Err(fault));
    }
    if !response.is("GetConfigurationResponse") {
        return Err(DecodeError::unexpected(
            &response.name,
            "Body",
            "`GetConfigurationResponse` or `Fault`",
        ));
    }
    let result = response.require("GetConfigurationResult", "GetConfigurationResponse")?;
    let text = |e: &Element, name: &str| e.child(name).map_or("", Element::text).to_owned();
    let mut recorders = Vec::new();
    if let Some(list) = result.child("Recorders") {
        for r in list.children.iter().filter(|c| c.is("RecorderInfo")) {
            let mut cameras = Vec::new();
            if let Some(cams) = r.child("Cameras") {
                for c in cams.children.iter().filter(|c| c.is("CameraInfo")) {
                    cameras.push(CameraInfo {
                        device_id: fields::string(c, "DeviceId", "CameraInfo")?,
                        name: text(c, "Name"),
                        hardware_id: text(c, "HardwareId"),
                        recorder_id: text(c, "RecorderId"),
                        device_index: match c.child("DeviceIndex") {
                            Some(_) => fields::integer(
                                c,
                                "DeviceIndex",
                                "CameraInfo",
                                "a non-negative integer",
                            )?,
                            None => 0,
                        },
                    });
                }
            }
            recorders.push(RecorderInfo {
                recorder_id: fields::string(r, "RecorderId", "RecorderInfo")?,
                name: text(r, "Name"),
                host_name: text(r, "HostName"),
                web_server_uri: text(r, "WebServerUri"),
                cameras,
            });
        }
    }
    Ok(Ok(ConfigurationInfo {
        server_id: text(result, "ServerId"),
        server_name: text(result, "ServerName"),
        recorders,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConfigurationInfo {
        ConfigurationInfo {
            server_id: "3772df00-6ea9-4893-b4b3-6aa944f38861".into(),
            server_name: "primary".into(),
            recorders: vec![RecorderInfo {
                recorder_id: "90865ed0-2b09-4602-8c0d-622e6377a6f8".into(),
                name: "Recording Server 1".into(),
                host_name: "127.0.0.1".into(),
                web_server_uri: "http://127.0.0.1:7563/".into(),
                cameras: vec![CameraInfo {
                    device_id: "a8a8b9dc-3995-49ed-9b00-62caac2ce74a".into(),
                    name: "Lobby & <Door>".into(),
                    hardware_id: "5a94379d-468c-40ee-9c16-8d98be28e1dd".into(),
                    recorder_id: "90865ed0-2b09-4602-8c0d-622e6377a6f8".into(),
                    device_index: 2,
                }],
            }],
        }
    }

    #[test]
    fn round_trips_in_both_versions() {
        for v in [SoapVersion::V11, SoapVersion::V12] {
            let info = sample();
            let text = encode_get_configuration_response(v, &info);
            assert!(text.contains(
                "<GetConfigurationResponse xmlns=\"http://videoos.net/2/XProtectCSServerCommand\">"
            ));
            assert_eq!(decode_get_configuration_response(&text), Ok(Ok(info)));
            let req = encode_get_configuration_request(v, "TOKEN#x#h//ServerConnector#");
            assert_eq!(
                decode_get_configuration_request(&req),
                Ok((v, "TOKEN#x#h//ServerConnector#".to_owned()))
            );
        }
    }

    #[test]
    fn requests_without_token_or_of_other_operations_are_refused() {
        let no_token = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetConfiguration xmlns="http://videoos.net/2/XProtectCSServerCommand"><token/></GetConfiguration></s:Body></s:Envelope>"#;
        assert!(decode_get_configuration_request(no_token).is_err_and(|e| e.is_missing_token()));
        let login = crate::encode_login_request(
            SoapVersion::V11,
            &crate::LoginRequest {
                instance_id: crate::NIL_GUID.into(),
                current_token: None,
            },
        );
        assert!(matches!(
            decode_get_configuration_request(&login),
            Err(DecodeError::UnsupportedOperation(op)) if op == "Login"
        ));
        let fault = crate::encode_fault(SoapVersion::V11, &Fault::token_invalid());
        assert!(matches!(
            decode_get_configuration_response(&fault),
            Ok(Err(f)) if f.is_token_fault()
        ));
    }
}
