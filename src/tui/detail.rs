//! The frame detail tree, decoded from the captured bytes (what went on the wire), and the
//! before → after comparison of a frame a node rewrote.
//!
//! Layers are keyed from the innermost outwards (`ip0` is the innermost IPv4 header), so when
//! a tunnel wraps a packet the original header still lines up with itself and the new outer
//! header shows as added.

use std::collections::HashMap;
use std::fmt::Write;

use crate::trace::Link;
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthHeader};
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{self, PROTO_GRE, PROTO_ICMP, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use crate::wire::{gre, summary, tcp, udp};

/// One protocol header of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// `eth`, `arp`, `ip`, `gre`, `udp`, `tcp`, `icmp`.
    pub kind: &'static str,
    pub title: String,
    pub fields: Vec<(String, String)>,
}

/// A field as shown: its value, and the value before the rewrite when it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownField {
    pub label: String,
    pub value: String,
    pub before: Option<String>,
}

/// A layer as shown; `added` when the rewrite created it (a tunnel's outer header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownLayer {
    pub title: String,
    pub added: bool,
    pub fields: Vec<ShownField>,
}

/// Decodes a capture into its layers, outermost first.
pub fn decode(link: Link, frame: &[u8]) -> Vec<Layer> {
    let mut layers = Vec::new();
    match link {
        Link::RawIp => ip_layers(&mut layers, frame),
        Link::Ethernet => ethernet(&mut layers, frame),
    }
    layers
}

/// The layers of `after`, each field compared with the same field of `before` (None: the
/// frame was not rewritten and nothing is compared).
pub fn compare(after: &[Layer], before: Option<&[Layer]>) -> Vec<ShownLayer> {
    let old: HashMap<(String, &str), &str> = before
        .map(|b| {
            keyed(b)
                .flat_map(|(key, layer)| {
                    layer
                        .fields
                        .iter()
                        .map(move |(l, v)| ((key.clone(), l.as_str()), v.as_str()))
                })
                .collect()
        })
        .unwrap_or_default();
    let old_layers: Vec<String> = before
        .map(|b| keyed(b).map(|(k, _)| k).collect())
        .unwrap_or_default();
    keyed(after)
        .map(|(key, layer)| ShownLayer {
            title: layer.title.clone(),
            added: before.is_some() && !old_layers.contains(&key),
            fields: layer
                .fields
                .iter()
                .map(|(label, value)| ShownField {
                    label: label.clone(),
                    value: value.clone(),
                    before: old
                        .get(&(key.clone(), label.as_str()))
                        .filter(|v| **v != value)
                        .map(|v| (*v).to_owned()),
                })
                .collect(),
        })
        .collect()
}

/// Each layer with its key: kind and position counted from the innermost of that kind.
fn keyed(layers: &[Layer]) -> impl Iterator<Item = (String, &Layer)> {
    layers.iter().enumerate().map(|(i, layer)| {
        let inner = layers[i + 1..]
            .iter()
            .filter(|l| l.kind == layer.kind)
            .count();
        (format!("{}{inner}", layer.kind), layer)
    })
}

fn layer(kind: &'static str, title: String) -> Layer {
    Layer {
        kind,
        title,
        fields: Vec::new(),
    }
}

impl Layer {
    fn field(&mut self, label: &str, value: impl ToString) {
        self.fields.push((label.to_owned(), value.to_string()));
    }
}

fn ethernet(layers: &mut Vec<Layer>, frame: &[u8]) {
    let Some(eth) = EthHeader::parse(frame) else {
        layers.push(layer(
            "eth",
            format!("Truncated frame ({} bytes)", frame.len()),
        ));
        return;
    };
    let mut l = layer("eth", format!("Ethernet II, {} bytes", frame.len()));
    l.field("Destination", eth.dst);
    l.field("Source", eth.src);
    let payload = &frame[ETH_HEADER_LEN..];
    match eth.ethertype {
        ETHERTYPE_ARP => {
            l.field("Type", "ARP (0x0806)");
            layers.push(l);
            arp(layers, payload);
        }
        ETHERTYPE_IPV4 => {
            l.field("Type", "IPv4 (0x0800)");
            layers.push(l);
            ip_layers(layers, payload);
        }
        other => {
            l.field("Type", format!("0x{other:04x}"));
            layers.push(l);
        }
    }
}

