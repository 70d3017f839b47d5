//! wrr — weighted round robin (ipvs-schedulers.md §6.2, ip_vs_wrr.c).

use std::fmt::Write;

use super::common::{endpoint, explain, gcd, listed, lookup};
use super::{DestChange, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::DestId;

/// `struct ip_vs_wrr_mark`: the cursor (None = list head), the current weight `cw` a dest must
/// reach, the maximum `mw` passes start from and the step `di` between passes.
pub(super) struct WeightedRoundRobin {
    cursor: Option<DestId>,
    cw: i32,
    mw: i32,
    di: i32,
}

/// Why wrr found nothing: its two kernel messages.
enum NoDest {
    AllWeightZero,
    AllOverloaded,
}

impl WeightedRoundRobin {
    /// ip_vs_wrr_init_svc: a fresh binding starts its first pass at cw = mw.
    pub(super) fn new(view: &SchedView) -> WeightedRoundRobin {
        let (di, mw) = step_and_max(view);
        WeightedRoundRobin {
            cursor: None,
            cw: mw,
            mw,
            di,
        }
    }

    /// The walk of ip_vs_wrr_schedule: passes over the list with cw lowered by di after each,
    /// starting after the cursor; when cw runs out it restarts at mw, and a final pass at
    /// cw <= di covering the dests before the starting cursor ends the search.
    fn walk(&mut self, view: &SchedView) -> Result<DestId, NoDest> {
        if self.mw == 0 {
            return Err(NoDest::AllWeightZero);
        }
        let list = view.list;
        let last = self
            .cursor
            .and_then(|cursor| list.iter().position(|&id| id == cursor));
        let mut from = last;
        let mut stop = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            let start = from.map_or(0, |position| position + 1);
            for (position, &id) in list.iter().enumerate().skip(start) {
                let Some(dest) = lookup(view, id) else {
                    continue;
                };
                if !dest.overload && dest.weight() >= self.cw {
                    self.cursor = Some(id);
                    return Ok(id);
                }
                if stop == Some(position) {
                    self.cursor = Some(id);
                    return Err(NoDest::AllOverloaded);
                }
            }
            from = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cursor = None;
                    return Err(NoDest::AllOverloaded);
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                stop = last;
            }
        }
    }
}

/// `di` = gcd of the positive weights (1 if none) and `mw` = the largest weight lowered by
/// di - 1, so the last pass of a cycle runs at cw = 1 (ip_vs_wrr_gcd_weight, _max_weight).
/// OVERLOAD dests count.
fn step_and_max(view: &SchedView) -> (i32, i32) {
    let weights = || listed(view).map(|(_, dest)| dest.weight());
    let di = weights()
        .filter(|&weight| weight > 0)
        .reduce(gcd)
        .unwrap_or(1);
    let max = weights().fold(0, i32::max);
    (di, max - (di - 1))
}

