//! A Linux host: interfaces and addresses, the routing table, the neighbour table, sysctls,
//! sockets and running programs. The packet paths live in `arp`, `ip`, `icmp`, `tcp` and
//! `udp`; this file holds the configuration the `ip`/`ifconfig`/`route`/`sysctl` commands edit.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;

use super::addr::{self, IfAddr, Scope};
use super::apps::AppSlot;
use super::apps::web_server::WebServer;
use super::ctx::{Ctx, TxFrame};
use super::fou::FouPort;
use super::iface::{Attachment, IfIndex, IfKind, Iface, LOOPBACK};
use super::neigh::{self, NeighEntry};
use super::netfilter::Netfilter;
use super::route::{Route, RouteError, RouteKind, RouteProto, RouteSelector, RouteTable};
use super::sysctl::{
    ConfKey, DevConf, Effective, Global, GlobalSysctls, NeighKey, NeighParms, SysctlError,
    parse_conf_value,
};
use super::tcp::TcpStack;
use crate::diagnosis::ArpClaim;
use crate::keepalived::daemon::Keepalived;
use crate::lvs::table::Ipvs;
use crate::sim::{SimRng, SimTime};
use crate::trace::{Capture, Direction, HostId, Link};
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::EthHeader;
use crate::wire::{MacAddr, Packet};

/// The timed and asynchronous work a host receives from the event queue.
#[derive(Debug)]
pub enum HostEvent {
    /// A frame arrives on a NIC.
    FrameRx { iface: IfIndex, frame: Packet },
    /// A datagram sent to one of the host's own addresses, delivered through `lo`.
    Loopback { packet: Packet },
    /// A neighbour entry's timer; `generation` identifies the arming it belongs to.
    NeighTimer {
        iface: IfIndex,
        ip: Ipv4Addr,
        generation: u64,
    },
    /// A TCP socket's timer.
    TcpTimer { socket: usize, generation: u64 },
    /// A program's timer (ping's next probe, arping's deadline, ...).
    AppTimer { app: usize, token: u64 },
    /// A proxy ARP reply due after its random delay.
    ProxyArpReply { iface: IfIndex, request: ArpRepr },
    /// An IP reassembly queue timed out.
    ReassemblyTimeout { key: (Ipv4Addr, Ipv4Addr, u16, u8) },
    /// IPVS connection expiry and housekeeping.
    IpvsTimer,
    /// The master sync daemon's buffer is due.
    IpvsSync,
    /// The repeat of an IGMPv3 state-change report.
    IgmpReport {
        iface: IfIndex,
        group: Ipv4Addr,
        join: bool,
    },
    /// TIME_WAIT records run out.
    TimeWaitTimer,
    /// keepalived's VRRP timers.
    Keepalived(crate::keepalived::daemon::Timer),
}

/// The route chosen for a locally generated datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutRoute {
    pub dev: IfIndex,
    pub next_hop: Ipv4Addr,
    pub src: Ipv4Addr,
    /// The destination is one of this host's addresses: deliver through `lo`.
    pub local: bool,
    pub broadcast: bool,
}

/// Why no route could be found (errno as the tools print it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteFailure {
    NetworkUnreachable,
    Prohibited,
    Blackhole,
    /// The requested source address is not local.
    BadSource,
}

impl RouteFailure {
    pub fn errno_text(self) -> &'static str {
        match self {
            RouteFailure::NetworkUnreachable => "Network is unreachable",
            RouteFailure::Prohibited => "Permission denied",
            RouteFailure::Blackhole => "Invalid argument",
            RouteFailure::BadSource => "Cannot assign requested address",
        }
    }
}

