//! mh — Maglev hashing (ipvs-schedulers.md §6.11, ip_vs_mh.c).

use std::fmt::{self, Write};
use std::net::IpAddr;

use super::common::{explain, gcd, listed, lookup, usable, write_hashed_slot, write_slot};
use super::hash::{HsiphashKey, fold, hsiphash_u32};
use super::{DestChange, SchedPacket, SchedView, Scheduler};
use crate::lvs::service::{Dest, DestId, flags};

/// `primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]` with the default index 12.
const MH_TAB_SIZE: usize = 4093;
/// `IP_VS_MH_TAB_BITS` = index / 2: weights are scaled down to this many significant bits.
const MH_TAB_BITS: i32 = 6;
/// generate_hash_secret: fixed keys, so every boot and machine builds the same table.
const KEY1: HsiphashKey = [2_654_435_761, 2_654_435_761];
const KEY2: HsiphashKey = [2_654_446_892, 2_654_446_892];

/// The lookup table: every slot names a dest once any dest has a last_weight.
pub(super) struct MaglevHashing {
    slots: Vec<Option<DestId>>,
}

/// `struct ip_vs_mh_dest_setup`: a dest's preference list (offset, then steps of skip) and how
/// many slots it claims per round.
struct Permutation {
    id: DestId,
    skip: usize,
    next: usize,
    turns: i32,
}

impl Permutation {
    /// The dest's next free preferred slot, taken.
    fn claim(&mut self, taken: &mut [bool]) -> usize {
        while taken[self.next] {
            self.next = (self.next + self.skip) % MH_TAB_SIZE;
        }
        taken[self.next] = true;
        self.next
    }
}

/// ip_vs_mh_hashkey: hsiphash of `offset + port + fold(addr)` as a native (little-endian) u32.
fn mh_hash(key: &HsiphashKey, addr: IpAddr, port: u16, offset: u32) -> u32 {
    hsiphash_u32(
        key,
        offset
            .wrapping_add(u32::from(port))
            .wrapping_add(fold(addr)),
    )
}

fn slot_of(hash: u32) -> usize {
    hash as usize % MH_TAB_SIZE
}

/// ip_vs_mh_permutate for the dests that claim slots: turns = last_weight / gcd, shifted
/// right so the largest keeps MH_TAB_BITS bits, and at least 1 for a non-zero last_weight.
/// None when no dest ever had a weight (gcd 0).
fn permutations(view: &SchedView) -> Option<Vec<Permutation>> {
    let last_weights = || listed(view).map(|(_, dest)| dest.last_weight);
    let g = last_weights().filter(|&weight| weight > 0).reduce(gcd)?;
    let max = last_weights().fold(0, i32::max) / g;
    let rshift = (u32::BITS - max.leading_zeros()) as i32 - MH_TAB_BITS;
    let rshift = rshift.max(0);
    let setups = listed(view)
        .map(|(id, dest)| permutation(id, dest, g, rshift))
        .filter(|setup| setup.turns >= 1)
        .collect();
    Some(setups)
}

fn permutation(id: DestId, dest: &Dest, g: i32, rshift: i32) -> Permutation {
    let (addr, port) = (dest.config.addr, dest.config.port);
    let offset = slot_of(mh_hash(&KEY1, addr, port, 0));
    let skip = mh_hash(&KEY2, addr, port, 0) as usize % (MH_TAB_SIZE - 1) + 1;
    let turns = match (dest.last_weight / g) >> rshift {
        0 => i32::from(dest.last_weight != 0),
        turns => turns,
    };
    Permutation {
        id,
        skip,
        next: offset,
        turns,
    }
}

impl MaglevHashing {
    pub(super) fn new(view: &SchedView) -> MaglevHashing {
        let mut mh = MaglevHashing {
            slots: vec![None; MH_TAB_SIZE],
        };
        mh.populate(view);
        mh
    }

