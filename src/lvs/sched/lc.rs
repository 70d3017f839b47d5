//! lc — least connection (ipvs-schedulers.md §6.3, ip_vs_lc.c).

use std::fmt::Write;

use super::common::{
    conn_overhead, endpoint, explain, listed, usable, without, write_no_destination,
};
use super::{SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// Stateless: the least overhead wins, whatever the (non-zero) weight.
pub(super) struct LeastConnection;

/// ip_vs_lc_schedule compares overheads as `unsigned int`; `min_by_key` keeps the first
/// minimum, as the kernel's strict `<` does.
fn least_overhead<'a>(
    candidates: impl Iterator<Item = (DestId, &'a Dest)>,
) -> Option<(DestId, &'a Dest)> {
    candidates
        .filter(|(_, dest)| usable(dest))
        .min_by_key(|(_, dest)| conn_overhead(dest) as u32)
}

impl Scheduler for LeastConnection {
    fn name(&self) -> &'static str {
        "lc"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let least = least_overhead(listed(view));
        explain(why, |out| {
            out.push_str("lc: ");
            let Some((id, dest)) = least else {
                return write_no_destination(out, view);
            };
            let overhead = conn_overhead(dest) as u32;
            match least_overhead(without(listed(view), id)) {
                None => write!(
                    out,
                    "{} is the only candidate (overhead {overhead})",
                    endpoint(dest)
                ),
                Some((_, other)) => {
                    let other_overhead = conn_overhead(other) as u32;
                    let tie = overhead == other_overhead;
                    write!(
                        out,
                        "{} overhead {overhead} {} {other_overhead} of {}{}",
                        endpoint(dest),
                        if tie { "=" } else { "<" },
                        endpoint(other),
                        if tie {
                            " (tie: the earlier one wins)"
                        } else {
                            ""
                        }
                    )
                }
            }
        });
        least.map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("lc", dests)
    }

    // ipvs-schedulers.md §6.3 + §9: lc ignores weights except 0
    #[test]
    fn ignores_weight_values() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 100)]);
        assert_eq!(
            svc.connect(lc.as_mut(), 4),
            ["10.0.0.2:80", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:80"]
        );
    }

    // ipvs-schedulers.md §6.3 strict <: the first in list order (newest) wins ties
    #[test]
    fn ties_go_to_the_newest() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 1, 0);
        svc.set_conns(svc.id("10.0.0.2:80"), 0, 256);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.3: weight 0 is never picked
    #[test]
    fn skips_weight_zero() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 9, 0);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.3: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut lc) = service(&[("10.0.0.1:80", 0)]);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §6.3: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 2, 0);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["10.0.0.2:80"]);
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(lc.as_mut(), b, 0);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.3: OVERLOAD dests are skipped
    #[test]
    fn skips_overloaded() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.1:80"), 2, 0);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(svc.picks(lc.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.3: the explanation names the deciding numbers
    #[test]
    fn explains_with_overheads() {
        let (mut svc, mut lc) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 3);
        let (_, why) = svc.explain(lc.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(why, "lc: 10.0.0.1:80 overhead 0 < 259 of 10.0.0.2:80");
    }
}
