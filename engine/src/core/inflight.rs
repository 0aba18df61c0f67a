//! [`InFlightTable`]: the requests the engine waits on, by id and — per
//! site — its Start/Stops in send order.
//!
//! At every answer that overtakes earlier requests the engine asks "which
//! Start/Stops to this site were sent before this one, and long enough
//! ago?" (`overdue.rs`). Scanning every request in flight for that cost as
//! much as the installation had recorders (their probes are in flight too),
//! at every answer: with hundreds of recorders probed every few seconds,
//! quadratic. Here each site's Start/Stops wait in a queue in send order,
//! so the question reads only the oldest few.
//!
//! The queue drops answered requests when they reach its front (answers
//! come back roughly in send order, so it stays about as long as the
//! Start/Stops in flight); one answered while an older one is still out
//! stays behind it and is skipped by the question.
//!
//! Pure bookkeeping: no clock, no I/O.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::mirror::{InFlight, Purpose};
use super::types::{Nanos, RequestId, SiteId};

#[derive(Debug, Default)]
pub(super) struct InFlightTable {
    /// FxHash, as the engine's other tables (see `Mirror::camera_index`).
    by_id: FxHashMap<RequestId, InFlight>,
    /// Per site: Start/Stops sent, oldest first (some already answered).
    ops_sent: Vec<VecDeque<(Nanos, RequestId)>>,
}

impl InFlightTable {
    pub fn new(nsites: usize) -> Self {
        InFlightTable {
            by_id: FxHashMap::default(),
            ops_sent: vec![VecDeque::new(); nsites],
        }
    }

    pub fn insert(&mut self, req: RequestId, f: InFlight) {
        if matches!(f.purpose, Purpose::Op(..)) {
            let queue = &mut self.ops_sent[f.site];
            let key = (f.sent_at, req);
            // Nearly always the newest: pushed at the back.
            let at = queue.partition_point(|&k| k < key);
            queue.insert(at, key);
        }
        self.by_id.insert(req, f);
    }

    pub fn remove(&mut self, req: &RequestId) -> Option<InFlight> {
        let f = self.by_id.remove(req)?;
        if matches!(f.purpose, Purpose::Op(..)) {
            let queue = &mut self.ops_sent[f.site];
            while queue
                .front()
                .is_some_and(|(_, r)| !self.by_id.contains_key(r))
            {
                queue.pop_front();
            }
        }
        Some(f)
    }

    pub fn get(&self, req: &RequestId) -> Option<&InFlight> {
        self.by_id.get(req)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn values(&self) -> impl Iterator<Item = &InFlight> {
        self.by_id.values()
    }

    /// The Start/Stops to `site` still in flight that were sent before
    /// `before` and no later than `sent_by`, oldest first.
    pub fn ops_sent_before(
        &self,
        site: SiteId,
        before: Nanos,
        sent_by: Nanos,
    ) -> impl Iterator<Item = RequestId> + '_ {
        self.ops_sent[site]
            .iter()
            .take_while(move |&&(at, _)| at < before && at <= sent_by)
            .map(|&(_, req)| req)
            .filter(|req| self.by_id.contains_key(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::RecorderOp;

    fn flight(site: SiteId, sent_at: Nanos, op: bool) -> InFlight {
        InFlight {
            site,
            purpose: if op {
                Purpose::Op(RecorderOp::Start, Vec::new())
            } else {
                Purpose::Login
            },
            sent_at,
            token: None,
        }
    }

    #[test]
    fn indexes_follow_inserts_and_removals() {
        let mut t = InFlightTable::new(2);
        t.insert(RequestId(1), flight(0, 10, true));
        t.insert(RequestId(2), flight(0, 20, false));
        t.insert(RequestId(3), flight(1, 5, true));
        t.insert(RequestId(4), flight(0, 30, true));
        assert_eq!(t.len(), 4);
        let ops: Vec<_> = t.ops_sent_before(0, 31, 100).collect();
        assert_eq!(ops, vec![RequestId(1), RequestId(4)], "logins are not ops");
        let ops: Vec<_> = t.ops_sent_before(0, 30, 100).collect();
        assert_eq!(ops, vec![RequestId(1)], "strictly before");
        let ops: Vec<_> = t.ops_sent_before(0, 100, 9).collect();
        assert!(ops.is_empty(), "none sent by 9");
        assert_eq!(t.remove(&RequestId(1)).map(|f| f.sent_at), Some(10));
        assert_eq!(t.remove(&RequestId(1)).map(|f| f.sent_at), None);
        assert_eq!(
            t.ops_sent_before(0, 100, 100).collect::<Vec<_>>(),
            vec![RequestId(4)]
        );
        // Answered behind an older one still out: skipped, then dropped.
        t.insert(RequestId(5), flight(0, 40, true));
        t.insert(RequestId(6), flight(0, 50, true));
        t.remove(&RequestId(5));
        assert_eq!(
            t.ops_sent_before(0, 100, 100).collect::<Vec<_>>(),
            vec![RequestId(4), RequestId(6)]
        );
        t.remove(&RequestId(4));
        assert_eq!(t.ops_sent[0].len(), 1, "answered ones leave from the front");
        t.remove(&RequestId(2));
        t.remove(&RequestId(6));
        assert!(t.ops_sent[0].is_empty());
        assert_eq!(t.len(), 1);
        // Out of send order (never in practice): still found in order.
        t.insert(RequestId(8), flight(1, 60, true));
        t.insert(RequestId(7), flight(1, 55, true));
        assert_eq!(
            t.ops_sent_before(1, 100, 100).collect::<Vec<_>>(),
            vec![RequestId(3), RequestId(7), RequestId(8)]
        );
    }
}
