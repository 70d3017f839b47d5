//! The listing order: libipvs's `ipvs_cmp_services`/`ipvs_cmp_dests` under glibc's `qsort`.
//! Each comparison step is `(int)(a - b)` on unsigned 32-bit values, so a difference of 2^31 or
//! more changes sign (192.168.188.120 sorts before 10.0.0.1). Such a comparison is not an
//! order, so the result depends on the algorithm: glibc's `qsort` is a top-down merge sort
//! (`msort_with_tmp`), reproduced here step for step (Rust's own sorts may even panic on it).

use std::net::IpAddr;

use crate::lvs::listing::{DestListing, ServiceListing};
use crate::lvs::service::ServiceKey;

/// glibc's `msort_with_tmp`: sort both halves, then merge, taking the left element while
/// `cmp(left, right) <= 0`.
pub(super) fn glibc_qsort<T>(items: &mut [&T], cmp: &dyn Fn(&T, &T) -> i32) {
    let mut tmp = Vec::with_capacity(items.len());
    merge_sort(items, &mut tmp, cmp);
}

fn merge_sort<'a, T>(items: &mut [&'a T], tmp: &mut Vec<&'a T>, cmp: &dyn Fn(&T, &T) -> i32) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    {
        let (left, right) = items.split_at_mut(n1);
        merge_sort(left, tmp, cmp);
        merge_sort(right, tmp, cmp);
    }
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(items[i], items[j]) <= 0 {
            tmp.push(items[i]);
            i += 1;
        } else {
            tmp.push(items[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&items[i..n1]);
    items[..tmp.len()].copy_from_slice(tmp);
}

/// `(int)(a - b)` on `__u32`.
fn wrapped_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// An address as the four 32-bit words of `union nf_inet_addr` (IPv4 in the first).
fn words(addr: &IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(v4) => [u32::from(*v4), 0, 0, 0],
        IpAddr::V6(v6) => {
            let o = v6.octets();
            std::array::from_fn(|i| {
                u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
            })
        }
    }
}

/// Compare addresses as libipvs does: four words when the first is IPv6, else one.
fn cmp_addrs(a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, wb) = (words(a), words(b));
    let count = if a.is_ipv6() { 4 } else { 1 };
    (0..count)
        .map(|i| wrapped_diff(wa[i], wb[i]))
        .find(|&r| r != 0)
        .unwrap_or(0)
}

/// The fields `ipvs_cmp_services` reads: fwmark, af (AF_INET 2, AF_INET6 10), protocol,
/// address and port; an fwmark service has no protocol, address or port.
fn service_fields(key: &ServiceKey) -> (u32, i32, i32, IpAddr, i32) {
    let af = if key.is_ipv6() { 10 } else { 2 };
    match *key {
        ServiceKey::Fwmark { mark, .. } => (mark, af, 0, IpAddr::from([0, 0, 0, 0]), 0),
        ServiceKey::Addr { proto, addr, port } => {
            (0, af, i32::from(proto.number()), addr, i32::from(port))
        }
    }
}

/// `ipvs_cmp_services`.
pub(super) fn cmp_services(a: &ServiceListing, b: &ServiceListing) -> i32 {
    let (mark_a, af_a, proto_a, addr_a, port_a) = service_fields(&a.config.key);
    let (mark_b, af_b, proto_b, addr_b, port_b) = service_fields(&b.config.key);
    [
        wrapped_diff(mark_a, mark_b),
        af_a - af_b,
        proto_a - proto_b,
        cmp_addrs(&addr_a, &addr_b),
        port_a - port_b,
    ]
    .into_iter()
    .find(|&r| r != 0)
    .unwrap_or(0)
}

/// `ipvs_cmp_dests`.
pub(super) fn cmp_dests(a: &DestListing, b: &DestListing) -> i32 {
    match cmp_addrs(&a.config.addr, &b.config.addr) {
        0 => i32::from(a.config.port) - i32::from(b.config.port),
        r => r,
    }
}

/// The services in listing order: kernel order with `--nosort`, else sorted.
pub fn services_in_order(services: &[ServiceListing], nosort: bool) -> Vec<&ServiceListing> {
    let mut order: Vec<&ServiceListing> = services.iter().collect();
    if !nosort {
        glibc_qsort(&mut order, &cmp_services);
    }
    order
}

/// A service's destinations in listing order.
pub fn dests_in_order(service: &ServiceListing, nosort: bool) -> Vec<&DestListing> {
    let mut order: Vec<&DestListing> = service.dests.iter().collect();
    if !nosort {
        glibc_qsort(&mut order, &cmp_dests);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipvsadm.md §5.3: the unsigned-wrap quirk.
    #[test]
    fn wrapped_differences_change_sign() {
        let high: IpAddr = "192.168.188.120".parse().unwrap();
        let low: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(cmp_addrs(&high, &low) < 0);
        assert!(cmp_addrs(&low, &high) > 0);
        assert!(wrapped_diff(u32::MAX, 7) < 0);
    }

    // ipvsadm.md §5.3: glibc's merge sort, stable, left element on ties.
    #[test]
    fn merge_sort_is_stable_and_top_down() {
        let values = [5, 3, 5, 1, 4, 1];
        let mut refs: Vec<&i32> = values.iter().collect();
        glibc_qsort(&mut refs, &|a: &i32, b: &i32| a - b);
        let positions: Vec<usize> = refs
            .iter()
            .map(|r| values.iter().position(|v| std::ptr::eq(v, *r)).unwrap())
            .collect();
        assert_eq!(positions, vec![3, 5, 1, 4, 0, 2]);
    }

    // ipvsadm.md §5.3: a non-transitive comparison gives the merge sort's answer, no error.
    #[test]
    fn non_transitive_comparison_follows_the_merge_steps() {
        // a < b, b < c, c < a (rock, paper, scissors).
        let beats = |x: &u8, y: &u8| -> i32 {
            match (x, y) {
                (0, 1) | (1, 2) | (2, 0) => -1,
                (a, b) if a == b => 0,
                _ => 1,
            }
        };
        let values = [2u8, 1, 0];
        let mut refs: Vec<&u8> = values.iter().collect();
        glibc_qsort(&mut refs, &beats);
        // [2] | [1, 0] → [1, 0] sorts to [1, 0]? cmp(1,0) = 1 → [0, 1]; merge [2] with [0, 1]:
        // cmp(2,0) = -1 → 2; then 0, 1.
        assert_eq!(refs.into_iter().copied().collect::<Vec<_>>(), vec![2, 0, 1]);
    }
}
