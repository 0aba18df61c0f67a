//! `dualrec recorder --inventory FILE`: a site's configuration in TOML.
//!
//! ```toml
//! [site]                          # optional
//! name = "primary"                # default: the --site name
//! [[recorder]]
//! name = "rec-0"                  # the i-th [[recorder]] is the site's recorder i
//! [[hardware]]
//! name = "enc-01"
//! address = "http://127.10.0.1/"  # data only, never contacted
//! recorder = "rec-0"
//! [[camera]]
//! id = "GUID"
//! name = "Cam 01"
//! hardware = "enc-01"
//! channel = 0
//! manual_recording_max = "5m"     # or "off"; default: the site's
//! prebuffer = "3s"                # default: the site's
//! ```
//!
//! Recorders, hardware and the site may carry an `id` (a GUID); without one
//! a GUID is derived from the site and item names. Every mistake is an
//! [`InventoryError`] naming `file:line:col` and what was expected.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use engine::core::{canonical_guid, DeviceId, DeviceSettings};
use engine::duration::{Dur, DurOrOff};
use engine::input::{line_col, tidy_toml_message};

use super::{derived_guid, Inventory, InventoryCamera, InventoryHardware, InventoryRecorder};

/// An inventory file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{file}: cannot read the inventory: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    site: Option<RawSite>,
    #[serde(default)]
    recorder: Vec<Spanned<RawRecorder>>,
    #[serde(default)]
    hardware: Vec<Spanned<RawHardware>>,
    #[serde(default)]
    camera: Vec<Spanned<RawCamera>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: Option<String>,
    id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecorder {
    name: Spanned<String>,
    id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHardware {
    name: Spanned<String>,
    id: Option<Spanned<String>>,
    address: String,
    model: Option<String>,
    recorder: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    id: Spanned<String>,
    name: Spanned<String>,
    hardware: Spanned<String>,
    #[serde(default)]
    channel: u32,
    manual_recording_max: Option<Spanned<DurOrOff>>,
    prebuffer: Option<Dur>,
}

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> InventoryError {
        let (line, col) = line_col(self.text, span.start);
        InventoryError::Invalid {
            file: self.file.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }

    fn guid(&self, s: &Spanned<String>, what: &str) -> Result<String, InventoryError> {
        canonical_guid(s.get_ref()).ok_or_else(|| {
            self.err(
                s.span(),
                format!(
                    "`{}` is not a GUID; expected the {what}'s id like \
                     a8a8b9dc-3995-49ed-9b00-62caac2ce74a",
                    s.get_ref()
                ),
            )
        })
    }
}

/// Reads and validates an inventory file; `site` is the site's name unless
/// the file's `[site]` names it.
pub fn load_inventory(path: &Path, site: &str) -> Result<Inventory, InventoryError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
        file: file.clone(),
        source,
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let (line, col) = line_col(&text, valid);
            return Err(InventoryError::Invalid {
                file,
                line,
                col,
                message: "invalid UTF-8; expected a UTF-8 text file".into(),
            });
        }
    };
    parse_inventory(&file, &text, site)
}

