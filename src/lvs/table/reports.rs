//! The tables as `ipvsadm -L` lists them, the addresses the bypass diagnosis watches, and
//! the one-line description of a connection.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use crate::lvs::conn::{Conn, ConnId};
use crate::lvs::listing::{ConnListing, IpvsSnapshot, LaddrListing, ServiceListing};
use crate::lvs::service::{Forward, Protocol, ServiceKey};

use super::{Ipvs, SECOND, ServiceId};

impl Ipvs {
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
                crate::lvs::listing::DestListing {
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
pub(super) fn svc_hash_order(key: &ServiceKey) -> (u8, u32) {
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
