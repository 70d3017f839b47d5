//! A miniature service for the scheduler tests: an arena of destinations and the kernel's list,
//! changed the way ip_vs_ctl.c changes it (add at the head, then the hook fires).

use std::net::{IpAddr, SocketAddr};

use super::{
    DestChange, RandomSource, SchedPacket, SchedSysctls, SchedView, Scheduler, new_scheduler,
};
use crate::lvs::service::{Dest, DestConfig, DestId, Forward, Protocol, TunnelSpec};

/// The virtual address the test packets are sent to.
pub const VIP: &str = "192.168.0.100";

pub struct TestService {
    pub dests: Vec<Dest>,
    pub list: Vec<DestId>,
    pub flags: u32,
    pub now_ns: u64,
    pub sysctl: SchedSysctls,
}

/// Draws handed out in order (then 0), as conformance tests supply twos' draws.
pub struct Draws(pub Vec<u32>);

impl RandomSource for Draws {
    fn below(&mut self, _n: u32) -> u32 {
        if self.0.is_empty() {
            0
        } else {
            self.0.remove(0)
        }
    }
}

impl TestService {
    pub fn new() -> TestService {
        TestService {
            dests: Vec::new(),
            list: Vec::new(),
            flags: 0,
            now_ns: 0,
            sysctl: SchedSysctls::default(),
        }
    }

