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

use std::path::{Path, PathBuf};

/// The folder runs write into by default.
const REPORTS: &str = "reports";

/// `reports/<name>-<local time>/`, the default output folder of a run.
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    PathBuf::from(REPORTS).join(format!("{name}-{stamp}"))
}

/// Points `reports/latest` at `dir` when `dir` is a folder directly in
/// `reports/` (the default output folders, or `--out reports/NAME`), so
/// `reports/latest/report.html` is always the newest run's. The link is
/// relative (the reports folder can move) and replaced atomically (a new
/// link renamed over the old one); a filesystem without symlinks only gets
/// a warning — the run itself is written either way.
pub fn mark_latest(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    if parent != Path::new(REPORTS) || name == "latest" {
        return;
    }
    if let Err(e) = replace_link(parent, name.as_ref()) {
        eprintln!(
            "warning: cannot point {}/latest at {}: {e}",
            parent.display(),
            dir.display()
        );
    }
}

#[cfg(unix)]
fn replace_link(parent: &Path, target: &Path) -> std::io::Result<()> {
    let staging = parent.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    std::os::unix::fs::symlink(target, &staging)?;
    std::fs::rename(&staging, parent.join("latest")).inspect_err(|_| {
        let _ = std::fs::remove_file(&staging);
    })
}

#[cfg(not(unix))]
fn replace_link(_parent: &Path, _target: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symlinks are created on Unix only"))
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
