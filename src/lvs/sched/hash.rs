//! The hash primitives of the hashing schedulers (ipvs-schedulers.md §7): the address fold,
//! `hash_32` and the 64-bit kernel's `hsiphash`.

use std::net::IpAddr;

/// `GOLDEN_RATIO_32` of include/linux/hash.h.
const GOLDEN_RATIO_32: u32 = 0x61C8_8647;

/// The address as the schedulers hash it (ip_vs_sh.c, ip_vs_dh.c, ip_vs_lblc.c, ip_vs_mh.c): an
/// IPv4 address read as a big-endian number, an IPv6 address as the XOR of its four
/// big-endian 32-bit words.
pub fn fold(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => {
            let words = u128::from(v6);
            (0..4).fold(0, |acc, i| acc ^ (words >> (32 * i)) as u32)
        }
    }
}

/// `hash_32(v, bits)` of include/linux/hash.h: the HIGH `bits` bits of `v * GOLDEN_RATIO_32`.
pub fn hash_32(v: u32, bits: u32) -> u32 {
    v.wrapping_mul(GOLDEN_RATIO_32)
        .checked_shr(u32::BITS.saturating_sub(bits))
        .unwrap_or(0)
}

/// An `hsiphash_key_t` of a 64-bit kernel: two `unsigned long` key words.
pub type HsiphashKey = [u64; 2];

/// The SipHash initialisation constants (include/linux/siphash.h).
const SIPHASH_INIT: [u64; 4] = [
    0x736f_6d65_7073_6575,
    0x646f_7261_6e64_6f6d,
    0x6c79_6765_6e65_7261,
    0x7465_6462_7974_6573,
];

/// `hsiphash` as a 64-bit kernel computes it (lib/siphash.c): SipHash-1-3 — one compression
/// round per 8-byte little-endian word, three finalisation rounds — truncated to 32 bits.
pub fn hsiphash(key: &HsiphashKey, data: &[u8]) -> u32 {
    let mut v = [
        SIPHASH_INIT[0] ^ key[0],
        SIPHASH_INIT[1] ^ key[1],
        SIPHASH_INIT[2] ^ key[0],
        SIPHASH_INIT[3] ^ key[1],
    ];
    let words = data.chunks_exact(8);
    let tail = words.remainder();
    for word in words {
        let m = u64::from_le_bytes(word.try_into().unwrap_or_default());
        compress(&mut v, m);
    }
    let mut last = (data.len() as u64) << 56;
    for (i, &byte) in tail.iter().enumerate() {
        last |= u64::from(byte) << (8 * i);
    }
    compress(&mut v, last);
    v[2] ^= 0xff;
    for _ in 0..3 {
        sip_round(&mut v);
    }
    (v[0] ^ v[1] ^ v[2] ^ v[3]) as u32
}

/// `hsiphash(&v, sizeof(v), key)` for a `u32` in the memory order of a little-endian kernel,
/// which is how ip_vs_mh.c hashes its key.
pub fn hsiphash_u32(key: &HsiphashKey, v: u32) -> u32 {
    hsiphash(key, &v.to_le_bytes())
}

/// One message word: `v3 ^= m; round; v0 ^= m` (SipHash-1-x has one round per word).
fn compress(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    sip_round(v);
    v[0] ^= m;
}

/// `SIPHASH_PERMUTATION` (include/linux/siphash.h).
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    // ipvs-schedulers.md §7.1
    #[test]
    fn fold_reads_ipv4_big_endian_and_xors_ipv6_words() {
        assert_eq!(fold(ip("10.3.0.1")), 0x0A03_0001);
        assert_eq!(fold(ip("2001:db8:1::1")), 0x2000_0DB9);
    }

    // ipvs-schedulers.md §7.2 examples
    #[test]
    fn hash_32_takes_the_high_bits() {
        assert_eq!(hash_32(0x0A03_0001, 8), 186);
        assert_eq!(hash_32(0x0A02_0001, 8), 52);
        assert_eq!(hash_32(0xC0A8_0101, 8), 136);
        assert_eq!(hash_32(0x0A03_0001, 10), 746);
    }

    // ipvs-schedulers.md §7.2: bit counts outside 1..=32 do not panic
    #[test]
    fn hash_32_with_degenerate_bit_counts_does_not_panic() {
        assert_eq!(hash_32(0x0A03_0001, 0), 0);
        assert_eq!(hash_32(1, 32), GOLDEN_RATIO_32);
        assert_eq!(hash_32(1, 40), GOLDEN_RATIO_32);
    }

    // ipvs-schedulers.md §7.3 kernel self-test vectors (lib/test_siphash.c, 64-bit hsiphash)
    #[test]
    fn hsiphash_matches_the_kernel_self_test_vectors() {
        let key: HsiphashKey = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        let input: Vec<u8> = (0..8).collect();
        let expected = [
            (0, 0x050f_c4dc),
            (1, 0x7d57_ca93),
            (2, 0x4dc7_d44d),
            (3, 0xe7dd_f7fb),
            (4, 0x88d3_8328),
            (8, 0x8d29_9a8e),
        ];
        for (len, hash) in expected {
            assert_eq!(hsiphash(&key, &input[..len]), hash, "n = {len}");
        }
    }

    // ipvs-schedulers.md §7.3 mh sample values (key1/key2 of ip_vs_mh.c)
    #[test]
    fn hsiphash_u32_matches_the_mh_samples() {
        let key1: HsiphashKey = [2_654_435_761, 2_654_435_761];
        let key2: HsiphashKey = [2_654_446_892, 2_654_446_892];
        assert_eq!(hsiphash_u32(&key1, 0xC0A8_0151), 0xcd25_7c3f);
        assert_eq!(hsiphash_u32(&key2, 0xC0A8_0151), 0x932e_155f);
        assert_eq!(hsiphash_u32(&key1, 0x0A05_0001), 0xfe27_4f76);
    }
}
