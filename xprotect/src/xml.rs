//! A small namespace-agnostic XML tree over `quick_xml`, and text escaping.
//!
//! Decoding of answers is liberal: elements are matched by local name (any
//! prefix, a default namespace or none; ASCII case ignored), comments,
//! processing instructions and a DOCTYPE are skipped, CDATA counts as text,
//! and anything after the root element closes is ignored. Only the namespace
//! of each element is kept, so that the SOAP version can be told from the
//! envelope.
//!
//! Requests a site receives are parsed [`Strictness::Strict`]ly, the way
//! .NET's `XmlReader` behind ASMX/WCF refuses them: a DOCTYPE, an XML
//! declaration that is malformed or not at the very start, and an element
//! whose prefix is not bound to a namespace are errors.

use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::error::{quote, DecodeError};

/// Deepest nesting accepted; SOAP messages here are 6 levels deep.
pub(crate) const MAX_DEPTH: usize = 64;

/// One element: local name, namespace, child elements and its own text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) ns: Option<String>,
    pub(crate) children: Vec<Element>,
    text: String,
}

impl Element {
    /// The element's text content (direct text only), trimmed.
    pub(crate) fn text(&self) -> &str {
        self.text.trim()
    }

    /// First child element with this local name (ASCII case ignored).
    pub(crate) fn child(&self, local: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(local))
    }

    /// First child element with this local name, or a "missing" error naming `parent`.
    pub(crate) fn require(&self, local: &str, parent: &str) -> Result<&Element, DecodeError> {
        self.child(local)
            .ok_or_else(|| DecodeError::missing(local, parent))
    }

    /// First descendant (depth first, self excluded) with this local name.
    pub(crate) fn descendant(&self, local: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name.eq_ignore_ascii_case(local) {
                Some(c)
            } else {
                c.descendant(local)
            }
        })
    }

    /// Whether this element's local name is `local` (ASCII case ignored).
    pub(crate) fn is(&self, local: &str) -> bool {
        self.name.eq_ignore_ascii_case(local)
    }
}

/// How much a parse forgives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Answers from a site: skip what does not matter.
    Lenient,
    /// Requests to a site: refuse what a .NET SOAP stack refuses.
    Strict,
}

/// Parses `input` into the tree of its root element (leniently).
pub(crate) fn parse(input: &str) -> Result<Element, DecodeError> {
    parse_with(input, Strictness::Lenient)
}

/// Parses `input` into the tree of its root element.
pub(crate) fn parse_with(input: &str, strictness: Strictness) -> Result<Element, DecodeError> {
    let strict = strictness == Strictness::Strict;
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut reader = NsReader::from_str(input);
    let mut stack: Vec<Element> = Vec::new();
    let mut seen_anything = false;
    loop {
        let before = reader.buffer_position();
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ResolveResult::Unknown(prefix), Event::Start(_) | Event::Empty(_))) if strict => {
                return Err(DecodeError::Refused(format!(
                    "namespace prefix `{}` at byte {before} is not bound to a namespace; expected \
                     an xmlns declaration for it",
                    quote(&String::from_utf8_lossy(&prefix))
                )))
            }
            Ok((ns, event)) => (namespace(&ns), event),
            Err(err) => {
                return Err(DecodeError::Xml {
                    position: reader.error_position(),
                    message: err.to_string(),
                })
            }
        };
        let position = reader.buffer_position();
        let first = !seen_anything;
        if !matches!(&event, Event::Text(t) if t.iter().all(u8::is_ascii_whitespace)) {
            seen_anything = true;
        }
        match event {
            Event::DocType(_) if strict => {
                return Err(DecodeError::Refused(
                    "a DOCTYPE is not allowed in a SOAP message; expected the Envelope without a \
                     document type declaration"
                        .to_owned(),
                ))
            }
            Event::Decl(decl) if strict => check_declaration(&decl, first && before == 0)?,
            Event::PI(pi) if strict && pi.target().eq_ignore_ascii_case(b"xml") => {
                return Err(DecodeError::Refused(
                    "malformed XML declaration: expected `<?xml version=\"1.0\" ...?>` at the very \
                     start of the message"
                        .to_owned(),
                ))
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep {
                        limit: MAX_DEPTH,
                        position,
                    });
                }
                stack.push(open(&start, ns));
            }
            Event::Empty(start) => {
                let element = open(&start, ns);
                if let Some(root) = close(&mut stack, element) {
                    return Ok(root);
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start tags.
                let Some(element) = stack.pop() else {
                    return Err(DecodeError::Xml {
                        position,
                        message: "closing tag without an opening tag".to_owned(),
                    });
                };
                if let Some(root) = close(&mut stack, element) {
                    return Ok(root);
                }
            }
            Event::Text(text) => push_text(&mut stack, &decode(text.decode(), position)?),
            Event::CData(data) => push_text(&mut stack, &decode(data.decode(), position)?),
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference, position)?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(resolved);
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                return Err(match stack.last() {
                    None => DecodeError::Empty,
                    Some(open) => DecodeError::Xml {
                        position,
                        message: format!(
                            "unexpected end of input: element `{}` is not closed",
                            quote(&open.name)
                        ),
                    },
                })
            }
        }
    }
}

