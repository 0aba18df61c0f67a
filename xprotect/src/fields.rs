//! Reading typed values out of decoded elements: required children,
//! `xs:boolean`, integers and timestamps, with errors that name the element
//! and what a valid value looks like.

use std::str::FromStr;

use crate::error::DecodeError;
use crate::time::UtcTime;
use crate::xml::Element;

/// Trimmed text of the required child `name` of `parent` (described as `context`).
pub(crate) fn text<'a>(
    parent: &'a Element,
    name: &str,
    context: &str,
) -> Result<&'a str, DecodeError> {
    parent.require(name, context).map(Element::text)
}

/// Trimmed text of child `name` as an owned string.
pub(crate) fn string(parent: &Element, name: &str, context: &str) -> Result<String, DecodeError> {
    text(parent, name, context).map(str::to_owned)
}

/// An `xs:boolean` (`true`/`false`/`1`/`0`, case ignored).
pub(crate) fn boolean(parent: &Element, name: &str, context: &str) -> Result<bool, DecodeError> {
    let value = text(parent, name, context)?;
    parse_bool(value).ok_or_else(|| DecodeError::invalid(name, value, "`true` or `false`"))
}

pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") || value == "1" {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") || value == "0" {
        Some(false)
    } else {
        None
    }
}

/// An integer of type `T`; `expected` describes its range for the error.
pub(crate) fn integer<T: FromStr>(
    parent: &Element,
    name: &str,
    context: &str,
    expected: &str,
) -> Result<T, DecodeError> {
    let value = text(parent, name, context)?;
    value
        .parse()
        .map_err(|_| DecodeError::invalid(name, value, expected))
}

/// An `xs:dateTime`, see [`UtcTime::parse`].
pub(crate) fn time(parent: &Element, name: &str, context: &str) -> Result<UtcTime, DecodeError> {
    let value = text(parent, name, context)?;
    UtcTime::parse(value).map_err(|_| {
        DecodeError::invalid(
            name,
            value,
            "an xs:dateTime like 2023-07-20T18:52:49.0530000Z (zone-less means UTC)",
        )
    })
}
