//! [`TimeQueue`]: an earliest-first queue of timed items whose ties pop in
//! insertion order, built so its cost does not grow with the installation.
//!
//! The engine's timers and the simulated world's events used one binary
//! heap each. With ten thousand cameras the engine's heap holds tens of
//! thousands of timers (renewal wake-ups minutes ahead, lazily deleted); each
//! pop sifted through some fifteen levels scattered over a megabyte, so the
//! heap alone cost a tenth of a simulated day, and more per step the larger
//! the installation.
//!
//! Here items go to a bucket per [`BUCKET_NANOS`] of due time (a `BTreeMap`
//! of plain vectors, appended to). When the earliest bucket comes up it is
//! sorted once, in a row of memory, and popped from the front: a pop costs
//! the same with a hundred items due this second or a hundred thousand,
//! where a heap per bucket sifted through more levels the larger the
//! installation. Items pushed into the bucket already under way (due in
//! the current second or earlier) wait in a small heap beside it; a pop
//! takes the earlier of the two. The order is exactly one heap's: by due
//! time, then by insertion sequence — every later bucket holds only later
//! items. Runs stay byte-identical to the heap they replace.
//!
//! It must not depend on anything but the (time, sequence) order: no clock,
//! no look at the items.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use super::types::Nanos;

/// Width of a bucket: about a second (2^30 ns), the spacing of the probes
/// and retries that make most of the traffic; renewal wake-ups minutes ahead
/// wait in their own buckets without weighing on the pops of this second.
pub const BUCKET_NANOS: Nanos = 1 << BUCKET_SHIFT;
const BUCKET_SHIFT: u32 = 30;

/// A queued item with its order key, kept inline: a pop reads the entry
/// it takes, not a second array (with hundreds of thousands of renewal
/// wake-ups waiting, that second read missed the cache at every pop).
/// Callers with large items queue an index into their own storage instead
/// (the simulator's events, see `sim/src/world/queue.rs`), so sorts and
/// heaps never move large entries.
struct Entry<T> {
    at: Nanos,
    seq: u64,
    item: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (Nanos, u64) {
        (self.at, self.seq)
    }
}

/// The heap of late arrivals is a max-heap: ordered by reversed key so the
/// earliest comes first. (The item never decides: `seq` is unique.)
impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Items ordered by (due time, insertion sequence), earliest first.
///
/// Invariant: every entry in `later` is due after every entry in `run`,
/// `run_late` and the bucket under way (`current`), so the earliest item
/// is the first of `run`, `run_late` or `in_order`.
pub struct TimeQueue<T> {
    /// Bucket number (`at >> BUCKET_SHIFT`) → its entries, unsorted. Only
    /// buckets after `current`; never an empty one.
    later: BTreeMap<u64, Vec<Entry<T>>>,
    /// The bucket under way, sorted by key, popped from the front.
    run: VecDeque<Entry<T>>,
    /// Entries pushed for the bucket under way (or earlier) after it was
    /// sorted.
    run_late: BinaryHeap<Entry<T>>,
    /// The bucket under way; `None` when `run` and `run_late` are empty.
    current: Option<u64>,
    /// Emptied vectors, reused so a steady run does not allocate.
    spare: Vec<Vec<Entry<T>>>,
    /// Entries pushed with [`TimeQueue::push_in_order`], already in order.
    in_order: VecDeque<Entry<T>>,
    seq: u64,
    len: usize,
}

impl<T> Default for TimeQueue<T> {
    fn default() -> Self {
        TimeQueue {
            later: BTreeMap::new(),
            run: VecDeque::new(),
            run_late: BinaryHeap::new(),
            current: None,
            spare: Vec::new(),
            in_order: VecDeque::new(),
            seq: 0,
            len: 0,
        }
    }
}

impl<T> std::fmt::Debug for TimeQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeQueue")
            .field("len", &self.len)
            .field("buckets", &self.later.len())
            .field("next", &self.peek_time())
            .finish()
    }
}

