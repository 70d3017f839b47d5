//! ARP as net/ipv4/arp.c does it: `arp_process` (who answers, who learns, locktime,
//! gratuitous ARP, arp_accept), `arp_ignore`, `arp_filter`, and `arp_solicit` with
//! `arp_announce`. Every decision other than "the owner answers" is explained with its rule.

use std::net::Ipv4Addr;

use super::addr::Scope;
use super::ctx::Ctx;
use super::host::{Host, HostEvent};
use super::iface::{IfIndex, LOOPBACK};
use super::neigh::{NeighEntry, NudState, UpdateFlags};
use super::sysctl::{ConfKey, Effective, NeighKey};
use crate::diagnosis::{ArpClaim, ClaimReason};
use crate::explain;
use crate::sim::time::human_duration;
use crate::wire::MacAddr;
use crate::wire::arp::{ArpRepr, OP_REPLY, OP_REQUEST};
use crate::wire::ethernet::EthHeader;

/// What an arp_ignore value lets through, for explaining a reply the lab did not want.
pub fn why_arp_ignore_answers(value: i32) -> &'static str {
    match value {
        3 => {
            "answers for every address whose scope is not host (an address added without `scope host` has scope global)"
        }
        4..=7 => "is reserved and behaves like 0: it answers for any local address",
        _ => "answers for any local address",
    }
}

/// An ARP decision that differs from "the owner answers", listed in the JSON report's
/// `arp_decisions` as well as explained on the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A request for a local address left unanswered by arp_ignore or arp_filter.
    Ignored,
    /// A request for a local address refused by the source check (rp_filter, martian).
    NotAnswered,
    /// Answered for an address that lives on another interface.
    AnsweredForOtherInterface,
    /// A request carried a source that is not the interface's own address (arp_announce).
    AnnouncedSource,
    /// A proxy ARP reply for an address routed through another interface.
    ProxyAnswered,
    /// A different address inside locktime (or for a static entry) was ignored.
    Kept,
    /// Nothing was learned (arp_accept, or the sender is one of our own addresses).
    NotLearned,
}

impl Decision {
    pub fn token(self) -> &'static str {
        match self {
            Decision::Ignored => "ignored",
            Decision::NotAnswered => "not-answered",
            Decision::AnsweredForOtherInterface => "answered-for-other-interface",
            Decision::AnnouncedSource => "announced-source",
            Decision::ProxyAnswered => "proxy-answered",
            Decision::Kept => "kept",
            Decision::NotLearned => "not-learned",
        }
    }
}

/// Why a source address failed `fib_validate_source` (used by ARP and IP input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceCheck {
    Ok,
    /// The sender claims one of our own addresses.
    Martian(String),
    /// Reverse-path filtering refused it.
    RpFilter(String),
}

impl Host {
    /// `fib_validate_source`: may a packet from `src` arrive on `dev`?
    pub fn validate_source(&self, src: Ipv4Addr, dev: IfIndex) -> SourceCheck {
        let rpf = self.effective(ConfKey::RpFilter, dev);
        let accept_local = self.effective(ConfKey::AcceptLocal, dev).value != 0;
        let dev_name = &self.ifaces[dev].name;
        let own = self.has_addr_on_any_device(src);
        if own && !accept_local {
            return SourceCheck::Martian(format!(
                "martian source: {src} is one of {}'s own addresses",
                self.name
            ));
        }
        if rpf.value == 0 {
            return SourceCheck::Ok;
        }
        let route = self
            .routes
            .lookup(src, None)
            .filter(|r| r.kind == super::route::RouteKind::Unicast);
        let Some(route) = route else {
            return SourceCheck::RpFilter(format!(
                "rp_filter: no route back to {src} ({})",
                rpf.describe(dev_name)
            ));
        };
        let back_dev = route.dev.unwrap_or(LOOPBACK);
        if back_dev == dev || rpf.value != 1 {
            return SourceCheck::Ok;
        }
        if self.ifaces[dev].addrs.is_empty() {
            return SourceCheck::RpFilter(format!(
                "rp_filter: {dev_name} has no address ({})",
                rpf.describe(dev_name)
            ));
        }
        SourceCheck::RpFilter(format!(
            "rp_filter: the route back to {src} leaves by {}, not {dev_name} ({}: strict reverse-path check)",
            self.ifaces[back_dev].name,
            rpf.describe(dev_name)
        ))
    }