    /// ip_vs_mh_reassign: rounds over the list in list order, each dest claiming `turns` slots
    /// of its preference list, until the table is full. With more dests than slots the
    /// kernel refuses and keeps the old table; with no last_weight at all the table empties.
    fn populate(&mut self, view: &SchedView) {
        if view.list.len() > MH_TAB_SIZE {
            return;
        }
        let Some(mut setups) = permutations(view) else {
            self.slots.fill(None);
            return;
        };
        let mut taken = vec![false; MH_TAB_SIZE];
        let mut filled = 0;
        'fill: loop {
            for setup in &mut setups {
                for _ in 0..setup.turns {
                    let slot = setup.claim(&mut taken);
                    self.slots[slot] = Some(setup.id);
                    filled += 1;
                    if filled == MH_TAB_SIZE {
                        break 'fill;
                    }
                }
            }
        }
    }

    fn usable_at(&self, view: &SchedView, slot: usize) -> Option<DestId> {
        self.slots[slot].filter(|&id| lookup(view, id).is_some_and(usable))
    }

    /// ip_vs_mh_get_fallback: re-hash with offsets h, h+1, … until a usable dest, stopping at
    /// an empty slot. Returns the offset and slot it ended at.
    fn probe(&self, view: &SchedView, client: IpAddr, port: u16, first: usize) -> Option<Probe> {
        (0..MH_TAB_SIZE)
            .map(|k| ((first + k) % MH_TAB_SIZE) as u32)
            .map(|offset| (offset, slot_of(mh_hash(&KEY1, client, port, offset))))
            .map_while(|(offset, slot)| self.slots[slot].map(|_| (offset, slot)))
            .find_map(|(offset, slot)| {
                let id = self.usable_at(view, slot)?;
                Some(Probe { offset, slot, id })
            })
    }
}

/// Where the fallback found a usable dest.
#[derive(Clone, Copy)]
struct Probe {
    offset: u32,
    slot: usize,
    id: DestId,
}

