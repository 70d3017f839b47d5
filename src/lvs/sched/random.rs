//! The reference random generator for seeded runs of twos (ipvs-schedulers.md §6.14): the
//! kernel's draws come from its CSPRNG and cannot be reproduced, so a simulation uses this
//! SplitMix64 stream with the kernel's `get_random_u32_below` reduction.

use super::RandomSource;

/// SplitMix64, seeded by a `u64`; each draw uses the high 32 bits of one output.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

impl RandomSource for SplitMix64 {
    /// `get_random_u32_below` (include/linux/random.h): multiply-shift with rejection of the
    /// few low products that would bias the result.
    fn below(&mut self, n: u32) -> u32 {
        let mut m = u64::from(n) * u64::from(self.next_u32());
        if (m as u32) < n {
            let bound = n.wrapping_neg() % n;
            while (m as u32) < bound {
                m = u64::from(n) * u64::from(self.next_u32());
            }
        }
        (m >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipvs-schedulers.md §6.14 check values
    #[test]
    fn seed_20240601_gives_the_reference_u32_stream() {
        let mut rng = SplitMix64::new(20_240_601);
        let draws: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(draws, [0x0687_6576, 0xa253_9ed8, 0x0220_7029]);
    }

    // ipvs-schedulers.md §6.14 check values
    #[test]
    fn seed_20240601_gives_the_reference_below_7_draws() {
        let mut rng = SplitMix64::new(20_240_601);
        let draws: Vec<u32> = (0..4).map(|_| rng.below(7)).collect();
        assert_eq!(draws, [0, 4, 0, 5]);
    }

    // ipvs-schedulers.md §6.14: below(n) stays in 0..n
    #[test]
    fn below_stays_in_range_and_tolerates_zero_and_one() {
        let mut rng = SplitMix64::new(1);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        assert!((0..1000).all(|_| rng.below(3) < 3));
    }

    // ipvs-schedulers.md §6.14: rejection of biased products
    #[test]
    fn below_redraws_when_the_low_product_falls_under_the_bound() {
        // n = 3·2^30: bound = 2^32 mod n = 2^30, so a draw x divisible by 4 is rejected and the
        // result is 3x/4 of the first draw that is not.
        let n = 0xC000_0000;
        let seed = (0..)
            .find(|&seed| SplitMix64::new(seed).next_u32().is_multiple_of(4))
            .unwrap();
        let mut reference = SplitMix64::new(seed);
        let accepted = std::iter::repeat_with(|| reference.next_u32())
            .find(|x| x % 4 != 0)
            .unwrap();
        let expected = (u64::from(accepted) * 3 / 4) as u32;
        assert_eq!(SplitMix64::new(seed).below(n), expected);
    }
}
