//! What several schedulers share: the usual "usable" test, the kernel's integer arithmetic on
//! connection counters, the weighted-least-connection loop (wlc, sed, lblc, lblcr) and the
//! helpers that write the one-line explanations.

use std::cmp::Ordering;
use std::fmt::{self, Write};
use std::net::SocketAddr;

use super::SchedView;
use crate::lvs::service::{Dest, DestId};

/// The listed destinations in list order (newest first), with their ids.
pub(super) fn listed<'a>(
    view: &SchedView<'a>,
) -> impl Iterator<Item = (DestId, &'a Dest)> + Clone + use<'a> {
    let dests = view.dests;
    view.list
        .iter()
        .filter_map(move |&id| dests.get(id.0 as usize).map(|dest| (id, dest)))
}

/// A destination that scheduler state outside the list refers to (a table slot, a cache entry,
/// a cursor); None if the arena no longer has it.
pub(super) fn lookup<'a>(view: &SchedView<'a>, id: DestId) -> Option<&'a Dest> {
    view.dests.get(id.0 as usize)
}

/// Weight above 0 and OVERLOAD clear — the test of rr, wlc (for its first pick), sed, fo, sh,
/// mh and twos. lc, nq and ovf test `weight == 0` instead (ip_vs_lc.c, ip_vs_nq.c,
/// ip_vs_ovf.c); that is the same thing because ip_vs_ctl.c refuses negative weights.
pub(super) fn usable(dest: &Dest) -> bool {
    !dest.overload && dest.weight() > 0
}

/// `atomic_read(&dest->activeconns)`: the kernel's counters are C `int`s.
pub(super) fn active(dest: &Dest) -> i32 {
    dest.activeconns as i32
}

/// `ip_vs_dest_conn_overhead` (ip_vs.h): `(activeconns << 8) + inactconns` computed in a C
/// `int`, which wraps (the kernel builds with -fno-strict-overflow).
pub(super) fn conn_overhead(dest: &Dest) -> i32 {
    active(dest)
        .wrapping_shl(8)
        .wrapping_add(dest.inactconns as i32)
}

/// The cost sed and nq use (ip_vs_sed.c, ip_vs_nq.c): only active connections, plus the new one.
pub(super) fn expected_delay(dest: &Dest) -> i32 {
    active(dest).wrapping_add(1)
}

/// A per-destination cost for the weighted least loop, with the word explanations use for it.
#[derive(Clone, Copy)]
pub(super) struct Cost {
    pub label: &'static str,
    pub of: fn(&Dest) -> i32,
}

pub(super) const OVERHEAD: Cost = Cost {
    label: "overhead",
    of: conn_overhead,
};

pub(super) const EXPECTED_DELAY: Cost = Cost {
    label: "(active+1)",
    of: expected_delay,
};

/// The winner of a weighted least search, with the cost it won with.
#[derive(Clone, Copy)]
pub(super) struct Least<'a> {
    pub id: DestId,
    pub dest: &'a Dest,
    pub cost: i32,
}

