//! The dualrec harness: scenario files in, verdicts out.
//!
//! - [`scenario`]: parsing and validation of scenario TOML (errors name
//!   `file:line:col` and what was expected)
//! - [`workload`]: the clicks a scenario makes (explicit and Poisson)
//! - [`build`]: scenario → virtual world
//! - [`runner`]: running a scenario and measuring it
//! - [`real`]: real mode — mock sites over HTTP, the tokio engine, wall clock
//! - [`metrics`]: every metric computed from recorder ground truth
//! - [`guarantee`], [`verdict`]: what a scenario promises and whether it held
//! - [`report`], [`output`]: `report.json`, `junit.xml`, summaries, trace
//! - [`check`]: `dualrec check`, an independent second computation of every
//!   metric and verdict from a trace alone
//! - [`accept`]: acceptance runs against live recorders (`dualrec accept`)
//! - [`explore`]: random fault schedules, shrunk to a reproducer on a violation
//! - [`suite`]: finding and selecting scenario files; [`shard`]: a suite's
//!   slice for one of N machines
//!
//! The harness never asks the engine what it believes: every figure comes
//! from the recorders' footage and manual-recording state.

pub mod accept;
pub mod build;
pub mod check;
pub mod explore;
pub mod guarantee;
pub mod metrics;
pub mod output;
pub mod real;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod suite;
pub mod verdict;
pub mod workload;
