//! Link-layer output: an IP datagram meets the neighbour table (`neigh_output`), gets its
//! Ethernet header and leaves; neighbour timers and their probes.

use std::net::Ipv4Addr;

use super::ctx::Ctx;
use super::host::{Host, HostEvent};
use super::iface::{IfIndex, IfKind};
use super::neigh::{Actions, NeighEntry, NudState, Output};
use crate::explain;
use crate::sim::time::human_duration;
use crate::wire::ethernet::{ETHERTYPE_IPV4, EthHeader};
use crate::wire::{MacAddr, Packet, ipv4};

/// The Ethernet address of an IPv4 multicast group (RFC 1112: 01:00:5e + low 23 bits).
pub fn multicast_mac(group: Ipv4Addr) -> MacAddr {
    let o = group.octets();
    MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
}

impl Host {
    /// Sends a datagram to `next_hop` on `dev`, resolving it through the neighbour table.
    pub(crate) fn neigh_output(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        next_hop: Ipv4Addr,
        packet: Packet,
    ) {
        match self.ifaces[dev].kind {
            IfKind::Loopback => {
                ctx.after(0, HostEvent::Loopback { packet });
                return;
            }
            IfKind::Tunnel => {
                let name = self.ifaces[dev].name.clone();
                ctx.drop_packet(
                    &name,
                    format!("no-route: {name} has no remote endpoint to send to"),
                );
                return;
            }
            IfKind::Ethernet => {}
        }
        if next_hop.is_multicast() {
            self.send_on_link(ctx, dev, multicast_mac(next_hop), packet);
            return;
        }
        if self.is_broadcast(next_hop) {
            self.send_on_link(ctx, dev, MacAddr::BROADCAST, packet);
            return;
        }
        // The fast path: a connected entry sends without touching the neighbour state.
        if let Some(entry) = self.neigh.get(&(dev, next_hop))
            && entry.state.is_connected()
            && let Some(mac) = entry.mac
        {
            self.send_on_link(ctx, dev, mac, packet);
            return;
        }
        let now = ctx.now;
        let parms = self.neigh_parms(dev, now);
        let entry = self
            .neigh
            .entry((dev, next_hop))
            .or_insert_with(|| NeighEntry::new(now));
        let before = entry.state;
        let mut actions = Actions::default();
        match entry.output(packet, now, &parms, &mut actions) {
            Output::Send(mac, packet) => {
                if before == NudState::Stale {
                    explain!(
                        ctx,
                        "{}: {next_hop} on {} STALE → DELAY: a packet goes to {mac}; it is probed in {} unless confirmed",
                        self.name,
                        self.ifaces[dev].name,
                        human_duration(parms.delay_probe_time)
                    );
                }
                self.send_on_link(ctx, dev, mac, packet);
            }
            Output::Queued => {
                if before != NudState::Incomplete {
                    explain!(
                        ctx,
                        "{}: {next_hop} on {} unresolved ({}) → INCOMPLETE: packet queued, asking who-has {next_hop}",
                        self.name,
                        self.ifaces[dev].name,
                        before
                    );
                }
            }
            Output::Dropped(_) => {
                let name = self.ifaces[dev].name.clone();
                ctx.drop_packet(
                    &name,
                    format!("arp-failed: {next_hop} cannot be resolved (no ARP probes configured)"),
                );
            }
        }
        self.neigh_actions(ctx, dev, next_hop, actions);
    }

    /// Frames a datagram for `dst_mac` and transmits it.
    pub(crate) fn send_on_link(
        &self,
        ctx: &mut Ctx,
        dev: IfIndex,
        dst_mac: MacAddr,
        mut packet: Packet,
    ) {
        EthHeader {
            dst: dst_mac,
            src: self.ifaces[dev].mac,
            ethertype: ETHERTYPE_IPV4,
        }
        .prepend_to(&mut packet);
        self.transmit(ctx, dev, packet, None);
    }

    /// Carries out what a neighbour state change asks for: probe, release or fail the queue,
    /// and arm the entry's timer.
    pub(crate) fn neigh_actions(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        ip: Ipv4Addr,
        actions: Actions,
    ) {
        if let Some(to) = actions.solicit {
            let queued_src = self
                .neigh
                .get(&(dev, ip))
                .and_then(|e| e.queue.back())
                .and_then(|p| ipv4::parse(p.data()).ok())
                .map(|info| info.src);
            self.arp_solicit(ctx, dev, ip, to, queued_src);
        }
        if !actions.release.is_empty() {
            let mac = self.neigh[&(dev, ip)]
                .mac
                .expect("released entries are resolved");
            for packet in actions.release {
                self.send_on_link(ctx, dev, mac, packet);
            }
        }
        for _ in actions.overflow {
            ctx.drop_packet(
                &self.ifaces[dev].name,
                format!("arp-failed: queue for {ip} full (unres_qlen)"),
            );
        }
        for packet in actions.fail {
            let name = &self.ifaces[dev].name;
            ctx.drop_packet(name, format!("arp-failed: no reply for {ip} on {name}"));
            self.report_link_failure(ctx, packet);
        }
        self.schedule_neigh_timer(ctx, dev, ip);
    }

    /// A neighbour timer event; ignored if the entry was re-armed or removed since.
    pub(crate) fn neigh_timer(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        ip: Ipv4Addr,
        generation: u64,
    ) {
        let now = ctx.now;
        let parms = self.neigh_parms(dev, now);
        let Some(entry) = self.neigh.get_mut(&(dev, ip)) else {
            return;
        };
        if entry.timer_gen != generation || entry.timer.is_none() {
            return;
        }
        let probes_before = entry.probes;
        let actions = entry.timer_fired(now, &parms);
        let (probes, mac) = (entry.probes, entry.mac);
        if ctx.explaining() {
            let dev_name = &self.ifaces[dev].name;
            let reason = match actions.transition {
                Some((NudState::Reachable, NudState::Stale)) => format!(
                    "no confirmation within reachable_time ({}); traffic alone does not extend it",
                    human_duration(parms.reachable_time)
                ),
                Some((NudState::Reachable, NudState::Delay)) => {
                    "reachable_time expired while in use".to_owned()
                }
                Some((NudState::Delay, NudState::Reachable)) => {
                    "confirmed (TCP progress) during the delay".to_owned()
                }
                Some((NudState::Delay, NudState::Probe)) => format!(
                    "not confirmed within delay_first_probe_time ({}); unicast probes to {}",
                    human_duration(parms.delay_probe_time),
                    mac.unwrap_or_default()
                ),
                Some((from, NudState::Failed)) => format!(
                    "{} {} unanswered",
                    probes,
                    if from == NudState::Probe {
                        "unicast probes"
                    } else {
                        "requests"
                    }
                ),
                _ => String::new(),
            };
            if let Some((from, to)) = actions.transition {
                ctx.note(format!(
                    "{}: {ip} on {dev_name} {from} → {to}: {reason}",
                    self.name
                ));
            } else if actions.solicit.is_some() && probes > probes_before {
                ctx.note(format!(
                    "{}: {ip} on {dev_name} still unanswered: asking again",
                    self.name
                ));
            }
        }
        self.neigh_actions(ctx, dev, ip, actions);
    }

    /// TCP saw forward progress through `next_hop`: `neigh_confirm`.
    pub(crate) fn confirm_neighbour(
        &mut self,
        dev: IfIndex,
        next_hop: Ipv4Addr,
        now: crate::sim::SimTime,
    ) {
        if let Some(entry) = self.neigh.get_mut(&(dev, next_hop)) {
            entry.confirm(now);
        }
    }
}
