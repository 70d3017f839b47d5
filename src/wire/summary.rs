//! One-line frame summaries in the style of `tcpdump -e -n -S`.
//!
//! Used by the timeline and the TUI; decoding is from the bytes alone, so what is shown is
//! exactly what went on the wire.

use std::fmt::Write;

use super::arp::ArpRepr;
use super::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthHeader};
use super::gre;
use super::icmp::{self, IcmpMessage};
use super::igmp;
use super::ipv4::{self, PROTO_GRE, PROTO_ICMP, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use super::vrrp::{self, PROTO_VRRP};
use super::{tcp, udp};
use crate::trace::Link;

/// A capture's line: an Ethernet frame, or a bare datagram as tcpdump shows one on `tunl0`
/// (`ip: length 60: <network summary>`).
pub fn capture(link: Link, bytes: &[u8]) -> String {
    match link {
        Link::Ethernet => frame(bytes),
        Link::RawIp => {
            let mut out = format!("ip: length {}: ", bytes.len());
            ip_datagram(&mut out, bytes);
            out
        }
    }
}

/// `src > dst, ethertype IPv4 (0x0800), length 74: <network summary>`.
pub fn frame(bytes: &[u8]) -> String {
    let Some(eth) = EthHeader::parse(bytes) else {
        return format!("truncated frame, length {}", bytes.len());
    };
    let mut out = String::with_capacity(160);
    let _ = write!(
        out,
        "{} > {}, ethertype {} (0x{:04x}), length {}: ",
        eth.src,
        eth.dst,
        ethertype_name(eth.ethertype),
        eth.ethertype,
        bytes.len()
    );
    let payload = &bytes[ETH_HEADER_LEN..];
    match eth.ethertype {
        ETHERTYPE_ARP => match ArpRepr::parse(payload) {
            Ok(arp) => {
                let _ = write!(out, "{arp}, length 28");
            }
            Err(why) => out.push_str(why),
        },
        ETHERTYPE_IPV4 => ip_datagram(&mut out, payload),
        _ => out.push_str("unknown payload"),
    }
    out
}

fn ethertype_name(ethertype: u16) -> &'static str {
    match ethertype {
        ETHERTYPE_IPV4 => "IPv4",
        ETHERTYPE_ARP => "ARP",
        0x86dd => "IPv6",
        _ => "Unknown",
    }
}

/// tcpdump's GRE line without -v: version and length, then the IPv4 payload.
/// tcpdump's VRRP line: `VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl
/// 1s, length 20` (v3: `intvl 100cs`, no authtype).
fn vrrp_advert(out: &mut String, info: &ipv4::Ipv4Info, data: &[u8]) {
    let advert = match vrrp::Advert::parse(data, info.src, info.dst) {
        Ok(a) => a,
        Err(why) => {
            let _ = write!(out, "VRRP [{why}]");
            return;
        }
    };
    let _ = write!(
        out,
        "VRRPv{}, Advertisement, vrid {}, prio {}, ",
        advert.version, advert.vrid, advert.priority
    );
    if advert.version == 2 {
        let auth = match advert.auth {
            vrrp::AdvertAuth::None => "none",
            vrrp::AdvertAuth::Pass(_) => "simple",
            vrrp::AdvertAuth::Ah(_) => "ah",
        };
        let _ = write!(out, "authtype {auth}, intvl {}s, ", advert.interval);
    } else {
        let _ = write!(out, "intvl {}cs, ", advert.interval);
    }
    let _ = write!(out, "length {}", data.len());
}

fn gre_packet(out: &mut String, data: &[u8]) {
    match gre::parse(data) {
        Ok(header) => {
            let _ = write!(out, "GREv{}, length {}: ", header.version, data.len());
            if header.protocol == gre::PROTO_IPV4 {
                ip_datagram(out, &data[header.header_len..]);
            } else {
                let _ = write!(out, "proto 0x{:04x}", header.protocol);
            }
        }
        Err(why) => {
            let _ = write!(out, "[{why}]");
        }
    }
}

