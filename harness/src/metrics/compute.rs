//! The computation: a [`RunRecord`] in, [`Metrics`] out.
//!
//! Definitions are in the [module doc](super). This file walks cameras in
//! index order and sessions in time order, so histograms are filled in a
//! deterministic order; it reads nothing but the record.

use std::collections::BTreeMap;

use sim::intervals::{IntervalSet, Nanos};
use sim::world::record::RunRecord;

use super::sessions::{derive_intents, IntentWindow, SessionRecord, SiteSession};
use super::{
    LostIntent, MetricKind, Metrics, MetricsConfig, MetricsError, RecoverySample, Series,
    SessionCounts, METRICS,
};

/// Fault kinds that are instantaneous and have nothing to recover from.
const NO_RECOVERY_KINDS: &[&str] = &["token_expiry"];

/// Computes every metric of a run.
/// How far back from the end of the settle period a recording camera may
/// have been seen recording (one renewal hand-over is far shorter).
const RENEWAL_WINDOW: Nanos = 1_000_000_000;

pub fn compute(record: &RunRecord, config: &MetricsConfig) -> Result<Metrics, MetricsError> {
    check_shape(record)?;
    let n_sites = record.sites.len();
    let n_cams = record.cameras.len();
    let intents = derive_intents(record);

    let mut series: BTreeMap<&'static str, Series> = METRICS
        .iter()
        .filter(|d| d.kind == MetricKind::Time)
        .map(|d| {
            let by_site = if d.per_site {
                vec![Default::default(); n_sites]
            } else {
                Vec::new()
            };
            (
                d.name,
                Series {
                    overall: Default::default(),
                    by_site,
                },
            )
        })
        .collect();
    let mut put = |metric: &'static str, site: Option<usize>, ns: Nanos| {
        let s = series
            .get_mut(metric)
            .expect("every time metric has a series");
        s.overall.record(ns);
        if let Some(r) = site {
            s.by_site[r].record(ns);
        }
    };

    let mut counts = SessionCounts {
        not_started: record.sites.iter().map(|s| (s.clone(), 0)).collect(),
        stop_censored: record.sites.iter().map(|s| (s.clone(), 0)).collect(),
        clicks: intents.tally,
        ..Default::default()
    };
    let mut sessions = Vec::new();

    for c in 0..n_cams {
        let windows = &intents.windows[c];
        let any_footage = (0..n_sites).fold(IntervalSet::new(), |acc, r| {
            acc.union(&record.footage[r][c])
        });

        // Orphan time before the first start click (or the whole run).
        let first = windows.first().map_or(record.end, |w| w.start);
        // Only a real orphan makes a sample here: one zero per camera would
        // swamp the per-stop samples (and make `min` meaningless).
        for r in 0..n_sites {
            let before = record.manual[r][c].clip(0, first).measure();
            if before > 0 {
                put("orphan_time", Some(r), before);
            }
        }

        for (i, w) in windows.iter().enumerate() {
            let next = windows.get(i + 1).map_or(record.end, |n| n.start);
            let s = session(record, config, w, next, &any_footage);
            counts.total += 1;
            if w.open_ended {
                counts.open_ended += 1;
            } else {
                counts.stopped += 1;
            }
            if let Some(v) = s.dual_start_latency_ns {
                counts.all_sites_started += 1;
                put("dual_start_latency", None, v);
            }
            if let Some(v) = s.start_skew_ns {
                put("start_skew", None, v);
            }
            if let Some(v) = s.stop_skew_ns {
                put("stop_skew", None, v);
            }
            put("union_gap", None, s.union_gap_ns);
            for (r, site) in s.sites.iter().enumerate() {
                if let Some(v) = site.start_latency_ns {
                    put("start_latency", Some(r), v);
                }
                if let Some(v) = site.stop_latency_ns {
                    put("stop_latency", Some(r), v);
                }
                if let Some(v) = site.site_gap_ns {
                    put("site_gap", Some(r), v);
                }
                if let Some(v) = site.orphan_time_ns {
                    put("orphan_time", Some(r), v);
                }
                if site.not_started {
                    *counts.not_started.entry(site.site.clone()).or_default() += 1;
                }
                if site.stop_censored {
                    *counts.stop_censored.entry(site.site.clone()).or_default() += 1;
                }
            }
            sessions.push(s);
        }
    }
    sessions.sort_by(|a, b| (a.start_ns, &a.camera).cmp(&(b.start_ns, &b.camera)));

    // Recovery after faults.
    let mut recoveries = Vec::new();
    for (fi, f) in record.faults.iter().enumerate() {
        let Some(r) = f.site else { continue };
        if NO_RECOVERY_KINDS.contains(&f.kind.as_str()) {
            continue;
        }
        let e = f.end;
        let cams: Vec<usize> = match (f.kind.as_str(), f.camera) {
            ("stream_loss", Some(c)) => vec![c],
            _ => (0..n_cams).collect(),
        };
        for c in cams {
            for w in intents.windows[c]
                .iter()
                .filter(|w| w.start <= e && e < w.stop)
            {
                let both = record.manual[r][c]
                    .clip(e, w.stop)
                    .intersect(&record.footage[r][c].clip(e, w.stop));
                let (recovery_ns, censored) = match both.spans().first() {
                    Some(span) => (span.start - e, false),
                    None => (w.stop - e, true),
                };
                put("recovery_time", Some(r), recovery_ns);
                counts.recovery_samples += 1;
                counts.recovery_censored += u64::from(censored);
                recoveries.push(RecoverySample {
                    fault: fi,
                    site: record.sites[r].clone(),
                    camera: record.cameras[c].clone(),
                    fault_end_ns: e,
                    recovery_ns,
                    censored,
                });
            }
        }
    }

    // Lost intents.
    let mut lost_by_site = vec![0u64; n_sites];
    let mut lost_intents = Vec::new();
    // A camera that should record counts as recording on a site if the site
    // recorded it at any time in the last `RENEWAL_WINDOW` of the settle
    // period: a renewal (Stop then Start) may be in flight at the very last
    // instant. A camera that should not record must not be recording at the
    // end (a renewal never starts a stopped camera).
    let tail_start = record
        .settled_at
        .saturating_sub(RENEWAL_WINDOW)
        .max(record.end);
    for (c, intent) in intents.final_intent.iter().enumerate() {
        let Some(intent) = *intent else { continue };
        let agrees = |r: usize| {
            if intent {
                record.final_manual[r][c]
                    || !record.manual[r][c]
                        .clip(tail_start, record.settled_at)
                        .is_empty()
            } else {
                !record.final_manual[r][c]
            }
        };
        let sites: Vec<String> = (0..n_sites)
            .filter(|&r| !agrees(r))
            .inspect(|&r| lost_by_site[r] += 1)
            .map(|r| record.sites[r].clone())
            .collect();
        if !sites.is_empty() {
            lost_intents.push(LostIntent {
                camera: record.cameras[c].clone(),
                intent_recording: intent,
                sites,
            });
        }
    }

    Ok(Metrics {
        sites: record.sites.clone(),
        cameras: n_cams,
        config: *config,
        series,
        lost_by_site,
        lost_intents,
        sessions,
        recoveries,
        counts,
    })
}

