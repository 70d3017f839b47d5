//! twos — power of two choices (ipvs-schedulers.md §6.14, ip_vs_twos.c).

use std::fmt::Write;

use super::common::{conn_overhead, endpoint, explain, listed, usable, write_no_destination};
use super::{RandomSource, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// Two weighted random draws; the less loaded per weight of the two wins.
pub(super) struct PowerOfTwoChoices {
    random: Box<dyn RandomSource>,
}

/// A drawn dest with the `int` weight and overhead ip_vs_twos_schedule compares.
#[derive(Clone, Copy)]
struct Choice<'a> {
    id: DestId,
    dest: &'a Dest,
    weight: i32,
    overhead: i32,
}

impl<'a> Choice<'a> {
    fn of((id, dest): (DestId, &'a Dest)) -> Choice<'a> {
        Choice {
            id,
            dest,
            weight: dest.weight(),
            overhead: conn_overhead(dest),
        }
    }
}

/// The draws and the two choices, for the explanation.
struct Draw<'a> {
    total: i32,
    r1: i32,
    r2: i32,
    first: Choice<'a>,
    second: Option<Choice<'a>>,
}

impl PowerOfTwoChoices {
    pub(super) fn new(random: Box<dyn RandomSource>) -> PowerOfTwoChoices {
        PowerOfTwoChoices { random }
    }

    /// Draws r1 then r2 in `[0, sum of weights]` and walks the eligible dests subtracting
    /// weights: each draw picks the first dest where it reaches `<= 0`, so the first eligible
    /// dest owns weight + 1 draw values (§6.14 bias). Before the walk the kernel's choice1 is
    /// the last eligible dest with weight -1 and overhead 0; a draw inside the range always
    /// replaces it.
    fn draw<'a>(&mut self, view: &SchedView<'a>) -> Option<Draw<'a>> {
        let eligible = || listed(view).filter(|(_, dest)| usable(dest));
        let last = eligible().last()?;
        let total = eligible()
            .fold(0i32, |sum, (_, dest)| sum.wrapping_add(dest.weight()))
            .wrapping_add(1);
        let r1 = self.random.below(total as u32) as i32;
        let r2 = self.random.below(total as u32) as i32;
        let (mut left1, mut left2) = (r1, r2);
        let (mut first, mut second) = (None, None);
        for candidate in eligible() {
            let weight = candidate.1.weight();
            left1 = left1.wrapping_sub(weight);
            left2 = left2.wrapping_sub(weight);
            if left1 <= 0 && first.is_none() {
                first = Some(Choice::of(candidate));
            }
            if left2 <= 0 && second.is_none() {
                second = Some(Choice::of(candidate));
            }
            if first.is_some() && second.is_some() {
                break;
            }
        }
        let first = first.unwrap_or(Choice {
            weight: -1,
            overhead: 0,
            ..Choice::of(last)
        });
        Some(Draw {
            total,
            r1,
            r2,
            first,
            second,
        })
    }
}

/// The second choice wins only if strictly less loaded per weight, in C `int` products:
/// `weight2 * overhead1 > weight1 * overhead2`.
fn second_wins(first: &Choice, second: &Choice) -> bool {
    second.weight.wrapping_mul(first.overhead) > first.weight.wrapping_mul(second.overhead)
}

