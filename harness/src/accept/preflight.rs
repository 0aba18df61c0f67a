//! Preflight: before anything is started, log in to every site and check
//! each test camera. Per site: reachable, login time, token lifetime, clock
//! offset against this machine (from the Login's RegistrationTime, the HTTP
//! `Date` header as a coarse cross-check), recorder round trip. Per test
//! camera and site: SequencesGetTypes answers (with RecordingSequence) and
//! IsManualRecording answers — and whether it is already recording, which
//! makes the run refuse unless `--force` (see `mod.rs`).

use std::time::Instant;

use serde::Serialize;
use xprotect::{RecorderRequest, RecorderResponse, RECORDING_SEQUENCE_ID};

use super::live::Session;
use super::log::ActionLog;
use super::Target;

/// One test camera on one site.
#[derive(Debug, Clone, Serialize)]
pub struct CameraCheck {
    pub camera: String,
    pub device: String,
    /// SequencesGetTypes answered and lists RecordingSequence.
    pub sequences_ok: bool,
    /// IsManualRecording's answer (`None`: no answer for the device).
    pub recording: Option<bool>,
    pub problem: Option<String>,
}

/// Preflight of one site.
#[derive(Debug, Clone, Serialize)]
pub struct SitePreflight {
    pub site: String,
    pub management_url: String,
    pub reachable: bool,
    pub login_ms: Option<f64>,
    pub token_ttl_s: Option<f64>,
    /// Site clock minus this machine's, ns (RegistrationTime − midpoint of the Login call).
    pub clock_offset_ns: Option<i64>,
    /// ± half the Login round trip, ns.
    pub clock_offset_uncertainty_ns: Option<i64>,
    /// From the HTTP `Date` header (1 s resolution), ns.
    pub date_header_offset_ns: Option<i64>,
    /// Median IsManualRecording round trip, ms.
    pub recorder_rtt_ms: Option<f64>,
    pub cameras: Vec<CameraCheck>,
    pub problem: Option<String>,
}

impl SitePreflight {
    /// Whether everything answered.
    pub fn ok(&self) -> bool {
        self.reachable
            && self.problem.is_none()
            && self
                .cameras
                .iter()
                .all(|c| c.problem.is_none() && c.sequences_ok && c.recording.is_some())
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs the preflight of site `r` for `targets`.
pub async fn check_site(
    r: usize,
    session: &Session,
    targets: &[Target],
    log: &ActionLog,
) -> SitePreflight {
    let ep = &session.site.endpoint;
    let mut out = SitePreflight {
        site: ep.name.clone(),
        management_url: ep.management_url.clone(),
        reachable: false,
        login_ms: None,
        token_ttl_s: None,
        clock_offset_ns: None,
        clock_offset_uncertainty_ns: None,
        date_header_offset_ns: None,
        recorder_rtt_ms: None,
        cameras: Vec::new(),
        problem: None,
    };
    log.action(format!(
        "preflight {}: Login at {}",
        ep.name,
        ep.login_url()
    ));
    let probe = match session.site.login().await {
        Ok(p) => p,
        Err(e) => {
            log.action(format!("preflight {}: NOT REACHABLE: {e}", ep.name));
            out.problem = Some(e);
            return out;
        }
    };
    out.reachable = true;
    out.login_ms = Some(ms(probe.elapsed));
    out.token_ttl_s = Some(probe.result.time_to_live_micros as f64 / 1e6);
    let mid = probe.sent.unix_nanos() / 2 + probe.received.unix_nanos() / 2;
    let offset = probe.result.registration_time.unix_nanos() - mid;
    out.clock_offset_ns = Some(offset);
    out.clock_offset_uncertainty_ns = Some((probe.elapsed.as_nanos() / 2) as i64);
    // The Date header is truncated to the second: compare with the send time.
    out.date_header_offset_ns = probe
        .date_header
        .map(|d| d.unix_nanos() - (probe.sent.unix_nanos() / 1_000_000_000) * 1_000_000_000);
    session.set_token(probe.result.token.clone()).await;
    log.action(format!(
        "preflight {}: logged in in {:.1} ms, token lifetime {:.0} s, clock offset {:+.3} s (±{:.1} ms){}",
        ep.name,
        ms(probe.elapsed),
        probe.result.time_to_live_micros as f64 / 1e6,
        offset as f64 / 1e9,
        probe.elapsed.as_secs_f64() * 500.0,
        out.date_header_offset_ns
            .map(|d| format!(", HTTP Date {:+.0} s", d as f64 / 1e9))
            .unwrap_or_default()
    ));

    // Round trip and recording state, per recorder.
    let mut rtts = Vec::new();
    let mut states: Vec<(String, bool)> = Vec::new();
    let mut recorders: Vec<usize> = targets.iter().map(|t| t.devices[r].0).collect();
    recorders.sort_unstable();
    recorders.dedup();
    for &rec in &recorders {
        let devices: Vec<String> = targets
            .iter()
            .filter(|t| t.devices[r].0 == rec)
            .map(|t| t.devices[r].1.clone())
            .collect();
        for _ in 0..3 {
            let t0 = Instant::now();
            match session.is_recording(rec, &devices).await {
                Ok(s) => {
                    rtts.push(ms(t0.elapsed()));
                    states = s.into_iter().chain(states).collect();
                }
                Err(e) => {
                    out.problem = Some(format!("recorder {rec}: IsManualRecording failed: {e}"));
                    break;
                }
            }
        }
    }
    rtts.sort_by(f64::total_cmp);
    out.recorder_rtt_ms = rtts.get(rtts.len() / 2).copied();

    for t in targets {
        let (rec, device) = &t.devices[r];
        let mut check = CameraCheck {
            camera: t.name.clone(),
            device: device.clone(),
            sequences_ok: false,
            recording: states
                .iter()
                .find(|(d, _)| d.eq_ignore_ascii_case(device))
                .map(|(_, s)| *s),
            problem: None,
        };
        let types = session
            .call(*rec, |token| RecorderRequest::SequencesGetTypes {
                token,
                device_id: device.clone(),
            })
            .await;
        match types {
            Ok(RecorderResponse::SequencesGetTypes(types)) => {
                check.sequences_ok = types
                    .iter()
                    .any(|s| s.id.eq_ignore_ascii_case(RECORDING_SEQUENCE_ID));
                if !check.sequences_ok {
                    check.problem = Some("SequencesGetTypes lists no RecordingSequence".into());
                }
            }
            Ok(other) => {
                check.problem = Some(format!(
                    "SequencesGetTypes answered {:?}",
                    other.operation()
                ))
            }
            Err(e) => check.problem = Some(format!("device not usable: {e}")),
        }
        if check.recording.is_none() && check.problem.is_none() {
            check.problem = Some("IsManualRecording gave no answer for the device".into());
        }
        log.action(format!(
            "preflight {}: camera {} (device {}): {}",
            ep.name,
            t.name,
            device,
            match (&check.problem, check.recording) {
                (Some(p), _) => format!("PROBLEM: {p}"),
                (None, Some(true)) => "exists, ALREADY MANUALLY RECORDING".into(),
                (None, _) => "exists, not recording".into(),
            }
        ));
        out.cameras.push(check);
    }
    if let Some(rtt) = out.recorder_rtt_ms {
        log.action(format!(
            "preflight {}: recorder round trip {rtt:.1} ms",
            ep.name
        ));
    }
    out
}
