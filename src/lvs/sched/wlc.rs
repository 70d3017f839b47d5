//! wlc — weighted least connection (ipvs-schedulers.md §6.4, ip_vs_wlc.c), ipvsadm's default.

use super::common::{OVERHEAD, explain, listed, weighted_least, write_wlc};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::DestId;

/// Stateless: the least `overhead / weight` wins, ties to the first in list order.
pub(super) struct WeightedLeastConnection;

impl Scheduler for WeightedLeastConnection {
    fn name(&self) -> &'static str {
        "wlc"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let least = weighted_least(listed(view), OVERHEAD);
        explain(why, |out| write_wlc(out, view, least.as_ref()));
        least.map(|least| least.id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("wlc", dests)
    }

    // ipvs-schedulers.md §6.4: overhead/weight, with connections counted as they open
    #[test]
    fn spreads_by_overhead_per_weight() {
        let (mut svc, mut wlc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 2)]);
        assert_eq!(
            svc.connect(wlc.as_mut(), 6),
            [
                "10.0.0.2:80",
                "10.0.0.1:80",
                "10.0.0.2:80",
                "10.0.0.2:80",
                "10.0.0.1:80",
                "10.0.0.2:80"
            ]
        );
    }

    // ipvs-schedulers.md §2.1: an active connection weighs 256 inactive ones
    #[test]
    fn inactive_connections_weigh_one_256th() {
        let (mut svc, mut wlc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        svc.set_conns(svc.id("10.0.0.1:80"), 0, 255);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.1:80"]);
        svc.set_conns(svc.id("10.0.0.1:80"), 0, 256);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.4: ties keep the first in list order = the newest dest
    #[test]
    fn ties_go_to_the_newest() {
        let (svc, mut wlc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        assert_eq!(svc.picks(wlc.as_mut(), 2), ["10.0.0.2:80", "10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.4: a weight-0 dest cannot win, even idle
    #[test]
    fn skips_weight_zero() {
        let (mut svc, mut wlc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 5, 0);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.4: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut wlc) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        let (pick, why) = svc.explain(wlc.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(pick, "-");
        assert_eq!(why, "wlc: no destination (all weight 0 or overloaded)");
    }

    // ipvs-schedulers.md §6.4: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut wlc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 2, 0);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.2:80"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(wlc.as_mut(), a, 3);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.4: OVERLOAD dests are skipped, first pick and later ones
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut wlc) =
            service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1), ("10.0.0.3:80", 1)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 3, 0);
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        assert_eq!(svc.picks(wlc.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.4: the explanation names the deciding numbers
    #[test]
    fn explains_against_the_runner_up() {
        let (mut svc, mut wlc) = service(&[("192.168.1.3:80", 1), ("192.168.1.2:80", 1)]);
        svc.set_conns(svc.id("192.168.1.2:80"), 1, 0);
        svc.set_conns(svc.id("192.168.1.3:80"), 2, 0);
        let packet = packet_from("10.9.9.9", 1);
        let (_, why) = svc.explain(wlc.as_mut(), &packet);
        assert_eq!(
            why,
            "wlc: 192.168.1.2:80 overhead×weight 256×1 < 512×1 of 192.168.1.3:80"
        );
        svc.set_conns(svc.id("192.168.1.3:80"), 1, 0);
        let (_, why) = svc.explain(wlc.as_mut(), &packet);
        assert_eq!(
            why,
            "wlc: 192.168.1.2:80 overhead×weight 256×1 = 256×1 of 192.168.1.3:80 (tie: the earlier one wins)"
        );
    }
}
