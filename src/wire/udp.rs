//! UDP datagrams.

use std::net::Ipv4Addr;

use super::ipv4::{self, Ipv4Meta, PROTO_UDP};
use super::packet::Packet;

pub const UDP_HEADER_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

/// Parses a UDP datagram; a zero checksum means "not computed" and is accepted (RFC 768).
pub fn parse(l4: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<UdpDatagram<'_>, &'static str> {
    if l4.len() < UDP_HEADER_LEN {
        return Err("truncated UDP header");
    }
    let len = u16::from_be_bytes([l4[4], l4[5]]) as usize;
    if len < UDP_HEADER_LEN || len > l4.len() {
        return Err("bad UDP length");
    }
    let wire_sum = u16::from_be_bytes([l4[6], l4[7]]);
    if wire_sum != 0 {
        let sum = ipv4::pseudo_header_sum(src, dst, PROTO_UDP, len);
        if ipv4::checksum_with(sum, &l4[..len]) != 0 {
            return Err("bad UDP checksum");
        }
    }
    Ok(UdpDatagram {
        src_port: u16::from_be_bytes([l4[0], l4[1]]),
        dst_port: u16::from_be_bytes([l4[2], l4[3]]),
        payload: &l4[UDP_HEADER_LEN..len],
    })
}

/// Builds an IPv4 datagram carrying UDP with a computed checksum (0 is sent as 0xffff).
pub fn build(meta: &Ipv4Meta, src_port: u16, dst_port: u16, payload: &[u8]) -> Packet {
    let meta = Ipv4Meta {
        proto: PROTO_UDP,
        ..*meta
    };
    let len = UDP_HEADER_LEN + payload.len();
    let mut packet = Packet::zeroed(ipv4::IPV4_HEADER_LEN + len);
    let data = packet.data_mut();
    data[..ipv4::IPV4_HEADER_LEN].copy_from_slice(&ipv4::header(&meta, len));
    let l4 = &mut data[ipv4::IPV4_HEADER_LEN..];
    l4[0..2].copy_from_slice(&src_port.to_be_bytes());
    l4[2..4].copy_from_slice(&dst_port.to_be_bytes());
    l4[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    l4[8..].copy_from_slice(payload);
    let sum = ipv4::pseudo_header_sum(meta.src, meta.dst, PROTO_UDP, len);
    let mut check = ipv4::checksum_with(sum, l4);
    if check == 0 {
        check = 0xffff;
    }
    l4[6..8].copy_from_slice(&check.to_be_bytes());
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_checksum() {
        let meta = Ipv4Meta {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: PROTO_UDP,
            ttl: 64,
            tos: 0,
            id: 9,
            dont_fragment: false,
        };
        let packet = build(&meta, 5353, 53, b"hello");
        let dgram = parse(&packet.data()[20..], meta.src, meta.dst).unwrap();
        assert_eq!(
            (dgram.src_port, dgram.dst_port, dgram.payload),
            (5353, 53, &b"hello"[..])
        );
        let mut broken = packet.data()[20..].to_vec();
        broken[9] ^= 1;
        assert!(parse(&broken, meta.src, meta.dst).is_err());
    }
}
