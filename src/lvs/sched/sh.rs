//! sh — source hashing (ipvs-schedulers.md §6.10, ip_vs_sh.c).

use std::fmt::{self, Write};

use super::common::{explain, listed, lookup, usable, write_hashed_slot, write_slot};
use super::hash::{fold, hash_32};
use super::{DestChange, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{DestId, flags};

/// `CONFIG_IP_VS_SH_TAB_BITS` (default 8): 256 buckets.
const SH_TAB_BITS: u32 = 8;
const SH_TAB_SIZE: usize = 1 << SH_TAB_BITS;

/// The bucket table, keyed by the client's address (and port with `sh-port`).
pub(super) struct SourceHashing {
    buckets: [Option<DestId>; SH_TAB_SIZE],
}

/// The port that went into the key, and the bucket the key hashes to.
struct Key {
    port: u16,
    bucket: usize,
}

impl SourceHashing {
    pub(super) fn new(view: &SchedView) -> SourceHashing {
        let mut sh = SourceHashing {
            buckets: [None; SH_TAB_SIZE],
        };
        sh.assign(view);
        sh
    }

    /// ip_vs_sh_reassign: walking the list cyclically, each dest takes `weight` consecutive
    /// buckets — at least one, so a weight-0 dest still owns a bucket per cycle — and dests
    /// late in the list get none if the weights add up to more than 256.
    fn assign(&mut self, view: &SchedView) {
        self.buckets = [None; SH_TAB_SIZE];
        let mut dests = listed(view).cycle();
        let Some(mut current) = dests.next() else {
            return;
        };
        let mut count = 0;
        for bucket in &mut self.buckets {
            *bucket = Some(current.0);
            count += 1;
            if count >= current.1.weight() {
                current = dests.next().unwrap_or(current);
                count = 0;
            }
        }
    }

    /// `port + fold(saddr)` hashed to 8 bits; the port only with `sh-port` (every protocol lvsim
    /// models carries ports, which is the kernel's condition).
    fn key(view: &SchedView, packet: &SchedPacket) -> Key {
        let port = if view.flags & flags::SCHED2 != 0 {
            packet.sport
        } else {
            0
        };
        let value = u32::from(port).wrapping_add(fold(packet.saddr));
        Key {
            port,
            bucket: hash_32(value, SH_TAB_BITS) as usize,
        }
    }

    fn usable_at(&self, view: &SchedView, bucket: usize) -> Option<DestId> {
        self.buckets[bucket].filter(|&id| lookup(view, id).is_some_and(usable))
    }

    /// ip_vs_sh_get_fallback: when the hashed bucket's dest is unusable, probe the buckets from
    /// `2h` on (the offset is added to an already offset hash), stopping at an empty bucket.
    fn probe(&self, view: &SchedView, first: usize) -> Option<(usize, DestId)> {
        (0..SH_TAB_SIZE)
            .map(|offset| (2 * first + offset) % SH_TAB_SIZE)
            .map_while(|bucket| self.buckets[bucket].map(|_| bucket))
            .find_map(|bucket| Some((bucket, self.usable_at(view, bucket)?)))
    }
}

impl Scheduler for SourceHashing {
    fn name(&self) -> &'static str {
        "sh"
    }

    /// Every add, delete and edit rebuilds the table, so any weight change remaps clients.
    fn update(&mut self, view: &SchedView, _change: DestChange) {
        self.assign(view);
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let key = SourceHashing::key(view, packet);
        let fallback = view.flags & flags::SCHED1 != 0;
        let primary = self.usable_at(view, key.bucket);
        let probed = match (primary, self.buckets[key.bucket]) {
            (None, Some(_)) if fallback => self.probe(view, key.bucket),
            _ => None,
        };
        let picked = primary.or(probed.map(|(_, id)| id));
        explain(why, |out| {
            write!(
                out,
                "sh: hash_32(0x{:08x} + port {}) = {} → ",
                fold(packet.saddr),
                key.port,
                key.bucket
            )?;
            let first = self.buckets[key.bucket].and_then(|id| lookup(view, id));
            let start = 2 * key.bucket % SH_TAB_SIZE;
            let fallback_story = |out: &mut String| {
                write!(out, "; fallback from bucket {start}: ")?;
                match probed {
                    Some((bucket, id)) => {
                        write_slot(out, "bucket", bucket, lookup(view, id), usable)
                    }
                    None => out.write_str("no usable destination"),
                }
            };
            let story: &dyn Fn(&mut String) -> fmt::Result = &fallback_story;
            write_hashed_slot(out, "bucket", key.bucket, first, fallback.then_some(story))
        });
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};
    use crate::lvs::service::flags;

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn super::Scheduler>) {
        TestService::with("sh", dests)
    }

    /// Clients and their buckets: hash_32(fold, 8) (ipvs-schedulers.md §7.2 examples).
    const H186: &str = "10.3.0.1";
    const H52: &str = "10.2.0.1";

    fn from(client: &str) -> crate::lvs::sched::SchedPacket {
        packet_from(client, 1000)
    }

    /// Added A(1), B(2), C(1): list C, B, A; buckets repeat C B B A.
    fn cba() -> (TestService, Box<dyn super::Scheduler>) {
        service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 2), ("10.0.0.3:80", 1)])
    }

    // ipvs-schedulers.md §6.10 build: weight consecutive buckets per dest, list order
    #[test]
    fn each_dest_takes_weight_consecutive_buckets() {
        let (svc, mut sh) = cba();
        // 186 mod 4 = 2 → B; 52 mod 4 = 0 → C
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "10.0.0.2:80");
        assert_eq!(svc.pick(sh.as_mut(), &from(H52)), "10.0.0.3:80");
    }

    // ipvs-schedulers.md §6.10: the explanation names hash, bucket and dest
    #[test]
    fn explains_the_bucket() {
        let (svc, mut sh) = cba();
        let (_, why) = svc.explain(sh.as_mut(), &from(H186));
        assert_eq!(
            why,
            "sh: hash_32(0x0a030001 + port 0) = 186 → bucket 186 → 10.0.0.2:80"
        );
    }

    // ipvs-schedulers.md §6.10 sh-port: the source port is added to the key
    #[test]
    fn sh_port_adds_the_source_port() {
        let (mut svc, mut sh) = cba();
        svc.flags = flags::SCHED2;
        // hash_32(0x0a030001 + 1000, 8) = 177, 177 mod 4 = 1 → B; port 1: 28 mod 4 = 0 → C
        let (pick, why) = svc.explain(sh.as_mut(), &from(H186));
        assert_eq!(pick, "10.0.0.2:80");
        assert_eq!(
            why,
            "sh: hash_32(0x0a030001 + port 1000) = 177 → bucket 177 → 10.0.0.2:80"
        );
        assert_eq!(svc.pick(sh.as_mut(), &packet_from(H186, 1)), "10.0.0.3:80");
    }

    // ipvs-schedulers.md §6.10 + §9: a weight-0 dest still owns one bucket per cycle
    #[test]
    fn weight_zero_owns_a_bucket_and_gives_none_there() {
        let (svc, mut sh) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 0)]);
        // buckets alternate B, A: 186 even → B (weight 0)
        let (pick, why) = svc.explain(sh.as_mut(), &from(H186));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "sh: hash_32(0x0a030001 + port 0) = 186 → bucket 186 → 10.0.0.2:80, weight 0: no destination"
        );
    }

    // ipvs-schedulers.md §6.10: none usable → none
    #[test]
    fn all_weight_zero_gives_none() {
        let (mut svc, mut sh) = service(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)]);
        svc.flags = flags::SCHED1;
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "-");
        assert_eq!(svc.pick(sh.as_mut(), &from(H52)), "-");
    }

    // ipvs-schedulers.md §6.10: any edit rebuilds, so a weight change remaps clients
    #[test]
    fn weight_change_mid_run_remaps() {
        let (mut svc, mut sh) = cba();
        assert_eq!(svc.pick(sh.as_mut(), &from(H52)), "10.0.0.3:80");
        let b = svc.id("10.0.0.2:80");
        svc.set_weight(sh.as_mut(), b, 1);
        // buckets repeat C B A: 186 mod 3 = 0 → C, 52 mod 3 = 1 → B
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "10.0.0.3:80");
        assert_eq!(svc.pick(sh.as_mut(), &from(H52)), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §6.10 without sh-fallback: overloaded bucket dest → none
    #[test]
    fn overloaded_without_fallback_gives_none() {
        let (mut svc, mut sh) = cba();
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "-");
    }

    // ipvs-schedulers.md §6.10 + §9: sh-fallback probes from bucket 2h, not h+1
    #[test]
    fn fallback_probing_starts_at_2h() {
        let (mut svc, mut sh) =
            service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1), ("10.0.0.3:80", 1)]);
        svc.flags = flags::SCHED1;
        // buckets repeat C B A; h = 186 → C. h+1 = 187 would give B; 2h mod 256 = 116 → A.
        svc.set_overload(svc.id("10.0.0.3:80"), true);
        let (pick, why) = svc.explain(sh.as_mut(), &from(H186));
        assert_eq!(pick, "10.0.0.1:80");
        assert_eq!(
            why,
            "sh: hash_32(0x0a030001 + port 0) = 186 → bucket 186 → 10.0.0.3:80, overloaded; \
             fallback from bucket 116: bucket 116 → 10.0.0.1:80"
        );
    }

    // ipvs-schedulers.md §6.10: sh-fallback that finds nothing gives none
    #[test]
    fn fallback_with_nothing_usable_gives_none() {
        let (mut svc, mut sh) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 1)]);
        svc.flags = flags::SCHED1;
        svc.set_overload(svc.id("10.0.0.1:80"), true);
        svc.set_overload(svc.id("10.0.0.2:80"), true);
        let (pick, why) = svc.explain(sh.as_mut(), &from(H186));
        assert_eq!(pick, "-");
        assert!(
            why.ends_with("fallback from bucket 116: no usable destination"),
            "{why}"
        );
    }

    // ipvs-schedulers.md §6.10: weights summing over 256 starve the dests late in the list
    #[test]
    fn heavy_weights_can_starve_later_dests() {
        let (svc, mut sh) = service(&[("10.0.0.1:80", 1), ("10.0.0.2:80", 300)]);
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "10.0.0.2:80");
        assert_eq!(svc.pick(sh.as_mut(), &from(H52)), "10.0.0.2:80");
        assert_eq!(svc.pick(sh.as_mut(), &from("192.168.1.1")), "10.0.0.2:80");
    }

    // ipvs-schedulers.md §1.3: delete rebuilds from the remaining list
    #[test]
    fn delete_rebuilds() {
        let (mut svc, mut sh) = cba();
        svc.delete(sh.as_mut(), svc.id("10.0.0.2:80"));
        // buckets repeat C A: 186 even → C
        assert_eq!(svc.pick(sh.as_mut(), &from(H186)), "10.0.0.3:80");
        let empty = TestService::new();
        let mut sh = empty.bind("sh");
        assert_eq!(empty.pick(sh.as_mut(), &from(H186)), "-");
    }

    // ipvs-schedulers.md §7.1 + §8.8: IPv6 clients are folded
    #[test]
    fn ipv6_clients_are_folded() {
        let (svc, mut sh) = service(&[("[2001:db8::a]:80", 1), ("[2001:db8::b]:80", 1)]);
        let (_, why) = svc.explain(sh.as_mut(), &packet_from("2001:db8:1::1", 5));
        assert_eq!(
            why,
            "sh: hash_32(0x20000db9 + port 0) = 184 → bucket 184 → [2001:db8::b]:80"
        );
    }
}
