//! `arping` as iputils does it: ARP requests from a packet socket (`-c -w -I -s`), unsolicited
//! (`-U`: gratuitous request, `-A`: gratuitous reply) and duplicate address detection (`-D`).
//! The kernel still processes every reply arping receives, so arp_accept decides whether they
//! create neighbour entries.

use std::net::Ipv4Addr;

use super::{AppRef, Program, RawSockets, Tally, millis, upper_mac};
use crate::diagnosis::{ArpClaim, ClaimReason};
use crate::say;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::wire::MacAddr;
use crate::wire::arp::{ArpRepr, OP_REPLY, OP_REQUEST};
use crate::wire::ethernet::EthHeader;

const SECOND: u64 = 1_000_000_000;
const TIMER_TICK: u64 = 0;
const TIMER_DEADLINE: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpingMode {
    /// Ordinary requests, answered by the target's owner.
    Probe,
    /// `-U`: gratuitous requests.
    Unsolicited,
    /// `-A`: gratuitous replies.
    Advert,
    /// `-D`: duplicate address detection (sender 0.0.0.0).
    Dad,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpingOptions {
    pub target: Ipv4Addr,
    pub mode: ArpingMode,
    pub count: Option<u32>,
    pub deadline_ns: Option<u64>,
    pub iface: Option<String>,
    pub source: Option<Ipv4Addr>,
    /// `-b`: keep broadcasting after the first reply.
    pub broadcast_only: bool,
    /// `-f` (and `-D`): stop at the first reply.
    pub quit_on_reply: bool,
    /// `-q`: print nothing but errors.
    pub quiet: bool,
}

pub struct Arping {
    opts: ArpingOptions,
    dev: IfIndex,
    src: Ipv4Addr,
    mac: MacAddr,
    peer: MacAddr,
    sent: u32,
    broadcasts: u32,
    received: u32,
    broadcast_replies: u32,
    last_sent: SimTime,
    begin: SimTime,
    done: bool,
}

impl Arping {
    pub fn new(opts: ArpingOptions) -> Arping {
        Arping {
            opts,
            dev: 0,
            src: Ipv4Addr::UNSPECIFIED,
            mac: MacAddr::ZERO,
            peer: MacAddr::BROADCAST,
            sent: 0,
            broadcasts: 0,
            received: 0,
            broadcast_replies: 0,
            last_sent: SimTime::ZERO,
            begin: SimTime::ZERO,
            done: false,
        }
    }

    fn unsolicited(&self) -> bool {
        matches!(self.opts.mode, ArpingMode::Unsolicited | ArpingMode::Advert)
    }

    /// Chooses the device and source as arping does; None (with the message printed) if it
    /// cannot start.
    fn setup(&mut self, host: &Host) -> Result<(), String> {
        let target = self.opts.target;
        self.dev = match &self.opts.iface {
            Some(name) => host
                .iface_index(name)
                .ok_or_else(|| format!("arping: Device {name} not available."))?,
            None => host
                .route_output(target, None, None)
                .ok()
                .filter(|r| !r.local)
                .map(|r| r.dev)
                .ok_or("arping: Suitable device could not be determined. Please, use option -I.")?,
        };
        if !host.ifaces[self.dev].uses_arp() || !host.ifaces[self.dev].admin_up {
            return Err(format!(
                "arping: Interface \"{}\" is down",
                host.ifaces[self.dev].name
            ));
        }
        self.mac = host.ifaces[self.dev].mac;
        self.src = match (self.opts.mode, self.opts.source) {
            (ArpingMode::Dad, _) => Ipv4Addr::UNSPECIFIED,
            (_, Some(src)) => {
                if !host.is_local(src) {
                    return Err("arping: bind: Cannot assign requested address".to_owned());
                }
                src
            }
            (ArpingMode::Unsolicited | ArpingMode::Advert, None) => target,
            (ArpingMode::Probe, None) => host
                .route_output(target, Some(self.dev), None)
                .map(|r| r.src)
                .map_err(|f| format!("arping: connect: {}", f.errno_text()))?,
        };
        Ok(())
    }

    fn send(&mut self, host: &Host, ctx: &mut Ctx) {
        let advert = self.opts.mode == ArpingMode::Advert;
        let arp = ArpRepr {
            op: if advert { OP_REPLY } else { OP_REQUEST },
            sha: self.mac,
            spa: self.src,
            tha: if advert { self.mac } else { self.peer },
            tpa: self.opts.target,
        };
        let claim = (!self.src.is_unspecified()).then(|| ArpClaim {
            ip: self.src,
            reason: if self.unsolicited() {
                ClaimReason::Tool(format!("arping -{}", if advert { 'A' } else { 'U' }))
            } else {
                ClaimReason::OwnAddress
            },
        });
        if self.peer.is_broadcast() {
            self.broadcasts += 1;
        }
        host.transmit(ctx, self.dev, arp.to_frame(self.mac, self.peer), claim);
        self.sent += 1;
        self.last_sent = ctx.now;
    }

    /// One tick of arping's one-second loop: stop when the count is spent or the deadline
    /// has passed, else send the next probe.
    fn tick(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        let count_spent = self.opts.count.is_some_and(|c| self.sent >= c);
        let past_deadline = self
            .opts
            .deadline_ns
            .is_some_and(|d| ctx.now.since(self.begin) >= d);
        if count_spent || past_deadline {
            self.finish(host, ctx, me);
            return;
        }
        self.send(host, ctx);
        if self.unsolicited() && self.opts.count.is_some_and(|c| self.sent >= c) {
            self.finish(host, ctx, me);
            return;
        }
        host.program_timer(ctx, me, SECOND, TIMER_TICK);
    }

    fn finish(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.opts.quiet {
            self.print_summary(ctx);
        }
        host.finish_program(ctx, me, self.tally());
    }
}

impl Arping {
    fn print_summary(&self, ctx: &mut Ctx) {
        say!(
            ctx,
            "Sent {} probes ({} broadcast(s))",
            self.sent,
            self.broadcasts
        );
        let extra = if self.broadcast_replies > 0 {
            format!(" ({} broadcast(s))", self.broadcast_replies)
        } else {
            String::new()
        };
        say!(ctx, "Received {} response(s){extra}", self.received);
    }
}

impl Program for Arping {
    fn name(&self) -> &'static str {
        "arping"
    }

    /// Probes count the replies; -U/-A count what was sent (no reply is expected); -D is ok
    /// when nobody else answered for the address.
    fn raw_sockets(&self) -> RawSockets {
        RawSockets {
            arp: true,
            ..RawSockets::default()
        }
    }

    fn tally(&self) -> Tally {
        let (ok, failed) = match self.opts.mode {
            ArpingMode::Unsolicited | ArpingMode::Advert => (self.sent as u64, 0),
            ArpingMode::Dad => {
                if self.received == 0 {
                    (1, 0)
                } else {
                    (0, 1)
                }
            }
            ArpingMode::Probe => (
                self.received as u64,
                self.sent.saturating_sub(self.received) as u64,
            ),
        };
        Tally {
            ok,
            failed,
            ..Tally::default()
        }
    }

    fn start(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.begin = ctx.now;
        if let Err(message) = self.setup(host) {
            say!(ctx, "{message}");
            self.done = true;
            let tally = Tally {
                failed: 1,
                ..Tally::default()
            };
            host.finish_program(ctx, me, tally);
            return;
        }
        if !self.opts.quiet {
            let dev_name = host.ifaces[self.dev].name.clone();
            say!(
                ctx,
                "ARPING {} from {} {dev_name}",
                self.opts.target,
                self.src
            );
        }
        if let Some(deadline) = self.opts.deadline_ns {
            host.program_timer(ctx, me, deadline, TIMER_DEADLINE);
        }
        self.tick(host, ctx, me);
    }

    fn timer(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, token: u64) {
        if self.done {
            return;
        }
        match token {
            TIMER_DEADLINE => self.finish(host, ctx, me),
            _ => self.tick(host, ctx, me),
        }
    }

    /// iputils `recv_pack`: a reply (or request) from the target addressed to us.
    fn arp(
        &mut self,
        host: &mut Host,
        ctx: &mut Ctx,
        me: AppRef,
        dev: IfIndex,
        eth: &EthHeader,
        arp: &ArpRepr,
    ) {
        if self.done || dev != self.dev || self.unsolicited() || arp.spa != self.opts.target {
            return;
        }
        let matches = match self.opts.mode {
            ArpingMode::Dad => arp.sha != self.mac,
            _ => arp.tpa == self.src && arp.tha == self.mac,
        };
        if !matches {
            return;
        }
        let unicast = eth.dst == self.mac;
        let kind = if unicast { "Unicast" } else { "Broadcast" };
        let op = if arp.op == OP_REPLY {
            "reply"
        } else {
            "request"
        };
        if !self.opts.quiet {
            say!(
                ctx,
                "{kind} {op} from {} [{}]  {}ms",
                arp.spa,
                upper_mac(arp.sha),
                millis(ctx.now.since(self.last_sent))
            );
        }
        self.received += 1;
        if !unicast {
            self.broadcast_replies += 1;
        }
        host.count_reply(arp.spa);
        if !self.opts.broadcast_only {
            self.peer = arp.sha;
        }
        let all_in = self.opts.count.is_some_and(|c| self.sent >= c) && self.received >= self.sent;
        if all_in || self.opts.quit_on_reply {
            self.finish(host, ctx, me);
        }
    }

    fn terminate(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.finish(host, ctx, me);
    }
}