fn arp(layers: &mut Vec<Layer>, payload: &[u8]) {
    let Ok(a) = ArpRepr::parse(payload) else {
        layers.push(layer("arp", "ARP (malformed)".into()));
        return;
    };
    let mut l = layer("arp", format!("ARP: {a}"));
    let op = if a.is_request() {
        "request (1)"
    } else if a.is_reply() {
        "reply (2)"
    } else {
        "other"
    };
    l.field("Opcode", op);
    l.field("Sender MAC", a.sha);
    l.field("Sender IP", a.spa);
    l.field("Target MAC", a.tha);
    l.field("Target IP", a.tpa);
    layers.push(l);
}

fn ip_layers(layers: &mut Vec<Layer>, data: &[u8]) {
    let info = match ipv4::parse(data) {
        Ok(info) => info,
        Err(why) => {
            layers.push(layer("ip", format!("IPv4 [{why}]")));
            return;
        }
    };
    let mut l = layer("ip", format!("IPv4, {} > {}", info.src, info.dst));
    l.field("Source", info.src);
    l.field("Destination", info.dst);
    l.field("TTL", info.ttl);
    l.field("Protocol", proto_name(info.proto));
    l.field("Identification", format!("0x{:04x} ({})", info.id, info.id));
    l.field("Flags", ip_flags(info.dont_fragment, info.more_fragments));
    l.field("Total length", info.total_len);
    l.field(
        "Header checksum",
        format!("0x{:02x}{:02x}", data[10], data[11]),
    );
    layers.push(l);
    let l4 = &data[info.header_len..info.total_len];
    if info.frag_offset != 0 {
        return;
    }
    match info.proto {
        PROTO_TCP => tcp_layer(layers, &info, l4),
        PROTO_UDP => udp_layer(layers, &info, l4),
        PROTO_ICMP => icmp_layer(layers, l4),
        PROTO_IPIP => ip_layers(layers, l4),
        PROTO_GRE => gre_layer(layers, l4),
        _ => {}
    }
}

fn proto_name(proto: u8) -> String {
    let name = match proto {
        PROTO_ICMP => "ICMP",
        PROTO_IPIP => "IPIP",
        PROTO_TCP => "TCP",
        PROTO_UDP => "UDP",
        PROTO_GRE => "GRE",
        112 => "VRRP",
        _ => "other",
    };
    format!("{name} ({proto})")
}

fn ip_flags(df: bool, mf: bool) -> String {
    match (df, mf) {
        (true, true) => "DF, MF",
        (true, false) => "DF (don't fragment)",
        (false, true) => "MF (more fragments)",
        (false, false) => "none",
    }
    .to_owned()
}

fn gre_layer(layers: &mut Vec<Layer>, data: &[u8]) {
    let Ok(g) = gre::parse(data) else {
        layers.push(layer("gre", "GRE (truncated)".into()));
        return;
    };
    let mut l = layer("gre", format!("GRE version {}", g.version));
    l.field("Protocol", format!("0x{:04x}", g.protocol));
    l.field("Checksum present", g.has_checksum());
    layers.push(l);
    if g.protocol == gre::PROTO_IPV4 {
        ip_layers(layers, &data[g.header_len..]);
    }
}

fn udp_layer(layers: &mut Vec<Layer>, info: &ipv4::Ipv4Info, l4: &[u8]) {
    match udp::parse(l4, info.src, info.dst) {
        Ok(d) => {
            let mut l = layer("udp", format!("UDP, {} > {}", d.src_port, d.dst_port));
            l.field("Source port", d.src_port);
            l.field("Destination port", d.dst_port);
            l.field("Payload length", d.payload.len());
            layers.push(l);
        }
        Err(why) => layers.push(layer("udp", format!("UDP [{why}]"))),
    }
}

