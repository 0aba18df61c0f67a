//! [`Replica`]: one replica's side of the leader lease, as a sans-IO state
//! machine (see the module docs of [`crate::cluster`] for the design).

use std::collections::VecDeque;

use crate::core::{Nanos, MILLIS, SECS};

/// Timing of the lease. All durations in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// How long the database keeps a lease after its last renewal.
    pub lease: Nanos,
    /// How often the leader renews.
    pub renew_every: Nanos,
    /// How often a standby looks at the lease.
    pub poll_every: Nanos,
    /// The leader's right to send ends this long before the lease can
    /// expire: clock-rate slack plus the engine's request timeout.
    pub margin: Nanos,
    /// A lease operation unanswered this long is given up (and retried).
    pub op_timeout: Nanos,
}

impl Default for LeaseConfig {
    /// Lease 4 s, renewed every 500 ms, standbys look every 250 ms, margin
    /// 2 s (the default request timeout): takeover ≈ 4.25 s.
    fn default() -> Self {
        LeaseConfig {
            lease: 4 * SECS,
            renew_every: 500 * MILLIS,
            poll_every: 250 * MILLIS,
            margin: 2 * SECS,
            op_timeout: SECS,
        }
    }
}

impl LeaseConfig {
    /// What is wrong with this timing, if anything: the leader must get
    /// several renewals in before its right to send ends.
    pub fn check(&self) -> Result<(), String> {
        if self.renew_every == 0 || self.poll_every == 0 || self.op_timeout == 0 {
            return Err("lease intervals must be positive".into());
        }
        if self.margin >= self.lease {
            return Err("the lease must be longer than its safety margin".into());
        }
        if self.lease - self.margin < 2 * self.renew_every {
            return Err(
                "the lease minus its safety margin must cover at least two renewals".into(),
            );
        }
        Ok(())
    }

    /// The timing for a lease of `lease` under engine policy `policy`:
    /// renewed eight times per lease, standbys looking sixteen times, and a
    /// safety margin of the request timeout (at least a second, at most
    /// half the lease). `for_policy(4 s, default)` is the default.
    pub fn for_policy(lease: Nanos, policy: &crate::core::Policy) -> LeaseConfig {
        LeaseConfig {
            lease,
            renew_every: lease / 8,
            poll_every: lease / 16,
            margin: policy.request_timeout.max(SECS).min(lease / 2),
            op_timeout: (lease / 4).max(100 * MILLIS),
        }
    }

    /// How long after a renewal was sent the leader may still send.
    pub fn right(&self) -> Nanos {
        self.lease.saturating_sub(self.margin)
    }
}

/// Identifies one lease operation, to match its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// What a replica asks of the lease row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOp {
    /// Read the row (and the database's judgment of its expiry).
    Observe,
    /// Take the lease if it is still at `observed_epoch` and has expired;
    /// the epoch becomes `observed_epoch + 1`.
    Acquire { observed_epoch: u64 },
    /// Extend the lease held at `epoch`.
    Renew { epoch: u64 },
    /// Give up the lease held at `epoch` (graceful shutdown): it expires at once.
    Release { epoch: u64 },
}

/// The lease row as the database sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseView {
    pub epoch: u64,
    /// The holder's replica id (`None` before anyone held it).
    pub holder: Option<String>,
    /// The holder's API address, as it advertised it.
    pub holder_url: Option<String>,
    /// Database time since the last renewal (`None`: never, or released).
    pub age: Option<Nanos>,
    /// Whether the database considers the lease expired.
    pub expired: bool,
}

/// The answer to a [`LeaseOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseReply {
    Observed(LeaseView),
    Acquired {
        epoch: u64,
    },
    Renewed {
        epoch: u64,
    },
    Released,
    /// Acquire or renew refused: someone else holds it, or it moved on.
    Refused(LeaseView),
}

/// A change of role the driver must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseEvent {
    /// This replica leads at `epoch`: restore the journal, start the engine.
    BecameLeader { epoch: u64 },
    /// This replica no longer leads: stop the engine at once.
    SteppedDown { epoch: u64, reason: &'static str },
}

/// This replica's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ClusterRole)]
pub enum Role {
    Leader,
    Standby,
}