/// A simulated Linux host.
pub struct Host {
    pub id: HostId,
    pub name: String,
    pub ifaces: Vec<Iface>,
    pub routes: RouteTable,
    pub neigh: FxHashMap<(IfIndex, Ipv4Addr), NeighEntry>,
    pub conf_all: DevConf,
    pub conf_default: DevConf,
    pub neigh_default: NeighParms,
    pub sysctl: GlobalSysctls,
    /// The filter and mangle tables `iptables` edits.
    pub netfilter: Netfilter,
    /// `ip fou add` receive ports.
    pub fou: Vec<FouPort>,
    pub tcp: TcpStack,
    pub apps: Vec<AppSlot>,
    /// The programs with a packet socket (arping) and with a raw ICMP socket (ping).
    pub(crate) arp_readers: Vec<usize>,
    pub(crate) icmp_readers: Vec<usize>,
    /// Every local address of an up device → the first such device: `local_dev` is asked
    /// per packet, hosts may hold thousands of addresses. Rebuilt by `reindex_local_addrs`
    /// whenever addresses or a device's state change.
    local_addrs: FxHashMap<Ipv4Addr, IfIndex>,
    /// The subnet broadcast addresses of the up non-loopback devices, sorted and without
    /// repeats: `is_broadcast` is asked several times per packet, and a host with a hundred
    /// addresses in one subnet has a single one. Rebuilt with `local_addrs`.
    broadcast_addrs: Vec<Ipv4Addr>,
    /// The prefixes shorter than /32 on `lo` while it is up, as (network, length): each makes
    /// its whole range local. Rebuilt with `local_addrs`, so `local_dev` does not walk `lo`'s
    /// addresses for every non-local address it is asked about.
    lo_ranges: Vec<(Ipv4Addr, u8)>,
    /// The web server `systemctl start nginx|httpd` runs.
    pub web: WebServer,
    /// Packets that reached a local socket or program, by source address.
    /// Looked up by address only (never listed), so a hash map: a real server counts a
    /// packet from each of thousands of clients.
    pub replies_from: FxHashMap<Ipv4Addr, u64>,
    pub powered_off: bool,
    pub(crate) rng: SimRng,
    pub(crate) ip_id: u16,
    /// ICMP error rate limit per destination: (last refill, tokens in ns).
    pub(crate) icmp_tokens: FxHashMap<Ipv4Addr, (SimTime, u64)>,
    /// Routes learned from ICMP redirects: destination → (gateway, expiry).
    pub route_exceptions: FxHashMap<Ipv4Addr, (Ipv4Addr, SimTime)>,
    /// Redirects sent per destination: (last sent, how many).
    pub(crate) redirect_tokens: FxHashMap<Ipv4Addr, (SimTime, u64)>,
    pub(crate) reassembly: super::ip::Reassembly,
    /// A counter for process ids of started programs (ping's ICMP id, ...).
    pub(crate) next_pid: u32,
    /// IPVS: inactive until an `ipvsadm` line adds a virtual service.
    pub ipvs: Box<Ipvs>,
    /// When the pending IPVS timer event fires.
    pub(crate) ipvs_wakeup: Option<SimTime>,
    /// When the pending sync-flush event fires, and the master sync socket's source port.
    pub(crate) ipvs_sync_wakeup: Option<SimTime>,
    pub(crate) ipvs_sync_sport: u16,
    /// keepalived: its configuration file and, after `systemctl start keepalived`, the daemon.
    pub keepalived: Keepalived,
}

/// A rewrite note with the frame's destination MAC filled in.
fn frame_note(note: String, frame: &Packet) -> String {
    match EthHeader::parse(frame.data()) {
        Some(eth) if note.contains(crate::wire::packet::DST_MAC) => {
            note.replace(crate::wire::packet::DST_MAC, &eth.dst.to_string())
        }
        _ => note,
    }
}

impl Host {
    /// A host with only `lo` (127.0.0.1/8, up).
    pub fn new(id: HostId, name: &str, seed: u64) -> Host {
        let conf_default = DevConf::default();
        let neigh_default = NeighParms::default();
        let mut rng = SimRng::stream(seed, &format!("{name}/host"));
        let ip_id = rng.next_u16();
        let next_pid = 1000 + (rng.next_u32() % 30000);
        let mut host = Host {
            id,
            name: name.to_owned(),
            ifaces: Vec::new(),
            routes: RouteTable::default(),
            neigh: FxHashMap::default(),
            conf_all: DevConf::default(),
            conf_default,
            neigh_default,
            sysctl: GlobalSysctls::default(),
            netfilter: Netfilter::default(),
            fou: Vec::new(),
            tcp: TcpStack::new(seed, name),
            apps: Vec::new(),
            arp_readers: Vec::new(),
            icmp_readers: Vec::new(),
            local_addrs: FxHashMap::default(),
            broadcast_addrs: Vec::new(),
            lo_ranges: Vec::new(),
            web: WebServer::new(),
            replies_from: FxHashMap::default(),
            powered_off: false,
            rng,
            ip_id,
            icmp_tokens: FxHashMap::default(),
            redirect_tokens: FxHashMap::default(),
            route_exceptions: FxHashMap::default(),
            reassembly: Default::default(),
            next_pid,
            ipvs: Box::new(Ipvs::new(seed)),
            ipvs_wakeup: None,
            ipvs_sync_wakeup: None,
            ipvs_sync_sport: 0,
            keepalived: Keepalived::default(),
        };
        let lo = host.create_iface("lo", IfKind::Loopback, MacAddr::ZERO);
        let loopback = IfAddr {
            local: Ipv4Addr::LOCALHOST,
            prefix_len: 8,
            broadcast: None,
            label: "lo".into(),
            scope: Scope::Host,
            secondary: false,
            noprefixroute: false,
        };
        host.add_address(lo, loopback).expect("fresh loopback");
        host
    }

