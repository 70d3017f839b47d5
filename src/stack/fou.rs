//! Foo-over-UDP receive ports (`ip fou add port N gue|ipproto P`, net/ipv4/fou_core.c): a
//! UDP datagram to such a port loses its UDP header (and, for GUE, its GUE header) and is
//! handed to the inner protocol's handler with the outer IP header kept — IPIP, for the GUE
//! packets of an LVS-TUN director, so `tunl0` takes it next.

use crate::explain;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::wire::Packet;
use crate::wire::gue;
use crate::wire::ipv4::{self, Ipv4Info, PROTO_IPIP};
use crate::wire::udp::{self, UDP_HEADER_LEN};

/// What a FOU port expects after the UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FouEncap {
    /// `gue`: a GUE header names the protocol.
    Gue,
    /// `ipproto P`: the payload is protocol P directly.
    Direct(u8),
}

/// One `ip fou add` port (it listens on every local address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FouPort {
    pub port: u16,
    pub encap: FouEncap,
}

impl FouPort {
    /// `ip fou show`'s line.
    pub fn show(&self) -> String {
        match self.encap {
            FouEncap::Gue => format!("port {} gue", self.port),
            FouEncap::Direct(proto) => format!("port {} ipproto {proto}", self.port),
        }
    }
}

impl Host {
    /// The FOU port a local UDP datagram is for, if any.
    pub(crate) fn fou_port(&self, info: &Ipv4Info, packet: &Packet) -> Option<FouPort> {
        if self.fou.is_empty() {
            return None;
        }
        let l4 = packet.data().get(info.header_len..info.total_len)?;
        let dport = u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]);
        self.fou.iter().find(|f| f.port == dport).copied()
    }

    /// `fou_udp_recv`/`gue_udp_recv`: checks the UDP checksum, strips the encapsulation and
    /// resubmits the datagram to the inner protocol.
    pub(crate) fn fou_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        mut packet: Packet,
        fou: FouPort,
    ) {
        let name = &self.ifaces[dev].name;
        let l4 = &packet.data()[info.header_len..info.total_len];
        if let Err(why) = udp::parse(l4, info.src, info.dst) {
            ctx.drop_packet(name, format!("checksum: {why}"));
            return;
        }
        let (strip, proto) = match fou.encap {
            FouEncap::Direct(proto) => (UDP_HEADER_LEN, proto),
            FouEncap::Gue => match gue_header(&l4[UDP_HEADER_LEN..]) {
                Ok((len, proto)) => (UDP_HEADER_LEN + len, proto),
                Err(why) => {
                    ctx.drop_packet(name, format!("gue: {why} (fou port {})", fou.port));
                    return;
                }
            },
        };
        explain!(
            ctx,
            "{}: fou port {} strips {strip} bytes of UDP{}; IP protocol {proto} takes the packet",
            self.name,
            fou.port,
            if fou.encap == FouEncap::Gue {
                " and GUE"
            } else {
                ""
            }
        );
        packet.truncate(info.total_len);
        packet.remove(info.header_len, strip);
        let data = packet.data_mut();
        data[2..4].copy_from_slice(&((info.total_len - strip) as u16).to_be_bytes());
        data[9] = proto;
        ipv4::refresh_checksum(data);
        match ipv4::parse(packet.data()) {
            Ok(inner) => self.deliver_transport(ctx, dev, inner, packet),
            Err(why) => ctx.drop_packet(&self.ifaces[dev].name, format!("fou: {why}")),
        }
    }
}

/// `gue_udp_recv`'s reading of a GUE header: (bytes to strip, inner protocol). Version 1 is
/// an IP packet directly (no GUE header); version 0 carries a protocol and optional words;
/// control messages and flags lvsim does not know (remote checksum offload) are refused.
fn gue_header(data: &[u8]) -> Result<(usize, u8), &'static str> {
    let header = gue::parse(data)?;
    match header.version {
        0 if header.control => Err("a GUE control message"),
        0 if header.flags != 0 => Err("GUE flags lvsim does not take"),
        0 if data.len() < header.header_len => Err("truncated GUE header"),
        0 => Ok((header.header_len, header.proto)),
        1 if header.proto == 4 => Ok((0, PROTO_IPIP)),
        1 => Err("GUE version 1 with an inner packet that is not IPv4"),
        _ => Err("unknown GUE version"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gue_versions_and_refusals() {
        assert_eq!(gue_header(&[0, 4, 0, 0]), Ok((4, 4)));
        assert_eq!(
            gue_header(&[0x02, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Ok((12, 4))
        );
        assert_eq!(gue_header(&[0x45, 0, 0, 20]), Ok((0, PROTO_IPIP)));
        assert!(gue_header(&[0x20, 0, 0, 0]).is_err(), "control");
        assert!(gue_header(&[0, 4, 0, 1]).is_err(), "private flags");
        assert!(gue_header(&[0x80, 4, 0, 0]).is_err(), "version 2");
        assert!(gue_header(&[0x02, 4, 0, 0]).is_err(), "truncated options");
    }

    #[test]
    fn show_lines_match_iproute2() {
        let gue = FouPort {
            port: 6080,
            encap: FouEncap::Gue,
        };
        let direct = FouPort {
            port: 5555,
            encap: FouEncap::Direct(4),
        };
        assert_eq!(gue.show(), "port 6080 gue");
        assert_eq!(direct.show(), "port 5555 ipproto 4");
    }
}
