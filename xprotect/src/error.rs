//! [`DecodeError`]: why a message could not be decoded.
//!
//! Every variant says what was wrong and what was expected, so that a mock
//! recorder can put the message straight into a client fault
//! ([`crate::Fault::malformed`]) and an engine can log it as is.

use thiserror::Error;

/// Longest piece of input quoted back in an error message (in characters).
const QUOTE_LIMIT: usize = 80;

/// A message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input is not well-formed XML.
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset in the input where the problem was found.
        position: u64,
        /// What the XML reader reported.
        message: String,
    },
    /// The XML nests deeper than the decoder accepts.
    #[error("XML nested deeper than {limit} levels at byte {position}: not a SOAP message")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
        /// Byte offset of the element that exceeded it.
        position: u64,
    },
    /// Well-formed, but refused the way a .NET SOAP stack refuses it (a
    /// DOCTYPE, a malformed declaration, an unbound prefix, a foreign
    /// namespace); the message says what was expected.
    #[error("message refused: {0}")]
    Refused(String),
    /// The input holds no element at all.
    #[error("no XML element found: expected a SOAP `Envelope`")]
    Empty,
    /// The root element is not a SOAP `Envelope`.
    #[error("not a SOAP envelope: root element is `{root}`, expected `Envelope`")]
    NotEnvelope {
        /// Local name of the root element found.
        root: String,
    },
    /// The SOAP `Body` holds no element.
    #[error("SOAP `Body` is empty: expected an operation element")]
    EmptyBody,
    /// The operation element in the SOAP `Body` is not one this decoder knows.
    #[error(
        "unsupported operation `{0}`: not a method of this service (expected `Login` on \
         ServerCommandService, or one of {recorder} on RecorderCommandService)",
        recorder = crate::recorder::Operation::expected_list()
    )]
    UnsupportedOperation(String),
    /// The Body holds a different element than the one expected here.
    #[error("unexpected element `{found}` in {parent}: expected {expected}")]
    UnexpectedElement {
        /// Local name of the element found.
        found: String,
        /// Where it was found (element name).
        parent: String,
        /// What was expected instead.
        expected: String,
    },
    /// A required child element is missing.
    #[error("missing element `{element}` in {parent}")]
    MissingElement {
        /// Local name of the missing element.
        element: String,
        /// Element it should have been in.
        parent: String,
    },
    /// An element holds text that is not a valid value of its type.
    #[error("invalid value `{value}` in `{element}`: expected {expected}")]
    InvalidValue {
        /// Local name of the element.
        element: String,
        /// The offending text (shortened if long).
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
}

impl DecodeError {
    /// True when the request lacked its `token` element: a recorder answers
    /// this with [`crate::Fault::token_missing`] rather than a client fault.
    pub fn is_missing_token(&self) -> bool {
        matches!(self, DecodeError::MissingElement { element, .. } if element == "token")
    }

    pub(crate) fn missing(element: &str, parent: &str) -> Self {
        DecodeError::MissingElement {
            element: element.to_owned(),
            parent: parent.to_owned(),
        }
    }

    pub(crate) fn invalid(element: &str, value: &str, expected: &str) -> Self {
        DecodeError::InvalidValue {
            element: element.to_owned(),
            value: quote(value),
            expected: expected.to_owned(),
        }
    }

    pub(crate) fn unexpected(found: &str, parent: &str, expected: &str) -> Self {
        DecodeError::UnexpectedElement {
            found: quote(found),
            parent: parent.to_owned(),
            expected: expected.to_owned(),
        }
    }
}

/// Shortens input-derived text for an error message.
pub(crate) fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_LIMIT {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(QUOTE_LIMIT).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_what_was_expected() {
        assert_eq!(
            DecodeError::missing("token", "StartManualRecording").to_string(),
            "missing element `token` in StartManualRecording"
        );
        assert_eq!(
            DecodeError::NotEnvelope { root: "foo".into() }.to_string(),
            "not a SOAP envelope: root element is `foo`, expected `Envelope`"
        );
        assert!(DecodeError::UnsupportedOperation("Nope".into())
            .to_string()
            .starts_with("unsupported operation `Nope`: not a method of this service"));
    }

    #[test]
    fn long_values_are_shortened() {
        let err = DecodeError::invalid("maxCount", &"9".repeat(500), "an integer");
        assert!(err.to_string().len() < 200);
    }
}
