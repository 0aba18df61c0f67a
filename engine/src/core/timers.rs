//! The engine's pending timers, with lazy deletion.
//!
//! Timers are never cancelled; a timer that fires after the state it was
//! armed for has moved on is recognised as stale by its handler and dropped.
//! This keeps arming cheap, which matters when thousands of cameras renew,
//! retry and probe through a simulated day. They wait in a [`TimeQueue`]
//! (see `time_queue.rs`), whose pops stay cheap however many renewal
//! wake-ups wait minutes ahead.

use super::time_queue::TimeQueue;
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
    queue: TimeQueue<Timer>,
}

impl Timers {
    pub fn arm(&mut self, at: Nanos, timer: Timer) {
        // The queue breaks ties in arming order, so equal deadlines fire
        // deterministically. Request time-outs are a fixed delay after
        // sending, so they are armed in due order: most are never needed
        // (the answer came first), and a plain queue holds them for free.
        match timer {
            Timer::RequestTimeout(_) => self.queue.push_in_order(at, timer),
            _ => self.queue.push(at, timer),
        }
    }

    pub fn next_deadline(&self) -> Option<Nanos> {
        self.queue.peek_time()
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<Timer> {
        match self.queue.peek_time() {
            Some(at) if at <= now => self.queue.pop().map(|(_, t)| t),
            _ => None,
        }
    }
}
