//! lblc — locality-based least connection (ipvs-schedulers.md §6.12, ip_vs_lblc.c).

use std::fmt::{self, Write};
use std::net::IpAddr;

use super::common::{OVERHEAD, endpoint, explain, listed, lookup, weighted_least, write_wlc};
use super::locality::{
    LocalityTable, overloaded_by, seconds_ns, write_not_overloaded, write_overloaded,
};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// A cache from destination address to server, in front of wlc.
pub(super) struct LocalityLeastConnection {
    table: LocalityTable<DestId>,
}

/// What the cache said about the packet's destination address.
enum Cached<'a> {
    Missing,
    Valid(DestId, &'a Dest),
    Invalid(Stale<'a>),
}

/// Why a cached server is not used.
enum Stale<'a> {
    /// Its arena slot is gone altogether.
    Gone,
    Deleted(&'a Dest),
    Quiesced(&'a Dest),
    /// Overloaded in lblc's sense, because of the second dest.
    OverloadedBy(&'a Dest, &'a Dest),
}

/// The cache-hit test of ip_vs_lblc_schedule: AVAILABLE, weight > 0 and not overloaded in
/// lblc's sense. The threshold OVERLOAD flag is NOT tested here (§6.12 quirk).
fn judge<'a>(view: &SchedView<'a>, id: DestId) -> Cached<'a> {
    let Some(dest) = lookup(view, id) else {
        return Cached::Invalid(Stale::Gone);
    };
    if !dest.available {
        return Cached::Invalid(Stale::Deleted(dest));
    }
    if dest.weight() <= 0 {
        return Cached::Invalid(Stale::Quiesced(dest));
    }
    match overloaded_by(view, dest) {
        Some(by) => Cached::Invalid(Stale::OverloadedBy(dest, by)),
        None => Cached::Valid(id, dest),
    }
}

impl LocalityLeastConnection {
    pub(super) fn new(view: &SchedView) -> LocalityLeastConnection {
        LocalityLeastConnection {
            table: LocalityTable::new(view.now_ns),
        }
    }

    /// ip_vs_lblc_new: the address now maps to `dest`, used now (an entry for another dest is
    /// replaced).
    fn remember(&mut self, addr: IpAddr, dest: DestId, now_ns: u64) {
        match self.table.get_mut(addr) {
            Some(entry) => {
                entry.value = dest;
                entry.lastuse_ns = now_ns;
            }
            None => self.table.insert(addr, dest, now_ns),
        }
    }
}

impl Scheduler for LocalityLeastConnection {
    fn name(&self) -> &'static str {
        "lblc"
    }

    /// No list hooks: entries are only replaced on use or expired by the GC.
    fn references(&self, dest: DestId) -> bool {
        self.table.any(|&cached| cached == dest)
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let now = view.now_ns;
        let cached = match self.table.get_mut(packet.daddr) {
            Some(entry) => {
                entry.lastuse_ns = now;
                judge(view, entry.value)
            }
            None => Cached::Missing,
        };
        if let Cached::Valid(id, dest) = cached {
            explain(why, |out| {
                write!(out, "lblc: {} cached → {} ", packet.daddr, endpoint(dest))?;
                write_not_overloaded(out, dest)
            });
            return Some(id);
        }
        let least = weighted_least(listed(view), OVERHEAD);
        if let Some(least) = &least {
            self.remember(packet.daddr, least.id, now);
        }
        explain(why, |out| {
            write!(out, "lblc: {} ", packet.daddr)?;
            write_invalid(out, &cached)?;
            write_wlc(out, view, least.as_ref())
        });
        least.map(|least| least.id)
    }

    fn next_tick(&self) -> Option<u64> {
        Some(self.table.next_gc_ns())
    }

    fn tick(&mut self, view: &SchedView) {
        let expiration = seconds_ns(view.sysctl.lblc_expiration);
        self.table.collect_garbage(view.now_ns, expiration);
    }
}

