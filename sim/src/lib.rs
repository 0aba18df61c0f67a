//! The simulated world dualrec is tested in.
//!
//! - [`recorder`]: the sans-IO model of an XProtect site (management server
//!   tokens, recording servers, manual recording, auto-stop, pre-buffer,
//!   footage). Its footage is the ground truth of every metric.
//! - [`world`]: virtual time — the shipping engine beside recorder models,
//!   with links, latency and fault injection.
//! - [`intervals`]: exact interval arithmetic on footage and windows.
//! - [`inventory`]: a site's configuration (recording servers, hardware,
//!   cameras with their own settings) and its REST API JSON.
//! - [`server`]: the same site model as a mock XProtect site over real
//!   HTTP/SOAP (axum), with faults injected at the network edge.
//!
//! This crate never fakes the engine: it drives `engine::core::Mirror`
//! itself. Nothing in `recorder` or `world` reads a clock or performs I/O;
//! `server` is the only part that does.

pub mod intervals;
pub mod inventory;
pub mod recorder;
pub mod server;
pub mod world;
