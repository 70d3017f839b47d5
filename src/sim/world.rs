//! The world loop: hosts and LANs driven by the event queue. Each event is handled by one
//! host or one switch; frames the host sent are then put on their LAN and the trace records of
//! the event are flushed to the outputs.

use std::net::Ipv4Addr;

use crate::diagnosis::{
    ArpClaim, ClaimReason, ClaimSeen, Conflict, ConflictDetector, FrameAddrs, VRRP_CONFIRM_NS,
    frame_addrs,
};
use crate::sim::{EventQueue, SimTime};
use crate::stack::ctx::{Ctx, TxFrame};
use crate::stack::host::{Host, HostEvent};
use crate::stack::lan::{Forwarding, Lan};
use crate::trace::{ArpSent, Capture, Direction, HostId, Link, Tracer};
use crate::wire::Packet;
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETH_MIN_FRAME_LEN, ETHERTYPE_ARP, EthHeader};

/// Something for the world to do at a simulated time.
pub enum Event {
    /// Work for one host.
    Host(HostId, HostEvent),
    /// A frame has fully arrived at a LAN's switch.
    SwitchIngress(Ingress),
    /// A scenario action (a timeline command, a partition).
    Action(Box<dyn FnOnce(&mut World)>),
}

/// A frame arriving at a switch, with the header fields the switch and the bypass checks read.
/// They are taken when the frame is sent, while its bytes are in cache: with many flows in
/// flight they are long out of it by the time the frame reaches the switch.
pub struct Ingress {
    lan: u32,
    port: u32,
    eth: EthHeader,
    addrs: Option<FrameAddrs>,
    frame: Packet,
}

/// Counters for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames put on a wire (one per transmission, however many NICs receive it).
    pub frames: u64,
    pub events: u64,
}

/// Who handled an event: hosts' state changes only in their own events or in actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Host(HostId),
    /// A switch forwarded a frame (no host state changed).
    Switch,
    /// A scenario action: commands may have changed any host.
    Action,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// No events were left.
    Idle,
    /// The requested instant was reached.
    Until,
    /// The `--max-events` bound was hit.
    MaxEvents,
}

pub struct World {
    pub hosts: Vec<Host>,
    pub lans: Vec<Lan>,
    pub queue: EventQueue<Event>,
    pub trace: Tracer,
    pub stats: Stats,
    conflicts: ConflictDetector,
    tx: Vec<TxFrame>,
    /// The switches' scratch output list, reused frame after frame.
    forwarding: Forwarding,
}

impl World {
    pub fn new(hosts: Vec<Host>, lans: Vec<Lan>) -> World {
        let names = hosts.iter().map(|h| h.name.clone()).collect();
        World {
            hosts,
            lans,
            queue: EventQueue::default(),
            trace: Tracer::new(names),
            stats: Stats::default(),
            conflicts: ConflictDetector::default(),
            tx: Vec::new(),
            forwarding: Forwarding::default(),
        }
    }

    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// Runs `f` on one host with a context at the current time, then flushes what it sent.
    pub fn with_host<R>(&mut self, host: HostId, f: impl FnOnce(&mut Host, &mut Ctx) -> R) -> R {
        let mut ctx = Ctx {
            now: self.queue.now(),
            host,
            queue: &mut self.queue,
            trace: &mut self.trace,
            tx: &mut self.tx,
        };
        let result = f(&mut self.hosts[host], &mut ctx);
        self.hosts[host].dispatch_tcp_events(&mut ctx);
        self.put_frames_on_the_wire();
        self.trace.flush();
        result
    }

    /// Processes every event due at or before `until` (all of them with None), at most
    /// `max_events` in total over the world's life.
    pub fn run(&mut self, until: Option<SimTime>, max_events: u64) -> Stop {
        loop {
            if let Err(stop) = self.step(until, max_events) {
                return stop;
            }
        }
    }

    /// Processes the next event when it is due at or before `until` and fewer than
    /// `max_events` were processed; says who handled it. The TUI steps the world with this so
    /// that it can record, after each event, the state of the one host the event touched.
    pub fn step(&mut self, until: Option<SimTime>, max_events: u64) -> Result<Handled, Stop> {
        let Some(next) = self.queue.peek_time() else {
            if let Some(t) = until {
                self.queue.advance_to(t);
            }
            return Err(Stop::Idle);
        };
        if let Some(t) = until.filter(|&t| next > t) {
            self.queue.advance_to(t);
            return Err(Stop::Until);
        }
        if self.stats.events >= max_events {
            return Err(Stop::MaxEvents);
        }
        let (_, event) = self.queue.pop().expect("peeked");
        self.stats.events += 1;
        self.prefetch_next_frames();
        Ok(self.dispatch(event))
    }

