//! Configuring the tables as ipvsadm does (ip_vs_ctl.c): services, destinations, the
//! destination trash, FULLNAT local addresses, zeroing counters.

use std::net::IpAddr;

use crate::lvs::conn::ConnId;
use crate::lvs::ipvsadm::command::Errno;
use crate::lvs::sched::random::SplitMix64;
use crate::lvs::sched::{DestChange, SchedView, Scheduler, new_scheduler};
use crate::lvs::service::{Dest, DestConfig, DestId, ServiceConfig, ServiceKey};
use crate::lvs::stats::Stats;
use crate::lvs::sysctl::Vs;

use super::{DestMeta, Ipvs, Laddr, Service, ServiceId, TRASH_PERIOD};

impl Ipvs {
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

    pub(super) fn make_scheduler(
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

    pub(super) fn lookup_dest(&self, id: ServiceId, addr: IpAddr, port: u16) -> Option<DestId> {
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

    pub(super) fn service_ids(&self) -> impl Iterator<Item = ServiceId> + use<> {
        let ids: Vec<ServiceId> = self
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| ServiceId(i as u32))
            .collect();
        ids.into_iter()
    }

    pub(super) fn estimating(&self) -> bool {
        self.sysctl.int(Vs::RunEstimation) != 0
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
    if config.tun.kind == crate::lvs::service::TunnelType::Gue && config.tun.port == 0 {
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
