//! sed — shortest expected delay (ipvs-schedulers.md §6.5, ip_vs_sed.c).

use super::common::{
    EXPECTED_DELAY, explain, listed, weighted_least, write_least, write_no_destination,
};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::DestId;

/// Stateless: the wlc loop with cost `activeconns + 1`; inactive connections do not count.
pub(super) struct ShortestExpectedDelay;

impl Scheduler for ShortestExpectedDelay {
    fn name(&self) -> &'static str {
        "sed"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let least = weighted_least(listed(view), EXPECTED_DELAY);
        explain(why, |out| {
            out.push_str("sed: ");
            match &least {
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
        TestService::with("sed", dests)
    }

    // ipvs-schedulers.md §6.5: (active+1)/weight — the heavy dest takes the first ones
    #[test]
    fn prefers_the_heavier_weight_until_its_delay_grows() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 3)]);
        assert_eq!(
            svc.connect(sed.as_mut(), 5),
            [
                "10.0.0.2:80",
                "10.0.0.2:80",
                "10.0.0.2:80",
                "10.0.0.1:80",
                "10.0.0.2:80"
            ]
        );
    }

    // ipvs-schedulers.md §6.5: inactive connections are ignored
    #[test]
    fn ignores_inactive_connections() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 0, 1000);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.5: ties keep the earlier (newest) dest
    #[test]
    fn ties_go_to_the_newest() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        // 2/2 = 1/1
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.5: weight 0 is never picked
    #[test]
    fn skips_weight_zero() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 4, 0);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.5: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut sed) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.5: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.2:80"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(sed.as_mut(), a, 3);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.5: OVERLOAD dests are skipped
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 3, 0);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(svc.picks(sed.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.5: the explanation names the deciding numbers
    #[test]
    fn explains_with_expected_delays() {
        let (mut svc, mut sed) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 3)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        let (_, why) = svc.explain(sed.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(
            why,
            "sed: 10.0.0.2:80 (active+1)×weight 2×1 < 1×3 of 10.0.0.1:80"
        );
    }
}
