//! [`SendGate`]: the leader's right to send, checked as each command leaves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::core::Nanos;

/// Open while `now < until` on this process's monotonic clock (`until`
/// counted from `base`). Closed (0) when this replica does not lead.
#[derive(Debug)]
pub struct SendGate {
    base: Instant,
    until: AtomicU64,
}

impl SendGate {
    pub fn new(base: Instant) -> Self {
        SendGate {
            base,
            until: AtomicU64::new(0),
        }
    }

    /// Opens the gate until `until` (nanoseconds from `base`); `None` closes it.
    pub fn set(&self, until: Option<Nanos>) {
        self.until.store(until.unwrap_or(0), Ordering::SeqCst);
    }

    /// Whether a command may leave now.
    pub fn is_open(&self) -> bool {
        let now = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        now < self.until.load(Ordering::SeqCst)
    }
}
