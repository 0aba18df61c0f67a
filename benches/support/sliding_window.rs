//! The workload of the per-camera benches (`per_camera`, timed by
//! criterion, and `per_camera_work`, counted under callgrind): an engine of
//! a given size with an eighth of its cameras recording, a window sliding
//! over the cameras, every request answered at once by an ideal site.
//! Shared by path (`#[path = "support/sliding_window.rs"]`).

use engine::core::*;

use super::ideal_site::{answer_all, camera_id, two_site_config};

const PER_RECORDER: usize = 250;
/// One slide of the recording window per this many cameras per second.
const SLIDE_EVERY: usize = 200;
/// Engine-seconds run before measuring: past the 300 s auto-stop limit.
const WARM_SECONDS: usize = 330;

fn device(site: usize, camera: usize) -> DeviceId {
    DeviceId::new(format!(
        "{:08x}-0000-4000-8000-{:012x}",
        0xd0a1_0000u32 + site as u32,
        camera + 1
    ))
}

fn config(cameras: usize) -> MirrorConfig {
    two_site_config(cameras, cameras.div_ceil(PER_RECORDER), device)
}

/// Runs the engine's timers up to `until`, answering as it goes.
fn run_until(m: &mut Mirror, until: Nanos) {
    while let Some(t) = m.next_deadline().filter(|&t| t <= until) {
        m.on_timeout(t);
        answer_all(m, t);
    }
}

/// The engine of one size, warmed up, with its window of recording
/// cameras.
pub struct SlidingWindow {
    m: Mirror,
    ids: Vec<CameraId>,
    window: usize,
    head: usize,
    now: Nanos,
    /// Engine-seconds run so far.
    seconds: usize,
}

impl SlidingWindow {
    pub fn new(cameras: usize) -> Self {
        let ids: Vec<CameraId> = (0..cameras).map(camera_id).collect();
        let mut m = Mirror::new(config(cameras), 1);
        m.on_timeout(0);
        answer_all(&mut m, 0);
        // The recording eighth is a window sliding over the cameras: each
        // slide starts the camera after it and stops its first.
        let window = cameras / 8;
        for id in &ids[..window] {
            m.set_intent(SECS, id, true).expect("known camera");
        }
        answer_all(&mut m, SECS);
        let now = 10 * SECS;
        run_until(&mut m, now);
        let mut world = SlidingWindow {
            m,
            ids,
            window,
            head: 0,
            now,
            seconds: 0,
        };
        // Past the auto-stop limit before measuring: the renewal wake-ups
        // armed by the first Starts come due (and mostly find their camera
        // stopped), so every size is measured with its timer queue as full
        // as it stays.
        for _ in 0..WARM_SECONDS {
            world.one_second();
        }
        world
    }

    /// One second of engine time: the timers due, answered, and the
    /// window's slides of that second spread over it: one slide per two
    /// hundred cameras per second, a fractional rate carried over from
    /// second to second (100 cameras slide every other second), so every
    /// size clicks at the same rate per camera.
    pub fn one_second(&mut self) {
        let cameras = self.ids.len();
        let slides =
            (self.seconds + 1) * cameras / SLIDE_EVERY - self.seconds * cameras / SLIDE_EVERY;
        self.seconds += 1;
        let step = SECS / slides.max(1) as u64;
        for k in 0..slides {
            let at = self.now + k as u64 * step;
            run_until(&mut self.m, at);
            let start = &self.ids[(self.head + self.window) % cameras];
            let stop = &self.ids[self.head % cameras];
            self.head += 1;
            self.m.set_intent(at, start, true).expect("known camera");
            self.m.set_intent(at, stop, false).expect("known camera");
            answer_all(&mut self.m, at);
        }
        self.now += SECS;
        run_until(&mut self.m, self.now);
    }
}
