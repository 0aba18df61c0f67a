//! Durations of scenario files: the project-wide humane syntax of
//! [`engine::duration`] (`250ms`, `1m30s`, `10.05s`).

pub use engine::duration::{format_duration, parse_duration, DurationError, EXPECTED};
