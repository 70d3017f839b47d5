//! LVS-TUN on the director (ip_vs_xmit.c `ip_vs_tunnel_xmit`, ip_vs_core.c's tunnel branch of
//! `ip_vs_in_icmp`): requests leave inside IPIP, GRE or UDP+GUE towards the real server, and
//! ICMP errors a router or the real server sends about those outer packets turn into errors
//! about the client's own packet.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};

use super::director::Target;
use super::service::{Protocol, TunnelCsum, TunnelSpec, TunnelType};
use super::sysctl::Vs;
use super::table::addr_port;
use crate::explain;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::stack::sysctl::Global;
use crate::wire::Packet;
use crate::wire::gre;
use crate::wire::gue;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{self, Ipv4Info, Ipv4Meta, PROTO_GRE, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use crate::wire::mangle;
use crate::wire::udp::UDP_HEADER_LEN;

impl Host {
    /// TUN (`ip_vs_tunnel_xmit`): the datagram, TTL −1, inside an outer IPv4 header from the
    /// director's address towards the real server — bare (IPIP), behind GRE, or behind UDP
    /// and GUE, as the destination's `--tun-type` says.
    pub(super) fn xmit_tunnel(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        target: &Target,
        mut packet: Packet,
    ) {
        let Some((out, next_hop, src)) = self.route_to_server(ctx, dev, target.rip) else {
            return;
        };
        if !self.ipvs_ttl(ctx, dev, &mut packet) {
            return;
        }
        let Ok(inner) = ipv4::parse(packet.data()) else {
            return;
        };
        let tun = self.ipvs.dest(target.dest).config.tun;
        let pmtu_disc = self.ipvs.sysctl.int(Vs::PmtuDisc) != 0;
        let eff_mtu = self.ifaces[out].mtu as usize - ipv4::IPV4_HEADER_LEN - overhead(&tun);
        if pmtu_disc && !self.ipvs_mtu_ok(ctx, dev, &packet, eff_mtu) {
            return;
        }
        let mut outer = Ipv4Meta {
            src,
            dst: target.rip,
            proto: PROTO_IPIP,
            ttl: inner.ttl,
            tos: ecn_encapsulate(inner.tos),
            id: self.next_ip_id(),
            dont_fragment: pmtu_disc && inner.dont_fragment,
        };
        let how = match tun.kind {
            TunnelType::Ipip => {
                mangle::encapsulate_ipip(&mut packet, &outer);
                "IPIP".to_owned()
            }
            TunnelType::Gre => {
                outer.proto = PROTO_GRE;
                mangle::encapsulate_gre(&mut packet, &outer, gre_csum(&tun));
                "GRE".to_owned()
            }
            TunnelType::Gue => {
                outer.proto = PROTO_UDP;
                let sport = self.gue_source_port(&inner, packet.data());
                let csum = tun.csum != TunnelCsum::NoCsum;
                mangle::encapsulate_gue(&mut packet, &outer, (sport, tun.port), csum);
                format!("UDP {sport} → {} + GUE", tun.port)
            }
        };
        let note = ctx.explaining().then(|| format!(
            "IPVS TUN: {} wraps the packet in {how}, {src} → {} (inner TTL −1, inner destination stays {})",
            self.name, target.rip, target.vip
        ));
        self.ipvs_send(ctx, out, next_hop, packet, note);
    }

    /// `udp_flow_src_port`: a source port from the inner flow's hash, in ip_local_port_range
    /// (the kernel's hash is keyed at random per boot; this one is fixed, so runs repeat).
    fn gue_source_port(&self, inner: &Ipv4Info, data: &[u8]) -> u16 {
        let (low, high) = self.sysctl.range(Global::IpLocalPortRange);
        let l4 = &data[inner.header_len.min(data.len())..];
        let mut hasher = rustc_hash::FxHasher::default();
        (inner.src, inner.dst, inner.proto, l4.get(..4)).hash(&mut hasher);
        let hash = hasher.finish() as u32 as u64;
        let span = (high - low).max(0) as u64;
        (((hash * span) >> 32) as i64 + low) as u16
    }

    /// An ICMP error (type 3, 4 or 11) at LOCAL_IN about an outer packet the director sent to
    /// a known tunnel destination, for a connection it knows: the client gets the same error
    /// about its own packet, from the VIP — for "fragmentation needed" (only when the client's
    /// packet had DF) with the MTU less the tunnel's overhead. Returns the packet when it is
    /// not such an error.
    pub(super) fn ipvs_tunnel_icmp(
        &mut self,
        ctx: &mut Ctx,
        info: &Ipv4Info,
        packet: Packet,
    ) -> Option<Packet> {
        let Some(error) = self.tunnel_error(packet.data()) else {
            return Some(packet);
        };
        let data = packet.data();
        let inner = &data[error.inner_at..];
        let Some(conn) = self.ipvs.conns.lookup_in(
            error.proto,
            (IpAddr::V4(error.client.0), error.client.1),
            (IpAddr::V4(error.virt.0), error.virt.1),
        ) else {
            return Some(packet);
        };
        let (icmp_type, code) = (data[info.header_len], data[info.header_len + 1]);
        let about = format!(
            "{} → {}",
            addr_port(IpAddr::V4(error.client.0), error.client.1),
            addr_port(IpAddr::V4(error.virt.0), error.virt.1)
        );
        let message = match (icmp_type, code) {
            (3, icmp::CODE_FRAG_NEEDED) => {
                let inner_df = inner[6] & 0x40 != 0;
                if !inner_df {
                    explain!(
                        ctx,
                        "{}: IPVS: ICMP fragmentation needed on the tunnel to {} for {about}: the client's packet had no DF, so nothing goes back",
                        self.name,
                        error.rip
                    );
                    return None;
                }
                let reported =
                    u16::from_be_bytes([data[info.header_len + 6], data[info.header_len + 7]]);
                let cut = (ipv4::IPV4_HEADER_LEN + overhead(&error.tun)) as u16;
                let mtu = if reported > 68 + cut {
                    reported - cut
                } else {
                    reported
                };
                IcmpMessage::DestUnreachable {
                    code,
                    next_hop_mtu: mtu,
                }
            }
            (3, _) => IcmpMessage::DestUnreachable {
                code,
                next_hop_mtu: 0,
            },
            (11, _) => IcmpMessage::TimeExceeded { code },
            _ => IcmpMessage::Other { icmp_type, code },
        };
        explain!(
            ctx,
            "{}: INPUT → IPVS: ICMP type {icmp_type} code {code} from {} about the tunnel packet to {} carrying {about}: sent on to the client about its own packet",
            self.name,
            info.src,
            error.rip
        );
        let len = (data.len() - error.inner_at) as u32;
        self.ipvs.count_out(conn, len, ctx.now.ns());
        self.icmp_error(ctx, inner, message, None);
        self.arm_ipvs_timer(ctx);
        None
    }

    /// Reads an ICMP error's quote as one of our tunnel packets (`ipvs_udp_decap`,
    /// `ipvs_gre_decap`): an unfragmented outer header to a live TUN destination with the
    /// matching type, a tunnel header IPVS builds, and a TCP/UDP datagram inside.
    fn tunnel_error(&self, data: &[u8]) -> Option<TunnelError> {
        let hl = ((data[0] & 0x0f) as usize) * 4;
        if !matches!(data.get(hl)?, 3 | 4 | 11) {
            return None;
        }
        let (at, proto) = mangle::icmp_quote(data)?;
        let quoted = &data[at..];
        if u16::from_be_bytes([quoted[6], quoted[7]]) & 0x1fff != 0 {
            return None;
        }
        let qhl = ((quoted[0] & 0x0f) as usize) * 4;
        let rip = Ipv4Addr::new(quoted[16], quoted[17], quoted[18], quoted[19]);
        let after = &quoted[qhl..];
        let (tun_port, kind) = match proto {
            PROTO_IPIP => (0, TunnelType::Ipip),
            PROTO_GRE => (0, TunnelType::Gre),
            PROTO_UDP => (u16::from_be_bytes([after[2], after[3]]), TunnelType::Gue),
            _ => return None,
        };
        let dest = self.ipvs.find_tunnel(IpAddr::V4(rip), tun_port)?;
        let tun = self.ipvs.dest(dest).config.tun;
        if tun.kind != kind {
            return None;
        }
        let header = tunnel_header_len(kind, after)?;
        let inner_at = at + qhl + header;
        let inner = data.get(inner_at..)?;
        if inner.len() < 20 || inner[0] >> 4 != 4 {
            return None;
        }
        let ihl = ((inner[0] & 0x0f) as usize) * 4;
        let ports = inner.get(ihl..ihl + 4)?;
        let proto = match inner[9] {
            PROTO_TCP => Protocol::Tcp,
            PROTO_UDP => Protocol::Udp,
            _ => return None,
        };
        Some(TunnelError {
            inner_at,
            rip,
            tun,
            proto,
            client: (
                Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]),
                u16::from_be_bytes([ports[0], ports[1]]),
            ),
            virt: (
                Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]),
                u16::from_be_bytes([ports[2], ports[3]]),
            ),
        })
    }
}

