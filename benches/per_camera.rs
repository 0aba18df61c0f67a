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

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_camera");
    group.sample_size(10);
    for cameras in [100usize, 1_000, 10_000, 100_000] {
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
        let mut now = 10 * SECS;
        run_until(&mut m, now);
        let slides_per_second = (cameras / 200).max(1);
        let mut head = 0usize;
        group.throughput(Throughput::Elements(cameras as u64));
        group.bench_function(format!("one_second_{cameras}_cameras"), |b| {
            b.iter(|| {
                let step = SECS / slides_per_second as u64;
                for k in 0..slides_per_second {
                    let at = now + k as u64 * step;
                    run_until(&mut m, at);
                    let start = &ids[(head + window) % cameras];
                    let stop = &ids[head % cameras];
                    head += 1;
                    m.set_intent(at, start, true).expect("known camera");
                    m.set_intent(at, stop, false).expect("known camera");
                    answer_all(&mut m, at);
                }
                now += SECS;
                run_until(&mut m, now);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
