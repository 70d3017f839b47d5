//! A LAN: a store-and-forward learning switch (or a hub) with per-hop latency and
//! serialisation at a bandwidth, and partitions that drop frames between groups of hosts.

use rustc_hash::FxHashMap;

use super::iface::IfIndex;
use crate::sim::SimTime;
use crate::trace::HostId;
use crate::wire::MacAddr;

/// Bytes a frame occupies on the wire beyond its captured bytes: FCS (4), preamble and SFD
/// (8), inter-frame gap (12).
const WIRE_OVERHEAD: u64 = 24;
/// How long a switch remembers where a MAC address was seen (Linux bridge default).
const FDB_AGEING: u64 = 300_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanKind {
    Switch,
    Hub,
}

/// One switch port and the NIC plugged into it.
#[derive(Debug, Clone)]
pub struct Port {
    pub host: HostId,
    pub iface: IfIndex,
    /// Added to the LAN latency for frames this NIC sends (`latency` on the NIC).
    pub extra_latency: u64,
    /// When the NIC's transmitter and the switch's egress towards it are free again.
    nic_free_at: SimTime,
    egress_free_at: SimTime,
    /// Partition group (all ports share group 0 when the LAN is whole).
    pub group: usize,
}

pub struct Lan {
    pub name: String,
    pub kind: LanKind,
    pub latency: u64,
    /// Bits per second; None means infinitely fast.
    pub bandwidth: Option<u64>,
    pub ports: Vec<Port>,
    fdb: FxHashMap<MacAddr, (usize, SimTime)>,
}

/// Where a frame goes after the switch looked at it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// (port, arrival time at the NIC).
    pub deliveries: Vec<(usize, SimTime)>,
    /// Ports the frame would have reached but for a partition.
    pub partitioned: Vec<usize>,
}

impl Lan {
    pub fn new(name: &str, kind: LanKind, latency: u64, bandwidth: Option<u64>) -> Lan {
        Lan {
            name: name.to_owned(),
            kind,
            latency,
            bandwidth,
            ports: Vec::new(),
            fdb: FxHashMap::default(),
        }
    }

    pub fn add_port(&mut self, host: HostId, iface: IfIndex, extra_latency: u64) -> usize {
        self.ports.push(Port {
            host,
            iface,
            extra_latency,
            nic_free_at: SimTime::ZERO,
            egress_free_at: SimTime::ZERO,
            group: 0,
        });
        self.ports.len() - 1
    }

    fn serialisation(&self, len: usize) -> u64 {
        match self.bandwidth {
            Some(bps) if bps > 0 => {
                ((len as u64 + WIRE_OVERHEAD) * 8 * 1_000_000_000).div_ceil(bps)
            }
            _ => 0,
        }
    }

    /// A NIC starts sending a frame of `len` bytes at `now`: when it has fully reached the
    /// switch (after queueing behind earlier frames, serialisation and the hop's latency).
    pub fn ingress_time(&mut self, port: usize, len: usize, now: SimTime) -> SimTime {
        let ser = self.serialisation(len);
        let p = &mut self.ports[port];
        let start = p.nic_free_at.max(now);
        p.nic_free_at = start + ser;
        start + ser + self.latency + p.extra_latency
    }

    /// The switch received a whole frame from `port` at `now`: learn the source, pick the
    /// output ports (flood for group or unknown addresses), and time each delivery — into the
    /// caller's buffers (cleared first), so a busy switch allocates nothing per frame.
    pub fn forward(
        &mut self,
        port: usize,
        (src, dst): (MacAddr, MacAddr),
        len: usize,
        now: SimTime,
        result: &mut Forwarding,
    ) {
        result.deliveries.clear();
        result.partitioned.clear();
        let unicast_to = match self.kind {
            LanKind::Hub => None,
            LanKind::Switch => {
                if !src.is_multicast() {
                    self.fdb.insert(src, (port, now));
                }
                let known = self
                    .fdb
                    .get(&dst)
                    .filter(|(_, seen)| now.since(*seen) < FDB_AGEING)
                    .map(|(p, _)| *p);
                match known {
                    Some(out) if out == port => return,
                    Some(out) if !dst.is_multicast() => Some(out),
                    _ => None,
                }
            }
        };
        let ser = self.serialisation(len);
        let group = self.ports[port].group;
        match unicast_to {
            Some(out) => self.deliver(out, (group, ser, now), result),
            None => {
                for out in (0..self.ports.len()).filter(|&p| p != port) {
                    self.deliver(out, (group, ser, now), result);
                }
            }
        }
    }

