//! ovf — weighted overflow (ipvs-schedulers.md §6.8, ip_vs_ovf.c).

use std::fmt::Write;

use super::common::{active, endpoint, explain, heaviest, listed, usable};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// Stateless: the highest weight among the dests with room, where room means
/// `activeconns <= weight` — so a dest takes weight + 1 active connections before the next
/// one overflows elsewhere. Inactive connections (all of UDP) do not count.
pub(super) struct WeightedOverflow;

fn has_room(dest: &Dest) -> bool {
    usable(dest) && active(dest) <= dest.weight()
}

impl Scheduler for WeightedOverflow {
    fn name(&self) -> &'static str {
        "ovf"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let picked = heaviest(listed(view), has_room);
        explain(why, |out| match picked {
            Some((_, dest)) => write!(
                out,
                "ovf: {} has the highest weight {} with room (active {} ≤ {})",
                endpoint(dest),
                dest.weight(),
                active(dest),
                dest.weight()
            ),
            None if view.list.is_empty() => {
                out.write_str("ovf: no destination (the service has none)")
            }
            None => out.write_str(concat!(
                "ovf: no destination ",
                "(every one has weight 0, is overloaded or has active > weight)"
            )),
        });
        picked.map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("ovf", dests)
    }

    // ipvs-schedulers.md §6.8 + §9: a dest admits weight + 1 active connections
    #[test]
    fn admits_weight_plus_one_before_overflowing() {
        let (mut svc, mut ovf) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        assert_eq!(
            svc.connect(ovf.as_mut(), 6),
            [
                "10.0.0.1:80",
                "10.0.0.1:80",
                "10.0.0.1:80",
                "10.0.0.2:80",
                "10.0.0.2:80",
                "-"
            ]
        );
    }

    // ipvs-schedulers.md §6.8: inactive connections (UDP) never overflow
    #[test]
    fn ignores_inactive_connections() {
        let (mut svc, mut ovf) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 2)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 0, 5000);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.8: ties go to the first in list order (newest)
    #[test]
    fn ties_go_to_the_newest() {
        let (svc, mut ovf) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 2)]);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.8: weight 0 is never picked
    #[test]
    fn skips_weight_zero() {
        let (svc, mut ovf) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.8: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut ovf) = service(&[("10.0.0.1:80", 0)]);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.8: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut ovf) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 3, 0);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.2:80"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(ovf.as_mut(), a, 3);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.8: OVERLOAD dests are skipped
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut ovf) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        assert_eq!(svc.picks(ovf.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.8: the explanation names the deciding numbers
    #[test]
    fn explains_the_room() {
        let (mut svc, mut ovf) = service(&[("10.0.0.1:80", 2)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 2, 0);
        let packet = packet_from("10.9.9.9", 1);
        let (_, why) = svc.explain(ovf.as_mut(), &packet);
        assert_eq!(
            why,
            "ovf: 10.0.0.1:80 has the highest weight 2 with room (active 2 ≤ 2)"
        );
        svc.set_conns(svc.id("10.0.0.1:80"), 3, 0);
        let (_, why) = svc.explain(ovf.as_mut(), &packet);
        assert_eq!(
            why,
            "ovf: no destination (every one has weight 0, is overloaded or has active > weight)"
        );
    }
}