/// A declaration must come first and say `version="1.0"` (and, if it names
/// one, an encoding .NET reads as UTF-8 text), with nothing else in it.
fn check_declaration(decl: &BytesDecl<'_>, at_start: bool) -> Result<(), DecodeError> {
    let bad = |why: &str| {
        DecodeError::Refused(format!(
            "malformed XML declaration: {why}; expected `<?xml version=\"1.0\" encoding=\"utf-8\"?>` \
             at the very start of the message"
        ))
    };
    if !at_start {
        return Err(bad("it is not at the very start"));
    }
    let raw = String::from_utf8_lossy(decl.as_ref()).into_owned();
    let version = decl.version().map_err(|_| bad("no version"))?;
    if version.as_ref() != b"1.0" {
        return Err(bad("the version is not 1.0"));
    }
    match decl.encoding() {
        None => {}
        Some(Ok(enc)) => {
            let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
            if !matches!(enc.as_str(), "utf-8" | "utf8" | "us-ascii") {
                return Err(bad(&format!("encoding `{}` is not UTF-8", quote(&enc))));
            }
        }
        Some(Err(_)) => return Err(bad("the encoding attribute is malformed")),
    }
    if let Some(Err(_)) = decl.standalone() {
        return Err(bad("the standalone attribute is malformed"));
    }
    // Only version, encoding and standalone may appear, each `name="value"`.
    let mut rest = raw.trim_start_matches("xml").trim();
    while !rest.is_empty() {
        let Some((name, tail)) = rest.split_once('=') else {
            return Err(bad("an attribute has no value"));
        };
        let name = name.trim();
        if !matches!(name, "version" | "encoding" | "standalone") {
            return Err(bad(&format!("unknown attribute `{}`", quote(name))));
        }
        let tail = tail.trim_start();
        let Some(quote_char) = tail.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Err(bad("an attribute value is not quoted"));
        };
        let Some(end) = tail[1..].find(quote_char) else {
            return Err(bad("an attribute value is not closed"));
        };
        rest = tail[end + 2..].trim_start();
    }
    Ok(())
}

/// Reads the namespace of the first element of `input`, if it has one.
pub(crate) fn root_namespace(input: &str) -> Option<String> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut reader = NsReader::from_str(input);
    loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(_) | Event::Empty(_))) => return namespace(&ns),
            Ok((_, Event::Eof)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn namespace(ns: &ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
    }
}

fn open(start: &BytesStart<'_>, ns: Option<String>) -> Element {
    Element {
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        ns,
        children: Vec::new(),
        text: String::new(),
    }
}

/// Attaches a finished element to its parent; returns it if it was the root.
fn close(stack: &mut [Element], element: Element) -> Option<Element> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(element);
            None
        }
        None => Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(text);
    }
}

fn decode<E: std::fmt::Display>(
    text: Result<std::borrow::Cow<'_, str>, E>,
    position: u64,
) -> Result<String, DecodeError> {
    text.map(|t| t.into_owned())
        .map_err(|err| DecodeError::Xml {
            position,
            message: err.to_string(),
        })
}

/// Resolves `&name;` / `&#N;` to its text: the five predefined entities and
/// character references; anything else is an error (no DTD is processed).
fn resolve_reference(reference: &BytesRef<'_>, position: u64) -> Result<char, DecodeError> {
    let error = |message: String| DecodeError::Xml { position, message };
    if reference.is_char_ref() {
        let ch = reference
            .resolve_char_ref()
            .map_err(|err| error(err.to_string()))?
            .ok_or_else(|| error("invalid character reference".to_owned()))?;
        return Ok(ch);
    }
    let name = String::from_utf8_lossy(reference.as_ref()).into_owned();
    match name.as_str() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(error(format!(
            "unknown entity `&{};`: expected one of &amp; &lt; &gt; &quot; &apos; or a character reference",
            quote(other)
        ))),
    }
}

/// Escapes text content for an element. Characters XML 1.0 cannot carry
/// (most C0 controls, U+FFFE, U+FFFF) become U+FFFD; `\r` is written as a
/// character reference so that it survives end-of-line normalisation.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