/// `not cached; ` or `cached → B, weight 0; ` before the wlc fallback.
fn write_invalid(out: &mut String, cached: &Cached) -> fmt::Result {
    let Cached::Invalid(stale) = cached else {
        return out.write_str("not cached; ");
    };
    match stale {
        Stale::Gone => out.write_str("cached server is gone"),
        Stale::Deleted(dest) => write!(out, "cached → {}, deleted", endpoint(dest)),
        Stale::Quiesced(dest) => write!(out, "cached → {}, weight 0", endpoint(dest)),
        Stale::OverloadedBy(dest, by) => {
            write!(out, "cached → {}, ", endpoint(dest))?;
            write_overloaded(out, dest, by)
        }
    }?;
    out.write_str("; ")
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, secs, to};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("lblc", dests)
    }

    const AB: [(&str, i32); 2] = [("10.0.0.1:80", 4), ("10.0.0.2:80", 4)];

    // ipvs-schedulers.md §6.12: a miss uses wlc and caches the result
    #[test]
    fn a_destination_address_sticks_to_its_server() {
        let (mut svc, mut lblc) = service(&AB);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        svc.set_conns(svc.id("10.0.0.2:80"), 2, 0);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        // a new address goes to the least loaded
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.2")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.12 quirk: the cache hit ignores the OVERLOAD (threshold) flag
    #[test]
    fn a_cache_hit_ignores_overload() {
        let (mut svc, mut lblc) = service(&AB);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        let (pick, why) = svc.explain(lblc.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.2:80");
        assert_eq!(
            why,
            "lblc: 172.16.0.1 cached → 10.0.0.2:80 (active 0 ≤ weight 4)"
        );
        // …while the wlc fallback for a new address skips it
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.2")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.12 overloaded_lblc: active > weight AND someone below half weight
    #[test]
    fn leaves_a_server_above_its_weight_when_another_is_below_half() {
        let (mut svc, mut lblc) = service(&AB);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        let (a, b) = (svc.id("10.0.0.1:80"), svc.id("10.0.0.2:80"));
        svc.set_conns(b, 5, 0);
        svc.set_conns(a, 2, 0);
        // 10.0.0.1 has 2×2 = 4, not < 4: nobody below half → stay
        let (pick, why) = svc.explain(lblc.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.2:80");
        assert_eq!(
            why,
            "lblc: 172.16.0.1 cached → 10.0.0.2:80 (active 5 > weight 4, but no destination has active×2 < weight)"
        );
        svc.set_conns(a, 1, 0);
        let (pick, why) = svc.explain(lblc.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.1:80");
        assert_eq!(
            why,
            "lblc: 172.16.0.1 cached → 10.0.0.2:80, active 5 > weight 4 while 10.0.0.1:80 has \
             active×2 < weight (1×2 < 4); wlc: 10.0.0.1:80 overhead×weight 256×4 < 1280×4 of 10.0.0.2:80"
        );
        // the entry now points to the new server
        svc.set_conns(b, 0, 0);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.12: a quiesced cached server is replaced on next use
    #[test]
    fn weight_change_to_zero_replaces_the_entry() {
        let (mut svc, mut lblc) = service(&AB);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(lblc.as_mut(), b, 0);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
        svc.set_weight(lblc.as_mut(), b, 4);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.12: the wlc fallback skips weight 0
    #[test]
    fn skips_weight_zero() {
        let (svc, mut lblc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.12: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut lblc) = service(&[("10.0.0.1:80", 0)]);
        let (pick, why) = svc.explain(lblc.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "lblc: 172.16.0.1 not cached; wlc: no destination (all weight 0 or overloaded)"
        );
    }

    // ipvs-schedulers.md §6.12: the wlc fallback skips OVERLOAD; ties to the newest
    #[test]
    fn fallback_skips_overloaded_and_prefers_the_newest() {
        let (mut svc, mut lblc) =
            service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1), ("10.0.0.3:80", 1)]);
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.12 + §10.4: a deleted cached server is replaced; reviving it does not
    // bring the (replaced) entry back
    #[test]
    fn a_deleted_server_is_replaced_on_use() {
        let (mut svc, mut lblc) = service(&AB);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.9")), "10.0.0.2:80");
        let b = svc.id("10.0.0.2:80");
        svc.delete(lblc.as_mut(), b);
        let (pick, why) = svc.explain(lblc.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.1:80");
        assert!(why.starts_with("lblc: 172.16.0.1 cached → 10.0.0.2:80, deleted; wlc: "));
        // a stale entry that was not used meanwhile becomes valid again on revival
        svc.revive(lblc.as_mut(), b);
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.9")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.12 GC: entries idle for lblc_expiration go at the 30-minute check
    #[test]
    fn entries_expire_through_the_gc_timer() {
        let (mut svc, mut lblc) = service(&AB);
        svc.sysctl.lblc_expiration = 600;
        assert_eq!(lblc.next_tick(), Some(secs(60)));
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        svc.advance_to(secs(1799), lblc.as_mut());
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
        // used at 1799 s: still there at the 1800 s check, gone at the 3600 s one
        svc.advance_to(secs(3600), lblc.as_mut());
        assert_eq!(svc.pick(lblc.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }
}
