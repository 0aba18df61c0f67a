//! The lease in virtual time: replicas over a [`LeaseTable`] with delays,
//! crashes and pauses; at no instant may two replicas hold the right to
//! send, and a standby takes over within `lease + poll_every` (+ delays).

use proptest::prelude::*;

use super::*;
use crate::core::{Nanos, MILLIS, SECS};

/// A replica in the test world: `paused_until` models SIGSTOP (nothing it
/// does happens while paused; its clock keeps running).
struct Node {
    r: Replica,
    alive: bool,
    paused_until: Nanos,
    leader_since: Option<Nanos>,
}

struct Net {
    table: LeaseTable,
    nodes: Vec<Node>,
    /// (deliver at, node, op id, reply) in flight; DB applies at arrival.
    replies: Vec<(Nanos, usize, OpId, Result<LeaseReply, String>)>,
    requests: Vec<(Nanos, usize, OpId, LeaseOp)>,
    delay: Nanos,
    db_down: bool,
    /// Every (node, epoch, from, until) tenure of a right to send.
    tenures: Vec<(usize, u64, Nanos)>,
}

impl Net {
    fn new(n: usize, delay: Nanos) -> Self {
        Net {
            table: LeaseTable::new(),
            nodes: (0..n)
                .map(|i| Node {
                    r: Replica::new(format!("r{i}"), LeaseConfig::default()),
                    alive: true,
                    paused_until: 0,
                    leader_since: None,
                })
                .collect(),
            replies: Vec::new(),
            requests: Vec::new(),
            delay,
            db_down: false,
            tenures: Vec::new(),
        }
    }

    /// Advances to `until` in 1 ms steps, checking the invariant.
    fn run(&mut self, from: Nanos, until: Nanos) {
        let mut t = from;
        while t <= until {
            self.step(t);
            let senders: Vec<usize> = (0..self.nodes.len())
                .filter(|&i| {
                    let n = &self.nodes[i];
                    n.alive && n.r.may_send(t)
                })
                .collect();
            assert!(
                senders.len() <= 1,
                "two replicas may send at {t}: {senders:?}"
            );
            t += MILLIS;
        }
    }

    fn step(&mut self, t: Nanos) {
        // Requests reach the database.
        let (due, rest): (Vec<_>, Vec<_>) = self.requests.drain(..).partition(|r| r.0 <= t);
        self.requests = rest;
        for (_, i, id, op) in due {
            let who = format!("r{i}");
            let lease = LeaseConfig::default().lease;
            let reply = if self.db_down {
                Err("database unreachable".to_string())
            } else {
                Ok(match op {
                    LeaseOp::Observe => LeaseReply::Observed(self.table.observe(t)),
                    LeaseOp::Acquire { observed_epoch } => {
                        self.table.acquire(t, &who, None, observed_epoch, lease)
                    }
                    LeaseOp::Renew { epoch } => self.table.renew(t, &who, epoch, lease),
                    LeaseOp::Release { epoch } => self.table.release(&who, epoch),
                })
            };
            self.replies.push((t + self.delay, i, id, reply));
        }
        for i in 0..self.nodes.len() {
            if !self.nodes[i].alive || self.nodes[i].paused_until > t {
                continue;
            }
            let (due, rest): (Vec<_>, Vec<_>) =
                self.replies.drain(..).partition(|r| r.0 <= t && r.1 == i);
            self.replies = rest;
            let node = &mut self.nodes[i];
            for (_, _, id, reply) in due {
                node.r.on_reply(t, id, reply);
            }
            node.r.on_timeout(t);
            while let Some(ev) = node.r.poll_event() {
                match ev {
                    LeaseEvent::BecameLeader { epoch } => {
                        node.leader_since = Some(t);
                        self.tenures.push((i, epoch, t));
                    }
                    LeaseEvent::SteppedDown { .. } => node.leader_since = None,
                }
            }
            while let Some((id, op)) = node.r.poll_op() {
                self.requests.push((t + self.delay, i, id, op));
            }
        }
    }

    fn leader(&self, t: Nanos) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.nodes[i].alive && self.nodes[i].r.may_send(t))
    }
}

#[test]
fn one_leader_is_elected_and_keeps_the_lease() {
    let mut net = Net::new(3, 2 * MILLIS);
    net.run(0, 20 * SECS);
    let leader = net.leader(20 * SECS).expect("a leader after 20 s");
    assert_eq!(
        net.tenures.len(),
        1,
        "no churn while healthy: {:?}",
        net.tenures
    );
    assert_eq!(net.tenures[0].0, leader);
    assert_eq!(net.table.epoch(), 1);
}

#[test]
fn a_standby_takes_over_within_lease_plus_poll_after_the_leader_dies() {
    let mut net = Net::new(2, 2 * MILLIS);
    net.run(0, 10 * SECS);
    let old = net.leader(10 * SECS).expect("leader");
    let died = 10 * SECS + MILLIS;
    net.nodes[old].alive = false;
    net.run(died, 20 * SECS);
    let new = net.leader(20 * SECS).expect("a new leader");
    assert_ne!(new, old);
    let (_, epoch, since) = *net.tenures.last().expect("tenure");
    assert_eq!(epoch, 2, "the fencing epoch grew by one");
    let cfg = LeaseConfig::default();
    let takeover = since - died;
    assert!(
        takeover <= cfg.lease + cfg.poll_every + 10 * MILLIS,
        "takeover took {} ms",
        takeover / MILLIS
    );
    assert!(takeover <= 5 * SECS);
}

