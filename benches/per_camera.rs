//! The engine's cost per camera as the installation grows: 100, 1,000,
//! 10,000 and 100,000 cameras, 250 per recording server on each of two
//! sites, an eighth of them recording (a window that slides: one camera
//! in two hundred started and one stopped per second), every request
//! answered at once by an ideal site.
//!
//! One iteration is one second of engine time (probes of every recorder,
//! renewals, the clicks and all their replies); the throughput is counted
//! in cameras, so a flat line across sizes means the cost per camera per
//! second does not grow with the number of cameras.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use engine::core::*;

/// The allocator `dualrec` ships with (see `src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/ideal_site.rs"]
mod ideal_site;
use ideal_site::answer_all;

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
    let recorders = cameras.div_ceil(PER_RECORDER);
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
                id: CameraId::new(format!("cam-{c:06}")),
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

/// Runs the engine's timers up to `until`, answering as it goes.
fn run_until(m: &mut Mirror, until: Nanos) {
    while let Some(t) = m.next_deadline().filter(|&t| t <= until) {
        m.on_timeout(t);
        answer_all(m, t);
    }
}

/// The engine of one size, warmed up, with its window of recording
/// cameras.
struct SlidingWindow {
    m: Mirror,
    ids: Vec<CameraId>,
    window: usize,
    head: usize,
    now: Nanos,
    /// Engine-seconds run so far.
    seconds: usize,
}

impl SlidingWindow {
    fn new(cameras: usize) -> Self {
        let ids: Vec<CameraId> = (0..cameras)
            .map(|i| CameraId::new(format!("cam-{i:06}")))
            .collect();
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
    fn one_second(&mut self) {
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

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_camera");
    group.sample_size(10);
    for cameras in [100usize, 1_000, 10_000, 100_000] {
        group.throughput(Throughput::Elements(cameras as u64));
        // Built on first use, not before: criterion runs the closure only
        // for a selected bench, so `--bench one_second_100_cameras` (or a
        // profile of one size) does not build the 100,000-camera engine.
        // The same engine serves every call (warm-up and each sample).
        let mut world: Option<SlidingWindow> = None;
        group.bench_function(format!("one_second_{cameras}_cameras"), |b| {
            let world = world.get_or_insert_with(|| SlidingWindow::new(cameras));
            b.iter(|| world.one_second());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