/// Summarises an IPv4 datagram (also used for the inner packet of IPIP).
pub fn ip_datagram(out: &mut String, data: &[u8]) {
    let info = match ipv4::parse(data) {
        Ok(info) => info,
        Err(why) => {
            let _ = write!(out, "[{why}]");
            return;
        }
    };
    if info.is_fragment() && info.frag_offset != 0 {
        let _ = write!(
            out,
            "{} > {}: ip-proto-{} (frag {}:{}@{}{})",
            info.src,
            info.dst,
            info.proto,
            info.id,
            info.payload_len(),
            info.frag_offset,
            if info.more_fragments { "+" } else { "" }
        );
        return;
    }
    let l4 = &data[info.header_len..info.total_len];
    match info.proto {
        PROTO_TCP => tcp_segment(out, &info, l4),
        PROTO_UDP => match udp::parse(l4, info.src, info.dst) {
            Ok(d) => {
                let _ = write!(
                    out,
                    "{}.{} > {}.{}: UDP, length {}",
                    info.src,
                    d.src_port,
                    info.dst,
                    d.dst_port,
                    d.payload.len()
                );
            }
            Err(why) => {
                let _ = write!(out, "{} > {}: [{why}]", info.src, info.dst);
            }
        },
        PROTO_ICMP => {
            let _ = write!(out, "{} > {}: ", info.src, info.dst);
            icmp_message(out, l4);
        }
        PROTO_IPIP => {
            let _ = write!(out, "{} > {}: ", info.src, info.dst);
            ip_datagram(out, l4);
        }
        PROTO_GRE => {
            let _ = write!(out, "{} > {}: ", info.src, info.dst);
            gre_packet(out, l4);
        }
        PROTO_VRRP => {
            let _ = write!(out, "{} > {}: ", info.src, info.dst);
            vrrp_advert(out, &info, l4);
        }
        igmp::PROTO_IGMP => {
            let _ = write!(out, "{} > {}: {}", info.src, info.dst, igmp::summary(l4));
        }
        proto => {
            let _ = write!(
                out,
                "{} > {}: ip-proto-{proto} {}",
                info.src,
                info.dst,
                l4.len()
            );
        }
    }
    if info.more_fragments {
        let _ = write!(out, " (frag {}:{}@0+)", info.id, info.payload_len());
    }
}

fn tcp_segment(out: &mut String, info: &ipv4::Ipv4Info, l4: &[u8]) {
    let seg = match tcp::parse(l4, info.src, info.dst) {
        Ok(seg) => seg,
        Err(why) => {
            let _ = write!(out, "{} > {}: [{why}]", info.src, info.dst);
            return;
        }
    };
    let r = seg.repr;
    let _ = write!(
        out,
        "{}.{} > {}.{}: Flags [{}]",
        info.src,
        r.src_port,
        info.dst,
        r.dst_port,
        tcp::flags_string(r.flags)
    );
    let len = seg.payload.len() as u32;
    if r.has(tcp::SYN) || r.has(tcp::FIN) || r.has(tcp::RST) || len > 0 {
        if len > 0 {
            let _ = write!(out, ", seq {}:{}", r.seq, r.seq.wrapping_add(len));
        } else {
            let _ = write!(out, ", seq {}", r.seq);
        }
    }
    if r.has(tcp::ACK) {
        let _ = write!(out, ", ack {}", r.ack);
    }
    let _ = write!(out, ", win {}", r.window);
    let doff = ((l4[12] >> 4) as usize * 4).clamp(20, l4.len());
    tcp_options(out, &l4[20..doff]);
    let _ = write!(out, ", length {len}");
    if len > 0
        && (r.src_port == 80 || r.dst_port == 80 || looks_like_http(seg.payload))
        && let Some(line) = first_line(seg.payload)
    {
        let _ = write!(out, ": HTTP: {line}");
    }
}

/// The options as tcpdump's `tcp_print` lists them, in wire order: `nop` included, unknown
/// kinds as `unknown-N 0x..`, the experimental kinds (FULLNAT's TOA is 254) as `exp-MAGIC`.
fn tcp_options(out: &mut String, options: &[u8]) {
    if options.is_empty() {
        return;
    }
    let mut parts: Vec<String> = Vec::new();
    let mut at = 0;
    while at < options.len() {
        match options[at] {
            0 => {
                parts.push("eol".into());
                break;
            }
            1 => {
                parts.push("nop".into());
                at += 1;
            }
            kind => {
                let len = options.get(at + 1).copied().unwrap_or(0) as usize;
                if len < 2 || at + len > options.len() {
                    parts.push("[bad opt]".into());
                    break;
                }
                parts.push(tcp_option(kind, &options[at + 2..at + len]));
                at += len;
            }
        }
    }
    let _ = write!(out, ", options [{}]", parts.join(","));
}

