//! ICMP as net/ipv4/icmp.c handles it: echo replies, the errors a host sends (with the
//! kernel's "never about an error, a fragment or a broadcast" rules and per-destination rate
//! limit), delivery of errors to sockets and programs, and redirects.

use std::net::Ipv4Addr;

use super::apps::EchoError;
use super::ctx::Ctx;
use super::host::Host;
use super::iface::IfIndex;
use super::sysctl::{ConfKey, Global};
use crate::explain;
use crate::sim::SimTime;
use crate::wire::Packet;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{self, Ipv4Info, Ipv4Meta, PROTO_ICMP, PROTO_TCP};

/// Whether `icmp_ratemask` (a bit per ICMP type; default 6168 = types 3, 4, 11, 12) puts
/// this message under the per-destination rate limit.
fn rate_limited_type(message: &IcmpMessage, mask: i64) -> bool {
    let icmp_type = match message {
        IcmpMessage::EchoRequest { .. } => icmp::TYPE_ECHO_REQUEST,
        IcmpMessage::EchoReply { .. } => icmp::TYPE_ECHO_REPLY,
        IcmpMessage::DestUnreachable { .. } => icmp::TYPE_DEST_UNREACH,
        IcmpMessage::TimeExceeded { .. } => icmp::TYPE_TIME_EXCEEDED,
        IcmpMessage::Redirect { .. } => icmp::TYPE_REDIRECT,
        IcmpMessage::Other { icmp_type, .. } => *icmp_type,
    };
    icmp_type < 32 && mask & (1 << icmp_type) != 0
}

/// How long a redirect-learned route stays (`ip_rt_gc_timeout`).
const REDIRECT_EXPIRES: u64 = 300 * 1_000_000_000;

