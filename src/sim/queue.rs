//! The event queue: events ordered by (time, insertion sequence).
//!
//! The sequence number makes simultaneous events run in the order they were scheduled, so a
//! run never depends on heap internals and the same scenario always replays identically.
//!
//! Three levels keep sorting cheap: events due in the current bucket (a few microseconds)
//! wait in a sorted run; later events of the current time slice wait unsorted in per-bucket
//! lists; events of later slices (retransmission and TIME_WAIT timers, most of which are
//! cancelled long before they are due) wait unsorted per slice. A list joins the level above
//! only when its time comes, so most events are sorted among a few dozen, not among
//! everything pending.
//!
//! Events are stored inline in those lists, not behind an index: with thousands of flows in
//! flight an event is popped long after it was scheduled, and reading it from a list that is
//! walked in order lets the CPU fetch it ahead, where a slot in a shared slab was a cache miss
//! on every pop.

use std::collections::{BTreeMap, VecDeque};

use super::time::SimTime;

/// A time slice is 2^24 ns (about 16.8 ms) ...
const SLICE_BITS: u32 = 24;
/// ... of 4096 buckets of 2^12 ns (about 4 µs).
const BUCKET_BITS: u32 = 12;
const BUCKETS: usize = 1 << (SLICE_BITS - BUCKET_BITS);

/// Events a drained bucket's list may keep room for.
const KEPT_BUCKET_CAPACITY: usize = 64;

/// An event with its place in the order: time first, then insertion sequence.
struct Entry<E> {
    at: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn order(&self) -> (u64, u64) {
        (self.at, self.seq)
    }

    fn slice(&self) -> u64 {
        self.at >> SLICE_BITS
    }

    fn bucket(&self) -> usize {
        (self.at >> BUCKET_BITS) as usize & (BUCKETS - 1)
    }
}

/// Sorts a bucket's events into (time, sequence) order. A bucket holds a few hundred events
/// of about 90 bytes when thousands of flows are in flight: their keys, packed into one
/// integer each, are sorted on their own and each event then moves once, not at every step of
/// a sort.
fn sort_entries<E>(entries: &mut [Entry<E>]) {
    const SMALL: usize = 32;
    let Some(keys) = (entries.len() > SMALL)
        .then(|| packed_keys(entries))
        .flatten()
    else {
        entries.sort_unstable_by_key(Entry::order);
        return;
    };
    let mut from: Vec<usize> = keys.into_iter().map(|k| k as u32 as usize).collect();
    // Position j takes the event at from[j]: follow each cycle of the permutation.
    for start in 0..from.len() {
        let mut j = start;
        while from[j] != usize::MAX {
            let k = std::mem::replace(&mut from[j], usize::MAX);
            if k == start {
                break;
            }
            entries.swap(j, k);
            j = k;
        }
    }
}

/// Each entry's order as one integer — time and sequence relative to the bucket's earliest,
/// then the entry's index — sorted; None when they do not fit (never within one 4 µs
/// bucket of a run of fewer than 2^52 events, but a caller may pass anything).
fn packed_keys<E>(entries: &[Entry<E>]) -> Option<Vec<u128>> {
    let at0 = entries.iter().map(|e| e.at).min()?;
    let seq0 = entries.iter().map(|e| e.seq).min()?;
    let fits = entries.len() <= u32::MAX as usize
        && entries
            .iter()
            .all(|e| e.at - at0 < 1 << 44 && e.seq - seq0 < 1 << 52);
    if !fits {
        return None;
    }
    let mut keys: Vec<u128> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (u128::from(e.at - at0) << 84) | (u128::from(e.seq - seq0) << 32) | i as u128)
        .collect();
    keys.sort_unstable();
    Some(keys)
}

/// A min-queue of timed events with FIFO order among equal times.
pub struct EventQueue<E> {
    /// The events due before `bucket_end`, in order.
    current: VecDeque<Entry<E>>,
    bucket_end: u64,
    /// The later events of the current slice, by bucket; `occupied` has a bit per non-empty
    /// bucket, and buckets before `next_bucket` are empty.
    buckets: Vec<Vec<Entry<E>>>,
    occupied: [u64; BUCKETS / 64],
    next_bucket: usize,
    near_len: usize,
    /// Start of the current slice; events at or after `slice_start + 2^SLICE_BITS` are in
    /// `far`, by slice.
    slice_start: u64,
    far: BTreeMap<u64, Vec<Entry<E>>>,
    far_len: usize,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            current: VecDeque::new(),
            bucket_end: 0,
            buckets: std::iter::repeat_with(Vec::new).take(BUCKETS).collect(),
            occupied: [0; BUCKETS / 64],
            next_bucket: 0,
            near_len: 0,
            slice_start: 0,
            far: BTreeMap::new(),
            far_len: 0,
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
        let entry = Entry {
            at: at.max(self.now).ns(),
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        if entry.at < self.bucket_end {
            // Later than everything due at an earlier time or scheduled before it: usually
            // near the back of the run.
            let place = self.current.partition_point(|e| e.order() < entry.order());
            self.current.insert(place, entry);
        } else if entry.slice() == self.slice_start >> SLICE_BITS {
            self.put_in_bucket(entry);
        } else {
            self.far.entry(entry.slice()).or_default().push(entry);
            self.far_len += 1;
        }
    }

    fn put_in_bucket(&mut self, entry: Entry<E>) {
        let b = entry.bucket();
        self.buckets[b].push(entry);
        self.occupied[b / 64] |= 1 << (b % 64);
        self.near_len += 1;
    }

