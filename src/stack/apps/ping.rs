//! `ping` as iputils does it: ICMP echo from a raw socket, `-c -i -W -s -I`, the reply and
//! error lines, and the closing statistics.

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;

use super::{AppRef, EchoError, EchoReply, Program, RawSockets, Tally, millis};
use crate::say;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{IPV4_HEADER_LEN, Ipv4Meta, PROTO_ICMP};

/// How long ping waits for the last replies after sending its count (iputils MAXWAIT).
const DEFAULT_LINGER: u64 = 10_000_000_000;
const TIMER_SEND: u64 = 0;
const TIMER_LINGER: u64 = 1;

/// `ping` options as parsed from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingOptions {
    pub dst: Ipv4Addr,
    pub count: Option<u32>,
    pub interval_ns: u64,
    pub size: usize,
    pub wait_ns: Option<u64>,
    /// `-I eth0`
    pub iface: Option<String>,
    /// `-I 192.168.188.120`
    pub source: Option<Ipv4Addr>,
    /// `-q`: only the first and the summary lines.
    pub quiet: bool,
}

pub struct Ping {
    opts: PingOptions,
    oif: Option<IfIndex>,
    id: u16,
    sent: u32,
    received: u32,
    errors: u32,
    outstanding: FxHashMap<u16, SimTime>,
    first_send: SimTime,
    last_send: SimTime,
    rtt_min: u64,
    rtt_max: u64,
    rtt_sum: u128,
    rtt_sum_sq: u128,
    /// The echo data, kept between probes (only the timestamp changes).
    data: Vec<u8>,
    done: bool,
}

impl Ping {
    pub fn new(opts: PingOptions) -> Ping {
        Ping {
            opts,
            oif: None,
            id: 0,
            sent: 0,
            received: 0,
            errors: 0,
            outstanding: FxHashMap::default(),
            first_send: SimTime::ZERO,
            last_send: SimTime::ZERO,
            rtt_min: u64::MAX,
            rtt_max: 0,
            rtt_sum: 0,
            rtt_sum_sq: 0,
            data: Vec::new(),
            done: false,
        }
    }

    /// The echo data: a timeval (16 bytes) when there is room, then the bytes 0x10, 0x11, …
    fn refresh_payload(&mut self, now: SimTime) {
        let size = self.opts.size;
        if self.data.len() != size {
            let pattern_start = if size >= 16 { 16 } else { 0 };
            self.data = (0..size)
                .map(|i| (i + 0x10 - pattern_start) as u8)
                .collect();
        }
        if size >= 16 {
            let secs = now.ns() / 1_000_000_000;
            let usecs = (now.ns() % 1_000_000_000) / 1_000;
            self.data[..8].copy_from_slice(&secs.to_le_bytes());
            self.data[8..16].copy_from_slice(&usecs.to_le_bytes());
        }
    }

    fn send(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        let seq = (self.sent + 1) as u16;
        self.refresh_payload(ctx.now);
        let payload = &self.data;
        let (id, size, dst) = (self.id, self.opts.size, self.opts.dst);
        let result = host.route_and_send(
            ctx,
            self.opts.dst,
            self.oif,
            self.opts.source,
            |host, route| {
                let meta = Ipv4Meta {
                    src: route.src,
                    dst,
                    proto: PROTO_ICMP,
                    ttl: host.default_ttl(),
                    tos: 0,
                    id: host.next_ip_id(),
                    dont_fragment: IPV4_HEADER_LEN + 8 + size
                        <= host.ifaces[route.dev].mtu as usize,
                };
                icmp::build(&meta, IcmpMessage::EchoRequest { id, seq }, payload)
            },
        );
        if let Err(failure) = result {
            say!(ctx, "ping: connect: {}", failure.errno_text());
            host.finish_program(ctx, me, self.tally());
            self.done = true;
            return;
        }
        if self.sent == 0 {
            self.first_send = ctx.now;
        }
        self.sent += 1;
        self.last_send = ctx.now;
        self.outstanding.insert(seq, ctx.now);
    }

    fn schedule_next(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.opts.count.is_some_and(|c| self.sent >= c) {
            let linger = self.opts.wait_ns.unwrap_or(DEFAULT_LINGER);
            host.program_timer(ctx, me, linger, TIMER_LINGER);
        } else {
            host.program_timer(ctx, me, self.opts.interval_ns, TIMER_SEND);
        }
    }

    fn all_answered(&self) -> bool {
        self.opts
            .count
            .is_some_and(|c| self.sent >= c && self.received + self.errors >= c)
    }

    fn finish(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.done {
            return;
        }
        self.done = true;
        if ctx.trace.wants_output() {
            for line in self.summary() {
                ctx.output(line);
            }
        }
        host.finish_program(ctx, me, self.tally());
    }

