//! Following one packet through the log: the captures of the same packet on each hop (the
//! path pane) and, on a host that rewrote it, the inbound capture the outbound one came from
//! (the detail pane's before → after).
//!
//! A packet is recognised by what no hop changes: for ARP the whole message; for IPv4 the
//! innermost header's identification and protocol, with its source or destination kept
//! (DR and TUN keep both, NAT keeps one). FULLNAT rewrites both ends and is not followed.

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
    Ip {
        id: u16,
        proto: u8,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    },
}

impl Identity {
    fn same_packet(self, other: Identity) -> bool {
        match (self, other) {
            (Identity::Arp(a), Identity::Arp(b)) => a == b,
            (
                Identity::Ip {
                    id,
                    proto,
                    src,
                    dst,
                },
                Identity::Ip {
                    id: id2,
                    proto: proto2,
                    src: src2,
                    dst: dst2,
                },
            ) => id == id2 && proto == proto2 && (src == src2 || dst == dst2),
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
        proto => Some(Identity::Ip {
            id: info.id,
            proto,
            src: info.src,
            dst: info.dst,
        }),
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
    (from..to)
        .filter(|&i| {
            let other = capture(&log.entries[i]).and_then(identity);
            other.is_some_and(|o| o.same_packet(me))
        })
        .collect()
}

/// For a frame a host sent after receiving it (forwarded, rewritten), the inbound capture
/// and the outbound one, in that order; None when the entry is not part of such a pair.
pub fn rewrite(log: &Log, index: usize) -> Option<(usize, usize)> {
    let me = log.entries.get(index).and_then(capture)?;
    let id = identity(me)?;
    let same_host = |i: usize, dir: Direction| {
        capture(&log.entries[i]).is_some_and(|c| {
            c.host == me.host && c.dir == dir && identity(c).is_some_and(|o| o.same_packet(id))
        })
    };
    match me.dir {
        Direction::Out => (index.saturating_sub(WINDOW)..index)
            .rev()
            .find(|&i| same_host(i, Direction::In))
            .map(|i| (i, index)),
        Direction::In => (index + 1..(index + WINDOW).min(log.len()))
            .find(|&i| same_host(i, Direction::Out))
            .map(|i| (index, i)),
    }
}
