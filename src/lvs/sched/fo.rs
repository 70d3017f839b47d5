//! fo — weighted failover (ipvs-schedulers.md §6.7, ip_vs_fo.c).

use std::fmt::Write;

use super::common::{endpoint, explain, heaviest, listed, usable, without, write_no_destination};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::DestId;

/// Stateless: the highest weight wins; counters are ignored.
pub(super) struct WeightedFailover;

impl Scheduler for WeightedFailover {
    fn name(&self) -> &'static str {
        "fo"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let picked = heaviest(listed(view), usable);
        explain(why, |out| {
            out.push_str("fo: ");
            let Some((id, dest)) = picked else {
                return write_no_destination(out, view);
            };
            write!(
                out,
                "{} has the highest weight {}",
                endpoint(dest),
                dest.weight()
            )?;
            match heaviest(without(listed(view), id), usable) {
                Some((_, other)) if other.weight() == dest.weight() => {
                    write!(out, " (tie with {}: the earlier one wins)", endpoint(other))
                }
                Some((_, other)) => {
                    write!(
                        out,
                        " (next: {} weight {})",
                        endpoint(other),
                        other.weight()
                    )
                }
                None => Ok(()),
            }
        });
        picked.map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("fo", dests)
    }

    // ipvs-schedulers.md §6.7: highest weight, counters ignored
    #[test]
    fn sends_everything_to_the_heaviest() {
        let (mut svc, mut fo) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 3)]);
        assert_eq!(svc.connect(fo.as_mut(), 3), ["10.0.0.1:80"; 3]);
    }

    // ipvs-schedulers.md §6.7 strict >: the first in list order (newest) wins ties
    #[test]
    fn ties_go_to_the_newest() {
        let (svc, mut fo) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 5)]);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.7: weight 0 is never picked
    #[test]
    fn skips_weight_zero() {
        let (svc, mut fo) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 1)]);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.7: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut fo) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.7: quiescing the primary fails over
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut fo) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 3)]);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["10.0.0.1:80"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(fo.as_mut(), a, 0);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.7: OVERLOAD dests are skipped
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut fo) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 3)]);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        assert_eq!(svc.picks(fo.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.7: the explanation names the deciding numbers
    #[test]
    fn explains_the_weights() {
        let (svc, mut fo) = service(&[("10.0.0.1:80", 5), ("10.0.0.2:80", 3)]);
        let (_, why) = svc.explain(fo.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(
            why,
            "fo: 10.0.0.1:80 has the highest weight 5 (next: 10.0.0.2:80 weight 3)"
        );
    }
}