    /// Starts loading the bytes of the frames the next two events receive: with thousands of
    /// flows in flight they are out of cache, and each event's work hides the wait.
    fn prefetch_next_frames(&self) {
        for n in 0..2 {
            if let Some(Event::Host(_, HostEvent::FrameRx { frame, .. })) =
                self.queue.peek_sorted(n)
            {
                crate::sim::prefetch(frame.data().as_ptr());
            }
        }
    }

    fn dispatch(&mut self, event: Event) -> Handled {
        let handled = match event {
            Event::Host(host, event) => {
                self.host_event(host, event);
                Handled::Host(host)
            }
            Event::SwitchIngress(ingress) => {
                self.switch(ingress);
                Handled::Switch
            }
            Event::Action(action) => {
                action(self);
                Handled::Action
            }
        };
        self.put_frames_on_the_wire();
        self.trace.flush();
        handled
    }

    fn host_event(&mut self, host: HostId, event: HostEvent) {
        if self.hosts[host].powered_off {
            return;
        }
        let mut ctx = Ctx {
            now: self.queue.now(),
            host,
            queue: &mut self.queue,
            trace: &mut self.trace,
            tx: &mut self.tx,
        };
        let h = &mut self.hosts[host];
        match event {
            HostEvent::FrameRx { iface, frame } => {
                if !h.ifaces[iface].admin_up {
                    return;
                }
                let counters = &mut h.ifaces[iface].counters;
                counters.rx_packets += 1;
                counters.rx_bytes += frame.len() as u64;
                if ctx.trace.enabled() {
                    ctx.trace.capture(Capture {
                        t: ctx.now,
                        host,
                        iface: h.ifaces[iface].name.clone(),
                        dir: Direction::In,
                        link: Link::Ethernet,
                        frame: frame.data().to_vec(),
                        notes: Vec::new(),
                    });
                }
                h.receive_frame(&mut ctx, iface, frame);
            }
            HostEvent::Loopback { packet } => h.loopback_receive(&mut ctx, packet),
            HostEvent::NeighTimer {
                iface,
                ip,
                generation,
            } => h.neigh_timer(&mut ctx, iface, ip, generation),
            HostEvent::TcpTimer { socket, generation } => h.tcp_timer(&mut ctx, socket, generation),
            HostEvent::AppTimer { app, token } => h.app_timer(&mut ctx, app, token),
            HostEvent::ReassemblyTimeout { key } => h.reassembly_timeout(&mut ctx, key),
            HostEvent::IpvsTimer => h.ipvs_timer(&mut ctx),
            HostEvent::IpvsSync => h.ipvs_sync_timer(&mut ctx),
            HostEvent::IgmpReport { iface, group, join } => {
                h.igmp_report(&mut ctx, iface, group, join)
            }
            HostEvent::TimeWaitTimer => h.time_wait_timer(&mut ctx),
            HostEvent::Keepalived(timer) => h.keepalived_timer(&mut ctx, timer),
            HostEvent::ProxyArpReply { iface, request } => {
                h.send_reply(&mut ctx, iface, &request, ClaimReason::ProxyArp)
            }
        }
        h.dispatch_tcp_events(&mut ctx);
        ctx.trace.end_capture();
    }

    /// Hands the frames hosts sent to their LANs (padded to the Ethernet minimum, as NICs do).
    fn put_frames_on_the_wire(&mut self) {
        // Most events (timers, received frames that end at a socket) send nothing.
        if self.tx.is_empty() {
            return;
        }
        let now = self.queue.now();
        let mut outbox = std::mem::take(&mut self.tx);
        for TxFrame {
            host,
            iface,
            mut frame,
            claim,
        } in outbox.drain(..)
        {
            let Some(attachment) = self.hosts[host].ifaces[iface].attachment else {
                continue;
            };
            self.stats.frames += 1;
            let counters = &mut self.hosts[host].ifaces[iface].counters;
            counters.tx_packets += 1;
            counters.tx_bytes += frame.len() as u64;
            if let Some(arp) = arp_of(frame.data()) {
                let lan = attachment.lan;
                self.trace.arp_sent.push(ArpSent {
                    t: now,
                    host,
                    lan,
                    arp,
                });
                if let Some(claim) = claim {
                    self.check_conflict(lan, host, arp, &claim);
                }
            }
            frame.pad_to(ETH_MIN_FRAME_LEN);
            let Some(eth) = EthHeader::parse(frame.data()) else {
                continue;
            };
            let (lan, port) = (attachment.lan, attachment.port);
            let at = self.lans[lan].ingress_time(port, frame.len(), now);
            let ingress = Ingress {
                lan: lan as u32,
                port: port as u32,
                eth,
                addrs: frame_addrs(frame.data()),
                frame,
            };
            self.queue.schedule(at, Event::SwitchIngress(ingress));
        }
        self.tx = outbox;
    }

