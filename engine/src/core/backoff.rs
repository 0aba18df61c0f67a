//! Capped exponential back-off with "equal jitter".
//!
//! The n-th consecutive failure waits a uniformly drawn time in
//! `[d/2, d]` with `d = min(cap, initial · 2^(n-1))`. Jitter keeps many
//! cameras that failed together from retrying in lock-step; the lower bound
//! keeps a dead site from being hammered. The RNG is the engine's own, seeded
//! by the driver, so simulated runs stay reproducible.

use rand::Rng;

use super::types::Nanos;

pub(crate) fn delay<R: Rng + ?Sized>(
    rng: &mut R,
    initial: Nanos,
    cap: Nanos,
    failures: u32,
) -> Nanos {
    let exp = failures.saturating_sub(1).min(32);
    let d = initial.saturating_mul(1u64 << exp).min(cap).max(1);
    rng.random_range(d / 2..=d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn grows_exponentially_within_jitter_and_caps() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (failures, d) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (10, 1000),
            (40, 1000),
        ] {
            for _ in 0..50 {
                let x = delay(&mut rng, 100, 1000, failures);
                assert!(
                    x >= d / 2 && x <= d,
                    "failures {failures}: {x} not in [{}, {d}]",
                    d / 2
                );
            }
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let a: Vec<_> = {
            let mut r = ChaCha8Rng::seed_from_u64(9);
            (1..20).map(|n| delay(&mut r, 100, 5000, n)).collect()
        };
        let b: Vec<_> = {
            let mut r = ChaCha8Rng::seed_from_u64(9);
            (1..20).map(|n| delay(&mut r, 100, 5000, n)).collect()
        };
        assert_eq!(a, b);
    }
}
