//! TCP segments: the header fields and the options Linux puts on the wire.

use std::net::Ipv4Addr;

use super::ipv4::{self, Ipv4Meta, PROTO_TCP};
use super::packet::Packet;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The options lvsim reads and writes (those of a Linux SYN: MSS, SACK-permitted,
/// timestamps, window scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub sack_permitted: bool,
    pub timestamp: Option<(u32, u32)>,
    pub window_scale: Option<u8>,
}

/// A segment to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: TcpOptions,
}

/// A received segment, borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub repr: TcpRepr,
    pub payload: &'a [u8],
}

impl TcpSegment<'_> {
    /// Sequence space the segment occupies: data plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32
            + (self.repr.flags & SYN != 0) as u32
            + (self.repr.flags & FIN != 0) as u32
    }
}

impl TcpRepr {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The header bytes (20 plus the options) with a zero checksum; the length is in the
    /// second element.
    fn header_bytes(&self) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut h = [0u8; MAX_HEADER_LEN];
        let options_len = write_options(&self.options, &mut h[BASE_HEADER_LEN..]);
        let len = BASE_HEADER_LEN + options_len;
        h[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        h[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        h[4..8].copy_from_slice(&self.seq.to_be_bytes());
        h[8..12].copy_from_slice(&self.ack.to_be_bytes());
        h[12] = ((len / 4) as u8) << 4;
        h[13] = self.flags & (FIN | SYN | RST | PSH | ACK);
        h[14..16].copy_from_slice(&self.window.to_be_bytes());
        (h, len)
    }
}

/// A TCP header without options, and with the most options there can be.
const BASE_HEADER_LEN: usize = 20;
const MAX_HEADER_LEN: usize = 60;

/// Writes Linux's option layout into `out`: SYN `mss, sackOK, TS, nop, wscale`; other
/// segments `nop, nop, TS`; zero-padded to a multiple of four. Returns the length.
fn write_options(options: &TcpOptions, out: &mut [u8]) -> usize {
    const NOP: u8 = 1;
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if let Some(mss) = options.mss {
        let [hi, lo] = mss.to_be_bytes();
        put(&[2, 4, hi, lo]);
    }
    let timestamp = |(val, ecr): (u32, u32)| {
        let mut t = [8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        t[2..6].copy_from_slice(&val.to_be_bytes());
        t[6..10].copy_from_slice(&ecr.to_be_bytes());
        t
    };
    match (options.sack_permitted, options.timestamp) {
        (true, Some(ts)) => {
            put(&[4, 2]);
            put(&timestamp(ts));
        }
        (true, None) => put(&[NOP, NOP, 4, 2]),
        (false, Some(ts)) => {
            put(&[NOP, NOP]);
            put(&timestamp(ts));
        }
        (false, None) => {}
    }
    if let Some(shift) = options.window_scale {
        put(&[NOP, 3, 3, shift]);
    }
    len.next_multiple_of(4)
}

/// Parses a TCP segment (the IP payload) and verifies its checksum against the pseudo-header.
/// Header checks as etherparse's `TcpHeaderSlice::from_slice` (data offset at least 5 and
/// within the slice).
pub fn parse(l4: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<TcpSegment<'_>, &'static str> {
    const TRUNCATED: &str = "truncated TCP header";
    if l4.len() < BASE_HEADER_LEN {
        return Err(TRUNCATED);
    }
    let header_len = ((l4[12] & 0xf0) >> 2) as usize;
    if header_len < BASE_HEADER_LEN || l4.len() < header_len {
        return Err(TRUNCATED);
    }
    let sum = ipv4::pseudo_header_sum(src, dst, PROTO_TCP, l4.len());
    if ipv4::checksum_with(sum, l4) != 0 {
        return Err("bad TCP checksum");
    }
    let mut options = TcpOptions::default();
    walk_options(&l4[BASE_HEADER_LEN..header_len], |kind, value, _| {
        match (kind, value) {
            (2, &[a, b]) => options.mss = Some(u16::from_be_bytes([a, b])),
            (3, &[shift]) => options.window_scale = Some(shift),
            (4, []) => options.sack_permitted = true,
            (8, v) if v.len() == 8 => {
                let val = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                let ecr = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
                options.timestamp = Some((val, ecr));
            }
            _ => {}
        }
    });
    let u16_at = |at: usize| u16::from_be_bytes([l4[at], l4[at + 1]]);
    let u32_at = |at: usize| u32::from_be_bytes([l4[at], l4[at + 1], l4[at + 2], l4[at + 3]]);
    Ok(TcpSegment {
        repr: TcpRepr {
            src_port: u16_at(0),
            dst_port: u16_at(2),
            seq: u32_at(4),
            ack: u32_at(8),
            flags: l4[13] & 0x3f,
            window: u16_at(14),
            options,
        },
        payload: &l4[header_len..],
    })
}

/// Walks a TCP options area as `tcp_parse_options` does: every option with a length is
/// skipped by it, so unknown kinds (like FULLNAT's TOA) do not hide the ones after them.
/// Calls `f(kind, value, offset of the option)`.
pub fn walk_options(options: &[u8], mut f: impl FnMut(u8, &[u8], usize)) {
    let mut at = 0;
    while at < options.len() {
        match options[at] {
            0 => return,
            1 => at += 1,
            kind => {
                let len = options.get(at + 1).copied().unwrap_or(0) as usize;
                if len < 2 || at + len > options.len() {
                    return;
                }
                f(kind, &options[at + 2..at + len], at);
                at += len;
            }
        }
    }
}

/// Builds an IPv4 datagram carrying the segment `repr` with `payload`.
pub fn build(meta: &Ipv4Meta, repr: &TcpRepr, payload: &[u8]) -> Packet {
    let (header, header_len) = repr.header_bytes();
    let tcp_len = header_len + payload.len();
    let ip = ipv4::header(
        &Ipv4Meta {
            proto: PROTO_TCP,
            ..*meta
        },
        tcp_len,
    );
    let mut packet = Packet::zeroed(ipv4::IPV4_HEADER_LEN + tcp_len);
    let data = packet.data_mut();
    data[..ipv4::IPV4_HEADER_LEN].copy_from_slice(&ip);
    let body = ipv4::IPV4_HEADER_LEN + header_len;
    data[ipv4::IPV4_HEADER_LEN..body].copy_from_slice(&header[..header_len]);
    data[body..].copy_from_slice(payload);
    let sum = ipv4::pseudo_header_sum(meta.src, meta.dst, PROTO_TCP, tcp_len);
    let check = ipv4::checksum_with(sum, &data[ipv4::IPV4_HEADER_LEN..]);
    let at = ipv4::IPV4_HEADER_LEN + 16;
    data[at..at + 2].copy_from_slice(&check.to_be_bytes());
    packet
}

/// tcpdump's flag string: `S`, `S.`, `P.`, `F.`, `R.`, `.`.
pub fn flags_string(flags: u8) -> String {
    let mut out = String::new();
    for (bit, letter) in [(FIN, 'F'), (SYN, 'S'), (RST, 'R'), (PSH, 'P')] {
        if flags & bit != 0 {
            out.push(letter);
        }
    }
    if flags & ACK != 0 {
        out.push('.');
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Ipv4Meta {
        Ipv4Meta {
            src: "192.168.188.111".parse().unwrap(),
            dst: "192.168.188.120".parse().unwrap(),
            proto: PROTO_TCP,
            ttl: 64,
            tos: 0,
            id: 1,
            dont_fragment: true,
        }
    }

    fn syn() -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1000,
            ack: 0,
            flags: SYN,
            window: 64240,
            options: TcpOptions {
                mss: Some(1460),
                sack_permitted: true,
                timestamp: Some((1, 0)),
                window_scale: Some(7),
            },
        }
    }

    #[test]
    fn linux_syn_has_twenty_bytes_of_options_and_round_trips() {
        let packet = build(&meta(), &syn(), &[]);
        assert_eq!(packet.len(), 20 + 40);
        let seg = parse(&packet.data()[20..], meta().src, meta().dst).unwrap();
        assert_eq!(seg.repr, syn());
        assert_eq!(seg.seq_len(), 1);
    }

    #[test]
    fn data_segment_round_trips_and_checksum_is_checked() {
        let mut repr = syn();
        repr.flags = PSH | ACK;
        repr.options = TcpOptions {
            timestamp: Some((5, 6)),
            ..TcpOptions::default()
        };
        let packet = build(&meta(), &repr, b"GET / HTTP/1.1\r\n\r\n");
        let seg = parse(&packet.data()[20..], meta().src, meta().dst).unwrap();
        assert_eq!(seg.payload, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(seg.repr, repr);
        let wrong_dst: Ipv4Addr = "192.168.188.121".parse().unwrap();
        assert!(parse(&packet.data()[20..], meta().src, wrong_dst).is_err());
    }

    /// The segment etherparse builds for the same fields and Linux's option layout.
    fn built_by_etherparse(meta: &Ipv4Meta, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
        use etherparse::{TcpHeader, TcpOptionElement::*};
        let mut h = TcpHeader::new(repr.src_port, repr.dst_port, repr.seq, repr.window);
        h.acknowledgment_number = repr.ack;
        (h.fin, h.syn, h.rst, h.psh, h.ack) = (
            repr.has(FIN),
            repr.has(SYN),
            repr.has(RST),
            repr.has(PSH),
            repr.has(ACK),
        );
        let o = repr.options;
        let mut elements = Vec::new();
        elements.extend(o.mss.map(MaximumSegmentSize));
        match (o.sack_permitted, o.timestamp) {
            (true, Some((v, e))) => {
                elements.extend([SelectiveAcknowledgementPermitted, Timestamp(v, e)])
            }
            (true, None) => elements.extend([Noop, Noop, SelectiveAcknowledgementPermitted]),
            (false, Some((v, e))) => elements.extend([Noop, Noop, Timestamp(v, e)]),
            (false, None) => {}
        }
        if let Some(shift) = o.window_scale {
            elements.extend([Noop, WindowScale(shift)]);
        }
        h.set_options(&elements).unwrap();
        let ip = ipv4::header(
            &Ipv4Meta {
                proto: PROTO_TCP,
                ..*meta
            },
            h.header_len() + payload.len(),
        );
        let ip_header = etherparse::Ipv4HeaderSlice::from_slice(&ip)
            .unwrap()
            .to_header();
        h.checksum = h.calc_checksum_ipv4(&ip_header, payload).unwrap();
        [&ip[..], &h.to_bytes(), payload].concat()
    }

    /// Every option combination, flag set and payload parity gives etherparse's bytes.
    #[test]
    fn segments_match_etherparse_byte_for_byte() {
        let payloads: [&[u8]; 3] = [b"", b"odd", b"GET / HTTP/1.0\r\n\r\n"];
        for bits in 0..16u8 {
            let options = TcpOptions {
                mss: (bits & 1 != 0).then_some(1460),
                sack_permitted: bits & 2 != 0,
                timestamp: (bits & 4 != 0).then_some((0xdead_beef, 0x0102_0304)),
                window_scale: (bits & 8 != 0).then_some(7),
            };
            for flags in [SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, 0xff] {
                for payload in payloads {
                    let repr = TcpRepr {
                        flags,
                        options,
                        seq: 0x8000_0001,
                        ack: 42,
                        ..syn()
                    };
                    let ours = build(&meta(), &repr, payload);
                    assert_eq!(ours.data(), built_by_etherparse(&meta(), &repr, payload));
                }
            }
        }
    }

    #[test]
    fn flag_strings_follow_tcpdump() {
        assert_eq!(flags_string(SYN), "S");
        assert_eq!(flags_string(SYN | ACK), "S.");
        assert_eq!(flags_string(PSH | ACK), "P.");
        assert_eq!(flags_string(FIN | ACK), "F.");
        assert_eq!(flags_string(RST | ACK), "R.");
        assert_eq!(flags_string(ACK), ".");
    }
}
