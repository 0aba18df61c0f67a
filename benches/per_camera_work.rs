//! The `per_camera` workload counted instead of timed: run under callgrind
//! with its cache simulation, it gives the instructions and the last-level
//! cache misses the engine spends per camera per second at each size. A
//! flat instruction count with a rising miss count says the engine's work
//! per camera does not grow with the installation and the time that does
//! is memory latency (state that outgrows the caches), which the timed
//! bench cannot tell apart.
//!
//! ```text
//! cargo bench --bench per_camera_work --no-run
//! valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no \
//!   --toggle-collect='per_camera_work::measured_seconds' \
//!   target/release/deps/per_camera_work-<hash> 100000 20
//! callgrind_annotate --inclusive=yes callgrind.out.<pid> | head
//! ```
//!
//! Arguments: the number of cameras (default 1,000) and of engine-seconds
//! counted after the warm-up (default 20). Without valgrind it prints the
//! wall time of those seconds.

use std::time::Instant;

/// The allocator `dualrec` ships with (see `src/main.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/ideal_site.rs"]
mod ideal_site;
#[path = "support/sliding_window.rs"]
mod sliding_window;
use sliding_window::SlidingWindow;

/// The counted part: `seconds` engine-seconds of the warmed-up world.
/// Kept out of line so callgrind's `--toggle-collect` can name it.
#[inline(never)]
fn measured_seconds(world: &mut SlidingWindow, seconds: usize) {
    for _ in 0..seconds {
        world.one_second();
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let parse = |arg: Option<String>, default: usize, what: &str| {
        arg.map_or(Ok(default), |a| {
            a.parse::<usize>()
                .map_err(|e| format!("{what} must be a whole number, got {a:?}: {e}"))
        })
    };
    let mut run = || -> Result<(), String> {
        let cameras = parse(args.next(), 1_000, "the number of cameras")?;
        let seconds = parse(args.next(), 20, "the number of engine-seconds")?;
        if cameras == 0 || seconds == 0 {
            return Err("cameras and engine-seconds must be at least 1".into());
        }
        let mut world = SlidingWindow::new(cameras);
        let started = Instant::now();
        measured_seconds(&mut world, seconds);
        let wall = started.elapsed();
        println!(
            "{cameras} cameras, {seconds} engine-seconds: {:.3} ms wall, {:.2} ns per camera-second",
            wall.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e9 / (cameras * seconds) as f64
        );
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("per_camera_work: {e}");
        std::process::exit(2);
    }
}
