//! The IPVS tables of one director: virtual services with their destinations and schedulers,
//! the connection table, and what happens to a packet that reaches them (ip_vs_ctl.c,
//! ip_vs_core.c ip_vs_in_hook / ip_vs_schedule / ip_vs_sched_persist, ip_vs_conn.c). Nothing
//! here touches packets' bytes: the director code and `lvsim sched` feed it packet summaries.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::conn::{Conn, ConnId, ConnTable, FullNat, conn_flags};
use super::ipvsadm::command::Errno;
use super::listing::{ConnListing, IpvsSnapshot, LaddrListing, ServiceListing};
use super::sched::random::SplitMix64;
use super::sched::{DestChange, SchedPacket, SchedSysctls, SchedView, Scheduler, new_scheduler};
use super::service::{
    Dest, DestConfig, DestId, Forward, Netmask, Protocol, ServiceConfig, ServiceKey,
};
use super::state::{Direction, TcpFlag, TcpState, Timeouts, next_state};
use super::stats::Stats;
use super::sysctl::{self, Vs, VsSysctls};

const SECOND: u64 = 1_000_000_000;
const FTP_PORT: u16 = 21;
const FTP_DATA_PORT: u16 = 20;
/// A template that still controls connections when it runs out lives on in 60 s steps.
const TEMPLATE_RETRY_S: u32 = 60;
/// Deleted destinations stay revivable this long after their last reference
/// (`IP_VS_DEST_TRASH_PERIOD`), checked every half period.
const TRASH_PERIOD: u64 = 120 * SECOND;

/// A virtual service's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceId(pub u32);

/// A FULLNAT local address and its port cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Laddr {
    addr: IpAddr,
    port_counter: u32,
    conflicts: u64,
    conns: u32,
}

struct Service {
    config: ServiceConfig,
    sched: Option<Box<dyn Scheduler>>,
    /// Destinations head first (the newest added first).
    list: Vec<DestId>,
    stats: Stats,
    laddrs: Vec<Laddr>,
    laddr_next: usize,
    /// Insertion number, for the kernel's per-bucket order.
    serial: u64,
}

/// What the table keeps per destination beside the shared `Dest`.
struct DestMeta {
    service: ServiceId,
    stats: Stats,
    /// Connections and templates bound to it.
    refs: u32,
    /// Deleted but revivable; Some(t) once a trash tick at t found it unreferenced.
    trash: Option<Option<u64>>,
    /// Freed from the trash: never revived.
    gone: bool,
}

/// The TCP flags of a segment (None for UDP/SCTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub fin: bool,
    pub ack: bool,
    pub rst: bool,
}

/// What IPVS needs to know about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMeta {
    pub proto: Protocol,
    pub saddr: IpAddr,
    pub sport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    /// Present for TCP.
    pub tcp: Option<TcpFlags>,
    /// IP total length (what the byte counters add).
    pub len: u32,
    /// The netfilter mark (`iptables -t mangle ... -j MARK`).
    pub fwmark: u32,
}

/// What `ip_vs_in_hook` decides for a client packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InVerdict {
    /// Not IPVS's: the director's own stack handles it (NF_ACCEPT).
    Accept(String),
    /// Dropped without a word (NF_DROP).
    Drop(String),
    /// No destination: ICMP port unreachable to the client from the VIP, then drop
    /// (`ip_vs_leave`).
    Unreachable(String),
    /// Transmit with the connection's forwarding method.
    Forward { conn: ConnId, why: String },
}

/// The IPVS state of one host.
pub struct Ipvs {
    services: Vec<Option<Service>>,
    dests: Vec<Dest>,
    meta: Vec<DestMeta>,
    pub conns: ConnTable,
    pub timeouts: Timeouts,
    pub sysctl: VsSysctls,
    /// Seeds twos' generator (the reference SplitMix64).
    twos_seed: u64,
    next_serial: u64,
    trash_tick: Option<u64>,
    /// The connection-sync daemons (`ipvsadm --start-daemon`).
    pub sync: SyncDaemons,
}

impl Ipvs {
    pub fn new(twos_seed: u64) -> Ipvs {
        Ipvs {
            services: Vec::new(),
            dests: Vec::new(),
            meta: Vec::new(),
            conns: ConnTable::default(),
            timeouts: Timeouts::default(),
            sysctl: sysctl::defaults(),
            twos_seed,
            next_serial: 0,
            trash_tick: None,
            sync: SyncDaemons::default(),
        }
    }

    /// Whether any virtual service exists (the hooks are registered with the first one).
    pub fn is_active(&self) -> bool {
        self.services.iter().any(Option::is_some)
    }

    pub fn dest(&self, id: DestId) -> &Dest {
        &self.dests[id.0 as usize]
    }

    /// A live tunnelling destination at `addr` whose tunnel port is `tun_port` (0 for IPIP
    /// and GRE), as `ip_vs_find_tunnel` finds it in the real-server table.
    pub fn find_tunnel(&self, addr: IpAddr, tun_port: u16) -> Option<DestId> {
        (0..self.dests.len()).map(|i| DestId(i as u32)).find(|&d| {
            let m = &self.meta[d.0 as usize];
            let c = &self.dest(d).config;
            m.trash.is_none()
                && !m.gone
                && c.fwd == Forward::Tunnel
                && c.addr == addr
                && c.tun.port == tun_port
        })
    }

    pub fn service_config(&self, id: ServiceId) -> &ServiceConfig {
        &self.service(id).config
    }

    /// The service a destination belongs to.
    pub fn service_of(&self, dest: DestId) -> ServiceId {
        self.meta[dest.0 as usize].service
    }

    fn service(&self, id: ServiceId) -> &Service {
        self.services[id.0 as usize].as_ref().expect("live service")
    }

    fn service_mut(&mut self, id: ServiceId) -> &mut Service {
        self.services[id.0 as usize].as_mut().expect("live service")
    }

    fn sched_sysctls(&self) -> SchedSysctls {
        SchedSysctls {
            lblc_expiration: self.sysctl.int(Vs::LblcExpiration).max(0) as u64,
            lblcr_expiration: self.sysctl.int(Vs::LblcrExpiration).max(0) as u64,
        }
    }

