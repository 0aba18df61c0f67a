//! [`Recorder`]: one simulated XProtect recording server.
//!
//! Owns manual-recording state per device (start, auto-stop deadline), the
//! pre-buffer, crash/boot (manual state lives in memory and is lost), camera
//! stream loss, and the exact footage intervals that result. Those footage
//! intervals are the ground truth of every metric.
//!
//! Sans-IO: no clock, no I/O, no randomness. Every mutating method takes `now`
//! and first applies every auto-stop due at or before `now`, each at its own
//! deadline, so the result never depends on how often the caller polls.

use rustc_hash::FxHashMap;

use engine::core::{DeviceId, DeviceSettings};

use super::config::RecorderConfig;
use super::deadlines::DueSet;
use super::device::{Device, ManualInterval};
use crate::intervals::{IntervalSet, Nanos, Span};

/// One recording server and its devices.
#[derive(Debug, Clone)]
pub struct Recorder {
    cfg: RecorderConfig,
    ids: Vec<DeviceId>,
    /// `keys[i]`: `ids[i].key()`, scanned by [`Recorder::device_index_near`].
    keys: Vec<u64>,
    /// FxHash, as the engine's tables: a device id hashes as its
    /// precomputed key, and only the configuration inserts.
    index: FxHashMap<DeviceId, usize>,
    devs: Vec<Device>,
    /// Whether each device is manually recording: `devs[d].is_recording()`
    /// kept in one compact array, because every probe asks it of dozens of
    /// devices and a device's own state is a cache miss away.
    recording: Vec<bool>,
    /// The devices with their own auto-stop or pre-buffer (the recorder's
    /// config is the default), as real sites set them camera by camera.
    /// Sparse: most sites customise few cameras, and a Start on the others
    /// then reads nothing but an empty table.
    settings: FxHashMap<usize, DeviceSettings>,
    /// Pending auto-stops `(deadline, device)`: one live entry per device
    /// that is manually recording with a limit, and stale ones left behind
    /// by Stops (see [`DueSet`]).
    deadlines: DueSet,
    alive: bool,
    /// Last boot (or creation): the pre-buffer holds nothing older.
    booted_at: Nanos,
    /// Latest `now` seen, to check that time does not go backwards.
    last_now: Nanos,
}

impl Recorder {
    /// A running recorder whose camera streams are live since `now`.
    /// Duplicate device ids are ignored (the first one wins).
    pub fn new(
        cfg: RecorderConfig,
        devices: impl IntoIterator<Item = DeviceId>,
        now: Nanos,
    ) -> Self {
        let mut ids = Vec::new();
        let mut index = FxHashMap::default();
        for d in devices {
            if !index.contains_key(&d) {
                index.insert(d.clone(), ids.len());
                ids.push(d);
            }
        }
        let keys = ids.iter().map(DeviceId::key).collect();
        let devs = vec![Device::default(); ids.len()];
        let recording = vec![false; ids.len()];
        Recorder {
            cfg,
            ids,
            keys,
            index,
            devs,
            recording,
            settings: FxHashMap::default(),
            deadlines: DueSet::default(),
            alive: true,
            booted_at: now,
            last_now: now,
        }
    }

    pub fn config(&self) -> &RecorderConfig {
        &self.cfg
    }

    /// Index of a device on this recorder; the hot path uses indices.
    pub fn device_index(&self, d: &DeviceId) -> Option<usize> {
        self.index.get(d).copied()
    }

    /// [`Recorder::device_index`], looking first at the devices from
    /// position `from` on: a request lists its devices in this recorder's
    /// order, so a forward scan of the compact key array (a few cache lines
    /// per request) finds them where a hash lookup per device would read a
    /// table that a large installation keeps out of cache. The ids are
    /// unique, so both find the same position.
    pub fn device_index_near(&self, d: &DeviceId, from: usize) -> Option<usize> {
        // Far enough for the gaps between the devices a probe asks about,
        // short enough that a device out of order costs little.
        const AHEAD: usize = 64;
        let end = self.keys.len().min(from.saturating_add(AHEAD));
        let key = d.key();
        let near = self.keys.get(from..end).unwrap_or_default();
        for (i, &k) in near.iter().enumerate() {
            if k == key && self.ids[from + i] == *d {
                return Some(from + i);
            }
        }
        self.device_index(d)
    }

    pub fn devices(&self) -> &[DeviceId] {
        &self.ids
    }

