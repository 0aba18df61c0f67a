//! An ideal recording site for the engine benches: every command the
//! engine emits is answered at once and successfully, so a bench measures
//! the engine alone. Shared by path (`#[path = "support/ideal_site.rs"]`).

use engine::core::*;

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
