//! Deterministic randomness.
//!
//! Every consumer (a host's neighbour timers, its TCP initial sequence numbers, …) gets its own
//! ChaCha stream derived from the scenario seed and a stable label. Adding a new consumer then
//! never shifts the numbers another one draws, so golden outputs stay put.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded random stream.
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// The stream for `label` (e.g. `"rs1/neigh"`) under scenario seed `seed`.
    pub fn stream(seed: u64, label: &str) -> SimRng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(fnv1a(label));
        SimRng { inner }
    }

    /// Uniform in `[low, high]` (inclusive).
    pub fn range_inclusive(&mut self, low: u64, high: u64) -> u64 {
        if low >= high {
            return low;
        }
        self.inner.random_range(low..=high)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.inner.random()
    }

    pub fn next_u16(&mut self) -> u16 {
        self.inner.random()
    }
}

/// FNV-1a: a fixed, platform-independent hash for stream labels.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= byte as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_label_give_the_same_numbers() {
        let mut a = SimRng::stream(7, "rs1/neigh");
        let mut b = SimRng::stream(7, "rs1/neigh");
        let xs: Vec<u32> = (0..5).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..5).map(|_| b.next_u32()).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn labels_and_seeds_give_independent_streams() {
        let first = |seed, label| SimRng::stream(seed, label).next_u32();
        assert_ne!(first(7, "rs1/neigh"), first(7, "rs2/neigh"));
        assert_ne!(first(7, "rs1/neigh"), first(8, "rs1/neigh"));
    }

    #[test]
    fn ranges_stay_inside_their_bounds() {
        let mut rng = SimRng::stream(1, "x");
        for _ in 0..1000 {
            let v = rng.range_inclusive(15, 45);
            assert!((15..=45).contains(&v));
        }
    }
}
