//! Which cameras a recorder's probe asks about, kept per recorder as the
//! pairs change instead of found by scanning every camera of the recorder
//! at every probe.
//!
//! A probe asks about the pairs that are not *settled*: a camera with an
//! intent, except one that should be stopped, was seen stopped and has no
//! request of unknown fate that could still execute (`watch_until`); pairs
//! with a request in flight wait for its answer. A recorder is probed every
//! couple of seconds while most of its cameras sit settled, so the scan
//! dominated the engine's cost in large installations.
//!
//! The set (a sorted `Vec`: a recorder holds a few hundred cameras, and a
//! probe walks it far more often than a pair joins it) holds every pair
//! that may be unsettled, in camera order (the
//! order of the scan it replaces, so requests are the same). A probe drops
//! the settled pairs it meets; a pair comes back whenever something that
//! could unsettle it happens: a click or any other reason to reconcile it
//! (`mark_dirty`), a request of unknown fate (failure, supersession). A pair
//! leaves the settled state only through one of those, so the set never
//! misses a pair the scan would have asked about (checked against the scan
//! in debug builds).

use super::mirror::Mirror;
use super::types::*;

impl Mirror {
    /// Puts pair `p` (back) into its recorder's probe set.
    pub(super) fn relist_probe(&mut self, p: usize) {
        let pair = &mut self.pairs[p];
        if pair.probe_listed {
            return;
        }
        let Some(slot) = &pair.slot else {
            return;
        };
        let site = p % self.nsites;
        if let Some(set) = self.probe_sets[site].get_mut(slot.recorder) {
            pair.probe_listed = true;
            let c = p / self.nsites;
            // Sorted, so a probe lists its devices in camera order.
            if let Err(at) = set.binary_search(&c) {
                set.insert(at, c);
            }
        }
    }

    /// The pairs a probe of `recorder` asks about now, and their devices, in
    /// camera order; settled pairs leave the set on the way.
    pub(super) fn probe_targets(
        &mut self,
        now: Nanos,
        site: SiteId,
        recorder: RecorderId,
    ) -> (Vec<usize>, Vec<DeviceId>) {
        let nsites = self.nsites;
        // Sized once: a probe lists up to a few hundred devices.
        let listed = self.probe_sets[site][recorder].len();
        let mut pairs = Vec::with_capacity(listed);
        let mut devices = Vec::with_capacity(listed);
        let all_pairs = &mut self.pairs;
        self.probe_sets[site][recorder].retain(|&c| {
            let p = c * nsites + site;
            let pair = &mut all_pairs[p];
            let Some(desired) = pair.desired else {
                pair.probe_listed = false;
                return false;
            };
            // Confirmed-stopped pairs that should be stopped need no probe,
            // unless a request of unknown fate might still execute there.
            let settled = !desired && pair.observed == Observed::Stopped && now >= pair.watch_until;
            if settled && pair.inflight.is_none() {
                pair.probe_listed = false;
                return false;
            }
            if pair.inflight.is_some() || settled {
                return true;
            }
            if let Some(slot) = &pair.slot {
                devices.push(slot.device.clone());
                pairs.push(p);
            }
            true
        });
        #[cfg(debug_assertions)]
        self.check_probe_targets(now, site, recorder, &pairs);
        (pairs, devices)
    }

    /// The scan the probe set replaces must find the same pairs.
    #[cfg(debug_assertions)]
    fn check_probe_targets(&self, now: Nanos, site: SiteId, recorder: RecorderId, got: &[usize]) {
        let mut want = Vec::new();
        for &c in &self.recorder_cameras[site][recorder] {
            let Some((_, desired)) = self.cameras[c].intent else {
                continue;
            };
            let p = c * self.nsites + site;
            let pair = &self.pairs[p];
            let settled = !desired && pair.observed == Observed::Stopped && now >= pair.watch_until;
            if pair.inflight.is_some() || settled || pair.slot.is_none() {
                continue;
            }
            want.push(p);
        }
        debug_assert_eq!(
            got,
            want.as_slice(),
            "probe set of {site}/{recorder} drifted"
        );
    }
}
