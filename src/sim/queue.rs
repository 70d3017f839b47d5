//! The event queue: events ordered by (time, insertion sequence).
//!
//! The sequence number makes simultaneous events run in the order they were scheduled, so a
//! run never depends on heap internals and the same scenario always replays identically.
//!
//! Two levels keep the heap small: events due within the current time slice (frames in flight,
//! near timers) wait in a binary heap; later ones (retransmission and TIME_WAIT timers, most of
//! which are cancelled long before they are due) wait unsorted in per-slice buckets and join
//! the heap only when their slice comes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::time::SimTime;

/// Bits of a heap key: time (64) | insertion sequence (40) | slab slot (24). One integer
/// compare orders by time then sequence, and the event itself waits in a slab, so the heap
/// moves 16 bytes, not the event.
const SLOT_BITS: u32 = 24;
const SEQ_BITS: u32 = 40;

fn key(at: SimTime, seq: u64, slot: u32) -> u128 {
    ((at.ns() as u128) << 64) | ((seq as u128) << SLOT_BITS) | slot as u128
}

/// A time slice is 2^24 ns (about 16.8 ms).
const SLICE_BITS: u32 = 24;

fn slice_of(key: u128) -> u64 {
    ((key >> 64) as u64) >> SLICE_BITS
}

/// A min-queue of timed events with FIFO order among equal times.
pub struct EventQueue<E> {
    /// Keys of the events due before `near_limit`.
    heap: BinaryHeap<Reverse<u128>>,
    /// Keys of the later events, by time slice.
    far: BTreeMap<u64, Vec<u128>>,
    far_len: usize,
    /// Events at or after this time are in `far`.
    near_limit: u64,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            far: BTreeMap::new(),
            far_len: 0,
            near_limit: 0,
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
        let k = key(at, seq, slot);
        if at.ns() < self.near_limit {
            self.heap.push(Reverse(k));
        } else {
            self.far.entry(slice_of(k)).or_default().push(k);
            self.far_len += 1;
        }
    }

    /// Moves the next time slice into the heap when the heap has run dry.
    fn refill(&mut self) {
        if !self.heap.is_empty() {
            return;
        }
        let Some((slice, keys)) = self.far.pop_first() else {
            return;
        };
        self.far_len -= keys.len();
        self.near_limit = (slice + 1) << SLICE_BITS;
        self.heap = BinaryHeap::from(keys.into_iter().map(Reverse).collect::<Vec<_>>());
    }

    /// Time of the next event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.refill();
        self.heap.peek().map(|Reverse(k)| SimTime((k >> 64) as u64))
    }

    /// Removes the next event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.refill();
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
        self.heap.len() + self.far_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Events far apart (other time slices) and interleaved scheduling keep the exact
    /// (time, sequence) order.
    #[test]
    fn far_events_keep_their_order_across_slices() {
        let mut q = EventQueue::default();
        let second = 1_000_000_000;
        q.schedule(SimTime(3 * second), "c1");
        q.schedule(SimTime(5), "a");
        q.schedule(SimTime(3 * second), "c2");
        q.schedule(SimTime(second), "b");
        assert_eq!(q.pop().map(|(_, e)| e), Some("a"));
        q.schedule(SimTime(2 * second), "b2");
        q.schedule(SimTime(6), "a2");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a2", "b", "b2", "c1", "c2"]);
        assert!(q.is_empty());
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
