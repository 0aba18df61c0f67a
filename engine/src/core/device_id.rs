//! [`DeviceId`]: a device GUID, canonicalised once and compared by a key
//! computed once.
//!
//! Device ids are looked up in every request and reply (a probe of a
//! recorder carries hundreds), so they must not be hashed or compared as
//! strings each time: an id carries a 64-bit key of its canonical text,
//! computed when it is made; hashing writes that key, equality checks the
//! key first and reads the text only when the keys match. Order is the
//! text's order.
//!
//! A GUID's canonical text (36 bytes) is kept inline, so copying an id into
//! a request, a reply or a lookup table never touches shared memory: with a
//! reference-counted text, every probe bumped and dropped the counts of
//! hundreds of allocations scattered over the heap, a cost that grew with
//! the installation (the counts stop fitting in cache). Ids that are not
//! GUIDs (test fixtures use names) share a reference-counted text.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A device GUID on one recorder (XProtect's `deviceId`).
///
/// GUIDs are kept the way .NET writes them — lower-case, without braces —
/// whatever case and braces a config, a reply or a journal used, so that
/// every comparison in the engine is case-insensitive and brace-blind.
/// Anything that is not a GUID (test fixtures use names) is kept as given.
#[derive(Clone)]
pub struct DeviceId {
    text: Text,
    /// FNV-1a of the text: what hashing and a first comparison use.
    key: u64,
}

/// The canonical text of an id.
#[derive(Clone, PartialEq, Eq)]
enum Text {
    /// A canonical GUID: lower-case ASCII `8-4-4-4-12`.
    Guid([u8; GUID_LEN]),
    /// Anything else, as given.
    Other(Arc<str>),
}

const GUID_LEN: usize = 36;

impl DeviceId {
    pub fn new(s: impl AsRef<str>) -> Self {
        let s = s.as_ref();
        let text =
            match canonical_guid(s).and_then(|g| <[u8; GUID_LEN]>::try_from(g.as_bytes()).ok()) {
                Some(g) => Text::Guid(g),
                None => Text::Other(Arc::from(s)),
            };
        let id = DeviceId { text, key: 0 };
        DeviceId {
            key: fnv1a(id.as_str().as_bytes()),
            ..id
        }
    }
    /// The 64-bit key of the canonical text (FNV-1a): equal ids have
    /// equal keys, so a table of keys finds candidates without reading ids.
    pub fn key(&self) -> u64 {
        self.key
    }
    pub fn as_str(&self) -> &str {
        match &self.text {
            // ASCII by construction (`canonical_guid` checks every byte), so
            // the check cannot fail.
            Text::Guid(g) => std::str::from_utf8(g).unwrap_or_default(),
            Text::Other(s) => s,
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl PartialEq for DeviceId {
    fn eq(&self, other: &Self) -> bool {
        // A GUID and a name never have the same text: `new` keeps every
        // GUID in the inline form.
        self.key == other.key && self.text == other.text
    }
}
impl Eq for DeviceId {}

impl Hash for DeviceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal ids have equal texts, hence equal keys.
        state.write_u64(self.key);
    }
}

impl PartialOrd for DeviceId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DeviceId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.text, &other.text) {
            // Byte order of ASCII is its text order.
            (Text::Guid(a), Text::Guid(b)) => a.cmp(b),
            _ => self.as_str().cmp(other.as_str()),
        }
    }
}

impl Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `s` as a canonical GUID (lower-case `8-4-4-4-12`, no braces, no
/// surrounding blanks), if it is a GUID in any case, braced or not.
pub fn canonical_guid(s: &str) -> Option<String> {
    let t = s.trim();
    let t = match (t.strip_prefix('{'), t.ends_with('}')) {
        (Some(inner), true) => &inner[..inner.len() - 1],
        _ => t,
    };
    let groups: Vec<&str> = t.split('-').collect();
    let shape_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    shape_ok.then(|| t.to_ascii_lowercase())
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(DeviceId::new(s))
    }
}
impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        DeviceId::new(s)
    }
}
