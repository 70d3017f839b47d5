//! Trace records: what the simulated network did and why.
//!
//! Nodes never print. They hand the tracer captures (a frame seen on an interface), notes
//! (the rule behind a decision), drops and warnings; the tracer batches the records of one
//! event and passes them to the output sinks (timeline, pcap, JSON, TUI). Keeping every
//! explanation in one stream is what lets each output say the same thing.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::rc::Rc;

use crate::diagnosis::DirectorMap;
use crate::sim::SimTime;
use crate::wire::arp::ArpRepr;

/// Index of a host in the world (declaration order in the scenario).
pub type HostId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

/// What a capture's bytes start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    /// An Ethernet frame (a NIC).
    #[default]
    Ethernet,
    /// A bare IPv4 datagram (`tunl0`, which has no link header).
    RawIp,
}

/// A frame as a capture on one interface saw it, with the explanations attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub t: SimTime,
    pub host: HostId,
    pub iface: Rc<str>,
    pub dir: Direction,
    pub link: Link,
    pub frame: Vec<u8>,
    pub notes: Vec<String>,
}

/// A diagnosis raised during the run (`arp-conflict`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub t: SimTime,
    pub kind: String,
    pub host: String,
    pub detail: String,
}

/// A packet a host discarded; `reason` starts with a stable token (`rp_filter`, `ttl`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropRecord {
    pub t: SimTime,
    pub host: String,
    pub dev: String,
    pub reason: String,
}

/// A program started on a host and how it fared (`apps[]` in the report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppReport {
    pub host: String,
    pub cmd: String,
    pub ok: u64,
    pub failed: u64,
    /// Which host served each successful HTTP request (from the page it returned).
    pub served_by: BTreeMap<String, u64>,
    pub finished: Option<SimTime>,
}

/// One entry of the trace stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Capture(Capture),
    /// An explanation not tied to a captured frame (a timer fired, a state changed).
    Note {
        t: SimTime,
        host: HostId,
        text: String,
    },
    /// A command line run on a host (`$ curl ...`).
    Command {
        t: SimTime,
        host: HostId,
        line: String,
    },
    /// A line a command printed.
    Output {
        t: SimTime,
        host: HostId,
        text: String,
    },
    Warning(Warning),
}

