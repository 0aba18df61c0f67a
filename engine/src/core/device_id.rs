//! [`DeviceId`]: a device GUID, parsed once into its 128-bit value.
//!
//! Device ids are looked up in every request and reply (a probe of a
//! recorder carries hundreds), so they must not be hashed or compared as
//! strings each time. A GUID is parsed when the id is made — from a config,
//! a reply or a journal, in any case, braced or not — and from then on is
//! two machine words: equality is two integer compares, hashing writes a
//! 64-bit key mixed from them, and an id is 24 bytes that copy into a
//! request, a reply or a lookup table without touching shared memory (with
//! a reference-counted text, every probe bumped and dropped the counts of
//! hundreds of allocations scattered over the heap, a cost that grew with
//! the installation).
//!
//! Its text is made only where text is wanted (XML, JSON, reports): the
//! canonical .NET form, lower-case `8-4-4-4-12` without braces. Ids that
//! are not GUIDs (test fixtures use names) keep a reference-counted text.
//! Order is the canonical text's order: for two GUIDs that is the order of
//! their values, most significant hex digit first.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A device GUID on one recorder (XProtect's `deviceId`).
///
/// Equal GUIDs are equal ids whatever case and braces a config, a reply or
/// a journal wrote them in. Anything that is not a GUID (test fixtures use
/// names) is kept as given and compared as text.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceId(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    /// The GUID's 128 bits as written in its text, most significant first:
    /// `hi` holds the first 16 hex digits, `lo` the last 16.
    Guid { hi: u64, lo: u64 },
    /// Anything else, as given.
    Other(Arc<str>),
}

/// Length of a GUID's canonical text.
const GUID_LEN: usize = 36;

impl DeviceId {
    pub fn new(s: impl AsRef<str>) -> Self {
        let s = s.as_ref();
        match parse_guid(s) {
            Some(v) => DeviceId(Repr::Guid {
                hi: (v >> 64) as u64,
                lo: v as u64,
            }),
            None => DeviceId(Repr::Other(Arc::from(s))),
        }
    }

    /// A 64-bit key of the id: equal ids have equal keys, so a table of
    /// keys finds candidates without reading ids. For a GUID it folds both
    /// halves with one multiply (every lookup computes it, and the hash
    /// tables mix it further); for a name it is FNV-1a of the text.
    pub fn key(&self) -> u64 {
        match &self.0 {
            Repr::Guid { hi, lo } => hi.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ lo,
            Repr::Other(s) => fnv1a(s.as_bytes()),
        }
    }

    /// The id's canonical text: a GUID in .NET's form, a name as given.
    pub fn text(&self) -> IdText<'_> {
        match &self.0 {
            Repr::Guid { hi, lo } => IdText::Guid(guid_text(*hi, *lo)),
            Repr::Other(s) => IdText::Other(s),
        }
    }
}

/// The text of a [`DeviceId`], made on demand; reads as a `&str`.
pub enum IdText<'a> {
    /// A GUID written out (ASCII by construction).
    Guid([u8; GUID_LEN]),
    Other(&'a str),
}

impl Deref for IdText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // `guid_text` writes only ASCII hex digits and dashes, so the
            // check cannot fail.
            IdText::Guid(g) => std::str::from_utf8(g).unwrap_or_default(),
            IdText::Other(s) => s,
        }
    }
}

/// The value of a GUID in any case, braced or not, with blanks around it:
/// its 32 hex digits read most significant first.
fn parse_guid(s: &str) -> Option<u128> {
    let t = s.trim();
    let t = match (t.strip_prefix('{'), t.ends_with('}')) {
        (Some(inner), true) => &inner[..inner.len() - 1],
        _ => t,
    };
    let bytes = t.as_bytes();
    if bytes.len() != GUID_LEN {
        return None;
    }
    let mut value: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(16)?;
        value = value << 4 | u128::from(digit);
    }
    Some(value)
}

/// The canonical text of the GUID `hi`:`lo`.
fn guid_text(hi: u64, lo: u64) -> [u8; GUID_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let value = u128::from(hi) << 64 | u128::from(lo);
    let mut out = [b'-'; GUID_LEN];
    let mut digit = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        let nibble = (value >> (124 - 4 * digit)) & 0xf;
        *slot = HEX[nibble as usize];
        digit += 1;
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Hash for DeviceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal ids have equal keys.
        state.write_u64(self.key());
    }
}

impl PartialOrd for DeviceId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DeviceId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            // Lower-case hex digits sort like their values, and the dashes
            // sit at the same places, so value order is text order.
            (Repr::Guid { hi: a, lo: b }, Repr::Guid { hi: c, lo: d }) => (a, b).cmp(&(c, d)),
            _ => self.text().cmp(&other.text()),
        }
    }
}

impl Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// `s` as a canonical GUID (lower-case `8-4-4-4-12`, no braces, no
/// surrounding blanks), if it is a GUID in any case, braced or not.
pub fn canonical_guid(s: &str) -> Option<String> {
    let v = parse_guid(s)?;
    let text = guid_text((v >> 64) as u64, v as u64);
    Some(String::from_utf8_lossy(&text).into_owned())
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(DeviceId::new(s))
    }
}
impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}
impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}
impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        DeviceId::new(s)
    }
}
