//! The earliest auto-stop of a whole site without visiting every recording
//! server: each recorder's next deadline, kept in one ordered set.
//!
//! The virtual-time world asks for the site's next deadline at every step;
//! a scan of every recorder made that step cost grow with the size of the
//! installation. The site model refreshes a recorder's entry after each
//! call that can change it. Code given a recorder by `&mut` (which the index
//! cannot follow) marks the index stale; it is then rebuilt by the next
//! mutating call, and read by a scan until then.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

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

/// One recorder's pending auto-stops, `(deadline, device)`, earliest first.
///
/// A binary heap with lazy deletion: a Stop or a restarted timer leaves its
/// old entry behind, and an entry is checked against the device (`live`)
/// only when it reaches the top, so the earliest entry is always a live one
/// and [`DueSet::first`] is exact. Most auto-stops are pushed later than
/// every pending one (now plus the same limit), so a push rarely moves an
/// entry and touches one slot at the end of a compact array; the ordered
/// tree this replaces walked scattered nodes on every Start and Stop, a
/// chain of cache misses once a site holds tens of thousands of devices. A
/// stale entry is older than the live one that replaced it, so it reaches
/// the top and leaves within one auto-stop limit.
#[derive(Debug, Clone, Default)]
pub(super) struct DueSet {
    heap: BinaryHeap<Reverse<(Nanos, usize)>>,
}

impl DueSet {
    /// The earliest live entry.
    pub fn first(&self) -> Option<(Nanos, usize)> {
        self.heap.peek().map(|e| e.0)
    }

    /// Adds a live entry.
    pub fn insert(&mut self, entry: (Nanos, usize)) {
        self.heap.push(Reverse(entry));
    }

    /// `entry` is no longer live; `live` tells which of the others are.
    pub fn remove(&mut self, entry: (Nanos, usize), live: impl Fn(Nanos, usize) -> bool) {
        if self.first() == Some(entry) {
            self.heap.pop();
            self.drop_stale(live);
        }
    }

    /// Takes the earliest entry; `live` tells which of the others are.
    pub fn pop_first(&mut self, live: impl Fn(Nanos, usize) -> bool) -> Option<(Nanos, usize)> {
        let popped = self.heap.pop().map(|e| e.0);
        self.drop_stale(live);
        popped
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Pops stale entries until the earliest is live.
    fn drop_stale(&mut self, live: impl Fn(Nanos, usize) -> bool) {
        while let Some(&Reverse((t, d))) = self.heap.peek() {
            if live(t, d) {
                break;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod due_set_tests {
    use super::*;

    #[test]
    fn the_earliest_is_always_live() {
        use std::cell::RefCell;
        // What each device's live deadline is, as the recorder would say.
        let live_of = RefCell::new(vec![None; 5]);
        let live = |t, d| live_of.borrow()[d] == Some(t);
        let mut s = DueSet::default();
        let put = |s: &mut DueSet, t, d| {
            live_of.borrow_mut()[d] = Some(t);
            s.insert((t, d));
        };
        assert_eq!(s.first(), None);
        put(&mut s, 30, 1);
        put(&mut s, 10, 2);
        put(&mut s, 20, 3);
        assert_eq!(s.first(), Some((10, 2)));
        // Not the earliest: left behind, still not reported.
        live_of.borrow_mut()[3] = None;
        s.remove((20, 3), live);
        assert_eq!(s.first(), Some((10, 2)));
        // The earliest: the stale (20, 3) under it goes too.
        live_of.borrow_mut()[2] = None;
        s.remove((10, 2), live);
        assert_eq!(s.first(), Some((30, 1)));
        // A device restarted with a later deadline: its old entry is stale.
        put(&mut s, 5, 4);
        put(&mut s, 40, 4);
        assert_eq!(s.pop_first(live), Some((5, 4)));
        assert_eq!(s.first(), Some((30, 1)));
        live_of.borrow_mut()[1] = None;
        assert_eq!(s.pop_first(live), Some((30, 1)));
        assert_eq!(s.first(), Some((40, 4)));
        live_of.borrow_mut()[4] = None;
        assert_eq!(s.pop_first(live), Some((40, 4)));
        assert_eq!(s.first(), None);
        assert_eq!(s.pop_first(live), None);
        put(&mut s, 1, 1);
        s.clear();
        assert_eq!(s.first(), None);
    }
}
