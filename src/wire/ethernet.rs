//! Ethernet II framing.

use etherparse::{EtherType, Ethernet2Header, Ethernet2HeaderSlice};

use super::mac::MacAddr;
use super::packet::Packet;

pub const ETH_HEADER_LEN: usize = 14;
/// Minimum frame length on the wire without FCS; shorter frames are padded by the NIC.
pub const ETH_MIN_FRAME_LEN: usize = 60;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// The parsed Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthHeader {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub ethertype: u16,
}

impl EthHeader {
    pub fn parse(frame: &[u8]) -> Option<EthHeader> {
        let slice = Ethernet2HeaderSlice::from_slice(frame).ok()?;
        Some(EthHeader {
            dst: MacAddr(slice.destination()),
            src: MacAddr(slice.source()),
            ethertype: slice.ether_type().0,
        })
    }

    /// Prepends this header to `packet`, turning a datagram into a frame.
    pub fn prepend_to(&self, packet: &mut Packet) {
        let header = Ethernet2Header {
            source: self.src.octets(),
            destination: self.dst.octets(),
            ether_type: EtherType(self.ethertype),
        };
        packet
            .push_front(ETH_HEADER_LEN)
            .copy_from_slice(&header.to_bytes());
    }
}

/// Rewrites the MAC addresses of a frame in place (forwarding, DR).
pub fn set_macs(frame: &mut [u8], src: MacAddr, dst: MacAddr) {
    frame[0..6].copy_from_slice(&dst.0);
    frame[6..12].copy_from_slice(&src.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_then_parse_round_trips() {
        let header = EthHeader {
            dst: MacAddr::BROADCAST,
            src: "00:0c:29:f3:1f:de".parse().unwrap(),
            ethertype: ETHERTYPE_ARP,
        };
        let mut packet = Packet::zeroed(28);
        header.prepend_to(&mut packet);
        assert_eq!(&packet.data()[..6], &[0xff; 6]);
        assert_eq!(&packet.data()[12..14], &[0x08, 0x06]);
        assert_eq!(EthHeader::parse(packet.data()), Some(header));
    }

    #[test]
    fn short_input_is_not_a_frame() {
        assert_eq!(EthHeader::parse(&[0u8; 10]), None);
    }
}
