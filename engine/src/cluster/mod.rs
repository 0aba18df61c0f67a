//! Replicas and leadership, sans-IO: which engine replica may talk to the
//! recorders, decided by a lease held in the shared journal.
//!
//! - [`Replica`] is one replica's side of the lease: it asks to observe,
//!   acquire or renew the lease ([`LeaseOp`]), is fed the answers
//!   ([`LeaseReply`]) and the passage of time, and says when it is leader
//!   and, above all, until when it may *send* ([`Replica::may_send`]).
//! - [`LeaseTable`] is the reference model of the lease row as the journal
//!   keeps it: the rules the PostgreSQL statements in
//!   [`crate::journal::postgres`] implement, and the simulated journal the
//!   virtual-time world uses.
//!
//! Like [`crate::core::Mirror`] this module performs no I/O whatsoever:
//! no clock reads (time is passed in), no sockets, no database.
//!
//! # Design
//!
//! One row holds `(epoch, holder, renewed_at, lease)`. `renewed_at` is
//! stamped with the **database's** clock, so every replica judges expiry by
//! the same clock. A standby observes the row every `poll_every`; once the
//! database says `now > renewed_at + lease` it asks to acquire with the epoch
//! it observed, and the database grants it to exactly one asker (the update
//! is conditional on that epoch and on expiry) with `epoch + 1`: the
//! **fencing epoch** grows by one at every change of leader. The leader
//! renews every `renew_every` (conditional on holding its epoch).
//!
//! The recorders cannot check an epoch, so the leader's right to send is
//! bounded on its **own monotonic clock**: a renewal (or acquisition) *sent*
//! at `t` lets it send until `t + lease − margin`. The database stamped the
//! renewal no earlier than `t`, so it cannot grant the lease to anyone else
//! before `t + lease` on its clock; the `margin` covers the rate difference
//! of the two clocks over one lease and, because it is at least the
//! engine's request timeout, the time a command sent just before the
//! deadline may still be in flight: by the time a new leader sends
//! anything, every command of the old one has been out longer than its own
//! timeout, and the new leader restores every camera as `Unknown`, probes
//! and reconciles every site.
//!
//! Every journal write carries the writer's epoch; the journal rejects a
//! write whose epoch is not the current one ([`LeaseTable::check_write`]),
//! so a deposed leader learns at its first write that it is deposed, and
//! no write of it lands under a newer leader's epoch.
//!
//! # Failure analysis
//!
//! | failure | what happens |
//! |---|---|
//! | leader `kill -9`, host loss | no renewals; the database lets the lease expire `lease` after the last renewal; a standby acquires it within `poll_every` and restores: takeover ≤ `lease + poll_every` + one restore |
//! | leader loses the database (partition, database restart) | its renewals fail; its right to send ends `lease − margin` after the last successful renewal was sent, before the lease can expire anywhere; it steps down (drops its engine) and observes like any standby |
//! | leader paused (`SIGSTOP`, a VM freeze) past its lease | on resuming, its own clock shows its right has lapsed before it sends anything (the send gate is checked when each command leaves); it steps down; a renewal refused because the epoch moved on says it was deposed |
//! | standby loses the database | it cannot acquire; writes to it fail (503) rather than being answered without being durable |
//! | database down | nobody can be leader: the leader steps down after `lease − margin`; recorders keep recording until their own auto-stop; writes fail with 503. Use a replicated or managed PostgreSQL |
//! | two standbys race to acquire | the conditional update on the observed epoch lets exactly one win |
//! | clock jump on a replica | only monotonic clocks are used on replicas; expiry is judged by the database clock alone |

mod lease;
mod table;

pub use lease::{LeaseConfig, LeaseEvent, LeaseOp, LeaseReply, LeaseView, OpId, Replica, Role};
pub use table::{LeaseTable, StaleEpoch};

#[cfg(test)]
mod tests;
