//! The engine's pending timers: a min-heap with lazy deletion.
//!
//! Timers are never cancelled; a timer that fires after the state it was
//! armed for has moved on is recognised as stale by its handler and dropped.
//! This keeps arming O(log n) and `next_deadline` O(1), which matters when a
//! thousand cameras renew, retry and probe through a simulated day.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::types::{Nanos, RecorderId, RequestId, SiteId};

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A request's reply is overdue.
    RequestTimeout(RequestId),
    /// A pair's retry back-off has elapsed, or its renewal is due.
    Wake(usize),
    /// Time to probe one recorder (drift probe, or health probe when down).
    /// The generation retires older probe chains when the cadence changes.
    Probe(SiteId, RecorderId, u64),
    /// Time to log in to a site (token renewal or a retried login).
    Login(SiteId),
    /// A renewal hand-over's Stop (the request) has not answered in time
    /// for the pre-buffer: send its pair's Start anyway.
    HandoverOverdue(usize, RequestId),
    /// A Start/Stop's reply may be overdue: its pairs may supersede it
    /// (see `overdue.rs`).
    Overdue(RequestId),
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Nanos, u64, Timer)>>,
    armed: u64,
}

impl Timers {
    pub fn arm(&mut self, at: Nanos, timer: Timer) {
        // The arming counter breaks ties in arming order, so equal deadlines
        // fire deterministically.
        self.armed += 1;
        self.heap.push(Reverse((at, self.armed, timer)));
    }

    pub fn next_deadline(&self) -> Option<Nanos> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<Timer> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse((_, _, t))| t),
            _ => None,
        }
    }
}