impl<T> TimeQueue<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item`, due at `at`; among items due at the same time it comes
    /// after those pushed before it.
    pub fn push(&mut self, at: Nanos, item: T) {
        let entry = self.enter(at, item);
        self.push_to_buckets(entry);
    }

    /// [`TimeQueue::push`] for a caller whose items come due in the order
    /// it pushes them (a fixed delay after a clock that never goes back:
    /// request time-outs). They wait in a plain queue, pushed and popped in
    /// O(1) whatever the installation's size, and keep the buckets small
    /// for the rest. The pop order is unchanged: a pop takes the earliest of
    /// that queue's first entry and the buckets', by (time, sequence). An
    /// item out of order goes to the buckets.
    pub fn push_in_order(&mut self, at: Nanos, item: T) {
        let entry = self.enter(at, item);
        if self.in_order.back().is_none_or(|last| last.at <= at) {
            self.in_order.push_back(entry);
        } else {
            self.push_to_buckets(entry);
        }
    }

    /// Gives `item` its place in the order.
    fn enter(&mut self, at: Nanos, item: T) -> Entry<T> {
        self.seq += 1;
        self.len += 1;
        Entry {
            at,
            seq: self.seq,
            item,
        }
    }

    fn push_to_buckets(&mut self, entry: Entry<T>) {
        let bucket = entry.at >> BUCKET_SHIFT;
        match self.current {
            Some(current) if bucket <= current => self.run_late.push(entry),
            Some(_) => {
                let spare = &mut self.spare;
                self.later
                    .entry(bucket)
                    .or_insert_with(|| spare.pop().unwrap_or_default())
                    .push(entry);
            }
            None => {
                // Nothing under way: everything waiting is later than this
                // bucket, or this bucket itself (pushed to while idle).
                match self.later.first_key_value() {
                    Some((&first, _)) if first <= bucket => {
                        self.start_next_bucket();
                        self.push_to_buckets(entry);
                    }
                    _ => {
                        self.current = Some(bucket);
                        self.run_late.push(entry);
                    }
                }
            }
        }
    }

    /// Puts the earliest waiting bucket under way: sorted once, popped in a
    /// row. Only when nothing is under way.
    fn start_next_bucket(&mut self) {
        debug_assert!(self.run.is_empty() && self.run_late.is_empty());
        let Some((bucket, mut entries)) = self.later.pop_first() else {
            self.current = None;
            return;
        };
        // Mostly pushed in due order already, which the sort finds quickly.
        entries.sort_unstable_by_key(Entry::key);
        // Both conversions keep the allocation (the emptied run's vector is
        // contiguous), so buckets recycle their memory.
        let done = std::mem::replace(&mut self.run, VecDeque::from(entries));
        self.spare.push(Vec::from(done));
        self.current = Some(bucket);
    }

    /// The earliest of the bucket under way: its sorted run's next entry or
    /// a late arrival, whichever is earlier; `true` for the run.
    fn bucket_first(&self) -> Option<(&Entry<T>, bool)> {
        match (self.run.front(), self.run_late.peek()) {
            (Some(r), Some(l)) if l.key() < r.key() => Some((l, false)),
            (Some(r), _) => Some((r, true)),
            (None, l) => l.map(|l| (l, false)),
        }
    }

    /// When the earliest item is due.
    pub fn peek_time(&self) -> Option<Nanos> {
        match (self.bucket_first(), self.in_order.front()) {
            (Some((b, _)), Some(q)) => Some(b.at.min(q.at)),
            (Some((b, _)), None) => Some(b.at),
            (None, q) => q.map(|q| q.at),
        }
    }

    /// Removes the earliest item (the first pushed among equally early ones).
    pub fn pop(&mut self) -> Option<(Nanos, T)> {
        let from_bucket = match (self.bucket_first(), self.in_order.front()) {
            (Some((b, in_run)), Some(q)) if b.key() < q.key() => Some(in_run),
            (Some((_, in_run)), None) => Some(in_run),
            (_, Some(_)) => None,
            (None, None) => return None,
        };
        let entry = match from_bucket {
            None => self.in_order.pop_front()?,
            Some(false) => self.run_late.pop()?,
            Some(true) => self.run.pop_front()?,
        };
        if self.run.is_empty() && self.run_late.is_empty() && self.current.is_some() {
            self.start_next_bucket();
        }
        self.len -= 1;
        Some((entry.at, entry.item))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::cmp::Reverse;

    #[test]
    fn earliest_first_ties_in_insertion_order() {
        let mut q = TimeQueue::new();
        q.push(5 * BUCKET_NANOS, "c");
        q.push(1, "a");
        q.push(5 * BUCKET_NANOS, "d");
        q.push(1, "b");
        q.push(BUCKET_NANOS - 1, "e");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (1, "a"),
                (1, "b"),
                (BUCKET_NANOS - 1, "e"),
                (5 * BUCKET_NANOS, "c"),
                (5 * BUCKET_NANOS, "d")
            ]
        );
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
    }

    /// Interleaved pushes and pops, with times clustered (ties) and spread
    /// over many buckets, pop exactly as one binary heap ordered by (time,
    /// sequence) does.
    #[test]
    fn pops_in_the_order_of_a_single_heap() {
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut q = TimeQueue::new();
            let mut heap = BinaryHeap::new();
            let mut seq = 0u64;
            let mut now: Nanos = 0;
            for _ in 0..5_000 {
                if rng.random_bool(0.55) {
                    let ahead = match rng.random_range(0..4) {
                        0 => 0,
                        1 => rng.random_range(0..10),
                        2 => rng.random_range(0..3 * BUCKET_NANOS),
                        _ => rng.random_range(0..600 * BUCKET_NANOS),
                    };
                    seq += 1;
                    // A stream of fixed-delay items (mostly in order) goes
                    // through push_in_order.
                    // through push_in_order; a little jitter makes some of
                    // them out of order.
                    if rng.random_bool(0.3) {
                        let at = now + 2 * BUCKET_NANOS + rng.random_range(0..3);
                        q.push_in_order(at, seq);
                        heap.push(Reverse((at, seq)));
                    } else {
                        q.push(now + ahead, seq);
                        heap.push(Reverse((now + ahead, seq)));
                    }
                } else {
                    let want = heap.pop().map(|Reverse(x)| x);
                    assert_eq!(q.pop(), want, "seed {seed}");
                    if let Some((at, _)) = want {
                        now = at;
                    }
                }
                assert_eq!(q.peek_time(), heap.peek().map(|Reverse((at, _))| *at));
                assert_eq!(q.len(), heap.len());
            }
            while let Some(Reverse(x)) = heap.pop() {
                assert_eq!(q.pop(), Some(x));
            }
            assert_eq!(q.pop(), None);
        }
    }
}
