//! Simulated XProtect sites: the sans-IO recorder model.
//!
//! This module owns the ground truth every dualrec metric is computed from:
//! which devices were manually recording when ([`Recorder::manual_intervals`])
//! and which footage was actually written ([`Recorder::footage`]), plus the
//! management server's login tokens ([`TokenTable`]) and the protocol
//! semantics of one whole site ([`SiteModel`]). The same model sits inside the
//! virtual-time world and behind the mock HTTP/SOAP server ("one model, two
//! fronts").
//!
//! It must not do I/O, read a clock or use randomness: every method takes
//! `now` from its caller, and time never goes backwards between calls on one
//! model (checked with `debug_assert!`; fronts serving concurrent requests must
//! read their clock while holding the model's lock).

mod accounts;
mod config;
mod deadlines;
mod device;
#[cfg(test)]
mod proptests;
#[allow(clippy::module_inception)]
mod recorder;
mod site;
mod tokens;

pub use accounts::{account_key, AccessGrant, AccountStats, Accounts, LockoutPolicy, LoginRefused};
pub use config::{
    RecorderConfig, SiteConfig, DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_MANUAL_RECORDING_MAX,
    DEFAULT_PREBUFFER, DEFAULT_TOKEN_TTL,
};
pub use device::ManualInterval;
pub use recorder::Recorder;
pub use site::{CallError, DeviceOutcome, SiteModel, RESULT_OK, RESULT_UNKNOWN_DEVICE};
pub use tokens::{TokenError, TokenTable, TOKEN_ERROR_NUMBER};

/// How late a request may still reach a simulated site and execute there.
///
/// A request's one-way latency models the network and the queue in front of
/// the recorder, and a latency tail may hold a request far beyond its
/// client's time-out: it then executes late, which the engine must notice
/// (a Start landing after the Stop that followed it). But a request cannot
/// linger forever: its client closed the connection at its time-out, and a
/// server drops what waits that long behind a closed connection. A request
/// whose trip would take longer than this never reaches the site, in both
/// fronts (virtual time and the mock over HTTP).
///
/// The engine watches a camera for late execution for two minutes after a
/// request of unknown fate was sent (`engine::core`, `LATE_REQUEST_HORIZON`),
/// longer than this, so a late request is always seen and corrected.
pub const REQUEST_MAX_AGE: engine::core::Nanos = 60 * engine::core::SECS;

// A late request must fall inside the engine's watch for late execution.
const _: () = assert!(REQUEST_MAX_AGE < engine::core::LATE_REQUEST_HORIZON);
