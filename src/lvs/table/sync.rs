//! Connection synchronisation (`ip_vs_sync.c`, protocol version 1): a director running the
//! master sync daemon describes its connections in sync messages; one running the backup
//! daemon creates or updates the same entries, so that after a failover the new director
//! forwards established connections to the real servers they already talk to.
//!
//! The bytes travel through the host (`lvs::sync_daemon`); here are the decisions: which
//! packet makes a connection worth sending (`ip_vs_sync_conn_needed` with its sysctls), when
//! a buffer goes out, and what a backup does with each entry (`ip_vs_proc_conn`).

use std::net::{IpAddr, Ipv4Addr};

use super::{Ipvs, SECOND};
use crate::lvs::conn::{Conn, ConnId, conn_flags};
use crate::lvs::ipvsadm::command::{DaemonConfig, DaemonState, Errno};
use crate::lvs::listing::DaemonListing;
use crate::lvs::service::{Forward, Protocol, ServiceKey};
use crate::lvs::state::TcpState;
use crate::lvs::sysctl::Vs;
use crate::wire::ipvs_sync::{self, SyncConn, SyncMessage};

/// A partly filled buffer goes out once it is this old (`IPVS_SYNC_FLUSH_TIME`, 2 s).
pub const FLUSH_NS: u64 = 2 * SECOND;
/// The payload a message may fill when no `--sync-maxlen` is given: MTU 1500 minus the IP
/// and UDP headers.
const DEFAULT_MAXLEN: usize = 1472;

/// `IP_VS_CONN_F_*` bits as they travel in sync messages.
mod kernel_flags {
    pub const MASQ: u32 = 0x0000;
    pub const LOCALNODE: u32 = 0x0001;
    pub const TUNNEL: u32 = 0x0002;
    pub const DROUTE: u32 = 0x0003;
    /// Alibaba's FULLNAT method.
    pub const FULLNAT: u32 = 0x0005;
    pub const NOOUTPUT: u32 = 0x0080;
    pub const INACTIVE: u32 = 0x0100;
    pub const TEMPLATE: u32 = 0x1000;
}

/// The sync daemons a director runs and the master's pending buffer.
#[derive(Debug, Clone, Default)]
pub struct SyncDaemons {
    pub master: Option<DaemonConfig>,
    pub backup: Option<DaemonConfig>,
    /// The last backup daemon stopped (which group its socket leaves).
    pub last_backup: Option<DaemonConfig>,
    pending: Vec<SyncConn>,
    pending_since: Option<u64>,
}

impl SyncDaemons {
    /// Whether the daemon of that kind runs.
    pub fn is_running(&self, state: DaemonState) -> bool {
        match state {
            DaemonState::Master => self.master.is_some(),
            DaemonState::Backup => self.backup.is_some(),
        }
    }

    fn running(&mut self, state: DaemonState) -> &mut Option<DaemonConfig> {
        match state {
            DaemonState::Master => &mut self.master,
            DaemonState::Backup => &mut self.backup,
        }
    }

    /// How many entries fit in one message of the master's.
    fn capacity(&self) -> usize {
        let maxlen = self
            .master
            .as_ref()
            .and_then(|m| m.maxlen)
            .map_or(DEFAULT_MAXLEN, |m| m as usize);
        SyncMessage::capacity(maxlen).max(1)
    }

    /// When the pending buffer is due to go out.
    pub fn flush_at(&self) -> Option<u64> {
        self.pending_since.map(|t| t + FLUSH_NS)
    }

    /// The message to send now: a full buffer at once, a partial one once it is old.
    pub fn take_message(&mut self, now: u64) -> Option<SyncMessage> {
        let master = self.master.as_ref()?;
        let full = self.pending.len() >= self.capacity();
        let old = self.flush_at().is_some_and(|t| t <= now);
        if self.pending.is_empty() || !(full || old) {
            return None;
        }
        let count = self.pending.len().min(self.capacity());
        let conns: Vec<SyncConn> = self.pending.drain(..count).collect();
        self.pending_since = (!self.pending.is_empty()).then_some(now);
        Some(SyncMessage {
            syncid: master.syncid,
            conns,
        })
    }

    /// `ipvsadm -L --daemon`'s lines.
    pub fn listings(&self) -> Vec<DaemonListing> {
        [&self.master, &self.backup]
            .into_iter()
            .flatten()
            .map(|d| DaemonListing {
                state: d.state.name(),
                mcast_ifn: d.mcast_ifn.clone(),
                syncid: d.syncid,
                maxlen: d.maxlen.unwrap_or(DEFAULT_MAXLEN as u16),
                group: d.group.unwrap_or(IpAddr::V4(ipvs_sync::MCAST_GROUP)),
                port: d.port.unwrap_or(ipvs_sync::PORT),
                ttl: d.ttl.unwrap_or(ipvs_sync::DEFAULT_TTL),
            })
            .collect()
    }
}

