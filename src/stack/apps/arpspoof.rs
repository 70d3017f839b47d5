//! dsniff's `arpspoof [-i IFACE] [-t TARGET] [-r] HOST`: every 2 s, an ARP reply telling the
//! target (or everyone) that HOST is at this machine's MAC. On SIGTERM it re-ARPs the real
//! address five times, as dsniff's cleanup does.

use std::net::Ipv4Addr;

use super::{AppRef, Program, Tally};
use crate::diagnosis::{ArpClaim, ClaimReason};
use crate::say;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::IfIndex;
use crate::wire::arp::{ArpRepr, OP_REPLY};
use crate::wire::ipv4::{Ipv4Meta, PROTO_UDP};
use crate::wire::{MacAddr, udp};

const SECOND: u64 = 1_000_000_000;
const RESOLVE_ATTEMPTS: u32 = 4;
const TIMER_RESOLVE: u64 = 0;
const TIMER_SPOOF: u64 = 1;
const TIMER_CLEANUP: u64 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpspoofOptions {
    pub iface: Option<String>,
    pub target: Option<Ipv4Addr>,
    pub host: Ipv4Addr,
    /// `-r`: poison both directions (needs a target).
    pub reverse: bool,
}

pub struct Arpspoof {
    opts: ArpspoofOptions,
    dev: IfIndex,
    mac: MacAddr,
    target_mac: Option<MacAddr>,
    host_mac: Option<MacAddr>,
    attempts: u32,
    sent: u64,
    cleanup_rounds: u32,
    /// It could not start (no interface, or the target did not resolve).
    failed: bool,
    done: bool,
}

