//! Finding and selecting the scenario files of a suite.

use std::path::{Path, PathBuf};

use crate::scenario::{self, Scenario, ScenarioError};

/// Which scenarios of a folder to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Keep scenarios whose file name or scenario name contains this.
    pub filter: Option<String>,
    /// Keep scenarios carrying this tag.
    pub tag: Option<String>,
    /// Descend into sub-folders (e.g. `scenarios/bench/`).
    pub recursive: bool,
}

/// A suite folder could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading suite folder {path}: {source}")]
pub struct SuiteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The `*.toml` files of `dir`, sorted by path (a stable suite order).
pub fn discover(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, SuiteError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| SuiteError {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| SuiteError {
                    path: d.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                if recursive {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Loads every scenario file and keeps those the selection asks for. All
/// files are validated, selected or not, and every invalid one is reported.
pub fn load(
    files: &[PathBuf],
    sel: &Selection,
) -> Result<Vec<(PathBuf, Scenario)>, Vec<ScenarioError>> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match scenario::load(f) {
            Ok(s) => {
                let file_name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let name_ok = sel
                    .filter
                    .as_ref()
                    .is_none_or(|p| s.name.contains(p.as_str()) || file_name.contains(p.as_str()));
                let tag_ok = sel
                    .tag
                    .as_ref()
                    .is_none_or(|t| s.tags.iter().any(|x| x == t));
                if name_ok && tag_ok {
                    ok.push((f.clone(), s));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(errors)
    }
}