/// Validates inventory text `text` (named `file` in messages).
pub fn parse_inventory(file: &str, text: &str, site: &str) -> Result<Inventory, InventoryError> {
    let cx = Cx { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, tidy_toml_message(e.message()))
    })?;
    let site_name = raw
        .site
        .as_ref()
        .and_then(|s| s.name.clone())
        .unwrap_or_else(|| site.to_owned());
    let site_id = match raw.site.as_ref().and_then(|s| s.id.as_ref()) {
        Some(id) => cx.guid(id, "site")?,
        None => derived_guid(&[&site_name, "site"]),
    };
    if raw.recorder.is_empty() {
        return Err(cx.err(
            0..0,
            "no `[[recorder]]`; expected at least one recording server",
        ));
    }
    if raw.camera.is_empty() {
        return Err(cx.err(0..0, "no `[[camera]]`; expected at least one camera"));
    }
    let mut ids: HashSet<String> = HashSet::new();
    let mut unique_id = |cx: &Cx<'_>, id: String, span: std::ops::Range<usize>| {
        if ids.insert(id.clone()) {
            Ok(id)
        } else {
            Err(cx.err(
                span,
                format!("id {id} is used twice; expected every id once"),
            ))
        }
    };

    let mut recorder_index: HashMap<&str, usize> = HashMap::new();
    let mut recorders = Vec::with_capacity(raw.recorder.len());
    for r in &raw.recorder {
        let r = r.get_ref();
        let name = r.name.get_ref().as_str();
        if recorder_index.insert(name, recorders.len()).is_some() {
            return Err(cx.err(
                r.name.span(),
                format!("recorder `{name}` is defined twice; expected unique recorder names"),
            ));
        }
        let id = match &r.id {
            Some(id) => unique_id(&cx, cx.guid(id, "recorder")?, id.span())?,
            None => derived_guid(&[&site_name, "recorder", name]),
        };
        recorders.push(InventoryRecorder {
            id,
            name: name.to_owned(),
        });
    }

    let mut hardware_index: HashMap<&str, usize> = HashMap::new();
    let mut hardware = Vec::with_capacity(raw.hardware.len());
    for h in &raw.hardware {
        let h = h.get_ref();
        let name = h.name.get_ref().as_str();
        if hardware_index.insert(name, hardware.len()).is_some() {
            return Err(cx.err(
                h.name.span(),
                format!("hardware `{name}` is defined twice; expected unique hardware names"),
            ));
        }
        let Some(&recorder) = recorder_index.get(h.recorder.get_ref().as_str()) else {
            return Err(cx.err(
                h.recorder.span(),
                format!(
                    "unknown recorder `{}`; expected the name of a `[[recorder]]`",
                    h.recorder.get_ref()
                ),
            ));
        };
        let id = match &h.id {
            Some(id) => unique_id(&cx, cx.guid(id, "hardware")?, id.span())?,
            None => derived_guid(&[&site_name, "hardware", name]),
        };
        hardware.push(InventoryHardware {
            id,
            name: name.to_owned(),
            address: h.address.clone(),
            model: h.model.clone().unwrap_or_else(|| "Mock camera".to_owned()),
            recorder,
        });
    }

    let mut names: HashSet<&str> = HashSet::new();
    let mut channels: HashSet<(usize, u32)> = HashSet::new();
    let mut cameras = Vec::with_capacity(raw.camera.len());
    for c in &raw.camera {
        let c = c.get_ref();
        let name = c.name.get_ref().as_str();
        if !names.insert(name) {
            return Err(cx.err(
                c.name.span(),
                format!("camera `{name}` is defined twice; expected unique camera names on a site"),
            ));
        }
        let Some(&hw) = hardware_index.get(c.hardware.get_ref().as_str()) else {
            return Err(cx.err(
                c.hardware.span(),
                format!(
                    "unknown hardware `{}`; expected the name of a `[[hardware]]`",
                    c.hardware.get_ref()
                ),
            ));
        };
        if !channels.insert((hw, c.channel)) {
            return Err(cx.err(
                c.hardware.span(),
                format!(
                    "channel {} of hardware `{}` has two cameras; expected one camera per channel",
                    c.channel,
                    c.hardware.get_ref()
                ),
            ));
        }
        let id = unique_id(&cx, cx.guid(&c.id, "camera")?, c.id.span())?;
        let manual_recording_max = match &c.manual_recording_max {
            Some(m) if m.get_ref().0 == Some(0) => return Err(cx.err(
                m.span(),
                "`manual_recording_max` is 0s; expected a positive duration like `5m`, or \"off\"",
            )),
            Some(m) => Some(m.get_ref().0),
            None => None,
        };
        cameras.push(InventoryCamera {
            id: DeviceId::new(&id),
            name: name.to_owned(),
            hardware: hw,
            channel: c.channel,
            settings: DeviceSettings {
                manual_recording_max,
                prebuffer: c.prebuffer.map(|p| p.0),
            },
        });
    }
    Ok(Inventory {
        site_id,
        site_name,
        recorders,
        hardware,
        cameras,
    })
}
