//! Footage read back: SequencesGet (RecordingSequence) of every test camera
//! on every site, times corrected by each site's measured clock offset and
//! put on this machine's run clock; from them the
//! [`RunRecord`](sim::world::record::RunRecord) the existing metrics,
//! verdicts and reports work on.
//!
//! Manual-recording intervals are not readable from a recorder after the
//! fact, so they are derived from footage: within each session, the first
//! footage sequence begins one pre-buffer (the site's configured
//! `prebuffer`) before the recorder started, so manual recording is taken
//! to begin at `TimeBegin + prebuffer` (or `TimeTrigged` when the recorder
//! reports a later one); a later sequence in the same session (after a cut)
//! counts from its own begin — or, for the drill's cut site, from
//! `min(begin + prebuffer, the IsManualRecording confirmation)`: the
//! pre-buffer back-fills footage to before the recorder recorded again, so
//! the begin alone would report a recovery of zero while the log saw one of
//! a second; manual recording ends where footage ends.
//! When the pause between sessions is shorter than the pre-buffer, footage
//! of two sessions can merge; the session's start then falls back to the
//! IsManualRecording confirmation.

use engine::core::Nanos;
use sim::intervals::{IntervalSet, Span};
use sim::world::record::{ClickRecord, FaultWindow, RunRecord};
use xprotect::{RecorderRequest, RecorderResponse, UtcTime, RECORDING_SEQUENCE_ID};

use super::cycles::{CycleLog, RunClock};
use super::live::Session;
use super::Target;

/// Most sequences asked for per camera.
pub const MAX_SEQUENCES: u32 = 10_000;

/// One site's footage sequences of one camera, in run time (corrected).
#[derive(Debug, Clone)]
pub struct SiteFootage {
    /// `(begin, trigged, end)` in run time.
    pub sequences: Vec<(Nanos, Nanos, Nanos)>,
}

/// Reads the footage of every target on site `r` in run time `[0, end]`.
pub async fn read_site(
    session: &Session,
    r: usize,
    targets: &[Target],
    clock: RunClock,
    offset_ns: i64,
    end: Nanos,
) -> Result<Vec<SiteFootage>, String> {
    let to_site = |t: Nanos| UtcTime::from_unix_nanos(clock.origin_utc_ns + t as i64 + offset_ns);
    let to_run = |u: UtcTime| -> Nanos {
        u64::try_from(u.unix_nanos() - offset_ns - clock.origin_utc_ns)
            .unwrap_or(0)
            .min(end)
    };
    let mut out = Vec::new();
    for t in targets {
        let (rec, device) = &t.devices[r];
        let answer = session
            .call(*rec, |token| RecorderRequest::SequencesGet {
                token,
                device_id: device.clone(),
                sequence_type: RECORDING_SEQUENCE_ID.to_owned(),
                min_time: to_site(0),
                max_time: to_site(end),
                max_count: MAX_SEQUENCES,
            })
            .await
            .map_err(|e| format!("SequencesGet of {} on {}: {e}", t.name, session.site.name()))?;
        let RecorderResponse::SequencesGet(entries) = answer else {
            return Err(format!(
                "SequencesGet of {} answered another operation",
                t.name
            ));
        };
        let mut sequences: Vec<(Nanos, Nanos, Nanos)> = entries
            .iter()
            .map(|e| {
                (
                    to_run(e.time_begin),
                    to_run(e.time_trigged),
                    to_run(e.time_end),
                )
            })
            .filter(|(b, _, e)| e > b)
            .collect();
        sequences.sort_unstable();
        out.push(SiteFootage { sequences });
    }
    Ok(out)
}

/// Manual-recording intervals of one camera on one site, from its footage
/// (see the module doc). `confirmed[k]`: run time IsManualRecording agreed
/// for session `k`; `resumed[k]`: run time IsManualRecording agreed again
/// after a drill cut this site in session `k`.
pub fn manual_from_footage(
    footage: &SiteFootage,
    sessions: &[(Nanos, Nanos)],
    confirmed: &[Option<Nanos>],
    resumed: &[Option<Nanos>],
    prebuffer: Nanos,
) -> IntervalSet {
    let mut manual = IntervalSet::new();
    // Slack for clock-offset error when matching footage to a session.
    let slack = 500_000_000;
    for (k, &(a, b)) in sessions.iter().enumerate() {
        let lo = a.saturating_sub(prebuffer + slack);
        let within: Vec<&(Nanos, Nanos, Nanos)> = footage
            .sequences
            .iter()
            .filter(|(begin, _, _)| *begin >= lo && *begin < b)
            .collect();
        let ended = footage
            .sequences
            .iter()
            .find(|(begin, _, end)| *begin < lo && *end > a)
            .map(|s| s.2);
        if within.is_empty() {
            // Merged with an earlier session's footage: fall back to the probe.
            if let (Some(end), Some(Some(c))) = (ended, confirmed.get(k)) {
                if end > *c {
                    manual.insert(*c, end);
                }
            }
            continue;
        }
        for (i, &&(begin, trigged, end)) in within.iter().enumerate() {
            let start = if i == 0 {
                if trigged > begin {
                    trigged
                } else {
                    begin + prebuffer
                }
            } else {
                match resumed.get(k).copied().flatten() {
                    Some(r) => (begin + prebuffer).min(r).max(begin),
                    None => begin,
                }
            };
            if end > start {
                manual.insert(start, end);
            }
        }
    }
    manual
}

