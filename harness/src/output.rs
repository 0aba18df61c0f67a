//! Writing a run's folder: `report.json`, `timing.json`, `junit.xml`,
//! `summary.md` and, when asked, the trace as JSON lines.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::report;
use crate::runner::RunOutput;

/// An output file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct OutputError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

fn write(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    fs::write(path, contents).map_err(|source| OutputError {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes every output of `run` into `dir` (created if needed).
pub fn write_run(dir: &Path, run: &RunOutput) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(
        &dir.join("report.json"),
        report::to_json(&run.report).as_bytes(),
    )?;
    let timing = serde_json::to_string_pretty(&run.timing).unwrap_or_default() + "\n";
    write(&dir.join("timing.json"), timing.as_bytes())?;
    write(
        &dir.join("junit.xml"),
        report::junit_xml(&run.report).as_bytes(),
    )?;
    write(
        &dir.join("summary.md"),
        report::summary_markdown(&run.report).as_bytes(),
    )?;
    Ok(())
}

/// Writes the trace as JSON lines.
pub fn write_trace(path: &Path, run: &RunOutput) -> Result<(), OutputError> {
    let err = |source| OutputError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(err)?;
    }
    let file = fs::File::create(path).map_err(err)?;
    let mut out = BufWriter::new(file);
    for event in &run.trace {
        let line = serde_json::to_string(event).map_err(|e| err(e.into()))?;
        writeln!(out, "{line}").map_err(err)?;
    }
    out.flush().map_err(err)
}

/// Writes the suite-level outputs: one `junit.xml` with every scenario's
/// testsuite, and `summary.md` concatenating the scenarios' summaries.
pub fn write_suite(dir: &Path, reports: &[report::Report]) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })?;
    write(
        &dir.join("junit.xml"),
        report::junit_xml_suites(reports).as_bytes(),
    )?;
    let summary: String = reports
        .iter()
        .map(report::summary_markdown)
        .collect::<Vec<_>>()
        .join("\n");
    write(&dir.join("summary.md"), summary.as_bytes())
}
