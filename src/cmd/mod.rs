//! One module per subcommand.

pub mod accept;
pub mod engine;
pub mod explore;
pub mod recorder;
pub mod report;
pub mod run;
pub mod suite;
pub mod validate;

use std::path::PathBuf;

/// `reports/<name>-<local time>/`, the default output folder of a run.
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    PathBuf::from("reports").join(format!("{name}-{stamp}"))
}
