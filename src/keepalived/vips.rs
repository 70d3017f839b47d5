//! What a MASTER does on the LAN: its VIPs added and removed as `ip addr` would (with their
//! labels), and gratuitous ARP bursts that move every neighbour cache to its MAC.

use super::config::VirtualAddress;
use super::vrrp::Instance;
use crate::diagnosis::{ArpClaim, ClaimReason};
use crate::stack::addr::{IfAddr, Scope};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::wire::MacAddr;
use crate::wire::arp::{ArpRepr, OP_REQUEST};

impl Host {
    pub(super) fn vip_dev(&self, instance: &Instance, vip: &VirtualAddress) -> Option<IfIndex> {
        self.resolve_dev(vip.dev.as_deref().unwrap_or(&instance.conf.interface))
    }

    pub(super) fn has_vip(&self, instance: &Instance, vip: &VirtualAddress) -> bool {
        self.vip_dev(instance, vip)
            .is_some_and(|dev| self.ifaces[dev].has_addr(vip.addr))
    }

    pub(super) fn instance_vips(&self, index: usize) -> (Instance, Vec<VirtualAddress>) {
        let instance = self.keepalived.daemon.as_ref().expect("running").instances[index].clone();
        let vips = instance
            .conf
            .vips
            .iter()
            .chain(&instance.conf.excluded_vips)
            .cloned()
            .collect();
        (instance, vips)
    }

    /// `ip addr add VIP/LEN [brd B] dev IF [scope S] label L` for every VIP.
    pub(super) fn add_vips(&mut self, ctx: &mut Ctx, index: usize) {
        let (instance, vips) = self.instance_vips(index);
        for vip in vips {
            let Some(dev) = self.vip_dev(&instance, &vip) else {
                continue;
            };
            let label = vip
                .label
                .clone()
                .unwrap_or_else(|| self.ifaces[dev].name.to_string());
            let address = IfAddr {
                local: vip.addr,
                prefix_len: vip.prefix_len,
                broadcast: vip.broadcast,
                label,
                scope: vip
                    .scope
                    .as_deref()
                    .and_then(Scope::parse)
                    .unwrap_or(Scope::Global),
                secondary: false,
                noprefixroute: false,
            };
            if self.add_address(dev, address).is_ok() {
                crate::explain!(
                    ctx,
                    "{}: keepalived ({}) adds {}/{} to {}",
                    self.name,
                    instance.conf.name,
                    vip.addr,
                    vip.prefix_len,
                    self.ifaces[dev].name
                );
            }
        }
    }

    /// `ip addr del` of every VIP still configured.
    pub(super) fn remove_vips(&mut self, ctx: &mut Ctx, index: usize) {
        let (instance, vips) = self.instance_vips(index);
        for vip in vips {
            let Some(dev) = self.vip_dev(&instance, &vip) else {
                continue;
            };
            if self
                .del_address(dev, vip.addr, Some(vip.prefix_len))
                .is_ok()
            {
                crate::explain!(
                    ctx,
                    "{}: keepalived ({}) removes {}/{} from {}",
                    self.name,
                    instance.conf.name,
                    vip.addr,
                    vip.prefix_len,
                    self.ifaces[dev].name
                );
            }
        }
    }

    /// `repeat` gratuitous ARP requests per VIP (target MAC ff:ff:ff:ff:ff:ff, §6).
    pub(super) fn send_garps(&mut self, ctx: &mut Ctx, index: usize, repeat: u32) {
        let (instance, _) = self.instance_vips(index);
        for _ in 0..repeat {
            for vip in &instance.conf.vips {
                let Some(dev) = self.vip_dev(&instance, vip) else {
                    continue;
                };
                let mac = self.ifaces[dev].mac;
                let garp = ArpRepr {
                    op: OP_REQUEST,
                    sha: mac,
                    spa: vip.addr,
                    tha: MacAddr::BROADCAST,
                    tpa: vip.addr,
                };
                let mut frame = garp.to_frame(mac, MacAddr::BROADCAST);
                frame.annotate(format!(
                    "gratuitous ARP from keepalived ({} MASTER): every host on the LAN that has {} in its cache now maps it to {mac}",
                    instance.conf.name, vip.addr
                ));
                let claim = ArpClaim {
                    ip: vip.addr,
                    reason: ClaimReason::Vrrp(instance.conf.name.clone()),
                };
                self.transmit(ctx, dev, frame, Some(claim));
            }
        }
    }
}