    fn create_iface(&mut self, name: &str, kind: IfKind, mac: MacAddr) -> IfIndex {
        let mut iface = Iface::new(
            name,
            kind,
            mac,
            self.conf_default.clone(),
            self.neigh_default.clone(),
        );
        iface.reachable_time_ns = self.draw_reachable_time(&iface.neigh_parms);
        self.ifaces.push(iface);
        self.ifaces.len() - 1
    }

    /// Adds an Ethernet NIC plugged into a LAN port (down until configured up).
    pub fn add_nic(&mut self, name: &str, mac: MacAddr, attachment: Attachment) -> IfIndex {
        let index = self.create_iface(name, IfKind::Ethernet, mac);
        self.ifaces[index].attachment = Some(attachment);
        index
    }

    /// Creates a tunnel module's fallback device if it does not exist yet: `tunl0`
    /// (`modprobe ipip`) or `gre0` (`modprobe ip_gre`).
    pub fn ensure_tunnel(&mut self, name: &str) -> IfIndex {
        match self.iface_index(name) {
            Some(index) => index,
            None => self.create_iface(name, IfKind::Tunnel, MacAddr::ZERO),
        }
    }

    pub fn iface_index(&self, name: &str) -> Option<IfIndex> {
        self.ifaces.iter().position(|i| *i.name == *name)
    }

    /// Resolves a device name or an alias label (`eth0:2`) to the device.
    pub fn resolve_dev(&self, name: &str) -> Option<IfIndex> {
        let device = name.split(':').next().unwrap_or(name);
        self.iface_index(device)
    }

    // ----- addresses ---------------------------------------------------------------------