    /// Gives a device its own auto-stop limit and pre-buffer; they apply
    /// from its next Start on. Unknown device: ignored.
    pub fn set_device_settings(&mut self, device: usize, settings: DeviceSettings) {
        if device < self.devs.len() {
            self.settings.insert(device, settings);
        }
    }

    /// A device's own settings (default: the recorder's).
    pub fn device_settings(&self, device: usize) -> DeviceSettings {
        self.settings.get(&device).copied().unwrap_or_default()
    }

    /// The auto-stop limit a Start on `device` gets.
    pub fn limit_of(&self, device: usize) -> Option<Nanos> {
        self.device_settings(device)
            .limit_or(self.cfg.manual_recording_max)
    }

    /// The pre-buffer of `device`.
    pub fn prebuffer_of(&self, device: usize) -> Nanos {
        self.device_settings(device)
            .prebuffer_or(self.cfg.prebuffer)
    }

    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Time of the last boot (or creation).
    pub fn booted_at(&self) -> Nanos {
        self.booted_at
    }

    /// Checks monotonic time and applies the auto-stops due by `now`.
    fn advance(&mut self, now: Nanos) -> Nanos {
        debug_assert!(
            now >= self.last_now,
            "recorder time went backwards: {now} after {}",
            self.last_now
        );
        let now = now.max(self.last_now);
        self.last_now = now;
        self.apply_due(now);
        now
    }

    fn apply_due(&mut self, now: Nanos) {
        while let Some((deadline, d)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.devs[d].end(deadline);
            self.recording[d] = false;
            self.deadlines.pop_first(live_deadline(&self.devs));
        }
    }

    /// Starts manual recording. Returns `true` iff the device was not
    /// recording and now is; `false` for an unknown device, a dead recorder,
    /// or a device already recording (then the call is a success that is
    /// ignored, except that it restarts the timer when
    /// [`RecorderConfig::start_extends_timer`] is set).
    pub fn start(&mut self, now: Nanos, device: usize) -> bool {
        let now = self.advance(now);
        if !self.alive || device >= self.devs.len() {
            return false;
        }
        let deadline = self.limit_of(device).map(|m| now.saturating_add(m));
        let prebuffer = self.prebuffer_of(device);
        let dev = &mut self.devs[device];
        if dev.is_recording() {
            if self.cfg.start_extends_timer {
                let old = dev.deadline();
                dev.set_deadline(deadline);
                if let Some(old) = old {
                    self.deadlines
                        .remove((old, device), live_deadline(&self.devs));
                }
                if let Some(new) = deadline {
                    self.deadlines.insert((new, device));
                }
            }
            return false;
        }
        let footage_start = now
            .saturating_sub(prebuffer)
            .max(self.booted_at)
            .max(dev.stream_live_since());
        dev.begin(now, footage_start, deadline);
        self.recording[device] = true;
        if let Some(dl) = deadline {
            self.deadlines.insert((dl, device));
        }
        true
    }

    /// Stops manual recording at `now`. Returns whether it was recording.
    pub fn stop(&mut self, now: Nanos, device: usize) -> bool {
        let now = self.advance(now);
        let Some(dev) = self.devs.get_mut(device) else {
            return false;
        };
        let deadline = dev.deadline();
        let was_recording = dev.end(now);
        self.recording[device] = false;
        if let Some(dl) = deadline {
            self.deadlines
                .remove((dl, device), live_deadline(&self.devs));
        }
        was_recording
    }

    /// Whether the device is manually recording as of the last call (a
    /// deadline that passed since is applied by the next mutating call).
    pub fn is_recording(&self, device: usize) -> bool {
        let recording = self.recording.get(device).copied().unwrap_or(false);
        debug_assert_eq!(
            recording,
            self.devs.get(device).is_some_and(Device::is_recording)
        );
        recording
    }

    /// Auto-stop deadline of the device's current manual recording.
    pub fn deadline(&self, device: usize) -> Option<Nanos> {
        self.devs.get(device).and_then(Device::deadline)
    }

    /// Earliest pending auto-stop. O(log n).
    pub fn next_deadline(&self) -> Option<Nanos> {
        self.deadlines.first().map(|(t, _)| t)
    }

    /// Applies every auto-stop due at or before `now`, each ending its
    /// manual recording at its own deadline.
    pub fn on_timeout(&mut self, now: Nanos) {
        self.advance(now);
    }