#[derive(Debug, Clone)]
struct Pending {
    id: OpId,
    op: LeaseOp,
    sent_at: Nanos,
}

/// One replica's lease state machine.
#[derive(Debug)]
pub struct Replica {
    id: String,
    cfg: LeaseConfig,
    /// `Some((epoch, may send until))` while leader.
    leading: Option<(u64, Nanos)>,
    /// The last row seen (or inferred from our own successes).
    view: LeaseView,
    /// When `view` was learnt.
    view_at: Option<Nanos>,
    pending: Option<Pending>,
    next_op_at: Nanos,
    next_id: u64,
    outbox: VecDeque<(OpId, LeaseOp)>,
    events: VecDeque<LeaseEvent>,
    releasing: bool,
    now: Nanos,
}

impl Replica {
    /// Replica `id` (unique in the group) with lease timing `cfg`.
    pub fn new(id: impl Into<String>, cfg: LeaseConfig) -> Self {
        Replica {
            id: id.into(),
            cfg,
            leading: None,
            view: LeaseView::default(),
            view_at: None,
            pending: None,
            next_op_at: 0,
            next_id: 0,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            releasing: false,
            now: 0,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &LeaseConfig {
        &self.cfg
    }

    /// Lets time pass: ends a lapsed right to send, gives up an unanswered
    /// operation, and issues the next one when it is due.
    pub fn on_timeout(&mut self, now: Nanos) {
        self.now = self.now.max(now);
        self.check_right(now);
        if let Some(p) = &self.pending {
            if now >= p.sent_at + self.cfg.op_timeout {
                tracing::debug!(op = ?p.op, "lease operation unanswered; given up");
                self.pending = None;
            }
        }
        if self.pending.is_none() && now >= self.next_op_at && !self.releasing {
            let op = match self.leading {
                Some((epoch, _)) => LeaseOp::Renew { epoch },
                None => LeaseOp::Observe,
            };
            self.issue(now, op);
        }
    }

    /// The answer to operation `id` (`Err`: it failed, e.g. the database
    /// is unreachable). Answers to given-up operations are ignored.
    pub fn on_reply(&mut self, now: Nanos, id: OpId, reply: Result<LeaseReply, String>) {
        self.now = self.now.max(now);
        let Some(p) = self.pending.take_if(|p| p.id == id) else {
            return;
        };
        match reply {
            Err(error) => {
                tracing::debug!(op = ?p.op, %error, "lease operation failed");
                self.next_op_at = p.sent_at + self.interval().min(self.cfg.poll_every);
            }
            Ok(LeaseReply::Observed(view)) => {
                let expired = view.expired;
                let epoch = view.epoch;
                self.learn(now, view);
                if self.leading.is_none() && expired && !self.releasing {
                    self.issue(
                        now,
                        LeaseOp::Acquire {
                            observed_epoch: epoch,
                        },
                    );
                    return;
                }
                self.next_op_at = p.sent_at + self.cfg.poll_every;
            }
            Ok(LeaseReply::Acquired { epoch }) => {
                // The right counts from when the request left, not when
                // the answer came: the database stamped it no earlier.
                let until = p.sent_at + self.cfg.right();
                self.view.epoch = epoch;
                self.view.age = Some(0);
                self.view.expired = false;
                self.view_at = Some(p.sent_at);
                if until > now {
                    self.leading = Some((epoch, until));
                    self.view.holder = Some(self.id.clone());
                    self.events.push_back(LeaseEvent::BecameLeader { epoch });
                    self.next_op_at = p.sent_at + self.cfg.renew_every;
                } else {
                    // Granted, but the answer came too late to use; let it
                    // lapse (another replica will take it over).
                    self.next_op_at = now + self.cfg.poll_every;
                }
            }
            Ok(LeaseReply::Renewed { epoch }) => {
                if let Some((held, until)) = &mut self.leading {
                    if *held == epoch {
                        *until = (*until).max(p.sent_at + self.cfg.right());
                        self.view.age = Some(0);
                        self.view.expired = false;
                        self.view_at = Some(p.sent_at);
                    }
                }
                self.next_op_at = p.sent_at + self.cfg.renew_every;
                self.check_right(now);
            }
            Ok(LeaseReply::Refused(view)) => {
                self.learn(now, view);
                if let Some((epoch, _)) = self.leading.take() {
                    self.events.push_back(LeaseEvent::SteppedDown {
                        epoch,
                        reason: "deposed: the lease moved on",
                    });
                }
                self.next_op_at = now + self.cfg.poll_every;
            }
            Ok(LeaseReply::Released) => {
                self.next_op_at = Nanos::MAX;
            }
        }
    }

    /// A journal write was rejected because the current epoch is `current`:
    /// if that is newer than ours, we were deposed.
    pub fn on_stale_epoch(&mut self, now: Nanos, current: u64) {
        self.now = self.now.max(now);
        if current > self.view.epoch {
            self.view.epoch = current;
        }
        if let Some((epoch, _)) = self.leading {
            if current != epoch {
                self.leading = None;
                self.events.push_back(LeaseEvent::SteppedDown {
                    epoch,
                    reason: "deposed: a journal write was fenced",
                });
                self.next_op_at = now;
            }
        }
    }

    /// Graceful shutdown: stop leading now and release the lease so a
    /// standby takes over without waiting for it to expire.
    pub fn release(&mut self, now: Nanos) {
        self.now = self.now.max(now);
        self.releasing = true;
        if let Some((epoch, _)) = self.leading.take() {
            self.events.push_back(LeaseEvent::SteppedDown {
                epoch,
                reason: "shutting down",
            });
            self.pending = None;
            self.issue(now, LeaseOp::Release { epoch });
        }
    }

    /// The next lease operation to carry out.
    pub fn poll_op(&mut self) -> Option<(OpId, LeaseOp)> {
        self.outbox.pop_front()
    }

    /// The next change of role.
    pub fn poll_event(&mut self) -> Option<LeaseEvent> {
        self.events.pop_front()
    }

    /// When [`Replica::on_timeout`] is next needed.
    pub fn next_deadline(&self) -> Option<Nanos> {
        let mut d = if self.releasing {
            Nanos::MAX
        } else {
            self.next_op_at
        };
        if let Some(p) = &self.pending {
            d = p.sent_at + self.cfg.op_timeout;
        }
        if let Some((_, until)) = self.leading {
            d = d.min(until);
        }
        (d != Nanos::MAX).then_some(d)
    }

    /// Whether this replica may send commands to the recorders at `now`.
    pub fn may_send(&self, now: Nanos) -> bool {
        self.leading.is_some_and(|(_, until)| now < until)
    }

    /// Until when the leader may send (`None` when not leading).
    pub fn send_until(&self) -> Option<Nanos> {
        self.leading.map(|(_, until)| until)
    }

    pub fn role(&self) -> Role {
        if self.leading.is_some() {
            Role::Leader
        } else {
            Role::Standby
        }
    }

    /// The epoch this replica leads at, or the latest it has seen.
    pub fn epoch(&self) -> u64 {
        self.leading.map_or(self.view.epoch, |(e, _)| e)
    }

    /// The last lease row seen.
    pub fn view(&self) -> &LeaseView {
        &self.view
    }

    /// Age of the lease at `now`, as far as this replica knows.
    pub fn lease_age(&self, now: Nanos) -> Option<Nanos> {
        let at = self.view_at?;
        Some(self.view.age? + now.saturating_sub(at))
    }

    fn interval(&self) -> Nanos {
        if self.leading.is_some() {
            self.cfg.renew_every
        } else {
            self.cfg.poll_every
        }
    }

    fn learn(&mut self, now: Nanos, view: LeaseView) {
        self.view = view;
        self.view_at = Some(now);
    }

    fn check_right(&mut self, now: Nanos) {
        if let Some((epoch, until)) = self.leading {
            if now >= until {
                self.leading = None;
                self.events.push_back(LeaseEvent::SteppedDown {
                    epoch,
                    reason: "the lease could not be renewed in time",
                });
                self.next_op_at = now;
            }
        }
    }

    fn issue(&mut self, now: Nanos, op: LeaseOp) {
        let id = OpId(self.next_id);
        self.next_id += 1;
        self.pending = Some(Pending {
            id,
            op: op.clone(),
            sent_at: now,
        });
        self.outbox.push_back((id, op));
    }
}