/// An ICMP error about one of the director's tunnel packets, read back.
struct TunnelError {
    /// Where the client's quoted datagram starts in the ICMP packet.
    inner_at: usize,
    rip: Ipv4Addr,
    tun: TunnelSpec,
    proto: Protocol,
    client: (Ipv4Addr, u16),
    virt: (Ipv4Addr, u16),
}

/// The length of the tunnel header after the quoted outer IP header, when it is one IPVS
/// builds: nothing for IPIP; GRE version 0 with at most a checksum, carrying IPv4; UDP and
/// GUE version 0 (not a control message) carrying IPIP.
fn tunnel_header_len(kind: TunnelType, after: &[u8]) -> Option<usize> {
    match kind {
        TunnelType::Ipip => Some(0),
        TunnelType::Gre => {
            let header = gre::parse(after).ok()?;
            let only_csum = header.version == 0 && header.flags & !gre::FLAG_CSUM == 0;
            (only_csum && header.protocol == gre::PROTO_IPV4).then_some(header.header_len)
        }
        TunnelType::Gue => {
            let header = gue::parse(after.get(UDP_HEADER_LEN..)?).ok()?;
            let data = header.version == 0 && !header.control;
            (data && header.proto == PROTO_IPIP).then_some(UDP_HEADER_LEN + header.header_len)
        }
    }
}

