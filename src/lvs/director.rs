//! IPVS on a host's data path (ip_vs_core.c hooks, ip_vs_xmit.c): client packets taken at
//! LOCAL_IN and sent on by the connection's forwarding method, NAT replies rewritten at
//! FORWARD, FULLNAT replies at their local address. Each step explains itself on the frame.

use std::net::{IpAddr, Ipv4Addr};

use super::admin::{self, AdminError};
use super::conn::{ConnId, FullNat};
use super::ipvsadm::command::{Command, DaemonState};
use super::service::{DestId, Forward, Protocol};
use super::sysctl::Vs;
use super::table::{InVerdict, PacketMeta, TcpFlags, addr_port};
use crate::explain;
use crate::sim::SimTime;
use crate::stack::HostEvent;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::{IfIndex, LOOPBACK};
use crate::stack::netfilter::Hook;
use crate::wire::Packet;
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{self, Ipv4Info, PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use crate::wire::mangle::{self, End};
use crate::wire::tcp;

/// What a transmitter needs from the connection entry.
pub(super) struct Target {
    pub(super) fwd: Forward,
    pub(super) rip: Ipv4Addr,
    pub(super) rport: u16,
    pub(super) vip: Ipv4Addr,
    pub(super) vport: u16,
    /// The destination (TUN reads its tunnel settings there).
    pub(super) dest: DestId,
}

/// The IPv4 address of an entry field (the packet path is IPv4).
fn v4(addr: IpAddr) -> Ipv4Addr {
    match addr {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

/// A TCP or UDP datagram as IPVS sees it; None for other protocols or a truncated header.
fn packet_meta(info: &Ipv4Info, data: &[u8], fwmark: u32) -> Option<PacketMeta> {
    let l4 = data.get(info.header_len..info.total_len)?;
    let proto = match info.proto {
        PROTO_TCP if l4.len() >= 20 => Protocol::Tcp,
        PROTO_UDP if l4.len() >= 8 => Protocol::Udp,
        _ => return None,
    };
    let tcp = (proto == Protocol::Tcp).then(|| {
        let flags = l4[13];
        TcpFlags {
            syn: flags & tcp::SYN != 0,
            fin: flags & tcp::FIN != 0,
            ack: flags & tcp::ACK != 0,
            rst: flags & tcp::RST != 0,
        }
    });
    Some(PacketMeta {
        proto,
        saddr: IpAddr::V4(info.src),
        sport: u16::from_be_bytes([l4[0], l4[1]]),
        daddr: IpAddr::V4(info.dst),
        dport: u16::from_be_bytes([l4[2], l4[3]]),
        tcp,
        len: info.total_len as u32,
        fwmark,
    })
}

impl Host {
    /// LOCAL_IN (`ip_vs_in_hook`, and FULLNAT's reply lookup): returns the datagram when
    /// IPVS leaves it to the host's own stack.
    pub(crate) fn ipvs_local_in(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: Ipv4Info,
        packet: Packet,
        fwmark: u32,
    ) -> Option<(Ipv4Info, Packet)> {
        if dev == LOOPBACK || !self.ipvs.is_active() {
            return Some((info, packet));
        }
        if info.proto == PROTO_ICMP {
            return self.ipvs_icmp_in(ctx, dev, info, packet);
        }
        let Some(meta) = packet_meta(&info, packet.data(), fwmark) else {
            return Some((info, packet));
        };
        let now = ctx.now.ns();
        if let Some(conn) = self.fullnat_reply(&meta, now) {
            self.fullnat_reply_xmit(ctx, dev, conn, info, packet);
            self.arm_ipvs_timer(ctx);
            return None;
        }
        let verdict = self.ipvs.process_in(&meta, now, ctx.explaining());
        self.arm_ipvs_timer(ctx);
        if self.ipvs.sync.master.is_some() {
            self.ipvs_sync_send(ctx);
        }
        match verdict {
            InVerdict::Accept(why) => {
                explain!(ctx, "{}: INPUT → IPVS: {why}", self.name);
                Some((info, packet))
            }
            InVerdict::Drop(why) => {
                ctx.drop_packet(&self.ifaces[dev].name, why);
                None
            }
            InVerdict::Unreachable(why) => {
                ctx.drop_packet(&self.ifaces[dev].name, why);
                let message = IcmpMessage::DestUnreachable {
                    code: icmp::CODE_PORT_UNREACH,
                    next_hop_mtu: 0,
                };
                self.icmp_error(ctx, packet.data(), message, Some(dev));
                None
            }
            InVerdict::Forward { conn, why } => {
                if ctx.explaining() {
                    let entry = self.ipvs.describe(conn);
                    let why = if why.is_empty() {
                        "existing connection".to_owned()
                    } else {
                        why
                    };
                    ctx.note(format!(
                        "{}: PREROUTING → INPUT ({} is local) → IPVS: {entry}; {why}",
                        self.name, info.dst
                    ));
                }
                self.ipvs_xmit(ctx, dev, conn, info, packet);
                None
            }
        }
    }

    /// FULLNAT replies arrive for the local address: found by the "out" index.
    fn fullnat_reply(&mut self, meta: &PacketMeta, now: u64) -> Option<ConnId> {
        let id = self.ipvs.conns.lookup_out(
            meta.proto,
            (meta.saddr, meta.sport),
            (meta.daddr, meta.dport),
        )?;
        if self.ipvs.conns.get(id).fwd != Forward::FullNat {
            return None;
        }
        self.ipvs.process_out(meta, now)
    }

    fn target(&self, conn: ConnId) -> Target {
        let c = self.ipvs.conns.get(conn);
        Target {
            fwd: c.fwd,
            rip: v4(c.daddr),
            rport: c.dport,
            vip: v4(c.vaddr),
            vport: c.vport,
            dest: c.dest,
        }
    }

    /// The connection's transmitter (`cp->packet_xmit`).
    fn ipvs_xmit(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        conn: ConnId,
        info: Ipv4Info,
        packet: Packet,
    ) {
        let target = self.target(conn);
        if self.is_local(target.rip) {
            self.ipvs_to_local_server(ctx, dev, &target, packet);
            return;
        }
        match target.fwd {
            Forward::Route | Forward::Local => self.xmit_dr(ctx, dev, &target, info, packet),
            Forward::Masq => self.xmit_nat(ctx, dev, &target, info, packet),
            Forward::Tunnel => self.xmit_tunnel(ctx, dev, &target, packet),
            Forward::FullNat => self.xmit_fullnat(ctx, dev, conn, &target, info, packet),
        }
    }

    /// A real server on the director itself: NAT first rewrites the destination; the
    /// datagram then goes up the local stack without a TTL change.
    fn ipvs_to_local_server(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        target: &Target,
        mut packet: Packet,
    ) {
        if matches!(target.fwd, Forward::Masq | Forward::FullNat) {
            mangle::rewrite_end(
                packet.data_mut(),
                End::Destination,
                target.rip,
                target.rport,
            );
        }
        explain!(
            ctx,
            "{}: the real server {} is this host: delivered locally",
            self.name,
            target.rip
        );
        if let Ok(info) = ipv4::parse(packet.data()) {
            self.deliver_transport(ctx, dev, info, packet);
        }
    }

    /// The route to a real server (or, for FULLNAT replies, the client): (device, next hop,
    /// source); None after explaining the drop.
    pub(super) fn route_to_server(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        rip: Ipv4Addr,
    ) -> Option<(IfIndex, Ipv4Addr, Ipv4Addr)> {
        match self.route_output(rip, None, None) {
            Ok(route) => Some((route.dev, route.next_hop, route.src)),
            Err(_) => {
                let dev_name = self.ifaces[dev].name.clone();
                ctx.drop_packet(
                    &dev_name,
                    format!("no-route: IPVS: {} has no route to {rip}", self.name),
                );
                None
            }
        }
    }

    /// `decrement_ttl`: a datagram IPVS forwards loses one TTL; at 1 it dies with ICMP time
    /// exceeded from the VIP.
    pub(super) fn ipvs_ttl(&mut self, ctx: &mut Ctx, dev: IfIndex, packet: &mut Packet) -> bool {
        let ttl = packet.data()[8];
        if ttl <= 1 {
            let dev_name = self.ifaces[dev].name.clone();
            ctx.drop_packet(
                &dev_name,
                format!("ttl: TTL {ttl} expired at the director {}", self.name),
            );
            let message = IcmpMessage::TimeExceeded { code: 0 };
            self.icmp_error(ctx, packet.data(), message, Some(dev));
            return false;
        }
        ipv4::set_ttl(packet.data_mut(), ttl - 1);
        true
    }

    /// `ensure_mtu_is_adequate`: DF and too big → ICMP fragmentation needed (from the VIP).
    pub(super) fn ipvs_mtu_ok(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        packet: &Packet,
        mtu: usize,
    ) -> bool {
        let Ok(info) = ipv4::parse(packet.data()) else {
            return false;
        };
        if info.total_len <= mtu || !info.dont_fragment {
            return true;
        }
        let dev_name = self.ifaces[dev].name.clone();
        ctx.drop_packet(
            &dev_name,
            format!(
                "mtu: IPVS: {} bytes with DF set exceed the path MTU {mtu}",
                info.total_len
            ),
        );
        let message = IcmpMessage::DestUnreachable {
            code: icmp::CODE_FRAG_NEEDED,
            next_hop_mtu: mtu as u16,
        };
        self.icmp_error(ctx, packet.data(), message, Some(dev));
        false
    }

    /// Out through LOCAL_OUT and POSTROUTING to the neighbour layer (fragmenting when DF is
    /// clear).
    pub(super) fn ipvs_send(
        &mut self,
        ctx: &mut Ctx,
        out: IfIndex,
        next_hop: Ipv4Addr,
        mut packet: Packet,
        note: Option<String>,
    ) {
        let Ok(info) = ipv4::parse(packet.data()) else {
            return;
        };
        if !self.nf_filter(ctx, Hook::Output, (None, Some(out)), &info, &packet, 0) {
            return;
        }
        if let Some(note) = note {
            packet.annotate(note);
        }
        self.output_fragmented(ctx, out, next_hop, info, packet);
    }

    /// DR (`ip_vs_dr_xmit`): only the MAC changes — the real server itself is the next hop
    /// (KNOWN_NH), so it must be on a directly attached network.
    fn xmit_dr(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        target: &Target,
        _info: Ipv4Info,
        mut packet: Packet,
    ) {
        let Some((out, _gateway, _src)) = self.route_to_server(ctx, dev, target.rip) else {
            return;
        };
        let mtu = self.ifaces[out].mtu as usize;
        if !self.ipvs_ttl(ctx, dev, &mut packet) || !self.ipvs_mtu_ok(ctx, dev, &packet, mtu) {
            return;
        }
        let note = ctx.explaining().then(|| format!(
            "IPVS DR: {} → POSTROUTING → {}: destination MAC {} → {} ({}); the IP header keeps {} as destination, TTL −1",
            self.name,
            self.ifaces[out].name,
            self.ifaces[dev].mac,
            crate::wire::packet::DST_MAC,
            target.rip,
            target.vip
        ));
        self.ipvs_send(ctx, out, target.rip, packet, note);
    }

    /// NAT (`ip_vs_nat_xmit`): destination address and port become the real server's.
    fn xmit_nat(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        target: &Target,
        info: Ipv4Info,
        mut packet: Packet,
    ) {
        let Some((out, next_hop, _src)) = self.route_to_server(ctx, dev, target.rip) else {
            return;
        };
        let mtu = self.ifaces[out].mtu as usize;
        if !self.ipvs_ttl(ctx, dev, &mut packet) || !self.ipvs_mtu_ok(ctx, dev, &packet, mtu) {
            return;
        }
        mangle::rewrite_end(
            packet.data_mut(),
            End::Destination,
            target.rip,
            target.rport,
        );
        let note = ctx.explaining().then(|| {
            format!(
                "IPVS NAT: {} rewrites the destination {} → {} (checksums updated; TTL −1)",
                self.name,
                addr_port(IpAddr::V4(info.dst), target.vport),
                addr_port(IpAddr::V4(target.rip), target.rport),
            )
        });
        self.ipvs_send(ctx, out, next_hop, packet, note);
    }

    /// FULLNAT (`ip_vs_fnat_xmit`): source becomes a local address and port, destination the
    /// real server; client sequence numbers shift; the client's address rides in the TOA
    /// option. No TTL change.
    fn xmit_fullnat(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        conn: ConnId,
        target: &Target,
        info: Ipv4Info,
        mut packet: Packet,
    ) {
        let Some((out, next_hop, _src)) = self.route_to_server(ctx, dev, target.rip) else {
            return;
        };
        let Some(f) = self.ipvs.conns.get(conn).fullnat.as_deref().copied() else {
            return;
        };
        let mtu = self.ifaces[out].mtu as usize;
        let (laddr, client) = (
            v4(f.laddr),
            (info.src, tcp_port(&packet, &info, End::Source)),
        );
        let mut extras = Vec::new();
        if info.proto == PROTO_TCP {
            let f = self.fullnat_tcp_in(conn, &mut packet, &info, mtu, &mut extras);
            mangle::tcp_shift_seq(packet.data_mut(), f.seq_delta);
        }
        mangle::rewrite_end(packet.data_mut(), End::Source, laddr, f.lport);
        mangle::rewrite_end(
            packet.data_mut(),
            End::Destination,
            target.rip,
            target.rport,
        );
        mangle::refresh_l4_checksum(packet.data_mut());
        if !self.ipvs_mtu_ok(ctx, dev, &packet, mtu) {
            return;
        }
        let note = ctx.explaining().then(|| {
            format!(
                "IPVS FULLNAT: {} rewrites {} → {} into {} → {}{}",
                self.name,
                addr_port(IpAddr::V4(client.0), client.1),
                addr_port(IpAddr::V4(target.vip), target.vport),
                addr_port(f.laddr, f.lport),
                addr_port(IpAddr::V4(target.rip), target.rport),
                extras.concat()
            )
        });
        self.ipvs_send(ctx, out, next_hop, packet, note);
    }

    /// FULLNAT's TCP edits on the way in: the sequence delta fixed at the first SYN, the
    /// SYN's timestamp removed, TOA on the SYN and on segments acknowledging the server's ISN.
    fn fullnat_tcp_in(
        &mut self,
        conn: ConnId,
        packet: &mut Packet,
        info: &Ipv4Info,
        mtu: usize,
        extras: &mut Vec<String>,
    ) -> FullNat {
        let data = packet.data();
        let hl = info.header_len;
        let flags = data[hl + 13];
        let seq = u32::from_be_bytes([data[hl + 4], data[hl + 5], data[hl + 6], data[hl + 7]]);
        let ack = u32::from_be_bytes([data[hl + 8], data[hl + 9], data[hl + 10], data[hl + 11]]);
        let syn = flags & tcp::SYN != 0;
        if syn && self.ipvs_seq_delta_unset(conn) {
            let init_seq = self.rng.next_u32();
            let f = self
                .ipvs
                .conns
                .get_mut(conn)
                .fullnat
                .as_deref_mut()
                .expect("fullnat");
            f.seq_delta = init_seq.wrapping_sub(seq);
            f.rs_isn = None;
        }
        let f = *self
            .ipvs
            .conns
            .get(conn)
            .fullnat
            .as_deref()
            .expect("fullnat");
        let sysctl = &self.ipvs.sysctl;
        if syn
            && sysctl.int(Vs::FullnatTimestampRemoveEntry) != 0
            && mangle::tcp_remove_timestamp(packet.data_mut())
        {
            extras.push("; timestamp option removed".to_owned());
        }
        let plain = flags & (tcp::SYN | tcp::RST | tcp::FIN) == 0;
        let acks_server = f.rs_isn.is_some_and(|isn| ack == isn.wrapping_add(1));
        let wants_toa = syn || (plain && acks_server);
        if wants_toa
            && self.ipvs.sysctl.int(Vs::FullnatToaEntry) != 0
            && info.total_len + mangle::TOA_LEN <= mtu
            && mangle::tcp_insert_toa(packet, info.src, tcp_port(packet, info, End::Source))
        {
            extras.push(format!("; TOA option carries the client {}", info.src));
        }
        f
    }

    fn ipvs_seq_delta_unset(&self, conn: ConnId) -> bool {
        let c = self.ipvs.conns.get(conn);
        c.fullnat
            .as_deref()
            .is_some_and(|f| f.seq_delta == 0 && f.rs_isn.is_none())
    }

    /// FULLNAT reply (`ip_vs_fnat_response_xmit`): back to VIP → client, acknowledgements and
    /// SACK edges shifted back, the SYN-ACK's MSS lowered by 8 for the TOA option.
    fn fullnat_reply_xmit(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        conn: ConnId,
        info: Ipv4Info,
        mut packet: Packet,
    ) {
        let c = self.ipvs.conns.get(conn);
        let (client, cport, vip, vport) = (v4(c.caddr), c.cport, v4(c.vaddr), c.vport);
        let f = *c.fullnat.as_deref().expect("fullnat");
        let mut extras = String::new();
        if info.proto == PROTO_TCP {
            let data = packet.data();
            let hl = info.header_len;
            let flags = data[hl + 13];
            if flags & tcp::SYN != 0 && flags & tcp::ACK != 0 {
                let seq =
                    u32::from_be_bytes([data[hl + 4], data[hl + 5], data[hl + 6], data[hl + 7]]);
                if let Some(f) = self.ipvs.conns.get_mut(conn).fullnat.as_deref_mut() {
                    f.rs_isn = Some(seq);
                }
                if self.ipvs.sysctl.int(Vs::FullnatMssAdjustEntry) != 0
                    && let Some((old, new)) = mangle::tcp_lower_mss(packet.data_mut(), 8)
                {
                    extras = format!("; MSS {old} → {new}");
                }
            }
            mangle::tcp_unshift_ack(packet.data_mut(), f.seq_delta);
            mangle::tcp_unshift_sack(packet.data_mut(), f.seq_delta);
        }
        mangle::rewrite_end(packet.data_mut(), End::Source, vip, vport);
        mangle::rewrite_end(packet.data_mut(), End::Destination, client, cport);
        mangle::refresh_l4_checksum(packet.data_mut());
        let Some((out, next_hop, _)) = self.route_to_server(ctx, dev, client) else {
            return;
        };
        let note = ctx.explaining().then(|| {
            format!(
                "IPVS FULLNAT reply: {} rewrites {} → {} into {} → {}{extras}",
                self.name,
                addr_port(IpAddr::V4(info.src), tcp_port(&packet, &info, End::Source)),
                addr_port(f.laddr, f.lport),
                addr_port(IpAddr::V4(vip), vport),
                addr_port(IpAddr::V4(client), cport),
            )
        });
        self.ipvs_send(ctx, out, next_hop, packet, note);
    }

    /// FORWARD (`ip_vs_out_hook`): a NAT real server's reply gets the VIP back as source and
    /// is routed again as if sent by the director (`snat_reroute`). Returns the datagram when
    /// it is not a NAT reply.
    pub(crate) fn ipvs_forward(
        &mut self,
        ctx: &mut Ctx,
        info: Ipv4Info,
        mut packet: Packet,
        fwmark: u32,
    ) -> Option<(Ipv4Info, Packet)> {
        if !self.ipvs.is_active() {
            return Some((info, packet));
        }
        if info.proto == PROTO_ICMP {
            return Some(self.ipvs_icmp_out(ctx, info, packet));
        }
        let Some(meta) = packet_meta(&info, packet.data(), fwmark) else {
            return Some((info, packet));
        };
        let now = ctx.now.ns();
        let found = self.ipvs.conns.lookup_out(
            meta.proto,
            (meta.saddr, meta.sport),
            (meta.daddr, meta.dport),
        );
        let Some(conn) = found.filter(|&c| self.ipvs.conns.get(c).fwd == Forward::Masq) else {
            return Some((info, packet));
        };
        self.ipvs.process_out(&meta, now);
        self.arm_ipvs_timer(ctx);
        let target = self.target(conn);
        mangle::rewrite_end(packet.data_mut(), End::Source, target.vip, target.vport);
        if ctx.explaining() {
            packet.annotate(format!(
                "IPVS NAT reply: {} → FORWARD → IPVS rewrites the source {} → {} (checksums updated)",
                self.name,
                addr_port(meta.saddr, meta.sport),
                addr_port(IpAddr::V4(target.vip), target.vport),
            ));
        }
        let info = ipv4::parse(packet.data()).ok()?;
        Some((info, packet))
    }

    /// An ICMP error at LOCAL_IN about a packet the director sent towards a client
    /// (`ip_vs_in_icmp`): found by the quoted datagram turned around; NAT rewrites it for the
    /// real server, DR and TUN relay it with the connection's own transmitter. Anything else
    /// is the director's own.
    fn ipvs_icmp_in(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: Ipv4Info,
        packet: Packet,
    ) -> Option<(Ipv4Info, Packet)> {
        let mut packet = self.ipvs_tunnel_icmp(ctx, &info, packet)?;
        let Some((quoted, conn)) = self.icmp_related(&packet, true) else {
            return Some((info, packet));
        };
        self.ipvs
            .count_in(conn, info.total_len as u32, ctx.now.ns());
        let target = self.target(conn);
        match target.fwd {
            Forward::Masq => {
                let data = packet.data_mut();
                mangle::rewrite_ip_end(data, End::Destination, target.rip);
                mangle::rewrite_icmp_quote(data, End::Source, target.rip, target.rport);
                explain!(
                    ctx,
                    "{}: INPUT → IPVS: ICMP about {quoted} of {}; NAT: sent on to {} with the quoted source rewritten",
                    self.name,
                    self.ipvs.describe(conn),
                    addr_port(IpAddr::V4(target.rip), target.rport)
                );
                self.xmit_nat_icmp(ctx, dev, &target, packet);
            }
            Forward::FullNat => {
                explain!(
                    ctx,
                    "{}: IPVS: ICMP about {quoted} of a FULLNAT connection is not relayed (lvsim does not rewrite FULLNAT's quoted headers)",
                    self.name
                );
            }
            _ => {
                explain!(
                    ctx,
                    "{}: INPUT → IPVS: ICMP about {quoted} of {}: relayed unchanged to the real server",
                    self.name,
                    self.ipvs.describe(conn)
                );
                self.ipvs_xmit(ctx, dev, conn, info, packet);
            }
        }
        self.arm_ipvs_timer(ctx);
        None
    }

    /// A NAT-rewritten ICMP error on its way to the real server: route, TTL, MTU, send.
    fn xmit_nat_icmp(&mut self, ctx: &mut Ctx, dev: IfIndex, target: &Target, mut packet: Packet) {
        let Some((out, next_hop, _)) = self.route_to_server(ctx, dev, target.rip) else {
            return;
        };
        let mtu = self.ifaces[out].mtu as usize;
        if !self.ipvs_ttl(ctx, dev, &mut packet) || !self.ipvs_mtu_ok(ctx, dev, &packet, mtu) {
            return;
        }
        let note = ctx.explaining().then(|| format!(
            "IPVS NAT: {} forwards the ICMP error to {} with the quoted source rewritten (the quoted transport checksum is left as it was, as the kernel leaves it)",
            self.name, target.rip
        ));
        self.ipvs_send(ctx, out, next_hop, packet, note);
    }

    /// An ICMP error from a NAT real server about a client's packet, at FORWARD
    /// (`ip_vs_out_icmp`): the VIP goes back in as outer source and quoted destination.
    fn ipvs_icmp_out(
        &mut self,
        ctx: &mut Ctx,
        info: Ipv4Info,
        mut packet: Packet,
    ) -> (Ipv4Info, Packet) {
        let related = self
            .icmp_related(&packet, false)
            .filter(|(_, c)| self.ipvs.conns.get(*c).fwd == Forward::Masq);
        let Some((quoted, conn)) = related else {
            return (info, packet);
        };
        self.ipvs
            .count_out(conn, info.total_len as u32, ctx.now.ns());
        let target = self.target(conn);
        let data = packet.data_mut();
        mangle::rewrite_ip_end(data, End::Source, target.vip);
        mangle::rewrite_icmp_quote(data, End::Destination, target.vip, target.vport);
        if ctx.explaining() {
            packet.annotate(format!(
                "IPVS NAT: {} → FORWARD → IPVS: ICMP about {quoted}: source and quoted destination become the VIP {} (the quoted transport checksum is left as it was, as the kernel leaves it)",
                self.name,
                addr_port(IpAddr::V4(target.vip), target.vport)
            ));
        }
        let info = ipv4::parse(packet.data()).unwrap_or(info);
        (info, packet)
    }

    /// The connection an ICMP error (type 3, 4 or 11) is about, and the quoted datagram as
    /// text. `towards_client`: the quote is a packet sent to a client (looked up turned
    /// around in the "in" table); otherwise a packet a real server received (the "out" table).
    fn icmp_related(&self, packet: &Packet, towards_client: bool) -> Option<(String, ConnId)> {
        let data = packet.data();
        let hl = ((data[0] & 0x0f) as usize) * 4;
        if !matches!(data.get(hl)?, 3 | 4 | 11) {
            return None;
        }
        let (at, proto) = mangle::icmp_quote(data)?;
        let proto = match proto {
            PROTO_TCP => Protocol::Tcp,
            PROTO_UDP => Protocol::Udp,
            _ => return None,
        };
        let q = &data[at..];
        let qhl = ((q[0] & 0x0f) as usize) * 4;
        let src = IpAddr::V4(Ipv4Addr::new(q[12], q[13], q[14], q[15]));
        let dst = IpAddr::V4(Ipv4Addr::new(q[16], q[17], q[18], q[19]));
        let sport = u16::from_be_bytes([q[qhl], q[qhl + 1]]);
        let dport = u16::from_be_bytes([q[qhl + 2], q[qhl + 3]]);
        let conns = &self.ipvs.conns;
        let conn = if towards_client {
            conns.lookup_in(proto, (dst, dport), (src, sport))
        } else {
            conns.lookup_out(proto, (dst, dport), (src, sport))
        }?;
        let quoted = format!("{} → {}", addr_port(src, sport), addr_port(dst, dport));
        Some((quoted, conn))
    }

    /// An ipvsadm request to this host's IPVS (from an `ipvsadm` line or keepalived); returns
    /// what ipvsadm prints.
    pub fn ipvs_execute(
        &mut self,
        ctx: &mut Ctx,
        argv0: &str,
        command: &Command,
    ) -> Result<String, AdminError> {
        let real_server_ok = match command {
            Command::AddDest { dest, .. } => self.unicast_or_local(dest.addr),
            _ => true,
        };
        let result = admin::execute(&mut self.ipvs, argv0, command, ctx.now.ns(), &|_| {
            real_server_ok
        });
        if result.is_ok() {
            self.sync_backup_membership(ctx, command);
        }
        self.arm_ipvs_timer(ctx);
        self.register_director(ctx);
        result
    }

    /// A backup sync daemon's socket joins the sync group on its interface (and leaves it
    /// when stopped).
    fn sync_backup_membership(&mut self, ctx: &mut Ctx, command: &Command) {
        let (config, join) = match command {
            Command::StartDaemon(c) if c.state == DaemonState::Backup => (c.clone(), true),
            Command::StopDaemon {
                state: DaemonState::Backup,
            } => match self.ipvs.sync.last_backup.clone() {
                Some(c) => (c, false),
                None => return,
            },
            _ => return,
        };
        let Some(dev) = self.iface_index(&config.mcast_ifn) else {
            return;
        };
        self.igmp_change(ctx, dev, config.group_v4(), join);
    }

    /// `inet_addr_type` is RTN_UNICAST or RTN_LOCAL: not 0.0.0.0, a broadcast or a multicast
    /// address (the kernel refuses other real servers).
    fn unicast_or_local(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => !a.is_multicast() && !a.is_unspecified() && !self.is_broadcast(a),
            IpAddr::V6(a) => !a.is_multicast() && !a.is_unspecified(),
        }
    }

    /// Tells the diagnoses where this host's VIPs and NAT real servers are (after any change
    /// to its tables).
    pub(crate) fn register_director(&self, ctx: &mut Ctx) {
        let (vips, nat) = self.ipvs.watched_addresses();
        ctx.trace.directors.register(self.id, &vips, &nat);
    }

    /// Schedules the director's timer event for the earliest IPVS deadline.
    pub(crate) fn arm_ipvs_timer(&mut self, ctx: &mut Ctx) {
        let Some(next) = self.ipvs.next_timer() else {
            return;
        };
        if self.ipvs_wakeup.is_some_and(|w| w.ns() <= next) {
            return;
        }
        self.ipvs_wakeup = Some(SimTime(next));
        ctx.at(SimTime(next), HostEvent::IpvsTimer);
    }

    /// The director's IPVS timer: expiries, scheduler housekeeping, trash.
    pub(crate) fn ipvs_timer(&mut self, ctx: &mut Ctx) {
        if self.ipvs_wakeup.is_some_and(|w| w > ctx.now) {
            return;
        }
        self.ipvs_wakeup = None;
        self.ipvs.run_timers(ctx.now.ns());
        self.arm_ipvs_timer(ctx);
    }
}

/// The source or destination port of a TCP/UDP datagram.
fn tcp_port(packet: &Packet, info: &Ipv4Info, end: End) -> u16 {
    let at = info.header_len + if end == End::Source { 0 } else { 2 };
    let data = packet.data();
    u16::from_be_bytes([data[at], data[at + 1]])
}