/// An output that consumes the trace stream.
pub trait Sink {
    fn record(&mut self, record: &Record, hosts: &[String]) -> io::Result<()>;
    /// Whether the sink reads command output and program lines (captures and notes always
    /// go to every sink). Formatting program output per packet is skipped when no one does.
    fn wants_output(&self) -> bool {
        true
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An ARP decision other than "the owner answers" (`arp_decisions[]` in the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpDecision {
    pub t: SimTime,
    pub host: String,
    pub dev: String,
    pub ip: Ipv4Addr,
    pub kind: &'static str,
    pub detail: String,
}

/// An ARP frame a host put on the wire, kept for expectations and diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpSent {
    pub t: SimTime,
    pub host: HostId,
    pub lan: usize,
    pub arp: ArpRepr,
}

/// The trace hub: batches records per event, feeds sinks, and keeps the facts the report and
/// the expectations need whatever outputs were asked for.
pub struct Tracer {
    sinks: Vec<Box<dyn Sink>>,
    output_wanted: bool,
    batch: Vec<Record>,
    current_capture: Option<usize>,
    hosts: Vec<String>,
    error: Option<io::Error>,
    pub warnings: Vec<Warning>,
    pub drops: Vec<DropRecord>,
    pub arp_sent: Vec<ArpSent>,
    pub arp_decisions: Vec<ArpDecision>,
    pub apps: Vec<AppReport>,
    /// Where the virtual services are, for the bypass diagnoses.
    pub directors: DirectorMap,
}

impl Tracer {
    pub fn new(hosts: Vec<String>) -> Tracer {
        Tracer {
            sinks: Vec::new(),
            output_wanted: false,
            batch: Vec::new(),
            current_capture: None,
            hosts,
            error: None,
            warnings: Vec::new(),
            drops: Vec::new(),
            arp_sent: Vec::new(),
            arp_decisions: Vec::new(),
            apps: Vec::new(),
            directors: DirectorMap::default(),
        }
    }

    pub fn add_sink(&mut self, sink: Box<dyn Sink>) {
        self.output_wanted |= sink.wants_output();
        self.sinks.push(sink);
    }

    /// Whether program output lines are read by any sink.
    pub fn wants_output(&self) -> bool {
        self.output_wanted
    }

    /// Whether anyone reads captures and explanations; when not, nodes skip building them.
    pub fn enabled(&self) -> bool {
        !self.sinks.is_empty()
    }

    pub fn host_name(&self, host: HostId) -> &str {
        &self.hosts[host]
    }

    /// Records a frame seen on an interface. An inbound capture becomes the "current" one:
    /// notes made while the host processes the frame attach to it.
    pub fn capture(&mut self, capture: Capture) {
        if !self.enabled() {
            return;
        }
        let inbound = capture.dir == Direction::In;
        self.batch.push(Record::Capture(capture));
        if inbound {
            self.current_capture = Some(self.batch.len() - 1);
        }
    }

    /// Ends the processing of the current inbound frame.
    pub fn end_capture(&mut self) {
        self.current_capture = None;
    }

    /// An explanation from `host` at `t`: attached to the frame being processed when there is
    /// one, standalone otherwise.
    pub fn note(&mut self, t: SimTime, host: HostId, text: String) {
        if !self.enabled() {
            return;
        }
        if let Some(Record::Capture(c)) = self.current_capture.and_then(|i| self.batch.get_mut(i))
            && c.host == host
        {
            c.notes.push(text);
            return;
        }
        self.batch.push(Record::Note { t, host, text });
    }

    /// A discarded packet: listed in the report and explained on the frame.
    pub fn drop_packet(&mut self, t: SimTime, host: HostId, dev: &str, reason: String) {
        let note = format!("dropped: {reason}");
        self.drops.push(DropRecord {
            t,
            host: self.hosts[host].clone(),
            dev: dev.to_owned(),
            reason,
        });
        self.note(t, host, note);
    }

    /// An ARP decision: listed in the report and explained on the frame.
    pub fn arp_decision(
        &mut self,
        t: SimTime,
        host: HostId,
        dev: &str,
        ip: Ipv4Addr,
        kind: &'static str,
        detail: String,
    ) {
        self.note(t, host, detail.clone());
        self.arp_decisions.push(ArpDecision {
            t,
            host: self.hosts[host].clone(),
            dev: dev.to_owned(),
            ip,
            kind,
            detail,
        });
    }

    pub fn warn(&mut self, t: SimTime, kind: &str, host: HostId, detail: String) {
        let warning = Warning {
            t,
            kind: kind.to_owned(),
            host: self.hosts[host].clone(),
            detail,
        };
        self.warnings.push(warning.clone());
        if self.enabled() {
            self.batch.push(Record::Warning(warning));
        }
    }

    pub fn command(&mut self, t: SimTime, host: HostId, line: String) {
        if self.output_wanted {
            self.batch.push(Record::Command { t, host, line });
        }
    }

    pub fn output(&mut self, t: SimTime, host: HostId, text: String) {
        if self.output_wanted {
            self.batch.push(Record::Output { t, host, text });
        }
    }

    /// Hands the records of the event just processed to the sinks. Inlined: it runs after
    /// every event, and most events leave no record (always so without sinks).
    #[inline]
    pub fn flush(&mut self) {
        self.current_capture = None;
        if !self.batch.is_empty() {
            self.hand_batch_to_sinks();
        }
    }

    fn hand_batch_to_sinks(&mut self) {
        for record in self.batch.drain(..) {
            for sink in &mut self.sinks {
                if let Err(e) = sink.record(&record, &self.hosts) {
                    self.error.get_or_insert(e);
                }
            }
        }
    }

    /// Flushes and closes every sink; reports the first write error of the run.
    pub fn finish(&mut self) -> io::Result<()> {
        self.flush();
        for sink in &mut self.sinks {
            sink.finish()?;
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Hosts that sent an ARP reply claiming `ip`, in order of first reply.
    pub fn arp_repliers(&self, ip: Ipv4Addr, until: SimTime) -> Vec<HostId> {
        let mut out = Vec::new();
        for sent in &self.arp_sent {
            if sent.t <= until
                && sent.arp.is_reply()
                && sent.arp.spa == ip
                && !out.contains(&sent.host)
            {
                out.push(sent.host);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    struct Collect(Rc<RefCell<Vec<Record>>>);

    impl Sink for Collect {
        fn record(&mut self, record: &Record, _: &[String]) -> io::Result<()> {
            self.0.borrow_mut().push(record.clone());
            Ok(())
        }
    }

    fn capture(host: HostId, dir: Direction) -> Capture {
        Capture {
            t: SimTime(5),
            host,
            iface: "eth0".into(),
            dir,
            link: Link::Ethernet,
            frame: vec![0; 60],
            notes: vec![],
        }
    }

    #[test]
    fn notes_attach_to_the_frame_being_processed() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut tracer = Tracer::new(vec!["client".into(), "rs1".into()]);
        tracer.add_sink(Box::new(Collect(seen.clone())));
        tracer.capture(capture(1, Direction::In));
        tracer.capture(capture(1, Direction::Out));
        tracer.note(SimTime(5), 1, "ignored: arp_ignore=1".into());
        tracer.end_capture();
        tracer.note(SimTime(5), 1, "timer".into());
        tracer.flush();
        let seen = seen.borrow();
        assert_eq!(seen.len(), 3);
        match &seen[0] {
            Record::Capture(c) => assert_eq!(c.notes, vec!["ignored: arp_ignore=1".to_string()]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(&seen[2], Record::Note { text, .. } if text == "timer"));
    }

    #[test]
    fn without_sinks_nothing_is_buffered_but_facts_are_kept() {
        let mut tracer = Tracer::new(vec!["h".into()]);
        tracer.capture(capture(0, Direction::In));
        tracer.drop_packet(SimTime(1), 0, "eth0", "ttl: expired".into());
        tracer.warn(SimTime(1), "arp-conflict", 0, "x".into());
        assert!(tracer.batch.is_empty());
        assert_eq!(tracer.drops.len(), 1);
        assert_eq!(tracer.warnings.len(), 1);
    }
}
