//! The IPVS schedulers, one file each, as `ipvs-schedulers.md` describes them. A scheduler sees
//! the service's destinations in the kernel's list order (newest first) and the packet that
//! opens a connection, and names a destination — with a one-line reason when asked.

use std::net::IpAddr;

use super::service::{Dest, DestId, Protocol};

/// What a scheduler may read from the packet that creates a connection: sh and mh read the
/// source, dh, lblc and lblcr the destination address, the others nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedPacket {
    pub proto: Protocol,
    pub saddr: IpAddr,
    pub sport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
}

/// The sysctls some schedulers read (`net.ipv4.vs.*`), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedSysctls {
    pub lblc_expiration: u64,
    pub lblcr_expiration: u64,
}

impl Default for SchedSysctls {
    fn default() -> SchedSysctls {
        SchedSysctls {
            lblc_expiration: 86_400,
            lblcr_expiration: 86_400,
        }
    }
}

/// A service's destinations as its scheduler sees them.
#[derive(Clone, Copy)]
pub struct SchedView<'a> {
    /// Every destination of the table, indexed by `DestId` (deleted ones included, with
    /// `available == false`).
    pub dests: &'a [Dest],
    /// The service's list, head first: the most recently added destination comes first.
    pub list: &'a [DestId],
    /// The service's `flags::*` bits (SCHED1 = sh/mh-fallback, SCHED2 = sh/mh-port).
    pub flags: u32,
    /// Simulated time in nanoseconds.
    pub now_ns: u64,
    pub sysctl: SchedSysctls,
}

impl SchedView<'_> {
    pub fn dest(&self, id: DestId) -> &Dest {
        &self.dests[id.0 as usize]
    }
}

/// A change to the service's destination list; the view passed with it already shows the
/// list after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestChange {
    Added(DestId),
    /// `prev` is the destination that preceded the deleted one in the list (None: it was the
    /// head) — rr moves its cursor there.
    Deleted {
        id: DestId,
        prev: Option<DestId>,
    },
    /// Weight or thresholds changed (`ipvsadm -e`).
    Edited(DestId),
}

/// Random numbers for twos: `below(n)` is uniform in `0..n`.
pub trait RandomSource {
    fn below(&mut self, n: u32) -> u32;
}

/// An IPVS scheduler.
pub trait Scheduler {
    /// The name ipvsadm lists (`wlc`).
    fn name(&self) -> &'static str;
    /// Reacts to a list change as the kernel's add/del/upd hooks do (ipvs-schedulers.md §1.3).
    fn update(&mut self, view: &SchedView, change: DestChange);
    /// Picks the destination for a new connection, or None. When `why` is given it receives
    /// one line a student can read, e.g. `wlc: overhead×weight 256×1 < 512×1 ...`.
    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId>;
    /// When the scheduler next wants `tick` (lblc/lblcr garbage collection), in ns.
    fn next_tick(&self) -> Option<u64> {
        None
    }
    fn tick(&mut self, _view: &SchedView) {}
}