    /// Queues the frame on an output port (after whatever that port is still sending), or
    /// notes that a partition keeps it from there.
    fn deliver(
        &mut self,
        out: usize,
        (group, ser, now): (usize, u64, SimTime),
        result: &mut Forwarding,
    ) {
        if self.ports[out].group != group {
            result.partitioned.push(out);
            return;
        }
        let p = &mut self.ports[out];
        let start = p.egress_free_at.max(now);
        p.egress_free_at = start + ser;
        result.deliveries.push((out, start + ser + self.latency));
    }

    /// Splits the LAN: `group_of(host)` gives each port's group.
    pub fn partition(&mut self, group_of: impl Fn(HostId) -> usize) {
        for port in &mut self.ports {
            port.group = group_of(port.host);
        }
    }

    pub fn heal(&mut self) {
        for port in &mut self.ports {
            port.group = 0;
        }
    }

    pub fn port_of(&self, host: HostId, iface: IfIndex) -> Option<usize> {
        self.ports
            .iter()
            .position(|p| p.host == host && p.iface == iface)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(
        lan: &mut Lan,
        port: usize,
        macs: (MacAddr, MacAddr),
        len: usize,
        now: SimTime,
    ) -> Forwarding {
        let mut result = Forwarding::default();
        lan.forward(port, macs, len, now, &mut result);
        result
    }

    fn mac(n: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, n])
    }

    fn lan() -> Lan {
        let mut lan = Lan::new("lan0", LanKind::Switch, 1_000, Some(100_000_000));
        for host in 0..3 {
            lan.add_port(host, 1, 0);
        }
        lan
    }

    #[test]
    fn unknown_destinations_flood_then_the_switch_learns() {
        let mut lan = lan();
        let flood = forward(&mut lan, 0, (mac(0), mac(2)), 60, SimTime(0));
        assert_eq!(
            flood.deliveries.iter().map(|d| d.0).collect::<Vec<_>>(),
            vec![1, 2]
        );
        forward(&mut lan, 2, (mac(2), mac(0)), 60, SimTime(10));
        let learned = forward(&mut lan, 0, (mac(0), mac(2)), 60, SimTime(20));
        assert_eq!(
            learned.deliveries.iter().map(|d| d.0).collect::<Vec<_>>(),
            vec![2]
        );
    }

    #[test]
    fn serialisation_and_latency_add_up_per_hop() {
        let mut lan = lan();
        // 60 bytes + 24 overhead = 672 bits at 100 Mbit/s = 6720 ns, plus 1000 ns latency.
        assert_eq!(lan.ingress_time(0, 60, SimTime(0)), SimTime(7_720));
        // A second frame waits for the first to leave the NIC.
        assert_eq!(lan.ingress_time(0, 60, SimTime(0)), SimTime(14_440));
        let out = forward(
            &mut lan,
            0,
            (mac(0), MacAddr::BROADCAST),
            60,
            SimTime(7_720),
        );
        assert_eq!(out.deliveries[0], (1, SimTime(15_440)));
    }

    #[test]
    fn partitions_drop_frames_between_groups() {
        let mut lan = lan();
        lan.partition(|host| (host == 0) as usize);
        let out = forward(&mut lan, 1, (mac(1), MacAddr::BROADCAST), 60, SimTime(0));
        assert_eq!(
            out.deliveries.iter().map(|d| d.0).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(out.partitioned, vec![0]);
        lan.heal();
        assert_eq!(
            forward(&mut lan, 1, (mac(1), MacAddr::BROADCAST), 60, SimTime(0))
                .deliveries
                .len(),
            2
        );
    }
}