/// Figures of one intent window; `next` is the camera's next start (or
/// `record.end`).
fn session(
    record: &RunRecord,
    config: &MetricsConfig,
    w: &IntentWindow,
    next: Nanos,
    any_footage: &IntervalSet,
) -> SessionRecord {
    let (a, b, c) = (w.start, w.stop, w.camera);
    let mut sites = Vec::with_capacity(record.sites.len());
    for (r, name) in record.sites.iter().enumerate() {
        let manual = &record.manual[r][c];
        let start_latency_ns = manual
            .first_at_or_after(a)
            .filter(|&t| t < b)
            .map(|t| t - a);
        let (stop_latency_ns, stop_censored, orphan_time_ns) = if w.open_ended {
            (None, false, None)
        } else {
            let gap = manual.first_gap_at_or_after(b);
            let orphan = manual
                .clip(b.saturating_add(config.orphan_grace), next)
                .measure();
            (Some(gap.min(next) - b), gap > next, Some(orphan))
        };
        let site_gap_ns =
            start_latency_ns.map(|l| record.footage[r][c].gaps_within(a + l, b).measure());
        sites.push(SiteSession {
            site: name.clone(),
            start_latency_ns,
            not_started: start_latency_ns.is_none(),
            stop_latency_ns,
            stop_censored,
            site_gap_ns,
            orphan_time_ns,
        });
    }
    let starts: Option<Vec<Nanos>> = sites.iter().map(|s| s.start_latency_ns).collect();
    let (dual_start_latency_ns, start_skew_ns) = match starts.as_deref() {
        Some(v) if !v.is_empty() => {
            let (lo, hi) = min_max(v);
            (Some(hi), Some(hi - lo))
        }
        _ => (None, None),
    };
    let stops: Option<Vec<Nanos>> = sites.iter().map(|s| s.stop_latency_ns).collect();
    let stop_skew_ns = match stops.as_deref() {
        Some(v) if !v.is_empty() => {
            let (lo, hi) = min_max(v);
            Some(hi - lo)
        }
        _ => None,
    };
    let from = sites
        .iter()
        .filter_map(|s| s.start_latency_ns)
        .min()
        .map_or(a, |l| a + l);
    let union_gap_ns = any_footage.gaps_within(from, b).measure();
    SessionRecord {
        camera: record.cameras[c].clone(),
        start_ns: a,
        stop_ns: b,
        open_ended: w.open_ended,
        sites,
        dual_start_latency_ns,
        start_skew_ns,
        stop_skew_ns,
        union_gap_ns,
    }
}

