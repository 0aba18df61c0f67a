//! Writing SOAP messages: every envelope this crate sends or answers is
//! written here, through quick-xml's [`Writer`] (reading is `xml.rs`).
//!
//! The style is what ASMX services write, and what the golden snapshots
//! hold: an XML declaration with `encoding="utf-8"`, two-space indentation,
//! leaf elements on one line, empty elements as `<name />`, a final newline.
//! Two things stay ours, on purpose:
//! - text goes through [`crate::xml::escape`], not quick-xml's escaping,
//!   because it must also keep `\r` (as `&#13;`, or end-of-line
//!   normalisation would eat it) and replace characters XML 1.0 cannot carry;
//! - quick-xml writes empty elements as `<name/>`; the space .NET puts before
//!   `/>` is kept as part of the element's attribute content.

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::envelope::SoapVersion;
use crate::xml::escape;

/// An XML document being written with the crate's style.
pub(crate) struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            writer: Writer::new_with_indent(Vec::with_capacity(1024), b' ', 2),
        }
    }

    /// Writing into a `Vec<u8>` cannot fail; quick-xml's `io::Result` is
    /// for writers that can.
    fn put(&mut self, event: Event<'_>) {
        let _ = self.writer.write_event(event);
    }

    /// `<name attr="…">`, to be closed with [`Xml::close`].
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.put(Event::Start(start));
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) {
        self.put(Event::End(BytesEnd::new(name)));
    }

    /// `<name attr="…">text</name>` on one line.
    pub(crate) fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.put(Event::Text(BytesText::from_escaped(escape(text))));
        self.close(name);
    }

    /// `<name>text</name>` on one line.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_with(name, &[], text);
    }

    /// `<name attr="…" />`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        let content = format!("{} ", String::from_utf8_lossy(&start));
        self.put(Event::Empty(BytesStart::from_content(
            Cow::Owned(content),
            name.len(),
        )));
    }

    /// `<name>…</name>` around what `inner` writes, or `<name />` when
    /// `empty`.
    pub(crate) fn element(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        empty: bool,
        inner: impl FnOnce(&mut Xml),
    ) {
        if empty {
            self.empty(name, attrs);
        } else {
            self.open(name, attrs);
            inner(self);
            self.close(name);
        }
    }
}

/// A SOAP envelope in `version` around the Body content `body` writes.
pub(crate) fn envelope(version: SoapVersion, body: impl FnOnce(&mut Xml)) -> String {
    let p = version.prefix();
    let envelope = format!("{p}:Envelope");
    let body_name = format!("{p}:Body");
    let xmlns = format!("xmlns:{p}");
    let mut xml = Xml::new();
    xml.put(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    xml.open(&envelope, &[(xmlns.as_str(), version.namespace())]);
    xml.open(&body_name, &[]);
    body(&mut xml);
    xml.close(&body_name);
    xml.close(&envelope);
    let mut out = String::from_utf8(xml.writer.into_inner())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    out.push('\n');
    out
}
