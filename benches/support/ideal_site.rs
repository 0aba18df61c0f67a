//! An ideal recording site for the engine benches: every command the
//! engine emits is answered at once and successfully, so a bench measures
//! the engine alone. Shared by path (`#[path = "support/ideal_site.rs"]`).

use engine::core::*;

/// Two sites (`primary`, `secondary`, 5-minute auto-stop, 3 s
/// pre-buffer) of `recorders` recording servers each, and `cameras`
/// cameras `cam-000000`, … placed on recorder `c % recorders` of both
/// sites with device `device(site, camera)`.
pub fn two_site_config(
    cameras: usize,
    recorders: usize,
    device: impl Fn(usize, usize) -> DeviceId,
) -> MirrorConfig {
    let sites = ["primary", "secondary"];
    MirrorConfig {
        sites: sites
            .iter()
            .map(|n| SiteSpec {
                name: n.to_string(),
                recorders,
                manual_recording_max: Some(300 * SECS),
                prebuffer: 3 * SECS,
            })
            .collect(),
        cameras: (0..cameras)
            .map(|c| CameraSpec {
                id: camera_id(c),
                placements: (0..sites.len())
                    .map(|s| Placement {
                        site: s,
                        recorder: c % recorders,
                        device: device(s, c),
                        settings: Default::default(),
                    })
                    .collect(),
            })
            .collect(),
        policy: Policy::default(),
    }
}

/// The id [`two_site_config`] gives camera `c`.
pub fn camera_id(c: usize) -> CameraId {
    CameraId::new(format!("cam-{c:06}"))
}

/// Answers every pending command as an ideal, instant site would.
pub fn answer_all(m: &mut Mirror, now: Nanos) {
    while let Some(cmd) = m.poll_command() {
        let reply = match &cmd {
            Command::Login { .. } => Reply::LoggedIn {
                token: "t".into(),
                ttl: 4 * 3600 * SECS,
            },
            Command::Send {
                op: RecorderOp::Probe,
                devices,
                ..
            } => Reply::States(
                devices
                    .iter()
                    .map(|d| DeviceState {
                        device: d.clone(),
                        recording: true,
                    })
                    .collect(),
            ),
            Command::Send { devices, .. } => Reply::Results(
                devices
                    .iter()
                    .map(|d| DeviceResult {
                        device: d.clone(),
                        ok: true,
                    })
                    .collect(),
            ),
        };
        m.on_reply(now, cmd.req(), Ok(reply));
    }
}
