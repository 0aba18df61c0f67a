//! [`LeaseTable`]: the reference model of the lease row — the rules the
//! PostgreSQL statements implement, and the simulated journal's lease.

use super::lease::{LeaseReply, LeaseView};
use crate::core::Nanos;

/// A journal write carried an epoch that is not the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stale epoch {writer}: the current epoch is {current}")]
pub struct StaleEpoch {
    pub writer: u64,
    pub current: u64,
}

/// The lease row. `now` is always the *database's* clock.
#[derive(Debug, Clone, Default)]
pub struct LeaseTable {
    epoch: u64,
    holder: Option<String>,
    holder_url: Option<String>,
    /// `None`: never held, or released.
    renewed_at: Option<Nanos>,
    lease: Nanos,
}

impl LeaseTable {
    pub fn new() -> Self {
        Self::default()
    }

    fn expired(&self, now: Nanos) -> bool {
        self.renewed_at
            .is_none_or(|at| now > at.saturating_add(self.lease))
    }

    /// `SELECT` of the row, with the database's judgment of expiry.
    pub fn observe(&self, now: Nanos) -> LeaseView {
        LeaseView {
            epoch: self.epoch,
            holder: self.holder.clone(),
            holder_url: self.holder_url.clone(),
            age: self.renewed_at.map(|at| now.saturating_sub(at)),
            expired: self.expired(now),
        }
    }

    /// Conditional take-over: only if still at `observed_epoch` and expired.
    pub fn acquire(
        &mut self,
        now: Nanos,
        who: &str,
        url: Option<&str>,
        observed_epoch: u64,
        lease: Nanos,
    ) -> LeaseReply {
        if self.epoch != observed_epoch || !self.expired(now) {
            return LeaseReply::Refused(self.observe(now));
        }
        self.epoch += 1;
        self.holder = Some(who.to_string());
        self.holder_url = url.map(str::to_string);
        self.renewed_at = Some(now);
        self.lease = lease;
        LeaseReply::Acquired { epoch: self.epoch }
    }

    /// Conditional renewal: only by the holder of `epoch`. A holder whose
    /// lease expired unnoticed may still renew while nobody took over (its
    /// own right to send had ended meanwhile on its own clock).
    pub fn renew(&mut self, now: Nanos, who: &str, epoch: u64, lease: Nanos) -> LeaseReply {
        if self.epoch != epoch || self.holder.as_deref() != Some(who) || self.renewed_at.is_none() {
            return LeaseReply::Refused(self.observe(now));
        }
        self.renewed_at = Some(now);
        self.lease = lease;
        LeaseReply::Renewed { epoch }
    }

    /// Gives the lease up at once (only by the holder of `epoch`).
    pub fn release(&mut self, who: &str, epoch: u64) -> LeaseReply {
        if self.epoch == epoch && self.holder.as_deref() == Some(who) {
            self.renewed_at = None;
        }
        LeaseReply::Released
    }

    /// Every journal write carries its writer's epoch; only the current one
    /// is accepted.
    pub fn check_write(&self, writer: u64) -> Result<(), StaleEpoch> {
        if writer == self.epoch {
            Ok(())
        } else {
            Err(StaleEpoch {
                writer,
                current: self.epoch,
            })
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}
