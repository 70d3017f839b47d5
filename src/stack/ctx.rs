//! The context a host works in while handling one event: the clock, the event queue, the
//! tracer, and the outbox of frames to put on the wire.

use crate::diagnosis::ArpClaim;
use crate::sim::world::Event;
use crate::sim::{EventQueue, SimTime};
use crate::stack::HostEvent;
use crate::stack::iface::IfIndex;
use crate::trace::{HostId, Tracer};
use crate::wire::Packet;

/// A frame a host hands to its NIC.
pub struct TxFrame {
    pub host: HostId,
    pub iface: IfIndex,
    pub frame: Packet,
    /// For ARP frames: why this host claims the sender address (for conflict diagnosis).
    /// Boxed: few frames carry one, and every frame is moved through the outbox.
    pub claim: Option<Box<ArpClaim>>,
}

pub struct Ctx<'a> {
    pub now: SimTime,
    pub host: HostId,
    pub queue: &'a mut EventQueue<Event>,
    pub trace: &'a mut Tracer,
    pub tx: &'a mut Vec<TxFrame>,
}

impl Ctx<'_> {
    /// Schedules an event for this host at `at`.
    pub fn at(&mut self, at: SimTime, event: HostEvent) {
        self.queue.schedule(at, Event::Host(self.host, event));
    }

    /// Schedules an event for this host `delay_ns` from now.
    pub fn after(&mut self, delay_ns: u64, event: HostEvent) {
        self.at(self.now + delay_ns, event);
    }

    /// Whether explanations are wanted (building them costs formatting time).
    pub fn explaining(&self) -> bool {
        self.trace.enabled()
    }

    pub fn note(&mut self, text: String) {
        self.trace.note(self.now, self.host, text);
    }

    pub fn drop_packet(&mut self, dev: &str, reason: String) {
        self.trace.drop_packet(self.now, self.host, dev, reason);
    }

    /// A line of command output in the timeline.
    pub fn output(&mut self, text: String) {
        self.trace.output(self.now, self.host, text);
    }
}

/// Adds an explanation when someone is listening: `explain!(ctx, "rs1 ignores ...")`.
#[macro_export]
macro_rules! explain {
    ($ctx:expr, $($arg:tt)*) => {
        if $ctx.explaining() {
            let text = format!($($arg)*);
            $ctx.note(text);
        }
    };
}
