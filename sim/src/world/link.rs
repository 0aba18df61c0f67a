//! The network path between the engine and one site, and the faults that
//! live on it.
//!
//! A link draws one-way latencies from the site's distribution (or from the
//! active `slow` fault's), and decides what a request meets at the edge:
//! a refused connection (site down, recorder restarting), a black hole
//! (partition, hang), a SOAP fault (`errors`), or the site itself.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use engine::core::Nanos;

use super::latency::LatencyDist;

#[derive(Debug)]
pub(crate) struct Link {
    base: LatencyDist,
    latency_rng: ChaCha8Rng,
    error_rng: ChaCha8Rng,
    lost_rng: ChaCha8Rng,
    /// Nesting counters: overlapping faults of one kind stack.
    pub down: u32,
    pub partition: u32,
    pub hang: u32,
    pub restarting: u32,
    /// Active `wrong_password` faults.
    pub wrong_password: u32,
    /// Active `slow` faults by fault index; the latest started wins.
    slow: Vec<(usize, LatencyDist)>,
    /// Active `errors` faults by fault index; the highest rate wins.
    errors: Vec<(usize, f64)>,
    /// Active `lost_replies` faults by fault index; the highest rate wins.
    lost: Vec<(usize, f64)>,
}

impl Link {
    pub fn new(base: LatencyDist, seed: u64) -> Self {
        Link {
            base,
            latency_rng: ChaCha8Rng::seed_from_u64(seed),
            error_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_e770),
            lost_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x105e_7e91),
            down: 0,
            partition: 0,
            hang: 0,
            restarting: 0,
            wrong_password: 0,
            slow: Vec::new(),
            errors: Vec::new(),
            lost: Vec::new(),
        }
    }

    /// One one-way trip.
    pub fn one_way(&mut self) -> Nanos {
        let dist = self.slow.last().map_or(&self.base, |(_, d)| d);
        dist.sample(&mut self.latency_rng)
    }

    /// Whether nothing gets through (requests and replies vanish).
    pub fn blackholed(&self) -> bool {
        self.partition > 0 || self.hang > 0
    }

    /// Draws whether this request fails with a server error.
    pub fn draw_error(&mut self) -> bool {
        let rate = self.errors.iter().map(|(_, r)| *r).fold(0.0, f64::max);
        // Only draw while a fault is active, so adding an `errors` window does
        // not shift the random stream of the rest of the run.
        rate > 0.0 && self.error_rng.random::<f64>() < rate
    }

    /// Draws whether the reply of a request the site executed is lost.
    pub fn draw_lost_reply(&mut self) -> bool {
        let rate = self.lost.iter().map(|(_, r)| *r).fold(0.0, f64::max);
        // Only draw while a fault is active (see `draw_error`).
        rate > 0.0 && self.lost_rng.random::<f64>() < rate
    }

    pub fn add_lost_replies(&mut self, fault: usize, rate: f64) {
        self.lost.push((fault, rate));
    }

    pub fn remove_lost_replies(&mut self, fault: usize) {
        self.lost.retain(|(f, _)| *f != fault);
    }

    pub fn add_slow(&mut self, fault: usize, dist: LatencyDist) {
        self.slow.push((fault, dist));
    }

    pub fn remove_slow(&mut self, fault: usize) {
        self.slow.retain(|(f, _)| *f != fault);
    }

    pub fn add_errors(&mut self, fault: usize, rate: f64) {
        self.errors.push((fault, rate));
    }

    pub fn remove_errors(&mut self, fault: usize) {
        self.errors.retain(|(f, _)| *f != fault);
    }
}
