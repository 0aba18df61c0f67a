//! The dualrec mirroring engine: one click becomes a manual recording on
//! every configured XProtect site, and stays one until the user clicks stop.
//!
//! - [`core`]: the sans-IO state machine ([`core::Mirror`]). It owns all
//!   engine logic and performs no I/O; drivers feed it time and replies.
//! - [`runtime`]: the tokio driver of that same `Mirror`: real clock, SOAP over HTTP.
//! - [`config`]: the site config (TOML) shared by `dualrec engine` and `dualrec accept`.
//! - [`journal`]: the durable intent journal and audit trail (embedded SQLite, WAL).
//! - [`service`]: the engine as a service: REST API (axum), API keys, Prometheus metrics.
//!
//! Drivers (the virtual-time simulator in the `sim` crate, the tokio runtime)
//! must not re-implement any engine decision: they only carry commands and
//! replies.

pub mod cluster;
pub mod config;
pub mod core;
pub mod discovery;
pub mod duration;
pub mod input;
#[cfg(any(test, feature = "fuzzing"))]
pub mod input_fuzz;
pub mod journal;
#[doc(hidden)]
pub mod pgtest;
pub mod policy_input;
pub mod replica;
pub mod runtime;
pub mod service;
