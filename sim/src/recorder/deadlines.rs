//! The earliest auto-stop of a whole site without visiting every recording
//! server: each recorder's next deadline, kept in one ordered set.
//!
//! The virtual-time world asks for the site's next deadline at every step;
//! a scan of every recorder made that step cost grow with the size of the
//! installation. The site model refreshes a recorder's entry after each
//! call that can change it. Code given a recorder by `&mut` (which the index
//! cannot follow) marks the index stale; it is then rebuilt by the next
//! mutating call, and read by a scan until then.

use std::collections::BTreeSet;

use super::recorder::Recorder;
use crate::intervals::Nanos;

#[derive(Debug, Clone, Default)]
pub(super) struct DeadlineIndex {
    /// Each recorder's deadline as entered in `order`.
    of: Vec<Option<Nanos>>,
    order: BTreeSet<(Nanos, usize)>,
    stale: bool,
}

impl DeadlineIndex {
    pub fn new(recorders: &[Recorder]) -> Self {
        let mut index = DeadlineIndex {
            of: vec![None; recorders.len()],
            ..Default::default()
        };
        index.rebuild(recorders);
        index
    }

    /// Recorder `r`'s deadline may have changed.
    pub fn refresh(&mut self, r: usize, rec: &Recorder) {
        let new = rec.next_deadline();
        let old = std::mem::replace(&mut self.of[r], new);
        if old == new {
            return;
        }
        if let Some(t) = old {
            self.order.remove(&(t, r));
        }
        if let Some(t) = new {
            self.order.insert((t, r));
        }
    }

    /// A recorder was handed out by `&mut`: trust nothing until rebuilt.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Rebuilds the index if a recorder was changed behind its back.
    pub fn rebuild_if_stale(&mut self, recorders: &[Recorder]) {
        if self.stale {
            self.rebuild(recorders);
        }
    }

    fn rebuild(&mut self, recorders: &[Recorder]) {
        self.order.clear();
        for (r, rec) in recorders.iter().enumerate() {
            self.of[r] = rec.next_deadline();
            if let Some(t) = self.of[r] {
                self.order.insert((t, r));
            }
        }
        self.stale = false;
    }

    /// The earliest deadline over all recorders.
    pub fn next(&self, recorders: &[Recorder]) -> Option<Nanos> {
        if self.stale {
            return recorders.iter().filter_map(Recorder::next_deadline).min();
        }
        self.order.first().map(|&(t, _)| t)
    }

    /// The recorder with the earliest deadline, if it is due by `now`.
    pub fn first_due(&self, now: Nanos) -> Option<usize> {
        debug_assert!(!self.stale);
        self.order
            .first()
            .filter(|&&(t, _)| t <= now)
            .map(|&(_, r)| r)
    }
}
