//! A site's configuration as its REST API reports it, and the JSON shapes
//! it comes in (collections are `{"array": [...]}`; unknown fields, of which
//! real sites send many, are ignored).

use serde::Deserialize;

use crate::core::{canonical_guid, DeviceId, Nanos, MILLIS, SECS};

/// XProtect's defaults when a camera does not say: "stop manual recording
/// after" on with 5 minutes, a 3 s pre-buffer.
const DEFAULT_TIMEOUT_MINUTES: f64 = 5.0;
const DEFAULT_PREBUFFER_SECONDS: f64 = 3.0;

/// One recording server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingServer {
    /// Canonical (lower-case) GUID.
    pub id: String,
    pub name: String,
    /// `webServerUri` (else `activeWebServerUri`): where its
    /// RecorderCommandService lives.
    pub web_server_uri: String,
}

/// One hardware device (an encoder or a camera body with channels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardware {
    pub id: String,
    pub name: String,
    /// The device's own address (URL or IP), as the site has it.
    pub address: String,
    /// Index into [`SiteInventory::recorders`].
    pub recorder: usize,
}

/// One camera (a channel of a hardware device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camera {
    pub id: DeviceId,
    pub name: String,
    /// Index into [`SiteInventory::hardware`].
    pub hardware: usize,
    pub channel: u32,
    pub enabled: bool,
    /// "Stop manual recording after"; `None` is off.
    pub manual_recording_max: Option<Nanos>,
    /// Pre-buffer (0 when the site has it disabled).
    pub prebuffer: Nanos,
}

/// Everything one site reported, consistent: every camera has its hardware,
/// every hardware its recording server. What did not fit is in `problems`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteInventory {
    pub recorders: Vec<RecordingServer>,
    pub hardware: Vec<Hardware>,
    pub cameras: Vec<Camera>,
    /// Items left out, each a sentence naming the item and what was wrong.
    pub problems: Vec<String>,
}

impl SiteInventory {
    /// The recording server camera `c` lives on.
    pub fn recorder_of(&self, c: usize) -> &RecordingServer {
        &self.recorders[self.hardware[self.cameras[c].hardware].recorder]
    }

    /// The hardware of camera `c`.
    pub fn hardware_of(&self, c: usize) -> &Hardware {
        &self.hardware[self.cameras[c].hardware]
    }

    /// Camera index by device id.
    pub fn camera_index(&self) -> std::collections::HashMap<&DeviceId, usize> {
        self.cameras
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.id, i))
            .collect()
    }
}

#[derive(Deserialize)]
struct Collection<T> {
    array: Vec<T>,
}

#[derive(Deserialize)]
struct Relation {
    id: String,
}

