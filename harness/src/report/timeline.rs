//! Session timelines: what the report keeps of the ground truth around each
//! worst session, and its drawing.
//!
//! A [`SessionTimeline`] is cut from the [`RunRecord`] for one worst session:
//! a view window of the intent window widened by a margin
//! ([`margin_ns`]: a tenth of the session, at least 5 s) and clipped to
//! `[0, settled_at]`, and inside it, per site, the manual-recording spans,
//! the footage spans and the fault windows touching that site (and camera),
//! plus the camera's clicks and the engine's own faults. Everything is
//! clipped to the view window and kept in record order, so `report.json`
//! stays byte-reproducible.
//!
//! [`timeline_svg`] draws one timeline with plotters: one lane per site with
//! three rows — the intent window, manual recording on/off, footage —
//! fault windows shaded across the lane, engine faults across all lanes and
//! the clicks as vertical marks (green start, red stop).

use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use sim::intervals::{IntervalSet, Nanos};
use sim::world::record::RunRecord;

use crate::metrics::SessionRecord;

/// Smallest margin around a session in its timeline.
pub const MIN_MARGIN_NS: Nanos = 5_000_000_000;

/// A half-open span `[start_ns, end_ns)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanNs {
    pub start_ns: Nanos,
    pub end_ns: Nanos,
}

/// A fault window, clipped to the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpan {
    pub kind: String,
    pub start_ns: Nanos,
    /// Equal to `start_ns` for instantaneous faults (`token_expiry`).
    pub end_ns: Nanos,
}

/// A click of the session's camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickMark {
    pub at_ns: Nanos,
    /// `true`: Start Record; `false`: Stop Record.
    pub recording: bool,
}

/// One site's lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLane {
    pub site: String,
    /// The recorder was manually recording the camera.
    pub manual: Vec<SpanNs>,
    /// Footage actually written.
    pub footage: Vec<SpanNs>,
    /// Faults of this site (site-wide, or of this camera).
    pub faults: Vec<FaultSpan>,
}

/// The ground truth around one worst session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimeline {
    pub camera: String,
    /// The intent window (as in `worst_sessions`).
    pub start_ns: Nanos,
    pub stop_ns: Nanos,
    pub open_ended: bool,
    /// The view window: the session ± [`margin_ns`], clipped to the run.
    pub from_ns: Nanos,
    pub to_ns: Nanos,
    pub clicks: Vec<ClickMark>,
    /// Faults of the engine itself (`engine_crash`).
    pub engine_faults: Vec<FaultSpan>,
    /// In site order.
    pub sites: Vec<SiteLane>,
}

/// The margin shown around a session: a tenth of its length, at least
/// [`MIN_MARGIN_NS`].
pub fn margin_ns(start: Nanos, stop: Nanos) -> Nanos {
    (stop.saturating_sub(start) / 10).max(MIN_MARGIN_NS)
}

fn spans(set: &IntervalSet, from: Nanos, to: Nanos) -> Vec<SpanNs> {
    set.clip(from, to)
        .spans()
        .iter()
        .map(|s| SpanNs {
            start_ns: s.start,
            end_ns: s.end,
        })
        .collect()
}

/// Cuts the timeline of `session` out of `record`. `None` if the session's
/// camera is not in the record.
pub fn build(record: &RunRecord, session: &SessionRecord) -> Option<SessionTimeline> {
    let cam = record.cameras.iter().position(|c| *c == session.camera)?;
    let margin = margin_ns(session.start_ns, session.stop_ns);
    let from = session.start_ns.saturating_sub(margin);
    let to = session
        .stop_ns
        .saturating_add(margin)
        .min(record.settled_at.max(session.stop_ns));
    let fault = |f: &sim::world::record::FaultWindow| {
        let touches = if f.start == f.end {
            f.start >= from && f.start <= to
        } else {
            f.start < to && f.end > from
        };
        touches.then(|| FaultSpan {
            kind: f.kind.clone(),
            start_ns: f.start.max(from),
            end_ns: f.end.min(to).max(f.start.max(from)),
        })
    };
    let sites = record
        .sites
        .iter()
        .enumerate()
        .map(|(r, site)| SiteLane {
            site: site.clone(),
            manual: record
                .manual
                .get(r)
                .and_then(|m| m.get(cam))
                .map_or_else(Vec::new, |s| spans(s, from, to)),
            footage: record
                .footage
                .get(r)
                .and_then(|m| m.get(cam))
                .map_or_else(Vec::new, |s| spans(s, from, to)),
            faults: record
                .faults
                .iter()
                .filter(|f| f.site == Some(r) && f.camera.is_none_or(|c| c == cam))
                .filter_map(fault)
                .collect(),
        })
        .collect();
    Some(SessionTimeline {
        camera: session.camera.clone(),
        start_ns: session.start_ns,
        stop_ns: session.stop_ns,
        open_ended: session.open_ended,
        from_ns: from,
        to_ns: to,
        clicks: record
            .clicks
            .iter()
            .filter(|c| c.camera == cam && c.at >= from && c.at <= to)
            .map(|c| ClickMark {
                at_ns: c.at,
                recording: c.recording,
            })
            .collect(),
        engine_faults: record
            .faults
            .iter()
            .filter(|f| f.site.is_none())
            .filter_map(fault)
            .collect(),
        sites,
    })
}

