//! ICMP for IPv4: echo and the error messages a Linux host sends.

use std::net::Ipv4Addr;

use etherparse::icmpv4::{DestUnreachableHeader, RedirectCode, RedirectHeader, TimeExceededCode};
use etherparse::{IcmpEchoHeader, Icmpv4Header, Icmpv4Type};

use super::ipv4::{self, Ipv4Meta, PROTO_ICMP};
use super::packet::Packet;

pub const TYPE_ECHO_REPLY: u8 = 0;
pub const TYPE_DEST_UNREACH: u8 = 3;
pub const TYPE_REDIRECT: u8 = 5;
pub const TYPE_ECHO_REQUEST: u8 = 8;
pub const TYPE_TIME_EXCEEDED: u8 = 11;

pub const CODE_NET_UNREACH: u8 = 0;
pub const CODE_HOST_UNREACH: u8 = 1;
pub const CODE_PROTO_UNREACH: u8 = 2;
pub const CODE_PORT_UNREACH: u8 = 3;
pub const CODE_FRAG_NEEDED: u8 = 4;
pub const CODE_ADMIN_PROHIBITED: u8 = 13;

/// The ICMP messages lvsim sends or interprets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMessage {
    EchoRequest { id: u16, seq: u16 },
    EchoReply { id: u16, seq: u16 },
    DestUnreachable { code: u8, next_hop_mtu: u16 },
    TimeExceeded { code: u8 },
    Redirect { code: u8, gateway: Ipv4Addr },
    Other { icmp_type: u8, code: u8 },
}

impl IcmpMessage {
    /// Errors quote the offending datagram and must never be answered with another error.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            IcmpMessage::DestUnreachable { .. }
                | IcmpMessage::TimeExceeded { .. }
                | IcmpMessage::Redirect { .. }
        ) || matches!(
            self,
            IcmpMessage::Other {
                icmp_type: 4 | 12,
                ..
            }
        )
    }

    fn to_etherparse(self) -> Icmpv4Type {
        match self {
            IcmpMessage::EchoRequest { id, seq } => {
                Icmpv4Type::EchoRequest(IcmpEchoHeader { id, seq })
            }
            IcmpMessage::EchoReply { id, seq } => Icmpv4Type::EchoReply(IcmpEchoHeader { id, seq }),
            IcmpMessage::DestUnreachable { code, next_hop_mtu } => {
                let header = if code == CODE_FRAG_NEEDED {
                    DestUnreachableHeader::FragmentationNeeded { next_hop_mtu }
                } else {
                    DestUnreachableHeader::from_values(code, 0)
                        .unwrap_or(DestUnreachableHeader::Host)
                };
                Icmpv4Type::DestinationUnreachable(header)
            }
            IcmpMessage::TimeExceeded { code } => Icmpv4Type::TimeExceeded(
                TimeExceededCode::from_u8(code).unwrap_or(TimeExceededCode::TtlExceededInTransit),
            ),
            IcmpMessage::Redirect { code, gateway } => Icmpv4Type::Redirect(RedirectHeader {
                code: RedirectCode::from_u8(code).unwrap_or(RedirectCode::RedirectForHost),
                gateway_internet_address: gateway.octets(),
            }),
            IcmpMessage::Other { icmp_type, code } => Icmpv4Type::Unknown {
                type_u8: icmp_type,
                code_u8: code,
                bytes5to8: [0; 4],
            },
        }
    }

    fn from_bytes(bytes: &[u8]) -> IcmpMessage {
        let (icmp_type, code) = (bytes[0], bytes[1]);
        let id = u16::from_be_bytes([bytes[4], bytes[5]]);
        let seq = u16::from_be_bytes([bytes[6], bytes[7]]);
        match icmp_type {
            TYPE_ECHO_REQUEST => IcmpMessage::EchoRequest { id, seq },
            TYPE_ECHO_REPLY => IcmpMessage::EchoReply { id, seq },
            TYPE_DEST_UNREACH => IcmpMessage::DestUnreachable {
                code,
                next_hop_mtu: seq,
            },
            TYPE_TIME_EXCEEDED => IcmpMessage::TimeExceeded { code },
            TYPE_REDIRECT => IcmpMessage::Redirect {
                code,
                gateway: Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]),
            },
            _ => IcmpMessage::Other { icmp_type, code },
        }
    }
}

/// Parses an ICMP message (the IP payload) and checks its checksum. Returns the message and
/// what follows the 8-byte header (echo data, or the quoted datagram of an error).
pub fn parse(l4: &[u8]) -> Result<(IcmpMessage, &[u8]), &'static str> {
    if l4.len() < 8 {
        return Err("truncated ICMP header");
    }
    if ipv4::checksum(l4) != 0 {
        return Err("bad ICMP checksum");
    }
    Ok((IcmpMessage::from_bytes(l4), &l4[8..]))
}