    /// The recorder dies: every manual recording ends at `now` and is
    /// forgotten; nothing is written until [`Recorder::boot`]. No-op if dead.
    pub fn crash(&mut self, now: Nanos) {
        let now = self.advance(now);
        if !self.alive {
            return;
        }
        for dev in &mut self.devs {
            dev.end(now);
        }
        self.recording.fill(false);
        self.deadlines.clear();
        self.alive = false;
    }

    /// The recorder runs again with nothing recording; its pre-buffer holds
    /// video from `now` on only. No-op if already alive.
    pub fn boot(&mut self, now: Nanos) {
        let now = self.advance(now);
        if self.alive {
            return;
        }
        self.alive = true;
        self.booted_at = now;
    }

    /// Restart without downtime (`crash(now)` then `boot(now)`); no-op if dead.
    pub fn restart(&mut self, now: Nanos) {
        if self.alive {
            self.crash(now);
            self.boot(now);
        }
    }

    /// Camera stream lost (`true`) or back (`false`). While lost the recorder
    /// still says it records but writes no footage. Unknown device: ignored.
    pub fn set_stream_lost(&mut self, now: Nanos, device: usize, lost: bool) {
        let now = self.advance(now);
        if let Some(dev) = self.devs.get_mut(device) {
            dev.set_stream_lost(now, lost);
        }
    }

    pub fn is_stream_lost(&self, device: usize) -> bool {
        self.devs.get(device).is_some_and(Device::is_stream_lost)
    }

    /// Raw manual recordings of a device, oldest first (the last may be open).
    pub fn manual_log(&self, device: usize) -> Vec<ManualInterval> {
        self.devs
            .get(device)
            .map_or_else(Vec::new, |d| d.intervals().collect())
    }

    /// When the device was manually recording, clipped to `[0, until)`; an
    /// open recording is closed at `until` (or at its deadline if earlier).
    pub fn manual_intervals(&self, device: usize, until: Nanos) -> IntervalSet {
        self.devs
            .get(device)
            .map_or_else(IntervalSet::new, |d| d.manual(until))
    }

    /// Camera stream-loss time of the device, clipped at `until`.
    pub fn stream_losses(&self, device: usize, until: Nanos) -> IntervalSet {
        self.devs
            .get(device)
            .map_or_else(IntervalSet::new, |d| d.losses(until))
    }

    /// Footage actually written for the device, clipped to `[0, until)`.
    pub fn footage(&self, device: usize, until: Nanos) -> IntervalSet {
        self.devs
            .get(device)
            .map_or_else(IntervalSet::new, |d| d.footage(until))
    }

    /// What `SequencesGet` answers: footage clipped to `[min, max)`, the
    /// first `max_count` spans.
    pub fn sequences(
        &self,
        device: usize,
        min: Nanos,
        max: Nanos,
        max_count: usize,
        until: Nanos,
    ) -> Vec<Span> {
        if min >= max || max_count == 0 {
            return Vec::new();
        }
        self.footage(device, until.min(max))
            .clip(min, max)
            .spans()
            .iter()
            .take(max_count)
            .copied()
            .collect()
    }
}

