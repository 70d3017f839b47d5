//! The event log: every trace record of the run, in order, tagged with the world event that
//! produced it, plus a compact classification of each (protocol, kind, host) so that colouring
//! and filtering a million lines never re-parses frames.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use crate::sim::SimTime;
use crate::trace::{Direction, HostId, Link, Record, Sink};
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use crate::wire::ipv4::{self, PROTO_GRE, PROTO_ICMP, PROTO_IPIP, PROTO_TCP, PROTO_UDP};
use crate::wire::{icmp, tcp};

/// VRRP's IP protocol number (keepalived's adverts).
const PROTO_VRRP: u8 = 112;

/// What a line of the event list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Frame(Direction),
    Note,
    Command,
    Output,
    Warning,
}

/// The protocol a frame carries, as Wireshark's colouring rules distinguish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    None,
    Arp,
    Tcp,
    Udp,
    Icmp,
    /// Destination unreachable, redirect, time exceeded.
    IcmpError,
    Vrrp,
    OtherIp,
}

/// The classification of one entry, computed once when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub kind: Kind,
    pub proto: Proto,
    /// The host the record belongs to (a warning: the host it names).
    pub host: Option<HostId>,
    /// A host discarded the frame (a `dropped:` note).
    pub dropped: bool,
    /// The frame is tunnelled (IPIP or GRE outer header).
    pub tunnel: bool,
    pub tcp_rst: bool,
    pub tcp_syn_or_fin: bool,
    pub http: bool,
}

/// One line of the event list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub record: Record,
    /// The world event (1-based count) whose processing produced the record; 0 for setup.
    pub event: u64,
    pub facts: Facts,
}

impl Entry {
    pub fn time(&self) -> SimTime {
        match &self.record {
            Record::Capture(c) => c.t,
            Record::Note { t, .. } | Record::Command { t, .. } | Record::Output { t, .. } => *t,
            Record::Warning(w) => w.t,
        }
    }
}

/// Every record of the run so far, and the host names.
#[derive(Debug, Default)]
pub struct Log {
    pub entries: Vec<Entry>,
    pub hosts: Vec<String>,
}

impl Log {
    pub fn new(hosts: Vec<String>) -> Log {
        Log {
            entries: Vec::new(),
            hosts,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn push(&mut self, record: Record, event: u64) {
        let facts = classify(&record, &self.hosts);
        self.entries.push(Entry {
            record,
            event,
            facts,
        });
    }

    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h == name)
    }
}

/// A sink that hands the records to the TUI (shared with the session, which tags them with
/// the event number after each step).
pub struct Feed(pub Rc<RefCell<Vec<Record>>>);

impl Sink for Feed {
    fn record(&mut self, record: &Record, _: &[String]) -> io::Result<()> {
        self.0.borrow_mut().push(record.clone());
        Ok(())
    }
}

fn classify(record: &Record, hosts: &[String]) -> Facts {
    let mut facts = Facts {
        kind: Kind::Note,
        proto: Proto::None,
        host: None,
        dropped: false,
        tunnel: false,
        tcp_rst: false,
        tcp_syn_or_fin: false,
        http: false,
    };
    match record {
        Record::Capture(c) => {
            facts.kind = Kind::Frame(c.dir);
            facts.host = Some(c.host);
            facts.dropped = c.notes.iter().any(|n| n.starts_with("dropped:"));
            classify_frame(&mut facts, c.link, &c.frame);
        }
        Record::Note { host, .. } => facts.host = Some(*host),
        Record::Command { host, .. } => {
            facts.kind = Kind::Command;
            facts.host = Some(*host);
        }
        Record::Output { host, .. } => {
            facts.kind = Kind::Output;
            facts.host = Some(*host);
        }
        Record::Warning(w) => {
            facts.kind = Kind::Warning;
            facts.host = hosts.iter().position(|h| *h == w.host);
        }
    }
    facts
}

fn classify_frame(facts: &mut Facts, link: Link, frame: &[u8]) {
    let ip = match link {
        Link::RawIp => frame,
        Link::Ethernet => {
            if frame.len() < ETH_HEADER_LEN {
                return;
            }
            match u16::from_be_bytes([frame[12], frame[13]]) {
                ETHERTYPE_ARP => {
                    facts.proto = Proto::Arp;
                    return;
                }
                ETHERTYPE_IPV4 => &frame[ETH_HEADER_LEN..],
                _ => return,
            }
        }
    };
    classify_ip(facts, ip);
}

fn classify_ip(facts: &mut Facts, data: &[u8]) {
    let Ok(info) = ipv4::parse(data) else {
        facts.proto = Proto::OtherIp;
        return;
    };
    let l4 = &data[info.header_len..info.total_len];
    facts.proto = match info.proto {
        PROTO_TCP => {
            if let Ok(seg) = tcp::parse(l4, info.src, info.dst) {
                let r = seg.repr;
                facts.tcp_rst = r.has(tcp::RST);
                facts.tcp_syn_or_fin = r.has(tcp::SYN) || r.has(tcp::FIN);
                facts.http = r.src_port == 80 || r.dst_port == 80;
            }
            Proto::Tcp
        }
        PROTO_UDP => Proto::Udp,
        PROTO_ICMP => match icmp::parse(l4) {
            Ok((message, _)) if message.is_error() => Proto::IcmpError,
            _ => Proto::Icmp,
        },
        PROTO_VRRP => Proto::Vrrp,
        PROTO_IPIP => {
            facts.tunnel = true;
            return classify_ip(facts, l4);
        }
        PROTO_GRE => {
            facts.tunnel = true;
            match crate::wire::gre::parse(l4) {
                Ok(g) if g.protocol == crate::wire::gre::PROTO_IPV4 => {
                    return classify_ip(facts, &l4[g.header_len..]);
                }
                _ => Proto::OtherIp,
            }
        }
        _ => Proto::OtherIp,
    };
}