#[test]
fn a_paused_leader_has_stopped_sending_before_the_lease_moves_on() {
    let mut net = Net::new(2, 2 * MILLIS);
    net.run(0, 10 * SECS);
    let old = net.leader(10 * SECS).expect("leader");
    // SIGSTOP for 10 s: the invariant check in `run` covers the whole time.
    net.nodes[old].paused_until = 20 * SECS;
    net.run(10 * SECS + MILLIS, 30 * SECS);
    let new = net.leader(30 * SECS).expect("leader");
    assert_ne!(new, old, "the paused leader was replaced");
    assert_eq!(net.nodes[old].r.role(), Role::Standby);
    // The old leader's writes are fenced.
    let stale = net.nodes[old].r.epoch();
    assert!(net.table.check_write(1).is_err());
    assert!(stale >= 1);
}

#[test]
fn a_leader_that_loses_the_database_steps_down_and_a_leader_returns_after() {
    let mut net = Net::new(2, 2 * MILLIS);
    net.run(0, 10 * SECS);
    net.db_down = true;
    net.run(10 * SECS + MILLIS, 15 * SECS);
    assert_eq!(
        net.leader(15 * SECS),
        None,
        "nobody may send without the database"
    );
    net.db_down = false;
    net.run(15 * SECS + MILLIS, 25 * SECS);
    assert!(net.leader(25 * SECS).is_some());
}

#[test]
fn a_write_with_a_stale_epoch_deposes_the_leader() {
    let mut r = Replica::new("a", LeaseConfig::default());
    r.on_timeout(0);
    let (id, op) = r.poll_op().expect("observe");
    assert_eq!(op, LeaseOp::Observe);
    let mut table = LeaseTable::new();
    r.on_reply(MILLIS, id, Ok(LeaseReply::Observed(table.observe(MILLIS))));
    let (id, op) = r.poll_op().expect("acquire");
    let LeaseOp::Acquire { observed_epoch } = op else {
        panic!("expected an acquire, got {op:?}");
    };
    let reply = table.acquire(2 * MILLIS, "a", None, observed_epoch, 4 * SECS);
    r.on_reply(3 * MILLIS, id, Ok(reply));
    assert_eq!(r.poll_event(), Some(LeaseEvent::BecameLeader { epoch: 1 }));
    assert!(r.may_send(3 * MILLIS));
    r.on_stale_epoch(4 * MILLIS, 2);
    assert!(!r.may_send(4 * MILLIS));
    assert!(matches!(
        r.poll_event(),
        Some(LeaseEvent::SteppedDown { .. })
    ));
}

#[test]
fn the_right_to_send_counts_from_when_the_request_left() {
    let cfg = LeaseConfig::default();
    let mut r = Replica::new("a", cfg);
    let mut table = LeaseTable::new();
    r.on_timeout(0);
    let (id, _) = r.poll_op().expect("observe");
    r.on_reply(0, id, Ok(LeaseReply::Observed(table.observe(0))));
    let (id, _) = r.poll_op().expect("acquire");
    // The answer takes 1.5 s to come back.
    let reply = table.acquire(0, "a", None, 0, cfg.lease);
    r.on_reply(1500 * MILLIS, id, Ok(reply));
    assert_eq!(r.send_until(), Some(cfg.lease - cfg.margin));
}

#[test]
fn a_graceful_release_lets_a_standby_take_over_at_once() {
    let mut net = Net::new(2, 2 * MILLIS);
    net.run(0, 5 * SECS);
    let old = net.leader(5 * SECS).expect("leader");
    net.nodes[old].r.release(5 * SECS);
    net.run(5 * SECS + MILLIS, 6 * SECS);
    let new = net.leader(6 * SECS).expect("taken over within a second");
    assert_ne!(new, old);
}

#[test]
fn the_default_timing_is_valid_and_bad_timing_is_refused() {
    assert_eq!(LeaseConfig::default().check(), Ok(()));
    let bad = LeaseConfig {
        margin: 5 * SECS,
        ..LeaseConfig::default()
    };
    assert!(bad.check().is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random delays, pauses and crashes: never two senders at once (checked
    /// at every millisecond inside `run`), and some replica leads at the end
    /// once everyone is back.
    #[test]
    fn never_two_senders(
        delay_ms in 1u64..400,
        pauses in proptest::collection::vec((0usize..3, 1u64..30, 1u64..8), 0..4),
        crash in proptest::option::of(0usize..3),
    ) {
        let mut net = Net::new(3, delay_ms * MILLIS);
        let mut t = 0;
        for (node, at_s, for_s) in pauses {
            let at = at_s * SECS;
            if at > t {
                net.run(t, at);
                t = at + MILLIS;
            }
            net.nodes[node].paused_until = at + for_s * SECS;
        }
        if let Some(c) = crash {
            net.run(t, t + 3 * SECS);
            t += 3 * SECS + MILLIS;
            net.nodes[c].alive = false;
        }
        net.run(t, t + 30 * SECS);
        prop_assert!(net.leader(t + 30 * SECS).is_some());
    }
}
