//! Following one packet through the log: the captures of the same packet on each hop (the
//! path pane) and, on a host that rewrote it, the inbound capture the outbound one came from
//! (the detail pane's before → after).
//!
//! A packet is recognised by what no hop changes: for ARP the whole message; for IPv4 the
//! innermost header's identification and protocol, with its source or destination kept
//! (DR and TUN keep both, NAT keeps one). FULLNAT rewrites both ends but keeps the
//! identification: on the host that rewrote it, the packet that came in and the one that went
//! out with the same identification and protocol are the same packet, and the trail follows it
//! on from there.

use std::net::Ipv4Addr;

use super::log::{Entry, Log};
use crate::trace::{Capture, Direction, Link, Record};
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use crate::wire::gre;
use crate::wire::ipv4::{self, PROTO_GRE, PROTO_IPIP};

/// How far (in log entries) the search for other captures of a packet looks.
const WINDOW: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Arp(ArpRepr),
    Ip(Datagram),
}

/// The innermost IPv4 header's fields that identify a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Datagram {
    id: u16,
    proto: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
}

impl Datagram {
    fn same_datagram(self, other: Datagram) -> bool {
        self.id == other.id && self.proto == other.proto
    }
}

impl Identity {
    /// Whether a host that received `self` may have sent it on as `out` with both ends
    /// rewritten (FULLNAT): same identification and protocol, new source and destination, and
    /// not an answer (which would go back to where `self` came from).
    fn rewritten_into(self, out: Identity) -> bool {
        match (self, out) {
            (Identity::Ip(a), Identity::Ip(b)) => {
                a.same_datagram(b)
                    && a.src != b.src
                    && a.dst != b.dst
                    && b.dst != a.src
                    && b.src != a.dst
            }
            _ => false,
        }
    }

    fn same_packet(self, other: Identity) -> bool {
        match (self, other) {
            (Identity::Arp(a), Identity::Arp(b)) => a == b,
            (Identity::Ip(a), Identity::Ip(b)) => {
                a.same_datagram(b) && (a.src == b.src || a.dst == b.dst)
            }
            _ => false,
        }
    }
}

fn capture(entry: &Entry) -> Option<&Capture> {
    match &entry.record {
        Record::Capture(c) => Some(c),
        _ => None,
    }
}

fn identity(c: &Capture) -> Option<Identity> {
    let ip = match c.link {
        Link::RawIp => &c.frame[..],
        Link::Ethernet => {
            let payload = c.frame.get(ETH_HEADER_LEN..)?;
            match u16::from_be_bytes([c.frame[12], c.frame[13]]) {
                ETHERTYPE_ARP => return ArpRepr::parse(payload).ok().map(Identity::Arp),
                ETHERTYPE_IPV4 => payload,
                _ => return None,
            }
        }
    };
    innermost(ip)
}

fn innermost(data: &[u8]) -> Option<Identity> {
    let info = ipv4::parse(data).ok()?;
    let l4 = &data[info.header_len..info.total_len];
    match info.proto {
        PROTO_IPIP => innermost(l4),
        PROTO_GRE => {
            let g = gre::parse(l4).ok()?;
            innermost(l4.get(g.header_len..)?)
        }
        proto => Some(Identity::Ip(Datagram {
            id: info.id,
            proto,
            src: info.src,
            dst: info.dst,
        })),
    }
}

/// The log indices of the captures of the packet at `index`, in order (empty if the entry
/// is not a capture).
pub fn hops(log: &Log, index: usize) -> Vec<usize> {
    let Some(me) = log.entries.get(index).and_then(capture).and_then(identity) else {
        return Vec::new();
    };
    let from = index.saturating_sub(WINDOW);
    let to = (index + WINDOW).min(log.len());
    let window: Vec<Option<(&Capture, Identity)>> = (from..to)
        .map(|i| capture(&log.entries[i]).and_then(|c| Some((c, identity(c)?))))
        .collect();
    let mut known = vec![me];
    while let Some(other) = rewritten_form(&window, &known) {
        known.push(other);
    }
    window
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_some_and(|(_, id)| known.iter().any(|k| k.same_packet(id))))
        .map(|(i, _)| from + i)
        .collect()
}

/// An identity of the packet not yet `known`: what a host that rewrote both ends (FULLNAT)
/// sent out for a known packet it received, or received for a known packet it sent.
fn rewritten_form(window: &[Option<(&Capture, Identity)>], known: &[Identity]) -> Option<Identity> {
    let is_known = |id: Identity| known.iter().any(|k| k.same_packet(id));
    let ins = window.iter().enumerate().filter_map(|(i, c)| match c {
        Some((c, id)) if c.dir == Direction::In => Some((i, c, *id)),
        _ => None,
    });
    for (i, inbound, id_in) in ins {
        let outs = window[i + 1..].iter().flatten().filter(|(c, id_out)| {
            c.host == inbound.host && c.dir == Direction::Out && id_in.rewritten_into(*id_out)
        });
        for &(_, id_out) in outs {
            match (is_known(id_in), is_known(id_out)) {
                (true, false) => return Some(id_out),
                (false, true) => return Some(id_in),
                _ => {}
            }
        }
    }
    None
}

/// For a frame a host sent after receiving it (forwarded, rewritten), the inbound capture
/// and the outbound one, in that order; None when the entry is not part of such a pair. The
/// nearest capture of the same packet is taken, else (FULLNAT) the nearest it was rewritten
/// from or into.
pub fn rewrite(log: &Log, index: usize) -> Option<(usize, usize)> {
    let me = log.entries.get(index).and_then(capture)?;
    let id = identity(me)?;
    let on_host = |dir: Direction, same: fn(Identity, Identity) -> bool| {
        move |&i: &usize| {
            capture(&log.entries[i]).is_some_and(|c| {
                c.host == me.host && c.dir == dir && identity(c).is_some_and(|o| same(o, id))
            })
        }
    };
    match me.dir {
        Direction::Out => {
            let before = || (index.saturating_sub(WINDOW)..index).rev();
            before()
                .find(on_host(Direction::In, Identity::same_packet))
                .or_else(|| before().find(on_host(Direction::In, |i, o| i.rewritten_into(o))))
                .map(|i| (i, index))
        }
        Direction::In => {
            let after = || index + 1..(index + WINDOW).min(log.len());
            after()
                .find(on_host(Direction::Out, Identity::same_packet))
                .or_else(|| after().find(on_host(Direction::Out, |o, i| i.rewritten_into(o))))
                .map(|i| (index, i))
        }
    }
}