impl Host {
    /// `icmp_rcv`.
    pub(crate) fn icmp_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        packet: Packet,
    ) {
        let l4 = &packet.data()[info.header_len..info.total_len];
        let (message, rest) = match icmp::parse(l4) {
            Ok(parsed) => parsed,
            Err(why) => {
                let name = self.ifaces[dev].name.clone();
                ctx.drop_packet(&name, format!("checksum: {why}"));
                return;
            }
        };
        match message {
            IcmpMessage::EchoRequest { .. } => self.icmp_echo(ctx, info, packet),
            IcmpMessage::EchoReply { id, seq } => {
                if self.deliver_echo_reply(ctx, info, id, seq, rest.len()) {
                    self.count_reply(info.src);
                } else {
                    explain!(
                        ctx,
                        "{} has no ping with id {id}: echo reply ignored",
                        self.name
                    );
                }
            }
            IcmpMessage::Redirect { gateway, .. } => {
                self.accept_redirect(ctx, dev, info, gateway, rest)
            }
            IcmpMessage::DestUnreachable { .. } | IcmpMessage::TimeExceeded { .. } => {
                self.icmp_error_to_socket(ctx, info, message, rest);
            }
            IcmpMessage::Other { icmp_type, code } => {
                explain!(
                    ctx,
                    "{} ignores ICMP type {icmp_type} code {code}",
                    self.name
                );
            }
        }
    }

    /// `icmp_echo`: reply from the address asked, unless echo is switched off. The reply is
    /// the request turned around in place (same data, as Linux echoes it).
    fn icmp_echo(&mut self, ctx: &mut Ctx, info: &Ipv4Info, mut packet: Packet) {
        if self.sysctl.int(Global::IcmpEchoIgnoreAll) != 0 {
            explain!(
                ctx,
                "{} does not answer the ping: icmp_echo_ignore_all=1",
                self.name
            );
            return;
        }
        let to_broadcast = !self.is_local(info.dst);
        if to_broadcast && self.sysctl.int(Global::IcmpEchoIgnoreBroadcasts) != 0 {
            explain!(
                ctx,
                "{} ignores a broadcast ping: icmp_echo_ignore_broadcasts=1",
                self.name
            );
            return;
        }
        let src = (!to_broadcast).then_some(info.dst);
        let route = match self.route_output_at(info.src, None, src, Some(ctx.now)) {
            Ok(route) => route,
            Err(failure) => {
                explain!(
                    ctx,
                    "{} cannot answer the ping from {}: {}",
                    self.name,
                    info.src,
                    failure.errno_text()
                );
                return;
            }
        };
        let meta = Ipv4Meta {
            src: route.src,
            dst: info.src,
            proto: PROTO_ICMP,
            ttl: self.default_ttl(),
            tos: info.tos,
            id: self.next_ip_id(),
            dont_fragment: false,
        };
        if info.header_len == ipv4::IPV4_HEADER_LEN {
            icmp::echo_request_to_reply(packet.data_mut(), &meta);
        } else {
            let l4 = &packet.data()[info.header_len..info.total_len];
            let IcmpMessage::EchoRequest { id, seq } =
                icmp::parse(l4).expect("parsed by the caller").0
            else {
                return;
            };
            packet = icmp::build(&meta, IcmpMessage::EchoReply { id, seq }, &l4[8..]);
        }
        self.ip_send(ctx, &route, packet);
    }

    /// `icmp_send`: an error about `offending` back to its sender.
    pub(crate) fn icmp_error(
        &mut self,
        ctx: &mut Ctx,
        offending: &[u8],
        message: IcmpMessage,
        _in_dev: Option<IfIndex>,
    ) {
        let Some(info) = quoted_header(offending) else {
            return;
        };
        if info.frag_offset != 0
            || self.is_broadcast(info.dst)
            || info.dst.is_multicast()
            || info.src.is_unspecified()
            || info.src.is_broadcast()
            || info.src.is_multicast()
        {
            return;
        }
        if info.proto == PROTO_ICMP {
            let inner = &offending[info.header_len.min(offending.len())..];
            if inner.first().is_some_and(|&t| is_error_type(t)) {
                return;
            }
        }
        let to_self = self.is_local(info.src);
        if !to_self
            && rate_limited_type(&message, self.sysctl.int(Global::IcmpRatemask))
            && !self.icmp_rate_allows(info.src, ctx.now)
        {
            explain!(
                ctx,
                "{} does not send ICMP to {}: rate limited (icmp_ratelimit)",
                self.name,
                info.src
            );
            return;
        }
        let src = self.is_local(info.dst).then_some(info.dst);
        let quote = &offending[..offending.len().min(576 - 20 - 8)];
        let tos = (info.tos & 0x1e) | 0xc0;
        let _ = self.route_and_send(ctx, info.src, None, src, |host, route| {
            let meta = Ipv4Meta {
                src: route.src,
                dst: info.src,
                proto: PROTO_ICMP,
                ttl: host.default_ttl(),
                tos,
                id: host.next_ip_id(),
                dont_fragment: false,
            };
            icmp::build(&meta, message, quote)
        });
    }

    /// `inet_peer_xrlim_allow`: one token per `icmp_ratelimit` ms, a burst of six.
    fn icmp_rate_allows(&mut self, peer: Ipv4Addr, now: SimTime) -> bool {
        let interval = self.sysctl.int(Global::IcmpRatelimit).max(0) as u64 * 1_000_000;
        if interval == 0 {
            return true;
        }
        let burst = 6 * interval;
        let (last, tokens) = self.icmp_tokens.get(&peer).copied().unwrap_or((now, burst));
        let mut tokens = (tokens + now.since(last)).min(burst);
        let allowed = tokens >= interval;
        if allowed {
            tokens -= interval;
        }
        self.icmp_tokens.insert(peer, (now, tokens));
        allowed
    }

    /// `arp_error_report`: a queued packet could not be delivered (ARP failed); its sender
    /// gets host unreachable (a local sender through `lo`).
    pub(crate) fn report_link_failure(&mut self, ctx: &mut Ctx, packet: Packet) {
        let message = IcmpMessage::DestUnreachable {
            code: icmp::CODE_HOST_UNREACH,
            next_hop_mtu: 0,
        };
        self.icmp_error(ctx, packet.data(), message, None);
    }

    /// Hands an ICMP error to the socket or program whose packet it quotes.
    fn icmp_error_to_socket(
        &mut self,
        ctx: &mut Ctx,
        info: &Ipv4Info,
        message: IcmpMessage,
        quote: &[u8],
    ) {
        let Some(quoted) = quoted_header(quote) else {
            return;
        };
        let inner = &quote[quoted.header_len.min(quote.len())..];
        let delivered = match quoted.proto {
            PROTO_ICMP if inner.len() >= 8 && inner[0] == icmp::TYPE_ECHO_REQUEST => {
                let id = u16::from_be_bytes([inner[4], inner[5]]);
                let seq = u16::from_be_bytes([inner[6], inner[7]]);
                let error = EchoError {
                    from: info.src,
                    id,
                    seq,
                    message,
                };
                self.deliver_echo_error(ctx, error)
            }
            PROTO_TCP if inner.len() >= 4 => {
                let sport = u16::from_be_bytes([inner[0], inner[1]]);
                let dport = u16::from_be_bytes([inner[2], inner[3]]);
                self.tcp_icmp_error(ctx, &quoted, sport, dport, message)
            }
            _ => false,
        };
        if delivered {
            self.count_reply(info.src);
        }
    }

    /// `__ip_do_redirect`: a redirect from the current gateway for a destination installs a
    /// route exception through the new gateway (once that gateway's neighbour is resolved).
    fn accept_redirect(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        new_gw: Ipv4Addr,
        quote: &[u8],
    ) {
        let Some(quoted) = quoted_header(quote) else {
            return;
        };
        let dst = quoted.dst;
        let forwarding = self.effective(ConfKey::Forwarding, dev).value != 0;
        let accept = self.effective(ConfKey::AcceptRedirects, dev);
        let accepts = if forwarding {
            accept.all != 0 && accept.dev != 0
        } else {
            accept.value != 0
        };
        let old_gw = self
            .route_output(dst, None, None)
            .ok()
            .filter(|r| r.next_hop != dst)
            .map(|r| r.next_hop);
        let reject = if !accepts {
            Some("accept_redirects is off".to_owned())
        } else if old_gw != Some(info.src) {
            Some(format!("{} is not its gateway for {dst}", info.src))
        } else if new_gw.is_multicast()
            || new_gw.is_broadcast()
            || new_gw.is_unspecified()
            || self.is_local(new_gw)
        {
            Some(format!("{new_gw} is not a unicast neighbour"))
        } else {
            None
        };
        if let Some(why) = reject {
            explain!(ctx, "{} ignores the redirect for {dst}: {why}", self.name);
            return;
        }
        let resolved = self
            .neigh
            .get(&(dev, new_gw))
            .is_some_and(|e| e.state.is_valid());
        if !resolved {
            explain!(
                ctx,
                "{} resolves {new_gw} before following the redirect for {dst}",
                self.name
            );
            self.solicit_if_unknown(ctx, dev, new_gw);
            return;
        }
        self.route_exceptions
            .insert(dst, (new_gw, ctx.now + REDIRECT_EXPIRES));
        explain!(
            ctx,
            "{} now sends to {dst} via {new_gw} (ICMP redirect from {})",
            self.name,
            info.src
        );
    }

    /// `neigh_event_send(n, NULL)`: start resolving `ip` without a packet.
    fn solicit_if_unknown(&mut self, ctx: &mut Ctx, dev: IfIndex, ip: Ipv4Addr) {
        let now = ctx.now;
        let parms = self.neigh_parms(dev, now);
        let entry = self
            .neigh
            .entry((dev, ip))
            .or_insert_with(|| super::neigh::NeighEntry::new(now));
        let mut actions = super::neigh::Actions::default();
        entry.start_resolution(now, &parms, &mut actions);
        self.neigh_actions(ctx, dev, ip, actions);
    }
}

/// ICMP types that are errors (`icmp_pointers[].error`).
fn is_error_type(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12) || icmp_type > 18
}

/// The IPv4 header at the start of a (possibly truncated) quote.
pub fn quoted_header(quote: &[u8]) -> Option<Ipv4Info> {
    if quote.len() < 20 || quote[0] >> 4 != 4 {
        return None;
    }
    let header_len = ((quote[0] & 0x0f) as usize) * 4;
    if header_len < 20 || quote.len() < header_len {
        return None;
    }
    let mut header = quote[..header_len].to_vec();
    header[2..4].copy_from_slice(&(header_len as u16).to_be_bytes());
    ipv4::refresh_checksum(&mut header);
    let mut info = ipv4::parse(&header).ok()?;
    info.total_len = u16::from_be_bytes([quote[2], quote[3]]) as usize;
    Some(info)
}
