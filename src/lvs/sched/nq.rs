//! nq — never queue (ipvs-schedulers.md §6.6, ip_vs_nq.c).

use std::cmp::Ordering;
use std::fmt::Write;

use super::common::{
    EXPECTED_DELAY, Least, active, compare_load, endpoint, explain, listed, usable, write_least,
    write_no_destination,
};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// Stateless: the first idle dest in list order, else sed's least `(active + 1) / weight`.
pub(super) struct NeverQueue;

/// ip_vs_nq_schedule: one walk that returns at the first dest without active connections.
fn never_queue<'a>(candidates: impl Iterator<Item = (DestId, &'a Dest)>) -> Option<Least<'a>> {
    let mut least: Option<Least> = None;
    for (id, dest) in candidates.filter(|(_, dest)| usable(dest)) {
        let candidate = Least::of((id, dest), EXPECTED_DELAY);
        if active(dest) == 0 {
            return Some(candidate);
        }
        if least.is_none_or(|least| compare_load(&least, &candidate) == Ordering::Greater) {
            least = Some(candidate);
        }
    }
    least
}

impl Scheduler for NeverQueue {
    fn name(&self) -> &'static str {
        "nq"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let least = never_queue(listed(view));
        explain(why, |out| {
            out.push_str("nq: ");
            match &least {
                Some(idle) if active(idle.dest) == 0 => write!(
                    out,
                    "{} is idle (0 active), the first idle one in list order",
                    endpoint(idle.dest)
                ),
                Some(least) => write_least(out, least, listed(view), EXPECTED_DELAY),
                None => write_no_destination(out, view),
            }
        });
        least.map(|least| least.id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("nq", dests)
    }

    // ipvs-schedulers.md §6.6: the first idle dest wins outright, whatever its weight
    #[test]
    fn an_idle_dest_wins_outright() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 10)]);
        assert_eq!(
            svc.connect(nq.as_mut(), 3),
            ["10.0.0.2:80", "10.0.0.1:80", "10.0.0.2:80"]
        );
    }

    // ipvs-schedulers.md §6.6: with nobody idle, sed's rule and its tie-break
    #[test]
    fn without_idle_dests_it_is_sed() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        // (1+1)/2 < (1+1)/1
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.1:80"]);
        svc.set_conns(svc.id("10.0.0.1:80"), 3, 0);
        // 4/2 = 2/1: the earlier (newest) wins
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.6: ties go to the first in list order (newest)
    #[test]
    fn idle_ties_go_to_the_newest() {
        let (svc, mut nq) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 1)]);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.6: weight 0 is never picked
    #[test]
    fn skips_weight_zero_even_when_idle() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 7, 0);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.6: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut nq) = service(&[("10.0.0.1:80", 0)]);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.6: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 2, 0);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.2:80"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(nq.as_mut(), a, 4);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.6: OVERLOAD dests are skipped
    #[test]
    fn skips_overloaded_even_when_idle() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 3, 0);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(svc.picks(nq.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.6: the explanation names the deciding numbers
    #[test]
    fn explains_idle_and_busy_picks() {
        let (mut svc, mut nq) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 2)]);
        let packet = packet_from("10.9.9.9", 1);
        let (_, why) = svc.explain(nq.as_mut(), &packet);
        assert_eq!(
            why,
            "nq: 10.0.0.2:80 is idle (0 active), the first idle one in list order"
        );
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        let (_, why) = svc.explain(nq.as_mut(), &packet);
        assert_eq!(
            why,
            "nq: 10.0.0.2:80 (active+1)×weight 2×1 < 2×2 of 10.0.0.1:80"
        );
    }
}
