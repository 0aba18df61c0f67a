//! Cost of one engine step: a click fanned out to two sites and both
//! replies fed back, on an engine holding 1,000 cameras.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use engine::core::*;

#[path = "support/ideal_site.rs"]
mod ideal_site;
use ideal_site::{answer_all, camera_id, two_site_config};

/// Every camera on one recorder per site.
fn config(cameras: usize) -> MirrorConfig {
    two_site_config(cameras, 1, |s, c| DeviceId::new(format!("{s}-{c}")))
}

fn bench(c: &mut Criterion) {
    let cameras = 1000;
    let ids: Vec<CameraId> = (0..cameras).map(camera_id).collect();
    let mut group = c.benchmark_group("mirror");
    group.throughput(Throughput::Elements(1));
    group.bench_function("click_fan_out_and_replies_1000_cameras", |b| {
        let mut m = Mirror::new(config(cameras), 1);
        m.on_timeout(0);
        answer_all(&mut m, 0);
        let mut now = SECS;
        let mut i = 0usize;
        b.iter(|| {
            now += 1_000_000;
            let cam = &ids[i % cameras];
            let recording = (i / cameras).is_multiple_of(2);
            i += 1;
            m.set_intent(now, cam, recording).expect("known camera");
            answer_all(&mut m, now + 500_000);
        });
    });
    group.throughput(Throughput::Elements(cameras as u64));
    group.bench_function("record_all_burst_1000_cameras", |b| {
        b.iter_batched(
            || {
                let mut m = Mirror::new(config(cameras), 1);
                m.on_timeout(0);
                answer_all(&mut m, 0);
                m
            },
            |mut m| {
                for id in &ids {
                    m.set_intent(SECS, id, true).expect("known camera");
                }
                answer_all(&mut m, SECS + 1);
                m
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
