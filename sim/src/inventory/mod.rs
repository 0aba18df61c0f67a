//! A mock site's configuration: recording servers, hardware and cameras
//! with each camera's own "stop manual recording after" and pre-buffer —
//! what a real management server keeps and serves through its
//! configuration REST API and SOAP `GetConfiguration`.
//!
//! - `file.rs`: the `--inventory FILE` TOML format, validated with
//!   `file:line:col` messages;
//! - `generated.rs`: a plausible inventory for `--cameras N` /
//!   `--devices-file` (the same camera names and hardware addresses on
//!   every site, so two generated sites pair);
//! - `rest.rs`: the REST API's JSON for it.
//!
//! Data only: no I/O but reading the file, no protocol semantics.

mod file;
mod generated;
mod rest;
#[cfg(test)]
mod tests;

use engine::core::{DeviceId, DeviceSettings};

pub use file::{load_inventory, parse_inventory, InventoryError};
pub use generated::generated_inventory;
pub use rest::RestView;

/// One recording server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRecorder {
    /// Lower-case GUID.
    pub id: String,
    pub name: String,
}

/// One hardware device (encoder or camera body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryHardware {
    pub id: String,
    pub name: String,
    /// The device's address (data only, never contacted).
    pub address: String,
    pub model: String,
    /// Index into [`Inventory::recorders`].
    pub recorder: usize,
}

/// One camera: a channel of a hardware device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryCamera {
    pub id: DeviceId,
    pub name: String,
    /// Index into [`Inventory::hardware`].
    pub hardware: usize,
    pub channel: u32,
    /// Its own settings (site defaults where `None`).
    pub settings: DeviceSettings,
}

/// A site's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The site's id (lower-case GUID) and name.
    pub site_id: String,
    pub site_name: String,
    pub recorders: Vec<InventoryRecorder>,
    pub hardware: Vec<InventoryHardware>,
    pub cameras: Vec<InventoryCamera>,
}

impl Inventory {
    /// The device GUIDs of each recording server (what the site model is
    /// built from), in camera order.
    pub fn devices_by_recorder(&self) -> Vec<Vec<DeviceId>> {
        let mut out = vec![Vec::new(); self.recorders.len()];
        for c in &self.cameras {
            out[self.hardware[c.hardware].recorder].push(c.id.clone());
        }
        out
    }

    /// The cameras whose settings differ from the site's.
    pub fn device_settings(&self) -> Vec<(DeviceId, DeviceSettings)> {
        self.cameras
            .iter()
            .filter(|c| !c.settings.is_default())
            .map(|c| (c.id.clone(), c.settings))
            .collect()
    }
}

/// A GUID derived from `parts` (FNV-1a, 128 bits): the same on every run.
pub fn derived_guid(parts: &[&str]) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u128::from(b);
            h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
    }
    let hex = format!("{h:032x}");
    // Version 4 / RFC 4122 variant bits, so it reads as a GUID should.
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
