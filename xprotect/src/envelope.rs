//! SOAP envelopes: [`SoapVersion`], and finding the operation element
//! inside a received envelope (writing one is `write.rs`).
//!
//! Written envelopes use the prefix `soap` (1.1) or `soap12` (1.2), the way
//! ASMX services write them, an XML declaration, and two-space indentation
//! (whitespace between elements is insignificant to every SOAP stack).
//! Received envelopes may use any prefix, a default namespace or none; the
//! version is taken from the `Envelope` element's namespace, and an envelope
//! in no (or an unknown) namespace is taken as SOAP 1.1.

use crate::consts::{
    CONTENT_TYPE_SOAP11, CONTENT_TYPE_SOAP12, SOAP11_ENVELOPE_NS, SOAP12_ENVELOPE_NS,
};
use crate::error::DecodeError;
use crate::xml::{self, Element};

/// The SOAP version of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SoapVersion {
    /// SOAP 1.1 (`http://schemas.xmlsoap.org/soap/envelope/`).
    V11,
    /// SOAP 1.2 (`http://www.w3.org/2003/05/soap-envelope`).
    V12,
}

impl SoapVersion {
    /// Envelope namespace URI.
    pub const fn namespace(self) -> &'static str {
        match self {
            SoapVersion::V11 => SOAP11_ENVELOPE_NS,
            SoapVersion::V12 => SOAP12_ENVELOPE_NS,
        }
    }

    /// The prefix this crate writes for the envelope namespace.
    pub const fn prefix(self) -> &'static str {
        match self {
            SoapVersion::V11 => "soap",
            SoapVersion::V12 => "soap12",
        }
    }

    /// `Content-Type` without an action: `text/xml; charset=utf-8` for 1.1,
    /// `application/soap+xml; charset=utf-8` for 1.2.
    pub const fn content_type(self) -> &'static str {
        match self {
            SoapVersion::V11 => CONTENT_TYPE_SOAP11,
            SoapVersion::V12 => CONTENT_TYPE_SOAP12,
        }
    }

    /// HTTP headers of a request carrying `action`: for 1.1 the content type
    /// and a quoted `SOAPAction` header; for 1.2 the content type with an
    /// `action` parameter (SOAP 1.2 has no `SOAPAction` header).
    pub fn request_headers(self, action: &str) -> Vec<(&'static str, String)> {
        match self {
            SoapVersion::V11 => vec![
                ("Content-Type", CONTENT_TYPE_SOAP11.to_owned()),
                ("SOAPAction", format!("\"{action}\"")),
            ],
            SoapVersion::V12 => vec![(
                "Content-Type",
                format!("{CONTENT_TYPE_SOAP12}; action=\"{action}\""),
            )],
        }
    }

    /// The version a `Content-Type` header announces, if it names one
    /// (`application/soap+xml` → 1.2, `text/xml` → 1.1; case ignored).
    pub fn from_content_type(content_type: &str) -> Option<SoapVersion> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/soap+xml") {
            Some(SoapVersion::V12)
        } else if media.eq_ignore_ascii_case("text/xml") {
            Some(SoapVersion::V11)
        } else {
            None
        }
    }

    fn from_namespace(ns: Option<&str>) -> SoapVersion {
        if ns == Some(SOAP12_ENVELOPE_NS) {
            SoapVersion::V12
        } else {
            SoapVersion::V11
        }
    }
}

/// Best-effort SOAP version of a message, from the namespace of its first
/// element, without parsing the rest: for answering a fault in the client's
/// version even when its message is malformed. `None` if the first element
/// is in neither envelope namespace or there is no element.
pub fn sniff_soap_version(message: &str) -> Option<SoapVersion> {
    match xml::root_namespace(message).as_deref() {
        Some(SOAP11_ENVELOPE_NS) => Some(SoapVersion::V11),
        Some(SOAP12_ENVELOPE_NS) => Some(SoapVersion::V12),
        _ => None,
    }
}

/// A received envelope: its version and the first element of its Body.
pub(crate) struct Received {
    pub(crate) version: SoapVersion,
    pub(crate) operation: Element,
}

/// Parses `message` and finds the first element of the SOAP Body.
pub(crate) fn unwrap(message: &str) -> Result<Received, DecodeError> {
    let root = xml::parse(message)?;
    if !root.is("Envelope") {
        return Err(DecodeError::NotEnvelope {
            root: crate::error::quote(&root.name),
        });
    }
    let version = SoapVersion::from_namespace(root.ns.as_deref());
    let Element { children, .. } = root;
    let body = children
        .into_iter()
        .find(|c| c.is("Body"))
        .ok_or_else(|| DecodeError::missing("Body", "Envelope"))?;
    let operation = body
        .children
        .into_iter()
        .next()
        .ok_or(DecodeError::EmptyBody)?;
    Ok(Received { version, operation })
}

