//! lblcr — locality-based least connection with replication (ipvs-schedulers.md §6.13,
//! ip_vs_lblcr.c).

use std::cmp::Ordering;
use std::fmt::{self, Write};

use super::common::{
    Least, OVERHEAD, compare_load, endpoint, explain, listed, lookup, weighted_least, write_least,
    write_wlc,
};
use super::locality::{LocalityTable, overloaded_by, seconds_ns, write_overloaded};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// Per destination address, a set of servers in front of wlc.
pub(super) struct LocalityReplication {
    table: LocalityTable<DestSet>,
}

/// `struct ip_vs_dest_set`: members newest first, and when the set last changed.
struct DestSet {
    members: Vec<DestId>,
    lastmod_ns: u64,
}

/// How a scheduling call went, for the explanation.
struct Outcome<'a> {
    /// The set's least loaded member and, if it was refused, why.
    set_pick: Option<(Least<'a>, Option<&'a Dest>)>,
    /// The member the shrink rule removed.
    dropped: Option<DestId>,
    /// The wlc fallback's choice, and whether it joined the set.
    fallback: Option<(Option<Least<'a>>, bool)>,
}

impl DestSet {
    fn new(first: DestId, now_ns: u64) -> DestSet {
        DestSet {
            members: vec![first],
            lastmod_ns: now_ns,
        }
    }

    fn members<'a, 's>(
        &'s self,
        view: &SchedView<'a>,
    ) -> impl Iterator<Item = (DestId, &'a Dest)> + use<'a, 's> {
        let dests = view.dests;
        self.members
            .iter()
            .filter_map(move |&id| dests.get(id.0 as usize).map(|dest| (id, dest)))
    }

    /// ip_vs_dest_set_min: the wlc loop over the AVAILABLE members, in set order, so ties go
    /// to the member that joined most recently.
    fn least<'a>(&self, view: &SchedView<'a>) -> Option<Least<'a>> {
        weighted_least(
            self.members(view).filter(|(_, dest)| dest.available),
            OVERHEAD,
        )
    }

    /// ip_vs_dest_set_max: the most loaded member per weight, among members with weight > 0;
    /// neither OVERLOAD nor AVAILABLE is looked at.
    fn most_loaded(&self, view: &SchedView) -> Option<DestId> {
        let mut weighted = self
            .members(view)
            .filter(|(_, dest)| dest.weight() > 0)
            .map(|member| Least::of(member, OVERHEAD));
        let first = weighted.next()?;
        let most = weighted.fold(first, |most, member| match compare_load(&most, &member) {
            Ordering::Less => member,
            _ => most,
        });
        Some(most.id)
    }

    /// Once the set has more than one member and has not changed for `expiration`, each use
    /// removes its most loaded member (at most one per expiration period).
    fn shrink(&mut self, view: &SchedView, now_ns: u64, expiration_ns: u64) -> Option<DestId> {
        let stale = now_ns > self.lastmod_ns.saturating_add(expiration_ns);
        if self.members.len() <= 1 || !stale {
            return None;
        }
        let most = self.most_loaded(view)?;
        self.members.retain(|&member| member != most);
        self.lastmod_ns = now_ns;
        Some(most)
    }

    /// ip_vs_dest_set_insert with check: a new member goes to the front; true if it was new.
    fn join(&mut self, id: DestId, now_ns: u64) -> bool {
        if self.members.contains(&id) {
            return false;
        }
        self.members.insert(0, id);
        self.lastmod_ns = now_ns;
        true
    }
}

impl LocalityReplication {
    pub(super) fn new(view: &SchedView) -> LocalityReplication {
        LocalityReplication {
            table: LocalityTable::new(view.now_ns),
        }
    }
}

/// The cache-hit path of ip_vs_lblcr_schedule: the set's least loaded member unless it is
/// overloaded in lblc's sense (the set is shrunk first, and the member is still returned even
/// if the shrink just removed it); otherwise wlc over the service, joining the set.
fn schedule_from_set<'a>(
    view: &SchedView<'a>,
    set: &mut DestSet,
    expiration_ns: u64,
) -> (Option<DestId>, Outcome<'a>) {
    let now = view.now_ns;
    let least = set.least(view);
    let dropped = set.shrink(view, now, expiration_ns);
    let refused = least.map(|least| (least, overloaded_by(view, least.dest)));
    let mut outcome = Outcome {
        set_pick: refused,
        dropped,
        fallback: None,
    };
    if let Some((least, None)) = refused {
        return (Some(least.id), outcome);
    }
    let fallback = weighted_least(listed(view), OVERHEAD);
    let joined = fallback.is_some_and(|least| set.join(least.id, now));
    outcome.fallback = Some((fallback, joined));
    (fallback.map(|least| least.id), outcome)
}

