//! Tests of the Login codec: golden messages, tolerant decoding, errors.

use super::*;

fn fresh() -> LoginRequest {
    LoginRequest {
        instance_id: NIL_GUID.to_owned(),
        current_token: None,
    }
}

fn result() -> LoginResult {
    LoginResult {
        token: "TOKEN#6b1f0c4e-2c1a-4c55-a5a4-0e0c36f7e0b1#ms-a//ServerConnector#".to_owned(),
        registration_time: UtcTime::parse("2025-10-27T19:30:05.9Z").unwrap_or_default(),
        time_to_live_micros: 14_400_000_000,
        time_to_live_limited: false,
    }
}

#[test]
fn golden_requests_and_responses() {
    insta::assert_snapshot!(
        "login_request_basic_soap11",
        encode_login_request(SoapVersion::V11, &fresh())
    );
    let renew = LoginRequest {
        current_token: Some("TOKEN#abc#ms-a//ServerConnector#".to_owned()),
        ..fresh()
    };
    insta::assert_snapshot!(
        "login_request_windows_soap12_renew",
        encode_login_request(SoapVersion::V12, &renew)
    );
    insta::assert_snapshot!(
        "login_response_soap11",
        encode_login_response(SoapVersion::V11, &result())
    );
}

#[test]
fn round_trips() {
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let renew = LoginRequest {
            current_token: Some("TOKEN#<&>#".to_owned()),
            instance_id: "a8a8b9dc-3995-49ed-9b00-62caac2ce74a".to_owned(),
        };
        for request in [fresh(), renew] {
            assert_eq!(
                decode_login_request(&encode_login_request(version, &request)),
                Ok((version, request))
            );
        }
        assert_eq!(
            decode_login_response(&encode_login_response(version, &result())),
            Ok(Ok(result()))
        );
    }
}

#[test]
fn soap12_login_to_the_asmx_endpoint() {
    // The way a .NET client writes it for the windows endpoint.
    let m = r#"<?xml version="1.0" encoding="utf-8"?>
<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">
  <soap12:Body>
    <Login xmlns="http://videoos.net/2/XProtectCSServerCommand">
      <instanceId>00000000-0000-0000-0000-000000000000</instanceId>
      <currentToken></currentToken>
    </Login>
  </soap12:Body>
</soap12:Envelope>"#;
    assert_eq!(decode_login_request(m), Ok((SoapVersion::V12, fresh())));
}

#[test]
fn prefixed_operation_without_instance_id_and_with_header() {
    let m = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><x:Any xmlns:x="urn:x"/></s:Header><s:Body>
      <sc:Login xmlns:sc="http://videoos.net/2/XProtectCSServerCommand"><sc:currentToken> TOKEN#1# </sc:currentToken></sc:Login>
    </s:Body></s:Envelope>"#;
    assert_eq!(
        decode_login_request(m),
        Ok((
            SoapVersion::V11,
            LoginRequest {
                instance_id: NIL_GUID.to_owned(),
                current_token: Some("TOKEN#1#".to_owned())
            }
        ))
    );
}

#[test]
fn other_operation_on_login_endpoint_is_unsupported() {
    let m = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetConfiguration xmlns="http://videoos.net/2/XProtectCSServerCommand"/></s:Body></s:Envelope>"#;
    assert_eq!(
        decode_login_request(m),
        Err(DecodeError::UnsupportedOperation(
            "GetConfiguration".to_owned()
        ))
    );
}

#[test]
fn response_in_real_site_style() {
    // Element order differs from ours, the fraction has one digit.
    let m = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
      <LoginResponse xmlns="http://videoos.net/2/XProtectCSServerCommand"><LoginResult>
        <RegistrationTime>2025-10-27T19:30:05.9Z</RegistrationTime>
        <TimeToLiveLimited>false</TimeToLiveLimited>
        <TimeToLive><MicroSeconds>14400000000</MicroSeconds></TimeToLive>
        <Token>TOKEN#6b1f0c4e-2c1a-4c55-a5a4-0e0c36f7e0b1#ms-a//ServerConnector#</Token>
      </LoginResult></LoginResponse></s:Body></s:Envelope>"#;
    assert_eq!(decode_login_response(m), Ok(Ok(result())));
}

#[test]
fn response_fault_is_returned_as_fault() {
    let m = crate::fault::encode_fault(SoapVersion::V12, &Fault::token_invalid());
    assert_eq!(decode_login_response(&m), Ok(Err(Fault::token_invalid())));
}

#[test]
fn response_errors_say_what_is_wrong() {
    let m = |inner: &str| {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><LoginResponse xmlns="http://videoos.net/2/XProtectCSServerCommand"><LoginResult>{inner}</LoginResult></LoginResponse></s:Body></s:Envelope>"#
        )
    };
    let err = |msg: String| decode_login_response(&msg).err().map(|e| e.to_string());
    assert_eq!(
        err(m(
            "<TimeToLive>1</TimeToLive><RegistrationTime>2025-01-01T00:00:00</RegistrationTime>"
        )),
        Some("missing element `Token` in LoginResult".to_owned())
    );
    assert_eq!(
        err(m("<Token>t</Token><TimeToLive><MicroSeconds>-5</MicroSeconds></TimeToLive><RegistrationTime>2025-01-01T00:00:00</RegistrationTime>")),
        Some("invalid value `-5` in `MicroSeconds`: expected microseconds as a non-negative integer".to_owned())
    );
    assert_eq!(
        err(m("<Token>t</Token><TimeToLive><MicroSeconds>5</MicroSeconds></TimeToLive><RegistrationTime>soon</RegistrationTime>")),
        Some("invalid value `soon` in `RegistrationTime`: expected an xs:dateTime like 2023-07-20T18:52:49.0530000Z (zone-less means UTC)".to_owned())
    );
    assert_eq!(
        err("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><Other xmlns=\"http://videoos.net/2/XProtectCSServerCommand\"/></s:Body></s:Envelope>".to_owned()),
        Some("unexpected element `Other` in Body: expected `LoginResponse` or `Fault`".to_owned())
    );
}

#[test]
fn endpoints() {
    assert_eq!(
        soap_action_login(LoginEndpoint::Basic),
        "http://videoos.net/2/XProtectCSServerCommand/IServerCommandService/Login"
    );
    assert_eq!(
        LoginEndpoint::Windows.path(),
        "/ServerAPI/ServerCommandService.asmx"
    );
    assert_eq!(LoginEndpoint::Windows.soap_version(), SoapVersion::V12);
    assert_eq!(result().time_to_live(), Duration::from_secs(4 * 3600));
}
