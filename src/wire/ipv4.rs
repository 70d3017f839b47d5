//! IPv4 headers: building datagrams, parsing them, and in-place edits with checksum upkeep.

use std::net::Ipv4Addr;

use etherparse::{IpFragOffset, Ipv4HeaderSlice};

use super::packet::Packet;

pub const IPV4_HEADER_LEN: usize = 20;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_IPIP: u8 = 4;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_GRE: u8 = 47;

/// The fields a sender chooses for a new datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Meta {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    pub tos: u8,
    pub id: u16,
    pub dont_fragment: bool,
}

/// What a receiver reads from a datagram's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Info {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    pub tos: u8,
    pub id: u16,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    /// Fragment offset in bytes.
    pub frag_offset: usize,
    pub header_len: usize,
    pub total_len: usize,
}

impl Ipv4Info {
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.frag_offset != 0
    }

    pub fn payload_len(&self) -> usize {
        self.total_len - self.header_len
    }
}

/// The Internet checksum (RFC 1071) of `data`, starting from a partial sum. Eight bytes at a
/// time into a 64-bit sum: a big-endian 32-bit word is congruent to the sum of its two 16-bit
/// halves modulo 0xffff, and folding with end-around carry gives the same result as summing
/// 16-bit words (every segment is checksummed twice, when built and when received).
pub fn checksum_with(sum: u32, data: &[u8]) -> u16 {
    let mut acc = sum as u64;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        acc += u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64;
        acc += u32::from_be_bytes([w[4], w[5], w[6], w[7]]) as u64;
    }
    let mut pairs = words.remainder().chunks_exact(2);
    for pair in &mut pairs {
        acc += u16::from_be_bytes([pair[0], pair[1]]) as u64;
    }
    if let [last] = pairs.remainder() {
        acc += (*last as u64) << 8;
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

pub fn checksum(data: &[u8]) -> u16 {
    checksum_with(0, data)
}

/// Why a datagram was refused before any routing decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Error {
    Truncated,
    NotVersion4,
    BadChecksum,
}

impl std::fmt::Display for Ipv4Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ipv4Error::Truncated => "truncated IPv4 header",
            Ipv4Error::NotVersion4 => "not an IPv4 header",
            Ipv4Error::BadChecksum => "bad IPv4 header checksum",
        })
    }
}

/// Parses and validates (length, version, header checksum) an IPv4 header. Read field by
/// field: every frame a host receives or sends goes through here.
pub fn parse(data: &[u8]) -> Result<Ipv4Info, Ipv4Error> {
    if data.first().map(|b| b >> 4) != Some(4) {
        return Err(if data.is_empty() {
            Ipv4Error::Truncated
        } else {
            Ipv4Error::NotVersion4
        });
    }
    if data.len() < IPV4_HEADER_LEN {
        return Err(Ipv4Error::Truncated);
    }
    let header_len = (data[0] & 0x0f) as usize * 4;
    if header_len < IPV4_HEADER_LEN || data.len() < header_len {
        return Err(Ipv4Error::Truncated);
    }
    let total_len = u16::from_be_bytes([data[2], data[3]]) as usize;
    if total_len < header_len || total_len > data.len() {
        return Err(Ipv4Error::Truncated);
    }
    if checksum(&data[..header_len]) != 0 {
        return Err(Ipv4Error::BadChecksum);
    }
    let address = |at: usize| Ipv4Addr::new(data[at], data[at + 1], data[at + 2], data[at + 3]);
    Ok(Ipv4Info {
        src: address(12),
        dst: address(16),
        proto: data[9],
        ttl: data[8],
        tos: data[1],
        id: u16::from_be_bytes([data[4], data[5]]),
        dont_fragment: data[6] & 0x40 != 0,
        more_fragments: data[6] & 0x20 != 0,
        frag_offset: u16::from_be_bytes([data[6] & 0x1f, data[7]]) as usize * 8,
        header_len,
        total_len,
    })
}

