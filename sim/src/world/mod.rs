//! The virtual-time world: a deterministic discrete-event loop that runs the
//! real engine ([`engine::core::Mirror`]) beside simulated recorders.
//!
//! - `config`: what a world is made of (sites, links, cameras, clicks, faults)
//! - `queue`: events ordered by (time, sequence)
//! - `link`: latency and faults on the path to a site
//! - `sim`: the loop itself ([`World`])
//! - `record`: the ground truth a run leaves ([`record::RunRecord`])
//! - `trace`: the raw history as JSON lines
//! - `latency`: latency distributions
//! - `replicas`: engine replicas and their leader lease (`engines > 1`)
//!
//! No wall clock, no unseeded randomness: the same config gives the same run.

pub mod config;
pub mod latency;
mod link;
mod queue;
pub mod record;
pub mod replicas;
mod sim;
pub mod trace;

pub use config::{device_id, Click, EngineTarget, FaultKind, FaultSpec, SiteSetup, WorldConfig};
pub use sim::{derive_seed, mirror_config, World, WorldOutcome};

#[cfg(test)]
mod tests;
