//! SOAP faults: [`Fault`], the XProtect error numbers it carries, and its
//! encoding in SOAP 1.1 and 1.2.
//!
//! [`Fault::code`] is always held in SOAP 1.1 form (`soap:Server`,
//! `soap:Client`, …). Encoding as SOAP 1.2 maps `Server` → `Receiver` and
//! `Client` → `Sender`; decoding maps back and normalises the prefix of the
//! standard codes to `soap:`, whatever prefix the sender used. Other codes are
//! kept as sent.

use crate::envelope::{self, SoapVersion};
use crate::error::DecodeError;
use crate::write::{self, Xml};
use crate::xml::Element;

/// XProtect's error number for token (authentication) problems.
pub const TOKEN_ERROR_NUMBER: i32 = 40000;
/// Sub-error of [`TOKEN_ERROR_NUMBER`]: no token supplied.
pub const TOKEN_MISSING_SUB_ERROR: i32 = 1;
/// Sub-error of [`TOKEN_ERROR_NUMBER`]: token invalid or expired.
pub const TOKEN_INVALID_SUB_ERROR: i32 = 2;

/// The standard SOAP 1.1 fault codes (local parts).
const STANDARD_CODES: [&str; 4] = ["Server", "Client", "VersionMismatch", "MustUnderstand"];

/// A SOAP fault as XProtect reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fault {
    /// Fault code in SOAP 1.1 form, e.g. `soap:Server`.
    pub code: String,
    /// Human-readable reason (`faultstring` / `Reason/Text`).
    pub string: String,
    /// `detail/ErrorNumber`, if present.
    pub error_number: Option<i32>,
    /// `detail/SubErrorNumber`, if present.
    pub sub_error_number: Option<i32>,
}

impl Fault {
    /// A server fault with no XProtect error numbers.
    pub fn server(string: impl Into<String>) -> Self {
        Fault {
            code: "soap:Server".to_owned(),
            string: string.into(),
            error_number: None,
            sub_error_number: None,
        }
    }

    /// A client fault (the request was at fault) with no error numbers.
    pub fn client(string: impl Into<String>) -> Self {
        Fault {
            code: "soap:Client".to_owned(),
            ..Fault::server(string)
        }
    }

    /// No token supplied: `soap:Server`, 40000/1.
    pub fn token_missing() -> Self {
        Fault {
            error_number: Some(TOKEN_ERROR_NUMBER),
            sub_error_number: Some(TOKEN_MISSING_SUB_ERROR),
            ..Fault::server("Token missing")
        }
    }

    /// Token invalid or expired: `soap:Server`, 40000/2.
    pub fn token_invalid() -> Self {
        Fault {
            error_number: Some(TOKEN_ERROR_NUMBER),
            sub_error_number: Some(TOKEN_INVALID_SUB_ERROR),
            ..Fault::server("Token invalid")
        }
    }

    /// The operation named in the request is not one the service has.
    pub fn unsupported_operation(name: &str) -> Self {
        Fault::client(format!(
            "Method `{}` is not supported by this service",
            crate::error::quote(name)
        ))
    }

    /// The request could not be decoded; `reason` says why (e.g. a [`DecodeError`]).
    pub fn malformed(reason: impl std::fmt::Display) -> Self {
        Fault::client(format!("Malformed request: {reason}"))
    }

    /// True for XProtect's token faults (40000 with sub-error 1 or 2): the
    /// caller should log in again and retry.
    pub fn is_token_fault(&self) -> bool {
        self.error_number == Some(TOKEN_ERROR_NUMBER)
            && matches!(
                self.sub_error_number,
                Some(TOKEN_MISSING_SUB_ERROR | TOKEN_INVALID_SUB_ERROR)
            )
    }

