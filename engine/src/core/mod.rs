//! The sans-IO mirroring engine.
//!
//! [`Mirror`] keeps, per (camera, site), the user's desired state and the
//! state observed on the recorder, and emits the [`Command`]s that reconcile
//! them: fan-out of every click to all sites in one step, last click wins,
//! timeouts, capped exponential back-off with seeded jitter, per-site health
//! with probing of dead sites, re-assertion after recovery, renewal before a
//! site's "stop manual recording after" limit (staggered across sites),
//! drift probes with `IsManualRecording`, orphan stops, batching per
//! recorder, token renewal and restore from a journal.
//!
//! This module performs no I/O whatsoever: no clock reads (time is passed
//! in), no sockets, no global RNG.

mod backoff;
mod credentials;
mod device_errors;
mod device_id;
mod dispatch;
mod handover;
mod inflight;
mod mirror;
mod overdue;
mod pair;
mod pair_table;
mod probe_set;
mod replies;
mod sabotage;
mod site;
mod time_queue;
mod timers;
pub mod types;

pub use credentials::{CREDENTIAL_RETRY_FIRST, CREDENTIAL_RETRY_MAX, CREDENTIAL_RETRY_SECOND};
pub use mirror::{Mirror, MirrorStats, UnknownCamera};
pub use replies::LATE_REQUEST_HORIZON;
#[doc(hidden)]
pub use sabotage::Sabotage;
pub use time_queue::{TimeQueue, BUCKET_NANOS};
pub use types::*;

#[cfg(test)]
mod tests;
