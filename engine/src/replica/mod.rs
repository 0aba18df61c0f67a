//! One replica of a group of engines sharing a PostgreSQL journal: the
//! tokio driver of [`crate::cluster::Replica`] (the sans-IO lease).
//!
//! A [`Node`] task owns the lease state machine, runs its statements on a
//! connection of its own, follows the journal (`LISTEN` plus a 250 ms
//! poll), and while this replica leads it runs the engine
//! ([`crate::runtime::Driver`]) restored from the journal, feeding it every
//! newly committed intent in journal order. The engine's sending is gated
//! by [`SendGate`]: each command checks, as it leaves, that the lease right
//! has not lapsed on this process's monotonic clock.
//!
//! [`ClusterHandle`] is what the REST service uses: writes go to the
//! journal under this replica's epoch (re-tried once with the current epoch
//! when fenced), reads come from the engine (leader) or from the journal
//! (standby). The node also answers the engine-handle requests the REST
//! service makes ([`ClusterHandle::engine`]), so the service's read paths
//! work unchanged on every replica.
//!
//! Makes no engine decision and no lease decision: those are in
//! [`crate::core`] and [`crate::cluster`].

mod gate;
mod node;

pub use gate::SendGate;
pub use node::{ClusterHandle, ClusterStatus, Node, NodeOptions, WriteError};