    /// True when the fault blames the request (`Client` / `Sender`).
    pub fn is_client_fault(&self) -> bool {
        local_part(&self.code) == "Client"
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SOAP fault {}: {}", self.code, self.string)?;
        match (self.error_number, self.sub_error_number) {
            (Some(n), Some(s)) => write!(f, " (error {n}/{s})"),
            (Some(n), None) => write!(f, " (error {n})"),
            (None, Some(s)) => write!(f, " (sub-error {s})"),
            (None, None) => Ok(()),
        }
    }
}

fn local_part(code: &str) -> &str {
    code.rsplit_once(':').map_or(code, |(_, local)| local)
}

/// Encodes `fault` as a complete envelope (send with HTTP 500, or 400 for a
/// malformed request).
pub fn encode_fault(version: SoapVersion, fault: &Fault) -> String {
    write::envelope(version, |xml| write_fault(xml, version, fault))
}

fn write_fault(xml: &mut Xml, version: SoapVersion, fault: &Fault) {
    let p = version.prefix();
    let local = local_part(&fault.code);
    let has_detail = fault.error_number.is_some() || fault.sub_error_number.is_some();
    let detail = |xml: &mut Xml| {
        if let Some(n) = fault.error_number {
            xml.leaf("ErrorNumber", &n.to_string());
        }
        if let Some(s) = fault.sub_error_number {
            xml.leaf("SubErrorNumber", &s.to_string());
        }
    };
    let fault_name = format!("{p}:Fault");
    xml.open(&fault_name, &[]);
    match version {
        SoapVersion::V11 => {
            let code = if STANDARD_CODES.contains(&local) {
                format!("{p}:{local}")
            } else {
                fault.code.clone()
            };
            xml.leaf("faultcode", &code);
            xml.leaf("faultstring", &fault.string);
            if has_detail {
                xml.open("detail", &[]);
                detail(xml);
                xml.close("detail");
            }
        }
        SoapVersion::V12 => {
            let code = match local {
                "Server" => format!("{p}:Receiver"),
                "Client" => format!("{p}:Sender"),
                l if STANDARD_CODES.contains(&l) => format!("{p}:{l}"),
                _ => fault.code.clone(),
            };
            let (code_name, value, reason, text, detail_name) = (
                format!("{p}:Code"),
                format!("{p}:Value"),
                format!("{p}:Reason"),
                format!("{p}:Text"),
                format!("{p}:Detail"),
            );
            xml.open(&code_name, &[]);
            xml.leaf(&value, &code);
            xml.close(&code_name);
            xml.open(&reason, &[]);
            xml.leaf_with(&text, &[("xml:lang", "en")], &fault.string);
            xml.close(&reason);
            if has_detail {
                xml.open(&detail_name, &[]);
                detail(xml);
                xml.close(&detail_name);
            }
        }
    }
    xml.close(&fault_name);
}

/// Decodes a message whose Body holds a `Fault` (SOAP 1.1 or 1.2).
pub fn decode_fault(message: &str) -> Result<Fault, DecodeError> {
    let received = envelope::unwrap(message)?;
    if received.operation.is("Fault") {
        Ok(from_element(&received.operation))
    } else {
        Err(DecodeError::unexpected(
            &received.operation.name,
            "Body",
            "`Fault`",
        ))
    }
}

/// Reads a `Fault` element of either SOAP version. Liberal: a missing code
/// reads as `soap:Server`, a missing reason as empty, unreadable error
/// numbers as absent.
pub(crate) fn from_element(fault: &Element) -> Fault {
    let raw_code = fault
        .child("faultcode")
        .or_else(|| fault.child("Code").and_then(|c| c.child("Value")))
        .map(Element::text)
        .unwrap_or("soap:Server");
    let code = match local_part(raw_code) {
        "Receiver" => "soap:Server".to_owned(),
        "Sender" => "soap:Client".to_owned(),
        l if STANDARD_CODES.contains(&l) => format!("soap:{l}"),
        _ => raw_code.to_owned(),
    };
    let string = fault
        .child("faultstring")
        .or_else(|| fault.child("Reason").and_then(|r| r.child("Text")))
        .map(|e| e.text().to_owned())
        .unwrap_or_default();
    let detail = fault.child("detail");
    let number = |name: &str| {
        detail
            .and_then(|d| d.descendant(name))
            .and_then(|e| e.text().parse().ok())
    };
    Fault {
        code,
        string,
        error_number: number("ErrorNumber"),
        sub_error_number: number("SubErrorNumber"),
    }
}