    /// Records an ARP decision about `ip` on `dev`: explained on the frame and kept for the
    /// report.
    fn decide(&self, ctx: &mut Ctx, dev: IfIndex, ip: Ipv4Addr, decision: Decision, text: String) {
        let dev_name = self.ifaces[dev].name.clone();
        ctx.trace
            .arp_decision(ctx.now, self.id, &dev_name, ip, decision.token(), text);
    }

    /// Where a local address lives, for explanations: `lo (label lo:0)`.
    pub fn describe_location(&self, ip: Ipv4Addr) -> String {
        for iface in &self.ifaces {
            if let Some(a) = iface.addr(ip) {
                return if *a.label != *iface.name {
                    format!("{} (label {})", iface.name, a.label)
                } else {
                    iface.name.to_string()
                };
            }
        }
        "no interface".to_owned()
    }

    /// `arp_ignore`: Ok(()) to answer, Err(why) to stay silent.
    fn arp_ignore_check(
        &self,
        dev: IfIndex,
        sip: Ipv4Addr,
        tip: Ipv4Addr,
    ) -> Result<Effective, (Effective, String)> {
        let eff = self.effective(ConfKey::ArpIgnore, dev);
        let iface = &self.ifaces[dev];
        let rule = eff.describe(&iface.name);
        let location = self.describe_location(tip);
        let verdict = match eff.value {
            1 if !iface.has_addr(tip) => Some(format!(
                "{rule}: {tip} is on {location}, not on {}",
                iface.name
            )),
            2 if !iface.has_addr(tip) => Some(format!(
                "{rule}: {tip} is on {location}, not on {}",
                iface.name
            )),
            2 if !iface.onlink(tip, sip) => Some(format!(
                "{rule}: no prefix on {} holds both {tip} and the sender {sip}",
                iface.name
            )),
            3 if self
                .ifaces
                .iter()
                .filter_map(|i| i.addr(tip))
                .all(|a| a.scope >= Scope::Link) =>
            {
                Some(format!("{rule}: {tip} has scope host"))
            }
            8 => Some(format!("{rule}: never answers")),
            _ => None,
        };
        match verdict {
            None => Ok(eff),
            Some(why) => Err((eff, why)),
        }
    }

    /// neigh_event_ns: a request this host answers teaches it the requester's address
    /// unconditionally (override, whatever locktime says).
    fn learn_requester(&mut self, ctx: &mut Ctx, dev: IfIndex, arp: &ArpRepr, why: &'static str) {
        let flags = UpdateFlags {
            override_: true,
            admin: false,
        };
        self.neigh_update(
            ctx,
            dev,
            arp.spa,
            Some(arp.sha),
            NudState::Stale,
            flags,
            true,
            why,
        );
    }

    /// `arp_filter`: with it on, answer only if the route back to the sender leaves by the
    /// interface the request came in on.
    fn arp_filter_check(&self, dev: IfIndex, sip: Ipv4Addr, tip: Ipv4Addr) -> Result<(), String> {
        if self.effective(ConfKey::ArpFilter, dev).value == 0 {
            return Ok(());
        }
        match self.route_output(sip, None, Some(tip)) {
            Ok(route) if route.dev == dev => Ok(()),
            Ok(route) => Err(format!(
                "arp_filter=1: the route back to {sip} leaves by {}, not {}",
                self.ifaces[route.dev].name, self.ifaces[dev].name
            )),
            Err(_) => Err(format!("arp_filter=1: no route back to {sip}")),
        }
    }

    /// `arp_accept`: may an unsolicited ARP from `sip` create an entry on `dev`?
    fn arp_accept(&self, dev: IfIndex, sip: Ipv4Addr) -> bool {
        match self.effective(ConfKey::ArpAccept, dev).value {
            1 => true,
            2 => self.ifaces[dev].addrs.iter().any(|a| a.contains(sip)),
            _ => false,
        }
    }

