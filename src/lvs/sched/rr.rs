//! rr — round robin (ipvs-schedulers.md §6.1, ip_vs_rr.c).

use std::fmt::Write;

use super::common::{endpoint, explain, listed, lookup, usable, write_no_destination};
use super::{DestChange, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::DestId;

/// The cursor is the destination chosen last, or the list head (None) before the first pick.
#[derive(Default)]
pub(super) struct RoundRobin {
    cursor: Option<DestId>,
}

impl RoundRobin {
    /// The cursor's position in the list; a cursor no longer listed counts as the head.
    fn cursor_position(&self, view: &SchedView) -> Option<usize> {
        let cursor = self.cursor?;
        view.list.iter().position(|&id| id == cursor)
    }
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "rr"
    }

    /// ip_vs_rr_del_dest: a deleted cursor falls back to the dest before it (or the head), so
    /// the scan resumes with the dest that followed it. Adds and edits change nothing.
    fn update(&mut self, _view: &SchedView, change: DestChange) {
        if let DestChange::Deleted { id, prev } = change
            && self.cursor == Some(id)
        {
            self.cursor = prev;
        }
    }

    /// The dests after the cursor to the end of the list, then from the head up to and
    /// including the cursor itself; the first usable one wins and becomes the cursor.
    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let after = self.cursor_position(view);
        let start = after.map_or(0, |position| position + 1);
        let picked = listed(view)
            .cycle()
            .skip(start)
            .take(view.list.len())
            .find(|(_, dest)| usable(dest));
        if let Some((id, _)) = picked {
            self.cursor = Some(id);
        }
        explain(why, |out| {
            out.push_str("rr: ");
            let Some((_, dest)) = picked else {
                return write_no_destination(out, view);
            };
            let previous = after.and_then(|position| lookup(view, view.list[position]));
            match previous {
                Some(previous) => write!(
                    out,
                    "{} is the next usable after {}",
                    endpoint(dest),
                    endpoint(previous)
                ),
                None => write!(
                    out,
                    "{} is the first usable from the list head",
                    endpoint(dest)
                ),
            }
        });
        picked.map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("rr", dests)
    }

    const ABC: [(&str, i32); 3] = [("10.0.0.1:80", 1), ("10.0.0.2:80", 5), ("10.0.0.3:80", 1)];

    // ipvs-schedulers.md §1.2 + §6.1: list order is newest first, weights other than 0 ignored
    #[test]
    fn cycles_in_list_order_newest_first_ignoring_weights() {
        let (svc, mut rr) = service(&ABC);
        assert_eq!(
            svc.picks(rr.as_mut(), 4),
            ["10.0.0.3:80", "10.0.0.2:80", "10.0.0.1:80", "10.0.0.3:80"]
        );
    }

    // ipvs-schedulers.md §6.1 usable = weight > 0
    #[test]
    fn skips_weight_zero() {
        let (svc, mut rr) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0), ("10.0.0.3:80", 1)]);
        assert_eq!(
            svc.picks(rr.as_mut(), 3),
            ["10.0.0.3:80", "10.0.0.1:80", "10.0.0.3:80"]
        );
    }

    // ipvs-schedulers.md §6.1 none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut rr) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["-", "-"]);
        let empty = TestService::new();
        let mut rr = empty.bind("rr");
        assert_eq!(empty.picks(rr.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.1 + §2.5: quiescing mid-run, then restoring
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut rr) = service(&ABC);
        assert_eq!(svc.picks(rr.as_mut(), 1), ["10.0.0.3:80"]);
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(rr.as_mut(), b, 0);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.1:80", "10.0.0.3:80"]);
        svc.set_weight(rr.as_mut(), b, 3);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.2:80", "10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.1 usable = OVERLOAD clear
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut rr) = service(&ABC);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(
            svc.picks(rr.as_mut(), 3),
            ["10.0.0.3:80", "10.0.0.1:80", "10.0.0.3:80"]
        );
    }

    // ipvs-schedulers.md §6.1: the cursor itself is examined last
    #[test]
    fn the_cursor_is_reexamined_last() {
        let (mut svc, mut rr) = service(&ABC);
        assert_eq!(svc.picks(rr.as_mut(), 1), ["10.0.0.3:80"]);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.3:80", "10.0.0.3:80"]);
    }

    // ipvs-schedulers.md §6.1 add: the new dest sits at the head, reached at the next wrap
    #[test]
    fn an_added_dest_is_reached_at_the_next_wrap() {
        let (mut svc, mut rr) = service(&ABC);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.3:80", "10.0.0.2:80"]);
        svc.add(rr.as_mut(), "10.0.0.4:80", 1);
        assert_eq!(
            svc.picks(rr.as_mut(), 3),
            ["10.0.0.1:80", "10.0.0.4:80", "10.0.0.3:80"]
        );
    }

    // ipvs-schedulers.md §6.1 delete: the cursor moves to the dest that preceded it
    #[test]
    fn deleting_the_cursor_resumes_with_its_successor() {
        let (mut svc, mut rr) = service(&ABC);
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.3:80", "10.0.0.2:80"]);
        svc.delete(rr.as_mut(), svc.id("10.0.0.2:80"));
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.1:80", "10.0.0.3:80"]);
    }

    // ipvs-schedulers.md §6.1 delete of the head cursor: back to the list head
    #[test]
    fn deleting_a_head_cursor_restarts_from_the_head() {
        let (mut svc, mut rr) = service(&ABC);
        assert_eq!(svc.picks(rr.as_mut(), 1), ["10.0.0.3:80"]);
        svc.delete(rr.as_mut(), svc.id("10.0.0.3:80"));
        assert_eq!(svc.picks(rr.as_mut(), 2), ["10.0.0.2:80", "10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §10.3: a scheduler change resets the cursor
    #[test]
    fn a_new_binding_starts_from_the_head() {
        let (svc, mut rr) = service(&ABC);
        svc.picks(rr.as_mut(), 2);
        let mut rebound = svc.bind("rr");
        assert_eq!(svc.picks(rebound.as_mut(), 1), ["10.0.0.3:80"]);
    }

    // ipvs-schedulers.md §6.1: the explanation names the deciding numbers
    #[test]
    fn explains_the_step() {
        let (svc, mut rr) = service(&ABC);
        let packet = packet_from("10.9.9.9", 1234);
        let (_, first) = svc.explain(rr.as_mut(), &packet);
        assert_eq!(
            first,
            "rr: 10.0.0.3:80 is the first usable from the list head"
        );
        let (_, second) = svc.explain(rr.as_mut(), &packet);
        assert_eq!(
            second,
            "rr: 10.0.0.2:80 is the next usable after 10.0.0.3:80"
        );
        let empty = TestService::new();
        let mut rr = empty.bind("rr");
        let (pick, why) = empty.explain(rr.as_mut(), &packet);
        assert_eq!(
            (pick.as_str(), why.as_str()),
            ("-", "rr: no destination (the service has none)")
        );
    }

    // ipvs-schedulers.md §6.1: explanations bracket IPv6 endpoints
    #[test]
    fn ipv6_endpoints_are_bracketed() {
        let (svc, mut rr) = service(&[("[2001:db8::1]:80", 1)]);
        let (_, why) = svc.explain(rr.as_mut(), &packet_from("2001:db8::9", 1));
        assert_eq!(
            why,
            "rr: [2001:db8::1]:80 is the first usable from the list head"
        );
    }
}
