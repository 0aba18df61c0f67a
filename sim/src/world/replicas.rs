//! Engine replicas in virtual time: each replica's lease state machine
//! ([`engine::cluster::Replica`], the shipping code) over a simulated
//! journal whose lease row follows the same rules as the PostgreSQL one
//! ([`engine::cluster::LeaseTable`]), with a fixed database round trip.
//!
//! This file only carries lease operations and answers; the world builds,
//! feeds and drops the leader's engine when told ([`Change`]).

use engine::cluster::{LeaseConfig, LeaseEvent, LeaseOp, LeaseReply, LeaseTable, OpId, Replica};
use engine::core::{Nanos, MILLIS};

use super::config::EngineTarget;

/// One way to or from the simulated journal database.
pub const DB_ONE_WAY: Nanos = MILLIS;

/// What the world must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Replica `node` leads at `epoch`: build its engine from the journal.
    Lead { node: usize, epoch: u64 },
    /// Replica `node` stopped leading: drop its engine.
    StepDown { node: usize },
}

#[derive(Debug)]
struct Node {
    /// `None` while the replica's process is dead.
    replica: Option<Replica>,
    /// Incarnations of this replica, so answers to a dead one are dropped.
    life: u64,
}

/// The replicas of a world and their shared lease.
#[derive(Debug)]
pub struct Replicas {
    cfg: LeaseConfig,
    table: LeaseTable,
    nodes: Vec<Node>,
    /// (arrives at the database, node, life, op)
    requests: Vec<(Nanos, usize, u64, OpId, LeaseOp)>,
    /// (arrives at the replica, node, life, op, answer)
    replies: Vec<(Nanos, usize, u64, OpId, LeaseReply)>,
}

impl Replicas {
    pub fn new(n: usize, cfg: LeaseConfig) -> Self {
        Replicas {
            cfg,
            table: LeaseTable::new(),
            nodes: (0..n)
                .map(|i| Node {
                    replica: Some(Replica::new(name(i), cfg)),
                    life: 0,
                })
                .collect(),
            requests: Vec::new(),
            replies: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// When [`Replicas::step`] is next needed.
    pub fn next_deadline(&self) -> Option<Nanos> {
        let nodes = self
            .nodes
            .iter()
            .filter_map(|n| n.replica.as_ref()?.next_deadline());
        let reqs = self.requests.iter().map(|r| r.0);
        let reps = self.replies.iter().map(|r| r.0);
        nodes.chain(reqs).chain(reps).min()
    }

    /// Runs everything due at `now`; the role changes, in order.
    pub fn step(&mut self, now: Nanos) -> Vec<Change> {
        let mut i = 0;
        while i < self.requests.len() {
            if self.requests[i].0 <= now {
                let (_, node, life, id, op) = self.requests.remove(i);
                let who = name(node);
                let reply = match op {
                    LeaseOp::Observe => LeaseReply::Observed(self.table.observe(now)),
                    LeaseOp::Acquire { observed_epoch } => {
                        self.table
                            .acquire(now, &who, None, observed_epoch, self.cfg.lease)
                    }
                    LeaseOp::Renew { epoch } => self.table.renew(now, &who, epoch, self.cfg.lease),
                    LeaseOp::Release { epoch } => self.table.release(&who, epoch),
                };
                self.replies.push((now + DB_ONE_WAY, node, life, id, reply));
            } else {
                i += 1;
            }
        }
        let mut changes = Vec::new();
        for n in 0..self.nodes.len() {
            let life = self.nodes[n].life;
            let mut i = 0;
            while i < self.replies.len() {
                let r = &self.replies[i];
                if r.1 == n && r.0 <= now {
                    let (_, _, l, id, reply) = self.replies.remove(i);
                    if l == life {
                        if let Some(rep) = &mut self.nodes[n].replica {
                            rep.on_reply(now, id, Ok(reply));
                        }
                    }
                } else {
                    i += 1;
                }
            }
            let Some(rep) = &mut self.nodes[n].replica else {
                continue;
            };
            rep.on_timeout(now);
            while let Some(ev) = rep.poll_event() {
                changes.push(match ev {
                    LeaseEvent::BecameLeader { epoch } => Change::Lead { node: n, epoch },
                    LeaseEvent::SteppedDown { .. } => Change::StepDown { node: n },
                });
            }
            while let Some((id, op)) = rep.poll_op() {
                self.requests.push((now + DB_ONE_WAY, n, life, id, op));
            }
        }
        changes
    }

    /// Whether replica `node` may send at `now`.
    pub fn may_send(&self, node: usize, now: Nanos) -> bool {
        self.nodes
            .get(node)
            .and_then(|n| n.replica.as_ref())
            .is_some_and(|r| r.may_send(now))
    }

    /// Which replica `target` names at `now` (`None`: nobody fits).
    pub fn resolve(&self, target: EngineTarget, now: Nanos) -> Option<usize> {
        let alive = |i: &usize| self.nodes[*i].replica.is_some();
        match target {
            EngineTarget::Leader => (0..self.nodes.len()).find(|&i| self.may_send(i, now)),
            EngineTarget::Standby => (0..self.nodes.len())
                .filter(alive)
                .find(|&i| !self.may_send(i, now)),
            EngineTarget::Index(i) => (i < self.nodes.len() && alive(&i)).then_some(i),
        }
    }

    /// Whether any replica's process is alive (one can take clicks).
    pub fn any_alive(&self) -> bool {
        self.nodes.iter().any(|n| n.replica.is_some())
    }

    /// Replica `node`'s process dies (its lease is left to expire).
    pub fn crash(&mut self, node: usize) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.replica = None;
            n.life += 1;
        }
    }

    /// Replica `node`'s process starts again, as a standby.
    pub fn restart(&mut self, node: usize) {
        if let Some(n) = self.nodes.get_mut(node) {
            if n.replica.is_none() {
                n.replica = Some(Replica::new(name(node), self.cfg));
            }
        }
    }
}

fn name(i: usize) -> String {
    format!("engine-{i}")
}