    /// `arp_is_garp`: spa == tpa, for a reply also tha == sha, and the address not local.
    fn is_gratuitous(&self, arp: &ArpRepr) -> bool {
        arp.spa == arp.tpa
            && (arp.op != OP_REPLY || arp.tha == arp.sha)
            && !self.is_local(arp.spa)
            && !self.is_broadcast(arp.spa)
    }

    /// `arp_process`: an ARP frame arrived on `dev`.
    pub(crate) fn arp_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        eth: &EthHeader,
        arp: ArpRepr,
    ) {
        if arp.op != OP_REQUEST && arp.op != OP_REPLY {
            explain!(ctx, "{} ignores ARP opcode {}", self.name, arp.op);
            return;
        }
        if arp.tpa.is_multicast()
            || (arp.tpa.is_loopback() && self.effective(ConfKey::RouteLocalnet, dev).value == 0)
        {
            explain!(
                ctx,
                "{} ignores ARP for {}: multicast or loopback target",
                self.name,
                arp.tpa
            );
            return;
        }
        if arp.spa == arp.tpa && self.effective(ConfKey::DropGratuitousArp, dev).value != 0 {
            explain!(
                ctx,
                "{} drops a gratuitous ARP: drop_gratuitous_arp=1",
                self.name
            );
            return;
        }
        if arp.spa.is_unspecified() {
            self.answer_duplicate_probe(ctx, dev, &arp);
            return;
        }
        if arp.op == OP_REQUEST
            && (self.request_for_local_address(ctx, dev, &arp)
                || self.proxy_request(ctx, dev, eth, &arp))
        {
            return;
        }
        self.update_from_arp(ctx, dev, eth, &arp);
    }

    /// RFC 2131 duplicate-address probe (sender 0.0.0.0, `arping -D`): answered if the
    /// target is ours and arp_ignore allows it; nothing is learned.
    fn answer_duplicate_probe(&mut self, ctx: &mut Ctx, dev: IfIndex, arp: &ArpRepr) {
        if arp.op != OP_REQUEST || !self.is_local(arp.tpa) {
            return;
        }
        match self.arp_ignore_check(dev, arp.spa, arp.tpa) {
            Ok(eff) => {
                explain!(
                    ctx,
                    "{} answers a duplicate-address probe for {}",
                    self.name,
                    arp.tpa
                );
                let reason = self.local_claim(dev, arp, eff);
                self.send_reply(ctx, dev, arp, reason);
            }
            Err((_, why)) => {
                let text = format!(
                    "{} ignores a duplicate-address probe for {}: {why}",
                    self.name, arp.tpa
                );
                self.decide(ctx, dev, arp.tpa, Decision::Ignored, text);
            }
        }
    }

    /// The request branch of `arp_process`. Returns true when the frame is consumed (answered
    /// or deliberately ignored): an ignored request teaches nothing.
    fn request_for_local_address(&mut self, ctx: &mut Ctx, dev: IfIndex, arp: &ArpRepr) -> bool {
        if !self.is_local(arp.tpa) {
            return false;
        }
        match self.validate_source(arp.spa, dev) {
            SourceCheck::Ok => {}
            SourceCheck::Martian(why) | SourceCheck::RpFilter(why) => {
                let text = format!(
                    "{} does not answer who-has {} on {}: {why}",
                    self.name, arp.tpa, self.ifaces[dev].name
                );
                self.decide(ctx, dev, arp.tpa, Decision::NotAnswered, text);
                return false;
            }
        }
        let eff = match self.arp_ignore_check(dev, arp.spa, arp.tpa) {
            Ok(eff) => eff,
            Err((_, why)) => {
                let text = format!(
                    "{} ignores who-has {} on {}: {why} (an ignored request teaches nothing)",
                    self.name, arp.tpa, self.ifaces[dev].name
                );
                self.decide(ctx, dev, arp.tpa, Decision::Ignored, text);
                return true;
            }
        };
        if let Err(why) = self.arp_filter_check(dev, arp.spa, arp.tpa) {
            let text = format!("{} ignores who-has {}: {why}", self.name, arp.tpa);
            self.decide(ctx, dev, arp.tpa, Decision::Ignored, text);
            return true;
        }
        self.learn_requester(
            ctx,
            dev,
            arp,
            "learned from a request for its own address, which overrides the entry whatever locktime says",
        );
        if !self.ifaces[dev].has_addr(arp.tpa) {
            let text = format!(
                "{} answers who-has {} on {} although the address is on {}: {} {}",
                self.name,
                arp.tpa,
                self.ifaces[dev].name,
                self.describe_location(arp.tpa),
                eff.describe(&self.ifaces[dev].name),
                why_arp_ignore_answers(eff.value)
            );
            self.decide(ctx, dev, arp.tpa, Decision::AnsweredForOtherInterface, text);
        }
        let reason = self.local_claim(dev, arp, eff);
        self.send_reply(ctx, dev, arp, reason);
        true
    }

    /// The claim behind answering `request` for a local address under `eff` (arp_ignore).
    fn local_claim(&self, dev: IfIndex, request: &ArpRepr, eff: Effective) -> ClaimReason {
        if self.ifaces[dev].has_addr(request.tpa) {
            ClaimReason::OwnAddress
        } else {
            ClaimReason::AnsweredForOtherInterface {
                location: self.describe_location(request.tpa),
                iface: self.ifaces[dev].name.to_string(),
                rule: eff,
            }
        }
    }

    /// `arp_send(ARPOP_REPLY)`: unicast to the requester's sha, with `dev`'s MAC.
    pub(crate) fn send_reply(
        &self,
        ctx: &mut Ctx,
        dev: IfIndex,
        request: &ArpRepr,
        reason: ClaimReason,
    ) {
        let mac = self.ifaces[dev].mac;
        let reply = ArpRepr {
            op: OP_REPLY,
            sha: mac,
            spa: request.tpa,
            tha: request.sha,
            tpa: request.spa,
        };
        let claim = ArpClaim {
            ip: request.tpa,
            reason,
        };
        self.transmit(ctx, dev, reply.to_frame(mac, request.sha), Some(claim));
    }

    /// The proxy branch of `arp_process` (`arp_fwd_proxy`): a forwarding host with proxy_arp
    /// answers for an address it routes through another interface — at once for a unicast
    /// request, after a random part of `proxy_delay` for a broadcast one.
    fn proxy_request(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        eth: &EthHeader,
        arp: &ArpRepr,
    ) -> bool {
        let proxy = self.effective(ConfKey::ProxyArp, dev);
        if proxy.value == 0 || self.effective(ConfKey::Forwarding, dev).value == 0 {
            return false;
        }
        let route = self
            .routes
            .lookup(arp.tpa, None)
            .filter(|r| r.kind == super::route::RouteKind::Unicast);
        let Some(out_dev) = route.and_then(|r| r.dev).filter(|&d| d != dev) else {
            return false;
        };
        if self.validate_source(arp.spa, dev) != SourceCheck::Ok {
            return false;
        }
        self.learn_requester(ctx, dev, arp, "learned from a request it answers by proxy");
        let parms = &self.ifaces[dev].neigh_parms;
        let max_delay = parms.ns(super::sysctl::NeighKey::ProxyDelay);
        let delay = if eth.dst.is_multicast() && max_delay > 0 {
            self.rng.range_inclusive(0, max_delay - 1)
        } else {
            0
        };
        let text = format!(
            "{} answers who-has {} on {} by proxy: it routes {} through {} and {} (reply after {})",
            self.name,
            arp.tpa,
            self.ifaces[dev].name,
            arp.tpa,
            self.ifaces[out_dev].name,
            proxy.describe(&self.ifaces[dev].name),
            human_duration(delay)
        );
        self.decide(ctx, dev, arp.tpa, Decision::ProxyAnswered, text);
        ctx.after(
            delay,
            HostEvent::ProxyArpReply {
                iface: dev,
                request: *arp,
            },
        );
        true
    }

    /// "Update our ARP tables": an existing entry follows the locktime rule; a new one is
    /// made only under arp_accept for a gratuitous ARP or a reply.
    fn update_from_arp(&mut self, ctx: &mut Ctx, dev: IfIndex, eth: &EthHeader, arp: &ArpRepr) {
        if self.is_local(arp.spa) {
            let text = format!(
                "{} learns nothing from this ARP: its sender {} is one of {}'s own addresses (a martian source to the kernel)",
                self.name, arp.spa, self.name
            );
            self.decide(ctx, dev, arp.spa, Decision::NotLearned, text);
            return;
        }
        let exists = self.neigh.contains_key(&(dev, arp.spa));
        let accept = self.arp_accept(dev, arp.spa);
        let garp = (exists || accept) && self.is_gratuitous(arp);
        if !exists {
            let creatable = garp
                || (arp.op == OP_REPLY
                    && !arp.spa.is_multicast()
                    && !self.is_local(arp.spa)
                    && !self.is_broadcast(arp.spa));
            if !(accept && creatable) {
                if arp.op == OP_REPLY || arp.spa == arp.tpa {
                    let what = if arp.spa == arp.tpa {
                        "gratuitous ARP"
                    } else {
                        "reply"
                    };
                    let rule = self
                        .effective(ConfKey::ArpAccept, dev)
                        .describe(&self.ifaces[dev].name);
                    let text = format!(
                        "{} learns nothing from this {what}: no entry for {} and {rule} (unsolicited ARP creates no entry)",
                        self.name, arp.spa
                    );
                    self.decide(ctx, dev, arp.spa, Decision::NotLearned, text);
                }
                return;
            }
        }
        let now = ctx.now;
        // Read directly, not through `neigh_parms`: `neigh_update` below does the lazy
        // reachable-time redraw at this same instant.
        let locktime = self.ifaces[dev].neigh_parms.ns(NeighKey::Locktime);
        let (override_, age) = match self.neigh.get(&(dev, arp.spa)) {
            Some(entry) => (
                now.ns() > entry.updated.ns() + locktime || garp,
                now.since(entry.updated),
            ),
            None => (garp, 0),
        };
        let unicast_reply = arp.op == OP_REPLY && eth.dst == self.ifaces[dev].mac;
        let state = if unicast_reply {
            NudState::Reachable
        } else {
            NudState::Stale
        };
        let why = match (garp, arp.op, unicast_reply) {
            (true, _, _) => "gratuitous ARP (overrides at once)",
            (false, OP_REPLY, true) => "unicast reply",
            (false, OP_REPLY, false) => "broadcast reply",
            _ => "sender of a request",
        };
        let changed = self.neigh_update(
            ctx,
            dev,
            arp.spa,
            Some(arp.sha),
            state,
            UpdateFlags {
                override_,
                admin: false,
            },
            !exists,
            why,
        );
        if !changed && exists {
            let entry = &self.neigh[&(dev, arp.spa)];
            if entry.mac != Some(arp.sha) && entry.state.is_valid() {
                let text = if matches!(entry.state, NudState::Permanent | NudState::Noarp) {
                    format!(
                        "{} keeps its static entry {} → {}",
                        self.name,
                        arp.spa,
                        entry.mac.unwrap_or_default()
                    )
                } else {
                    format!(
                        "{} keeps {} → {}: the entry changed {} ago, within locktime ({}); a different address is ignored (the first answer wins)",
                        self.name,
                        arp.spa,
                        entry.mac.unwrap_or_default(),
                        human_duration(age),
                        human_duration(locktime)
                    )
                };
                self.decide(ctx, dev, arp.spa, Decision::Kept, text);
            }
        }
    }

    /// `neigh_update` on the entry for (`dev`, `ip`), creating it when `create`; performs the
    /// resulting actions and explains address changes. Returns whether anything changed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn neigh_update(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        ip: Ipv4Addr,
        mac: Option<MacAddr>,
        state: NudState,
        flags: UpdateFlags,
        create: bool,
        why: &str,
    ) -> bool {
        let now = ctx.now;
        let parms = self.neigh_parms(dev, now);
        if create {
            self.neigh
                .entry((dev, ip))
                .or_insert_with(|| NeighEntry::new(now));
        }
        let Some(entry) = self.neigh.get_mut(&(dev, ip)) else {
            return false;
        };
        let old_state = entry.state;
        let update = entry.update(mac, state, flags, now, &parms);
        let new_state = entry.state;
        if update.ignored {
            return false;
        }
        if ctx.explaining() {
            let dev_name = &self.ifaces[dev].name;
            match update.mac_changed {
                Some((Some(old), new)) if old_state.is_valid() => ctx.note(format!(
                    "{} moves {ip} from {old} to {new} on {dev_name} ({} → {}): {why}",
                    self.name, old_state, new_state
                )),
                Some((_, new)) => ctx.note(format!(
                    "{} learns {ip} is-at {new} on {dev_name} ({}): {why}",
                    self.name, new_state
                )),
                None if old_state != new_state => ctx.note(format!(
                    "{} confirms {ip} on {dev_name} ({} → {}): {why}",
                    self.name, old_state, new_state
                )),
                None => {}
            }
        }
        let changed = update.mac_changed.is_some() || old_state != new_state;
        self.neigh_actions(ctx, dev, ip, update.actions);
        changed
    }

    /// `arp_solicit`: sends who-has `target` on `dev`, unicast to `to` (a re-probe) or
    /// broadcast. The sender address follows arp_announce and the queued packet's source.
    pub(crate) fn arp_solicit(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        target: Ipv4Addr,
        to: Option<MacAddr>,
        queued_src: Option<Ipv4Addr>,
    ) {
        let eff = self.effective(ConfKey::ArpAnnounce, dev);
        let iface = &self.ifaces[dev];
        let announced = queued_src.filter(|&src| {
            self.is_local(src)
                && match eff.value {
                    0 => true,
                    1 => iface.onlink(target, src),
                    _ => false,
                }
        });
        let own = self.select_source(dev, Some(target), Scope::Link);
        let spa = announced.or(own).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mac = iface.mac;
        // Announcing an address that is not this interface's own source for the target is
        // what flips neighbours' caches (linux-arp.md §2).
        let foreign = announced.is_some_and(|src| Some(src) != own || !iface.has_addr(src));
        let reason = if foreign {
            ClaimReason::AnnouncedSource {
                location: self.describe_location(spa),
                iface: iface.name.to_string(),
                rule: eff,
            }
        } else {
            ClaimReason::OwnAddress
        };
        let rule = eff.describe(&iface.name);
        if foreign {
            let text = format!(
                "{} announces {spa} (on {}) as the sender of its who-has {target}: {rule} uses the packet's source; neighbours that cache {spa} now point at {mac}",
                self.name,
                self.describe_location(spa)
            );
            self.decide(ctx, dev, spa, Decision::AnnouncedSource, text);
        } else if let Some(src) = queued_src.filter(|&s| s != spa && self.is_local(s)) {
            explain!(
                ctx,
                "{} asks who-has {target} with sender {spa}, not the packet's source {src}: {rule}",
                self.name
            );
        }
        let claim = (!spa.is_unspecified()).then_some(ArpClaim { ip: spa, reason });
        let frame =
            ArpRepr::request(mac, spa, target).to_frame(mac, to.unwrap_or(MacAddr::BROADCAST));
        self.transmit(ctx, dev, frame, claim);
    }

    /// A gratuitous ARP request (spa = tpa = `ip`), as `arp_notify` sends on link up.
    pub(crate) fn send_gratuitous(
        &self,
        ctx: &mut Ctx,
        dev: IfIndex,
        ip: Ipv4Addr,
        reason: Option<ClaimReason>,
    ) {
        let mac = self.ifaces[dev].mac;
        let garp = ArpRepr::request(mac, ip, ip);
        let claim = ArpClaim {
            ip,
            reason: reason.unwrap_or(ClaimReason::OwnAddress),
        };
        self.transmit(
            ctx,
            dev,
            garp.to_frame(mac, MacAddr::BROADCAST),
            Some(claim),
        );
    }
}
