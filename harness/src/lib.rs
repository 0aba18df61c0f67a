//! harness
pub mod guarantee;
