//! IPv4 input, forwarding and output (net/ipv4/ip_input.c, route.c, ip_forward.c,
//! ip_output.c): martian and reverse-path checks, local delivery, TTL, redirects,
//! fragmentation and reassembly.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::arp::SourceCheck;
use super::ctx::Ctx;
use super::host::{Host, HostEvent, OutRoute};
use super::iface::{IfIndex, IfKind, LOOPBACK};
use super::netfilter::Hook;
use super::sysctl::{ConfKey, Global};
use crate::explain;
use crate::sim::SimTime;
use crate::trace::{Capture, Direction, Link};
use crate::wire::Packet;
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthHeader};
use crate::wire::gre;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{self, Ipv4Info, PROTO_GRE, PROTO_ICMP, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use crate::wire::vrrp::PROTO_VRRP;

type FragKey = (Ipv4Addr, Ipv4Addr, u16, u8);

/// Fragments waiting for their siblings (`ipq`), keyed by (src, dst, id, proto).
#[derive(Default)]
pub struct Reassembly {
    queues: BTreeMap<FragKey, FragQueue>,
}

struct FragQueue {
    /// (offset, payload) pieces.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Total payload length, known once the last fragment arrived.
    total: Option<usize>,
    /// The first fragment's header, reused for the reassembled datagram.
    first_header: Option<Vec<u8>>,
    iface: IfIndex,
}

impl Host {
    /// A frame arrived on a NIC: the NIC's address filter, then the protocol by ethertype.
    pub(crate) fn receive_frame(&mut self, ctx: &mut Ctx, dev: IfIndex, mut frame: Packet) {
        let Some(eth) = EthHeader::parse(frame.data()) else {
            return;
        };
        let mac = self.ifaces[dev].mac;
        if eth.dst != mac && !eth.dst.is_multicast() {
            explain!(
                ctx,
                "{} discards it: addressed to {}, not to {} ({mac})",
                self.name,
                eth.dst,
                self.ifaces[dev].name
            );
            return;
        }
        frame.pull_front(ETH_HEADER_LEN);
        match eth.ethertype {
            ETHERTYPE_ARP => match ArpRepr::parse(frame.data()) {
                Ok(arp) => {
                    self.deliver_arp_to_programs(ctx, dev, &eth, &arp);
                    self.arp_receive(ctx, dev, &eth, arp);
                }
                Err(why) => explain!(ctx, "{} ignores the frame: {why}", self.name),
            },
            ETHERTYPE_IPV4 => self.ip_receive(ctx, dev, frame),
            other => explain!(ctx, "{} ignores ethertype 0x{other:04x}", self.name),
        }
    }

    /// `ip_rcv` + `ip_route_input`: validate, then deliver locally, forward or drop.
    pub(crate) fn ip_receive(&mut self, ctx: &mut Ctx, dev: IfIndex, mut packet: Packet) {
        let info = match ipv4::parse(packet.data()) {
            Ok(info) => info,
            Err(why) => {
                ctx.drop_packet(&self.ifaces[dev].name, format!("martian: {why}"));
                return;
            }
        };
        packet.truncate(info.total_len);
        if let Some(why) = martian(&info) {
            ctx.drop_packet(&self.ifaces[dev].name, format!("martian: {why}"));
            return;
        }
        if info.dst.is_multicast() && !self.joined_group(dev, info.dst) {
            explain!(
                ctx,
                "{} ignores it: not a member of multicast group {} on {}",
                self.name,
                info.dst,
                self.ifaces[dev].name
            );
            return;
        }
        let mark = self.nf_prerouting(ctx, dev, &info, packet.data());
        let local = self.is_local(info.dst);
        let broadcast = !local && self.is_broadcast(info.dst);
        if local || broadcast || info.dst.is_multicast() {
            if let Err(why) = self.check_source(dev, &info) {
                ctx.drop_packet(&self.ifaces[dev].name, why);
                return;
            }
            self.ip_local_deliver(ctx, dev, info, packet, mark);
            return;
        }
        if self.effective(ConfKey::Forwarding, dev).value == 0 {
            ctx.drop_packet(
                &self.ifaces[dev].name,
                format!(
                    "ip_forward: {} is not a local address of {} and forwarding is off on {} (net.ipv4.ip_forward=0)",
                    info.dst, self.name, self.ifaces[dev].name
                ),
            );
            return;
        }
        if let Err(why) = self.check_source(dev, &info) {
            ctx.drop_packet(&self.ifaces[dev].name, why);
            return;
        }
        self.ip_forward(ctx, dev, info, packet, mark);
    }

    fn check_source(&self, dev: IfIndex, info: &Ipv4Info) -> Result<(), String> {
        if info.src.is_unspecified() {
            return Ok(());
        }
        match self.validate_source(info.src, dev) {
            SourceCheck::Ok => Ok(()),
            SourceCheck::Martian(why) | SourceCheck::RpFilter(why) => Err(why),
        }
    }

    /// `ip_forward`: TTL, route, redirect, MTU, then out through the neighbour layer.
    fn ip_forward(
        &mut self,
        ctx: &mut Ctx,
        in_dev: IfIndex,
        info: Ipv4Info,
        mut packet: Packet,
        mark: u32,
    ) {
        if info.ttl <= 1 {
            ctx.drop_packet(
                &self.ifaces[in_dev].name,
                format!("ttl: TTL {} expired in transit at {}", info.ttl, self.name),
            );
            self.icmp_error(
                ctx,
                packet.data(),
                IcmpMessage::TimeExceeded { code: 0 },
                Some(in_dev),
            );
            return;
        }
        let route = match self.routes.lookup(info.dst, None) {
            Some(r) if r.kind == super::route::RouteKind::Unicast => r.clone(),
            _ => {
                ctx.drop_packet(
                    &self.ifaces[in_dev].name,
                    format!("no-route: {} has no route to {}", self.name, info.dst),
                );
                let message = IcmpMessage::DestUnreachable {
                    code: icmp::CODE_NET_UNREACH,
                    next_hop_mtu: 0,
                };
                self.icmp_error(ctx, packet.data(), message, Some(in_dev));
                return;
            }
        };
        let out_dev = route.dev.expect("unicast routes have a device");
        let next_hop = route.gateway.unwrap_or(info.dst);
        if out_dev == in_dev {
            self.maybe_redirect(ctx, in_dev, &info, next_hop, packet.data());
        }
        let mtu = self.ifaces[out_dev].mtu as usize;
        if info.total_len > mtu && info.dont_fragment {
            ctx.drop_packet(
                &self.ifaces[in_dev].name,
                format!(
                    "mtu: {} bytes with DF set exceed the MTU {mtu} of {}",
                    info.total_len, self.ifaces[out_dev].name
                ),
            );
            let message = IcmpMessage::DestUnreachable {
                code: icmp::CODE_FRAG_NEEDED,
                next_hop_mtu: mtu as u16,
            };
            self.icmp_error(ctx, packet.data(), message, Some(in_dev));
            return;
        }
        ipv4::set_ttl(packet.data_mut(), info.ttl - 1);
        explain!(
            ctx,
            "{} forwards {} → {} out of {} via {next_hop}: TTL {} → {}",
            self.name,
            info.src,
            info.dst,
            self.ifaces[out_dev].name,
            info.ttl,
            info.ttl - 1
        );
        let devs = (Some(in_dev), Some(out_dev));
        if !self.nf_filter(ctx, Hook::Forward, devs, &info, &packet, mark) {
            return;
        }
        let Some((info, packet)) = self.ipvs_forward(ctx, info, packet, mark) else {
            return;
        };
        self.output_fragmented(ctx, out_dev, next_hop, info, packet);
    }

    /// ICMP redirect when a packet leaves by the interface it came in on and the sender could
    /// reach the next hop directly (`ip_rt_send_redirect`, with its exponential backoff).
    fn maybe_redirect(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        next_hop: Ipv4Addr,
        datagram: &[u8],
    ) {
        let send = self.effective(ConfKey::SendRedirects, dev).value != 0;
        let shared = self.effective(ConfKey::SharedMedia, dev).value != 0;
        if !send || !(shared || self.ifaces[dev].onlink(info.src, next_hop)) {
            return;
        }
        if !self.redirect_allowed(info.src, ctx.now) {
            return;
        }
        let message = IcmpMessage::Redirect {
            code: 1,
            gateway: next_hop,
        };
        explain!(
            ctx,
            "{} tells {} to send to {} directly (ICMP redirect): the packet leaves by the interface it arrived on",
            self.name,
            info.src,
            next_hop
        );
        self.icmp_error(ctx, datagram, message, Some(dev));
    }

    /// Redirect rate limit per destination: up to 9 redirects, each after twice the previous
    /// gap starting at 20 ms; quiet after that until 20 s pass without one.
    fn redirect_allowed(&mut self, peer: Ipv4Addr, now: SimTime) -> bool {
        const LOAD: u64 = 20_000_000;
        const NUMBER: u64 = 9;
        const SILENCE: u64 = LOAD << (NUMBER + 1);
        let (last, count) = self
            .redirect_tokens
            .get(&peer)
            .copied()
            .unwrap_or((SimTime::ZERO, 0));
        let count = if count > 0 && now.since(last) > SILENCE {
            0
        } else {
            count
        };
        if count >= NUMBER {
            return false;
        }
        if count > 0 && now.since(last) < LOAD << count {
            return false;
        }
        self.redirect_tokens.insert(peer, (now, count + 1));
        true
    }

    /// Local delivery: reassembly, then the transport protocol.
    pub(crate) fn ip_local_deliver(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: Ipv4Info,
        packet: Packet,
        mark: u32,
    ) {
        let (info, packet) = if info.is_fragment() {
            match self.reassemble(ctx, dev, &info, packet) {
                Some(whole) => whole,
                None => return,
            }
        } else {
            (info, packet)
        };
        if !self.nf_filter(ctx, Hook::Input, (Some(dev), None), &info, &packet, mark) {
            return;
        }
        if let Some((info, packet)) = self.ipvs_local_in(ctx, dev, info, packet, mark) {
            self.deliver_transport(ctx, dev, info, packet);
        }
    }

    /// The transport protocol's input (what runs after the LOCAL_IN hooks).
    pub(crate) fn deliver_transport(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: Ipv4Info,
        packet: Packet,
    ) {
        match info.proto {
            PROTO_ICMP => self.icmp_receive(ctx, dev, &info, packet),
            PROTO_TCP => self.tcp_receive(ctx, dev, &info, &packet),
            PROTO_VRRP => self.vrrp_receive(ctx, dev, &info, &packet),
            PROTO_UDP => match self.fou_port(&info, &packet) {
                Some(fou) => self.fou_receive(ctx, dev, &info, packet, fou),
                None => self.udp_receive(ctx, dev, &info, &packet),
            },
            PROTO_IPIP if self.iface_index("tunl0").is_some() => {
                self.decapsulate(ctx, ("IPIP", "tunl0"), &info, info.header_len, packet)
            }
            PROTO_GRE if self.iface_index("gre0").is_some() => {
                match gre_header_len(&packet.data()[info.header_len..info.total_len]) {
                    Ok(gre) => {
                        let headers = info.header_len + gre;
                        self.decapsulate(ctx, ("GRE", "gre0"), &info, headers, packet)
                    }
                    Err(why) => ctx.drop_packet(&self.ifaces[dev].name, format!("gre: {why}")),
                }
            }
            proto => {
                let name = self.ifaces[dev].name.clone();
                ctx.drop_packet(
                    &name,
                    format!("no-socket: no handler for IP protocol {proto}"),
                );
                let message = IcmpMessage::DestUnreachable {
                    code: icmp::CODE_PROTO_UNREACH,
                    next_hop_mtu: 0,
                };
                self.icmp_error(ctx, packet.data(), message, Some(dev));
            }
        }
    }

    /// IPIP on `tunl0`, GRE on `gre0`: the inner datagram (after `headers` bytes) arrives
    /// again on the tunnel device, which then decides rp_filter. A tunnel device that is down
    /// takes nothing.
    fn decapsulate(
        &mut self,
        ctx: &mut Ctx,
        (kind, device): (&str, &str),
        outer: &Ipv4Info,
        headers: usize,
        mut packet: Packet,
    ) {
        let dev = self.iface_index(device).expect("checked by caller");
        if !self.ifaces[dev].admin_up {
            // No tunnel takes the packet: ipip_rcv/ipgre_rcv reject it with port unreachable.
            ctx.drop_packet(
                device,
                format!("link-down: {device} is down, so no tunnel takes the packet"),
            );
            let message = IcmpMessage::DestUnreachable {
                code: icmp::CODE_PORT_UNREACH,
                next_hop_mtu: 0,
            };
            self.icmp_error(ctx, packet.data(), message, Some(dev));
            return;
        }
        packet.pull_front(headers);
        explain!(
            ctx,
            "{} decapsulates the {kind} packet from {} on {device}",
            self.name,
            outer.src
        );
        if ctx.trace.enabled() {
            ctx.trace.capture(Capture {
                t: ctx.now,
                host: self.id,
                iface: self.ifaces[dev].name.clone(),
                dir: Direction::In,
                link: Link::RawIp,
                frame: packet.data().to_vec(),
                notes: Vec::new(),
            });
        }
        self.ip_receive(ctx, dev, packet);
    }

    fn reassemble(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        packet: Packet,
    ) -> Option<(Ipv4Info, Packet)> {
        let key = (info.src, info.dst, info.id, info.proto);
        let timeout = self.sysctl.int(Global::IpfragTime).max(1) as u64 * 1_000_000_000;
        let queue = self.reassembly.queues.entry(key).or_insert_with(|| {
            ctx.queue.schedule(
                ctx.now + timeout,
                crate::sim::world::Event::Host(ctx.host, HostEvent::ReassemblyTimeout { key }),
            );
            FragQueue {
                pieces: Vec::new(),
                total: None,
                first_header: None,
                iface: dev,
            }
        });
        let data = packet.data();
        let payload = data[info.header_len..info.total_len].to_vec();
        if info.frag_offset == 0 {
            queue.first_header = Some(data[..info.header_len].to_vec());
        }
        if !info.more_fragments {
            queue.total = Some(info.frag_offset + payload.len());
        }
        queue
            .pieces
            .retain(|(offset, _)| *offset != info.frag_offset);
        queue.pieces.push((info.frag_offset, payload));
        let total = queue.total?;
        let header = queue.first_header.clone()?;
        let fragments = queue.pieces.len();
        queue.pieces.sort_by_key(|(offset, _)| *offset);
        let mut body = Vec::with_capacity(total);
        for (offset, piece) in &queue.pieces {
            if *offset != body.len() {
                return None;
            }
            body.extend_from_slice(piece);
        }
        if body.len() != total {
            return None;
        }
        self.reassembly.queues.remove(&key);
        let mut whole = Packet::zeroed(header.len() + body.len());
        let bytes = whole.data_mut();
        bytes[..header.len()].copy_from_slice(&header);
        bytes[header.len()..].copy_from_slice(&body);
        bytes[2..4].copy_from_slice(&((header.len() + body.len()) as u16).to_be_bytes());
        bytes[6] &= 0x40;
        bytes[7] = 0;
        ipv4::refresh_checksum(bytes);
        let info = ipv4::parse(whole.data()).ok()?;
        explain!(
            ctx,
            "{} reassembles {fragments} fragments from {} (id {})",
            self.name,
            info.src,
            info.id
        );
        Some((info, whole))
    }

    /// The reassembly timer: the queue is dropped; if the first fragment had arrived, the
    /// sender gets ICMP time exceeded (fragment reassembly).
    pub(crate) fn reassembly_timeout(&mut self, ctx: &mut Ctx, key: FragKey) {
        let Some(queue) = self.reassembly.queues.remove(&key) else {
            return;
        };
        let name = self.ifaces[queue.iface].name.clone();
        ctx.drop_packet(
            &name,
            format!(
                "reassembly: fragments of {} → {} id {} timed out",
                key.0, key.1, key.2
            ),
        );
        if let (Some(header), Some((0, first))) = (queue.first_header, queue.pieces.first()) {
            let mut quote = header;
            quote.extend_from_slice(&first[..first.len().min(8)]);
            self.icmp_error(
                ctx,
                &quote,
                IcmpMessage::TimeExceeded { code: 1 },
                Some(queue.iface),
            );
        }
    }

    /// Sends a locally built datagram along `route` (`ip_local_out`).
    pub(crate) fn ip_send(&mut self, ctx: &mut Ctx, route: &OutRoute, packet: Packet) {
        // Parsed once: filter OUTPUT only reads the datagram.
        let parsed = ipv4::parse(packet.data());
        if let Ok(info) = &parsed
            && !self.nf_filter(ctx, Hook::Output, (None, Some(route.dev)), info, &packet, 0)
        {
            return;
        }
        if route.local {
            ctx.after(0, HostEvent::Loopback { packet });
            return;
        }
        let Ok(info) = parsed else {
            return;
        };
        self.output_fragmented(ctx, route.dev, route.next_hop, info, packet);
    }

    /// A datagram sent through `lo` arrives (no checks: it never left the host).
    pub(crate) fn loopback_receive(&mut self, ctx: &mut Ctx, packet: Packet) {
        let Ok(info) = ipv4::parse(packet.data()) else {
            return;
        };
        self.ip_local_deliver(ctx, LOOPBACK, info, packet, 0);
    }

    /// Splits a datagram larger than the device MTU into fragments (`ip_fragment`); the
    /// first fragment carries the datagram's rewrite note.
    pub(crate) fn output_fragmented(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        next_hop: Ipv4Addr,
        info: Ipv4Info,
        mut packet: Packet,
    ) {
        let mtu = self.ifaces[dev].mtu as usize;
        if info.total_len <= mtu || self.ifaces[dev].kind == IfKind::Loopback {
            self.neigh_output(ctx, dev, next_hop, packet);
            return;
        }
        let mut note = packet.take_note();
        let chunk = (mtu - info.header_len) / 8 * 8;
        let payload_len = info.payload_len();
        let mut offset = 0;
        while offset < payload_len {
            let len = chunk.min(payload_len - offset);
            let last = offset + len == payload_len;
            let mut fragment = ipv4::fragment(packet.data(), &info, offset, len, last);
            if let Some(note) = note.take() {
                fragment.annotate(note);
            }
            self.neigh_output(ctx, dev, next_hop, fragment);
            offset += len;
        }
    }

    /// Builds and sends a datagram from this host: route lookup, then `ip_send`. Returns the
    /// route used, or why there was none.
    pub(crate) fn route_and_send<F>(
        &mut self,
        ctx: &mut Ctx,
        dst: Ipv4Addr,
        oif: Option<IfIndex>,
        src: Option<Ipv4Addr>,
        build: F,
    ) -> Result<OutRoute, super::host::RouteFailure>
    where
        F: FnOnce(&mut Host, &OutRoute) -> Packet,
    {
        let route = self.route_output_at(dst, oif, src, Some(ctx.now))?;
        let packet = build(self, &route);
        self.ip_send(ctx, &route, packet);
        Ok(route)
    }

    /// The multicast groups a socket on the host joined on `dev`: all-hosts always, VRRP's
    /// while keepalived runs an instance there, the sync group while a backup sync daemon
    /// listens there.
    fn joined_group(&self, dev: IfIndex, group: std::net::Ipv4Addr) -> bool {
        let name = &*self.ifaces[dev].name;
        group == std::net::Ipv4Addr::new(224, 0, 0, 1)
            || (group == self.keepalived.mcast_group()
                && self
                    .keepalived
                    .instances()
                    .any(|i| i.conf.interface == name))
            || self
                .ipvs
                .sync
                .backup
                .as_ref()
                .is_some_and(|b| *b.mcast_ifn == *name && b.group_v4() == group)
    }

    /// Records a packet that reached a local socket or program.
    pub(crate) fn count_reply(&mut self, src: Ipv4Addr) {
        *self.replies_from.entry(src).or_default() += 1;
    }
}

/// The length of a GRE header `gre0` accepts (`gre_parse_header`; the fallback device takes
/// any key or sequence number): version 0, IPv4 inside; a checksum, when present, must verify.
fn gre_header_len(data: &[u8]) -> Result<usize, &'static str> {
    let header = gre::parse(data)?;
    if header.version != 0 {
        return Err("GRE version other than 0");
    }
    if header.protocol != gre::PROTO_IPV4 {
        return Err("GRE carrying something other than IPv4");
    }
    if header.has_checksum() && ipv4::checksum(data) != 0 {
        return Err("bad GRE checksum");
    }
    Ok(header.header_len)
}

/// The martian checks of `ip_route_input_slow` that need no routing.
fn martian(info: &Ipv4Info) -> Option<String> {
    if info.src.is_multicast() || info.src.is_broadcast() {
        return Some(format!("martian source {}", info.src));
    }
    if info.src.is_unspecified() && !info.dst.is_broadcast() {
        return Some("martian source 0.0.0.0".to_owned());
    }
    if info.dst.is_unspecified() {
        return Some("martian destination 0.0.0.0".to_owned());
    }
    if info.src.is_loopback() || info.dst.is_loopback() {
        return Some(format!(
            "martian: loopback address {} on the wire",
            if info.src.is_loopback() {
                info.src
            } else {
                info.dst
            }
        ));
    }
    None
}
