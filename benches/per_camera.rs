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

/// The allocator `dualrec` ships with (see `src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/ideal_site.rs"]
mod ideal_site;
#[path = "support/sliding_window.rs"]
mod sliding_window;
use sliding_window::SlidingWindow;

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
