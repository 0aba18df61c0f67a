//! Whole virtual runs: scenario in, report out (world, engine, metrics).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use harness::runner::{run_virtual, RunOptions};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("virtual_run");
    group.sample_size(10);
    for name in [
        "happy-path",
        "primary-down-mid-session",
        "record-all-1000",
        "long-session-autostop",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(format!("{name}.toml"));
        let scenario = harness::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(name, |b| {
            b.iter(|| run_virtual(&scenario, &RunOptions::default()).expect("run completes"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