/// Builds a complete IPv4 datagram carrying `message` and `payload`.
pub fn build(meta: &Ipv4Meta, message: IcmpMessage, payload: &[u8]) -> Packet {
    let header = Icmpv4Header::with_checksum(message.to_etherparse(), payload);
    let bytes = header.to_bytes();
    let meta = Ipv4Meta {
        proto: PROTO_ICMP,
        ..*meta
    };
    let mut packet = Packet::zeroed(ipv4::IPV4_HEADER_LEN + bytes.len() + payload.len());
    let data = packet.data_mut();
    data[..ipv4::IPV4_HEADER_LEN]
        .copy_from_slice(&ipv4::header(&meta, bytes.len() + payload.len()));
    data[ipv4::IPV4_HEADER_LEN..ipv4::IPV4_HEADER_LEN + bytes.len()].copy_from_slice(&bytes);
    data[ipv4::IPV4_HEADER_LEN + bytes.len()..].copy_from_slice(payload);
    packet
}

/// Turns an echo request datagram (20-byte IP header) into its reply in place: addresses,
/// TTL, ID and type change, both checksums are recomputed, the data is kept as is.
pub fn echo_request_to_reply(datagram: &mut [u8], meta: &Ipv4Meta) {
    datagram[1] = meta.tos;
    datagram[4..6].copy_from_slice(&meta.id.to_be_bytes());
    datagram[6..8].copy_from_slice(&(if meta.dont_fragment { 0x4000u16 } else { 0 }).to_be_bytes());
    datagram[8] = meta.ttl;
    datagram[12..16].copy_from_slice(&meta.src.octets());
    datagram[16..20].copy_from_slice(&meta.dst.octets());
    ipv4::refresh_checksum(datagram);
    let l4 = &mut datagram[ipv4::IPV4_HEADER_LEN..];
    l4[0] = TYPE_ECHO_REPLY;
    l4[1] = 0;
    l4[2] = 0;
    l4[3] = 0;
    let sum = ipv4::checksum(l4);
    l4[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// What an ICMP error quotes of the offending datagram: its header and up to 8 bytes of
/// payload, the minimum RFC 792 asks for (Linux quotes more, up to 576 bytes in total).
pub fn quote(datagram: &[u8], header_len: usize) -> &[u8] {
    let max = 576 - 20 - 8;
    &datagram[..datagram.len().min(max).max(header_len.min(datagram.len()))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Ipv4Meta {
        Ipv4Meta {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: PROTO_ICMP,
            ttl: 64,
            tos: 0,
            id: 1,
            dont_fragment: true,
        }
    }

    #[test]
    fn echo_request_round_trips_with_valid_checksum() {
        let msg = IcmpMessage::EchoRequest { id: 7, seq: 3 };
        let packet = build(&meta(), msg, b"abcdefgh");
        let info = ipv4::parse(packet.data()).unwrap();
        assert_eq!(info.proto, PROTO_ICMP);
        let (parsed, payload) = parse(&packet.data()[20..]).unwrap();
        assert_eq!(parsed, msg);
        assert_eq!(payload, b"abcdefgh");
    }

    #[test]
    fn errors_round_trip() {
        for msg in [
            IcmpMessage::DestUnreachable {
                code: CODE_PORT_UNREACH,
                next_hop_mtu: 0,
            },
            IcmpMessage::DestUnreachable {
                code: CODE_FRAG_NEEDED,
                next_hop_mtu: 1480,
            },
            IcmpMessage::TimeExceeded { code: 0 },
            IcmpMessage::Redirect {
                code: 1,
                gateway: "10.0.0.254".parse().unwrap(),
            },
        ] {
            let packet = build(&meta(), msg, &[0x45; 28]);
            let (parsed, _) = parse(&packet.data()[20..]).unwrap();
            assert_eq!(parsed, msg);
            assert!(parsed.is_error());
        }
    }

    #[test]
    fn an_echo_request_turns_into_its_reply_in_place() {
        let request = build(
            &meta(),
            IcmpMessage::EchoRequest { id: 9, seq: 4 },
            b"payload!",
        );
        let mut bytes = request.data().to_vec();
        let reply_meta = Ipv4Meta {
            src: meta().dst,
            dst: meta().src,
            id: 77,
            ttl: 64,
            ..meta()
        };
        echo_request_to_reply(&mut bytes, &reply_meta);
        let expected = build(
            &Ipv4Meta {
                dont_fragment: true,
                ..reply_meta
            },
            IcmpMessage::EchoReply { id: 9, seq: 4 },
            b"payload!",
        );
        assert_eq!(bytes, expected.data());
    }

    #[test]
    fn corrupted_message_fails_the_checksum() {
        let packet = build(&meta(), IcmpMessage::EchoReply { id: 1, seq: 1 }, &[1, 2]);
        let mut l4 = packet.data()[20..].to_vec();
        l4[9] ^= 0xff;
        assert!(parse(&l4).is_err());
    }
}