    fn view<'a>(&'a self, svc: &'a Service, now: u64) -> SchedView<'a> {
        SchedView {
            dests: &self.dests,
            list: &svc.list,
            flags: svc.config.flags,
            now_ns: now,
            sysctl: self.sched_sysctls(),
        }
    }

    /// Runs `f` on a service's scheduler with a view of its destinations. The scheduler's
    /// periodic housekeeping (lblc/lblcr garbage collection every 60 s) runs first for every
    /// tick due by `now`: it only shows in scheduling decisions, and nothing it reads changes
    /// between two uses of the scheduler, so running it late gives the same result without
    /// keeping a timer alive forever.
    fn with_scheduler<R>(
        &mut self,
        id: ServiceId,
        now: u64,
        f: impl FnOnce(&mut dyn Scheduler, &SchedView) -> R,
    ) -> Option<R> {
        let mut sched = self.service_mut(id).sched.take()?;
        let result = {
            let svc = self.service(id);
            while let Some(due) = sched.next_tick().filter(|&t| t <= now) {
                sched.tick(&self.view(svc, due));
            }
            let view = self.view(svc, now);
            f(sched.as_mut(), &view)
        };
        self.service_mut(id).sched = Some(sched);
        Some(result)
    }

    // ----- configuration (ipvsadm) -----