    pub fn view(&self) -> SchedView<'_> {
        SchedView {
            dests: &self.dests,
            list: &self.list,
            flags: self.flags,
            now_ns: self.now_ns,
            sysctl: self.sysctl,
        }
    }

    /// Creates the scheduler on the service as it is now (`ipvsadm -A`, or `-E -s`).
    pub fn bind(&self, name: &str) -> Box<dyn Scheduler> {
        self.bind_with(name, Box::new(Draws(Vec::new())))
    }

    pub fn bind_with(&self, name: &str, random: Box<dyn RandomSource>) -> Box<dyn Scheduler> {
        new_scheduler(name, &self.view(), random).expect("known scheduler")
    }

    /// Creates a service with `name` and adds `dests` ("addr:port", weight) one by one.
    pub fn with(name: &str, dests: &[(&str, i32)]) -> (TestService, Box<dyn Scheduler>) {
        let mut service = TestService::new();
        let mut sched = service.bind(name);
        for &(endpoint, weight) in dests {
            service.add(sched.as_mut(), endpoint, weight);
        }
        (service, sched)
    }

    /// `ipvsadm -a`: a new destination at the head of the list, then the add hook.
    pub fn add(&mut self, sched: &mut dyn Scheduler, endpoint: &str, weight: i32) -> DestId {
        let endpoint: SocketAddr = endpoint.parse().expect("addr:port");
        let id = DestId(self.dests.len() as u32);
        self.dests.push(Dest::new(DestConfig {
            addr: endpoint.ip(),
            port: endpoint.port(),
            fwd: Forward::Route,
            weight,
            u_threshold: 0,
            l_threshold: 0,
            tun: TunnelSpec::default(),
        }));
        self.list.insert(0, id);
        sched.update(&self.view(), DestChange::Added(id));
        id
    }

    /// `ipvsadm -d`: out of the list, not AVAILABLE, then the delete hook.
    pub fn delete(&mut self, sched: &mut dyn Scheduler, id: DestId) {
        let at = self
            .list
            .iter()
            .position(|&listed| listed == id)
            .expect("listed");
        let prev = at.checked_sub(1).map(|before| self.list[before]);
        self.list.remove(at);
        self.dests[id.0 as usize].available = false;
        sched.update(&self.view(), DestChange::Deleted { id, prev });
    }

    /// Re-adding a deleted destination revives the same object at the head of the list.
    pub fn revive(&mut self, sched: &mut dyn Scheduler, id: DestId) {
        self.dests[id.0 as usize].available = true;
        self.list.insert(0, id);
        sched.update(&self.view(), DestChange::Added(id));
    }

    /// `ipvsadm -e -w`: the new weight (last_weight follows unless it is 0), then the edit hook.
    pub fn set_weight(&mut self, sched: &mut dyn Scheduler, id: DestId, weight: i32) {
        let dest = &mut self.dests[id.0 as usize];
        dest.config.weight = weight;
        if weight != 0 {
            dest.last_weight = weight;
        }
        sched.update(&self.view(), DestChange::Edited(id));
    }

    pub fn set_conns(&mut self, id: DestId, active: u32, inactive: u32) {
        let dest = &mut self.dests[id.0 as usize];
        dest.activeconns = active;
        dest.inactconns = inactive;
    }

    pub fn set_overload(&mut self, id: DestId, overload: bool) {
        self.dests[id.0 as usize].overload = overload;
    }

    pub fn id(&self, endpoint: &str) -> DestId {
        let endpoint: SocketAddr = endpoint.parse().expect("addr:port");
        let at = self.dests.iter().position(|dest| {
            dest.config.addr == endpoint.ip() && dest.config.port == endpoint.port()
        });
        DestId(at.expect("known destination") as u32)
    }

    pub fn name(&self, id: DestId) -> String {
        let dest = &self.dests[id.0 as usize];
        SocketAddr::new(dest.config.addr, dest.config.port).to_string()
    }

    /// The destination's "addr:port", or "-" when the scheduler returned none.
    pub fn pick(&self, sched: &mut dyn Scheduler, packet: &SchedPacket) -> String {
        sched
            .schedule(&self.view(), packet, None)
            .map_or_else(|| "-".to_string(), |id| self.name(id))
    }

    /// The pick and the explanation the scheduler gives for it.
    pub fn explain(&self, sched: &mut dyn Scheduler, packet: &SchedPacket) -> (String, String) {
        let mut why = String::from("stale text");
        let pick = sched.schedule(&self.view(), packet, Some(&mut why));
        let name = pick.map_or_else(|| "-".to_string(), |id| self.name(id));
        (name, why)
    }

    /// `count` new connections from one client, each counted active on its destination (a
    /// SYN moves it to SYN_RECV before the next is scheduled), as ipvs-schedulers.md §2.3 says.
    pub fn connect(&mut self, sched: &mut dyn Scheduler, count: usize) -> Vec<String> {
        let packet = packet_from("10.9.9.9", 40000);
        (0..count)
            .map(|_| {
                let picked = sched.schedule(&self.view(), &packet, None);
                if let Some(id) = picked {
                    self.dests[id.0 as usize].activeconns += 1;
                }
                picked.map_or_else(|| "-".to_string(), |id| self.name(id))
            })
            .collect()
    }

    /// Schedules `count` times without changing any counter.
    pub fn picks(&self, sched: &mut dyn Scheduler, count: usize) -> Vec<String> {
        let packet = packet_from("10.9.9.9", 40000);
        (0..count).map(|_| self.pick(sched, &packet)).collect()
    }

    pub fn advance_to(&mut self, now_ns: u64, sched: &mut dyn Scheduler) {
        while let Some(due) = sched.next_tick()
            && due <= now_ns
        {
            self.now_ns = due;
            sched.tick(&self.view());
        }
        self.now_ns = now_ns;
    }
}

/// A TCP packet from `saddr:sport` to the VIP on port 80.
pub fn packet_from(saddr: &str, sport: u16) -> SchedPacket {
    packet(saddr, sport, VIP)
}

/// A TCP packet from `saddr:sport` to `daddr:80` (dh/lblc/lblcr read the destination).
pub fn packet(saddr: &str, sport: u16, daddr: &str) -> SchedPacket {
    SchedPacket {
        proto: Protocol::Tcp,
        saddr: saddr.parse::<IpAddr>().expect("address"),
        sport,
        daddr: daddr.parse::<IpAddr>().expect("address"),
        dport: 80,
    }
}

/// A packet to the destination address `daddr` (lblc, lblcr and dh key on it).
pub fn to(daddr: &str) -> SchedPacket {
    packet("10.9.9.9", 40000, daddr)
}

/// Seconds in nanoseconds.
pub fn secs(seconds: u64) -> u64 {
    seconds * 1_000_000_000
}
