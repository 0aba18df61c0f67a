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

/// One recorder's pending auto-stops, `(deadline, device)`, earliest first,
/// with the earliest kept at hand: every call on a recorder first asks
/// whether an auto-stop is due, and walking the tree to its first leaf for
/// that was a chain of cache misses once a site holds hundreds of
/// recorders.
#[derive(Debug, Clone, Default)]
pub(super) struct DueSet {
    order: BTreeSet<(Nanos, usize)>,
    first: Option<(Nanos, usize)>,
}

impl DueSet {
    pub fn first(&self) -> Option<(Nanos, usize)> {
        self.first
    }

    pub fn insert(&mut self, entry: (Nanos, usize)) {
        self.order.insert(entry);
        if self.first.is_none_or(|f| entry < f) {
            self.first = Some(entry);
        }
    }

    pub fn remove(&mut self, entry: &(Nanos, usize)) {
        if self.order.remove(entry) && self.first == Some(*entry) {
            self.first = self.order.first().copied();
        }
    }

    pub fn pop_first(&mut self) -> Option<(Nanos, usize)> {
        let popped = self.order.pop_first();
        self.first = self.order.first().copied();
        popped
    }

    pub fn clear(&mut self) {
        self.order.clear();
        self.first = None;
    }
}

#[cfg(test)]
mod due_set_tests {
    use super::*;

    #[test]
    fn the_earliest_follows_every_change() {
        let mut s = DueSet::default();
        assert_eq!(s.first(), None);
        s.insert((30, 1));
        s.insert((10, 2));
        s.insert((20, 3));
        assert_eq!(s.first(), Some((10, 2)));
        s.remove(&(20, 3));
        assert_eq!(s.first(), Some((10, 2)));
        s.remove(&(10, 2));
        assert_eq!(s.first(), Some((30, 1)));
        s.remove(&(99, 9));
        assert_eq!(s.first(), Some((30, 1)));
        s.insert((5, 4));
        assert_eq!(s.pop_first(), Some((5, 4)));
        assert_eq!(s.first(), Some((30, 1)));
        assert_eq!(s.pop_first(), Some((30, 1)));
        assert_eq!(s.first(), None);
        assert_eq!(s.pop_first(), None);
        s.insert((1, 1));
        s.clear();
        assert_eq!(s.first(), None);
    }
}