fn tcp_option(kind: u8, value: &[u8]) -> String {
    let be32 = |v: &[u8]| u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    match (kind, value.len()) {
        (2, 2) => format!("mss {}", u16::from_be_bytes([value[0], value[1]])),
        (3, 1) => format!("wscale {}", value[0]),
        (4, 0) => "sackOK".into(),
        (5, n) if n % 8 == 0 => {
            let blocks: String = value
                .chunks(8)
                .map(|b| format!("{{{}:{}}}", be32(&b[..4]), be32(&b[4..])))
                .collect();
            format!("sack {} {blocks}", n / 8)
        }
        (8, 8) => format!("TS val {} ecr {}", be32(value), be32(&value[4..])),
        (253 | 254, n) if n >= 2 => {
            format!("exp-{:04x}", u16::from_be_bytes([value[0], value[1]]))
        }
        _ => {
            let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
            let data = if hex.is_empty() {
                hex
            } else {
                format!(" 0x{hex}")
            };
            format!("unknown-{kind}{data}")
        }
    }
}

fn looks_like_http(payload: &[u8]) -> bool {
    payload.starts_with(b"HTTP/") || payload.starts_with(b"GET ") || payload.starts_with(b"HEAD ")
}

fn first_line(payload: &[u8]) -> Option<String> {
    let end = payload.iter().position(|&b| b == b'\r' || b == b'\n')?;
    std::str::from_utf8(&payload[..end]).ok().map(str::to_owned)
}

fn icmp_message(out: &mut String, l4: &[u8]) {
    let (message, rest) = match icmp::parse(l4) {
        Ok(parsed) => parsed,
        Err(why) => {
            let _ = write!(out, "[{why}]");
            return;
        }
    };
    let len = l4.len();
    match message {
        IcmpMessage::EchoRequest { id, seq } => {
            let _ = write!(out, "ICMP echo request, id {id}, seq {seq}, length {len}");
        }
        IcmpMessage::EchoReply { id, seq } => {
            let _ = write!(out, "ICMP echo reply, id {id}, seq {seq}, length {len}");
        }
        IcmpMessage::DestUnreachable { code, next_hop_mtu } => {
            let _ = write!(
                out,
                "ICMP {}, length {len}",
                unreachable_text(code, next_hop_mtu, rest)
            );
        }
        IcmpMessage::TimeExceeded { code } => {
            let what = if code == 0 {
                "in-transit"
            } else {
                "reassembly"
            };
            let _ = write!(out, "ICMP time exceeded {what}, length {len}");
        }
        IcmpMessage::Redirect { gateway, .. } => {
            let target = quoted_header(rest)
                .map(|q| q.dst.to_string())
                .unwrap_or_default();
            let _ = write!(
                out,
                "ICMP redirect {target} to host {gateway}, length {len}"
            );
        }
        IcmpMessage::Other { icmp_type, code } => {
            let _ = write!(out, "ICMP type-#{icmp_type} code {code}, length {len}");
        }
    }
}

