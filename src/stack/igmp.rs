//! The host's side of IGMPv3 (`net/ipv4/igmp.c`): when a socket joins or leaves a group the
//! kernel sends a state-change report at once and repeats it once (robustness variable 2)
//! after a random delay of up to the unsolicited report interval (1 s). A leave is sent
//! even when the process was killed: closing its socket is the kernel's job (§9).

use std::net::Ipv4Addr;

use super::ctx::Ctx;
use super::host::{Host, HostEvent, OutRoute};
use super::iface::IfIndex;
use crate::wire::igmp;

/// `igmp_v3_unsolicited_report_interval`: 1000 ms.
const UNSOLICITED_REPORT_INTERVAL_NS: u64 = 1_000_000_000;

impl Host {
    /// A socket joined (`join`) or left `group` on `dev`: the first report now, the repeat
    /// later.
    pub(crate) fn igmp_change(&mut self, ctx: &mut Ctx, dev: IfIndex, group: Ipv4Addr, join: bool) {
        self.igmp_report(ctx, dev, group, join);
        let delay = self
            .rng
            .range_inclusive(0, UNSOLICITED_REPORT_INTERVAL_NS - 1);
        ctx.after(
            delay,
            HostEvent::IgmpReport {
                iface: dev,
                group,
                join,
            },
        );
    }

    /// Sends one state-change report from the device's primary address.
    pub(crate) fn igmp_report(&mut self, ctx: &mut Ctx, dev: IfIndex, group: Ipv4Addr, join: bool) {
        let Some(src) = self.ifaces[dev].primary().map(|a| a.local) else {
            return;
        };
        let id = self.next_ip_id();
        let mut packet = igmp::state_change_report(src, id, group, join);
        if ctx.explaining() {
            let what = if join { "joined" } else { "left" };
            packet.annotate(format!(
                "IGMPv3 report: a socket on {} {what} {group} (the kernel reports it twice)",
                self.name
            ));
        }
        let route = OutRoute {
            dev,
            next_hop: igmp::ALL_V3_ROUTERS,
            src,
            local: false,
            broadcast: false,
        };
        self.ip_send(ctx, &route, packet);
    }
}