    /// The first non-empty bucket at or after `next_bucket`.
    fn first_occupied(&self) -> Option<usize> {
        let from = self.next_bucket;
        if from >= BUCKETS {
            return None;
        }
        let first_word = self.occupied[from / 64] & (!0u64 << (from % 64));
        if first_word != 0 {
            return Some(from / 64 * 64 + first_word.trailing_zeros() as usize);
        }
        (from / 64 + 1..BUCKETS / 64)
            .find(|&w| self.occupied[w] != 0)
            .map(|w| w * 64 + self.occupied[w].trailing_zeros() as usize)
    }

    /// When the current run is done: the next bucket of the slice is sorted into the run, or,
    /// when the slice is done, the next slice is spread over the buckets.
    fn refill(&mut self) {
        while self.current.is_empty() {
            if let Some(b) = self.first_occupied() {
                self.occupied[b / 64] &= !(1 << (b % 64));
                self.next_bucket = b + 1;
                self.bucket_end = self.slice_start + ((b as u64 + 1) << BUCKET_BITS);
                let mut due = std::mem::take(&mut self.buckets[b]);
                self.near_len -= due.len();
                sort_entries(&mut due);
                // The bucket's list becomes the run and the drained run's allocation serves
                // the bucket next time; one that held a burst is given back, or 4096 buckets
                // would each hold their largest burst forever.
                let spare = Vec::from(std::mem::replace(&mut self.current, due.into()));
                if spare.capacity() <= KEPT_BUCKET_CAPACITY {
                    self.buckets[b] = spare;
                }
                return;
            }
            let Some((slice, entries)) = self.far.pop_first() else {
                return;
            };
            self.far_len -= entries.len();
            self.slice_start = slice << SLICE_BITS;
            self.bucket_end = self.slice_start;
            self.next_bucket = 0;
            for entry in entries {
                self.put_in_bucket(entry);
            }
        }
    }

    /// Time of the next event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.refill();
        self.current.front().map(|e| SimTime(e.at))
    }

    /// Removes the next event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.refill();
        let entry = self.current.pop_front()?;
        let at = SimTime(entry.at);
        self.now = at;
        Some((at, entry.event))
    }

    /// The `n`th event `pop` will return (0 = next), if it is already sorted into the current
    /// run: a hint for prefetching (None says nothing about the queue).
    pub fn peek_sorted(&self, n: usize) -> Option<&E> {
        self.current.get(n).map(|e| &e.event)
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
        self.current.len() + self.near_len + self.far_len
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

    /// Random interleavings of scheduling (from nanoseconds to seconds ahead, often at the
    /// same instant) and popping give exactly the (time, insertion) order of a plain sorted
    /// map, across buckets and slices.
    #[test]
    fn random_workloads_match_a_sorted_reference() {
        let mut q = EventQueue::default();
        let mut reference = BTreeMap::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let offsets = [
            0,
            1,
            100,
            4_096,
            5_000,
            20_000,
            1 << 24,
            3 << 24,
            1_000_000_000,
        ];
        for id in 0..20_000u64 {
            if next() % 7 == 0 {
                // As World::run stops at `until`: the clock moves, no event is due yet.
                let until = q.now().ns() + offsets[next() as usize % offsets.len()];
                if q.peek_time().is_none_or(|t| t.ns() > until) {
                    q.advance_to(SimTime(until));
                }
            }
            if next() % 3 == 0 {
                let popped = q.pop().map(|(t, e)| (t.ns(), e));
                let expected = reference.pop_first().map(|((t, _), e)| (t, e));
                assert_eq!(popped, expected);
            }
            let ahead = offsets[next() as usize % offsets.len()] + next() % 3;
            let at = q.now().ns() + ahead;
            q.schedule(SimTime(at), id);
            reference.insert((at, id), id);
        }
        while let Some((t, e)) = q.pop() {
            assert_eq!(reference.pop_first(), Some(((t.ns(), e), e)));
        }
        assert!(reference.is_empty() && q.is_empty());
    }

    /// A bucket too big for the small sort (a burst of hundreds of events) comes out in
    /// (time, sequence) order with every event once.
    #[test]
    fn large_buckets_sort_by_time_then_sequence() {
        let mut state = 7u64;
        let mut entries: Vec<Entry<u64>> = (0..500u64)
            .map(|seq| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Entry {
                    at: (state >> 33) % 50,
                    seq,
                    event: seq,
                }
            })
            .collect();
        let mut expected: Vec<(u64, u64)> = entries.iter().map(Entry::order).collect();
        expected.sort_unstable();
        sort_entries(&mut entries);
        let got: Vec<(u64, u64)> = entries.iter().map(Entry::order).collect();
        assert_eq!(got, expected);
        assert!(entries.iter().all(|e| e.event == e.seq));
    }

    /// Times too far apart to pack into one key (not within a bucket) still sort right.
    #[test]
    fn entries_too_far_apart_for_packed_keys_still_sort() {
        let mut entries: Vec<Entry<u64>> = (0..100u64)
            .map(|seq| Entry {
                at: (seq * 7919 % 100) << 50,
                seq,
                event: seq,
            })
            .collect();
        assert!(packed_keys(&entries).is_none());
        let mut expected: Vec<(u64, u64)> = entries.iter().map(Entry::order).collect();
        expected.sort_unstable();
        sort_entries(&mut entries);
        let got: Vec<(u64, u64)> = entries.iter().map(Entry::order).collect();
        assert_eq!(got, expected);
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