/// Whether the auto-stop `(t, d)` is still pending: device `d` records
/// with deadline `t` (a Stop or a restarted timer leaves its old entry in
/// the [`DueSet`]).
fn live_deadline(devs: &[Device]) -> impl Fn(Nanos, usize) -> bool + '_ {
    move |t, d| devs[d].deadline() == Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::core::SECS;

    const MIN: Nanos = 60 * SECS;

    fn cfg() -> RecorderConfig {
        RecorderConfig::default()
    }

    fn rec(cfg: RecorderConfig) -> Recorder {
        Recorder::new(cfg, [DeviceId::new("cam-a"), DeviceId::new("cam-b")], 0)
    }

    fn spans(v: &[(Nanos, Nanos)]) -> Vec<Span> {
        v.iter().map(|&(a, b)| Span::new(a, b)).collect()
    }

    #[test]
    fn lookup_and_duplicates() {
        let r = Recorder::new(cfg(), ["x", "y", "x"].into_iter().map(DeviceId::new), 0);
        assert_eq!(r.devices().len(), 2);
        assert_eq!(r.device_index(&DeviceId::new("y")), Some(1));
        assert_eq!(r.device_index(&DeviceId::new("z")), None);
    }

    #[test]
    fn lookup_near_a_position_finds_what_the_table_finds() {
        let ids: Vec<DeviceId> = (0..40).map(|i| DeviceId::new(format!("cam-{i}"))).collect();
        let r = Recorder::new(cfg(), ids.iter().cloned(), 0);
        for d in ids.iter().chain([&DeviceId::new("cam-x")]) {
            for from in [0, 3, 17, 39, 40, 1000, usize::MAX] {
                assert_eq!(
                    r.device_index_near(d, from),
                    r.device_index(d),
                    "{d} from {from}"
                );
            }
        }
    }

    #[test]
    fn auto_stop_at_exactly_five_minutes_even_when_polled_late() {
        let mut r = rec(cfg());
        assert!(r.start(10 * SECS, 0));
        assert_eq!(r.next_deadline(), Some(10 * SECS + 5 * MIN));
        r.on_timeout(10 * SECS + 5 * MIN - 1);
        assert!(r.is_recording(0));
        r.on_timeout(20 * MIN); // late
        assert!(!r.is_recording(0));
        assert_eq!(r.next_deadline(), None);
        assert_eq!(
            r.manual_intervals(0, 30 * MIN).spans(),
            spans(&[(10 * SECS, 10 * SECS + 5 * MIN)])
        );
        assert_eq!(
            r.footage(0, 30 * MIN).spans(),
            spans(&[(7 * SECS, 10 * SECS + 5 * MIN)])
        );
    }

    #[test]
    fn pending_deadline_applies_to_queries_and_next_start() {
        let mut r = rec(cfg());
        r.start(0, 0);
        // No on_timeout: queries still see the auto-stop.
        assert_eq!(
            r.manual_intervals(0, 10 * MIN).spans(),
            spans(&[(0, 5 * MIN)])
        );
        // A Start after the deadline begins a new recording.
        assert!(r.start(6 * MIN, 0));
        assert_eq!(
            r.manual_intervals(0, 7 * MIN).spans(),
            spans(&[(0, 5 * MIN), (6 * MIN, 7 * MIN)])
        );
    }

    #[test]
    fn repeated_start_does_not_extend_by_default() {
        let mut r = rec(cfg());
        assert!(r.start(0, 0));
        assert!(!r.start(2 * MIN, 0));
        assert_eq!(r.next_deadline(), Some(5 * MIN));
        r.on_timeout(5 * MIN);
        assert!(!r.is_recording(0));
    }

    #[test]
    fn repeated_start_extends_when_configured() {
        let mut r = rec(RecorderConfig {
            start_extends_timer: true,
            ..cfg()
        });
        r.start(0, 0);
        assert!(!r.start(2 * MIN, 0));
        assert_eq!(r.next_deadline(), Some(7 * MIN));
        r.on_timeout(5 * MIN);
        assert!(r.is_recording(0));
        r.on_timeout(7 * MIN);
        assert!(!r.is_recording(0));
        assert_eq!(
            r.manual_intervals(0, 8 * MIN).spans(),
            spans(&[(0, 7 * MIN)])
        );
    }

    #[test]
    fn no_limit_means_no_deadline() {
        let mut r = rec(RecorderConfig {
            manual_recording_max: None,
            ..cfg()
        });
        r.start(0, 0);
        assert_eq!(r.next_deadline(), None);
        r.on_timeout(1000 * MIN);
        assert!(r.is_recording(0));
    }

    #[test]
    fn next_deadline_is_min_and_stop_removes_it() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.start(20 * SECS, 1);
        assert_eq!(r.next_deadline(), Some(10 * SECS + 5 * MIN));
        assert!(r.stop(30 * SECS, 0));
        assert!(!r.stop(31 * SECS, 0)); // idempotent
        assert_eq!(r.next_deadline(), Some(20 * SECS + 5 * MIN));
        r.stop(40 * SECS, 1);
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn prebuffer_starts_footage_three_seconds_early() {
        let mut r = rec(cfg());
        r.start(60 * SECS, 0);
        r.stop(70 * SECS, 0);
        assert_eq!(
            r.footage(0, 100 * SECS).spans(),
            spans(&[(57 * SECS, 70 * SECS)])
        );
        assert_eq!(
            r.manual_intervals(0, 100 * SECS).spans(),
            spans(&[(60 * SECS, 70 * SECS)])
        );
    }

    #[test]
    fn each_device_keeps_its_own_limit_and_prebuffer() {
        let mut r = rec(cfg());
        r.set_device_settings(
            1,
            DeviceSettings {
                manual_recording_max: Some(Some(MIN)),
                prebuffer: Some(10 * SECS),
            },
        );
        r.start(60 * SECS, 0);
        r.start(60 * SECS, 1);
        assert_eq!(r.deadline(0), Some(60 * SECS + 5 * MIN));
        assert_eq!(r.deadline(1), Some(2 * MIN));
        r.on_timeout(10 * MIN);
        assert_eq!(
            r.footage(0, 10 * MIN).spans(),
            spans(&[(57 * SECS, 6 * MIN)])
        );
        assert_eq!(
            r.footage(1, 10 * MIN).spans(),
            spans(&[(50 * SECS, 2 * MIN)])
        );
        // Off on one device only: it records until stopped.
        r.set_device_settings(
            0,
            DeviceSettings {
                manual_recording_max: Some(None),
                prebuffer: None,
            },
        );
        r.start(20 * MIN, 0);
        r.start(20 * MIN, 1);
        r.on_timeout(60 * MIN);
        assert!(r.is_recording(0));
        assert!(!r.is_recording(1));
    }

    #[test]
    fn prebuffer_clipped_at_creation() {
        let mut r = Recorder::new(cfg(), [DeviceId::new("a")], 10 * SECS);
        r.start(11 * SECS, 0);
        assert_eq!(
            r.footage(0, 12 * SECS).spans(),
            spans(&[(10 * SECS, 12 * SECS)])
        );
    }

    #[test]
    fn stop_start_within_prebuffer_leaves_no_hole() {
        let mut r = rec(cfg());
        r.start(60 * SECS, 0);
        r.stop(100 * SECS, 0);
        r.start(101 * SECS, 0);
        r.stop(120 * SECS, 0);
        assert_eq!(
            r.footage(0, 200 * SECS).spans(),
            spans(&[(57 * SECS, 120 * SECS)])
        );
        assert_eq!(r.manual_intervals(0, 200 * SECS).spans().len(), 2);
    }

    #[test]
    fn stop_start_beyond_prebuffer_leaves_a_hole() {
        let mut r = rec(cfg());
        r.start(60 * SECS, 0);
        r.stop(100 * SECS, 0);
        r.start(104 * SECS, 0);
        r.stop(120 * SECS, 0);
        assert_eq!(
            r.footage(0, 200 * SECS).spans(),
            spans(&[(57 * SECS, 100 * SECS), (101 * SECS, 120 * SECS)])
        );
    }

    #[test]
    fn crash_ends_recordings_and_boot_does_not_restart_them() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.start(10 * SECS, 1);
        r.crash(50 * SECS);
        assert!(!r.is_alive());
        assert!(!r.is_recording(0));
        assert_eq!(r.next_deadline(), None);
        assert!(!r.start(60 * SECS, 0), "a dead recorder does not record");
        r.boot(90 * SECS);
        assert!(r.is_alive());
        assert!(!r.is_recording(0) && !r.is_recording(1));
        assert_eq!(
            r.footage(0, 200 * SECS).spans(),
            spans(&[(7 * SECS, 50 * SECS)])
        );
        assert_eq!(
            r.manual_intervals(1, 200 * SECS).spans(),
            spans(&[(10 * SECS, 50 * SECS)])
        );
    }

    #[test]
    fn prebuffer_after_boot_is_clipped_to_boot_time() {
        let mut r = rec(cfg());
        r.crash(10 * SECS);
        r.boot(20 * SECS);
        r.start(21 * SECS, 0);
        r.stop(30 * SECS, 0);
        assert_eq!(
            r.footage(0, 100 * SECS).spans(),
            spans(&[(20 * SECS, 30 * SECS)])
        );
    }

    #[test]
    fn restart_loses_state_and_prebuffer() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.restart(20 * SECS);
        assert!(r.is_alive());
        assert!(!r.is_recording(0));
        r.start(21 * SECS, 0);
        assert_eq!(
            r.footage(0, 25 * SECS).spans(),
            spans(&[(7 * SECS, 25 * SECS)]),
            "the old footage [7,20) and the new [20,25) touch"
        );
        assert_eq!(
            r.manual_intervals(0, 25 * SECS).spans(),
            spans(&[(10 * SECS, 20 * SECS), (21 * SECS, 25 * SECS)])
        );
    }

    #[test]
    fn stream_loss_punches_a_hole_while_still_recording() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.set_stream_lost(20 * SECS, 0, true);
        assert!(r.is_recording(0));
        assert!(r.is_stream_lost(0));
        r.set_stream_lost(30 * SECS, 0, false);
        assert!(r.is_recording(0));
        assert_eq!(
            r.footage(0, 40 * SECS).spans(),
            spans(&[(7 * SECS, 20 * SECS), (30 * SECS, 40 * SECS)])
        );
        assert_eq!(
            r.manual_intervals(0, 40 * SECS).spans(),
            spans(&[(10 * SECS, 40 * SECS)])
        );
    }

    #[test]
    fn stream_lost_at_start_resumes_without_backfill() {
        let mut r = rec(cfg());
        r.set_stream_lost(18 * SECS, 0, true);
        r.start(20 * SECS, 0);
        r.set_stream_lost(25 * SECS, 0, false);
        // Pre-buffer before the loss is kept; nothing between 18 and 25.
        assert_eq!(
            r.footage(0, 30 * SECS).spans(),
            spans(&[(17 * SECS, 18 * SECS), (25 * SECS, 30 * SECS)])
        );
    }

    #[test]
    fn prebuffer_clipped_to_stream_return() {
        let mut r = rec(cfg());
        r.set_stream_lost(10 * SECS, 0, true);
        r.set_stream_lost(19 * SECS, 0, false);
        r.start(20 * SECS, 0);
        assert_eq!(
            r.footage(0, 30 * SECS).spans(),
            spans(&[(19 * SECS, 30 * SECS)])
        );
    }

    #[test]
    fn short_loss_inside_prebuffer_drops_video_before_it() {
        let mut r = rec(cfg());
        r.set_stream_lost(18 * SECS, 0, true);
        r.set_stream_lost(19 * SECS, 0, false);
        r.start(20 * SECS, 0);
        // Not [17,18) ∪ [19,30): the pre-buffer only holds video since 19.
        assert_eq!(
            r.footage(0, 30 * SECS).spans(),
            spans(&[(19 * SECS, 30 * SECS)])
        );
    }

    #[test]
    fn stream_loss_on_other_device_is_independent() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.set_stream_lost(12 * SECS, 1, true);
        assert_eq!(
            r.footage(0, 20 * SECS).spans(),
            spans(&[(7 * SECS, 20 * SECS)])
        );
    }

    #[test]
    fn zero_length_recording_writes_nothing() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        r.stop(10 * SECS, 0);
        assert!(r.footage(0, 20 * SECS).is_empty());
        assert!(r.manual_log(0).is_empty());
    }

    #[test]
    fn sequences_clip_and_count() {
        let mut r = rec(cfg());
        for k in 0..4u64 {
            r.start((100 + 20 * k) * SECS, 0);
            r.stop((110 + 20 * k) * SECS, 0);
        }
        // footage: [97,110) [117,130) [137,150) [157,170)
        let all = r.sequences(0, 0, 1000 * SECS, 100, 1000 * SECS);
        assert_eq!(all.len(), 4);
        assert_eq!(
            r.sequences(0, 100 * SECS, 140 * SECS, 100, 1000 * SECS),
            spans(&[
                (100 * SECS, 110 * SECS),
                (117 * SECS, 130 * SECS),
                (137 * SECS, 140 * SECS)
            ])
        );
        assert_eq!(
            r.sequences(0, 100 * SECS, 1000 * SECS, 2, 1000 * SECS),
            spans(&[(100 * SECS, 110 * SECS), (117 * SECS, 130 * SECS)])
        );
        assert!(r
            .sequences(0, 200 * SECS, 100 * SECS, 10, 1000 * SECS)
            .is_empty());
        assert!(r.sequences(0, 0, 1000 * SECS, 0, 1000 * SECS).is_empty());
        assert!(r.sequences(9, 0, 1000 * SECS, 10, 1000 * SECS).is_empty());
    }

    #[test]
    fn open_recording_closes_at_until() {
        let mut r = rec(cfg());
        r.start(10 * SECS, 0);
        assert_eq!(
            r.footage(0, 12 * SECS).spans(),
            spans(&[(7 * SECS, 12 * SECS)])
        );
        assert_eq!(
            r.manual_intervals(0, 12 * SECS).spans(),
            spans(&[(10 * SECS, 12 * SECS)])
        );
    }

    #[test]
    fn unknown_device_indices_are_harmless() {
        let mut r = rec(cfg());
        assert!(!r.start(0, 7));
        assert!(!r.stop(0, 7));
        r.set_stream_lost(0, 7, true);
        assert!(!r.is_recording(7));
        assert!(r.footage(7, 10).is_empty());
        assert!(r.manual_intervals(7, 10).is_empty());
    }
}
