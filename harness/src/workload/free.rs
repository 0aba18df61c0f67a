//! Which cameras of each workload are free, kept up to date as generation
//! moves forward in time, so that picking the k-th free camera costs
//! O(log n) instead of a scan of every camera per arrival.
//!
//! The pick must stay exactly the one a plain scan makes (the k-th camera,
//! in the workload's own order, among those with no generated session open
//! and no explicit session overlapping the new one): generated click
//! streams, and so every report, depend on it. Cameras without explicit
//! sessions live in a Fenwick tree over the workload's positions; the few
//! with explicit sessions are checked one by one, as before.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use engine::core::Nanos;

/// Counts over positions with prefix sums and k-th-one search.
#[derive(Debug, Clone)]
struct Fenwick {
    tree: Vec<u32>,
    ones: Vec<bool>,
    total: usize,
}

impl Fenwick {
    fn new(len: usize) -> Self {
        Fenwick {
            tree: vec![0; len + 1],
            ones: vec![false; len],
            total: 0,
        }
    }

    fn set(&mut self, pos: usize, one: bool) {
        if self.ones[pos] == one {
            return;
        }
        self.ones[pos] = one;
        let mut i = pos + 1;
        while i < self.tree.len() {
            if one {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
        if one {
            self.total += 1;
        } else {
            self.total -= 1;
        }
    }

    /// Ones at positions `< pos`.
    fn before(&self, pos: usize) -> usize {
        let mut i = pos;
        let mut sum = 0;
        while i > 0 {
            sum += self.tree[i] as usize;
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// Position of the one of rank `k` (0-based); `k < total`.
    fn kth(&self, mut k: usize) -> usize {
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && (self.tree[next] as usize) <= k {
                pos = next;
                k -= self.tree[next] as usize;
            }
            step >>= 1;
        }
        pos
    }
}

/// One workload's view: its camera list and which positions are free.
#[derive(Debug, Clone)]
struct WorkloadView {
    cameras: Vec<usize>,
    plain: Fenwick,
    /// Positions whose camera has explicit sessions, ascending.
    explicit: Vec<usize>,
}

/// Free cameras of every workload at the current generation time.
#[derive(Debug, Clone)]
pub(super) struct FreeCameras<'a> {
    views: Vec<WorkloadView>,
    /// `(workload, position)` of each camera, for every workload listing it.
    places: Vec<Vec<(usize, usize)>>,
    busy_until: Vec<Nanos>,
    explicit: &'a [Vec<(Nanos, Nanos)>],
    /// Generated sessions still to end, `(end, camera)`.
    ending: BinaryHeap<Reverse<(Nanos, usize)>>,
    scratch: Vec<usize>,
}

impl<'a> FreeCameras<'a> {
    /// Every camera free; `explicit[c]` lists camera `c`'s explicit
    /// sessions as `[start, end)`.
    pub fn new(workloads: &[&[usize]], explicit: &'a [Vec<(Nanos, Nanos)>]) -> Self {
        let ncams = explicit.len();
        let mut places = vec![Vec::new(); ncams];
        let views = workloads
            .iter()
            .enumerate()
            .map(|(w, cameras)| {
                let mut plain = Fenwick::new(cameras.len());
                let mut ex = Vec::new();
                for (pos, &c) in cameras.iter().enumerate() {
                    if c >= ncams {
                        continue; // never free
                    }
                    places[c].push((w, pos));
                    if explicit[c].is_empty() {
                        plain.set(pos, true);
                    } else {
                        ex.push(pos);
                    }
                }
                WorkloadView {
                    cameras: cameras.to_vec(),
                    plain,
                    explicit: ex,
                }
            })
            .collect();
        FreeCameras {
            views,
            places,
            busy_until: vec![0; ncams],
            explicit,
            ending: BinaryHeap::new(),
            scratch: Vec::new(),
        }
    }

    /// Frees the cameras whose generated session ended by `at`. Calls must
    /// come with non-decreasing `at`.
    fn advance(&mut self, at: Nanos) {
        while let Some(&Reverse((end, c))) = self.ending.peek() {
            if end > at {
                break;
            }
            self.ending.pop();
            if self.busy_until[c] == end {
                self.mark(c, true);
            }
        }
    }

    fn mark(&mut self, c: usize, free: bool) {
        if !self.explicit[c].is_empty() {
            return; // checked one by one at each pick
        }
        for &(w, pos) in &self.places[c] {
            self.views[w].plain.set(pos, free);
        }
    }

    /// The free cameras of workload `w` for a session `[at, end)`: how many
    /// there are, and a way to take the k-th one (see [`FreeCameras::take`]).
    pub fn count(&mut self, w: usize, at: Nanos, end: Nanos) -> usize {
        self.advance(at);
        let view = &self.views[w];
        self.scratch.clear();
        for &pos in &view.explicit {
            let c = view.cameras[pos];
            if self.busy_until[c] <= at && !self.explicit[c].iter().any(|&(a, b)| a < end && at < b)
            {
                self.scratch.push(pos);
            }
        }
        view.plain.total + self.scratch.len()
    }

    /// The camera of rank `k` among those [`FreeCameras::count`] just
    /// counted, in the workload's order; it is busy until `end` from now on.
    pub fn take(&mut self, w: usize, k: usize, end: Nanos) -> usize {
        let view = &self.views[w];
        let mut found = None;
        for (i, &pos) in self.scratch.iter().enumerate() {
            // Free cameras before `pos`: plain ones, plus `i` explicit ones.
            let rank = view.plain.before(pos) + i;
            if rank == k {
                found = Some(pos);
                break;
            }
            if rank > k {
                found = Some(view.plain.kth(k - i));
                break;
            }
        }
        let pos = found.unwrap_or_else(|| view.plain.kth(k - self.scratch.len()));
        let c = view.cameras[pos];
        self.busy_until[c] = end;
        self.mark(c, false);
        if end != Nanos::MAX {
            self.ending.push(Reverse((end, c)));
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenwick_kth_and_prefix() {
        let mut f = Fenwick::new(10);
        for p in [1, 4, 5, 9] {
            f.set(p, true);
        }
        assert_eq!(f.total, 4);
        assert_eq!(
            (0..4).map(|k| f.kth(k)).collect::<Vec<_>>(),
            vec![1, 4, 5, 9]
        );
        assert_eq!(f.before(5), 2);
        assert_eq!(f.before(10), 4);
        f.set(4, false);
        assert_eq!(f.kth(1), 5);
        assert_eq!(f.before(5), 1);
    }
}