fn tcp_layer(layers: &mut Vec<Layer>, info: &ipv4::Ipv4Info, l4: &[u8]) {
    let seg = match tcp::parse(l4, info.src, info.dst) {
        Ok(seg) => seg,
        Err(why) => {
            layers.push(layer("tcp", format!("TCP [{why}]")));
            return;
        }
    };
    let r = seg.repr;
    let flags = tcp::flags_string(r.flags);
    let mut l = layer(
        "tcp",
        format!("TCP, {} > {} [{flags}]", r.src_port, r.dst_port),
    );
    l.field("Source port", r.src_port);
    l.field("Destination port", r.dst_port);
    l.field("Sequence number", r.seq);
    if r.has(tcp::ACK) {
        l.field("Acknowledgment", r.ack);
    }
    l.field("Flags", format!("[{flags}] {}", flag_names(r.flags)));
    l.field("Window", r.window);
    let doff = ((l4[12] >> 4) as usize * 4).clamp(20, l4.len());
    tcp::walk_options(&l4[20..doff], |kind, value, _| {
        let (label, text) = tcp_option(kind, value);
        l.field(&label, text);
    });
    l.field("Payload length", seg.payload.len());
    if let Some(line) = first_line(seg.payload) {
        l.field("Payload", line);
    }
    layers.push(l);
}

fn flag_names(flags: u8) -> String {
    [
        (tcp::SYN, "SYN"),
        (tcp::ACK, "ACK"),
        (tcp::FIN, "FIN"),
        (tcp::RST, "RST"),
        (tcp::PSH, "PSH"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(" ")
}

fn tcp_option(kind: u8, value: &[u8]) -> (String, String) {
    let be32 = |v: &[u8]| u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    match (kind, value.len()) {
        (2, 2) => (
            "Option MSS".into(),
            u16::from_be_bytes([value[0], value[1]]).to_string(),
        ),
        (3, 1) => ("Option window scale".into(), value[0].to_string()),
        (4, 0) => ("Option SACK permitted".into(), "yes".into()),
        (8, 8) => (
            "Option timestamps".into(),
            format!("val {} ecr {}", be32(value), be32(&value[4..])),
        ),
        (254, _) => ("Option TOA (client address)".into(), hex(value)),
        _ => (format!("Option kind {kind}"), hex(value)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn first_line(payload: &[u8]) -> Option<String> {
    let end = payload.iter().position(|&b| b == b'\r' || b == b'\n')?;
    std::str::from_utf8(&payload[..end]).ok().map(str::to_owned)
}

fn icmp_layer(layers: &mut Vec<Layer>, l4: &[u8]) {
    let (message, rest) = match icmp::parse(l4) {
        Ok(parsed) => parsed,
        Err(why) => {
            layers.push(layer("icmp", format!("ICMP [{why}]")));
            return;
        }
    };
    let mut l = layer("icmp", "ICMP".into());
    match message {
        IcmpMessage::EchoRequest { id, seq } | IcmpMessage::EchoReply { id, seq } => {
            let what = if matches!(message, IcmpMessage::EchoRequest { .. }) {
                "echo request (8)"
            } else {
                "echo reply (0)"
            };
            l.field("Type", what);
            l.field("Identifier", id);
            l.field("Sequence", seq);
        }
        _ => {
            l.field("Type", format!("{} (code {})", l4[0], l4[1]));
            let mut quoted = String::new();
            summary::ip_datagram(&mut quoted, rest);
            l.field("Quoted datagram", quoted);
        }
    }
    layers.push(l);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arp_layer(target: &str) -> Layer {
        Layer {
            kind: "arp",
            title: "ARP".into(),
            fields: vec![("Target IP".into(), target.into())],
        }
    }

    #[test]
    fn a_changed_field_keeps_its_old_value_and_a_new_outer_layer_is_marked_added() {
        let before = vec![arp_layer("10.0.0.1")];
        let after = vec![
            Layer {
                kind: "arp",
                title: "outer".into(),
                fields: vec![],
            },
            arp_layer("10.0.0.2"),
        ];
        let shown = compare(&after, Some(&before));
        assert!(shown[0].added, "the outer layer is new");
        assert!(!shown[1].added, "the inner one lines up with the original");
        assert_eq!(shown[1].fields[0].before.as_deref(), Some("10.0.0.1"));
        let unchanged = compare(&before, Some(&before));
        assert_eq!(unchanged[0].fields[0].before, None);
    }
}
