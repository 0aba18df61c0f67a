//! Serde input types: the site config as written, with source spans.
//!
//! Every table denies unknown keys (serde then names the allowed ones).
//! Durations are parsed while deserializing ([`Dur`]), so a bad duration is
//! reported at its own value. Checks across values live in `validate`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

pub use crate::duration::{Dur, DurOrOff};
pub use crate::policy_input::PolicyOverrides;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub engine: Spanned<RawEngine>,
    #[serde(default)]
    pub api_key: Vec<Spanned<RawApiKey>>,
    #[serde(default)]
    pub site: Vec<Spanned<RawSite>>,
    #[serde(default)]
    pub camera: Vec<Spanned<RawCamera>>,
    pub policy: Option<PolicyOverrides>,
    /// `[acceptance]`: read by `dualrec accept` (which re-parses it from the
    /// file text, with spans); the engine only lets it through.
    #[allow(dead_code)]
    pub acceptance: Option<toml::Table>,
}

/// `[engine]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    pub listen: Spanned<String>,
    pub data_dir: Spanned<String>,
    pub max_body_bytes: Option<Spanned<u64>>,
    pub seed: Option<u64>,
    /// Replicas on a shared PostgreSQL journal (see `config::cluster`).
    pub journal_url: Option<Spanned<String>>,
    pub journal_password_env: Option<Spanned<String>>,
    pub journal_password_file: Option<Spanned<String>>,
    pub journal_ca_file: Option<Spanned<String>>,
    pub replica: Option<Spanned<String>>,
    pub advertise_url: Option<Spanned<String>>,
    pub lease: Option<Spanned<Dur>>,
    /// How often the configured devices are checked against the sites'
    /// configuration (`"off"` disables the periodic check).
    pub device_check_interval: Option<Spanned<DurOrOff>>,
    /// HTTPS: certificate chain and private key (PEM).
    pub tls_cert_file: Option<Spanned<String>>,
    pub tls_key_file: Option<Spanned<String>>,
    /// Mutual TLS: CA certificates (PEM) client certificates must chain to.
    pub tls_client_ca_file: Option<Spanned<String>>,
    /// Time for a request's headers to arrive (also bounds a keep-alive wait).
    pub header_timeout: Option<Spanned<Dur>>,
    /// Time from a request's headers to its answer (reading the body included).
    pub request_timeout: Option<Spanned<Dur>>,
    /// A connection on which no byte moves this long is closed.
    pub idle_timeout: Option<Spanned<Dur>>,
    /// Most connections served at once.
    pub max_connections: Option<Spanned<u64>>,
}

/// `role = "metrics" | "read" | "write"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawRole {
    Metrics,
    Read,
    Write,
}

/// `[[api_key]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiKey {
    pub name: Spanned<String>,
    pub key_env: Option<Spanned<String>>,
    pub key_file: Option<Spanned<String>>,
    pub key_sha256: Option<Spanned<String>>,
    pub role: RawRole,
}

/// `auth = "basic" | "windows"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawAuth {
    Basic,
    Windows,
}

/// `login = "idp" | "soap"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawLogin {
    Idp,
    Soap,
}

/// `[[site]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub name: Spanned<String>,
    pub management_url: Spanned<String>,
    pub recorder_url: Option<Spanned<String>>,
    pub recorder_urls: Option<Spanned<Vec<Spanned<String>>>>,
    pub username: Spanned<String>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub auth: Option<RawAuth>,
    pub login: Option<RawLogin>,
    pub manual_recording_max: Option<DurOrOff>,
    pub prebuffer: Option<Dur>,
    pub tls_ca_file: Option<Spanned<String>>,
    pub tls_cert_sha256: Option<Spanned<String>>,
}

/// `[[camera]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    pub name: Spanned<String>,
    #[serde(default)]
    pub test: bool,
    pub devices: Spanned<BTreeMap<Spanned<String>, Spanned<RawDevice>>>,
    /// The camera's own "stop manual recording after" on every site (the
    /// site's `manual_recording_max` is the default).
    pub manual_recording_max: Option<DurOrOff>,
    /// The camera's own pre-buffer on every site.
    pub prebuffer: Option<Dur>,
}

/// A camera's device on one site: `"GUID"` (on recorder 0) or
/// `{ device = "GUID", recorder = 1, manual_recording_max = "5m", prebuffer = "3s" }`
/// (the settings as that site has them; they win over the camera's).
#[derive(Debug)]
pub struct RawDevice {
    pub device: String,
    pub recorder: usize,
    pub manual_recording_max: Option<DurOrOff>,
    pub prebuffer: Option<Dur>,
}

impl<'de> Deserialize<'de> for RawDevice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDevice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a device GUID string, or `{ device = \"GUID\", recorder = N }` \
                     (optionally with `manual_recording_max`, `prebuffer`)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDevice, E> {
                Ok(RawDevice {
                    device: v.to_string(),
                    recorder: 0,
                    manual_recording_max: None,
                    prebuffer: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDevice, A::Error> {
                let mut device = None;
                let mut recorder = None;
                let mut manual_recording_max = None;
                let mut prebuffer = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "device" => device = Some(map.next_value::<String>()?),
                        "recorder" => recorder = Some(map.next_value::<usize>()?),
                        "manual_recording_max" => {
                            manual_recording_max = Some(map.next_value::<DurOrOff>()?)
                        }
                        "prebuffer" => prebuffer = Some(map.next_value::<Dur>()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["device", "recorder", "manual_recording_max", "prebuffer"],
                            ))
                        }
                    }
                }
                Ok(RawDevice {
                    device: device.ok_or_else(|| de::Error::missing_field("device"))?,
                    recorder: recorder.unwrap_or(0),
                    manual_recording_max,
                    prebuffer,
                })
            }
        }
        d.deserialize_any(V)
    }
}