/// Whether a GRE destination's packets carry a checksum: only `--tun-csum` asks for one
/// (`ipvs_gre_encap` ignores remote checksum offload).
fn gre_csum(tun: &TunnelSpec) -> bool {
    tun.csum == TunnelCsum::Csum
}

/// Bytes a tunnel adds beyond the outer IPv4 header (`__ip_vs_get_out_rt`'s MTU cut): GUE's
/// UDP and 4-byte header, GRE's 4 (8 with a checksum).
fn overhead(tun: &TunnelSpec) -> usize {
    match tun.kind {
        TunnelType::Ipip => 0,
        TunnelType::Gue => 8 + 4,
        TunnelType::Gre if gre_csum(tun) => 8,
        TunnelType::Gre => 4,
    }
}

/// `INET_ECN_encapsulate`: the outer header copies the inner DSCP and ECN, except that CE
/// becomes ECT(0).
fn ecn_encapsulate(inner_tos: u8) -> u8 {
    if inner_tos & 0x03 == 0x03 {
        (inner_tos & !0x03) | 0x02
    } else {
        inner_tos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// forwarding.md §6 "Effective MTU": route MTU − 20 − GUE 8+4 − GRE 4 (+4 csum).
    #[test]
    fn overhead_follows_the_tunnel_type_and_gre_checksum() {
        let spec = |kind, csum| TunnelSpec {
            kind,
            port: 0,
            csum,
        };
        assert_eq!(overhead(&spec(TunnelType::Ipip, TunnelCsum::Csum)), 0);
        assert_eq!(overhead(&spec(TunnelType::Gue, TunnelCsum::NoCsum)), 12);
        assert_eq!(overhead(&spec(TunnelType::Gre, TunnelCsum::NoCsum)), 4);
        assert_eq!(overhead(&spec(TunnelType::Gre, TunnelCsum::Csum)), 8);
        assert_eq!(overhead(&spec(TunnelType::Gre, TunnelCsum::RemCsum)), 4);
    }

    /// forwarding.md §6 outer TOS: CE (11) becomes ECT(0) (10); DSCP and other ECN values
    /// are copied.
    #[test]
    fn ecn_ce_becomes_ect0() {
        assert_eq!(ecn_encapsulate(0xb8 | 0x03), 0xb8 | 0x02);
        assert_eq!(ecn_encapsulate(0xb8 | 0x01), 0xb8 | 0x01);
        assert_eq!(ecn_encapsulate(0x00), 0x00);
    }

    /// ipvs_gre_decap: only version 0 with at most the C bit, IPv4 inside.
    #[test]
    fn only_the_tunnel_headers_ipvs_builds_are_read_back() {
        assert_eq!(tunnel_header_len(TunnelType::Gre, &[0, 0, 8, 0]), Some(4));
        assert_eq!(
            tunnel_header_len(TunnelType::Gre, &[0x80, 0, 8, 0, 0, 0, 0, 0]),
            Some(8)
        );
        assert_eq!(tunnel_header_len(TunnelType::Gre, &[0x20, 0, 8, 0]), None);
        assert_eq!(
            tunnel_header_len(TunnelType::Gre, &[0, 0, 0x86, 0xdd]),
            None
        );
        let udp = [0u8; 8];
        let gue = |b0: u8, proto: u8| [&udp[..], &[b0, proto, 0, 0]].concat();
        assert_eq!(tunnel_header_len(TunnelType::Gue, &gue(0, 4)), Some(12));
        assert_eq!(tunnel_header_len(TunnelType::Gue, &gue(2, 4)), Some(20));
        assert_eq!(tunnel_header_len(TunnelType::Gue, &gue(0x20, 4)), None);
        assert_eq!(tunnel_header_len(TunnelType::Gue, &gue(0, 6)), None);
        assert_eq!(tunnel_header_len(TunnelType::Ipip, &[]), Some(0));
    }
}
