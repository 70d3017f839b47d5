//! The IPVS schedulers, one file each, as `ipvs-schedulers.md` describes them. A scheduler sees
//! the service's destinations in the kernel's list order (newest first) and the packet that
//! opens a connection, and names a destination — with a one-line reason when asked.

use std::net::IpAddr;

use super::service::{Dest, DestId, Protocol};

mod common;
mod dh;
mod fo;
pub mod hash;
mod lblc;
mod lblcr;
mod lc;
mod locality;
mod mh;
mod nq;
mod ovf;
pub mod random;
mod rr;
mod sed;
mod sh;
#[cfg(test)]
mod testutil;
mod twos;
mod wlc;
mod wrr;

pub use random::SplitMix64;

/// The schedulers lvsim implements, by the names `ipvsadm -s` takes.
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "dh", "sh", "mh", "lblc", "lblcr", "twos",
];

/// Binds the scheduler `name` to a service, as `ip_vs_bind_scheduler` runs its `init_service`:
/// `view` is the service at that moment (usually still without destinations; `now_ns` starts
/// lblc/lblcr's garbage-collection timer). Changing a service's scheduler is a new scheduler
/// on the current list (wrr then starts with cw = mw). `random` feeds twos; the others drop it.
/// None for a name lvsim does not know.
pub fn new_scheduler(
    name: &str,
    view: &SchedView,
    random: Box<dyn RandomSource>,
) -> Option<Box<dyn Scheduler>> {
    let scheduler: Box<dyn Scheduler> = match name {
        "rr" => Box::new(rr::RoundRobin::default()),
        "wrr" => Box::new(wrr::WeightedRoundRobin::new(view)),
        "lc" => Box::new(lc::LeastConnection),
        "wlc" => Box::new(wlc::WeightedLeastConnection),
        "sed" => Box::new(sed::ShortestExpectedDelay),
        "nq" => Box::new(nq::NeverQueue),
        "fo" => Box::new(fo::WeightedFailover),
        "ovf" => Box::new(ovf::WeightedOverflow),
        "dh" => Box::new(dh::DestinationHashing::new(view)),
        "sh" => Box::new(sh::SourceHashing::new(view)),
        "mh" => Box::new(mh::MaglevHashing::new(view)),
        "lblc" => Box::new(lblc::LocalityLeastConnection::new(view)),
        "lblcr" => Box::new(lblcr::LocalityReplication::new(view)),
        "twos" => Box::new(twos::PowerOfTwoChoices::new(random)),
        _ => return None,
    };
    Some(scheduler)
}

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
    /// Reacts to a list change as the kernel's add/del/upd hooks do (ipvs-schedulers.md §1.3);
    /// schedulers that keep no state about the list have nothing to do.
    fn update(&mut self, _view: &SchedView, _change: DestChange) {}
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
    /// Whether the scheduler still refers to `dest` (lblc cache entries and lblcr sets hold
    /// deleted destinations, which keeps them revivable in the trash).
    fn references(&self, _dest: DestId) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{TestService, packet};
    use super::*;

    // ipvs-schedulers.md §6 summary table: every scheduler of the table, by name
    #[test]
    fn every_listed_name_builds_a_scheduler_of_that_name() {
        let svc = TestService::new();
        for &name in SCHEDULERS {
            assert_eq!(svc.bind(name).name(), name);
        }
        let random = Box::new(SplitMix64::new(1));
        assert!(new_scheduler("none", &svc.view(), random).is_none());
    }

    /// Empty list, a lone dest quiesced, then deleted: every scheduler answers without
    /// panicking, explains itself under its own name, and only lblc/lblcr ask for ticks.
    #[test]
    fn every_scheduler_copes_with_degenerate_services() {
        let to_vip = packet("10.9.9.9", 1, "10.3.0.1");
        for &name in SCHEDULERS {
            let mut svc = TestService::new();
            let mut sched = svc.bind(name);
            let mut why = String::new();
            let picked = sched.schedule(&svc.view(), &to_vip, Some(&mut why));
            assert_eq!(picked, None, "{name} on an empty list");
            assert!(why.starts_with(&format!("{name}: ")), "{why}");

            let a = svc.add(sched.as_mut(), "10.0.0.1:80", 0);
            assert_eq!(sched.schedule(&svc.view(), &to_vip, None), None, "{name}");
            svc.set_weight(sched.as_mut(), a, 1);
            assert_eq!(
                sched.schedule(&svc.view(), &to_vip, None),
                Some(a),
                "{name}"
            );
            svc.delete(sched.as_mut(), a);
            let picked = sched.schedule(&svc.view(), &to_vip, Some(&mut why));
            assert_eq!(picked, None, "{name} after delete");
            assert!(why.starts_with(&format!("{name}: ")), "{why}");

            let ticks = matches!(name, "lblc" | "lblcr");
            assert_eq!(sched.next_tick().is_some(), ticks, "{name}");
            svc.advance_to(3_600_000_000_000, sched.as_mut());
        }
    }

    /// A lone usable IPv6 dest is chosen by every scheduler (§8.8).
    #[test]
    fn every_scheduler_serves_ipv6() {
        let to_vip = packet("2001:db8:9::9", 1, "2001:db8::100");
        for &name in SCHEDULERS {
            let mut svc = TestService::new();
            let mut sched = svc.bind(name);
            let a = svc.add(sched.as_mut(), "[2001:db8::1]:80", 1);
            let mut why = String::new();
            let picked = sched.schedule(&svc.view(), &to_vip, Some(&mut why));
            assert_eq!(picked, Some(a), "{name}");
            assert!(why.contains("[2001:db8::1]:80"), "{name}: {why}");
        }
    }
}