impl<'a> Least<'a> {
    pub fn of((id, dest): (DestId, &'a Dest), cost: Cost) -> Least<'a> {
        Least {
            id,
            dest,
            cost: (cost.of)(dest),
        }
    }
}

/// `cost(a) × weight(b)` against `cost(b) × weight(a)`, in the 64-bit products of ip_vs_wlc.c:
/// Less means `a` is the less loaded per unit of weight.
pub(super) fn compare_load(a: &Least, b: &Least) -> Ordering {
    let a_side = i64::from(a.cost) * i64::from(b.dest.weight());
    let b_side = i64::from(b.cost) * i64::from(a.dest.weight());
    a_side.cmp(&b_side)
}

/// The weighted least loop of ip_vs_wlc.c (copied in ip_vs_sed.c, ip_vs_lblc.c and
/// ip_vs_lblcr.c): start from the first candidate that is usable, and replace it by any later
/// non-OVERLOAD candidate whose load per weight is strictly lower, so ties keep the earlier one.
/// A weight-0 candidate can never win a comparison.
pub(super) fn weighted_least<'a>(
    mut candidates: impl Iterator<Item = (DestId, &'a Dest)>,
    cost: Cost,
) -> Option<Least<'a>> {
    let first = candidates.by_ref().find(|(_, dest)| usable(dest))?;
    let least = candidates
        .filter(|(_, dest)| !dest.overload)
        .map(|candidate| Least::of(candidate, cost))
        .fold(
            Least::of(first, cost),
            |least, candidate| match compare_load(&least, &candidate) {
                Ordering::Greater => candidate,
                _ => least,
            },
        );
    Some(least)
}

/// The eligible candidate with the highest weight; the strict `>` of ip_vs_fo_schedule and
/// ip_vs_ovf_schedule keeps the first of equal weights (list order), as `min_by_key` on the
/// reversed weight does.
pub(super) fn heaviest<'a>(
    candidates: impl Iterator<Item = (DestId, &'a Dest)>,
    eligible: fn(&Dest) -> bool,
) -> Option<(DestId, &'a Dest)> {
    candidates
        .filter(|(_, dest)| eligible(dest))
        .min_by_key(|(_, dest)| std::cmp::Reverse(dest.weight()))
}

/// The candidates other than `id`, to find the runner-up an explanation compares with.
pub(super) fn without<'a>(
    candidates: impl Iterator<Item = (DestId, &'a Dest)>,
    id: DestId,
) -> impl Iterator<Item = (DestId, &'a Dest)> {
    candidates.filter(move |(other, _)| *other != id)
}

/// Runs `write` into `why` (replacing its content) only when an explanation was asked for, so
/// the scheduling hot path never formats or allocates.
pub(super) fn explain(why: Option<&mut String>, write: impl FnOnce(&mut String) -> fmt::Result) {
    if let Some(out) = why {
        out.clear();
        // Writing into a String cannot fail.
        let _ = write(out);
    }
}

/// A destination as `addr:port`, `[v6addr]:port` for IPv6.
pub(super) fn endpoint(dest: &Dest) -> SocketAddr {
    SocketAddr::new(dest.config.addr, dest.config.port)
}

/// `A overhead×weight 256×1 < 512×1 of B`: why the winner of a weighted least search beat the
/// best of the other candidates.
pub(super) fn write_least<'a>(
    out: &mut String,
    winner: &Least<'a>,
    candidates: impl Iterator<Item = (DestId, &'a Dest)>,
    cost: Cost,
) -> fmt::Result {
    let label = cost.label;
    let Some(runner_up) = weighted_least(without(candidates, winner.id), cost) else {
        return write!(
            out,
            "{} is the only candidate ({label} {}, weight {})",
            endpoint(winner.dest),
            winner.cost,
            winner.dest.weight()
        );
    };
    let tie = compare_load(winner, &runner_up) == Ordering::Equal;
    write!(
        out,
        "{} {label}×weight {}×{} {} {}×{} of {}{}",
        endpoint(winner.dest),
        winner.cost,
        runner_up.dest.weight(),
        if tie { "=" } else { "<" },
        runner_up.cost,
        winner.dest.weight(),
        endpoint(runner_up.dest),
        if tie {
            " (tie: the earlier one wins)"
        } else {
            ""
        }
    )
}

/// `wlc: A overhead×weight …` or `wlc: no destination (…)`: the choice of the wlc loop over the
/// whole service, as wlc makes it and lblc/lblcr fall back to it.
pub(super) fn write_wlc(out: &mut String, view: &SchedView, least: Option<&Least>) -> fmt::Result {
    out.write_str("wlc: ")?;
    match least {
        Some(least) => write_least(out, least, listed(view), OVERHEAD),
        None => write_no_destination(out, view),
    }
}

/// `no destination (...)`: the reason a list-walking scheduler found nothing.
pub(super) fn write_no_destination(out: &mut String, view: &SchedView) -> fmt::Result {
    if view.list.is_empty() {
        out.write_str("no destination (the service has none)")
    } else {
        out.write_str("no destination (all weight 0 or overloaded)")
    }
}

/// Why a destination found in a table cannot be used: deleted, quiesced or OVERLOAD.
pub(super) fn unusable_reason(dest: &Dest) -> &'static str {
    if !dest.available {
        "deleted"
    } else if dest.weight() <= 0 {
        "weight 0"
    } else {
        "overloaded"
    }
}

/// Euclid's gcd of two positive weights (lib/math/gcd.c), for wrr and mh.
pub(super) fn gcd(a: i32, b: i32) -> i32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `bucket 186 → 10.0.0.2:80`, `bucket 186 → 10.0.0.2:80, weight 0` or `bucket 186 is empty`:
/// what a hashing scheduler found in one slot of its table, judged by its `usable` test.
pub(super) fn write_slot(
    out: &mut String,
    word: &str,
    index: usize,
    dest: Option<&Dest>,
    usable: fn(&Dest) -> bool,
) -> fmt::Result {
    match dest {
        None => write!(out, "{word} {index} is empty"),
        Some(dest) if usable(dest) => write!(out, "{word} {index} → {}", endpoint(dest)),
        Some(dest) => write!(
            out,
            "{word} {index} → {}, {}",
            endpoint(dest),
            unusable_reason(dest)
        ),
    }
}

/// The tail of an sh/mh explanation after the hash: the slot hashed to, then nothing if its dest
/// is usable, the fallback's story if the flag is set and the slot is not empty, otherwise
/// `: no destination`.
pub(super) fn write_hashed_slot(
    out: &mut String,
    word: &str,
    index: usize,
    dest: Option<&Dest>,
    fallback: Option<&dyn Fn(&mut String) -> fmt::Result>,
) -> fmt::Result {
    write_slot(out, word, index, dest, usable)?;
    match (dest, fallback) {
        (Some(dest), _) if usable(dest) => Ok(()),
        (Some(_), Some(fallback)) => fallback(out),
        _ => out.write_str(": no destination"),
    }
}