/// Parses a request the way a .NET SOAP service does: strict XML (see
/// `xml.rs`), the `Envelope` and its `Body` in the SOAP 1.1 or 1.2
/// namespace, and the operation in `service_ns`. Anything else is a
/// [`DecodeError::Refused`] and must never be executed.
pub(crate) fn unwrap_request(message: &str, service_ns: &str) -> Result<Received, DecodeError> {
    let root = xml::parse_with(message, xml::Strictness::Strict)?;
    if !root.is("Envelope") {
        return Err(DecodeError::NotEnvelope {
            root: crate::error::quote(&root.name),
        });
    }
    let version = match root.ns.as_deref() {
        Some(SOAP11_ENVELOPE_NS) => SoapVersion::V11,
        Some(SOAP12_ENVELOPE_NS) => SoapVersion::V12,
        other => {
            return Err(DecodeError::Refused(format!(
                "the Envelope is in namespace `{}`; expected `{SOAP11_ENVELOPE_NS}` (SOAP 1.1) or \
                 `{SOAP12_ENVELOPE_NS}` (SOAP 1.2)",
                crate::error::quote(other.unwrap_or("(none)"))
            )))
        }
    };
    let Element { children, .. } = root;
    for child in &children {
        if child.ns.as_deref() != Some(version.namespace()) {
            return Err(DecodeError::Refused(format!(
                "`{}` in the Envelope is in namespace `{}`; expected `{}`",
                crate::error::quote(&child.name),
                crate::error::quote(child.ns.as_deref().unwrap_or("(none)")),
                version.namespace()
            )));
        }
    }
    let body = children
        .into_iter()
        .find(|c| c.is("Body"))
        .ok_or_else(|| DecodeError::missing("Body", "Envelope"))?;
    let operation = body
        .children
        .into_iter()
        .next()
        .ok_or(DecodeError::EmptyBody)?;
    if operation.ns.as_deref() != Some(service_ns) {
        return Err(DecodeError::Refused(format!(
            "operation `{}` is in namespace `{}`; expected `{service_ns}`",
            crate::error::quote(&operation.name),
            crate::error::quote(operation.ns.as_deref().unwrap_or("(none)"))
        )));
    }
    Ok(Received { version, operation })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_refused_like_dotnet_refuses_them() {
        let ns = "urn:svc";
        let ok = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op xmlns="urn:svc"/></s:Body></s:Envelope>"#;
        assert_eq!(
            unwrap_request(ok, ns).map(|r| r.version),
            Ok(SoapVersion::V11)
        );
        let refused = |m: &str| match unwrap_request(m, ns) {
            Err(DecodeError::Refused(why)) => why,
            other => panic!(
                "expected a refusal of {m}, got {:?}",
                other.map(|r| r.version)
            ),
        };
        let foreign = r#"<s:Envelope xmlns:s="urn:other"><s:Body><Op xmlns="urn:svc"/></s:Body></s:Envelope>"#;
        assert!(refused(foreign).contains("Envelope is in namespace `urn:other`"));
        let none = r#"<Envelope><Body><Op xmlns="urn:svc"/></Body></Envelope>"#;
        assert!(refused(none).contains("(none)"));
        let op = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op xmlns="urn:evil"/></s:Body></s:Envelope>"#;
        assert!(refused(op).contains("operation `Op` is in namespace `urn:evil`"));
        let unbound = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x:Op/></s:Body></s:Envelope>"#;
        assert!(refused(unbound).contains("prefix `x`"));
        let doctype = r#"<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "b">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op xmlns="urn:svc"/></s:Body></s:Envelope>"#;
        assert!(refused(doctype).contains("DOCTYPE"));
        for decl in [
            r#"<?xml version="2.0"?>"#,
            r#"<?xml encoding="utf-8"?>"#,
            r#"<?xml version="1.0" encoding=utf-8?>"#,
            r#"<?xml version="1.0" bogus="1"?>"#,
            r#"<?xml version="1.0" encoding="latin-1"?>"#,
            r#" <?xml version="1.0"?>"#,
        ] {
            let m = format!(
                r#"{decl}<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Op xmlns="urn:svc"/></s:Body></s:Envelope>"#
            );
            assert!(
                matches!(
                    unwrap_request(&m, ns),
                    Err(DecodeError::Refused(_)) | Err(DecodeError::Xml { .. })
                ),
                "{decl} must be refused"
            );
        }
    }

    #[test]
    fn version_from_envelope_namespace_with_any_prefix() {
        let v12 = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x/></e:Body></e:Envelope>"#;
        assert_eq!(unwrap(v12).map(|r| r.version), Ok(SoapVersion::V12));
        let default_ns = r#"<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><x/></Body></Envelope>"#;
        assert_eq!(unwrap(default_ns).map(|r| r.version), Ok(SoapVersion::V11));
        let none = "<Envelope><Header/><Body><x/></Body></Envelope>";
        let received = unwrap(none);
        assert_eq!(received.as_ref().map(|r| r.version), Ok(SoapVersion::V11));
        assert_eq!(received.map(|r| r.operation.name), Ok("x".to_owned()));
    }

    #[test]
    fn errors_name_what_is_missing() {
        let err = |m: &str| unwrap(m).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err("<foo/>"),
            "not a SOAP envelope: root element is `foo`, expected `Envelope`"
        );
        assert_eq!(err("<Envelope/>"), "missing element `Body` in Envelope");
        assert_eq!(
            err("<Envelope><Body>  </Body></Envelope>"),
            "SOAP `Body` is empty: expected an operation element"
        );
        assert!(err("<Envelope><Body></Envelope>").starts_with("malformed XML at byte"));
        assert!(err("").contains("no XML element"));
    }

    #[test]
    fn sniffs_version_of_malformed_messages() {
        let m = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><oops"#;
        assert_eq!(sniff_soap_version(m), Some(SoapVersion::V12));
        assert_eq!(sniff_soap_version("garbage"), None);
    }

    #[test]
    fn headers_per_version() {
        assert_eq!(
            SoapVersion::V11.request_headers("urn:a"),
            vec![
                ("Content-Type", "text/xml; charset=utf-8".to_owned()),
                ("SOAPAction", "\"urn:a\"".to_owned())
            ]
        );
        assert_eq!(
            SoapVersion::V12.request_headers("urn:a"),
            vec![(
                "Content-Type",
                "application/soap+xml; charset=utf-8; action=\"urn:a\"".to_owned()
            )]
        );
        assert_eq!(
            SoapVersion::from_content_type("Application/SOAP+xml; charset=utf-8"),
            Some(SoapVersion::V12)
        );
    }
}
