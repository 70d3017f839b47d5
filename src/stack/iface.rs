//! Network interfaces of a host: loopback, Ethernet NICs attached to a LAN, and the IPIP
//! tunnel device.

use std::net::Ipv4Addr;
use std::rc::Rc;

use super::addr::IfAddr;
use super::sysctl::{DevConf, NeighParms};
use crate::sim::SimTime;
use crate::wire::MacAddr;

/// Index of an interface inside its host (`lo` is 0). Linux's ifindex is this plus one.
pub type IfIndex = usize;

pub const LOOPBACK: IfIndex = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfKind {
    Loopback,
    Ethernet,
    /// `tunl0`, created by `modprobe ipip`: no link-layer header, no ARP.
    Tunnel,
}

/// Where an Ethernet NIC plugs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    pub lan: usize,
    pub port: usize,
}

/// Packet and byte counters, as `ifconfig` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

/// One interface (`struct net_device` + `struct in_device`).
#[derive(Debug, Clone)]
pub struct Iface {
    /// Shared, so that every capture on the interface can name it without an allocation.
    pub name: Rc<str>,
    pub kind: IfKind,
    pub mac: MacAddr,
    /// `ip link set up` / `ifconfig up`.
    pub admin_up: bool,
    pub mtu: u32,
    pub addrs: Vec<IfAddr>,
    pub conf: DevConf,
    pub neigh_parms: NeighParms,
    /// The randomised `reachable_time` of this device's parameters, and when it was drawn.
    pub reachable_time_ns: u64,
    pub reachable_drawn_at: SimTime,
    pub attachment: Option<Attachment>,
    /// Addresses the scenario gives the NIC (its ifcfg file): re-applied by `ifup`.
    pub boot_addrs: Vec<(Ipv4Addr, u8)>,
    pub counters: Counters,
}

impl Iface {
    pub fn new(name: &str, kind: IfKind, mac: MacAddr, conf: DevConf, parms: NeighParms) -> Iface {
        Iface {
            name: Rc::from(name),
            kind,
            mac,
            admin_up: kind == IfKind::Loopback,
            mtu: match kind {
                IfKind::Loopback => 65536,
                IfKind::Ethernet => 1500,
                IfKind::Tunnel => 1480,
            },
            addrs: Vec::new(),
            conf,
            neigh_parms: parms,
            reachable_time_ns: 30_000_000_000,
            reachable_drawn_at: SimTime::ZERO,
            attachment: None,
            boot_addrs: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Whether the device resolves neighbours with ARP.
    pub fn uses_arp(&self) -> bool {
        self.kind == IfKind::Ethernet
    }

    /// The first primary address (what `ifconfig` shows as `inet`).
    pub fn primary(&self) -> Option<&IfAddr> {
        self.addrs.iter().find(|a| !a.secondary)
    }

    pub fn has_addr(&self, ip: Ipv4Addr) -> bool {
        self.addrs.iter().any(|a| a.local == ip)
    }

    pub fn addr(&self, ip: Ipv4Addr) -> Option<&IfAddr> {
        self.addrs.iter().find(|a| a.local == ip)
    }

    /// Whether some prefix on this device contains both addresses (`inet_addr_onlink`).
    pub fn onlink(&self, a: Ipv4Addr, b: Ipv4Addr) -> bool {
        self.addrs
            .iter()
            .any(|ifa| ifa.contains(a) && ifa.contains(b))
    }

    /// Whether `ip` is a broadcast address of one of this device's prefixes.
    pub fn is_broadcast_addr(&self, ip: Ipv4Addr) -> bool {
        self.addrs
            .iter()
            .any(|a| a.broadcast_addresses().any(|b| b == ip))
    }
}
