//! TCP segments: the header fields and the options Linux puts on the wire.

use std::net::Ipv4Addr;

use etherparse::{TcpHeader, TcpHeaderSlice, TcpOptionElement};

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

    fn to_header(self) -> TcpHeader {
        let mut header = TcpHeader::new(self.src_port, self.dst_port, self.seq, self.window);
        header.acknowledgment_number = self.ack;
        header.fin = self.has(FIN);
        header.syn = self.has(SYN);
        header.rst = self.has(RST);
        header.psh = self.has(PSH);
        header.ack = self.has(ACK);
        let (elements, count) = option_elements(&self.options);
        header
            .set_options(&elements[..count])
            .expect("at most 20 bytes of options");
        header
    }
}

/// The most option elements Linux's layout uses (a SYN: mss, sackOK, TS, nop, wscale).
const MAX_OPTION_ELEMENTS: usize = 6;

/// Linux's option layout: SYN `mss, sackOK, TS, nop, wscale`; other segments `nop, nop, TS`.
/// The first `count` elements of the array are the options (kept on the stack: every
/// segment sent builds them).
fn option_elements(options: &TcpOptions) -> ([TcpOptionElement; MAX_OPTION_ELEMENTS], usize) {
    use TcpOptionElement::*;
    const NOOP: TcpOptionElement = Noop;
    let mut out = [NOOP; MAX_OPTION_ELEMENTS];
    let mut count = 0;
    let mut push = |element| {
        out[count] = element;
        count += 1;
    };
    if let Some(mss) = options.mss {
        push(MaximumSegmentSize(mss));
    }
    match (options.sack_permitted, options.timestamp) {
        (true, Some((val, ecr))) => {
            push(SelectiveAcknowledgementPermitted);
            push(Timestamp(val, ecr));
        }
        (true, None) => {
            push(Noop);
            push(Noop);
            push(SelectiveAcknowledgementPermitted);
        }
        (false, Some((val, ecr))) => {
            push(Noop);
            push(Noop);
            push(Timestamp(val, ecr));
        }
        (false, None) => {}
    }
    if let Some(shift) = options.window_scale {
        push(Noop);
        push(WindowScale(shift));
    }
    (out, count)
}

/// Parses a TCP segment (the IP payload) and verifies its checksum against the pseudo-header.
pub fn parse(l4: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<TcpSegment<'_>, &'static str> {
    let slice = TcpHeaderSlice::from_slice(l4).map_err(|_| "truncated TCP header")?;
    let sum = ipv4::pseudo_header_sum(src, dst, PROTO_TCP, l4.len());
    if ipv4::checksum_with(sum, l4) != 0 {
        return Err("bad TCP checksum");
    }
    let mut options = TcpOptions::default();
    walk_options(slice.options(), |kind, value, _| match (kind, value) {
        (2, &[a, b]) => options.mss = Some(u16::from_be_bytes([a, b])),
        (3, &[shift]) => options.window_scale = Some(shift),
        (4, []) => options.sack_permitted = true,
        (8, v) if v.len() == 8 => {
            let val = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
            let ecr = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
            options.timestamp = Some((val, ecr));
        }
        _ => {}
    });
    let raw = l4[13];
    Ok(TcpSegment {
        repr: TcpRepr {
            src_port: slice.source_port(),
            dst_port: slice.destination_port(),
            seq: slice.sequence_number(),
            ack: slice.acknowledgment_number(),
            flags: raw & 0x3f,
            window: slice.window_size(),
            options,
        },
        payload: &l4[slice.slice().len()..],
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
    let mut header = repr.to_header();
    let meta = Ipv4Meta {
        proto: PROTO_TCP,
        ..*meta
    };
    let tcp_len = header.header_len() + payload.len();
    let ip = ipv4::header(&meta, tcp_len);
    header.checksum = header
        .calc_checksum_ipv4(&ip, payload)
        .expect("segment fits in a datagram");
    let mut packet = Packet::zeroed(ipv4::IPV4_HEADER_LEN + tcp_len);
    let data = packet.data_mut();
    data[..ipv4::IPV4_HEADER_LEN].copy_from_slice(&ip.to_bytes());
    let header_bytes = header.to_bytes();
    let body = ipv4::IPV4_HEADER_LEN + header_bytes.len();
    data[ipv4::IPV4_HEADER_LEN..body].copy_from_slice(&header_bytes);
    data[body..].copy_from_slice(payload);
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
