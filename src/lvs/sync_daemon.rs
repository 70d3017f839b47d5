//! The sync daemons on the wire: a master's buffers leave as UDP datagrams to the sync
//! group (224.0.0.81:8848, TTL 1, from the address of `--mcast-interface`); a backup takes
//! the datagrams that arrive on its interface and hands them to its IPVS table.

use std::net::Ipv4Addr;

use crate::explain;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::{Host, HostEvent, OutRoute};
use crate::stack::iface::IfIndex;
use crate::wire::ipv4::{Ipv4Info, Ipv4Meta};
use crate::wire::ipvs_sync::{self, SyncMessage};
use crate::wire::udp;

impl Host {
    /// Sends what the master's buffer holds when it is full or old enough, and keeps a
    /// timer for the rest.
    pub(crate) fn ipvs_sync_send(&mut self, ctx: &mut Ctx) {
        while let Some(msg) = self.ipvs.sync.take_message(ctx.now.ns()) {
            self.send_sync_message(ctx, &msg);
        }
        if let Some(at) = self.ipvs.sync.flush_at()
            && self
                .ipvs_sync_wakeup
                .is_none_or(|w| w.ns() > at || w < ctx.now)
        {
            self.ipvs_sync_wakeup = Some(SimTime(at));
            ctx.at(SimTime(at), HostEvent::IpvsSync);
        }
    }

    /// The flush timer of the master's buffer.
    pub(crate) fn ipvs_sync_timer(&mut self, ctx: &mut Ctx) {
        if self.ipvs_sync_wakeup == Some(ctx.now) {
            self.ipvs_sync_wakeup = None;
        }
        self.ipvs_sync_send(ctx);
    }

    fn send_sync_message(&mut self, ctx: &mut Ctx, msg: &SyncMessage) {
        let Some(config) = self.ipvs.sync.master.clone() else {
            return;
        };
        let Some(dev) = self.iface_index(&config.mcast_ifn) else {
            ctx.output(format!(
                "IPVS: sync master: interface {} not found, message dropped",
                config.mcast_ifn
            ));
            return;
        };
        let Some(src) = self.select_source(dev, None, crate::stack::addr::Scope::Global) else {
            return;
        };
        let group = config.group_v4();
        let meta = Ipv4Meta {
            src,
            dst: group,
            proto: 0,
            ttl: config.ttl.unwrap_or(ipvs_sync::DEFAULT_TTL),
            tos: 0,
            id: self.next_ip_id(),
            dont_fragment: false,
        };
        let port = config.port.unwrap_or(ipvs_sync::PORT);
        let mut packet = udp::build(&meta, self.ipvs_sync_port(), port, &msg.emit());
        if ctx.explaining() {
            packet.annotate(format!(
                "IPVS sync (master, syncid {}): {} connection entr{} for the backup director",
                msg.syncid,
                msg.conns.len(),
                if msg.conns.len() == 1 { "y" } else { "ies" }
            ));
        }
        let route = OutRoute {
            dev,
            next_hop: group,
            src,
            local: false,
            broadcast: false,
        };
        self.ip_send(ctx, &route, packet);
    }

    /// The source port of the master's socket: an ephemeral port chosen once per host.
    fn ipvs_sync_port(&mut self) -> u16 {
        if self.ipvs_sync_sport == 0 {
            let (low, high) = self
                .sysctl
                .range(crate::stack::sysctl::Global::IpLocalPortRange);
            self.ipvs_sync_sport = self.rng.range_inclusive(low as u64, high as u64) as u16;
        }
        self.ipvs_sync_sport
    }

    /// Whether a backup sync daemon listens for this datagram on `dev`.
    pub(crate) fn is_sync_datagram(&self, dev: IfIndex, info: &Ipv4Info, dst_port: u16) -> bool {
        let Some(backup) = &self.ipvs.sync.backup else {
            return false;
        };
        *self.ifaces[dev].name == *backup.mcast_ifn
            && info.dst == backup.group_v4()
            && dst_port == backup.port.unwrap_or(ipvs_sync::PORT)
    }

    /// A backup daemon reads one message (`ip_vs_process_message`).
    pub(crate) fn ipvs_sync_receive(&mut self, ctx: &mut Ctx, src: Ipv4Addr, payload: &[u8]) {
        let msg = match SyncMessage::parse(payload) {
            Ok(m) => m,
            Err(why) => {
                explain!(
                    ctx,
                    "{}: IPVS sync backup ignores a message: {why}",
                    self.name
                );
                return;
            }
        };
        let syncid = self.ipvs.sync.backup.as_ref().map_or(0, |b| b.syncid);
        if syncid != 0 && msg.syncid != syncid {
            explain!(
                ctx,
                "{}: IPVS sync backup ignores syncid {} (it listens for {syncid})",
                self.name,
                msg.syncid
            );
            return;
        }
        let (applied, skipped) = self.ipvs.apply_sync(&msg, ctx.now.ns());
        self.arm_ipvs_timer(ctx);
        explain!(
            ctx,
            "{}: IPVS sync backup: {applied} connection entr{} from {src} created or updated{}",
            self.name,
            if applied == 1 { "y" } else { "ies" },
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; not applied: {}", skipped.join("; "))
            }
        );
    }
}
