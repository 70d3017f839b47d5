//! ARP for IPv4 over Ethernet (RFC 826).

use std::fmt;
use std::net::Ipv4Addr;

use etherparse::{ArpEthIpv4Packet, ArpOperation, ArpPacket, ArpPacketSlice};

use super::ethernet::{ETHERTYPE_ARP, EthHeader};
use super::mac::MacAddr;
use super::packet::Packet;

pub const ARP_LEN: usize = 28;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;

/// An ARP message with Ethernet hardware and IPv4 protocol addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub op: u16,
    pub sha: MacAddr,
    pub spa: Ipv4Addr,
    pub tha: MacAddr,
    pub tpa: Ipv4Addr,
}

impl ArpRepr {
    pub fn request(sha: MacAddr, spa: Ipv4Addr, tpa: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            op: OP_REQUEST,
            sha,
            spa,
            tha: MacAddr::ZERO,
            tpa,
        }
    }

    pub fn is_request(&self) -> bool {
        self.op == OP_REQUEST
    }

    pub fn is_reply(&self) -> bool {
        self.op == OP_REPLY
    }

    /// Parses the ARP payload of an Ethernet frame. Only Ethernet/IPv4 ARP is understood.
    pub fn parse(payload: &[u8]) -> Result<ArpRepr, &'static str> {
        let slice = ArpPacketSlice::from_slice(payload).map_err(|_| "truncated ARP packet")?;
        let packet = slice
            .to_packet()
            .try_eth_ipv4()
            .map_err(|_| "ARP for another hardware or protocol type")?;
        Ok(ArpRepr {
            op: packet.operation.0,
            sha: MacAddr(packet.sender_mac),
            spa: Ipv4Addr::from(packet.sender_ipv4),
            tha: MacAddr(packet.target_mac),
            tpa: Ipv4Addr::from(packet.target_ipv4),
        })
    }

    /// Builds the complete Ethernet frame carrying this message (42 bytes, unpadded).
    pub fn to_frame(&self, eth_src: MacAddr, eth_dst: MacAddr) -> Packet {
        let arp: ArpPacket = ArpEthIpv4Packet {
            operation: ArpOperation(self.op),
            sender_mac: self.sha.octets(),
            sender_ipv4: self.spa.octets(),
            target_mac: self.tha.octets(),
            target_ipv4: self.tpa.octets(),
        }
        .into();
        let mut packet = Packet::zeroed(ARP_LEN);
        packet.data_mut().copy_from_slice(&arp.to_bytes());
        EthHeader {
            dst: eth_dst,
            src: eth_src,
            ethertype: ETHERTYPE_ARP,
        }
        .prepend_to(&mut packet);
        packet
    }
}

/// tcpdump's wording: `Request who-has 10.0.0.2 tell 10.0.0.1` / `Reply 10.0.0.2 is-at …`.
impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            OP_REQUEST if self.tha == MacAddr::ZERO || self.tha.is_broadcast() => {
                write!(f, "Request who-has {} tell {}", self.tpa, self.spa)
            }
            OP_REQUEST => write!(
                f,
                "Request who-has {} ({}) tell {}",
                self.tpa, self.tha, self.spa
            ),
            OP_REPLY => write!(f, "Reply {} is-at {}", self.spa, self.sha),
            op => write!(f, "ARP op {op} {} > {}", self.spa, self.tpa),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> MacAddr {
        "00:0c:29:f3:1f:de".parse().unwrap()
    }

    #[test]
    fn request_frame_has_the_rfc826_layout() {
        let repr = ArpRepr::request(
            client(),
            "192.168.188.111".parse().unwrap(),
            "192.168.188.120".parse().unwrap(),
        );
        let frame = repr.to_frame(client(), MacAddr::BROADCAST);
        let bytes = frame.data();
        assert_eq!(bytes.len(), 42);
        // htype 1, ptype 0x0800, hlen 6, plen 4, op 1
        assert_eq!(&bytes[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&bytes[28..32], &[192, 168, 188, 111]);
        assert_eq!(&bytes[38..42], &[192, 168, 188, 120]);
        assert_eq!(ArpRepr::parse(&bytes[14..]), Ok(repr));
    }

    #[test]
    fn displays_like_tcpdump() {
        let mut repr = ArpRepr::request(
            client(),
            "192.168.188.111".parse().unwrap(),
            "192.168.188.120".parse().unwrap(),
        );
        assert_eq!(
            repr.to_string(),
            "Request who-has 192.168.188.120 tell 192.168.188.111"
        );
        repr.op = OP_REPLY;
        assert_eq!(
            repr.to_string(),
            "Reply 192.168.188.111 is-at 00:0c:29:f3:1f:de"
        );
    }

    #[test]
    fn truncated_payload_is_an_error() {
        assert!(ArpRepr::parse(&[0, 1, 8, 0]).is_err());
    }
}
