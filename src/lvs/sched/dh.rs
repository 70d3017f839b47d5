//! dh — destination hashing (ipvs-schedulers.md §6.9, ip_vs_dh.c).

use std::fmt::Write;

use super::common::{explain, lookup, usable, write_slot};
use super::hash::{fold, hash_32};
use super::{DestChange, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId};

/// `IP_VS_DH_TAB_BITS`: a compile-time 256-bucket table.
const DH_TAB_BITS: u32 = 8;
const DH_TAB_SIZE: usize = 1 << DH_TAB_BITS;

/// The bucket table, keyed by the packet's destination address.
pub(super) struct DestinationHashing {
    buckets: [Option<DestId>; DH_TAB_SIZE],
}

/// ip_vs_dh_schedule also refuses a dest that is no longer AVAILABLE.
fn usable_dh(dest: &Dest) -> bool {
    dest.available && usable(dest)
}

impl DestinationHashing {
    pub(super) fn new(view: &SchedView) -> DestinationHashing {
        let mut dh = DestinationHashing {
            buckets: [None; DH_TAB_SIZE],
        };
        dh.assign(view);
        dh
    }

    /// ip_vs_dh_reassign: bucket i holds the (i mod n)-th dest in list order; weights do not
    /// shape the table.
    fn assign(&mut self, view: &SchedView) {
        self.buckets = [None; DH_TAB_SIZE];
        for (bucket, &id) in self.buckets.iter_mut().zip(view.list.iter().cycle()) {
            *bucket = Some(id);
        }
    }
}

impl Scheduler for DestinationHashing {
    fn name(&self) -> &'static str {
        "dh"
    }

    /// Rebuilt on add and delete; ip_vs_dh.c has no edit hook (the table ignores weights).
    fn update(&mut self, view: &SchedView, change: DestChange) {
        if !matches!(change, DestChange::Edited(_)) {
            self.assign(view);
        }
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let key = fold(packet.daddr);
        let bucket = hash_32(key, DH_TAB_BITS) as usize;
        let target = self.buckets[bucket].and_then(|id| Some((id, lookup(view, id)?)));
        let picked = target.filter(|(_, dest)| usable_dh(dest));
        explain(why, |out| {
            write!(out, "dh: hash_32(0x{key:08x}) = {bucket} → ")?;
            write_slot(
                out,
                "bucket",
                bucket,
                target.map(|(_, dest)| dest),
                usable_dh,
            )?;
            if picked.is_none() {
                out.write_str(": no destination")?;
            }
            Ok(())
        });
        picked.map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, to};

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("dh", dests)
    }

    /// 10.3.0.1 → bucket 186, 10.2.0.1 → bucket 52 (ipvs-schedulers.md §7.2 examples).
    const ABC: [(&str, i32); 3] = [("10.0.0.1:80", 1), ("10.0.0.2:80", 1), ("10.0.0.3:80", 1)];

    // ipvs-schedulers.md §6.9: bucket i → (i mod n)-th dest in list order (C, B, A)
    #[test]
    fn buckets_cycle_through_the_list() {
        let (svc, mut dh) = service(&ABC);
        // 186 mod 3 = 0 → 10.0.0.3, 52 mod 3 = 1 → 10.0.0.2
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "10.0.0.3:80");
        assert_eq!(svc.pick(dh.as_mut(), &to("10.2.0.1")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.9 + §8.8: IPv6 destination addresses are folded
    #[test]
    fn ipv6_destinations_are_folded() {
        let (svc, mut dh) = service(&[("[2001:db8::a]:80", 1), ("[2001:db8::b]:80", 1)]);
        // fold(2001:db8:1::1) = 0x20000db9; hash_32(…, 8) = 184 → even → list[0]
        let (pick, why) = svc.explain(dh.as_mut(), &to("2001:db8:1::1"));
        assert_eq!(
            why,
            "dh: hash_32(0x20000db9) = 184 → bucket 184 → [2001:db8::b]:80"
        );
        assert_eq!(pick, "[2001:db8::b]:80");
    }

    // ipvs-schedulers.md §6.9: no fallback for an unusable bucket dest
    #[test]
    fn weight_zero_in_the_bucket_gives_none() {
        let (svc, mut dh) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0), ("10.0.0.3:80", 1)]);
        let (pick, why) = svc.explain(dh.as_mut(), &to("10.2.0.1"));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "dh: hash_32(0x0a020001) = 52 → bucket 52 → 10.0.0.2:80, weight 0: no destination"
        );
    }

    // ipvs-schedulers.md §6.9: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (svc, mut dh) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "-");
        let empty = TestService::new();
        let mut dh = empty.bind("dh");
        let (pick, why) = empty.explain(dh.as_mut(), &to("10.3.0.1"));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "dh: hash_32(0x0a030001) = 186 → bucket 186 is empty: no destination"
        );
    }

    // ipvs-schedulers.md §1.3: dh has no edit hook, the table ignores weights
    #[test]
    fn weight_change_mid_run_keeps_the_table() {
        let (mut svc, mut dh) = service(&ABC);
        let c = svc.id("10.0.0.3:80");
        svc.set_weight(dh.as_mut(), c, 0);
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "-");
        svc.set_weight(dh.as_mut(), c, 5);
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "10.0.0.3:80");
    }

    // ipvs-schedulers.md §6.9: an OVERLOAD bucket dest gives none
    #[test]
    fn overloaded_bucket_dest_gives_none() {
        let (mut svc, mut dh) = service(&ABC);
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "-");
    }

    // ipvs-schedulers.md §1.3: add/delete rebuild; the list order decides the layout
    #[test]
    fn add_and_delete_rebuild_the_table() {
        let (mut svc, mut dh) = service(&ABC);
        svc.delete(dh.as_mut(), svc.id("10.0.0.3:80"));
        // list B, A: 186 even → B
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "10.0.0.2:80");
        svc.add(dh.as_mut(), "10.0.0.4:80", 1);
        // list D, B, A: 186 mod 3 = 0 → D
        assert_eq!(svc.pick(dh.as_mut(), &to("10.3.0.1")), "10.0.0.4:80");
    }
}