/// Colours shared with the HTML legend.
pub mod colour {
    use plotters::style::RGBColor;
    pub const INTENT: RGBColor = RGBColor(90, 110, 140);
    pub const MANUAL: RGBColor = RGBColor(52, 120, 200);
    pub const FOOTAGE: RGBColor = RGBColor(46, 160, 90);
    pub const FAULT: RGBColor = RGBColor(220, 60, 50);
    pub const ENGINE_FAULT: RGBColor = RGBColor(150, 80, 200);
    pub const START: RGBColor = RGBColor(30, 150, 60);
    pub const STOP: RGBColor = RGBColor(200, 40, 40);
}

const ROWS: [&str; 3] = ["intent", "manual", "footage"];

/// The timeline as an SVG document (a `<svg>` element), `width` pixels wide.
pub fn timeline_svg(t: &SessionTimeline, width: u32) -> String {
    let lane_rows = ROWS.len() as u32;
    let height = 70 + 26 * lane_rows * t.sites.len().max(1) as u32 + 10 * t.sites.len() as u32;
    let mut svg = String::new();
    if let Err(e) = draw(t, &mut svg, (width, height)) {
        tracing::warn!("drawing the timeline of {}: {e}", t.camera);
        return String::new();
    }
    svg
}

fn secs(ns: Nanos) -> f64 {
    ns as f64 / 1e9
}

fn draw(
    t: &SessionTimeline,
    out: &mut String,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    let n_rows = (t.sites.len() * (ROWS.len() + 1)) as f64;
    let x0 = secs(t.from_ns);
    let x1 = secs(t.to_ns).max(x0 + 1e-3);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(140)
        .build_cartesian_2d(x0..x1, 0f64..n_rows)?;
    let lane_label = |y: &f64| -> String {
        // Rows from the top: per site a spacer, then intent, manual, footage.
        let idx = (n_rows - y.floor() - 1.0).max(0.0) as usize;
        let (site, row) = (idx / (ROWS.len() + 1), idx % (ROWS.len() + 1));
        match (t.sites.get(site), row) {
            (Some(lane), 0) => lane.site.clone(),
            (Some(_), r) => format!("  {}", ROWS[r - 1]),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_max_light_lines(2)
        .y_labels((n_rows as usize) * 2 + 1)
        .y_label_formatter(&|y| {
            if (y.fract() - 0.5).abs() < 1e-6 {
                lane_label(y)
            } else {
                String::new()
            }
        })
        .x_desc("time since the run began (s)")
        .x_label_formatter(&|x| format!("{x:.1}"))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    // Row `k` of site `s` (k = 0 the label row) spans [y, y + 1).
    let row_y = |s: usize, k: usize| n_rows - (s * (ROWS.len() + 1) + k) as f64 - 1.0;
    let bar = |s: usize, k: usize, a: Nanos, b: Nanos, c: RGBColor| {
        let y = row_y(s, k);
        Rectangle::new(
            [(secs(a), y + 0.2), (secs(b), y + 0.8)],
            c.mix(0.85).filled(),
        )
    };
    for (s, lane) in t.sites.iter().enumerate() {
        let top = row_y(s, 0) + 1.0;
        let bottom = row_y(s, ROWS.len());
        let shade = |f: &FaultSpan, c: RGBColor| {
            let b = if f.end_ns > f.start_ns {
                f.end_ns
            } else {
                f.start_ns + (t.to_ns - t.from_ns) / 400
            };
            Rectangle::new(
                [(secs(f.start_ns), bottom), (secs(b), top)],
                c.mix(0.18).filled(),
            )
        };
        chart.draw_series(lane.faults.iter().map(|f| shade(f, colour::FAULT)))?;
        chart.draw_series(
            t.engine_faults
                .iter()
                .map(|f| shade(f, colour::ENGINE_FAULT)),
        )?;
        chart.draw_series(lane.faults.iter().map(|f| {
            Text::new(
                f.kind.clone(),
                (secs(f.start_ns), top - 0.35),
                ("sans-serif", 11).into_font().color(&colour::FAULT),
            )
        }))?;
        if s == 0 {
            chart.draw_series(t.engine_faults.iter().map(|f| {
                Text::new(
                    format!("{} (engine)", f.kind),
                    (secs(f.start_ns), top - 0.35),
                    ("sans-serif", 11).into_font().color(&colour::ENGINE_FAULT),
                )
            }))?;
        }
        chart.draw_series(std::iter::once(bar(
            s,
            1,
            t.start_ns,
            t.stop_ns,
            colour::INTENT,
        )))?;
        chart.draw_series(
            lane.manual
                .iter()
                .map(|m| bar(s, 2, m.start_ns, m.end_ns, colour::MANUAL)),
        )?;
        chart.draw_series(
            lane.footage
                .iter()
                .map(|m| bar(s, 3, m.start_ns, m.end_ns, colour::FOOTAGE)),
        )?;
    }
    chart.draw_series(t.clicks.iter().map(|c| {
        let colour = if c.recording {
            colour::START
        } else {
            colour::STOP
        };
        PathElement::new(
            vec![(secs(c.at_ns), 0.0), (secs(c.at_ns), n_rows)],
            colour.stroke_width(2),
        )
    }))?;
    root.present()?;
    Ok(())
}