fn quoted_header(rest: &[u8]) -> Option<ipv4::Ipv4Info> {
    // The quote may be cut short: parse only the header, with its length field clamped.
    if rest.len() < 20 {
        return None;
    }
    let mut header = rest[..20].to_vec();
    header[2..4].copy_from_slice(&20u16.to_be_bytes());
    header[10] = 0;
    header[11] = 0;
    let sum = ipv4::checksum(&header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut info = ipv4::parse(&header).ok()?;
    info.total_len = rest.len();
    Some(info)
}

fn unreachable_text(code: u8, mtu: u16, rest: &[u8]) -> String {
    let quoted = quoted_header(rest);
    let dst = quoted.map(|q| q.dst.to_string()).unwrap_or_default();
    match code {
        icmp::CODE_NET_UNREACH => format!("net {dst} unreachable"),
        icmp::CODE_HOST_UNREACH => format!("host {dst} unreachable"),
        icmp::CODE_PROTO_UNREACH => format!("{dst} protocol unreachable"),
        icmp::CODE_PORT_UNREACH => {
            let port_proto = quoted.and_then(|q| {
                let l4 = rest.get(q.header_len..q.header_len + 4)?;
                let dport = u16::from_be_bytes([l4[2], l4[3]]);
                let proto = match q.proto {
                    PROTO_TCP => "tcp",
                    PROTO_UDP => "udp",
                    _ => "ip",
                };
                Some(format!("{proto} port {dport}"))
            });
            format!("{dst} {} unreachable", port_proto.unwrap_or_default())
        }
        icmp::CODE_FRAG_NEEDED => format!("{dst} unreachable - need to frag (mtu {mtu})"),
        icmp::CODE_ADMIN_PROHIBITED => format!("host {dst} unreachable - admin prohibited filter"),
        other => format!("{dst} unreachable code {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::Ipv4Meta;
    use crate::wire::mac::MacAddr;
    use crate::wire::packet::Packet;

    fn eth(mut packet: Packet, src: &str, dst: &str) -> Vec<u8> {
        EthHeader {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            ethertype: ETHERTYPE_IPV4,
        }
        .prepend_to(&mut packet);
        packet.data().to_vec()
    }

    fn meta(proto: u8) -> Ipv4Meta {
        Ipv4Meta {
            src: "192.168.188.111".parse().unwrap(),
            dst: "192.168.188.107".parse().unwrap(),
            proto,
            ttl: 64,
            tos: 0,
            id: 1,
            dont_fragment: true,
        }
    }

    #[test]
    fn arp_request_reads_like_tcpdump() {
        let arp = ArpRepr::request(
            "00:0c:29:f3:1f:de".parse().unwrap(),
            "192.168.188.111".parse().unwrap(),
            "192.168.188.120".parse().unwrap(),
        );
        let bytes = arp.to_frame(arp.sha, MacAddr::BROADCAST);
        assert_eq!(
            frame(bytes.data()),
            "00:0c:29:f3:1f:de > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: \
             Request who-has 192.168.188.120 tell 192.168.188.111, length 28"
        );
    }

    #[test]
    fn icmp_echo_reads_like_tcpdump() {
        let packet = icmp::build(
            &meta(PROTO_ICMP),
            IcmpMessage::EchoRequest { id: 3, seq: 1 },
            &[0; 56],
        );
        let bytes = eth(packet, "00:0c:29:f3:1f:de", "00:0c:29:e4:4d:1f");
        assert_eq!(
            frame(&bytes),
            "00:0c:29:f3:1f:de > 00:0c:29:e4:4d:1f, ethertype IPv4 (0x0800), length 98: \
             192.168.188.111 > 192.168.188.107: ICMP echo request, id 3, seq 1, length 64"
        );
    }

    #[test]
    fn tcp_data_shows_flags_seq_ack_and_the_http_line() {
        let repr = tcp::TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1001,
            ack: 5001,
            flags: tcp::PSH | tcp::ACK,
            window: 502,
            options: tcp::TcpOptions::default(),
        };
        let packet = tcp::build(
            &meta(PROTO_TCP),
            &repr,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        let bytes = eth(packet, "00:0c:29:f3:1f:de", "00:0c:29:e4:4d:1f");
        let line = frame(&bytes);
        assert!(
            line.ends_with(
                "192.168.188.111.40000 > 192.168.188.107.80: Flags [P.], seq 1001:1028, ack 5001, \
             win 502, length 27: HTTP: GET / HTTP/1.1"
            ),
            "{line}"
        );
    }

    #[test]
    fn port_unreachable_names_the_quoted_port() {
        let quoted = crate::wire::udp::build(&meta(PROTO_UDP), 5000, 53, b"q");
        let reply = icmp::build(
            &meta(PROTO_ICMP),
            IcmpMessage::DestUnreachable {
                code: icmp::CODE_PORT_UNREACH,
                next_hop_mtu: 0,
            },
            quoted.data(),
        );
        let mut out = String::new();
        ip_datagram(&mut out, reply.data());
        assert!(
            out.contains("ICMP 192.168.188.107 udp port 53 unreachable"),
            "{out}"
        );
    }
}