/// dsniff prints MACs with `ether_ntoa`: no leading zeros (`0:c:29:e4:4d:1f`).
fn ether_ntoa(mac: MacAddr) -> String {
    mac.octets()
        .iter()
        .map(|b| format!("{b:x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Arpspoof {
    pub fn new(opts: ArpspoofOptions) -> Arpspoof {
        Arpspoof {
            opts,
            dev: 0,
            mac: MacAddr::ZERO,
            target_mac: None,
            host_mac: None,
            attempts: 0,
            sent: 0,
            cleanup_rounds: 0,
            failed: false,
            done: false,
        }
    }

    fn cached_mac(host: &Host, dev: IfIndex, ip: Ipv4Addr) -> Option<MacAddr> {
        host.neigh
            .get(&(dev, ip))
            .filter(|e| e.state.is_valid())
            .and_then(|e| e.mac)
    }

    /// `arp_force`: an empty UDP datagram to port 67 makes the kernel resolve `ip`.
    fn force_resolution(host: &mut Host, ctx: &mut Ctx, ip: Ipv4Addr) {
        let _ = host.route_and_send(ctx, ip, None, None, |host, route| {
            let meta = Ipv4Meta {
                src: route.src,
                dst: ip,
                proto: PROTO_UDP,
                ttl: host.default_ttl(),
                tos: 0,
                id: host.next_ip_id(),
                dont_fragment: true,
            };
            udp::build(&meta, 32768 + (host.next_ip_id() % 28000), 67, &[])
        });
    }

    /// Addresses that must be resolved before spoofing: the target, and HOST for `-r`.
    fn unresolved(&self, host: &Host) -> Option<Ipv4Addr> {
        let needed = self
            .opts
            .target
            .into_iter()
            .chain(self.opts.reverse.then_some(self.opts.host));
        needed
            .into_iter()
            .find(|&ip| Self::cached_mac(host, self.dev, ip).is_none())
    }

    fn resolve(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if let Some(ip) = self.unresolved(host) {
            if self.attempts >= RESOLVE_ATTEMPTS {
                say!(ctx, "arpspoof: couldn't arp for host {ip}");
                self.failed = true;
                self.done = true;
                host.finish_program(ctx, me, self.tally());
                return;
            }
            self.attempts += 1;
            Self::force_resolution(host, ctx, ip);
            host.program_timer(ctx, me, SECOND, TIMER_RESOLVE);
            return;
        }
        self.target_mac = self
            .opts
            .target
            .and_then(|t| Self::cached_mac(host, self.dev, t));
        self.host_mac = Self::cached_mac(host, self.dev, self.opts.host);
        self.spoof(host, ctx, me);
    }

    /// One round: HOST is-at our MAC to the target (and the target is-at our MAC to HOST).
    fn spoof(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        let mac = self.mac;
        let target = self.opts.target.unwrap_or(Ipv4Addr::UNSPECIFIED);
        self.send_reply(
            host,
            ctx,
            mac,
            self.opts.host,
            self.target_mac,
            target,
            true,
        );
        if self.opts.reverse {
            self.send_reply(host, ctx, mac, target, self.host_mac, self.opts.host, true);
        }
        host.program_timer(ctx, me, 2 * SECOND, TIMER_SPOOF);
    }

    /// dsniff's `arp_send(ARPOP_REPLY, sha, spa, tha, tpa)`, printed as dsniff prints it.
    #[allow(clippy::too_many_arguments)]
    fn send_reply(
        &mut self,
        host: &Host,
        ctx: &mut Ctx,
        sha: MacAddr,
        spa: Ipv4Addr,
        tha: Option<MacAddr>,
        tpa: Ipv4Addr,
        spoofed: bool,
    ) {
        let tha = tha.unwrap_or(MacAddr::BROADCAST);
        let arp = ArpRepr {
            op: OP_REPLY,
            sha,
            spa,
            tha,
            tpa,
        };
        say!(
            ctx,
            "{} {} 0806 42: arp reply {spa} is-at {}",
            ether_ntoa(sha),
            ether_ntoa(tha),
            ether_ntoa(sha)
        );
        let reason = if spoofed {
            ClaimReason::Tool("arpspoof".to_owned())
        } else {
            ClaimReason::OwnAddress
        };
        let claim = spoofed.then_some(ArpClaim { ip: spa, reason });
        host.transmit(ctx, self.dev, arp.to_frame(self.mac, tha), claim);
        self.sent += 1;
    }

    /// Cleanup after SIGTERM: the true mapping, five times, one second apart.
    fn cleanup_round(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.cleanup_rounds >= 5 {
            self.done = true;
            host.finish_program(ctx, me, self.tally());
            return;
        }
        self.cleanup_rounds += 1;
        let target = self.opts.target.unwrap_or(Ipv4Addr::UNSPECIFIED);
        if let Some(real) = self.host_mac {
            self.send_reply(
                host,
                ctx,
                real,
                self.opts.host,
                self.target_mac,
                target,
                false,
            );
        }
        if let (true, Some(real), Some(target_ip)) =
            (self.opts.reverse, self.target_mac, self.opts.target)
        {
            self.send_reply(
                host,
                ctx,
                real,
                target_ip,
                self.host_mac,
                self.opts.host,
                false,
            );
        }
        host.program_timer(ctx, me, SECOND, TIMER_CLEANUP);
    }
}

impl Program for Arpspoof {
    fn name(&self) -> &'static str {
        "arpspoof"
    }

    /// ok counts the replies sent (spoofed and, during cleanup, corrective).
    fn tally(&self) -> Tally {
        Tally {
            ok: self.sent,
            failed: self.failed as u64,
            ..Tally::default()
        }
    }

    fn start(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        let dev = match &self.opts.iface {
            Some(name) => host.iface_index(name),
            None => host
                .route_output(self.opts.host, None, None)
                .ok()
                .filter(|r| !r.local)
                .map(|r| r.dev),
        };
        let Some(dev) = dev.filter(|&d| host.ifaces[d].uses_arp()) else {
            say!(ctx, "arpspoof: couldn't determine the interface (use -i)");
            self.failed = true;
            self.done = true;
            host.finish_program(ctx, me, self.tally());
            return;
        };
        self.dev = dev;
        self.mac = host.ifaces[dev].mac;
        self.resolve(host, ctx, me);
    }

    fn timer(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, token: u64) {
        if self.done {
            return;
        }
        match token {
            TIMER_RESOLVE => self.resolve(host, ctx, me),
            TIMER_SPOOF if self.cleanup_rounds == 0 => self.spoof(host, ctx, me),
            TIMER_CLEANUP => self.cleanup_round(host, ctx, me),
            _ => {}
        }
    }

    fn terminate(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.done || self.cleanup_rounds > 0 {
            return;
        }
        say!(ctx, "Cleaning up and re-arping targets...");
        self.cleanup_round(host, ctx, me);
    }
}