fn min_max(v: &[Nanos]) -> (Nanos, Nanos) {
    let lo = v.iter().copied().min().unwrap_or(0);
    let hi = v.iter().copied().max().unwrap_or(0);
    (lo, hi)
}

fn check_shape(record: &RunRecord) -> Result<(), MetricsError> {
    let bad = |what: String| Err(MetricsError::InconsistentRecord { what });
    let (ns, nc) = (record.sites.len(), record.cameras.len());
    let tables: [(&str, Vec<usize>); 3] = [
        ("manual", record.manual.iter().map(Vec::len).collect()),
        ("footage", record.footage.iter().map(Vec::len).collect()),
        (
            "final_manual",
            record.final_manual.iter().map(Vec::len).collect(),
        ),
    ];
    for (name, rows) in tables {
        if rows.len() != ns {
            return bad(format!(
                "`{name}` has {} site rows, expected one per site ({ns})",
                rows.len()
            ));
        }
        if let Some((r, len)) = rows.iter().enumerate().find(|(_, &l)| l != nc) {
            return bad(format!("`{name}[{r}]` has {len} cameras, expected {nc}"));
        }
    }
    if let Some(click) = record.clicks.iter().find(|c| c.camera >= nc) {
        return bad(format!(
            "a click at {} ns names camera #{}, but there are {nc} cameras",
            click.at, click.camera
        ));
    }
    for (i, f) in record.faults.iter().enumerate() {
        if f.site.is_some_and(|s| s >= ns) || f.camera.is_some_and(|c| c >= nc) {
            return bad(format!(
                "fault #{i} ({}) names site {:?} / camera {:?}, but there are {ns} sites and {nc} cameras",
                f.kind, f.site, f.camera
            ));
        }
        if f.end < f.start {
            return bad(format!("fault #{i} ({}) ends before it starts", f.kind));
        }
    }
    Ok(())
}