/// If `operation` is a `Fault`, decodes it.
pub(crate) fn check(operation: &Element) -> Option<Fault> {
    operation.is("Fault").then(|| from_element(operation))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fault body a real site sends for an invalid token, verbatim.
    const DOC_FAULT: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <soap:Fault>
      <faultcode>soap:Server</faultcode>
      <faultstring>Token invalid</faultstring>
      <detail><ErrorNumber>40000</ErrorNumber><SubErrorNumber>2</SubErrorNumber></detail>
    </soap:Fault>
  </soap:Body>
</soap:Envelope>"#;

    #[test]
    fn decodes_the_documented_fault() {
        let fault = decode_fault(DOC_FAULT);
        assert_eq!(fault, Ok(Fault::token_invalid()));
        assert!(fault.is_ok_and(|f| f.is_token_fault()));
    }

    #[test]
    fn decodes_soap12_fault_and_normalises_code() {
        let m = r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>
          <env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code>
          <env:Reason><env:Text xml:lang="en">No token</env:Text></env:Reason>
          <env:Detail><Error><ErrorNumber>40000</ErrorNumber><SubErrorNumber>1</SubErrorNumber></Error></env:Detail>
          </env:Fault></env:Body></env:Envelope>"#;
        let fault = decode_fault(m);
        assert_eq!(
            fault,
            Ok(Fault {
                string: "No token".into(),
                ..Fault::token_missing()
            })
        );
    }

    #[test]
    fn fault_helpers() {
        assert!(Fault::token_missing().is_token_fault());
        assert!(!Fault::malformed("x").is_token_fault());
        assert!(Fault::malformed("x").is_client_fault());
        assert!(Fault::unsupported_operation("Frobnicate")
            .string
            .contains("`Frobnicate` is not supported"));
        assert_eq!(
            Fault::token_invalid().to_string(),
            "SOAP fault soap:Server: Token invalid (error 40000/2)"
        );
    }

    #[test]
    fn non_fault_body_is_an_error() {
        let m = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><LoginResponse/></s:Body></s:Envelope>"#;
        assert_eq!(
            decode_fault(m).map_err(|e| e.to_string()),
            Err("unexpected element `LoginResponse` in Body: expected `Fault`".to_owned())
        );
    }

    #[test]
    fn golden_faults() {
        insta::assert_snapshot!(
            "fault_token_invalid_soap11",
            encode_fault(SoapVersion::V11, &Fault::token_invalid())
        );
        insta::assert_snapshot!(
            "fault_token_missing_soap12",
            encode_fault(SoapVersion::V12, &Fault::token_missing())
        );
        insta::assert_snapshot!(
            "fault_malformed_soap11",
            encode_fault(
                SoapVersion::V11,
                &Fault::malformed("missing element `token` in StartManualRecording <&>")
            )
        );
    }

    #[test]
    fn round_trips_both_versions() {
        for version in [SoapVersion::V11, SoapVersion::V12] {
            for fault in [
                Fault::token_invalid(),
                Fault::token_missing(),
                Fault::malformed("a < b & c"),
                Fault {
                    error_number: Some(7),
                    ..Fault::server("x")
                },
                Fault {
                    sub_error_number: Some(-3),
                    ..Fault::client("y")
                },
            ] {
                assert_eq!(decode_fault(&encode_fault(version, &fault)), Ok(fault));
            }
        }
    }
}
