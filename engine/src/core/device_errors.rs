//! A device a site does not know: a camera configuration error, not a
//! transient failure.
//!
//! A `ManualRecordingResult` with a non-zero `ResultCode` means the
//! recorder refused that one device (XProtect answers an unknown GUID this
//! way, never with a fault). Retrying it at the request back-off would
//! flood the recorder forever, so the pair is reported once (log, camera
//! status, `/readyz`) and retried only on the long schedule of rejected
//! credentials (1, 5, then every 15 minutes), in case the device is
//! added to the site later. A successful answer for the device clears it.

use super::credentials::retry_delay;
use super::mirror::Mirror;
use super::timers::Timer;
use super::types::{Nanos, SECS};

/// Wait before asking a site again about a device it refused `n` times.
fn delay(n: u32) -> Nanos {
    retry_delay(n)
}

impl Mirror {
    /// The site answered a non-zero `ResultCode` for pair `p`'s device.
    pub(super) fn on_device_rejected(&mut self, now: Nanos, p: usize) {
        // Mid-hand-over the recorder just accepted this device's Stop: the
        // device exists, the refusal is transient, and the Start must be
        // retried inside the pre-buffer (see `handover.rs`).
        if self.pairs[p].handover.is_some() {
            let mut delay = None;
            self.on_op_failure(now, p, &mut delay);
            return;
        }
        let site = p % self.nsites;
        let camera = p / self.nsites;
        let pair = &mut self.pairs[p];
        pair.inflight = None;
        pair.renewing = false;
        pair.device_rejections = pair.device_rejections.saturating_add(1);
        let n = pair.device_rejections;
        let wait = delay(n);
        pair.retry_at = now + wait;
        let device = pair.slot.as_ref().map(|s| s.device.to_string());
        if n == 1 {
            tracing::error!(camera = %self.cameras[camera].id, site = %self.site_specs[site].name,
                device = device.as_deref().unwrap_or("?"), retry_in_s = wait / SECS,
                "the site refused this device (non-zero ResultCode: unknown to the site?): camera \
                 configuration error; check the device GUID in [[camera]]");
        }
        self.stats.device_rejections += 1;
        self.timers.arm(now + wait, Timer::Wake(p));
    }

    /// `(camera, site, device)` of every pair whose device the site refuses.
    pub fn device_problems(&self) -> impl Iterator<Item = (&str, &str, String)> + '_ {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, pair)| pair.device_rejections > 0)
            .map(|(p, pair)| {
                (
                    self.cameras[p / self.nsites].id.as_str(),
                    self.site_specs[p % self.nsites].name.as_str(),
                    pair.slot
                        .as_ref()
                        .map_or_else(String::new, |s| s.device.to_string()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_schedule() {
        let d: Vec<Nanos> = (1..=6).map(|n| delay(n) / SECS).collect();
        assert_eq!(d, vec![60, 300, 900, 900, 900, 900]);
    }
}