impl Scheduler for MaglevHashing {
    fn name(&self) -> &'static str {
        "mh"
    }

    /// Every add, delete and edit rebuilds, from last_weight: quiescing a dest (weight 0)
    /// leaves the table as it was.
    fn update(&mut self, view: &SchedView, _change: DestChange) {
        self.populate(view);
    }

    fn schedule(
        &mut self,
        view: &SchedView,
        packet: &SchedPacket,
        why: Option<&mut String>,
    ) -> Option<DestId> {
        let port = if view.flags & flags::SCHED2 != 0 {
            packet.sport
        } else {
            0
        };
        let fallback = view.flags & flags::SCHED1 != 0;
        let slot = slot_of(mh_hash(&KEY1, packet.saddr, port, 0));
        let primary = self.usable_at(view, slot);
        let probed = match (primary, self.slots[slot]) {
            (None, Some(_)) if fallback => self.probe(view, packet.saddr, port, slot),
            _ => None,
        };
        let picked = primary.or(probed.map(|probe| probe.id));
        explain(why, |out| {
            write!(
                out,
                "mh: hsiphash(0x{:08x} + port {port}) mod {MH_TAB_SIZE} = {slot} → ",
                fold(packet.saddr)
            )?;
            let first = self.slots[slot].and_then(|id| lookup(view, id));
            let fallback_story = |out: &mut String| match probed {
                Some(probe) => {
                    write!(out, "; fallback re-hash with offset {} → ", probe.offset)?;
                    write_slot(out, "slot", probe.slot, lookup(view, probe.id), usable)
                }
                None => out.write_str("; fallback found no usable destination"),
            };
            let story: &dyn Fn(&mut String) -> fmt::Result = &fallback_story;
            write_hashed_slot(out, "slot", slot, first, fallback.then_some(story))
        });
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{TestService, packet_from};
    use super::*;

    fn service(dests: &[(&str, i32)]) -> (TestService, Box<dyn Scheduler>) {
        TestService::with("mh", dests)
    }

    fn count_slots(mh: &MaglevHashing, id: DestId) -> usize {
        mh.slots.iter().filter(|&&slot| slot == Some(id)).count()
    }

    fn built(svc: &TestService) -> MaglevHashing {
        MaglevHashing::new(&svc.view())
    }

    // ipvs-schedulers.md §7.3 mh sample values: offsets and skips of 192.168.1.1..4:80
    #[test]
    fn offsets_and_skips_match_the_kernel() {
        let expected = [
            ("192.168.1.1", 2684, 2584),
            ("192.168.1.2", 183, 1302),
            ("192.168.1.3", 1446, 594),
            ("192.168.1.4", 2755, 1681),
        ];
        for (addr, offset, skip) in expected {
            let (svc, _) = service(&[(&format!("{addr}:80"), 1)]);
            let setup = &permutations(&svc.view()).unwrap()[0];
            assert_eq!((setup.next, setup.skip), (offset, skip), "{addr}");
        }
    }

    // ipvs-schedulers.md §7.3 mh lookup sample: 10.5.0.1, port 0 → slot 4035
    #[test]
    fn lookup_slot_matches_the_kernel() {
        let (svc, mut mh) = service(&[("192.168.1.1:80", 1), ("192.168.1.2:80", 1)]);
        let (_, why) = svc.explain(mh.as_mut(), &packet_from("10.5.0.1", 3333));
        assert!(
            why.starts_with("mh: hsiphash(0x0a050001 + port 0) mod 4093 = 4035 → slot 4035 → "),
            "{why}"
        );
    }

    // ipvs-schedulers.md §6.11 build: a dest's first claim is its offset, equal weights share
    #[test]
    fn equal_weights_fill_the_table_evenly() {
        let (svc, _) = service(&[
            ("192.168.1.1:80", 1),
            ("192.168.1.2:80", 1),
            ("192.168.1.3:80", 1),
            ("192.168.1.4:80", 1),
        ]);
        let mh = built(&svc);
        let counts: Vec<usize> = (0..4).map(|i| count_slots(&mh, DestId(i))).collect();
        // 4093 = 4 × 1023 + 1: the first dest in list order (the newest) gets the extra slot.
        assert_eq!(counts, [1023, 1023, 1023, 1024]);
        // list order 4, 3, 2, 1 claims first: each dest owns its offset slot
        assert_eq!(mh.slots[2755], Some(DestId(3)));
        assert_eq!(mh.slots[1446], Some(DestId(2)));
        assert_eq!(mh.slots[183], Some(DestId(1)));
        assert_eq!(mh.slots[2684], Some(DestId(0)));
    }

    // ipvs-schedulers.md §6.11 build: turns = last_weight / gcd
    #[test]
    fn weights_scale_the_share() {
        let (svc, _) = service(&[("192.168.1.1:80", 2), ("192.168.1.2:80", 6)]);
        let mh = built(&svc);
        // turns 3 (.2, first in list order) and 1 per round of 4 claims: 1023 rounds fill
        // 4092 slots and .2's first claim of the next round takes the last one.
        assert_eq!(count_slots(&mh, DestId(1)), 3 * 1023 + 1);
        assert_eq!(count_slots(&mh, DestId(0)), 1023);
    }

    // ipvs-schedulers.md §6.11 rshift: weights above 6 bits per gcd are scaled down
    #[test]
    fn large_weights_are_shifted() {
        let (svc, _) = service(&[("192.168.1.1:80", 1), ("192.168.1.2:80", 256)]);
        // max/gcd = 256 has 9 bits: rshift 3, turns 32 and (1 >> 3 = 0 →) 1
        let setups = permutations(&svc.view()).unwrap();
        let turns: Vec<i32> = setups.iter().map(|setup| setup.turns).collect();
        assert_eq!(turns, [32, 1]);
    }

    // ipvs-schedulers.md §2.5 + §6.11: quiescing keeps the table (last_weight); no fallback → none
    #[test]
    fn weight_change_to_zero_keeps_the_table() {
        let mut svc = TestService::new();
        let mut mh = MaglevHashing::new(&svc.view());
        svc.add(&mut mh, "192.168.1.1:80", 1);
        svc.add(&mut mh, "192.168.1.2:80", 1);
        let client = packet_from("10.5.0.1", 0);
        let before = svc.pick(&mut mh, &client);
        let table = mh.slots.clone();
        let owner = svc.id(&before);
        svc.set_weight(&mut mh, owner, 0);
        assert!(mh.slots == table);
        assert_eq!(svc.pick(&mut mh, &client), "-");
        svc.set_weight(&mut mh, owner, 1);
        assert_eq!(svc.pick(&mut mh, &client), before);
    }

    // ipvs-schedulers.md §6.11: an edit that changes last_weight rebuilds the table
    #[test]
    fn weight_change_mid_run_reshapes_the_table() {
        let mut svc = TestService::new();
        let mut mh = MaglevHashing::new(&svc.view());
        let a = svc.add(&mut mh, "192.168.1.1:80", 1);
        let b = svc.add(&mut mh, "192.168.1.2:80", 1);
        assert_eq!((count_slots(&mh, b), count_slots(&mh, a)), (2047, 2046));
        svc.set_weight(&mut mh, a, 3);
        assert_eq!((count_slots(&mh, b), count_slots(&mh, a)), (1024, 3069));
    }

    // ipvs-schedulers.md §6.11: a dest added with weight 0 (last_weight 0) gets no slots
    #[test]
    fn never_weighted_dests_get_no_slots_and_all_zero_gives_none() {
        let (svc, mut mh) = service(&[("192.168.1.1:80", 0), ("192.168.1.2:80", 1)]);
        assert_eq!(count_slots(&built(&svc), DestId(0)), 0);
        let (zero, mut mh_zero) = service(&[("192.168.1.1:80", 0)]);
        let (pick, why) = zero.explain(mh_zero.as_mut(), &packet_from("10.5.0.1", 0));
        assert_eq!(pick, "-");
        assert_eq!(
            why,
            "mh: hsiphash(0x0a050001 + port 0) mod 4093 = 4035 → slot 4035 is empty: no destination"
        );
        assert_eq!(
            svc.pick(mh.as_mut(), &packet_from("10.5.0.1", 0)),
            "192.168.1.2:80"
        );
    }

    // ipvs-schedulers.md §6.11 mh-fallback: re-hash with offsets from the slot on
    #[test]
    fn overloaded_owner_falls_back_only_with_the_flag() {
        let (mut svc, mut mh) = service(&[("192.168.1.1:80", 1), ("192.168.1.2:80", 1)]);
        let client = packet_from("10.5.0.1", 0);
        let owner = svc.id(&svc.pick(mh.as_mut(), &client));
        svc.set_overload(owner, true);
        assert_eq!(svc.pick(mh.as_mut(), &client), "-");
        svc.flags = flags::SCHED1;
        let (pick, why) = svc.explain(mh.as_mut(), &client);
        assert_ne!(pick, "-");
        assert_ne!(svc.id(&pick), owner);
        assert!(
            why.contains(", overloaded; fallback re-hash with offset "),
            "{why}"
        );
    }

    // ipvs-schedulers.md §6.11 mh-port: the source port joins the key
    #[test]
    fn mh_port_adds_the_source_port() {
        let (mut svc, mut mh) = service(&[("192.168.1.1:80", 1)]);
        svc.flags = flags::SCHED2;
        let (_, why) = svc.explain(mh.as_mut(), &packet_from("10.5.0.1", 7));
        let slot = slot_of(hsiphash_u32(&KEY1, 0x0A05_0001 + 7));
        assert!(
            why.starts_with(&format!(
                "mh: hsiphash(0x0a050001 + port 7) mod 4093 = {slot} → "
            )),
            "{why}"
        );
    }

    // ipvs-schedulers.md §1.3: delete rebuilds; the last delete empties the table
    #[test]
    fn delete_rebuilds() {
        let (mut svc, mut mh) = service(&[("192.168.1.1:80", 1), ("192.168.1.2:80", 1)]);
        let b = svc.id("192.168.1.2:80");
        svc.delete(mh.as_mut(), b);
        assert_eq!(svc.picks(mh.as_mut(), 1), ["192.168.1.1:80"]);
        let a = svc.id("192.168.1.1:80");
        svc.delete(mh.as_mut(), a);
        assert_eq!(svc.picks(mh.as_mut(), 1), ["-"]);
    }

    // ipvs-schedulers.md §8.8: IPv6 dests and clients
    #[test]
    fn ipv6_works() {
        let (svc, mut mh) = service(&[("[2001:db8::a]:80", 1)]);
        let (pick, why) = svc.explain(mh.as_mut(), &packet_from("2001:db8:1::1", 0));
        assert_eq!(pick, "[2001:db8::a]:80");
        assert!(
            why.starts_with("mh: hsiphash(0x20000db9 + port 0)"),
            "{why}"
        );
    }
}
