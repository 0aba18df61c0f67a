//! One module per subcommand.

pub mod accept;
pub mod check;
pub mod discover;
pub mod engine;
pub mod explore;
mod explore_merge;
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

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C only"),
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "cannot watch Ctrl-C; running until killed");
        std::future::pending::<()>().await;
    }
}
