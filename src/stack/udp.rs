//! UDP input. No program in the labs listens on UDP yet, so every datagram to this host is
//! answered as Linux answers a closed port: ICMP port unreachable (never for broadcasts).

use super::ctx::Ctx;
use super::host::Host;
use super::iface::IfIndex;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::Ipv4Info;
use crate::wire::{Packet, udp};

impl Host {
    /// `udp_rcv` → `__udp4_lib_rcv`.
    pub(crate) fn udp_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        packet: &Packet,
    ) {
        let name = self.ifaces[dev].name.clone();
        let l4 = &packet.data()[info.header_len..info.total_len];
        let datagram = match udp::parse(l4, info.src, info.dst) {
            Ok(d) => d,
            Err(why) => {
                ctx.drop_packet(&name, format!("checksum: {why}"));
                return;
            }
        };
        if self.is_sync_datagram(dev, info, datagram.dst_port) {
            self.ipvs_sync_receive(ctx, info.src, datagram.payload);
            return;
        }
        ctx.drop_packet(
            &name,
            format!(
                "no-socket: nothing listens on UDP {}:{}",
                info.dst, datagram.dst_port
            ),
        );
        if self.is_local(info.dst) {
            let message = IcmpMessage::DestUnreachable {
                code: icmp::CODE_PORT_UNREACH,
                next_hop_mtu: 0,
            };
            self.icmp_error(ctx, packet.data(), message, Some(dev));
        }
    }
}
