//! VRRP adverts on the wire: sent as raw IP (TTL 255, TOS 0xc0, the daemon's own IP IDs)
//! to the group or each unicast peer, and received for the instance of their VRID on the
//! interface, after `vrrp_check_packet`'s checks.

use std::net::Ipv4Addr;

use crate::stack::ctx::Ctx;
use crate::stack::host::{Host, OutRoute};
use crate::stack::iface::IfIndex;
use crate::wire::Packet;
use crate::wire::ipv4::{self, Ipv4Info, Ipv4Meta};
use crate::wire::vrrp::{Advert, PROTO_VRRP, TOS, TTL};

impl Host {
    /// A VRRP datagram was delivered locally: find the instance of that VRID on the
    /// receiving interface, check the advert, and let the instance react.
    pub(crate) fn vrrp_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        packet: &Packet,
    ) {
        let iface = self.ifaces[dev].name.to_string();
        if !self.keepalived.is_running() {
            crate::explain!(
                ctx,
                "{}: no VRRP listener (keepalived is not running)",
                self.name
            );
            return;
        }
        let payload = &packet.data()[info.header_len..info.total_len];
        let advert = match Advert::parse(payload, info.src, info.dst) {
            Ok(a) => a,
            Err(why) => {
                ctx.drop_packet(&iface, format!("vrrp: {why}"));
                return;
            }
        };
        let found = (0..self.vrrp_count()).find(|&i| {
            self.with_instance(i, |inst| {
                inst.conf.vrid == advert.vrid && inst.conf.interface == iface
            })
        });
        let Some(index) = found else {
            crate::explain!(
                ctx,
                "{}: no VRRP instance with VRID {} on {iface}",
                self.name,
                advert.vrid
            );
            return;
        };
        if info.src == self.instance_source(index).unwrap_or(Ipv4Addr::UNSPECIFIED) {
            return;
        }
        if let Err(why) = self.with_instance(index, |i| i.check_advert(info.ttl, &advert)) {
            let name = self.with_instance(index, |i| i.conf.name.clone());
            ctx.drop_packet(&iface, format!("vrrp: ({name}) {why}"));
            return;
        }
        let own = self.instance_source(index).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let actions = self.with_instance(index, |i| i.on_advert(ctx.now, info.src, own, &advert));
        self.perform(ctx, index, actions);
    }

    /// The address adverts leave from: `mcast_src_ip`/`unicast_src_ip`, else the
    /// interface's primary address.
    pub(super) fn instance_source(&self, index: usize) -> Option<Ipv4Addr> {
        let daemon = self.keepalived.daemon.as_ref()?;
        let conf = &daemon.instances[index].conf;
        if let Some(ip) = conf.unicast_src_ip.or(conf.mcast_src_ip) {
            return Some(ip);
        }
        let dev = self.iface_index(&conf.interface)?;
        self.ifaces[dev].primary().map(|a| a.local)
    }

    pub(super) fn send_advert(&mut self, ctx: &mut Ctx, index: usize, priority: u8) {
        let Some(src) = self.instance_source(index) else {
            return;
        };
        let (conf, advert, id) = {
            let daemon = self.keepalived.daemon.as_mut().expect("running");
            let id = daemon.next_ip_id;
            daemon.next_ip_id = id.wrapping_add(1);
            let instance = &daemon.instances[index];
            (instance.conf.clone(), instance.advert(priority), id)
        };
        let Some(dev) = self.iface_index(&conf.interface) else {
            return;
        };
        let targets = if conf.unicast_peers.is_empty() {
            vec![self.keepalived.mcast_group()]
        } else {
            conf.unicast_peers.clone()
        };
        for dst in targets {
            let meta = Ipv4Meta {
                src,
                dst,
                proto: PROTO_VRRP,
                ttl: TTL,
                tos: TOS,
                id,
                dont_fragment: false,
            };
            let mut packet = ipv4::build(&meta, &advert.emit(src, dst));
            if priority == 0 {
                packet.annotate(format!(
                    "keepalived ({}) leaves: priority 0 tells the backups to take over after their skew time",
                    conf.name
                ));
            }
            let route = OutRoute {
                dev,
                next_hop: dst,
                src,
                local: false,
                broadcast: false,
            };
            self.ip_send(ctx, &route, packet);
        }
    }
}
