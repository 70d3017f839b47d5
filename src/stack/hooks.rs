//! Netfilter's hook points on the IPv4 path (net/ipv4/ip_input.c, ip_forward.c, ip_output.c):
//! mangle PREROUTING sets the packet's mark, the filter table's INPUT, FORWARD and OUTPUT
//! chains accept, drop or reject it — each drop with the rule that decided it.

use super::ctx::Ctx;
use super::host::Host;
use super::iface::IfIndex;
use super::netfilter::{Hook, PacketView, RejectWith, Verdict};
use crate::explain;
use crate::wire::icmp::IcmpMessage;
use crate::wire::ipv4::{Ipv4Info, PROTO_TCP, PROTO_UDP};
use crate::wire::{Packet, tcp};

/// The fields rules match on; ports only from an unfragmented datagram or its first fragment.
fn packet_view<'a>(
    info: &Ipv4Info,
    data: &[u8],
    in_iface: Option<&'a str>,
    out_iface: Option<&'a str>,
    mark: u32,
) -> PacketView<'a> {
    let l4 = data.get(info.header_len..).unwrap_or(&[]);
    let ports =
        (matches!(info.proto, PROTO_TCP | PROTO_UDP) && info.frag_offset == 0 && l4.len() >= 4)
            .then(|| {
                (
                    u16::from_be_bytes([l4[0], l4[1]]),
                    u16::from_be_bytes([l4[2], l4[3]]),
                )
            });
    PacketView {
        proto: info.proto,
        src: info.src,
        dst: info.dst,
        sport: ports.map(|p| p.0),
        dport: ports.map(|p| p.1),
        in_iface,
        out_iface,
        mark,
        len: info.total_len as u32,
    }
}

impl Host {
    /// mangle PREROUTING: the mark a received datagram carries from here on.
    pub(crate) fn nf_prerouting(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        data: &[u8],
    ) -> u32 {
        if self.netfilter.is_empty() {
            return 0;
        }
        let name = self.ifaces[dev].name.clone();
        let view = packet_view(info, data, Some(&name), None, 0);
        let (mark, rule) = self.netfilter.mangle_prerouting(&view);
        if let Some(rule) = rule {
            explain!(
                ctx,
                "{}: mangle PREROUTING sets mark {mark} (`{rule}`)",
                self.name
            );
        }
        mark
    }

    /// The filter table at `hook`: true when the datagram goes on. A drop or reject is
    /// recorded with the deciding rule; REJECT answers as its `--reject-with` says.
    pub(crate) fn nf_filter(
        &mut self,
        ctx: &mut Ctx,
        hook: Hook,
        devs: (Option<IfIndex>, Option<IfIndex>),
        info: &Ipv4Info,
        packet: &Packet,
        mark: u32,
    ) -> bool {
        if self.netfilter.is_empty() {
            return true;
        }
        let name_of = |d: Option<IfIndex>| d.map(|i| self.ifaces[i].name.clone());
        let (in_name, out_name) = (name_of(devs.0), name_of(devs.1));
        let view = packet_view(
            info,
            packet.data(),
            in_name.as_deref(),
            out_name.as_deref(),
            mark,
        );
        let verdict = self.netfilter.filter(hook, &view);
        let dev_name = in_name
            .or(out_name)
            .map_or("-".to_owned(), |n| n.to_string());
        match verdict {
            Verdict::Accept => true,
            Verdict::Drop { rule } => {
                ctx.drop_packet(
                    &dev_name,
                    format!("iptables: {} dropped by `{rule}`", hook.chain_name()),
                );
                false
            }
            Verdict::Reject { with, rule } => {
                ctx.drop_packet(
                    &dev_name,
                    format!(
                        "iptables: {} rejected by `{rule}` ({})",
                        hook.chain_name(),
                        with.name()
                    ),
                );
                self.nf_reject(ctx, with, info, packet, devs.0);
                false
            }
        }
    }

    /// REJECT's answer (ipt_REJECT.c): an ICMP unreachable, or a TCP reset.
    fn nf_reject(
        &mut self,
        ctx: &mut Ctx,
        with: RejectWith,
        info: &Ipv4Info,
        packet: &Packet,
        in_dev: Option<IfIndex>,
    ) {
        match with.icmp_code() {
            Some(code) => {
                let message = IcmpMessage::DestUnreachable {
                    code,
                    next_hop_mtu: 0,
                };
                self.icmp_error(ctx, packet.data(), message, in_dev);
            }
            None => {
                let l4 = &packet.data()[info.header_len..info.total_len];
                if let Ok(seg) = tcp::parse(l4, info.src, info.dst)
                    && !seg.repr.has(tcp::RST)
                {
                    self.tcp_send_reset(ctx, info, &seg);
                }
            }
        }
    }
}
