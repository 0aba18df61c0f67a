//! Exact interval arithmetic on half-open `[start, end)` spans of virtual
//! nanoseconds.
//!
//! Footage, manual-recording state, intent windows and fault windows are all
//! interval sets; every metric dualrec reports is computed with these
//! operations, never by sampling. An [`IntervalSet`] is kept normalised:
//! sorted, disjoint, non-empty and non-adjacent spans, so equality of two sets
//! is equality of their vectors.

use serde::{Deserialize, Serialize};

/// A point in time or a length, in nanoseconds.
pub type Nanos = u64;

/// One half-open span `[start, end)`; `start < end` always holds inside a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: Nanos,
    pub end: Nanos,
}

impl Span {
    pub fn new(start: Nanos, end: Nanos) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> Nanos {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// A normalised set of half-open spans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntervalSet {
    spans: Vec<Span>,
}

impl IntervalSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from arbitrary (unsorted, overlapping, empty) spans.
    pub fn from_spans(spans: impl IntoIterator<Item = Span>) -> Self {
        let mut raw: Vec<Span> = spans.into_iter().filter(|s| !s.is_empty()).collect();
        raw.sort_unstable();
        let mut out: Vec<Span> = Vec::with_capacity(raw.len());
        for s in raw {
            match out.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => out.push(s),
            }
        }
        IntervalSet { spans: out }
    }

    pub fn single(start: Nanos, end: Nanos) -> Self {
        Self::from_spans([Span::new(start, end)])
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Adds `[start, end)`. Appending at or after the current end is O(1),
    /// which is how recorders write footage.
    pub fn insert(&mut self, start: Nanos, end: Nanos) {
        if end <= start {
            return;
        }
        match self.spans.last_mut() {
            None => self.spans.push(Span::new(start, end)),
            Some(last) if start > last.end => self.spans.push(Span::new(start, end)),
            Some(last) if start >= last.start => last.end = last.end.max(end),
            Some(_) => {
                let mut all = std::mem::take(&mut self.spans);
                all.push(Span::new(start, end));
                *self = Self::from_spans(all);
            }
        }
    }

    /// Total covered length.
    pub fn measure(&self) -> Nanos {
        self.spans.iter().map(Span::len).sum()
    }

    /// Whether `t` lies inside the set.
    pub fn contains(&self, t: Nanos) -> bool {
        let i = self.spans.partition_point(|s| s.end <= t);
        self.spans.get(i).is_some_and(|s| s.start <= t)
    }

    /// The earliest covered instant at or after `t`.
    pub fn first_at_or_after(&self, t: Nanos) -> Option<Nanos> {
        let i = self.spans.partition_point(|s| s.end <= t);
        self.spans.get(i).map(|s| s.start.max(t))
    }

    /// The earliest uncovered instant at or after `t`.
    pub fn first_gap_at_or_after(&self, t: Nanos) -> Nanos {
        let i = self.spans.partition_point(|s| s.end <= t);
        match self.spans.get(i) {
            Some(s) if s.start <= t => s.end,
            _ => t,
        }
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        Self::from_spans(self.spans.iter().chain(other.spans.iter()).copied())
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (a, b) = (&self.spans, &other.spans);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let start = a[i].start.max(b[j].start);
            let end = a[i].end.min(b[j].end);
            if start < end {
                out.push(Span::new(start, end));
            }
            if a[i].end < b[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { spans: out }
    }

    /// `self` minus `other`.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let b = &other.spans;
        let mut j = 0;
        for s in &self.spans {
            let mut cur = s.start;
            while j < b.len() && b[j].end <= cur {
                j += 1;
            }
            let mut k = j;
            while k < b.len() && b[k].start < s.end {
                if b[k].start > cur {
                    out.push(Span::new(cur, b[k].start));
                }
                cur = cur.max(b[k].end);
                k += 1;
            }
            if cur < s.end {
                out.push(Span::new(cur, s.end));
            }
        }
        IntervalSet { spans: out }
    }

    /// The part of the set inside `[start, end)`.
    pub fn clip(&self, start: Nanos, end: Nanos) -> IntervalSet {
        self.intersect(&IntervalSet::single(start, end))
    }

    /// Uncovered parts of `[start, end)`.
    pub fn gaps_within(&self, start: Nanos, end: Nanos) -> IntervalSet {
        IntervalSet::single(start, end).subtract(self)
    }
}

impl FromIterator<Span> for IntervalSet {
    fn from_iter<T: IntoIterator<Item = Span>>(iter: T) -> Self {
        Self::from_spans(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(v: &[(u64, u64)]) -> IntervalSet {
        IntervalSet::from_spans(v.iter().map(|&(a, b)| Span::new(a, b)))
    }

    #[test]
    fn normalises_overlap_adjacency_and_empties() {
        let s = set(&[(5, 7), (0, 2), (2, 3), (6, 9), (4, 4)]);
        assert_eq!(s.spans(), &[Span::new(0, 3), Span::new(5, 9)]);
        assert_eq!(s.measure(), 7);
    }

    #[test]
    fn insert_appends_and_merges() {
        let mut s = IntervalSet::new();
        s.insert(0, 10);
        s.insert(10, 12);
        s.insert(20, 30);
        s.insert(5, 21);
        assert_eq!(s.spans(), &[Span::new(0, 30)]);
    }

    #[test]
    fn subtract_and_intersect() {
        let a = set(&[(0, 10), (20, 30)]);
        let b = set(&[(5, 25)]);
        assert_eq!(a.subtract(&b), set(&[(0, 5), (25, 30)]));
        assert_eq!(a.intersect(&b), set(&[(5, 10), (20, 25)]));
        assert_eq!(a.gaps_within(0, 40), set(&[(10, 20), (30, 40)]));
    }

    #[test]
    fn point_queries() {
        let a = set(&[(10, 20), (30, 40)]);
        assert!(!a.contains(9));
        assert!(a.contains(10));
        assert!(!a.contains(20));
        assert_eq!(a.first_at_or_after(0), Some(10));
        assert_eq!(a.first_at_or_after(15), Some(15));
        assert_eq!(a.first_at_or_after(20), Some(30));
        assert_eq!(a.first_at_or_after(40), None);
        assert_eq!(a.first_gap_at_or_after(12), 20);
        assert_eq!(a.first_gap_at_or_after(25), 25);
    }

    fn arb_set() -> impl Strategy<Value = IntervalSet> {
        proptest::collection::vec((0u64..200, 0u64..30), 0..12)
            .prop_map(|v| IntervalSet::from_spans(v.into_iter().map(|(a, l)| Span::new(a, a + l))))
    }

    proptest! {
        #[test]
        fn set_algebra_matches_pointwise_truth(a in arb_set(), b in arb_set()) {
            let u = a.union(&b);
            let i = a.intersect(&b);
            let d = a.subtract(&b);
            for t in 0..240u64 {
                prop_assert_eq!(u.contains(t), a.contains(t) || b.contains(t));
                prop_assert_eq!(i.contains(t), a.contains(t) && b.contains(t));
                prop_assert_eq!(d.contains(t), a.contains(t) && !b.contains(t));
            }
            prop_assert_eq!(u.measure() + i.measure(), a.measure() + b.measure());
        }
    }
}
