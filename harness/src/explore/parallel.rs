//! Deterministic parallel map over run indices with `std::thread::scope`.
//!
//! Workers take indices from a shared counter in small chunks (so a slow
//! world does not hold up a whole stripe), and results are put back in
//! index order: the output never depends on the number of threads or on
//! scheduling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Indices handed to a worker at a time.
const CHUNK: u64 = 8;

/// `(0..n).map(f)` on `threads` threads (≥ 1), results in index order.
/// `progress` is called (from workers) with the number of finished items.
pub fn map_indexed<T, F, P>(n: u64, threads: usize, f: F, progress: P) -> Vec<T>
where
    T: Send,
    F: Fn(u64) -> T + Sync,
    P: Fn(u64) + Sync,
{
    let threads = threads.max(1).min(n.max(1) as usize);
    if threads == 1 {
        return (0..n)
            .map(|i| {
                let out = f(i);
                progress(i + 1);
                out
            })
            .collect();
    }
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, T)>> = Mutex::new(Vec::with_capacity(n as usize));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut local = Vec::new();
                loop {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= n {
                        break;
                    }
                    let end = (start + CHUNK).min(n);
                    for i in start..end {
                        local.push((i, f(i)));
                    }
                    let finished = done.fetch_add(end - start, Ordering::Relaxed) + (end - start);
                    progress(finished);
                }
                results
                    .lock()
                    .expect("no worker panics while holding the results lock")
                    .append(&mut local);
            });
        }
    });
    let mut results = results
        .into_inner()
        .expect("no worker panics while holding the results lock");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_depend_on_threads() {
        let f = |i: u64| i * i % 17;
        let one = map_indexed(1000, 1, f, |_| {});
        for t in [2, 3, 8] {
            assert_eq!(map_indexed(1000, t, f, |_| {}), one);
        }
        assert_eq!(one.len(), 1000);
    }
}
