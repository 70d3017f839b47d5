//! What lblc and lblcr share (ipvs-schedulers.md §6.12–6.13, ip_vs_lblc.c, ip_vs_lblcr.c): a
//! table of entries keyed by the packet's destination address in 1024 hash chains, its
//! periodic garbage collection, and their common notion of an overloaded server.

use std::fmt::{self, Write};
use std::net::IpAddr;

use super::SchedView;
use super::common::{active, endpoint, listed};
use super::hash::{fold, hash_32};
use crate::lvs::service::Dest;

/// `IP_VS_LBLC_TAB_BITS` / `IP_VS_LBLCR_TAB_BITS`.
const TAB_BITS: u32 = 10;
const TAB_SIZE: usize = 1 << TAB_BITS;
/// Above this many entries a GC tick deletes entries unused for ENTRY_TIMEOUT.
const MAX_SIZE: usize = TAB_SIZE * 16;
const CHECK_EXPIRE_INTERVAL_NS: u64 = 60 * NS_PER_SEC;
const ENTRY_TIMEOUT_NS: u64 = 6 * 60 * NS_PER_SEC;
/// Every 30th tick (half an hour) that was not a partial sweep is a full expiration check.
const COUNT_FOR_FULL_EXPIRATION: u32 = 30;
const NS_PER_SEC: u64 = 1_000_000_000;

/// A sysctl in seconds as simulated nanoseconds.
pub(super) fn seconds_ns(seconds: u64) -> u64 {
    seconds.saturating_mul(NS_PER_SEC)
}

/// One destination address's entry: the server (lblc) or server set (lblcr) and its last use.
pub(super) struct Entry<T> {
    pub addr: IpAddr,
    pub lastuse_ns: u64,
    pub value: T,
}

/// The hash table with its GC state. The kernel adds entries at the head of their chain; the
/// order inside a chain never matters here because a sweep always finishes the chain it is in.
pub(super) struct LocalityTable<T> {
    chains: Vec<Vec<Entry<T>>>,
    entries: usize,
    rover: usize,
    counter: u32,
    next_gc_ns: u64,
}

impl<T> LocalityTable<T> {
    /// The init hook: an empty table and a GC timer 60 s after the service bound the scheduler.
    pub(super) fn new(now_ns: u64) -> LocalityTable<T> {
        LocalityTable {
            chains: (0..TAB_SIZE).map(|_| Vec::new()).collect(),
            entries: 0,
            rover: 0,
            counter: 1,
            next_gc_ns: now_ns.saturating_add(CHECK_EXPIRE_INTERVAL_NS),
        }
    }

    /// `hash_32(fold(daddr), 10)`.
    fn chain_of(addr: IpAddr) -> usize {
        hash_32(fold(addr), TAB_BITS) as usize
    }

    pub(super) fn get_mut(&mut self, addr: IpAddr) -> Option<&mut Entry<T>> {
        self.chains[Self::chain_of(addr)]
            .iter_mut()
            .find(|entry| entry.addr == addr)
    }

    /// A new entry for an address that has none.
    pub(super) fn insert(&mut self, addr: IpAddr, value: T, now_ns: u64) {
        self.chains[Self::chain_of(addr)].push(Entry {
            addr,
            lastuse_ns: now_ns,
            value,
        });
        self.entries += 1;
    }

    /// Whether any entry's value satisfies `f`.
    pub(super) fn any(&self, f: impl Fn(&T) -> bool) -> bool {
        self.chains.iter().flatten().any(|entry| f(&entry.value))
    }

    pub(super) fn next_gc_ns(&self) -> u64 {
        self.next_gc_ns
    }

    /// The GC timer (ip_vs_lblc_check_expire): every 30th quiet tick drops the entries unused for
    /// `expiration_ns` (the lblc/lblcr_expiration sysctl); a tick that finds the table over
    /// 16384 entries instead drops entries unused for 6 minutes, chain by chain from the rover,
    /// until it has removed 4/3 of the excess (at most 8192). Re-arms itself 60 s later.
    pub(super) fn collect_garbage(&mut self, now_ns: u64, expiration_ns: u64) {
        if self.counter.is_multiple_of(COUNT_FOR_FULL_EXPIRATION) {
            self.sweep(now_ns, expiration_ns, None);
            self.counter = 1;
        } else if self.entries <= MAX_SIZE {
            self.counter += 1;
        } else {
            let goal = ((self.entries - MAX_SIZE) * 4 / 3).min(MAX_SIZE / 2);
            self.sweep(now_ns, ENTRY_TIMEOUT_NS, Some(goal));
        }
        self.next_gc_ns = now_ns.saturating_add(CHECK_EXPIRE_INTERVAL_NS);
    }