    pub fn find_service_by_key(&self, key: &ServiceKey) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.config.key == *key))
            .map(|i| ServiceId(i as u32))
    }

    /// Whether the service has this real server (`-a` would say "Destination already exists").
    pub fn has_dest(&self, key: &ServiceKey, addr: IpAddr, port: u16) -> bool {
        self.find_service_by_key(key)
            .is_some_and(|id| self.lookup_dest(id, addr, port).is_some())
    }

    fn make_scheduler(
        &self,
        name: &str,
        list: &[DestId],
        flags: u32,
        now: u64,
    ) -> Result<Option<Box<dyn Scheduler>>, Errno> {
        if name == "none" {
            return Ok(None);
        }
        let view = SchedView {
            dests: &self.dests,
            list,
            flags,
            now_ns: now,
            sysctl: self.sched_sysctls(),
        };
        let random = Box::new(SplitMix64::new(self.twos_seed));
        new_scheduler(name, &view, random)
            .map(Some)
            .ok_or(Errno::Enoent)
    }

    /// `ip_vs_add_service`.
    pub fn add_service(&mut self, config: ServiceConfig, now: u64) -> Result<ServiceId, Errno> {
        if self.find_service_by_key(&config.key).is_some() {
            return Err(Errno::Eexist);
        }
        check_pe(&config)?;
        let sched = self.make_scheduler(&config.sched, &[], config.flags, now)?;
        self.next_serial += 1;
        let service = Service {
            config,
            sched,
            list: Vec::new(),
            stats: Stats::new(now),
            laddrs: Vec::new(),
            laddr_next: 0,
            serial: self.next_serial,
        };
        let slot = match self.services.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.services.push(None);
                self.services.len() - 1
            }
        };
        self.services[slot] = Some(service);
        Ok(ServiceId(slot as u32))
    }

    /// `ip_vs_edit_service`: a different scheduler starts afresh; the same one keeps its state.
    pub fn edit_service(&mut self, config: ServiceConfig, now: u64) -> Result<(), Errno> {
        let id = self.find_service_by_key(&config.key).ok_or(Errno::Esrch)?;
        check_pe(&config)?;
        let svc = self.service(id);
        let sched = if svc.config.sched == config.sched {
            None
        } else {
            Some(self.make_scheduler(&config.sched, &svc.list.clone(), config.flags, now)?)
        };
        let svc = self.service_mut(id);
        if let Some(sched) = sched {
            svc.sched = sched;
        }
        svc.config = config;
        Ok(())
    }

    /// `ip_vs_del_service`: its destinations go to the trash; their connections live on
    /// (their packets are dropped) until they expire.
    pub fn del_service(&mut self, key: &ServiceKey, now: u64) -> Result<(), Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        let list = self.service(id).list.clone();
        for dest in list {
            self.trash_dest(dest, now);
        }
        self.services[id.0 as usize] = None;
        Ok(())
    }

    /// `ipvsadm -C`.
    pub fn flush(&mut self, now: u64) {
        let keys: Vec<ServiceKey> = self
            .services
            .iter()
            .flatten()
            .map(|s| s.config.key)
            .collect();
        for key in keys {
            let _ = self.del_service(&key, now);
        }
    }

    fn lookup_dest(&self, id: ServiceId, addr: IpAddr, port: u16) -> Option<DestId> {
        self.service(id).list.iter().copied().find(|&d| {
            let c = &self.dest(d).config;
            c.addr == addr && c.port == port
        })
    }

    /// `ip_vs_add_dest`; `unicast_or_local` says whether the director's routing sees the
    /// address as a unicast or local one (else EINVAL, as `ip_vs_new_dest`).
    pub fn add_dest(
        &mut self,
        key: &ServiceKey,
        config: DestConfig,
        unicast_or_local: bool,
        now: u64,
    ) -> Result<DestId, Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        check_dest(&config)?;
        if self.lookup_dest(id, config.addr, config.port).is_some() {
            return Err(Errno::Eexist);
        }
        let dest = match self.trashed_dest(id, &config) {
            Some(revived) => {
                self.revive(revived, &config);
                revived
            }
            None => {
                if !unicast_or_local {
                    return Err(Errno::Einval);
                }
                self.new_dest(id, config, now)
            }
        };
        self.service_mut(id).list.insert(0, dest);
        self.with_scheduler(id, now, |s, v| s.update(v, DestChange::Added(dest)));
        Ok(dest)
    }

    fn new_dest(&mut self, service: ServiceId, config: DestConfig, now: u64) -> DestId {
        self.dests.push(Dest::new(config));
        self.meta.push(DestMeta {
            service,
            stats: Stats::new(now),
            refs: 0,
            trash: None,
            gone: false,
        });
        DestId((self.dests.len() - 1) as u32)
    }

    /// A deleted destination of this service with the same address and port, still in the
    /// trash (`ip_vs_trash_get_dest`).
    fn trashed_dest(&self, service: ServiceId, config: &DestConfig) -> Option<DestId> {
        (0..self.dests.len()).map(|i| DestId(i as u32)).find(|&d| {
            let m = &self.meta[d.0 as usize];
            let c = &self.dest(d).config;
            m.service == service
                && m.trash.is_some()
                && !m.gone
                && c.addr == config.addr
                && c.port == config.port
        })
    }

    fn revive(&mut self, id: DestId, config: &DestConfig) {
        self.meta[id.0 as usize].trash = None;
        let dest = &mut self.dests[id.0 as usize];
        dest.last_weight = config.weight;
        update_dest(dest, config);
    }

    /// `ip_vs_edit_dest`.
    pub fn edit_dest(
        &mut self,
        key: &ServiceKey,
        config: DestConfig,
        now: u64,
    ) -> Result<DestId, Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        check_dest(&config)?;
        let dest = self
            .lookup_dest(id, config.addr, config.port)
            .ok_or(Errno::Enoent)?;
        let d = &mut self.dests[dest.0 as usize];
        if config.weight != 0 {
            d.last_weight = config.weight;
        }
        update_dest(d, &config);
        self.with_scheduler(id, now, |s, v| s.update(v, DestChange::Edited(dest)));
        Ok(dest)
    }

    /// `ip_vs_del_dest`: out of the list and unavailable; kept in the trash while referenced.
    pub fn del_dest(
        &mut self,
        key: &ServiceKey,
        addr: IpAddr,
        port: u16,
        now: u64,
    ) -> Result<(), Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        let dest = self.lookup_dest(id, addr, port).ok_or(Errno::Enoent)?;
        let list = &mut self.service_mut(id).list;
        let pos = list.iter().position(|&d| d == dest).expect("listed");
        let prev = pos.checked_sub(1).map(|p| list[p]);
        list.remove(pos);
        self.trash_dest(dest, now);
        self.with_scheduler(id, now, |s, v| {
            s.update(v, DestChange::Deleted { id: dest, prev })
        });
        if self.sysctl.int(Vs::ExpireNodestConn) != 0 {
            self.expire_dest_conns(dest, now);
        }
        Ok(())
    }

    fn trash_dest(&mut self, dest: DestId, now: u64) {
        self.dests[dest.0 as usize].available = false;
        self.meta[dest.0 as usize].trash = Some(None);
        self.trash_tick.get_or_insert(now + TRASH_PERIOD / 2);
    }

    /// `expire_nodest_conn=1` (5.9+): the connections of a deleted destination expire now,
    /// and templates left controlling none.
    fn expire_dest_conns(&mut self, dest: DestId, now: u64) {
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.dest == dest && (!c.is_template() || c.n_control == 0))
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            self.conns.arm(id, now);
        }
    }

    /// `ipvsadm -Z [service]`.
    pub fn zero(&mut self, key: Option<&ServiceKey>, now: u64) -> Result<(), Errno> {
        let targets: Vec<ServiceId> = match key {
            Some(key) => vec![self.find_service_by_key(key).ok_or(Errno::Esrch)?],
            None => self.service_ids().collect(),
        };
        let running = self.estimating();
        for id in targets {
            let svc = self.service_mut(id);
            svc.stats.catch_up(now, running);
            svc.stats.zero();
            for dest in self.service(id).list.clone() {
                let stats = &mut self.meta[dest.0 as usize].stats;
                stats.catch_up(now, running);
                stats.zero();
            }
        }
        Ok(())
    }

    /// FULLNAT `-P`: a local address for the service.
    pub fn add_laddr(&mut self, key: &ServiceKey, addr: IpAddr) -> Result<(), Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        let svc = self.service_mut(id);
        if svc.laddrs.iter().any(|l| l.addr == addr) {
            return Err(Errno::Eexist);
        }
        svc.laddrs.push(Laddr {
            addr,
            port_counter: 0,
            conflicts: 0,
            conns: 0,
        });
        Ok(())
    }

    /// FULLNAT `-Q`.
    pub fn del_laddr(&mut self, key: &ServiceKey, addr: IpAddr) -> Result<(), Errno> {
        let id = self.find_service_by_key(key).ok_or(Errno::Esrch)?;
        let svc = self.service_mut(id);
        let pos = svc
            .laddrs
            .iter()
            .position(|l| l.addr == addr)
            .ok_or(Errno::Enoent)?;
        svc.laddrs.remove(pos);
        svc.laddr_next = 0;
        Ok(())
    }

    fn service_ids(&self) -> impl Iterator<Item = ServiceId> + use<> {
        let ids: Vec<ServiceId> = self
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| ServiceId(i as u32))
            .collect();
        ids.into_iter()
    }

    fn estimating(&self) -> bool {
        self.sysctl.int(Vs::RunEstimation) != 0
    }

    // ----- the packet path -----

    /// `ip_vs_service_find`: fwmark first, then (proto, addr, port), then an FTP service for
    /// FTP data, then the port-zero catch-all.
    pub fn find_service(&self, pkt: &PacketMeta) -> Option<ServiceId> {
        let ipv6 = pkt.daddr.is_ipv6();
        let by_key = |key: ServiceKey| self.find_service_by_key(&key);
        if pkt.fwmark != 0
            && let Some(id) = by_key(ServiceKey::Fwmark {
                mark: pkt.fwmark,
                ipv6,
            })
        {
            return Some(id);
        }
        let addr = |port| ServiceKey::Addr {
            proto: pkt.proto,
            addr: pkt.daddr,
            port,
        };
        by_key(addr(pkt.dport))
            .or_else(|| {
                let ftp_data = pkt.dport == FTP_DATA_PORT || pkt.dport >= 1024;
                (pkt.proto == Protocol::Tcp && ftp_data)
                    .then(|| by_key(addr(FTP_PORT)))
                    .flatten()
            })
            .or_else(|| by_key(addr(0)))
    }

    /// A client packet at LOCAL_IN (`ip_vs_in_hook`): the existing connection, or a new one
    /// when this packet may open one. `explain` asks for the reasons in the verdict.
    pub fn process_in(&mut self, pkt: &PacketMeta, now: u64, explain: bool) -> InVerdict {
        self.process_in_for(None, pkt, now, explain)
    }

    /// `process_in` with the service fixed by the caller instead of found from the packet
    /// (the scheduler playground hashes destination addresses no service is keyed by, as a
    /// fwmark service would see them).
    pub fn process_in_for(
        &mut self,
        service: Option<ServiceId>,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> InVerdict {
        let existing =
            self.conns
                .lookup_in(pkt.proto, (pkt.saddr, pkt.sport), (pkt.daddr, pkt.dport));
        let existing = match existing {
            Some(id) => match self.reuse_or_keep(id, pkt, now) {
                Ok(kept) => kept,
                Err(verdict) => return verdict,
            },
            None => None,
        };
        let (conn, why) = match existing {
            Some(id) => (id, String::new()),
            None => match self.try_to_schedule(service, pkt, now, explain) {
                Ok(new) => new,
                Err(verdict) => return verdict,
            },
        };
        self.in_stats(conn, pkt.len as u64, now);
        self.set_state(conn, Direction::Input, pkt.tcp);
        self.put(conn, now);
        self.sync_conn(conn, now);
        InVerdict::Forward { conn, why }
    }

    /// The checks on an existing entry before it is used: port reuse after TIME_WAIT/CLOSE
    /// (`conn_reuse_mode`), and a destination that was deleted.
    fn reuse_or_keep(
        &mut self,
        id: ConnId,
        pkt: &PacketMeta,
        now: u64,
    ) -> Result<Option<ConnId>, InVerdict> {
        let reuse_mode = self.sysctl.int(Vs::ConnReuseMode);
        let nodest = self.sysctl.int(Vs::ExpireNodestConn) != 0;
        let is_syn = pkt.tcp.is_some_and(|t| t.syn);
        let conn = self.conns.get(id);
        let dest = self.dest(conn.dest);
        if reuse_mode != 0 && is_syn {
            let resched = (nodest && dest.weight() == 0) || new_conn_expected(conn, reuse_mode);
            if resched {
                if conn.n_control == 0 {
                    self.expire_now(id, now);
                }
                return Ok(None);
            }
        }
        if !dest.available {
            if nodest {
                self.expire_now(id, now);
                return Ok(None);
            }
            let why = format!(
                "ipvs: the connection's real server {} was deleted; its packets are dropped until the entry expires (expire_nodest_conn=0)",
                addr_port(dest.config.addr, dest.config.port)
            );
            return Err(InVerdict::Drop(why));
        }
        Ok(Some(id))
    }

    /// `ip_vs_conn_expire_now`: the entry leaves the lookup tables at once and its timer runs
    /// out at this instant, after the packet in hand.
    fn expire_now(&mut self, id: ConnId, now: u64) {
        self.conns.unhash(id);
        self.conns.arm(id, now);
    }

    /// `ip_vs_try_to_schedule` / `tcp_conn_schedule`: only a SYN (any datagram for UDP) of a
    /// known service opens a connection.
    fn try_to_schedule(
        &mut self,
        service: Option<ServiceId>,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> Result<(ConnId, String), InVerdict> {
        let sloppy = self.sysctl.int(Vs::SloppyTcp) != 0;
        if let Some(t) = pkt.tcp
            && (!(t.syn || sloppy) || t.rst)
        {
            return Err(InVerdict::Accept(
                "ipvs: no connection entry and not a SYN: left to the director's own stack"
                    .to_owned(),
            ));
        }
        let Some(svc) = service.or_else(|| self.find_service(pkt)) else {
            return Err(InVerdict::Accept(
                "ipvs: no virtual service for this address and port".to_owned(),
            ));
        };
        self.schedule(svc, pkt, now, explain)
    }

    /// `ip_vs_schedule` and, when no destination is found, `ip_vs_leave`.
    fn schedule(
        &mut self,
        svc: ServiceId,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> Result<(ConnId, String), InVerdict> {
        if pkt.sport == FTP_DATA_PORT {
            return Err(InVerdict::Accept(
                "ipvs: never schedules connections from source port 20 (FTP data)".to_owned(),
            ));
        }
        let config = self.service(svc).config.clone();
        let result = if config.is_persistent() {
            self.sched_persist(svc, pkt, now, explain)
        } else if !config.key.is_fwmark() && pkt.dport != service_port(&config.key) {
            Err("port zero is only supported in persistent services".to_owned())
        } else {
            self.schedule_new(svc, pkt, now, explain)
        };
        result.map_err(|why| self.leave(&config, pkt, why))
    }

    /// `ip_vs_leave`: an FTP service lets other ports pass; otherwise ICMP port unreachable.
    fn leave(&self, config: &ServiceConfig, pkt: &PacketMeta, why: String) -> InVerdict {
        if service_port(&config.key) == FTP_PORT && pkt.dport != FTP_PORT {
            return InVerdict::Accept(format!("ipvs: {why}; an FTP service lets the packet pass"));
        }
        InVerdict::Unreachable(format!(
            "ipvs: {why}: no real server can take the connection, so the director answers ICMP port unreachable and drops it"
        ))
    }

    fn sched_packet(pkt: &PacketMeta) -> SchedPacket {
        SchedPacket {
            proto: pkt.proto,
            saddr: pkt.saddr,
            sport: pkt.sport,
            daddr: pkt.daddr,
            dport: pkt.dport,
        }
    }

    /// Asks the service's scheduler; the error carries its reason.
    fn pick(
        &mut self,
        svc: ServiceId,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> Result<(DestId, String), String> {
        let packet = Self::sched_packet(pkt);
        let mut why = String::new();
        let chosen = self
            .with_scheduler(svc, now, |s, v| {
                s.schedule(v, &packet, explain.then_some(&mut why))
            })
            .flatten();
        match chosen {
            Some(dest) => Ok((dest, why)),
            None if why.is_empty() => Err(format!(
                "scheduler {} found no usable destination",
                self.service(svc).config.sched
            )),
            None => Err(why),
        }
    }

    /// A non-persistent service: scheduler, then a new entry.
    fn schedule_new(
        &mut self,
        svc: ServiceId,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> Result<(ConnId, String), String> {
        let (dest, why) = self.pick(svc, pkt, now, explain)?;
        let conn = self.new_conn(svc, dest, pkt, now)?;
        Ok((conn, why))
    }

    /// `ip_vs_sched_persist`: a valid template for the client's network decides the
    /// destination without the scheduler; otherwise the scheduler picks and a template is made.
    fn sched_persist(
        &mut self,
        svc: ServiceId,
        pkt: &PacketMeta,
        now: u64,
        explain: bool,
    ) -> Result<(ConnId, String), String> {
        let config = self.service(svc).config.clone();
        let snet = mask_addr(pkt.saddr, config.netmask);
        let (proto, vaddr, vport) = template_key(&config, pkt);
        let found = self
            .conns
            .lookup_template(proto, snet, vaddr, vport)
            .filter(|&t| self.check_template(t));
        let (template, dest, why) = match found {
            Some(t) => {
                let dest = self.conns.get(t).dest;
                let why = format!(
                    "persistence: the template for {} sends it to {} (scheduler not asked)",
                    snet,
                    addr_port(self.dest(dest).config.addr, self.dest(dest).config.port)
                );
                (t, dest, why)
            }
            None => {
                let (dest, why) = self.pick(svc, pkt, now, explain)?;
                let t = self.new_template(&config, (proto, snet, vaddr, vport), dest, pkt);
                (
                    t,
                    dest,
                    format!("{why}; new persistence template for {snet}"),
                )
            }
        };
        let conn = self.new_conn(svc, dest, pkt, now)?;
        self.conns.get_mut(conn).control = Some(template);
        self.conns.get_mut(template).n_control += 1;
        self.put(template, now);
        Ok((conn, why))
    }

    /// `ip_vs_check_template`: a template whose destination is gone (or quiesced with
    /// `expire_quiescent_template`) is re-keyed and no longer used.
    fn check_template(&mut self, template: ConnId) -> bool {
        let dest = self.dest(self.conns.get(template).dest);
        let quiescent = self.sysctl.int(Vs::ExpireQuiescentTemplate) != 0 && dest.weight() == 0;
        if dest.available && !quiescent {
            return true;
        }
        self.conns.invalidate_template(template);
        false
    }

    fn new_template(
        &mut self,
        config: &ServiceConfig,
        key: (Option<Protocol>, IpAddr, IpAddr, u16),
        dest: DestId,
        pkt: &PacketMeta,
    ) -> ConnId {
        let (proto, snet, vaddr, vport) = key;
        let d = &self.dest(dest).config;
        let dport = if vport == 0 {
            0
        } else {
            real_port(d.port, pkt.dport)
        };
        let mut conn = Conn::new(
            proto,
            conn_flags::TEMPLATE,
            d.fwd,
            (snet, 0),
            (vaddr, vport),
            (d.addr, dport),
            dest,
        );
        conn.timeout_s = config.timeout;
        let id = self.conns.insert(conn);
        self.bind(id);
        id
    }

    /// `ip_vs_conn_new` + `ip_vs_bind_dest` + `ip_vs_conn_stats`.
    fn new_conn(
        &mut self,
        svc: ServiceId,
        dest: DestId,
        pkt: &PacketMeta,
        now: u64,
    ) -> Result<ConnId, String> {
        let d = self.dest(dest).config.clone();
        let fullnat = match d.fwd {
            Forward::FullNat => Some(self.fullnat_local(svc, &d, pkt)?),
            _ => None,
        };
        let mut flags = conn_flags::INACTIVE;
        if d.fwd != Forward::Masq {
            flags |= conn_flags::NOOUTPUT;
        }
        let mut conn = Conn::new(
            Some(pkt.proto),
            flags,
            d.fwd,
            (pkt.saddr, pkt.sport),
            (pkt.daddr, pkt.dport),
            (d.addr, real_port(d.port, pkt.dport)),
            dest,
        );
        conn.fullnat = fullnat.map(Box::new);
        let id = self.conns.insert(conn);
        self.bind(id);
        self.account(dest, now, Stats::add_conn);
        Ok(id)
    }

    /// FULLNAT's local address and port (`ip_vs_get_laddr`, `ip_vs_hbind_laddr`): the next
    /// address round robin, then ports from its counter until the tuple towards the real
    /// server is free.
    fn fullnat_local(
        &mut self,
        svc: ServiceId,
        d: &DestConfig,
        pkt: &PacketMeta,
    ) -> Result<FullNat, String> {
        let lport_min = self.sysctl.int(Vs::FullnatLportMin).clamp(0, 65535) as u32;
        let lport_max = self.sysctl.int(Vs::FullnatLportMax).clamp(0, 65535) as u32;
        let tries = self.sysctl.int(Vs::FullnatLportTries).max(1) as u32;
        let range = lport_max.saturating_sub(lport_min) + 1;
        let rport = real_port(d.port, pkt.dport);
        let count = self.service(svc).laddrs.len();
        if count == 0 {
            return Err("FULLNAT needs a local address (ipvsadm -P -t VIP:PORT -z LIP)".to_owned());
        }
        let svc_mut = self.service_mut(svc);
        let index = svc_mut.laddr_next % count;
        svc_mut.laddr_next = (index + 1) % count;
        for _ in 0..tries {
            let laddr = &mut self.service_mut(svc).laddrs[index];
            laddr.port_counter = laddr.port_counter.wrapping_add(1);
            let lport = (lport_min + laddr.port_counter % range) as u16;
            let addr = laddr.addr;
            let taken = self
                .conns
                .lookup_out(pkt.proto, (d.addr, rport), (addr, lport))
                .is_some();
            let laddr = &mut self.service_mut(svc).laddrs[index];
            if taken {
                laddr.conflicts += 1;
                continue;
            }
            laddr.conns += 1;
            return Ok(FullNat {
                laddr: addr,
                lport,
                seq_delta: 0,
                rs_isn: None,
            });
        }
        Err(format!("no free local port after {tries} tries"))
    }

    /// `ip_vs_bind_dest`: count the entry on its destination; the upper threshold sets
    /// OVERLOAD.
    fn bind(&mut self, id: ConnId) {
        let conn = self.conns.get(id);
        let template = conn.is_template();
        let inactive = conn.has(conn_flags::INACTIVE);
        let dest_id = conn.dest;
        self.meta[dest_id.0 as usize].refs += 1;
        let dest = &mut self.dests[dest_id.0 as usize];
        if template {
            dest.persistconns += 1;
        } else if inactive {
            dest.inactconns += 1;
        } else {
            dest.activeconns += 1;
        }
        let total = dest.activeconns + dest.inactconns;
        if dest.config.u_threshold != 0 && total >= dest.config.u_threshold {
            dest.overload = true;
        }
    }

    /// `ip_vs_unbind_dest`: OVERLOAD clears under the lower threshold, or under 3/4 of the
    /// upper one when there is no lower one.
    fn unbind(&mut self, conn: &Conn) {
        let dest = &mut self.dests[conn.dest.0 as usize];
        if conn.is_template() {
            dest.persistconns -= 1;
        } else if conn.has(conn_flags::INACTIVE) {
            dest.inactconns -= 1;
        } else {
            dest.activeconns -= 1;
        }
        let total = dest.activeconns + dest.inactconns;
        let (upper, lower) = (dest.config.u_threshold, dest.config.l_threshold);
        let clear = if lower != 0 {
            total < lower
        } else if upper != 0 {
            (total as u64) * 4 < (upper as u64) * 3
        } else {
            true
        };
        if clear {
            dest.overload = false;
        }
        self.meta[conn.dest.0 as usize].refs -= 1;
    }

    /// A reply from a NAT or FULLNAT real server at FORWARD (`ip_vs_out_hook`).
    pub fn process_out(&mut self, pkt: &PacketMeta, now: u64) -> Option<ConnId> {
        let id =
            self.conns
                .lookup_out(pkt.proto, (pkt.saddr, pkt.sport), (pkt.daddr, pkt.dport))?;
        self.conn_output(id, pkt.tcp, pkt.len, now);
        Some(id)
    }

    /// A server → client packet of a known entry: counted (`ip_vs_out_stats`), through the
    /// output state table, timer restarted.
    pub fn conn_output(&mut self, id: ConnId, tcp: Option<TcpFlags>, len: u32, now: u64) {
        self.count_out(id, len, now);
        self.set_state(id, Direction::Output, tcp);
        self.put(id, now);
    }

    /// Counts a packet related to an entry that does not move its state (an ICMP error from
    /// the client side, `ip_vs_in_icmp`).
    pub fn count_in(&mut self, id: ConnId, len: u32, now: u64) {
        self.in_stats(id, len as u64, now);
    }

    /// The same on the return path (`ip_vs_out_stats`, `ip_vs_out_icmp`): only while the
    /// destination is available.
    pub fn count_out(&mut self, id: ConnId, len: u32, now: u64) {
        let dest = self.conns.get(id).dest;
        if self.dest(dest).available {
            self.account(dest, now, |s| s.add_out(len as u64));
        }
    }

    /// Expires an entry at once (`lvsim sched`'s `close N`): false when a template still
    /// controls connections and waits 60 s more instead.
    pub fn close(&mut self, id: ConnId, now: u64) -> bool {
        self.expire(id, now)
    }

    /// The live services, in creation order.
    pub fn services(&self) -> Vec<(ServiceId, ServiceKey)> {
        self.service_ids()
            .map(|id| (id, self.service(id).config.key))
            .collect()
    }

    /// `seed N` of the scheduler playground: every twos service, existing or to come, draws
    /// from the reference generator seeded with `seed`.
    pub fn reseed_twos(&mut self, seed: u64, now: u64) {
        self.twos_seed = seed;
        for id in self.service_ids() {
            let svc = self.service(id);
            if svc.config.sched != "twos" {
                continue;
            }
            let (list, flags) = (svc.list.clone(), svc.config.flags);
            if let Ok(sched) = self.make_scheduler("twos", &list, flags, now) {
                self.service_mut(id).sched = sched;
            }
        }
    }

    /// `ip_vs_in_stats`: only while the destination is available.
    fn in_stats(&mut self, conn: ConnId, bytes: u64, now: u64) {
        let dest = self.conns.get(conn).dest;
        if self.dest(dest).available {
            self.account(dest, now, |s| s.add_in(bytes));
        }
    }

    /// Adds to the counters of a destination and of its service (if it still exists), each
    /// estimator brought up to `now` first.
    fn account(&mut self, dest: DestId, now: u64, add: impl Fn(&mut Stats)) {
        let running = self.estimating();
        let svc = self.service_of(dest);
        if let Some(Some(s)) = self.services.get_mut(svc.0 as usize) {
            s.stats.catch_up(now, running);
            add(&mut s.stats);
        }
        let stats = &mut self.meta[dest.0 as usize].stats;
        stats.catch_up(now, running);
        add(stats);
    }

    /// `set_tcp_state` / `udp_state_transition`: the new state, the active/inactive move, and
    /// the state's current timeout.
    fn set_state(&mut self, id: ConnId, dir: Direction, tcp: Option<TcpFlags>) {
        let timeouts = self.timeouts;
        let conn = self.conns.get_mut(id);
        let Some(tcp) = tcp else {
            conn.timeout_s = timeouts.udp;
            return;
        };
        let mut dir = dir;
        if conn.has(conn_flags::NOOUTPUT) {
            if dir == Direction::Output {
                conn.flags &= !conn_flags::NOOUTPUT;
            } else {
                dir = Direction::InputOnly;
            }
        }
        let flag = TcpFlag::of(tcp.syn, tcp.fin, tcp.ack, tcp.rst);
        let new_state = next_state(conn.state, dir, flag);
        if new_state != conn.state {
            let dest = &mut self.dests[conn.dest.0 as usize];
            let inactive = conn.has(conn_flags::INACTIVE);
            if !inactive && !new_state.is_active() {
                dest.activeconns -= 1;
                dest.inactconns += 1;
                conn.flags |= conn_flags::INACTIVE;
            } else if inactive && new_state.is_active() {
                dest.activeconns += 1;
                dest.inactconns -= 1;
                conn.flags &= !conn_flags::INACTIVE;
            }
        }
        conn.state = new_state;
        conn.timeout_s = timeouts.tcp(new_state);
    }

    /// `ip_vs_conn_put`: the timer restarts with the entry's current timeout.
    fn put(&mut self, id: ConnId, now: u64) {
        let timeout = self.conns.get(id).timeout_s as u64 * SECOND;
        self.conns.arm(id, now + timeout);
    }

    // ----- timers -----

    /// When the director next needs `run_timers`.
    pub fn next_timer(&self) -> Option<u64> {
        [self.conns.next_timer(), self.trash_tick]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs everything due by `now`: entry expiry (`ip_vs_conn_expire`) and the trash.
    /// Returns the number of entries removed.
    pub fn run_timers(&mut self, now: u64) -> usize {
        let mut removed = 0;
        while let Some(id) = self.conns.pop_expired(now) {
            removed += self.expire(id, now) as usize;
        }
        if self.trash_tick.is_some_and(|t| t <= now) {
            self.empty_trash(now);
        }
        removed
    }

    /// An entry's timer ran out: a template still controlling connections waits 60 s more;
    /// anything else is unlinked and unbound.
    fn expire(&mut self, id: ConnId, now: u64) -> bool {
        let conn = self.conns.get(id);
        if conn.n_control > 0 {
            self.conns.get_mut(id).timeout_s = TEMPLATE_RETRY_S;
            self.put(id, now);
            return false;
        }
        let conn = self.conns.remove(id);
        if let Some(template) = conn.control
            && let Some(t) = self.conns.try_get_mut(template)
        {
            t.n_control -= 1;
        }
        if let Some(f) = &conn.fullnat {
            let svc = self.service_of(conn.dest);
            if let Some(Some(s)) = self.services.get_mut(svc.0 as usize)
                && let Some(l) = s.laddrs.iter_mut().find(|l| l.addr == f.laddr)
            {
                l.conns = l.conns.saturating_sub(1);
            }
        }
        self.unbind(&conn);
        true
    }

    /// `ip_vs_dest_trash_expire`, every half period: a deleted destination nothing refers to
    /// any more is marked idle at the first tick that sees it so, and freed at the first tick
    /// a full period later.
    fn empty_trash(&mut self, now: u64) {
        let trashed: Vec<DestId> = (0..self.dests.len())
            .map(|i| DestId(i as u32))
            .filter(|d| {
                let m = &self.meta[d.0 as usize];
                m.trash.is_some() && !m.gone
            })
            .collect();
        for dest in &trashed {
            if self.referenced(*dest, now) {
                continue;
            }
            let meta = &mut self.meta[dest.0 as usize];
            match meta.trash {
                Some(Some(idle)) if now >= idle + TRASH_PERIOD => meta.gone = true,
                Some(None) => meta.trash = Some(Some(now)),
                _ => {}
            }
        }
        let waiting = trashed.iter().any(|d| !self.meta[d.0 as usize].gone);
        self.trash_tick = waiting.then_some(now + TRASH_PERIOD / 2);
    }

    /// Connections, templates or the service's scheduler still refer to the destination.
    fn referenced(&mut self, dest: DestId, now: u64) -> bool {
        if self.meta[dest.0 as usize].refs > 0 {
            return true;
        }
        let svc = self.meta[dest.0 as usize].service;
        let live = self
            .services
            .get(svc.0 as usize)
            .is_some_and(Option::is_some);
        live && self
            .with_scheduler(svc, now, |s, _| s.references(dest))
            .unwrap_or(false)
    }

    // ----- reports -----

    /// The tables as `ipvsadm` lists them.
    pub fn snapshot(&self, now: u64) -> IpvsSnapshot {
        let mut snapshot = self.snapshot_without_conns(now);
        snapshot.conns = self
            .conns
            .iter()
            .map(|(_, c)| conn_listing(c, now))
            .collect();
        snapshot
    }

    /// The tables without the connection list: all `ipvsadm -L -n` prints, cheap enough for
    /// the TUI to take after every event a director handles.
    pub fn snapshot_without_conns(&self, now: u64) -> IpvsSnapshot {
        let running = self.estimating();
        let mut order: Vec<ServiceId> = self.service_ids().collect();
        order.sort_by_key(|&id| {
            let svc = self.service(id);
            (
                svc_hash_order(&svc.config.key),
                std::cmp::Reverse(svc.serial),
            )
        });
        let services = order
            .into_iter()
            .map(|id| self.service_listing(id, now, running))
            .collect();
        IpvsSnapshot {
            services,
            conns: Vec::new(),
            timeouts: self.timeouts.listed(),
            daemons: self.sync.listings(),
        }
    }

    /// A service as listed at `now`: the estimators are brought up to date on copies, so
    /// looking never changes what is looked at.
    fn service_listing(&self, id: ServiceId, now: u64, running: bool) -> ServiceListing {
        let svc = self.service(id);
        let dests = svc
            .list
            .iter()
            .map(|&d| {
                let mut stats = self.meta[d.0 as usize].stats.clone();
                stats.catch_up(now, running);
                let dest = &self.dests[d.0 as usize];
                super::listing::DestListing {
                    config: dest.config.clone(),
                    activeconns: dest.activeconns,
                    inactconns: dest.inactconns,
                    persistconns: dest.persistconns,
                    stats: stats.counters(),
                    rates: stats.rates(),
                }
            })
            .collect();
        let mut stats = svc.stats.clone();
        stats.catch_up(now, running);
        ServiceListing {
            config: svc.config.clone(),
            stats: stats.counters(),
            rates: stats.rates(),
            dests,
            laddrs: svc
                .laddrs
                .iter()
                .map(|l| LaddrListing {
                    addr: l.addr,
                    conflicts: l.conflicts,
                    conns: l.conns,
                })
                .collect(),
        }
    }

    /// The IPv4 VIPs of the address-based services, and the (address, port) of every NAT
    /// real server: what the bypass diagnoses watch for.
    pub fn watched_addresses(&self) -> (Vec<Ipv4Addr>, Vec<(Ipv4Addr, u16)>) {
        let mut vips = Vec::new();
        let mut nat = Vec::new();
        for svc in self.services.iter().flatten() {
            if let ServiceKey::Addr {
                addr: IpAddr::V4(vip),
                ..
            } = svc.config.key
            {
                vips.push(vip);
            }
            for &d in &svc.list {
                let c = &self.dest(d).config;
                if let (Forward::Masq, IpAddr::V4(rip)) = (c.fwd, c.addr) {
                    nat.push((rip, c.port));
                }
            }
        }
        (vips, nat)
    }

    /// One line explaining a connection entry, for the timeline.
    pub fn describe(&self, id: ConnId) -> String {
        let c = self.conns.get(id);
        let mut text = String::new();
        let _ = write!(
            text,
            "{} {} → {} via {} ({}, {})",
            c.proto.map_or("IP", Protocol::name),
            addr_port(c.caddr, c.cport),
            addr_port(c.vaddr, c.vport),
            addr_port(c.daddr, c.dport),
            c.fwd.name(),
            state_name(c)
        );
        text
    }
}

/// The kernel's service listing order: the address table's buckets, then the fwmark table's
/// (`ip_vs_svc_hashkey` with a zero per-namespace mix); newest first within a bucket.
fn svc_hash_order(key: &ServiceKey) -> (u8, u32) {
    match *key {
        ServiceKey::Addr { proto, addr, port } => {
            let fold = fold(addr);
            let porth = port as u32;
            (
                0,
                (proto.number() as u32 ^ fold ^ (porth >> 8) ^ porth) & 0xff,
            )
        }
        ServiceKey::Fwmark { mark, .. } => (1, mark & 0xff),
    }
}

fn fold(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6
            .segments()
            .chunks(2)
            .map(|w| ((w[0] as u32) << 16) | w[1] as u32)
            .fold(0, |a, b| a ^ b),
    }
}

fn check_pe(config: &ServiceConfig) -> Result<(), Errno> {
    match config.pe.as_deref() {
        None | Some("sip") => Ok(()),
        Some(_) => Err(Errno::Enoent),
    }
}

/// `ip_vs_add_dest`/`ip_vs_edit_dest` validation.
fn check_dest(config: &DestConfig) -> Result<(), Errno> {
    if config.weight < 0 || config.l_threshold > config.u_threshold {
        return Err(Errno::Erange);
    }
    if config.u_threshold > i32::MAX as u32 {
        return Err(Errno::Einval);
    }
    if config.tun.kind == super::service::TunnelType::Gue && config.tun.port == 0 {
        return Err(Errno::Einval);
    }
    Ok(())
}

/// `__ip_vs_update_dest`: new settings, available again; OVERLOAD clears only when the new
/// upper threshold is 0 or higher than before.
fn update_dest(dest: &mut Dest, config: &DestConfig) {
    if config.u_threshold == 0 || config.u_threshold > dest.config.u_threshold {
        dest.overload = false;
    }
    dest.available = true;
    dest.config = config.clone();
}

/// `is_new_conn_expected`: a SYN may take over a finished, uncontrolled TCP entry.
fn new_conn_expected(conn: &Conn, reuse_mode: i64) -> bool {
    if conn.control.is_some() || conn.proto != Some(Protocol::Tcp) {
        return false;
    }
    matches!(conn.state, TcpState::TimeWait | TcpState::Close)
        || (reuse_mode & 2 != 0
            && conn.state == TcpState::FinWait
            && conn.has(conn_flags::NOOUTPUT))
}

fn service_port(key: &ServiceKey) -> u16 {
    match *key {
        ServiceKey::Addr { port, .. } => port,
        ServiceKey::Fwmark { .. } => 0,
    }
}

/// The real port: the destination's, or the packet's when the destination has port 0.
fn real_port(dest_port: u16, packet_port: u16) -> u16 {
    if dest_port != 0 {
        dest_port
    } else {
        packet_port
    }
}

/// The persistence template's (proto, vaddr, vport): fwmark services use (IP, mark, 0),
/// port-zero and FTP services port 0.
fn template_key(config: &ServiceConfig, pkt: &PacketMeta) -> (Option<Protocol>, IpAddr, u16) {
    match config.key {
        ServiceKey::Fwmark { mark, ipv6 } => {
            let vaddr = if ipv6 {
                IpAddr::V6(Ipv6Addr::from(mark as u128))
            } else {
                IpAddr::V4(Ipv4Addr::from(mark))
            };
            (None, vaddr, 0)
        }
        ServiceKey::Addr { port, .. } => {
            let vport = if pkt.dport == port && port != FTP_PORT {
                pkt.dport
            } else {
                0
            };
            (Some(pkt.proto), pkt.daddr, vport)
        }
    }
}

/// The client address masked with the persistence netmask.
fn mask_addr(addr: IpAddr, mask: Netmask) -> IpAddr {
    match (addr, mask) {
        (IpAddr::V4(a), Netmask::V4(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & m)),
        (IpAddr::V6(a), Netmask::V6(plen)) => {
            let bits = u128::from(a);
            let m = if plen == 0 {
                0
            } else {
                u128::MAX << (128 - plen.min(128) as u32)
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
        (addr, _) => addr,
    }
}

pub fn addr_port(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn state_name(conn: &Conn) -> &'static str {
    match conn.proto {
        Some(Protocol::Udp) => "UDP",
        _ => conn.state.name(),
    }
}

fn conn_listing(conn: &Conn, now: u64) -> ConnListing {
    ConnListing {
        proto: conn.proto.map_or("IP", Protocol::name),
        caddr: conn.caddr,
        cport: conn.cport,
        vaddr: conn.vaddr,
        vport: conn.vport,
        daddr: conn.daddr,
        dport: conn.dport,
        state: state_name(conn),
        expires_secs: conn.expires_ns.saturating_sub(now) / SECOND,
        pe: None,
    }
}

#[cfg(test)]
mod tests;

mod sync;
pub use sync::SyncDaemons;