    fn check_conflict(&mut self, lan: usize, host: HostId, arp: ArpRepr, claim: &ArpClaim) {
        let hosts = &self.hosts;
        let seen = ClaimSeen {
            lan,
            lan_name: &self.lans[lan].name,
            host,
            mac: arp.sha,
            claim,
        };
        let found = self.conflicts.observe(
            seen,
            |h| hosts[h].name.as_str(),
            |h, ip| hosts[h].ifaces.iter().any(|i| i.has_addr(ip)),
        );
        let Some(conflict) = found else {
            return;
        };
        match conflict.pending {
            None => self.trace.warn(
                self.queue.now(),
                "arp-conflict",
                conflict.culprit,
                conflict.detail,
            ),
            Some((old, new, ip)) => {
                let at = self.queue.now() + VRRP_CONFIRM_NS;
                let confirm =
                    move |w: &mut World| w.confirm_split_brain(lan, (old, new, ip), conflict);
                self.queue.schedule(at, Event::Action(Box::new(confirm)));
            }
        }
    }

    /// A VRRP takeover a second ago: if the old holder still has the address, it is a split
    /// brain and the conflict is reported now.
    fn confirm_split_brain(
        &mut self,
        lan: usize,
        (old, new, ip): (HostId, HostId, Ipv4Addr),
        conflict: Conflict,
    ) {
        let holds = |h: HostId| self.hosts[h].ifaces.iter().any(|i| i.has_addr(ip));
        if holds(old) && holds(new) {
            let now = self.queue.now();
            self.trace
                .warn(now, "arp-conflict", conflict.culprit, conflict.detail);
        } else {
            self.conflicts.forget(lan, ip, old, new);
        }
    }

    /// `director-bypassed` / `nat-reply-bypassed` for a frame from `sender` to `receiver`.
    fn check_bypass(&mut self, addrs: FrameAddrs, sender: HostId, receiver: HostId) {
        let hosts = &self.hosts;
        let name = |h: HostId| hosts[h].name.as_str();
        let holds = |h: HostId, ip| hosts[h].is_local(ip);
        let found = self
            .trace
            .directors
            .observe(addrs, sender, receiver, &name, &holds);
        if let Some(bypass) = found {
            let now = self.queue.now();
            self.trace
                .warn(now, bypass.kind, bypass.host, bypass.detail);
        }
    }

    /// The switch forwards a frame that fully arrived from `port`.
    fn switch(&mut self, ingress: Ingress) {
        let now = self.queue.now();
        let Ingress {
            lan,
            port,
            eth,
            addrs,
            frame,
        } = ingress;
        let (lan, port) = (lan as usize, port as usize);
        let l = &mut self.lans[lan];
        let mut forwarding = std::mem::take(&mut self.forwarding);
        l.forward(port, (eth.src, eth.dst), frame.len(), now, &mut forwarding);
        for &out in &forwarding.partitioned {
            let p = &l.ports[out];
            let (host, dev) = (p.host, self.hosts[p.host].ifaces[p.iface].name.clone());
            let reason = format!(
                "partition: {} is cut off from the sender on {}",
                self.hosts[host].name, l.name
            );
            self.trace.drop_packet(now, host, &dev, reason);
        }
        let sender = self.lans[lan].ports[port].host;
        if let Some(addrs) = addrs.filter(|_| !self.trace.directors.is_empty()) {
            for &(out, _) in &forwarding.deliveries {
                let receiver = self.lans[lan].ports[out].host;
                self.check_bypass(addrs, sender, receiver);
            }
        }
        let last = forwarding.deliveries.len();
        let mut frame = Some(frame);
        for (i, &(out, at)) in forwarding.deliveries.iter().enumerate() {
            let p = &self.lans[lan].ports[out];
            let copy = if i + 1 == last {
                frame.take().expect("kept for the last")
            } else {
                frame.clone().expect("kept")
            };
            self.queue.schedule(
                at,
                Event::Host(
                    p.host,
                    HostEvent::FrameRx {
                        iface: p.iface,
                        frame: copy,
                    },
                ),
            );
        }
        self.forwarding = forwarding;
    }
}

/// The ARP message of a frame, if it is one.
fn arp_of(frame: &[u8]) -> Option<ArpRepr> {
    if frame.len() < ETH_HEADER_LEN || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_ARP {
        return None;
    }
    ArpRepr::parse(&frame[ETH_HEADER_LEN..]).ok()
}
