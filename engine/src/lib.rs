//! engine
pub mod core;
