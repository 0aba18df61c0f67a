//! Reading a trace (`--trace FILE`, JSON lines) into a [`History`]: the
//! run's shape, the clicks, the fault windows and, per site and camera, the
//! manual-recording and footage intervals — everything the checker needs and
//! nothing the engine believed (commands and replies are read past).
//!
//! Errors name the line and what was expected; a trace is outside input.

use std::collections::BTreeMap;

use serde::Deserialize;
use sim::intervals::{IntervalSet, Nanos};

/// A trace that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {what}")]
pub struct TraceError {
    pub file: String,
    /// 1-based; 0 when the problem is the trace as a whole.
    pub line: usize,
    pub what: String,
}

/// The lines the checker reads; every other `type` is skipped.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Run {
        sites: Vec<String>,
        cameras: Vec<String>,
    },
    Click {
        t: Nanos,
        camera: String,
        recording: bool,
    },
    Fault {
        start: Nanos,
        end: Nanos,
        site: Option<String>,
        kind: String,
        camera: Option<String>,
    },
    Manual {
        site: String,
        camera: String,
        start: Nanos,
        end: Nanos,
    },
    Footage {
        site: String,
        camera: String,
        start: Nanos,
        end: Nanos,
    },
    FinalManual {
        site: String,
        camera: String,
    },
    End {
        end: Nanos,
        settled: Nanos,
    },
    #[serde(other)]
    Other,
}

/// A user's click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Click {
    pub t: Nanos,
    pub camera: usize,
    pub start: bool,
}

/// A fault window on a site (faults of the engine itself are not kept: no
/// metric reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub site: usize,
    pub kind: String,
    pub camera: Option<usize>,
    pub end: Nanos,
}

/// What happened, by index: `sites[i]`, `cameras[j]`.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub sites: Vec<String>,
    pub cameras: Vec<String>,
    /// In trace order (which is time order).
    pub clicks: Vec<Click>,
    pub faults: Vec<Fault>,
    /// `(site, camera)` → manual-recording intervals.
    pub manual: BTreeMap<(usize, usize), IntervalSet>,
    /// `(site, camera)` → footage intervals.
    pub footage: BTreeMap<(usize, usize), IntervalSet>,
    /// `(site, camera)` pairs manually recording at the end of the settle period.
    pub recording_at_settle: Vec<(usize, usize)>,
    pub end: Nanos,
    pub settled: Nanos,
}

impl History {
    /// Manual-recording intervals of a camera on a site (empty if none).
    pub fn manual(&self, site: usize, camera: usize) -> IntervalSet {
        self.manual
            .get(&(site, camera))
            .cloned()
            .unwrap_or_default()
    }

    /// Footage intervals of a camera on a site (empty if none).
    pub fn footage(&self, site: usize, camera: usize) -> IntervalSet {
        self.footage
            .get(&(site, camera))
            .cloned()
            .unwrap_or_default()
    }
}

/// Reads a trace; `file` names it in errors.
pub fn read(text: &str, file: &str) -> Result<History, TraceError> {
    let err = |line: usize, what: String| TraceError {
        file: file.to_string(),
        line,
        what,
    };
    let mut h = History::default();
    let mut shape_seen = false;
    let mut end_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_str(raw).map_err(|e| err(n, format!("not a trace event: {e}")))?;
        if !shape_seen && !matches!(line, Line::Run { .. }) {
            return Err(err(
                n,
                "expected the `run` line (sites and cameras) first".to_string(),
            ));
        }
        let site = |name: &str| {
            h.sites.iter().position(|s| s == name).ok_or_else(|| {
                err(
                    n,
                    format!("unknown site `{name}`; the `run` line names {:?}", h.sites),
                )
            })
        };
        let camera = |name: &str| {
            h.cameras
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| err(n, format!("unknown camera `{name}`")))
        };
        let span = |start: Nanos, end: Nanos| {
            if end < start {
                Err(err(
                    n,
                    format!("interval ends ({end}) before it starts ({start})"),
                ))
            } else {
                Ok((start, end))
            }
        };
        match line {
            Line::Run { sites, cameras } => {
                if shape_seen {
                    return Err(err(n, "a second `run` line".to_string()));
                }
                shape_seen = true;
                h.sites = sites;
                h.cameras = cameras;
            }
            Line::Click {
                t,
                camera: c,
                recording,
            } => {
                let camera = camera(&c)?;
                h.clicks.push(Click {
                    t,
                    camera,
                    start: recording,
                });
            }
            Line::Fault {
                start,
                end,
                site: s,
                kind,
                camera: c,
            } => {
                span(start, end)?;
                let Some(s) = s else { continue };
                let site = site(&s)?;
                let camera = c.as_deref().map(camera).transpose()?;
                h.faults.push(Fault {
                    site,
                    kind,
                    camera,
                    end,
                });
            }
            Line::Manual {
                site: s,
                camera: c,
                start,
                end,
            } => {
                let (start, end) = span(start, end)?;
                let key = (site(&s)?, camera(&c)?);
                h.manual.entry(key).or_default().insert(start, end);
            }
            Line::Footage {
                site: s,
                camera: c,
                start,
                end,
            } => {
                let (start, end) = span(start, end)?;
                let key = (site(&s)?, camera(&c)?);
                h.footage.entry(key).or_default().insert(start, end);
            }
            Line::FinalManual { site: s, camera: c } => {
                let key = (site(&s)?, camera(&c)?);
                h.recording_at_settle.push(key);
            }
            Line::End { end, settled } => {
                span(end, settled)?;
                h.end = end;
                h.settled = settled;
                end_seen = true;
            }
            Line::Other => {}
        }
    }
    if !shape_seen {
        return Err(err(0, "empty trace: no `run` line".to_string()));
    }
    if !end_seen {
        return Err(err(
            0,
            "no `end` line: the trace is cut short (the run did not finish?)".to_string(),
        ));
    }
    Ok(h)
}
