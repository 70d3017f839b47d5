//! The event queue: events ordered by (time, insertion sequence).
//!
//! The sequence number makes simultaneous events run in the order they were scheduled, so a
//! run never depends on heap internals and the same scenario always replays identically.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::time::SimTime;

/// Bits of a heap key: time (64) | insertion sequence (40) | slab slot (24). One integer
/// compare orders by time then sequence, and the event itself waits in a slab, so the heap
/// moves 16 bytes, not the event.
const SLOT_BITS: u32 = 24;
const SEQ_BITS: u32 = 40;

fn key(at: SimTime, seq: u64, slot: u32) -> Reverse<u128> {
    Reverse(((at.ns() as u128) << 64) | ((seq as u128) << SLOT_BITS) | slot as u128)
}

/// A min-queue of timed events with FIFO order among equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `at`. Scheduling in the past is a logic error: it is clamped to
    /// `now` (and caught by a debug assertion) so time never runs backwards.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(
            at >= self.now,
            "event scheduled in the past: {at} < {}",
            self.now
        );
        let at = at.max(self.now);
        let seq = self.next_seq & ((1 << SEQ_BITS) - 1);
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                let slot = self.slots.len() - 1;
                assert!(slot < 1 << SLOT_BITS, "more than 2^24 events pending");
                slot as u32
            }
        };
        self.heap.push(key(at, seq, slot));
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(k)| SimTime((k >> 64) as u64))
    }

    /// Removes the next event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(k) = self.heap.pop()?;
        let at = SimTime((k >> 64) as u64);
        let slot = (k as u32) & ((1 << SLOT_BITS) - 1);
        self.now = at;
        let event = self.slots[slot as usize]
            .take()
            .expect("every key has its event");
        self.free.push(slot);
        Some((at, event))
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Moves the clock forward without an event (used to stop at exactly `until`).
    pub fn advance_to(&mut self, at: SimTime) {
        if at > self.now {
            self.now = at;
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_events_come_first() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(30), "c");
        q.schedule(SimTime(10), "a");
        q.schedule(SimTime(20), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn simultaneous_events_keep_insertion_order() {
        let mut q = EventQueue::default();
        for name in ["first", "second", "third"] {
            q.schedule(SimTime(5), name);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["first", "second", "third"]);
    }

    #[test]
    fn popping_advances_the_clock() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(42), ());
        assert_eq!(q.now(), SimTime::ZERO);
        q.pop();
        assert_eq!(q.now(), SimTime(42));
    }
}