    /// Adds an address as `ip addr add` does, with the prefix route the kernel installs for a
    /// primary address (none for /32, and on `lo` a prefix shorter than /32 is all local).
    pub fn add_address(&mut self, dev: IfIndex, address: IfAddr) -> Result<(), &'static str> {
        addr::insert_address(&mut self.ifaces[dev].addrs, address.clone())?;
        let inserted = self.ifaces[dev]
            .addrs
            .iter()
            .find(|a| a.local == address.local)
            .expect("just inserted")
            .clone();
        if self.ifaces[dev].admin_up {
            self.add_prefix_route(dev, &inserted);
        }
        self.reindex_local_addrs();
        Ok(())
    }

    /// Rebuilds the local-address index from the up devices, first device first.
    fn reindex_local_addrs(&mut self) {
        self.local_addrs.clear();
        self.broadcast_addrs.clear();
        for (dev, iface) in self.ifaces.iter().enumerate().filter(|(_, i)| i.admin_up) {
            for a in &iface.addrs {
                self.local_addrs.entry(a.local).or_insert(dev);
            }
            if iface.kind != IfKind::Loopback {
                self.broadcast_addrs
                    .extend(iface.addrs.iter().flat_map(IfAddr::broadcast_addresses));
            }
        }
        self.broadcast_addrs.sort_unstable();
        self.broadcast_addrs.dedup();
        self.lo_ranges.clear();
        let lo = &self.ifaces[LOOPBACK];
        if lo.admin_up {
            let ranges = lo.addrs.iter().filter(|a| a.prefix_len < 32);
            self.lo_ranges
                .extend(ranges.map(|a| (a.local, a.prefix_len)));
        }
    }

    fn add_prefix_route(&mut self, dev: IfIndex, address: &IfAddr) {
        let kind = self.ifaces[dev].kind;
        if address.secondary
            || address.noprefixroute
            || address.prefix_len >= 32
            || kind == IfKind::Loopback
        {
            return;
        }
        let _ = self.routes.add(Route {
            dst: address.network(),
            prefix_len: address.prefix_len,
            gateway: None,
            dev: Some(dev),
            src: Some(address.local),
            scope: Scope::Link,
            metric: 0,
            proto: RouteProto::Kernel,
            kind: RouteKind::Unicast,
        });
    }

    pub fn del_address(
        &mut self,
        dev: IfIndex,
        ip: Ipv4Addr,
        prefix_len: Option<u8>,
    ) -> Result<IfAddr, &'static str> {
        let removed = addr::remove_address(&mut self.ifaces[dev].addrs, ip, prefix_len)
            .ok_or("Cannot assign requested address")?;
        self.routes
            .remove_prefix_route(dev, removed.network(), removed.prefix_len, removed.local);
        self.reindex_local_addrs();
        Ok(removed)
    }

    /// The up device holding `ip` as a local address (`RTN_LOCAL` in the local table).
    pub fn local_dev(&self, ip: Ipv4Addr) -> Option<IfIndex> {
        if let Some(&dev) = self.local_addrs.get(&ip) {
            return Some(dev);
        }
        // A prefix on `lo` makes its whole range local; `lo` is always device 0 (the one
        // loopback device, created with the host).
        let on_lo = |&(net, len): &(Ipv4Addr, u8)| addr::in_prefix(ip, net, len);
        self.lo_ranges.iter().any(on_lo).then_some(LOOPBACK)
    }

    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        self.local_dev(ip).is_some()
    }

    /// Whether `ip` is a broadcast address for this host (limited or a subnet broadcast).
    pub fn is_broadcast(&self, ip: Ipv4Addr) -> bool {
        ip == Ipv4Addr::BROADCAST || self.broadcast_addrs.binary_search(&ip).is_ok()
    }

    /// Whether `ip` is an address of any device, up or down (the up ones are indexed).
    pub fn has_addr_on_any_device(&self, ip: Ipv4Addr) -> bool {
        self.local_addrs.contains_key(&ip)
            || self.ifaces.iter().any(|i| !i.admin_up && i.has_addr(ip))
    }

    /// `inet_select_addr`: the source address for talking to `dst` through `dev` at `scope`:
    /// a primary address on `dev` whose prefix holds `dst`, else its first primary, else a
    /// primary address of another device (lo first).
    pub fn select_source(
        &self,
        dev: IfIndex,
        dst: Option<Ipv4Addr>,
        scope: Scope,
    ) -> Option<Ipv4Addr> {
        let mut first = None;
        for a in self.ifaces[dev]
            .addrs
            .iter()
            .filter(|a| !a.secondary && a.scope <= scope)
        {
            if dst.is_none_or(|d| a.contains(d)) {
                return Some(a.local);
            }
            first.get_or_insert(a.local);
        }
        if first.is_some() {
            return first;
        }
        self.ifaces.iter().filter(|i| i.admin_up).find_map(|iface| {
            iface
                .addrs
                .iter()
                .find(|a| !a.secondary && a.scope != Scope::Link && a.scope <= scope)
                .map(|a| a.local)
        })
    }

    // ----- links -------------------------------------------------------------------------

    /// `ip link set DEV up|down`. Down flushes the device's routes and neighbour entries; up
    /// re-installs the prefix routes of its addresses (manual routes are gone, as in Linux).
    pub fn set_link(&mut self, ctx: &mut Ctx, dev: IfIndex, up: bool) {
        if self.ifaces[dev].admin_up == up {
            return;
        }
        self.ifaces[dev].admin_up = up;
        self.reindex_local_addrs();
        if up {
            let addrs = self.ifaces[dev].addrs.clone();
            for a in &addrs {
                self.add_prefix_route(dev, a);
            }
            if self.effective(ConfKey::ArpNotify, dev).value > 0 {
                for a in addrs.iter().filter(|a| !a.secondary) {
                    self.send_gratuitous(ctx, dev, a.local, None);
                }
            }
        } else {
            self.routes.remove_dev(dev);
            self.neigh
                .retain(|(d, _), e| *d != dev || e.state == neigh::NudState::Permanent);
        }
        self.keepalived_link_change(ctx, dev, up);
    }

    /// `poweroff`: the host stops answering and sending; its programs end.
    pub fn power_off(&mut self, ctx: &mut Ctx) {
        self.powered_off = true;
        self.keepalived_kill(ctx, "powered off");
        self.web.running = None;
        for slot in 0..self.apps.len() {
            self.kill_program(ctx, slot);
        }
    }

    // ----- routes ------------------------------------------------------------------------

    /// Adds a route; a device route needs the device up, a gateway must be reachable on-link.
    pub fn add_route(&mut self, route: Route) -> Result<(), String> {
        if let Some(dev) = route.dev
            && !self.ifaces[dev].admin_up
            && route.kind == RouteKind::Unicast
        {
            return Err("Network is down".into());
        }
        self.routes
            .add(route)
            .map_err(|e: RouteError| e.to_string())
    }

    pub fn del_route(&mut self, selector: &RouteSelector) -> Result<Route, String> {
        self.routes.delete(selector).map_err(|e| e.to_string())
    }

    /// The device and gateway for a gateway-only route (`route add default gw G`): the
    /// device of the on-link route to G.
    pub fn gateway_dev(&self, gateway: Ipv4Addr) -> Option<IfIndex> {
        let route = self.routes.lookup(gateway, None)?;
        (route.gateway.is_none()).then_some(route.dev).flatten()
    }

    /// `ip_route_output`: where a datagram to `dst` leaves, and from which source address.
    pub fn route_output(
        &self,
        dst: Ipv4Addr,
        oif: Option<IfIndex>,
        src: Option<Ipv4Addr>,
    ) -> Result<OutRoute, RouteFailure> {
        self.route_output_at(dst, oif, src, None)
    }

    /// `route_output` that also follows redirect-learned exceptions still valid at `now`.
    pub fn route_output_at(
        &self,
        dst: Ipv4Addr,
        oif: Option<IfIndex>,
        src: Option<Ipv4Addr>,
        now: Option<SimTime>,
    ) -> Result<OutRoute, RouteFailure> {
        if let Some(s) = src
            && !self.is_local(s)
            && self.sysctl.int(Global::IpNonlocalBind) == 0
        {
            return Err(RouteFailure::BadSource);
        }
        if self.is_local(dst) && oif.is_none_or(|o| o == LOOPBACK || self.ifaces[o].has_addr(dst)) {
            return Ok(OutRoute {
                dev: LOOPBACK,
                next_hop: dst,
                src: src.unwrap_or(dst),
                local: true,
                broadcast: false,
            });
        }
        let (dev, next_hop, preferred, scope) = match self.routes.lookup(dst, oif) {
            Some(route) => {
                match route.kind {
                    RouteKind::Unicast => {}
                    RouteKind::Blackhole => return Err(RouteFailure::Blackhole),
                    RouteKind::Prohibit => return Err(RouteFailure::Prohibited),
                    RouteKind::Unreachable => return Err(RouteFailure::NetworkUnreachable),
                }
                let dev = route.dev.expect("unicast routes have a device");
                (dev, route.gateway.unwrap_or(dst), route.src, route.scope)
            }
            // With a bound device and no route, Linux assumes the destination is on-link.
            None => match oif {
                Some(o) if self.ifaces[o].admin_up => (o, dst, None, Scope::Link),
                _ => return Err(RouteFailure::NetworkUnreachable),
            },
        };
        let next_hop = match (now, self.route_exceptions.get(&dst)) {
            (Some(now), Some(&(gw, expires))) if next_hop != dst && now < expires => gw,
            _ => next_hop,
        };
        let gateway = (next_hop != dst).then_some(next_hop);
        let source = src
            .or(preferred)
            .or_else(|| self.select_source(dev, gateway, scope))
            .ok_or(RouteFailure::NetworkUnreachable)?;
        Ok(OutRoute {
            dev,
            next_hop,
            src: source,
            local: false,
            broadcast: self.is_broadcast(dst),
        })
    }

    // ----- sysctls -----------------------------------------------------------------------

    /// The effective value of a `conf` key on `dev`, with its inputs.
    pub fn effective(&self, key: ConfKey, dev: IfIndex) -> Effective {
        Effective::combine(key, &self.conf_all, &self.ifaces[dev].conf)
    }

    pub fn forwarding_enabled(&self) -> bool {
        self.conf_all.get(ConfKey::Forwarding) != 0
    }

    /// Reads a key given as `net.ipv4.conf.eth0.arp_ignore` (dots or slashes).
    pub fn sysctl_read(&self, key: &str) -> Result<String, SysctlError> {
        let parts: Vec<&str> = key.split(['.', '/']).collect();
        match parts.as_slice() {
            ["net", "ipv4", "ip_forward"] => Ok(self.conf_all.get(ConfKey::Forwarding).to_string()),
            ["net", "ipv4", "vs", name] => self
                .ipvs
                .sysctl
                .get(name)
                .map(str::to_owned)
                .ok_or(SysctlError::NoSuchKey),
            ["net", "ipv4", "conf", dev, name] => {
                let key = ConfKey::from_name(name).ok_or(SysctlError::NoSuchKey)?;
                Ok(self.conf_dir(dev)?.get(key).to_string())
            }
            ["net", "ipv4", "neigh", dev, file]
                if *dev != "default" || NeighParms::files().any(|f| f == *file) =>
            {
                let parms = self.neigh_dir(dev)?;
                parms
                    .read_file(file)
                    .map(|v| v.to_string())
                    .ok_or(SysctlError::NoSuchKey)
            }
            ["net", "ipv4", rest @ ..] => self
                .sysctl
                .get(&rest.join("."))
                .map(str::to_owned)
                .ok_or(SysctlError::NoSuchKey),
            _ => Err(SysctlError::NoSuchKey),
        }
    }

    fn conf_dir(&self, dev: &str) -> Result<&DevConf, SysctlError> {
        match dev {
            "all" => Ok(&self.conf_all),
            "default" => Ok(&self.conf_default),
            name => self
                .iface_index(name)
                .map(|i| &self.ifaces[i].conf)
                .ok_or(SysctlError::NoSuchKey),
        }
    }

    fn neigh_dir(&self, dev: &str) -> Result<&NeighParms, SysctlError> {
        match dev {
            "default" => Ok(&self.neigh_default),
            name => self
                .iface_index(name)
                .map(|i| &self.ifaces[i].neigh_parms)
                .ok_or(SysctlError::NoSuchKey),
        }
    }

    /// Writes a key as `sysctl -w` or `echo V > /proc/sys/...` would.
    pub fn sysctl_write(
        &mut self,
        key: &str,
        value: &str,
        now: SimTime,
    ) -> Result<(), SysctlError> {
        let parts: Vec<&str> = key.split(['.', '/']).collect();
        match parts.as_slice() {
            ["net", "ipv4", "ip_forward"] | ["net", "ipv4", "conf", "all", "forwarding"] => {
                let on = (parse_conf_value(value)? != 0) as i32;
                self.set_forwarding_everywhere(on);
                Ok(())
            }
            ["net", "ipv4", "conf", dev, name] => {
                let key = ConfKey::from_name(name).ok_or(SysctlError::NoSuchKey)?;
                let number = parse_conf_value(value)?;
                self.conf_dir(dev)?;
                let conf = match *dev {
                    "all" => &mut self.conf_all,
                    "default" => &mut self.conf_default,
                    name => {
                        let index = self.iface_index(name).expect("checked above");
                        &mut self.ifaces[index].conf
                    }
                };
                conf.set(key, number);
                Ok(())
            }
            ["net", "ipv4", "neigh", dev, file] if NeighParms::files().any(|f| f == *file) => {
                let number: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| SysctlError::InvalidValue)?;
                self.neigh_dir(dev)?;
                let index = self.iface_index(dev);
                let parms = match index {
                    Some(i) => &mut self.ifaces[i].neigh_parms,
                    None => &mut self.neigh_default,
                };
                parms
                    .write_file(file, number)
                    .ok_or(SysctlError::NoSuchKey)?;
                if file.starts_with("base_reachable_time")
                    && let Some(i) = index
                {
                    self.redraw_reachable_time(i, now);
                }
                Ok(())
            }
            ["net", "ipv4", "vs", name] => self.ipvs.sysctl.set(name, value.trim()),
            ["net", "ipv4", rest @ ..] => self.sysctl.set(&rest.join("."), value.trim()),
            _ => Err(SysctlError::NoSuchKey),
        }
    }

    /// `devinet_forward`: ip_forward sets `all`, `default` and every device, and turns
    /// accept_redirects off in `all` while forwarding.
    fn set_forwarding_everywhere(&mut self, on: i32) {
        self.conf_all.set(ConfKey::Forwarding, on);
        self.conf_all
            .set(ConfKey::AcceptRedirects, (on == 0) as i32);
        self.conf_default.set(ConfKey::Forwarding, on);
        for iface in &mut self.ifaces {
            iface.conf.set(ConfKey::Forwarding, on);
        }
    }

    /// Every sysctl key with its current value, for reports.
    pub fn sysctl_snapshot(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(
            "net.ipv4.ip_forward".to_owned(),
            self.conf_all.get(ConfKey::Forwarding).to_string(),
        );
        let dirs = [
            ("all".to_owned(), &self.conf_all),
            ("default".to_owned(), &self.conf_default),
        ]
        .into_iter()
        .chain(self.ifaces.iter().map(|i| (i.name.to_string(), &i.conf)));
        for (dir, conf) in dirs {
            for key in ConfKey::all() {
                out.insert(
                    format!("net.ipv4.conf.{dir}.{}", key.name()),
                    conf.get(key).to_string(),
                );
            }
        }
        let neigh_dirs = std::iter::once(("default".to_owned(), &self.neigh_default)).chain(
            self.ifaces
                .iter()
                .map(|i| (i.name.to_string(), &i.neigh_parms)),
        );
        for (dir, parms) in neigh_dirs {
            for file in NeighParms::files() {
                let value = parms.read_file(file).expect("listed file");
                out.insert(format!("net.ipv4.neigh.{dir}.{file}"), value.to_string());
            }
        }
        for (key, value) in self.sysctl.iter() {
            out.insert(format!("net.ipv4.{key}"), value.to_owned());
        }
        for (key, value) in self.ipvs.sysctl.iter() {
            out.insert(format!("net.ipv4.vs.{key}"), value.to_owned());
        }
        out
    }

    // ----- neighbour parameters ----------------------------------------------------------

    /// `neigh_rand_reach_time`: uniform in [base/2, 3·base/2).
    fn draw_reachable_time(&mut self, parms: &NeighParms) -> u64 {
        let base = parms.ns(NeighKey::BaseReachableTime);
        if base == 0 {
            return 0;
        }
        base / 2 + self.rng.range_inclusive(0, base - 1)
    }

    fn redraw_reachable_time(&mut self, dev: IfIndex, now: SimTime) {
        let parms = self.ifaces[dev].neigh_parms.clone();
        self.ifaces[dev].reachable_time_ns = self.draw_reachable_time(&parms);
        self.ifaces[dev].reachable_drawn_at = now;
    }

    /// The neighbour parameters of `dev` at `now`. The kernel re-draws `reachable_time` in its
    /// periodic work (every base/2) once 300 s have passed since the last draw; this does the
    /// same lazily, at the same instants.
    pub fn neigh_parms(&mut self, dev: IfIndex, now: SimTime) -> neigh::Parms {
        const REDRAW_AFTER: u64 = 300 * 1_000_000_000;
        let period =
            (self.ifaces[dev].neigh_parms.ns(NeighKey::BaseReachableTime) / 2).max(1_000_000_000);
        loop {
            let drawn = self.ifaces[dev].reachable_drawn_at;
            let due = drawn.ns() + REDRAW_AFTER;
            let tick = due.div_ceil(period).max(1) * period;
            if now.ns() < tick {
                break;
            }
            self.redraw_reachable_time(dev, SimTime(tick));
        }
        let iface = &self.ifaces[dev];
        let p = &iface.neigh_parms;
        neigh::Parms {
            reachable_time: iface.reachable_time_ns,
            delay_probe_time: p.ns(NeighKey::DelayFirstProbeTime),
            retrans_time: p.ns(NeighKey::RetransTime),
            locktime: p.ns(NeighKey::Locktime),
            ucast_probes: p.get(NeighKey::UcastSolicit) as u32,
            mcast_probes: p.get(NeighKey::McastSolicit) as u32,
            mcast_reprobes: p.get(NeighKey::McastResolicit) as u32,
            app_probes: p.get(NeighKey::AppSolicit) as u32,
            queue_len: p.get(NeighKey::UnresQlen) as usize,
        }
    }

    /// Arms the event for an entry's timer after a state change.
    pub(crate) fn schedule_neigh_timer(&mut self, ctx: &mut Ctx, dev: IfIndex, ip: Ipv4Addr) {
        if let Some(entry) = self.neigh.get_mut(&(dev, ip))
            && entry.timer_unscheduled
            && let Some(at) = entry.timer
        {
            entry.timer_unscheduled = false;
            let event = HostEvent::NeighTimer {
                iface: dev,
                ip,
                generation: entry.timer_gen,
            };
            ctx.at(at.max(ctx.now), event);
        }
    }

    // ----- transmit ----------------------------------------------------------------------

    /// Hands a complete Ethernet frame to a NIC: captured there (outbound) and put on the wire
    /// by the world. A NIC that is down sends nothing.
    pub fn transmit(
        &self,
        ctx: &mut Ctx,
        dev: IfIndex,
        mut frame: Packet,
        claim: Option<ArpClaim>,
    ) {
        let iface = &self.ifaces[dev];
        if !iface.admin_up || self.powered_off {
            ctx.drop_packet(&iface.name, format!("link-down: {} is down", iface.name));
            return;
        }
        if ctx.trace.enabled() {
            ctx.trace.capture(Capture {
                t: ctx.now,
                host: self.id,
                iface: iface.name.clone(),
                dir: Direction::Out,
                link: Link::Ethernet,
                frame: frame.data().to_vec(),
                notes: frame
                    .take_note()
                    .map(|n| frame_note(n, &frame))
                    .into_iter()
                    .collect(),
            });
        }
        ctx.tx.push(TxFrame {
            host: self.id,
            iface: dev,
            frame,
            claim: claim.map(Box::new),
        });
    }

    /// The next IP identification value (a per-host counter, started at a random value).
    pub(crate) fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    pub fn default_ttl(&self) -> u8 {
        self.sysctl.int(Global::IpDefaultTtl).clamp(1, 255) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        let mut h = Host::new(0, "rs1", 1);
        let eth0 = h.add_nic(
            "eth0",
            MacAddr::generated("rs1", "eth0"),
            Attachment { lan: 0, port: 0 },
        );
        h.ifaces[eth0].admin_up = true;
        h.add_address(eth0, ifaddr("192.168.188.107", 24, "eth0"))
            .unwrap();
        h
    }

    fn ifaddr(ip: &str, len: u8, label: &str) -> IfAddr {
        IfAddr {
            local: ip.parse().unwrap(),
            prefix_len: len,
            broadcast: None,
            label: label.into(),
            scope: Scope::Global,
            secondary: false,
            noprefixroute: false,
        }
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn primary_address_installs_a_prefix_route_with_src() {
        let h = host();
        let route = h.routes.lookup(ip("192.168.188.111"), None).unwrap();
        assert_eq!(
            (route.dev, route.src),
            (Some(1), Some(ip("192.168.188.107")))
        );
    }

    #[test]
    fn vip_on_lo_is_local_and_routes_through_loopback() {
        let mut h = host();
        h.add_address(LOOPBACK, ifaddr("192.168.188.120", 32, "lo:0"))
            .unwrap();
        assert_eq!(h.local_dev(ip("192.168.188.120")), Some(LOOPBACK));
        let out = h.route_output(ip("192.168.188.120"), None, None).unwrap();
        assert!(out.local);
        assert_eq!(out.src, ip("192.168.188.120"));
    }

    #[test]
    fn a_wide_prefix_on_lo_makes_the_whole_prefix_local() {
        let mut h = host();
        h.add_address(LOOPBACK, ifaddr("10.9.0.1", 24, "lo:0"))
            .unwrap();
        assert!(h.is_local(ip("10.9.0.77")));
    }

    #[test]
    fn no_route_is_network_unreachable_unless_a_device_is_bound() {
        let h = host();
        assert_eq!(
            h.route_output(ip("8.8.8.8"), None, None),
            Err(RouteFailure::NetworkUnreachable)
        );
        let out = h.route_output(ip("8.8.8.8"), Some(1), None).unwrap();
        assert_eq!(
            (out.dev, out.next_hop, out.src),
            (1, ip("8.8.8.8"), ip("192.168.188.107"))
        );
    }

    #[test]
    fn sysctl_paths_read_and_write() {
        let mut h = host();
        h.sysctl_write("net.ipv4.conf.all.arp_ignore", "1", SimTime::ZERO)
            .unwrap();
        h.sysctl_write("net/ipv4/conf/lo/arp_announce", "2", SimTime::ZERO)
            .unwrap();
        assert_eq!(h.sysctl_read("net.ipv4.conf.all.arp_ignore").unwrap(), "1");
        assert_eq!(h.effective(ConfKey::ArpIgnore, 1).value, 1);
        assert_eq!(
            h.effective(ConfKey::ArpAnnounce, 1).value,
            0,
            "conf.lo has no effect on eth0"
        );
        assert_eq!(
            h.sysctl_write("net.ipv4.conf.eth9.arp_ignore", "1", SimTime::ZERO),
            Err(SysctlError::NoSuchKey)
        );
        assert_eq!(
            h.sysctl_write("net.ipv4.conf.all.arp_ignore", "x", SimTime::ZERO),
            Err(SysctlError::InvalidValue)
        );
        h.sysctl_write("net.ipv4.ip_forward", "1", SimTime::ZERO)
            .unwrap();
        assert!(h.forwarding_enabled());
        assert_eq!(h.effective(ConfKey::Forwarding, 1).value, 1);
        assert_eq!(
            h.sysctl_read("net.ipv4.neigh.eth0.locktime").unwrap(),
            "100"
        );
    }

    #[test]
    fn reachable_time_is_drawn_in_the_kernel_range_and_redrawn_after_300s() {
        let mut h = host();
        let first = h.neigh_parms(1, SimTime::ZERO).reachable_time;
        assert!((15_000_000_000..45_000_000_000).contains(&first));
        let again = h.neigh_parms(1, SimTime::from_secs(299)).reachable_time;
        assert_eq!(first, again);
        h.neigh_parms(1, SimTime::from_secs(301));
        assert_eq!(h.ifaces[1].reachable_drawn_at, SimTime::from_secs(300));
    }
}