/// The 20 bytes of an IPv4 header (no options) for `meta` carrying `payload_len` bytes,
/// checksum filled in. Written field by field: every datagram a host sends starts here.
pub fn header(meta: &Ipv4Meta, payload_len: usize) -> [u8; IPV4_HEADER_LEN] {
    let total_len =
        u16::try_from(IPV4_HEADER_LEN + payload_len).expect("payload length checked by the caller");
    let flags = if meta.dont_fragment { 0x40 } else { 0 };
    let mut h = [0u8; IPV4_HEADER_LEN];
    h[0] = 0x45;
    h[1] = meta.tos;
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[4..6].copy_from_slice(&meta.id.to_be_bytes());
    h[6] = flags;
    h[8] = meta.ttl;
    h[9] = meta.proto;
    h[12..16].copy_from_slice(&meta.src.octets());
    h[16..20].copy_from_slice(&meta.dst.octets());
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

/// Builds a datagram: header from `meta`, then `payload`.
pub fn build(meta: &Ipv4Meta, payload: &[u8]) -> Packet {
    let mut packet = Packet::zeroed(IPV4_HEADER_LEN + payload.len());
    let data = packet.data_mut();
    data[..IPV4_HEADER_LEN].copy_from_slice(&header(meta, payload.len()));
    data[IPV4_HEADER_LEN..].copy_from_slice(payload);
    packet
}

/// Rewrites the header checksum after an in-place edit.
pub fn refresh_checksum(data: &mut [u8]) {
    let header_len = ((data[0] & 0x0f) as usize) * 4;
    data[10] = 0;
    data[11] = 0;
    let sum = checksum(&data[..header_len]);
    data[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// Sets the TTL (forwarding decrements it) and fixes the header checksum.
pub fn set_ttl(data: &mut [u8], ttl: u8) {
    data[8] = ttl;
    refresh_checksum(data);
}

/// One fragment of `datagram` (RFC 791): bytes `[from, from+len)` of its payload.
pub fn fragment(datagram: &[u8], info: &Ipv4Info, from: usize, len: usize, last: bool) -> Packet {
    let payload = &datagram[info.header_len..info.total_len];
    let mut header = Ipv4HeaderSlice::from_slice(datagram)
        .expect("parsed before")
        .to_header();
    header.total_len = (info.header_len + len) as u16;
    header.more_fragments = !last || info.more_fragments;
    header.fragment_offset =
        IpFragOffset::try_new(((info.frag_offset + from) / 8) as u16).expect("13-bit offset");
    header.header_checksum = header.calc_header_checksum();
    let mut packet = Packet::zeroed(info.header_len + len);
    let data = packet.data_mut();
    data[..info.header_len].copy_from_slice(&header.to_bytes());
    data[info.header_len..].copy_from_slice(&payload[from..from + len]);
    packet
}

/// The pseudo-header sum used by TCP and UDP checksums.
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    u16::from_be_bytes([s[0], s[1]]) as u32
        + u16::from_be_bytes([s[2], s[3]]) as u32
        + u16::from_be_bytes([d[0], d[1]]) as u32
        + u16::from_be_bytes([d[2], d[3]]) as u32
        + proto as u32
        + len as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Ipv4Meta {
        Ipv4Meta {
            src: "192.168.188.111".parse().unwrap(),
            dst: "192.168.188.120".parse().unwrap(),
            proto: PROTO_UDP,
            ttl: 64,
            tos: 0,
            id: 0x1234,
            dont_fragment: true,
        }
    }

    #[test]
    fn built_header_parses_back_with_a_valid_checksum() {
        let packet = build(&meta(), &[1, 2, 3, 4]);
        let info = parse(packet.data()).unwrap();
        assert_eq!(info.src, meta().src);
        assert_eq!(info.dst, meta().dst);
        assert_eq!(info.ttl, 64);
        assert_eq!(info.id, 0x1234);
        assert!(info.dont_fragment);
        assert_eq!(info.total_len, 24);
        assert_eq!(checksum(&packet.data()[..20]), 0);
    }

    /// The hand-written header is byte for byte what etherparse writes for the same fields.
    #[test]
    fn header_matches_etherparse() {
        use etherparse::{IpDscp, IpEcn, IpNumber, Ipv4Header};
        for (tos, id, df, ttl, proto, len) in [
            (0, 0x1234, true, 64, PROTO_TCP, 40),
            (0xb8, 0, false, 1, PROTO_UDP, 0),
            (3, 0xffff, true, 255, PROTO_ICMP, 1480),
            (0x10, 7, false, 63, PROTO_IPIP, 65_515),
        ] {
            let m = Ipv4Meta {
                tos,
                id,
                dont_fragment: df,
                ttl,
                proto,
                ..meta()
            };
            let mut h = Ipv4Header::new(
                len as u16,
                ttl,
                IpNumber(proto),
                m.src.octets(),
                m.dst.octets(),
            )
            .unwrap();
            h.identification = id;
            h.dont_fragment = df;
            h.dscp = IpDscp::try_new(tos >> 2).unwrap();
            h.ecn = IpEcn::try_new(tos & 3).unwrap();
            h.header_checksum = h.calc_header_checksum();
            assert_eq!(header(&m, len).as_slice(), h.to_bytes().as_slice());
        }
    }

    /// The former parser, on etherparse's header slice: the reference for `parse`.
    fn parse_with_etherparse(data: &[u8]) -> Result<Ipv4Info, Ipv4Error> {
        if data.first().map(|b| b >> 4) != Some(4) {
            return Err(if data.is_empty() {
                Ipv4Error::Truncated
            } else {
                Ipv4Error::NotVersion4
            });
        }
        let slice = Ipv4HeaderSlice::from_slice(data).map_err(|_| Ipv4Error::Truncated)?;
        let header_len = slice.ihl() as usize * 4;
        let total_len = slice.total_len() as usize;
        if total_len < header_len || total_len > data.len() {
            return Err(Ipv4Error::Truncated);
        }
        if checksum(&data[..header_len]) != 0 {
            return Err(Ipv4Error::BadChecksum);
        }
        Ok(Ipv4Info {
            src: slice.source_addr(),
            dst: slice.destination_addr(),
            proto: slice.protocol().0,
            ttl: slice.ttl(),
            tos: data[1],
            id: slice.identification(),
            dont_fragment: slice.dont_fragment(),
            more_fragments: slice.more_fragments(),
            frag_offset: slice.fragments_offset().value() as usize * 8,
            header_len,
            total_len,
        })
    }

    /// Good, short, optioned, mis-versioned and mis-sized headers parse (or fail) as they
    /// did through etherparse.
    #[test]
    fn parse_matches_etherparse() {
        let mut m = meta();
        m.dont_fragment = false;
        let good = build(&m, &[5; 16]);
        for first in [0x45, 0x44, 0x46, 0x4f, 0x55, 0x35, 0x40] {
            for total in [0u16, 19, 20, 24, 36, 37, 500] {
                for flags in [0x00, 0x40, 0x20, 0x3f, 0xff] {
                    let mut data = good.data().to_vec();
                    data[0] = first;
                    data[2..4].copy_from_slice(&total.to_be_bytes());
                    data[6] = flags;
                    data[7] = 0x81;
                    if (first & 0x0f) as usize * 4 <= data.len() {
                        refresh_checksum(&mut data);
                    }
                    for len in 0..=data.len() {
                        assert_eq!(parse(&data[..len]), parse_with_etherparse(&data[..len]));
                    }
                }
            }
        }
    }

    #[test]
    fn a_corrupted_header_fails_the_checksum() {
        let mut packet = build(&meta(), &[]);
        packet.data_mut()[8] = 1;
        assert_eq!(parse(packet.data()), Err(Ipv4Error::BadChecksum));
    }

    #[test]
    fn set_ttl_keeps_the_checksum_valid() {
        let mut packet = build(&meta(), &[9; 8]);
        set_ttl(packet.data_mut(), 63);
        assert_eq!(parse(packet.data()).unwrap().ttl, 63);
    }

    /// The 16-bit-word sum RFC 1071 describes, the reference for `checksum_with`.
    fn checksum_by_words(mut sum: u32, data: &[u8]) -> u16 {
        let mut chunks = data.chunks_exact(2);
        for pair in &mut chunks {
            sum += u16::from_be_bytes([pair[0], pair[1]]) as u32;
        }
        if let [last] = chunks.remainder() {
            sum += (*last as u32) << 8;
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn checksum_matches_the_word_by_word_sum() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 0..200 {
            for fill in [None, Some(0x00), Some(0xff)] {
                let data: Vec<u8> = (0..len).map(|_| fill.unwrap_or(next() as u8)).collect();
                for sum in [0, 1, 0xffff, 0x1_fffe, next() as u32 & 0x3_ffff] {
                    assert_eq!(checksum_with(sum, &data), checksum_by_words(sum, &data));
                }
            }
        }
    }

    #[test]
    fn rfc1071_example_checksum() {
        // RFC 1071 section 3 example bytes: sum 0xddf2, checksum 0x220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), 0x220d);
    }

    #[test]
    fn fragments_carry_offsets_and_more_fragments_flag() {
        let mut m = meta();
        m.dont_fragment = false;
        let packet = build(&m, &[7; 24]);
        let info = parse(packet.data()).unwrap();
        let first = fragment(packet.data(), &info, 0, 16, false);
        let second = fragment(packet.data(), &info, 16, 8, true);
        let f1 = parse(first.data()).unwrap();
        let f2 = parse(second.data()).unwrap();
        assert!(f1.more_fragments && f1.frag_offset == 0 && f1.total_len == 36);
        assert!(!f2.more_fragments && f2.frag_offset == 16 && f2.total_len == 28);
    }
}