    fn summary(&self) -> Vec<String> {
        let loss = (100 * (self.sent - self.received))
            .checked_div(self.sent)
            .unwrap_or(0);
        let elapsed = self.last_send.since(self.first_send);
        let errors = if self.errors > 0 {
            format!(", +{} errors", self.errors)
        } else {
            String::new()
        };
        let mut lines = vec![
            format!("--- {} ping statistics ---", self.opts.dst),
            format!(
                "{} packets transmitted, {} received{errors}, {loss}% packet loss, time {}ms",
                self.sent,
                self.received,
                elapsed / 1_000_000
            ),
        ];
        if self.received > 0 {
            let n = self.received as u128;
            let avg = self.rtt_sum / n;
            let mdev = ((self.rtt_sum_sq / n).saturating_sub(avg * avg) as f64).sqrt() as u64;
            lines.push(format!(
                "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
                millis(self.rtt_min),
                millis(avg as u64),
                millis(self.rtt_max),
                millis(mdev)
            ));
        }
        lines
    }
}

impl Program for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }

    fn raw_sockets(&self) -> RawSockets {
        RawSockets {
            icmp: true,
            ..RawSockets::default()
        }
    }

    fn tally(&self) -> Tally {
        Tally {
            ok: self.received as u64,
            failed: (self.sent - self.received) as u64,
            ..Tally::default()
        }
    }

    fn start(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.id = (host.next_pid() & 0xffff) as u16;
        if let Some(name) = &self.opts.iface {
            self.oif = host.iface_index(name);
        }
        let (dst, size) = (self.opts.dst, self.opts.size);
        match (&self.opts.iface, self.opts.source) {
            (Some(dev), _) => {
                let src = host
                    .route_output(dst, self.oif, None)
                    .map(|r| r.src.to_string())
                    .unwrap_or_default();
                say!(
                    ctx,
                    "PING {dst} ({dst}) from {src} {dev}: {size}({}) bytes of data.",
                    size + 28
                );
            }
            (None, Some(src)) => say!(
                ctx,
                "PING {dst} ({dst}) from {src} : {size}({}) bytes of data.",
                size + 28
            ),
            (None, None) => say!(
                ctx,
                "PING {dst} ({dst}) {size}({}) bytes of data.",
                size + 28
            ),
        }
        self.send(host, ctx, me);
        if !self.done {
            self.schedule_next(host, ctx, me);
        }
    }

    fn timer(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, token: u64) {
        if self.done {
            return;
        }
        if token == TIMER_LINGER {
            self.finish(host, ctx, me);
            return;
        }
        self.send(host, ctx, me);
        if !self.done {
            self.schedule_next(host, ctx, me);
        }
    }

    fn echo_reply(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, reply: EchoReply) -> bool {
        if reply.id != self.id || self.done {
            return false;
        }
        let quiet = self.opts.quiet;
        let Some(sent_at) = self.outstanding.remove(&reply.seq) else {
            if !quiet {
                say!(
                    ctx,
                    "{} bytes from {}: icmp_seq={} ttl={} (DUP!)",
                    reply.bytes,
                    reply.from,
                    reply.seq,
                    reply.ttl
                );
            }
            return true;
        };
        let rtt = ctx.now.since(sent_at);
        self.received += 1;
        self.rtt_min = self.rtt_min.min(rtt);
        self.rtt_max = self.rtt_max.max(rtt);
        self.rtt_sum += rtt as u128;
        self.rtt_sum_sq += (rtt as u128) * (rtt as u128);
        if !quiet {
            say!(
                ctx,
                "{} bytes from {}: icmp_seq={} ttl={} time={} ms",
                reply.bytes,
                reply.from,
                reply.seq,
                reply.ttl,
                millis(rtt)
            );
        }
        if self.all_answered() {
            self.finish(host, ctx, me);
        }
        true
    }

    fn echo_error(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, error: EchoError) -> bool {
        let EchoError {
            from,
            id,
            seq,
            message,
        } = error;
        if id != self.id || self.done {
            return false;
        }
        self.outstanding.remove(&seq);
        self.errors += 1;
        let text = match message {
            IcmpMessage::DestUnreachable {
                code: icmp::CODE_NET_UNREACH,
                ..
            } => "Destination Net Unreachable".to_owned(),
            IcmpMessage::DestUnreachable {
                code: icmp::CODE_HOST_UNREACH,
                ..
            } => "Destination Host Unreachable".to_owned(),
            IcmpMessage::DestUnreachable {
                code: icmp::CODE_PORT_UNREACH,
                ..
            } => "Destination Port Unreachable".to_owned(),
            IcmpMessage::DestUnreachable {
                code: icmp::CODE_FRAG_NEEDED,
                next_hop_mtu,
            } => format!("Frag needed and DF set (mtu = {next_hop_mtu})"),
            IcmpMessage::DestUnreachable { code, .. } => {
                format!("Dest Unreachable, Bad Code: {code}")
            }
            IcmpMessage::TimeExceeded { .. } => "Time to live exceeded".to_owned(),
            _ => "ICMP error".to_owned(),
        };
        if !self.opts.quiet {
            say!(ctx, "From {from} icmp_seq={seq} {text}");
        }
        if self.all_answered() {
            self.finish(host, ctx, me);
        }
        true
    }

    fn terminate(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.finish(host, ctx, me);
    }
}
