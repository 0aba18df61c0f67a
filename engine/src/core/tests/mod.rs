//! Contract tests of the sans-IO engine, run against a tiny deterministic
//! driver ([`driver`]) with ideal recorders, in virtual time.
//!
//! Each file checks one part of the resilience rules of `docs/engine.md`; the
//! property test ([`props`]) checks convergence under random interleavings.

mod driver;

mod clicks;
mod faults;
mod handover;
mod overdue;
mod props;
mod renewal;
mod restore;
mod tokens;
