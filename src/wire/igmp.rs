//! IGMPv3 membership reports (RFC 3376 §4.2, `net/ipv4/igmp.c igmpv3_newpack`): what a
//! host's kernel sends when a socket joins or leaves a multicast group — to 224.0.0.22, TTL
//! 1, TOS 0xc0, DF, with the Router Alert option.

use std::net::Ipv4Addr;

use super::ipv4::{self, Ipv4Meta, checksum};
use super::packet::Packet;

pub const PROTO_IGMP: u8 = 2;
/// All IGMPv3-capable multicast routers: where v3 reports go.
pub const ALL_V3_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 22);
const TYPE_V3_REPORT: u8 = 0x22;
/// Group record types: joining is a change to EXCLUDE {}, leaving a change to INCLUDE {}.
const CHANGE_TO_INCLUDE: u8 = 3;
const CHANGE_TO_EXCLUDE: u8 = 4;
/// IP option 148 (Router Alert), length 4, value 0.
const ROUTER_ALERT: [u8; 4] = [0x94, 0x04, 0x00, 0x00];

/// The report a join (`true`) or leave of `group` produces, sent from `src`.
pub fn state_change_report(src: Ipv4Addr, id: u16, group: Ipv4Addr, join: bool) -> Packet {
    let mut message = [0u8; 16];
    message[0] = TYPE_V3_REPORT;
    message[7] = 1;
    message[8] = if join {
        CHANGE_TO_EXCLUDE
    } else {
        CHANGE_TO_INCLUDE
    };
    message[12..16].copy_from_slice(&group.octets());
    let sum = checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    let meta = Ipv4Meta {
        src,
        dst: ALL_V3_ROUTERS,
        proto: PROTO_IGMP,
        ttl: 1,
        tos: 0xc0,
        id,
        dont_fragment: true,
    };
    // The option goes right after the fixed header: built as if it were payload, then the
    // header length says 24 bytes and the checksum is redone.
    let mut body = ROUTER_ALERT.to_vec();
    body.extend_from_slice(&message);
    let mut packet = ipv4::build(&meta, &body);
    let data = packet.data_mut();
    data[0] = 0x46;
    ipv4::refresh_checksum(data);
    packet
}

/// tcpdump's line for an IGMP message: `igmp v3 report, 1 group record(s)`.
pub fn summary(message: &[u8]) -> String {
    match message {
        [TYPE_V3_REPORT, _, _, _, _, _, hi, lo, ..] => {
            let records = u16::from_be_bytes([*hi, *lo]);
            format!("igmp v3 report, {records} group record(s)")
        }
        [kind, ..] => format!("igmp type 0x{kind:02x}"),
        [] => "igmp [truncated]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived.md §9: joining 224.0.0.18 sends an IGMPv3 report; the datagram carries the
    /// Router Alert option (IHL 6), TTL 1, DF, and a valid IGMP checksum.
    #[test]
    fn a_join_report_has_the_kernels_fields() {
        let group = Ipv4Addr::new(224, 0, 0, 18);
        let packet = state_change_report(Ipv4Addr::new(192, 168, 188, 108), 7, group, true);
        let data = packet.data();
        let info = ipv4::parse(data).unwrap();
        assert_eq!(
            (info.header_len, info.ttl, info.tos, info.proto),
            (24, 1, 0xc0, 2)
        );
        assert!(info.dont_fragment);
        assert_eq!(info.dst, ALL_V3_ROUTERS);
        let message = &data[24..];
        assert_eq!(checksum(message), 0);
        assert_eq!(
            (message[0], message[8], &message[12..16]),
            (0x22, 4, &[224, 0, 0, 18][..])
        );
        assert_eq!(summary(message), "igmp v3 report, 1 group record(s)");
        let leave = state_change_report(info.src, 8, group, false);
        assert_eq!(leave.data()[24 + 8], 3);
    }
}