    /// Walks the chains after the rover, deleting entries with `now >= lastuse + timeout`; with
    /// a goal, stops after the chain that reaches it and leaves the rover there.
    fn sweep(&mut self, now_ns: u64, timeout_ns: u64, goal: Option<usize>) {
        let mut removed = 0;
        let mut chain = self.rover;
        for _ in 0..TAB_SIZE {
            chain = (chain + 1) % TAB_SIZE;
            let entries = &mut self.chains[chain];
            let before = entries.len();
            entries.retain(|entry| now_ns < entry.lastuse_ns.saturating_add(timeout_ns));
            removed += before - entries.len();
            if goal.is_some_and(|goal| removed >= goal) {
                break;
            }
        }
        self.entries -= removed;
        self.rover = chain;
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
    }
}

/// The `is_overloaded` of ip_vs_lblc.c and ip_vs_lblcr.c, which is not the OVERLOAD flag: the
/// dest has more active connections than its weight while some dest of the service is below
/// half its weight. Returns that less loaded dest.
pub(super) fn overloaded_by<'a>(view: &SchedView<'a>, dest: &Dest) -> Option<&'a Dest> {
    if active(dest) <= dest.weight() {
        return None;
    }
    listed(view)
        .map(|(_, other)| other)
        .find(|other| active(other).wrapping_mul(2) < other.weight())
}

/// `active 6 > weight 5 while B has active×2 < weight (1×2 < 4)`.
pub(super) fn write_overloaded(out: &mut String, dest: &Dest, by: &Dest) -> fmt::Result {
    write!(
        out,
        "active {} > weight {} while {} has active×2 < weight ({}×2 < {})",
        active(dest),
        dest.weight(),
        endpoint(by),
        active(by),
        by.weight()
    )
}

/// `(active 3 ≤ weight 5)` or why a busier dest still counts as not overloaded.
pub(super) fn write_not_overloaded(out: &mut String, dest: &Dest) -> fmt::Result {
    if active(dest) <= dest.weight() {
        write!(out, "(active {} ≤ weight {})", active(dest), dest.weight())
    } else {
        write!(
            out,
            "(active {} > weight {}, but no destination has active×2 < weight)",
            active(dest),
            dest.weight()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn addr(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n))
    }

    fn filled(count: u32, lastuse_ns: u64) -> LocalityTable<()> {
        let mut table = LocalityTable::new(0);
        for n in 0..count {
            table.insert(addr(n), (), lastuse_ns);
        }
        table
    }

    // ipvs-schedulers.md §6.12 GC: the timer fires every 60 s from creation
    #[test]
    fn the_timer_runs_every_minute_from_creation() {
        let mut table: LocalityTable<()> = LocalityTable::new(seconds_ns(5));
        assert_eq!(table.next_gc_ns(), seconds_ns(65));
        table.collect_garbage(seconds_ns(65), seconds_ns(86_400));
        assert_eq!(table.next_gc_ns(), seconds_ns(125));
    }

    // ipvs-schedulers.md §6.12 GC: the 30th quiet tick is a full expiration check
    #[test]
    fn full_expiration_on_the_30th_tick() {
        let mut table = filled(3, 0);
        table.insert(addr(100), (), seconds_ns(1500));
        let expiration = seconds_ns(600);
        for tick in 1..30 {
            table.collect_garbage(seconds_ns(60 * tick), expiration);
            assert_eq!(table.len(), 4, "tick {tick}");
        }
        // tick 30 at 1800 s: entries used at 0 are past 0 + 600; the one used at 1500 is not
        table.collect_garbage(seconds_ns(1800), expiration);
        assert_eq!(table.len(), 1);
        assert!(table.get_mut(addr(100)).is_some());
    }

    // ipvs-schedulers.md §6.12 GC: over 16384 entries, a partial sweep of 6-minute-old entries
    #[test]
    fn an_overfull_table_is_swept_partially() {
        let mut table = filled(17_000, 0);
        let sizes: Vec<usize> = table.chains.iter().map(Vec::len).collect();
        // goal = (17000 - 16384) × 4 / 3 = 821: whole chains from chain 1 on until 821 are gone.
        table.collect_garbage(seconds_ns(360), seconds_ns(86_400));
        let rover = table.rover;
        let swept: usize = sizes[1..=rover].iter().sum();
        assert!(swept >= 821 && swept - sizes[rover] < 821, "rover {rover}");
        assert_eq!(table.len(), 17_000 - swept);
        assert!(table.chains[1..=rover].iter().all(Vec::is_empty));
        assert_eq!(table.chains[rover + 1].len(), sizes[rover + 1]);
        // the counter did not advance: the next quiet ticks still wait for 30
        assert_eq!(table.counter, 1);
    }

    // ipvs-schedulers.md §6.12 GC: entries younger than 6 minutes survive
    #[test]
    fn recently_used_entries_survive_a_partial_sweep() {
        let mut table = filled(17_000, seconds_ns(100));
        table.collect_garbage(seconds_ns(359), seconds_ns(86_400));
        assert_eq!(table.len(), 17_000);
    }
}
