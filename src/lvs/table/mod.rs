//! The IPVS tables of one director: virtual services with their destinations and schedulers,
//! the connection table, and what happens to a packet that reaches them (ip_vs_ctl.c,
//! ip_vs_core.c ip_vs_in_hook / ip_vs_schedule / ip_vs_sched_persist, ip_vs_conn.c). Nothing
//! here touches packets' bytes: the director code and `lvsim sched` feed it packet summaries.

use std::net::IpAddr;

use super::conn::{ConnId, ConnTable};
use super::sched::{SchedSysctls, SchedView, Scheduler};
use super::service::{Dest, DestId, Forward, Protocol, ServiceConfig};
use super::state::Timeouts;
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
}

mod config;
mod packet;
mod reports;
mod timers;

#[cfg(test)]
mod tests;

mod sync;
pub use reports::addr_port;
pub use sync::SyncDaemons;