fn forward_flag(fwd: Forward) -> u32 {
    match fwd {
        Forward::Masq => kernel_flags::MASQ,
        Forward::Local => kernel_flags::LOCALNODE,
        Forward::Tunnel => kernel_flags::TUNNEL,
        Forward::Route => kernel_flags::DROUTE,
        Forward::FullNat => kernel_flags::FULLNAT,
    }
}

fn protocol_number(proto: Option<Protocol>) -> u8 {
    match proto {
        Some(Protocol::Tcp) => 6,
        Some(Protocol::Udp) => 17,
        Some(Protocol::Sctp) => 132,
        None => 0,
    }
}

fn protocol_of(number: u8) -> Option<Protocol> {
    match number {
        6 => Some(Protocol::Tcp),
        17 => Some(Protocol::Udp),
        132 => Some(Protocol::Sctp),
        _ => None,
    }
}

fn v4(addr: IpAddr) -> Option<Ipv4Addr> {
    match addr {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

/// The states in which a TCP connection is worth syncing (`ip_vs_sync_conn_needed`).
fn syncable(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::Established
            | TcpState::FinWait
            | TcpState::Close
            | TcpState::CloseWait
            | TcpState::TimeWait
    )
}

impl Ipvs {
    /// `ipvsadm --start-daemon`: EEXIST when that daemon already runs.
    pub fn start_daemon(&mut self, config: DaemonConfig) -> Result<(), Errno> {
        let slot = self.sync.running(config.state);
        if slot.is_some() {
            return Err(Errno::Eexist);
        }
        *slot = Some(config);
        Ok(())
    }

    /// `ipvsadm --stop-daemon`: ESRCH when it does not run. A stopped master's pending
    /// buffer is dropped with it.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<(), Errno> {
        let stopped = self.sync.running(state).take().ok_or(Errno::Esrch)?;
        if state == DaemonState::Backup {
            self.sync.last_backup = Some(stopped);
        }
        if state == DaemonState::Master {
            self.sync.pending.clear();
            self.sync.pending_since = None;
        }
        Ok(())
    }

    /// `ip_vs_sync_conn`, after an input packet of `id` on a master: the entry (and its
    /// persistence template) go into the buffer when `ip_vs_sync_conn_needed` says so.
    pub(super) fn sync_conn(&mut self, id: ConnId, now: u64) {
        if self.sync.master.is_none() {
            return;
        }
        let (threshold, period) = self.sysctl.range(Vs::SyncThreshold);
        let mut next = Some(id);
        let mut first = true;
        while let Some(id) = next {
            let conn = self.conns.get_mut(id);
            let pkts = if first || conn.is_template() {
                conn.in_pkts = conn.in_pkts.wrapping_add(1);
                conn.in_pkts as i64
            } else {
                threshold
            };
            first = false;
            if sync_needed(conn, pkts, threshold, period)
                && let Some(entry) = self.sync_entry(id)
            {
                self.sync.pending.push(entry);
                self.sync.pending_since.get_or_insert(now);
            }
            next = self.conns.get(id).control;
        }
    }

    /// What the master sends about an entry (IPv4 only: the packet path is IPv4); a
    /// fwmark service's entries carry the mark the backup finds the service by.
    fn sync_entry(&self, id: ConnId) -> Option<SyncConn> {
        let conn = self.conns.get(id);
        let mut flags = forward_flag(conn.fwd);
        if conn.is_template() {
            flags |= kernel_flags::TEMPLATE;
        }
        if conn.has(conn_flags::INACTIVE) {
            flags |= kernel_flags::INACTIVE;
        }
        if conn.has(conn_flags::NOOUTPUT) {
            flags |= kernel_flags::NOOUTPUT;
        }
        let fwmark = match self.service_config(self.service_of(conn.dest)).key {
            ServiceKey::Fwmark { mark, .. } => mark,
            ServiceKey::Addr { .. } => 0,
        };
        Some(SyncConn {
            protocol: protocol_number(conn.proto),
            flags,
            state: conn.state as u16,
            cport: conn.cport,
            vport: conn.vport,
            dport: conn.dport,
            fwmark,
            timeout: conn.timeout_s,
            caddr: v4(conn.caddr)?,
            vaddr: v4(conn.vaddr)?,
            daddr: v4(conn.daddr)?,
        })
    }

    /// A backup daemon's `ip_vs_process_message`: every entry created or brought up to
    /// date. Returns how many entries were applied and why others were not.
    pub fn apply_sync(&mut self, msg: &SyncMessage, now: u64) -> (usize, Vec<String>) {
        let mut applied = 0;
        let mut skipped = Vec::new();
        for entry in &msg.conns {
            match self.apply_sync_conn(entry, now) {
                Ok(()) => applied += 1,
                Err(why) => skipped.push(why),
            }
        }
        (applied, skipped)
    }

    /// `ip_vs_proc_conn` for one entry.
    fn apply_sync_conn(&mut self, e: &SyncConn, now: u64) -> Result<(), String> {
        let proto = protocol_of(e.protocol);
        let template = e.flags & kernel_flags::TEMPLATE != 0;
        let (caddr, vaddr) = (IpAddr::V4(e.caddr), IpAddr::V4(e.vaddr));
        let existing = match (template, proto) {
            (false, Some(p)) => self.conns.lookup_in(p, (caddr, e.cport), (vaddr, e.vport)),
            _ => self.conns.lookup_template(proto, caddr, vaddr, e.vport),
        };
        let id = match existing {
            Some(id) => {
                self.update_from_sync(id, e);
                id
            }
            None => self.conn_from_sync(e, proto, template)?,
        };
        let timeout_s = if e.timeout != 0 { e.timeout } else { 180 };
        let conn = self.conns.get_mut(id);
        conn.state = match u8::try_from(e.state) {
            Ok(n) if n <= TcpState::Synack as u8 => TcpState::from_index(n),
            _ => TcpState::None,
        };
        conn.old_state = conn.state;
        conn.timeout_s = timeout_s;
        conn.in_pkts = self.sysctl.range(Vs::SyncThreshold).0 as u32;
        self.conns.arm(id, now + timeout_s as u64 * SECOND);
        Ok(())
    }

    /// An entry the backup already has: it moves between active and inactive as the
    /// master's did.
    fn update_from_sync(&mut self, id: ConnId, e: &SyncConn) {
        let inactive = e.flags & kernel_flags::INACTIVE != 0;
        let conn = self.conns.get_mut(id);
        if conn.is_template() || conn.has(conn_flags::INACTIVE) == inactive {
            return;
        }
        let dest = conn.dest;
        if inactive {
            conn.flags |= conn_flags::INACTIVE;
        } else {
            conn.flags &= !conn_flags::INACTIVE;
        }
        let d = &mut self.dests[dest.0 as usize];
        if inactive {
            d.activeconns -= 1;
            d.inactconns += 1;
        } else {
            d.activeconns += 1;
            d.inactconns -= 1;
        }
    }

    /// A new entry from the master's description, bound to the destination of this
    /// director's matching service (`ip_vs_find_dest`).
    fn conn_from_sync(
        &mut self,
        e: &SyncConn,
        proto: Option<Protocol>,
        template: bool,
    ) -> Result<ConnId, String> {
        let key = match proto {
            Some(p) if e.fwmark == 0 => ServiceKey::Addr {
                proto: p,
                addr: IpAddr::V4(e.vaddr),
                port: e.vport,
            },
            _ => ServiceKey::Fwmark {
                mark: e.fwmark,
                ipv6: false,
            },
        };
        let svc = self
            .find_service_by_key(&key)
            .ok_or_else(|| format!("no virtual service {}:{} here", e.vaddr, e.vport))?;
        let dest = self
            .lookup_dest(svc, IpAddr::V4(e.daddr), e.dport)
            .ok_or_else(|| format!("no real server {}:{} in the service here", e.daddr, e.dport))?;
        let mut flags = 0;
        if template {
            flags |= conn_flags::TEMPLATE;
        }
        if e.flags & kernel_flags::INACTIVE != 0 {
            flags |= conn_flags::INACTIVE;
        }
        if e.flags & kernel_flags::NOOUTPUT != 0 {
            flags |= conn_flags::NOOUTPUT;
        }
        let fwd = self.dest(dest).config.fwd;
        let conn = Conn::new(
            proto,
            flags,
            fwd,
            (IpAddr::V4(e.caddr), e.cport),
            (IpAddr::V4(e.vaddr), e.vport),
            (IpAddr::V4(e.daddr), e.dport),
            dest,
        );
        let id = self.conns.insert(conn);
        self.bind(id);
        Ok(id)
    }
}

/// `ip_vs_sync_conn_needed` with sync_refresh_period 0 (the default): a TCP entry in a
/// syncable state goes out when its state just changed (other than to ESTABLISHED) or on
/// its `threshold`-th packet of every `period`; a template every time.
fn sync_needed(conn: &mut Conn, pkts: i64, threshold: i64, period: i64) -> bool {
    let template = conn.is_template();
    if !template && conn.proto == Some(Protocol::Tcp) {
        if !syncable(conn.state) {
            return false;
        }
        let changed = conn.state != conn.old_state;
        if changed && conn.state != TcpState::Established {
            conn.old_state = conn.state;
            return true;
        }
    }
    let due = if period > 0 {
        template || pkts % period == threshold
    } else {
        pkts == threshold
    };
    if due {
        conn.old_state = conn.state;
    }
    due
}