#[derive(Deserialize, Default)]
struct Relations {
    parent: Option<Relation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestRecorder {
    id: String,
    name: String,
    web_server_uri: Option<String>,
    active_web_server_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestHardware {
    id: String,
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    relations: Relations,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestCamera {
    id: String,
    name: String,
    #[serde(default)]
    channel: u32,
    enabled: Option<bool>,
    prebuffer_enabled: Option<bool>,
    prebuffer_seconds: Option<f64>,
    manual_recording_timeout_enabled: Option<bool>,
    manual_recording_timeout_minutes: Option<f64>,
    #[serde(default)]
    relations: Relations,
}

/// Which collection a JSON text is (for messages).
fn parse<T: for<'de> Deserialize<'de>>(what: &str, text: &str) -> Result<Vec<T>, String> {
    serde_json::from_str::<Collection<T>>(text)
        .map(|c| c.array)
        .map_err(|e| format!("`{what}` is not the expected JSON ({e})"))
}

/// Duration of a number of `unit`s (minutes or seconds; real sites send
/// whole numbers, test sites may send fractions), to the millisecond.
fn duration(value: f64, unit: Nanos) -> Option<Nanos> {
    (value.is_finite() && value >= 0.0).then(|| {
        let ms = (value * (unit / MILLIS) as f64).round();
        (ms as Nanos).saturating_mul(MILLIS)
    })
}

/// A site's inventory from the JSON bodies of `recordingServers`,
/// `hardware` and `cameras`. An `Err` means a body was not the API's JSON
/// at all; items that do not fit together are left out and named in
/// [`SiteInventory::problems`].
pub fn from_rest_json(
    recording_servers: &str,
    hardware: &str,
    cameras: &str,
) -> Result<SiteInventory, String> {
    let rest_recorders: Vec<RestRecorder> = parse("recordingServers", recording_servers)?;
    let rest_hardware: Vec<RestHardware> = parse("hardware", hardware)?;
    let rest_cameras: Vec<RestCamera> = parse("cameras", cameras)?;
    let mut inv = SiteInventory::default();
    let guid = |s: &str| canonical_guid(s).unwrap_or_else(|| s.trim().to_ascii_lowercase());

    let mut recorder_by_id = std::collections::HashMap::new();
    for r in rest_recorders {
        let Some(uri) = r.web_server_uri.or(r.active_web_server_uri) else {
            inv.problems.push(format!(
                "recording server \"{}\" ({}) has no webServerUri; its cameras cannot be reached",
                r.name, r.id
            ));
            continue;
        };
        recorder_by_id.insert(guid(&r.id), inv.recorders.len());
        inv.recorders.push(RecordingServer {
            id: guid(&r.id),
            name: r.name,
            web_server_uri: uri,
        });
    }

    let mut hardware_by_id = std::collections::HashMap::new();
    for h in rest_hardware {
        let parent = h.relations.parent.as_ref().map(|p| guid(&p.id));
        let Some(&recorder) = parent.as_ref().and_then(|p| recorder_by_id.get(p)) else {
            inv.problems.push(match parent {
                None => format!(
                    "hardware \"{}\" ({}) has no recording server (no parent relation)",
                    h.name, h.id
                ),
                Some(p) => format!(
                    "hardware \"{}\" ({}) belongs to recording server {p}, which the site does \
                     not list",
                    h.name, h.id
                ),
            });
            continue;
        };
        hardware_by_id.insert(guid(&h.id), inv.hardware.len());
        inv.hardware.push(Hardware {
            id: guid(&h.id),
            name: h.name,
            address: h.address,
            recorder,
        });
    }

    let mut seen = std::collections::HashSet::new();
    for c in rest_cameras {
        let parent = c.relations.parent.as_ref().map(|p| guid(&p.id));
        let Some(&hw) = parent.as_ref().and_then(|p| hardware_by_id.get(p)) else {
            inv.problems.push(match parent {
                None => format!(
                    "camera \"{}\" ({}) has no hardware (no parent relation)",
                    c.name, c.id
                ),
                Some(p) => format!(
                    "camera \"{}\" ({}) belongs to hardware {p}, which the site does not list \
                     (or lists without a recording server)",
                    c.name, c.id
                ),
            });
            continue;
        };
        let id = DeviceId::new(&c.id);
        if !seen.insert(id.clone()) {
            inv.problems.push(format!(
                "camera id {} is listed twice (\"{}\" is left out)",
                id, c.name
            ));
            continue;
        }
        let manual_recording_max = if c.manual_recording_timeout_enabled.unwrap_or(true) {
            duration(
                c.manual_recording_timeout_minutes
                    .unwrap_or(DEFAULT_TIMEOUT_MINUTES),
                60 * SECS,
            )
            .filter(|&d| d > 0)
        } else {
            None
        };
        let prebuffer = if c.prebuffer_enabled.unwrap_or(true) {
            duration(
                c.prebuffer_seconds.unwrap_or(DEFAULT_PREBUFFER_SECONDS),
                SECS,
            )
            .unwrap_or(0)
        } else {
            0
        };
        inv.cameras.push(Camera {
            id,
            name: c.name,
            hardware: hw,
            channel: c.channel,
            enabled: c.enabled.unwrap_or(true),
            manual_recording_max,
            prebuffer,
        });
    }
    Ok(inv)
}

/// A hardware address as compared across sites: scheme and host in lower
/// case, the scheme's default port left out, no trailing slashes. An
/// address that is not a URL (a bare IP, a host name) is only lower-cased.
pub fn normalize_address(address: &str) -> String {
    let a = address.trim();
    match reqwest::Url::parse(a) {
        Ok(u) if u.host_str().is_some() => {
            let host = u.host_str().unwrap_or_default();
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let path = u.path().trim_end_matches('/');
            format!("{}://{host}{port}{path}", u.scheme())
        }
        _ => a.trim_end_matches('/').to_ascii_lowercase(),
    }
}

/// A recording server URL as compared with a config's `recorder_urls`:
/// the address, without the RecorderCommandService path an engine appends
/// (paths compare case-insensitively, as IIS serves them).
pub fn normalize_url(url: &str) -> String {
    let a = normalize_address(url);
    let path = xprotect::RECORDER_PATH.trim_end_matches('/');
    let lower = a.to_ascii_lowercase();
    match lower.strip_suffix(&path.to_ascii_lowercase()) {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => lower,
    }
}
