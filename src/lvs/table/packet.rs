//! What happens to a packet that reaches the tables (ip_vs_core.c ip_vs_in_hook,
//! ip_vs_schedule, ip_vs_sched_persist): service lookup, connection reuse, scheduling,
//! persistence templates, FULLNAT local addresses, and the per-packet accounting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::lvs::conn::{Conn, ConnId, FullNat, conn_flags};
use crate::lvs::sched::SchedPacket;
use crate::lvs::service::{
    DestConfig, DestId, Forward, Netmask, Protocol, ServiceConfig, ServiceKey,
};
use crate::lvs::state::{Direction, TcpFlag, TcpState, next_state};
use crate::lvs::stats::Stats;
use crate::lvs::sysctl::Vs;

use super::{
    FTP_DATA_PORT, FTP_PORT, InVerdict, Ipvs, PacketMeta, SECOND, ServiceId, TcpFlags, addr_port,
};

impl Ipvs {
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
    pub(super) fn bind(&mut self, id: ConnId) {
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
    pub(super) fn unbind(&mut self, conn: &Conn) {
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
    pub(super) fn put(&mut self, id: ConnId, now: u64) {
        let timeout = self.conns.get(id).timeout_s as u64 * SECOND;
        self.conns.arm(id, now + timeout);
    }
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
