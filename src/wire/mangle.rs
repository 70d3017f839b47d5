//! In-place rewrites of IPv4 datagrams as IPVS performs them (ip_vs_proto_tcp.c,
//! ip_vs_proto_udp.c, ip_vs_xmit.c): addresses and ports with incremental checksum updates
//! (RFC 1624), sequence numbers, FULLNAT's TCP option edits, and IPIP/GRE/GUE encapsulation.

use std::net::Ipv4Addr;

use super::gre;
use super::gue;
use super::ipv4::{self, Ipv4Meta, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use super::packet::Packet;
use super::tcp;
use super::udp::UDP_HEADER_LEN;

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-bit word changing from `old` to `new`.
pub fn csum_replace2(check: u16, old: u16, new: u16) -> u16 {
    let sum = (!check as u32) + (!old as u32) + new as u32;
    !fold(sum)
}

/// The same for a 32-bit field (an address).
pub fn csum_replace4(check: u16, old: u32, new: u32) -> u16 {
    let check = csum_replace2(check, (old >> 16) as u16, (new >> 16) as u16);
    csum_replace2(check, old as u16, new as u16)
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn read16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

fn write16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

fn read32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

fn write32(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn header_len(data: &[u8]) -> usize {
    ((data[0] & 0x0f) as usize) * 4
}

/// Offset of the transport checksum for TCP (16) or UDP (6), None for other protocols.
fn l4_check_offset(proto: u8) -> Option<usize> {
    match proto {
        PROTO_TCP => Some(16),
        PROTO_UDP => Some(6),
        _ => None,
    }
}

/// Which end of the datagram a rewrite changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Source,
    Destination,
}

/// Rewrites one end's address and port of a TCP or UDP datagram (`tcp_dnat_handler`,
/// `tcp_snat_handler`, and the UDP ones): the IP header checksum is recomputed, the transport
/// checksum updated incrementally for the pseudo-header address and the port; a UDP checksum
/// of 0 (none) is computed in full, and a result of 0 is sent as 0xffff.
pub fn rewrite_end(data: &mut [u8], end: End, addr: Ipv4Addr, port: u16) {
    let hl = header_len(data);
    let proto = data[9];
    let (addr_at, port_at) = match end {
        End::Source => (12, hl),
        End::Destination => (16, hl + 2),
    };
    let old_addr = read32(data, addr_at);
    write32(data, addr_at, u32::from(addr));
    ipv4::refresh_checksum(data);
    let Some(check_at) = l4_check_offset(proto).map(|o| hl + o) else {
        return;
    };
    let old_port = read16(data, port_at);
    write16(data, port_at, port);
    let old_check = read16(data, check_at);
    if proto == PROTO_UDP && old_check == 0 {
        refresh_l4_checksum(data);
        return;
    }
    let check = csum_replace4(old_check, old_addr, u32::from(addr));
    let mut check = csum_replace2(check, old_port, port);
    if proto == PROTO_UDP && check == 0 {
        check = 0xffff;
    }
    write16(data, check_at, check);
}

/// The datagram an ICMP error quotes: (offset of its IP header in `data`, its protocol), when
/// `data` is an IPv4 ICMP error with at least the quoted header and 4 bytes of ports.
pub fn icmp_quote(data: &[u8]) -> Option<(usize, u8)> {
    let hl = header_len(data);
    let at = hl + 8;
    let quoted = data.get(at..)?;
    if quoted.len() < 20 || quoted[0] >> 4 != 4 {
        return None;
    }
    let qhl = ((quoted[0] & 0x0f) as usize) * 4;
    (quoted.len() >= qhl + 4).then_some((at, quoted[9]))
}

/// `ip_vs_nat_icmp`: rewrites one end of the datagram an ICMP error quotes (address and
/// port), recomputes its IP header checksum and the ICMP checksum; the quoted transport
/// checksum is left as it was, as the kernel leaves it.
pub fn rewrite_icmp_quote(data: &mut [u8], end: End, addr: Ipv4Addr, port: u16) {
    let Some((at, _)) = icmp_quote(data) else {
        return;
    };
    let quoted = &mut data[at..];
    let qhl = ((quoted[0] & 0x0f) as usize) * 4;
    let (addr_at, port_at) = match end {
        End::Source => (12, qhl),
        End::Destination => (16, qhl + 2),
    };
    write32(quoted, addr_at, u32::from(addr));
    write16(quoted, port_at, port);
    quoted[10] = 0;
    quoted[11] = 0;
    let sum = ipv4::checksum(&quoted[..qhl]);
    write16(quoted, 10, sum);
    refresh_icmp_checksum(data);
}

/// Recomputes the ICMP checksum over the whole message.
pub fn refresh_icmp_checksum(data: &mut [u8]) {
    let hl = header_len(data);
    let total = (read16(data, 2) as usize).min(data.len());
    let icmp = &mut data[hl..total];
    icmp[2] = 0;
    icmp[3] = 0;
    let sum = ipv4::checksum(icmp);
    write16(icmp, 2, sum);
}

/// Rewrites the outer IPv4 source or destination address (header checksum recomputed).
pub fn rewrite_ip_end(data: &mut [u8], end: End, addr: Ipv4Addr) {
    let at = match end {
        End::Source => 12,
        End::Destination => 16,
    };
    write32(data, at, u32::from(addr));
    ipv4::refresh_checksum(data);
}

/// Recomputes the TCP or UDP checksum over the pseudo-header and the whole segment.
pub fn refresh_l4_checksum(data: &mut [u8]) {
    let hl = header_len(data);
    let proto = data[9];
    let Some(check_at) = l4_check_offset(proto) else {
        return;
    };
    let total = read16(data, 2) as usize;
    let src = Ipv4Addr::from(read32(data, 12));
    let dst = Ipv4Addr::from(read32(data, 16));
    let l4 = &mut data[hl..total];
    l4[check_at] = 0;
    l4[check_at + 1] = 0;
    let sum = ipv4::pseudo_header_sum(src, dst, proto, l4.len());
    let mut check = ipv4::checksum_with(sum, l4);
    if proto == PROTO_UDP && check == 0 {
        check = 0xffff;
    }
    write16(l4, check_at, check);
}

/// Adds `delta` to the TCP sequence number (FULLNAT, client → server).
pub fn tcp_shift_seq(data: &mut [u8], delta: u32) {
    shift_word(data, 4, delta);
}

/// Subtracts `delta` from the TCP acknowledgement number (FULLNAT, server → client).
pub fn tcp_unshift_ack(data: &mut [u8], delta: u32) {
    shift_word(data, 8, delta.wrapping_neg());
}

fn shift_word(data: &mut [u8], offset: usize, delta: u32) {
    let hl = header_len(data);
    let at = hl + offset;
    let old = read32(data, at);
    let new = old.wrapping_add(delta);
    write32(data, at, new);
    let check_at = hl + 16;
    let check = csum_replace4(read16(data, check_at), old, new);
    write16(data, check_at, check);
}

/// The TCP options area of a datagram: (start, end) byte offsets.
fn tcp_options(data: &[u8]) -> (usize, usize) {
    let hl = header_len(data);
    let doff = ((data[hl + 12] >> 4) as usize) * 4;
    (hl + 20, hl + doff.max(20))
}

/// Walks the TCP options of a datagram, calling `f(kind, offset of the option in data)`.
fn each_option(data: &[u8], mut f: impl FnMut(u8, usize)) {
    let (start, end) = tcp_options(data);
    tcp::walk_options(&data[start..end], |kind, _, at| f(kind, start + at));
}

/// FULLNAT's `tcp_opt_remove_timestamp`: the timestamp option becomes 10 NOPs.
/// Returns whether one was there. The checksum needs a refresh afterwards.
pub fn tcp_remove_timestamp(data: &mut [u8]) -> bool {
    let mut found = None;
    each_option(data, |kind, at| {
        if kind == 8 && found.is_none() {
            found = Some(at);
        }
    });
    if let Some(at) = found {
        data[at..at + 10].fill(1);
    }
    found.is_some()
}

/// FULLNAT's `tcp_opt_adjust_mss`: lowers the MSS option by `by` (room for the TOA option).
pub fn tcp_lower_mss(data: &mut [u8], by: u16) -> Option<(u16, u16)> {
    let mut found = None;
    each_option(data, |kind, at| {
        if kind == 2 && found.is_none() {
            found = Some(at);
        }
    });
    let at = found?;
    let old = read16(data, at + 2);
    let new = old.saturating_sub(by);
    write16(data, at + 2, new);
    Some((old, new))
}

/// FULLNAT: every SACK block edge moves back by `delta` (server → client).
pub fn tcp_unshift_sack(data: &mut [u8], delta: u32) {
    let mut blocks = Vec::new();
    each_option(data, |kind, at| {
        if kind == 5 {
            blocks.push(at);
        }
    });
    for at in blocks {
        let len = data[at + 1] as usize;
        for edge in (at + 2..at + len).step_by(4) {
            let value = read32(data, edge).wrapping_sub(delta);
            write32(data, edge, value);
        }
    }
}

/// The TOA option (alibaba/LVS `TCPOPT_ADDR` 254, length 8): client port then address.
pub const TOA_KIND: u8 = 254;
pub const TOA_LEN: usize = 8;

/// FULLNAT's `tcp_opt_add_toa`: inserts the client's address right after the 20-byte TCP
/// base header (shifting existing options), data offset +2, IP total length +8. Refused when
/// fewer than 8 bytes of option space remain. The caller refreshes the checksums.
pub fn tcp_insert_toa(packet: &mut Packet, client: Ipv4Addr, port: u16) -> bool {
    let data = packet.data();
    let hl = header_len(data);
    let doff = (data[hl + 12] >> 4) as usize;
    if doff * 4 + TOA_LEN > 60 {
        return false;
    }
    let mut toa = [0u8; TOA_LEN];
    toa[0] = TOA_KIND;
    toa[1] = TOA_LEN as u8;
    toa[2..4].copy_from_slice(&port.to_be_bytes());
    toa[4..8].copy_from_slice(&client.octets());
    packet.insert(hl + 20, &toa);
    let data = packet.data_mut();
    data[hl + 12] = (((doff + 2) as u8) << 4) | (data[hl + 12] & 0x0f);
    let total = read16(data, 2) + TOA_LEN as u16;
    write16(data, 2, total);
    ipv4::refresh_checksum(data);
    true
}

/// IPIP encapsulation (`ip_vs_tunnel_xmit`): an outer IPv4 header in front of the datagram.
/// GRE and GUE put their own header in between first.
pub fn encapsulate_ipip(packet: &mut Packet, outer: &Ipv4Meta) {
    let header = ipv4::header(outer, packet.len());
    packet.push_front(header.len()).copy_from_slice(&header);
}

/// GRE (RFC 2784), as IPVS's `ipvs_gre_encap` builds it: no key, no sequence number; with a
/// checksum (C bit) over the GRE header and payload when `csum`.
pub fn encapsulate_gre(packet: &mut Packet, outer: &Ipv4Meta, csum: bool) {
    let flags = if csum { gre::FLAG_CSUM } else { 0 };
    let head = packet.push_front(if csum { 8 } else { 4 });
    head.fill(0);
    head[0..2].copy_from_slice(&flags.to_be_bytes());
    head[2..4].copy_from_slice(&gre::PROTO_IPV4.to_be_bytes());
    if csum {
        let sum = ipv4::checksum(packet.data());
        packet.data_mut()[4..6].copy_from_slice(&sum.to_be_bytes());
    }
    encapsulate_ipip(packet, outer);
}

/// GUE (draft-ietf-intarea-gue, `ipvs_gue_encap`): UDP to `dport`, a 4-byte GUE header
/// (version 0, no options, protocol 4 = IPIP); the UDP checksum is 0 unless `csum`.
pub fn encapsulate_gue(packet: &mut Packet, outer: &Ipv4Meta, ports: (u16, u16), csum: bool) {
    let udp_len = UDP_HEADER_LEN + gue::HEADER_LEN + packet.len();
    let head = packet.push_front(UDP_HEADER_LEN + gue::HEADER_LEN);
    head.fill(0);
    head[0..2].copy_from_slice(&ports.0.to_be_bytes());
    head[2..4].copy_from_slice(&ports.1.to_be_bytes());
    head[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    head[UDP_HEADER_LEN + 1] = PROTO_IPIP;
    if csum {
        let sum = ipv4::pseudo_header_sum(outer.src, outer.dst, PROTO_UDP, udp_len);
        let mut check = ipv4::checksum_with(sum, packet.data());
        if check == 0 {
            check = 0xffff;
        }
        packet.data_mut()[6..8].copy_from_slice(&check.to_be_bytes());
    }
    encapsulate_ipip(packet, outer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tcp::{ACK, SYN, TcpOptions, TcpRepr};
    use crate::wire::udp;

    fn meta(src: [u8; 4], dst: [u8; 4]) -> Ipv4Meta {
        Ipv4Meta {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            proto: PROTO_TCP,
            ttl: 64,
            tos: 0,
            id: 7,
            dont_fragment: true,
        }
    }

    fn syn() -> Packet {
        let repr = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1000,
            ack: 0,
            flags: SYN,
            window: 64240,
            options: TcpOptions {
                mss: Some(1460),
                sack_permitted: true,
                timestamp: Some((11, 0)),
                window_scale: Some(7),
            },
        };
        tcp::build(&meta([10, 0, 0, 1], [10, 0, 0, 100]), &repr, b"")
    }

    fn tcp_valid(data: &[u8]) -> bool {
        let hl = header_len(data);
        let src = Ipv4Addr::from(read32(data, 12));
        let dst = Ipv4Addr::from(read32(data, 16));
        ipv4::checksum(&data[..hl]) == 0 && tcp::parse(&data[hl..], src, dst).is_ok()
    }

    #[test]
    fn incremental_update_equals_a_full_recompute() {
        let mut packet = syn();
        rewrite_end(
            packet.data_mut(),
            End::Destination,
            Ipv4Addr::new(192, 168, 1, 7),
            8000,
        );
        assert!(tcp_valid(packet.data()));
        let incremental = packet.data().to_vec();
        refresh_l4_checksum(packet.data_mut());
        assert_eq!(packet.data(), &incremental[..]);
    }

    #[test]
    fn udp_without_checksum_gets_a_full_one() {
        let m = Ipv4Meta {
            proto: PROTO_UDP,
            ..meta([10, 0, 0, 1], [10, 0, 0, 100])
        };
        let mut packet = udp::build(&m, 5353, 53, b"query");
        let data = packet.data_mut();
        data[26] = 0;
        data[27] = 0;
        rewrite_end(data, End::Destination, Ipv4Addr::new(10, 0, 0, 9), 53);
        assert_ne!(read16(packet.data(), 26), 0);
        assert!(udp::parse(&packet.data()[20..], m.src, Ipv4Addr::new(10, 0, 0, 9)).is_ok());
    }

    #[test]
    fn seq_and_ack_shifts_keep_the_checksum_right() {
        let mut packet = syn();
        tcp_shift_seq(packet.data_mut(), 0x8000_0001);
        assert_eq!(read32(packet.data(), 24), 1000u32.wrapping_add(0x8000_0001));
        assert!(tcp_valid(packet.data()));
        tcp_unshift_ack(packet.data_mut(), 5);
        assert_eq!(read32(packet.data(), 28), 0u32.wrapping_sub(5));
        assert!(tcp_valid(packet.data()));
    }

    /// forwarding.md §8: TOA kind 254, length 8, port then address, right after the base
    /// header; doff +2, total length +8; timestamps become NOPs on the SYN.
    #[test]
    fn toa_goes_right_after_the_base_header() {
        let mut packet = syn();
        assert!(tcp_remove_timestamp(packet.data_mut()));
        let before_options = tcp_options(packet.data());
        assert!(tcp_insert_toa(
            &mut packet,
            Ipv4Addr::new(172, 16, 0, 9),
            40000
        ));
        refresh_l4_checksum(packet.data_mut());
        let data = packet.data();
        assert_eq!(&data[40..48], &[254, 8, 0x9c, 0x40, 172, 16, 0, 9]);
        assert_eq!(tcp_options(data).1, before_options.1 + 8);
        assert_eq!(read16(data, 2) as usize, data.len());
        assert!(tcp_valid(data));
        let parsed = tcp::parse(
            &data[20..],
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 100),
        )
        .unwrap();
        assert_eq!(parsed.repr.options.timestamp, None);
        assert_eq!(parsed.repr.options.mss, Some(1460));
    }

    #[test]
    fn toa_is_refused_without_option_space() {
        let mut packet = syn();
        let data = packet.data_mut();
        data[32] = 0xf0 | (data[32] & 0x0f); // doff 15: pretend the options are full
        assert!(!tcp_insert_toa(&mut packet, Ipv4Addr::LOCALHOST, 1));
    }

    #[test]
    fn mss_and_sack_adjustments() {
        let mut packet = syn();
        assert_eq!(tcp_lower_mss(packet.data_mut(), 8), Some((1460, 1452)));
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: 1,
            ack: 2,
            flags: ACK,
            window: 100,
            options: TcpOptions::default(),
        };
        let mut packet = tcp::build(&meta([10, 0, 0, 7], [10, 0, 0, 1]), &repr, b"");
        // Append a SACK block by hand: kind 5, len 10, edges 100..200, in the options area.
        let sack = [1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200];
        packet.insert(40, &sack);
        let data = packet.data_mut();
        data[32] = (8 << 4) | (data[32] & 0x0f);
        write16(data, 2, 52);
        tcp_unshift_sack(data, 50);
        assert_eq!(read32(data, 44), 50);
        assert_eq!(read32(data, 48), 150);
    }

    /// forwarding.md §6: GRE header 4 bytes (8 with the checksum), protocol 0x0800.
    #[test]
    fn gre_with_and_without_checksum() {
        for (csum, len) in [(false, 4), (true, 8)] {
            let mut packet = syn();
            let inner = packet.data().to_vec();
            let outer = Ipv4Meta {
                proto: 47,
                ..meta([192, 168, 1, 1], [192, 168, 1, 7])
            };
            encapsulate_gre(&mut packet, &outer, csum);
            let data = packet.data();
            assert_eq!(ipv4::parse(data).unwrap().total_len, inner.len() + 20 + len);
            assert_eq!(&data[22..24], &[0x08, 0x00]);
            assert_eq!(data[20] & 0x80 != 0, csum);
            if csum {
                assert_eq!(ipv4::checksum(&data[20..]), 0, "the GRE checksum verifies");
            }
            assert_eq!(&data[20 + len..], &inner[..]);
        }
    }

    /// forwarding.md §6: GUE = UDP to the tunnel port + 4 bytes (proto_ctype 4); checksum 0
    /// without --tun-csum, a real one with it.
    #[test]
    fn gue_header_and_optional_checksum() {
        for csum in [false, true] {
            let mut packet = syn();
            let outer = Ipv4Meta {
                proto: PROTO_UDP,
                ..meta([192, 168, 1, 1], [192, 168, 1, 7])
            };
            encapsulate_gue(&mut packet, &outer, (40000, 6080), csum);
            let data = packet.data();
            assert_eq!(read16(data, 22), 6080);
            assert_eq!(data[29], 4, "proto_ctype IPIP");
            let check = read16(data, 26);
            assert_eq!(check != 0, csum);
            assert!(crate::wire::udp::parse(&data[20..], outer.src, outer.dst).is_ok());
        }
    }

    #[test]
    fn ipip_puts_an_outer_header_in_front() {
        let mut packet = syn();
        let inner = packet.data().to_vec();
        let outer = Ipv4Meta {
            proto: ipv4::PROTO_IPIP,
            ..meta([192, 168, 1, 1], [192, 168, 1, 7])
        };
        encapsulate_ipip(&mut packet, &outer);
        let info = ipv4::parse(packet.data()).unwrap();
        assert_eq!(info.proto, ipv4::PROTO_IPIP);
        assert_eq!(info.total_len, inner.len() + 20);
        assert_eq!(&packet.data()[20..], &inner[..]);
    }
}
