//! Serde input types: the scenario file as written, with source spans.
//!
//! Every table denies unknown keys (serde then names the allowed ones).
//! Durations are parsed while deserializing ([`Dur`]), so a bad duration is
//! reported at its own value. Everything that needs more than one value to
//! check (names, ranges, windows) is done in `validate`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

pub use engine::duration::{Dur, DurOrOff};
pub use engine::policy_input::PolicyOverrides;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub scenario: Spanned<RawHeader>,
    #[serde(default)]
    pub site: Vec<Spanned<RawSite>>,
    pub cameras: Spanned<RawCameras>,
    #[serde(default)]
    pub camera_settings: Vec<Spanned<RawCameraSettings>>,
    #[serde(default)]
    pub session: Vec<Spanned<RawSession>>,
    #[serde(default)]
    pub click: Vec<Spanned<RawClick>>,
    #[serde(default)]
    pub workload: Vec<Spanned<RawWorkload>>,
    #[serde(default)]
    pub fault: Vec<Spanned<RawFault>>,
    pub policy: Option<PolicyOverrides>,
    pub guarantees: Option<RawGuarantees>,
}

/// `[scenario]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: Spanned<Dur>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    pub settle: Option<Spanned<Dur>>,
    pub orphan_grace: Option<Spanned<Dur>>,
    pub virtual_only: Option<Spanned<bool>>,
    pub reason: Option<Spanned<String>>,
    pub real_time_scale: Option<Spanned<f64>>,
    pub real_tolerance: Option<Spanned<Dur>>,
    /// Guarantee keys checked in virtual time only.
    #[serde(default)]
    pub real_unchecked: Vec<Spanned<String>>,
    /// Engine replicas sharing a journal (default 1).
    pub engines: Option<Spanned<i64>>,
}

/// `[[site]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub name: Spanned<String>,
    pub latency: Option<Spanned<RawDist>>,
    pub manual_recording_max: Option<Spanned<DurOrOff>>,
    pub prebuffer: Option<Spanned<Dur>>,
    pub recorders: Option<Spanned<u64>>,
    pub start_extends_timer: Option<bool>,
    pub token_ttl: Option<Spanned<Dur>>,
    pub login: Option<Spanned<String>>,
    pub lockout_after: Option<Spanned<u64>>,
}

/// A distribution table: `{ dist = "lognormal", median = "15ms", p99 = "80ms" }`.
/// Which keys belong to which `dist` is checked in `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: Spanned<String>,
    pub value: Option<Spanned<Dur>>,
    pub min: Option<Spanned<Dur>>,
    pub max: Option<Spanned<Dur>>,
    pub mean: Option<Spanned<Dur>>,
    pub stddev: Option<Spanned<Dur>>,
    pub median: Option<Spanned<Dur>>,
    pub p99: Option<Spanned<Dur>>,
    pub scale: Option<Spanned<Dur>>,
    pub shape: Option<Spanned<f64>>,
}

/// `[cameras]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCameras {
    pub count: Spanned<u64>,
}

/// `[[camera_settings]]`: cameras' own auto-stop and pre-buffer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCameraSettings {
    pub cameras: Spanned<String>,
    pub site: Option<Spanned<String>>,
    pub manual_recording_max: Option<Spanned<DurOrOff>>,
    pub prebuffer: Option<Spanned<Dur>>,
}

/// `[[session]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    pub camera: Spanned<String>,
    pub start: Spanned<Dur>,
    pub stop: Option<Spanned<Dur>>,
}

/// `[[click]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClick {
    pub camera: Spanned<String>,
    pub at: Spanned<Dur>,
    pub recording: bool,
}

/// `[[workload]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub cameras: Spanned<String>,
    pub arrivals: Spanned<RawArrivals>,
    pub length: Spanned<RawDist>,
    pub from: Option<Spanned<Dur>>,
    pub until: Option<Spanned<Dur>>,
}

/// `arrivals = { per_minute = 6 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub per_minute: Spanned<f64>,
}

/// `[[fault]]`; which keys a `kind` needs is checked in `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub site: Option<Spanned<String>>,
    pub kind: Spanned<String>,
    pub at: Spanned<Dur>,
    #[serde(rename = "for")]
    pub for_: Option<Spanned<Dur>>,
    pub rate: Option<Spanned<f64>>,
    pub latency: Option<Spanned<RawDist>>,
    pub camera: Option<Spanned<String>>,
    pub every: Option<Spanned<Dur>>,
    pub until: Option<Spanned<Dur>>,
    /// `engine_crash` only: `"leader"`, `"standby"` or a replica index.
    pub engine: Option<Spanned<toml::Value>>,
}

/// A guarantee's value: a condition string, or something else (kept as a
/// type name so validation can explain, e.g. an unquoted dotted key).
#[derive(Debug)]
pub enum RawCondition {
    Text(String),
    /// `toml` made a table: the key was written with bare dots.
    Table,
    /// Any other value type, by name.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for RawCondition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCondition;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a condition like \"< 300ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCondition, E> {
                Ok(RawCondition::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawCondition, E> {
                Ok(RawCondition::Other("an integer"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawCondition, E> {
                Ok(RawCondition::Other("an integer"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawCondition, E> {
                Ok(RawCondition::Other("a float"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawCondition, E> {
                Ok(RawCondition::Other("a boolean"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<RawCondition, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(RawCondition::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawCondition, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(RawCondition::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[guarantees]` entries, in file order (sorted by key position, since the
/// TOML map itself may be ordered by key).
#[derive(Debug, Default)]
pub struct RawGuarantees(pub Vec<(Spanned<String>, Spanned<RawCondition>)>);

impl<'de> Deserialize<'de> for RawGuarantees {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawGuarantees;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of guarantees like `\"start_skew.p99\" = \"< 100ms\"`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawGuarantees, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry::<Spanned<String>, Spanned<RawCondition>>()? {
                    out.push(entry);
                }
                out.sort_by_key(|(k, _)| k.span().start);
                Ok(RawGuarantees(out))
            }
        }
        d.deserialize_map(V)
    }
}