/// Builds the run's record.
#[allow(clippy::too_many_arguments)]
pub fn record(
    sites: Vec<String>,
    targets: &[Target],
    footage: &[Vec<SiteFootage>],
    prebuffers: &[Nanos],
    cycles: &[CycleLog],
    clicks: Vec<ClickRecord>,
    final_manual: Vec<Vec<bool>>,
    end: Nanos,
    drill_site: Option<usize>,
) -> RunRecord {
    let sessions: Vec<(Nanos, Nanos)> = cycles
        .iter()
        .map(|c| (c.start_ns, c.stop_ns.unwrap_or(end)))
        .collect();
    let mut manual = Vec::new();
    let mut footage_sets = Vec::new();
    for (r, per_cam) in footage.iter().enumerate() {
        let confirmed: Vec<Option<Nanos>> = cycles
            .iter()
            .map(|c| {
                c.start_confirmed_after_ns
                    .get(r)
                    .copied()
                    .flatten()
                    .map(|d| c.start_ns + d)
            })
            .collect();
        let resumed: Vec<Option<Nanos>> = cycles
            .iter()
            .map(|c| c.resumed_ns.filter(|_| drill_site == Some(r)))
            .collect();
        manual.push(
            per_cam
                .iter()
                .map(|f| manual_from_footage(f, &sessions, &confirmed, &resumed, prebuffers[r]))
                .collect(),
        );
        footage_sets.push(
            per_cam
                .iter()
                .map(|f| IntervalSet::from_spans(f.sequences.iter().map(|s| Span::new(s.0, s.2))))
                .collect(),
        );
    }
    let faults = cycles
        .iter()
        .filter_map(|c| {
            Some(FaultWindow {
                site: drill_site,
                kind: "drill".into(),
                camera: None,
                start: c.cut_ns?,
                end: c.restored_ns?,
            })
        })
        .collect();
    RunRecord {
        sites,
        cameras: targets.iter().map(|t| t.name.clone()).collect(),
        end,
        settled_at: end,
        clicks,
        manual,
        footage: footage_sets,
        final_manual,
        faults,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn manual_starts_one_prebuffer_after_footage() {
        let f = SiteFootage {
            sequences: vec![(7 * S, 7 * S, 20 * S), (22 * S, 22 * S, 30 * S)],
        };
        let m = manual_from_footage(
            &f,
            &[(10 * S, 20 * S), (25 * S, 30 * S)],
            &[None, None],
            &[None, None],
            3 * S,
        );
        assert_eq!(
            m.spans(),
            &[Span::new(10 * S, 20 * S), Span::new(25 * S, 30 * S)]
        );
    }

    #[test]
    fn a_second_sequence_in_a_session_counts_from_its_begin() {
        let f = SiteFootage {
            sequences: vec![(7 * S, 7 * S, 12 * S), (15 * S, 15 * S, 20 * S)],
        };
        let m = manual_from_footage(&f, &[(10 * S, 20 * S)], &[None], &[None], 3 * S);
        assert_eq!(
            m.spans(),
            &[Span::new(10 * S, 12 * S), Span::new(15 * S, 20 * S)]
        );
    }

    #[test]
    fn merged_footage_falls_back_to_the_probe() {
        let f = SiteFootage {
            sequences: vec![(7 * S, 7 * S, 30 * S)],
        };
        let m = manual_from_footage(
            &f,
            &[(10 * S, 20 * S), (21 * S, 30 * S)],
            &[None, Some(21 * S + 50_000_000)],
            &[None, None],
            3 * S,
        );
        // The first session's footage covers both: a known limit (pause > pre-buffer avoids it).
        assert_eq!(m.measure(), 20 * S);
    }

    #[test]
    fn after_a_cut_recording_resumes_when_the_recorder_confirmed_it() {
        // Cut 12 s..15 s; the recorder wrote footage again from 15 s (its
        // pre-buffer only holds what it saw while alive) and confirmed
        // recording at 16.1 s: recovery is 1.1 s, not 0.
        let f = SiteFootage {
            sequences: vec![(7 * S, 7 * S, 12 * S), (15 * S, 15 * S, 20 * S)],
        };
        let resumed = 16 * S + 100_000_000;
        let m = manual_from_footage(&f, &[(10 * S, 20 * S)], &[None], &[Some(resumed)], 3 * S);
        assert_eq!(
            m.spans(),
            &[Span::new(10 * S, 12 * S), Span::new(resumed, 20 * S)]
        );
        // A confirmation later than begin + pre-buffer does not push it further.
        let m = manual_from_footage(&f, &[(10 * S, 20 * S)], &[None], &[Some(19 * S)], 3 * S);
        assert_eq!(m.spans()[1], Span::new(18 * S, 20 * S));
    }
}
