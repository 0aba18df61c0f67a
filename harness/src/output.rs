//! Writing a run's folder: `report.json`, `timing.json`, `junit.xml`,
//! `summary.md`, `report.html` and, when asked, the trace as JSON lines; a
//! suite's folder: `suite.json`, `junit.xml`, `summary.md`, `report.html`
//! beside one folder per scenario.
//!
//! Everything but `timing.json` is a pure function of the report, so
//! [`write_report_files`] and [`write_suite_files`] also serve `dualrec
//! report render` and `dualrec report merge`.

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

fn create_dir(dir: &Path) -> Result<(), OutputError> {
    fs::create_dir_all(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Which renderings to write beside (or instead of) the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renderings {
    pub json: bool,
    pub html: bool,
    pub markdown: bool,
    pub junit: bool,
}

impl Renderings {
    /// Every file.
    pub const ALL: Renderings = Renderings {
        json: true,
        html: true,
        markdown: true,
        junit: true,
    };
}

/// Writes every output of `run` into `dir` (created if needed).
pub fn write_run(dir: &Path, run: &RunOutput) -> Result<(), OutputError> {
    write_report_files(dir, &run.report, Renderings::ALL)?;
    // The run's own junit.xml carries its wall-clock time.
    let timed = report::JunitRun {
        report: &run.report,
        wall_seconds: Some(run.timing.wall_seconds),
        earlier: &[],
    };
    write(
        &dir.join("junit.xml"),
        report::junit_xml_runs(&[timed]).as_bytes(),
    )?;
    let timing = serde_json::to_string_pretty(&run.timing).unwrap_or_default() + "\n";
    write(&dir.join("timing.json"), timing.as_bytes())
}

/// Writes a scenario report's files into `dir` (created if needed):
/// `report.json`, `junit.xml`, `summary.md`, `report.html`, as chosen.
pub fn write_report_files(
    dir: &Path,
    report: &report::Report,
    which: Renderings,
) -> Result<(), OutputError> {
    create_dir(dir)?;
    if which.json {
        write(&dir.join("report.json"), report::to_json(report).as_bytes())?;
    }
    if which.junit {
        write(&dir.join("junit.xml"), report::junit_xml(report).as_bytes())?;
    }
    if which.markdown {
        write(
            &dir.join("summary.md"),
            report::summary_markdown(report).as_bytes(),
        )?;
    }
    if which.html {
        write(
            &dir.join("report.html"),
            report::report_html(report).as_bytes(),
        )?;
    }
    Ok(())
}

/// Writes a suite's own files into `dir` (created if needed): `suite.json`,
/// the suite-wide `junit.xml` (one testsuite per scenario), `summary.md`
/// and `report.html`, as chosen. Scenario folders are not written.
pub fn write_suite_files(
    dir: &Path,
    suite: &report::SuiteReport,
    which: Renderings,
) -> Result<(), OutputError> {
    create_dir(dir)?;
    if which.json {
        write(
            &dir.join("suite.json"),
            report::merge::suite_json(suite).as_bytes(),
        )?;
    }
    if which.junit {
        write(
            &dir.join("junit.xml"),
            report::junit_xml_suites(&suite.reports).as_bytes(),
        )?;
    }
    if which.markdown {
        write(
            &dir.join("summary.md"),
            report::suite_summary_markdown(suite).as_bytes(),
        )?;
    }
    if which.html {
        write(
            &dir.join("report.html"),
            report::suite_html(suite).as_bytes(),
        )?;
    }
    Ok(())
}

/// Writes a suite's `junit.xml` with each scenario's wall time and earlier
/// failed attempts (retries), replacing the untimed one.
pub fn write_suite_junit(dir: &Path, runs: &[report::JunitRun]) -> Result<(), OutputError> {
    write(
        &dir.join("junit.xml"),
        report::junit_xml_runs(runs).as_bytes(),
    )
}

/// Writes a whole suite folder from its report: the suite's files and, per
/// scenario, `<dir>/<name>/` with the scenario's files (no `timing.json`:
/// that is the run's, not the report's).
pub fn write_suite_tree(
    dir: &Path,
    suite: &report::SuiteReport,
    which: Renderings,
) -> Result<(), OutputError> {
    write_suite_files(dir, suite, which)?;
    for r in &suite.reports {
        write_report_files(&dir.join(&r.scenario.name), r, which)?;
    }
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
