//! [`DeviceId`]: a device GUID, canonicalised once and compared by a key
//! computed once.
//!
//! Device ids are looked up in every request and reply (a probe of a
//! recorder carries hundreds), so they must not be hashed or compared as
//! strings each time: an id carries a 64-bit key of its canonical text,
//! computed when it is made; hashing writes that key, equality checks the
//! shared allocation first, then the key, and reads the text only when the
//! keys match. Order is the text's order, as before.

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
    text: Arc<str>,
    /// FNV-1a of `text`: what hashing and a first comparison use.
    key: u64,
}

impl DeviceId {
    pub fn new(s: impl AsRef<str>) -> Self {
        let s = s.as_ref();
        let text: Arc<str> = match canonical_guid(s) {
            Some(g) => Arc::from(g),
            None => Arc::from(s),
        };
        let key = fnv1a(text.as_bytes());
        DeviceId { text, key }
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl PartialEq for DeviceId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.text, &other.text) || (self.key == other.key && self.text == other.text)
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
        self.text.cmp(&other.text)
    }
}

impl Serialize for DeviceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
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
        fmt::Debug::fmt(&*self.text, f)
    }
}
impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        DeviceId::new(s)
    }
}