impl Scheduler for LocalityReplication {
    fn name(&self) -> &'static str {
        "lblcr"
    }

    /// No list hooks: deleted dests stay in sets (never chosen, but set_max may remove them).
    fn references(&self, dest: DestId) -> bool {
        self.table.any(|set| set.members.contains(&dest))
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let now = view.now_ns;
        let expiration = seconds_ns(view.sysctl.lblcr_expiration);
        if let Some(entry) = self.table.get_mut(packet.daddr) {
            entry.lastuse_ns = now;
            let (picked, outcome) = schedule_from_set(view, &mut entry.value, expiration);
            let set = &entry.value;
            explain(why, |out| {
                write!(out, "lblcr: {} set ", packet.daddr)?;
                write_set(out, view, set)?;
                write_outcome(out, view, set, &outcome)
            });
            return picked;
        }
        let least = weighted_least(listed(view), OVERHEAD);
        if let Some(least) = &least {
            self.table
                .insert(packet.daddr, DestSet::new(least.id, now), now);
        }
        explain(why, |out| {
            write!(out, "lblcr: {} has no set; ", packet.daddr)?;
            write_wlc(out, view, least.as_ref())?;
            if least.is_some() {
                out.write_str("; new set")?;
            }
            Ok(())
        });
        least.map(|least| least.id)
    }

    fn next_tick(&self) -> Option<u64> {
        Some(self.table.next_gc_ns())
    }

    fn tick(&mut self, view: &SchedView) {
        let expiration = seconds_ns(view.sysctl.lblcr_expiration);
        self.table.collect_garbage(view.now_ns, expiration);
    }
}

/// `[10.0.0.2:80, 10.0.0.1:80]` (members whose slot is gone are left out).
fn write_set(out: &mut String, view: &SchedView, set: &DestSet) -> fmt::Result {
    out.write_char('[')?;
    for (n, (_, dest)) in set.members(view).enumerate() {
        if n > 0 {
            out.write_str(", ")?;
        }
        write!(out, "{}", endpoint(dest))?;
    }
    out.write_char(']')
}

