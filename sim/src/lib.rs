//! sim
pub mod intervals;
pub mod world;