impl Scheduler for PowerOfTwoChoices {
    fn name(&self) -> &'static str {
        "twos"
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        _packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let draw = self.draw(view);
        let picked = draw.as_ref().map(|draw| match draw.second {
            Some(second) if second_wins(&draw.first, &second) => second,
            _ => draw.first,
        });
        explain(why, |out| {
            out.push_str("twos: ");
            let Some(draw) = &draw else {
                return write_no_destination(out, view);
            };
            let first = draw.first;
            write!(
                out,
                "draw {} of 0..={} → {}",
                draw.r1,
                draw.total - 1,
                endpoint(first.dest)
            )?;
            let Some(second) = draw.second else {
                return Ok(());
            };
            write!(out, ", draw {} → {}", draw.r2, endpoint(second.dest))?;
            if second.id == first.id {
                return out.write_str(" (the same)");
            }
            let (winner, loser) = if second_wins(&first, &second) {
                (second, first)
            } else {
                (first, second)
            };
            let winner_side = winner.overhead.wrapping_mul(loser.weight);
            let loser_side = loser.overhead.wrapping_mul(winner.weight);
            write!(
                out,
                "; {} overhead×weight {}×{} {} {}×{} of {}",
                endpoint(winner.dest),
                winner.overhead,
                loser.weight,
                if winner_side == loser_side { "=" } else { "<" },
                loser.overhead,
                winner.weight,
                endpoint(loser.dest)
            )?;
            if winner_side == loser_side {
                out.write_str(" (tie: the first draw wins)")?;
            }
            Ok(())
        });
        picked.map(|choice| choice.id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::random::SplitMix64;
    use super::super::testutil::{Draws, TestService, packet_from};
    use super::super::{RandomSource, Scheduler};

    /// A and B of weight 1 (list order B, A), twos fed with `draws`.
    fn service_with_draws(
        dests: &[(&str, i32)],
        random: Box<dyn RandomSource>,
    ) -> (TestService, Box<dyn Scheduler>) {
        let mut svc = TestService::new();
        let mut twos = svc.bind_with("twos", random);
        for &(endpoint, weight) in dests {
            svc.add(twos.as_mut(), endpoint, weight);
        }
        (svc, twos)
    }

    fn draws(values: &[u32]) -> Box<dyn RandomSource> {
        Box::new(Draws(values.to_vec()))
    }

    const AB: [(&str, i32); 2] = [("10.0.0.1:80", 1), ("10.0.0.2:80", 1)];

    // ipvs-schedulers.md §6.14 + §9 bias: draws 0 and 1 both reach the first eligible dest
    #[test]
    fn the_first_eligible_dest_owns_weight_plus_one_draw_values() {
        let (svc, mut twos) = service_with_draws(&AB, draws(&[0, 0, 1, 1, 2, 2]));
        assert_eq!(
            svc.picks(twos.as_mut(), 3),
            ["10.0.0.2:80", "10.0.0.2:80", "10.0.0.1:80"]
        );
    }

    // ipvs-schedulers.md §6.14: the second choice wins only when strictly less loaded
    #[test]
    fn the_less_loaded_of_the_two_wins_ties_to_the_first() {
        let (mut svc, mut twos) = service_with_draws(&AB, draws(&[0, 2, 0, 2]));
        svc.set_conns(svc.id("10.0.0.2:80"), 1, 0);
        let packet = packet_from("10.9.9.9", 1);
        let (pick, why) = svc.explain(twos.as_mut(), &packet);
        assert_eq!(pick, "10.0.0.1:80");
        assert_eq!(
            why,
            "twos: draw 0 of 0..=2 → 10.0.0.2:80, draw 2 → 10.0.0.1:80; \
             10.0.0.1:80 overhead×weight 0×1 < 256×1 of 10.0.0.2:80"
        );
        svc.set_conns(svc.id("10.0.0.2:80"), 0, 0);
        let (pick, why) = svc.explain(twos.as_mut(), &packet);
        assert_eq!(pick, "10.0.0.2:80");
        assert!(why.ends_with("(tie: the first draw wins)"), "{why}");
    }

    // ipvs-schedulers.md §6.14: weights widen a dest's share of draw values
    #[test]
    fn weights_widen_the_draw_ranges() {
        // list B(3), A(1): T = 5; values 0..=3 → B, 4 → A
        let dests = [("10.0.0.1:80", 1), ("10.0.0.2:80", 3)];
        let (svc, mut twos) = service_with_draws(&dests, draws(&[3, 3, 4, 4]));
        assert_eq!(svc.picks(twos.as_mut(), 2), ["10.0.0.2:80", "10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.14: weight 0 and OVERLOAD dests are not eligible
    #[test]
    fn skips_weight_zero_and_overloaded() {
        let dests = [("10.0.0.1:80", 1), ("10.0.0.2:80", 0), ("10.0.0.3:80", 1)];
        let (mut svc, mut twos) = service_with_draws(&dests, draws(&[0, 0, 0, 0]));
        assert_eq!(svc.picks(twos.as_mut(), 1), ["10.0.0.3:80"]);
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        assert_eq!(svc.picks(twos.as_mut(), 1), ["10.0.0.1:80"]);
    }

    // ipvs-schedulers.md §6.14: no draw at all when nothing is eligible
    #[test]
    fn all_weight_zero_gives_none_without_drawing() {
        let dests = [("10.0.0.1:80", 0), ("10.0.0.2:80", 0)];
        let (mut svc, mut twos) = service_with_draws(&dests, draws(&[1, 1]));
        assert_eq!(svc.picks(twos.as_mut(), 1), ["-"]);
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(twos.as_mut(), b, 2);
        // the two draws (1, 1) are still there: T = 3, 1 → B
        assert_eq!(svc.picks(twos.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.14: a weight edit takes effect at the next pick
    #[test]
    fn weight_change_mid_run() {
        let (mut svc, mut twos) = service_with_draws(&AB, draws(&[2, 2, 2, 2]));
        assert_eq!(svc.picks(twos.as_mut(), 1), ["10.0.0.1:80"]);
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(twos.as_mut(), b, 2);
        // T = 4: value 2 now falls in B's range 0..=2
        assert_eq!(svc.picks(twos.as_mut(), 1), ["10.0.0.2:80"]);
    }

    // ipvs-schedulers.md §6.14 reference generator: seed 20240601 draws below(3) = 0, then 1
    #[test]
    fn seeded_run_uses_two_draws_per_call() {
        let random = Box::new(SplitMix64::new(20_240_601));
        let (svc, mut twos) = service_with_draws(&AB, random);
        let (pick, why) = svc.explain(twos.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(pick, "10.0.0.2:80");
        assert_eq!(
            why,
            "twos: draw 0 of 0..=2 → 10.0.0.2:80, draw 1 → 10.0.0.2:80 (the same)"
        );
    }

    // ipvs-schedulers.md §6.14: the explanation names the deciding numbers
    #[test]
    fn explains_an_empty_service() {
        let svc = TestService::new();
        let mut twos = svc.bind("twos");
        let (pick, why) = svc.explain(twos.as_mut(), &packet_from("10.9.9.9", 1));
        assert_eq!(
            (pick.as_str(), why.as_str()),
            ("-", "twos: no destination (the service has none)")
        );
    }
}
