//! The configuration REST API's JSON for an [`Inventory`], shaped as real
//! management servers answer (`/api/rest/v1/…`): collections as
//! `{"array": [...]}`, one item as `{"data": {...}}`; every item with `id`,
//! `name`, `displayName`, `enabled`, `description`, `lastModified` and
//! `relations` (`parent`, `self`).
//!
//! One liberty, for test sites only: a "stop manual recording after" that
//! is not whole minutes (or a pre-buffer that is not whole seconds) is
//! written as a fractional number; real sites only have whole ones.

use serde_json::{json, Value};

use engine::core::{Nanos, SECS};

use super::Inventory;

/// When every item was last changed (the mock's configuration never is).
const LAST_MODIFIED: &str = "2025-01-01T00:00:00.0000000Z";

/// The JSON views of one site's inventory.
pub struct RestView<'a> {
    pub inventory: &'a Inventory,
    /// The site's defaults: auto-stop (`None` off) and pre-buffer.
    pub default_limit: Option<Nanos>,
    pub default_prebuffer: Nanos,
    /// `scheme://host:port` the request came to (for `webServerUri`).
    pub base: String,
}

fn relation(kind: &str, id: &str) -> Value {
    json!({ "type": kind, "id": id })
}

fn item(kind: &str, id: &str, name: &str, parent: Option<(&str, &str)>) -> Value {
    let mut relations = json!({ "self": relation(kind, id) });
    if let Some((pk, pid)) = parent {
        relations["parent"] = relation(pk, pid);
    }
    json!({
        "id": id,
        "name": name,
        "displayName": name,
        "enabled": true,
        "description": "",
        "lastModified": LAST_MODIFIED,
        "relations": relations,
    })
}

/// `ns` in `unit`s: a whole number when it is one.
fn amount(ns: Nanos, unit: Nanos) -> Value {
    if ns.is_multiple_of(unit) {
        json!(ns / unit)
    } else {
        json!(ns as f64 / unit as f64)
    }
}

impl RestView<'_> {
    pub fn sites(&self) -> Value {
        let inv = self.inventory;
        let mut site = item("sites", &inv.site_id, &inv.site_name, None);
        site["timeZone"] = json!("UTC");
        site["version"] = json!("25.2");
        json!({ "array": [site] })
    }

    /// The URL of recording server `r`'s web server: the engine appends
    /// the RecorderCommandService path to it.
    pub fn web_server_uri(&self, r: usize) -> String {
        if r == 0 {
            format!("{}/", self.base)
        } else {
            format!("{}/recorder/{r}/", self.base)
        }
    }

    pub fn recording_servers(&self) -> Value {
        let inv = self.inventory;
        let host = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, h)| h);
        let (host_name, port) = match host.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().unwrap_or(7563)),
            None => (host, 7563),
        };
        let array: Vec<Value> = inv
            .recorders
            .iter()
            .enumerate()
            .map(|(r, rec)| {
                let mut v = item(
                    "recordingServers",
                    &rec.id,
                    &rec.name,
                    Some(("sites", &inv.site_id)),
                );
                let uri = self.web_server_uri(r);
                v["hostName"] = json!(host_name);
                v["portNumber"] = json!(port);
                v["webServerUri"] = json!(uri);
                v["activeWebServerUri"] = json!(uri);
                v["timeZoneName"] = json!("UTC");
                v
            })
            .collect();
        json!({ "array": array })
    }

    pub fn hardware(&self) -> Value {
        let inv = self.inventory;
        let array: Vec<Value> = inv
            .hardware
            .iter()
            .map(|h| {
                let mut v = item(
                    "hardware",
                    &h.id,
                    &h.name,
                    Some(("recordingServers", &inv.recorders[h.recorder].id)),
                );
                v["address"] = json!(h.address);
                v["model"] = json!(h.model);
                v["userName"] = json!("root");
                v
            })
            .collect();
        json!({ "array": array })
    }

    fn camera_value(&self, c: usize) -> Value {
        let inv = self.inventory;
        let cam = &inv.cameras[c];
        let mut v = item(
            "cameras",
            &cam.id.text(),
            &cam.name,
            Some(("hardware", &inv.hardware[cam.hardware].id)),
        );
        let limit = cam.settings.limit_or(self.default_limit);
        let prebuffer = cam.settings.prebuffer_or(self.default_prebuffer);
        v["channel"] = json!(cam.channel);
        v["shortName"] = json!(cam.name);
        v["recordingEnabled"] = json!(true);
        v["prebufferEnabled"] = json!(prebuffer > 0);
        v["prebufferSeconds"] = amount(prebuffer, SECS);
        v["prebufferInMemory"] = json!(true);
        v["manualRecordingTimeoutEnabled"] = json!(limit.is_some());
        v["manualRecordingTimeoutMinutes"] = amount(limit.unwrap_or(5 * 60 * SECS), 60 * SECS);
        v
    }

    pub fn cameras(&self) -> Value {
        let array: Vec<Value> = (0..self.inventory.cameras.len())
            .map(|c| self.camera_value(c))
            .collect();
        json!({ "array": array })
    }

    /// The same configuration as SOAP `GetConfiguration` answers it.
    pub fn configuration(&self) -> xprotect::configuration::ConfigurationInfo {
        use xprotect::configuration::{CameraInfo, ConfigurationInfo, RecorderInfo};
        let inv = self.inventory;
        let host = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, h)| h);
        let host_name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let mut recorders: Vec<RecorderInfo> = inv
            .recorders
            .iter()
            .enumerate()
            .map(|(r, rec)| RecorderInfo {
                recorder_id: rec.id.clone(),
                name: rec.name.clone(),
                host_name: host_name.to_owned(),
                web_server_uri: self.web_server_uri(r),
                cameras: Vec::new(),
            })
            .collect();
        for cam in &inv.cameras {
            let hw = &inv.hardware[cam.hardware];
            recorders[hw.recorder].cameras.push(CameraInfo {
                device_id: cam.id.to_string(),
                name: cam.name.clone(),
                hardware_id: hw.id.clone(),
                recorder_id: inv.recorders[hw.recorder].id.clone(),
                device_index: cam.channel,
            });
        }
        ConfigurationInfo {
            server_id: inv.site_id.clone(),
            server_name: inv.site_name.clone(),
            recorders,
        }
    }

    /// One camera by id (any case, braces allowed).
    pub fn camera(&self, id: &str) -> Option<Value> {
        let id = engine::core::DeviceId::new(id);
        let c = self.inventory.cameras.iter().position(|c| c.id == id)?;
        Some(json!({ "data": self.camera_value(c) }))
    }
}
