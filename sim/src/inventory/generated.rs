//! The inventory a site gets when it is started with device GUIDs only
//! (`--cameras N`, `--devices-file`, the harness): camera `k` (from 0) is
//! "Camera {k+1}" zero-padded to the width of the count, four cameras to a
//! hardware device "Encoder {k/4+1}" at `http://10.{..}.{..}.{..}/` on
//! channel `k % 4`. Names and addresses depend on the camera's position
//! only, so two sites started the same way pair by name; the GUIDs are the
//! site's own.

use engine::core::DeviceId;

use super::{derived_guid, Inventory, InventoryCamera, InventoryHardware, InventoryRecorder};

/// Cameras per generated hardware device.
const CHANNELS: usize = 4;

/// The inventory of `site` whose recording server `r` holds `recorders[r]`
/// (cameras are numbered across servers in the order a round-robin over
/// the servers gives them, as `--cameras N` places device `k` on server
/// `k mod N`).
pub fn generated_inventory(site: &str, recorders: &[Vec<DeviceId>]) -> Inventory {
    let total: usize = recorders.iter().map(Vec::len).sum();
    let width = total.max(1).to_string().len();
    // Round-robin order over the servers.
    let mut order: Vec<(usize, &DeviceId)> = Vec::with_capacity(total);
    let longest = recorders.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for (r, devs) in recorders.iter().enumerate() {
            if let Some(d) = devs.get(i) {
                order.push((r, d));
            }
        }
    }
    let recorders_out: Vec<InventoryRecorder> = (0..recorders.len())
        .map(|r| InventoryRecorder {
            id: derived_guid(&[site, "recorder", &r.to_string()]),
            name: format!("Recording Server {}", r + 1),
        })
        .collect();
    let mut hardware = Vec::new();
    let mut cameras = Vec::with_capacity(total);
    // A hardware device per four cameras of one recording server.
    let mut open_hw: Vec<Option<(usize, u32)>> = vec![None; recorders.len()];
    for (k, (r, device)) in order.into_iter().enumerate() {
        let (hw, channel) = match open_hw[r] {
            Some((hw, ch)) if (ch as usize) < CHANNELS - 1 => (hw, ch + 1),
            _ => {
                let h = hardware.len();
                hardware.push(InventoryHardware {
                    id: derived_guid(&[site, "hardware", &h.to_string()]),
                    name: format!("Encoder {:0width$}", h + 1),
                    address: format!(
                        "http://10.{}.{}.{}/",
                        (h >> 16) & 0xff,
                        (h >> 8) & 0xff,
                        h & 0xff
                    ),
                    model: "Universal 4 channel driver".to_owned(),
                    recorder: r,
                });
                (h, 0)
            }
        };
        open_hw[r] = Some((hw, channel));
        cameras.push(InventoryCamera {
            id: device.clone(),
            name: format!("Camera {:0width$}", k + 1),
            hardware: hw,
            channel,
            settings: Default::default(),
        });
    }
    Inventory {
        site_id: derived_guid(&[site, "site"]),
        site_name: site.to_owned(),
        recorders: recorders_out,
        hardware,
        cameras,
    }
}