/// ` → A overhead×weight …`, or why the set's pick was refused and what wlc chose instead.
fn write_outcome(
    out: &mut String,
    view: &SchedView,
    set: &DestSet,
    outcome: &Outcome,
) -> fmt::Result {
    match outcome.set_pick {
        Some((least, None)) => {
            out.write_str(" → ")?;
            let members = set.members(view).filter(|(_, dest)| dest.available);
            write_least(out, &least, members, OVERHEAD)?;
        }
        Some((least, Some(by))) => {
            write!(out, " → {}, ", endpoint(least.dest))?;
            write_overloaded(out, least.dest, by)?;
        }
        None => out.write_str(" has no usable member")?,
    }
    if let Some(dropped) = outcome.dropped.and_then(|id| lookup(view, id)) {
        write!(
            out,
            "; dropped {} (most loaded, set unchanged for over {} s)",
            endpoint(dropped),
            view.sysctl.lblcr_expiration
        )?;
    }
    if let Some((fallback, joined)) = &outcome.fallback {
        out.write_str("; ")?;
        write_wlc(out, view, fallback.as_ref())?;
        if *joined {
            out.write_str("; joins the set")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, secs, to};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("lblcr", dests)
    }

    const ABC: [(&str, i32); 3] = [("10.0.0.1:80", 4), ("10.0.0.2:80", 4), ("10.0.0.3:80", 4)];

    /// Builds the set [A, C] for 172.16.0.1: C first (newest, idle), then A joins when C is
    /// overloaded in lblc's sense.
    fn set_a_c() -> (TestService, Box<dyn super::Scheduler>) {
        let (mut svc, mut lblcr) = service(&ABC);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.3:80");
        let (b, c) = (svc.id("10.0.0.2:80"), svc.id("10.0.0.3:80"));
        svc.set_conns(c, 5, 0);
        svc.set_conns(b, 3, 0);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.1:80");
        assert_eq!(
            why,
            "lblcr: 172.16.0.1 set [10.0.0.1:80, 10.0.0.3:80] → 10.0.0.3:80, active 5 > weight 4 \
             while 10.0.0.1:80 has active×2 < weight (0×2 < 4); wlc: 10.0.0.1:80 overhead×weight \
             0×4 < 768×4 of 10.0.0.2:80; joins the set"
        );
        (svc, lblcr)
    }

    // ipvs-schedulers.md §6.13: a miss creates the set with wlc's choice
    #[test]
    fn a_miss_creates_a_set() {
        let (svc, mut lblcr) = service(&ABC);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.3:80");
        assert_eq!(
            why,
            "lblcr: 172.16.0.1 has no set; wlc: 10.0.0.3:80 overhead×weight 0×4 = 0×4 of \
             10.0.0.2:80 (tie: the earlier one wins); new set"
        );
    }

    // ipvs-schedulers.md §6.13 set_min: weighted least within the set, newest member on ties
    #[test]
    fn set_min_picks_the_least_loaded_member_newest_first() {
        let (mut svc, mut lblcr) = set_a_c();
        svc.set_conns(svc.id("10.0.0.3:80"), 0, 0);
        // A and C both idle: A joined last, so A wins the tie
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.3:80");
    }

    // ipvs-schedulers.md §6.13 set_min skips OVERLOAD members
    #[test]
    fn set_min_skips_overloaded_members() {
        let (mut svc, mut lblcr) = set_a_c();
        svc.set_conns(svc.id("10.0.0.3:80"), 0, 0);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.3:80");
    }

    // ipvs-schedulers.md §6.13 shrink + set_max: after `expiration` unchanged, the most loaded
    // member leaves (one per period) — and the least loaded is still returned
    #[test]
    fn the_set_shrinks_by_its_most_loaded_member() {
        let (mut svc, mut lblcr) = set_a_c();
        svc.sysctl.lblcr_expiration = 100;
        svc.set_conns(svc.id("10.0.0.3:80"), 3, 0);
        svc.now_ns = secs(100);
        // not yet: now must be strictly after lastmod + expiration
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
        svc.now_ns = secs(101);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.1:80");
        assert!(
            why.starts_with(
                "lblcr: 172.16.0.1 set [10.0.0.1:80] → 10.0.0.1:80 is the only candidate \
                 (overhead 0, weight 4); dropped 10.0.0.3:80 (most loaded"
            ),
            "{why}"
        );
        // a single member is never dropped
        svc.now_ns = secs(500);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.13: the shrink can drop the very member it returns
    #[test]
    fn the_returned_member_may_be_the_one_dropped() {
        let (mut svc, mut lblcr) = set_a_c();
        svc.sysctl.lblcr_expiration = 10;
        // With A quiesced, C is both the set's least loaded member and (as the only member
        // with weight > 0) its most loaded one.
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(lblcr.as_mut(), a, 0);
        svc.set_conns(svc.id("10.0.0.3:80"), 0, 0);
        svc.now_ns = secs(11);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.3:80");
        assert!(why.contains("set [10.0.0.1:80] → 10.0.0.3:80"), "{why}");
        assert!(why.contains("dropped 10.0.0.3:80"), "{why}");
    }

    // ipvs-schedulers.md §6.13: weight 0 members are never chosen; wlc fallback joins the set
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut lblcr) = service(&ABC);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.3:80");
        let c = svc.id("10.0.0.3:80");
        svc.set_weight(lblcr.as_mut(), c, 0);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.2:80");
        assert!(
            why.starts_with(
                "lblcr: 172.16.0.1 set [10.0.0.2:80, 10.0.0.3:80] has no usable member; wlc: "
            ),
            "{why}"
        );
        svc.set_weight(lblcr.as_mut(), c, 4);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.13: weight 0 is never picked
    #[test]
    fn skips_weight_zero() {
        let (svc, mut lblcr) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.1:80");
    }

    // ipvs-schedulers.md §6.13: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut lblcr) = service(&[("10.0.0.1:80", 0)]);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "lblcr: 172.16.0.1 has no set; wlc: no destination (all weight 0 or overloaded)"
        );
    }

    // ipvs-schedulers.md §6.13: the wlc fallback skips OVERLOAD
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut lblcr) = service(&ABC);
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.13: deleted members stay in the set but are never chosen
    #[test]
    fn deleted_members_are_never_chosen() {
        let (mut svc, mut lblcr) = set_a_c();
        svc.set_conns(svc.id("10.0.0.3:80"), 0, 0);
        let a = svc.id("10.0.0.1:80");
        svc.delete(lblcr.as_mut(), a);
        let (pick, why) = svc.explain(lblcr.as_mut(), &to("172.16.0.1"));
        assert_eq!(pick, "10.0.0.3:80");
        assert!(why.starts_with("lblcr: 172.16.0.1 set [10.0.0.1:80, 10.0.0.3:80] → 10.0.0.3:80"));
    }

    // ipvs-schedulers.md §6.13: the GC uses lblcr_expiration
    #[test]
    fn sets_expire_through_the_gc_timer() {
        let (mut svc, mut lblcr) = service(&ABC);
        svc.sysctl.lblcr_expiration = 60;
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.3:80");
        svc.set_conns(svc.id("10.0.0.3:80"), 1, 0);
        svc.advance_to(secs(1800), lblcr.as_mut());
        assert_eq!(svc.pick(lblcr.as_mut(), &to("172.16.0.1")), "10.0.0.2:80");
    }
}