impl Scheduler for WeightedRoundRobin {
    fn name(&self) -> &'static str {
        "wrr"
    }

    /// ip_vs_wrr_dest_changed, on every add, delete and edit: the cursor returns to the head;
    /// cw is kept unless it is 0 or above the new mw (then cw := mw), and is realigned to a
    /// multiple of di plus 1. A service built by adding dests one by one therefore starts at
    /// cw = 1: its first pass is a plain round robin (§6.2 incremental setup quirk).
    fn update(&mut self, view: &SchedView, _change: DestChange) {
        let (di, mw) = step_and_max(view);
        self.cursor = None;
        self.di = di;
        self.mw = mw;
        if self.cw > mw || self.cw == 0 {
            self.cw = mw;
        } else if di > 1 {
            self.cw = (self.cw / di) * di + 1;
        }
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let outcome = self.walk(view);
        explain(why, |out| {
            out.push_str("wrr: ");
            match outcome {
                Ok(id) => {
                    let Some(dest) = lookup(view, id) else {
                        return Ok(());
                    };
                    write!(
                        out,
                        "{} weight {} ≥ current weight {} (passes step down by {} from {})",
                        endpoint(dest),
                        dest.weight(),
                        self.cw,
                        self.di,
                        self.mw
                    )
                }
                Err(NoDest::AllWeightZero) if view.list.is_empty() => {
                    out.write_str("no destination (the service has none)")
                }
                Err(NoDest::AllWeightZero) => out.write_str("no destination (all weight 0)"),
                Err(NoDest::AllOverloaded) => out
                    .write_str("no destination (every destination with weight > 0 is overloaded)"),
            }
        });
        outcome.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("wrr", dests)
    }

    /// Weights 4, 3, 2 added in that order: list order is w2, w3, w4.
    const W432: [(&str, i32); 3] = [("10.0.0.4:80", 4), ("10.0.0.3:80", 3), ("10.0.0.2:80", 2)];

    fn short(names: Vec<String>) -> Vec<String> {
        names
            .into_iter()
            .map(|name| name.trim_end_matches(":80").replace("10.0.0.", "w"))
            .collect()
    }

    // ipvs-schedulers.md §6.2 incremental setup quirk: the 4,3,2 example sequence
    #[test]
    fn incremental_setup_starts_with_a_cw_1_pass() {
        let (svc, mut wrr) = service(&W432);
        let expected = "w2 w3 w4 w4 w3 w4 w2 w3 w4 w2 w3 w4 w4 w3 w4 w2 w3 w4 w2 w3 w4";
        assert_eq!(short(svc.picks(wrr.as_mut(), 21)).join(" "), expected);
    }

    // ipvs-schedulers.md §6.2 / §10.3: a fresh binding on a built list starts at cw = mw
    #[test]
    fn binding_on_an_existing_list_starts_at_cw_mw() {
        let (svc, _) = service(&W432);
        let mut rebound = svc.bind("wrr");
        let expected = "w4 w3 w4 w2 w3 w4 w2 w3 w4 w4 w3 w4";
        assert_eq!(short(svc.picks(rebound.as_mut(), 12)).join(" "), expected);
    }

    // ipvs-schedulers.md §6.2 di > 1: weights 4 and 2 → di 2, mw 3, passes at cw 3 and 1
    #[test]
    fn common_divisor_steps_passes() {
        let (svc, _) = service(&[("10.0.0.4:80", 4), ("10.0.0.2:80", 2)]);
        let mut wrr = svc.bind("wrr");
        assert_eq!(
            short(svc.picks(wrr.as_mut(), 6)).join(" "),
            "w4 w2 w4 w4 w2 w4"
        );
    }

    // ipvs-schedulers.md §6.2 on a change: cw realigned to (cw div di)·di + 1
    #[test]
    fn a_change_realigns_cw_to_the_new_step() {
        let (mut svc, _) = service(&[("10.0.0.1:80", 6), ("10.0.0.2:80", 3)]);
        let mut wrr = svc.bind("wrr");
        // di 3, mw 4: passes at cw 4 (w1 only) and 1 (both).
        assert_eq!(short(svc.picks(wrr.as_mut(), 1)), ["w1"]);
        // An edit keeping di = 3: cw 4 → (4 div 3)·3 + 1 = 4; the cursor resets to the head.
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(wrr.as_mut(), b, 3);
        assert_eq!(short(svc.picks(wrr.as_mut(), 4)).join(" "), "w1 w2 w1 w1");
    }

    // ipvs-schedulers.md §6.2: weight-0 dests are never picked
    #[test]
    fn skips_weight_zero() {
        let (svc, _) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 0), ("10.0.0.3:80", 1)]);
        let mut wrr = svc.bind("wrr");
        assert_eq!(short(svc.picks(wrr.as_mut(), 4)).join(" "), "w1 w3 w1 w1");
    }

    // ipvs-schedulers.md §6.2: mw == 0 → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut wrr) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.picks(wrr.as_mut(), 2), ["-", "-"]);
        let (_, why) = svc.explain(wrr.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(why, "wrr: no destination (all weight 0)");
    }

    // ipvs-schedulers.md §6.2: any edit resets the cursor to the head and keeps cw ≤ mw
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, _) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        let mut wrr = svc.bind("wrr");
        assert_eq!(short(svc.picks(wrr.as_mut(), 1)), ["w2"]);
        let a = svc.id("10.0.0.1:80");
        svc.set_weight(wrr.as_mut(), a, 3);
        // mw 3, cw 1 is kept: finish the cw = 1 pass from the head, then cw 3, 2, 1.
        assert_eq!(
            short(svc.picks(wrr.as_mut(), 6)).join(" "),
            "w2 w1 w1 w1 w2 w1"
        );
    }

    // ipvs-schedulers.md §6.2: OVERLOAD dests are skipped but still count in gcd/max
    #[test]
    fn skips_overloaded_but_keeps_them_in_the_weights() {
        let (mut svc, _) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 4)]);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        let mut wrr = svc.bind("wrr");
        assert_eq!(short(svc.picks(wrr.as_mut(), 3)).join(" "), "w1 w1 w1");
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        let (pick, why) = svc.explain(wrr.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "wrr: no destination (every destination with weight > 0 is overloaded)"
        );
    }

    // ipvs-schedulers.md §6.2: with a cursor, the final cw <= di pass stops at the cursor
    #[test]
    fn all_overloaded_after_a_pick_terminates_and_parks_the_cursor() {
        let (mut svc, _) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 1)]);
        let mut wrr = svc.bind("wrr");
        assert_eq!(short(svc.picks(wrr.as_mut(), 1)), ["w1"]);
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(svc.picks(wrr.as_mut(), 2), ["-", "-"]);
        svc.set_overload(svc.id("10.0.0.2:80"), false);
        assert_eq!(short(svc.picks(wrr.as_mut(), 1)), ["w2"]);
    }

    // ipvs-schedulers.md §6.2: ties within a pass go in list order (newest first)
    #[test]
    fn equal_weights_go_in_list_order() {
        let (svc, _) = service(&[("10.0.0.1:80", 2), ("10.0.0.2:80", 2), ("10.0.0.3:80", 2)]);
        let mut wrr = svc.bind("wrr");
        assert_eq!(short(svc.picks(wrr.as_mut(), 4)).join(" "), "w3 w2 w1 w3");
    }

    // ipvs-schedulers.md §6.2: a delete recomputes di/mw/cw
    #[test]
    fn deleting_a_dest_recomputes() {
        let (mut svc, _) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 3)]);
        let mut wrr = svc.bind("wrr");
        let b = svc.id("10.0.0.2:80");
        svc.delete(wrr.as_mut(), b);
        assert_eq!(short(svc.picks(wrr.as_mut(), 2)).join(" "), "w1 w1");
    }

    // ipvs-schedulers.md §6.2: the explanation names the deciding numbers
    #[test]
    fn explains_the_current_weight() {
        let (svc, _) = service(&W432);
        let mut wrr = svc.bind("wrr");
        let (pick, why) = svc.explain(wrr.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(pick, "10.0.0.4:80");
        assert_eq!(
            why,
            "wrr: 10.0.0.4:80 weight 4 ≥ current weight 4 (passes step down by 1 from 4)"
        );
    }
}
