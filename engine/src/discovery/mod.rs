//! Discovery and pairing: what a site says it has, and which of its
//! cameras are the same physical camera on the other site.
//!
//! - `inventory.rs`: a site's recording servers, hardware and cameras as
//!   read from its configuration REST API (JSON shapes of XProtect's
//!   `/api/rest/v1/`), with every inconsistency (a camera whose hardware is
//!   not listed, hardware without a recording server) named.
//! - `fetch.rs`: reads one site's inventory over HTTP (the only I/O here).
//! - `pairing.rs`: pairs cameras across sites — by name, then by hardware
//!   address + channel — and says why the rest could not be paired.
//! - `render.rs`: the `[[camera]]` tables `dualrec discover` writes.
//! - `drift.rs`: a config compared with what the sites say (a device gone,
//!   moved to another recording server, its settings changed), for
//!   `dualrec discover --check` and the engine's start-up and periodic
//!   device checks.
//!
//! Everything but `fetch.rs` is pure and deterministic: the same
//! inventories give the same pairing and byte-identical output.

mod drift;
mod fetch;
mod inventory;
mod pairing;
mod render;
#[cfg(test)]
mod tests;

pub use drift::{check_config, check_site, Drift, DriftKind};
pub use fetch::{fetch_site, DiscoveryError, Stage};
pub use inventory::{
    from_rest_json, normalize_address, normalize_url, Camera, Hardware, RecordingServer,
    SiteInventory,
};
pub use pairing::{pair, PairedBy, PairedCamera, Pairing, Unpaired, UnpairedReason};
pub use render::{render_cameras, Rendered};
