//! IPv4 interface addresses and prefix arithmetic, with the kernel's notion of scope and of
//! primary versus secondary addresses (net/ipv4/devinet.c).

use std::fmt;
use std::net::Ipv4Addr;

/// Address and route scope (`ip addr ... scope host`). The numbers are the kernel's: a
/// larger number is a narrower scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Global = 0,
    Site = 200,
    Link = 253,
    Host = 254,
}

impl Scope {
    pub fn value(self) -> u8 {
        self as u8
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "global" | "universe" | "0" => Some(Scope::Global),
            "site" | "200" => Some(Scope::Site),
            "link" | "253" => Some(Scope::Link),
            "host" | "254" => Some(Scope::Host),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Global => "global",
            Scope::Site => "site",
            Scope::Link => "link",
            Scope::Host => "host",
        })
    }
}

/// The netmask of a prefix length as a host-order integer.
pub fn mask(prefix_len: u8) -> u32 {
    if prefix_len == 0 {
        0
    } else {
        u32::MAX << (32 - prefix_len.min(32))
    }
}

/// Whether `addr` lies in `net/prefix_len`.
pub fn in_prefix(addr: Ipv4Addr, net: Ipv4Addr, prefix_len: u8) -> bool {
    (u32::from(addr) ^ u32::from(net)) & mask(prefix_len) == 0
}

/// The network address of `addr/prefix_len`.
pub fn network(addr: Ipv4Addr, prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(addr) & mask(prefix_len))
}

/// The prefix length of a dotted netmask, if it is contiguous (`255.255.255.0` → 24).
pub fn netmask_to_prefix(netmask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(netmask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

pub fn prefix_to_netmask(prefix_len: u8) -> Ipv4Addr {
    Ipv4Addr::from(mask(prefix_len))
}

/// The classful default prefix ifconfig applies when no netmask is given.
pub fn classful_prefix(addr: Ipv4Addr) -> u8 {
    match addr.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

/// One address on an interface (`struct in_ifaddr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub local: Ipv4Addr,
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// `eth0`, or an alias label such as `eth0:2` or `lo:0`.
    pub label: String,
    pub scope: Scope,
    /// A second address in a subnet that already has one: never used as a source address.
    pub secondary: bool,
    /// `ip addr add ... noprefixroute`: no prefix route is installed for it.
    pub noprefixroute: bool,
}

impl IfAddr {
    /// A global address labelled `label`, with the broadcast address the kernel computes for
    /// a prefix shorter than /31.
    pub fn with_broadcast(local: Ipv4Addr, prefix_len: u8, label: &str) -> IfAddr {
        IfAddr {
            local,
            prefix_len,
            broadcast: (prefix_len < 31)
                .then(|| Ipv4Addr::from(u32::from(local) | !mask(prefix_len))),
            label: label.to_owned(),
            scope: Scope::Global,
            secondary: false,
            noprefixroute: false,
        }
    }

    /// Whether `addr` is inside this address's prefix (`inet_ifa_match`).
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        in_prefix(addr, self.local, self.prefix_len)
    }

    pub fn network(&self) -> Ipv4Addr {
        network(self.local, self.prefix_len)
    }

    /// The addresses that count as a broadcast of this prefix: the configured broadcast and
    /// the all-ones host part (none for /31 and /32).
    pub fn broadcast_addresses(&self) -> impl Iterator<Item = Ipv4Addr> + use<> {
        let all_ones = Ipv4Addr::from(u32::from(self.local) | !mask(self.prefix_len));
        let wide = self.prefix_len < 31;
        self.broadcast
            .into_iter()
            .chain([all_ones])
            .filter(move |_| wide)
    }

    pub fn cidr(&self) -> String {
        format!("{}/{}", self.local, self.prefix_len)
    }
}

/// Inserts `new` into an interface's address list as `__inet_insert_ifa` does: a second
/// address with the same mask in the same subnet becomes secondary; a primary goes after the
/// last primary of equal or wider scope, secondaries go last. Errors are the kernel's.
pub fn insert_address(list: &mut Vec<IfAddr>, mut new: IfAddr) -> Result<(), &'static str> {
    let mut insert_at_primary = 0;
    for (i, existing) in list.iter().enumerate() {
        if !existing.secondary && new.scope <= existing.scope {
            insert_at_primary = i + 1;
        }
        if existing.prefix_len == new.prefix_len && existing.contains(new.local) {
            if existing.local == new.local {
                return Err("File exists");
            }
            if existing.scope != new.scope {
                return Err("Invalid argument");
            }
            new.secondary = true;
        }
    }
    if new.secondary {
        list.push(new);
    } else {
        list.insert(insert_at_primary, new);
    }
    Ok(())
}

/// Removes an address; when a primary goes, the kernel deletes its secondaries too
/// (`promote_secondaries` is off by default).
pub fn remove_address(
    list: &mut Vec<IfAddr>,
    local: Ipv4Addr,
    prefix_len: Option<u8>,
) -> Option<IfAddr> {
    let index = list
        .iter()
        .position(|a| a.local == local && prefix_len.is_none_or(|p| p == a.prefix_len))?;
    let removed = list.remove(index);
    if !removed.secondary {
        list.retain(|a| {
            !(a.secondary && a.prefix_len == removed.prefix_len && removed.contains(a.local))
        });
    }
    Some(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str, len: u8) -> IfAddr {
        IfAddr {
            local: text.parse().unwrap(),
            prefix_len: len,
            broadcast: None,
            label: "eth0".into(),
            scope: Scope::Global,
            secondary: false,
            noprefixroute: false,
        }
    }

    #[test]
    fn prefix_arithmetic() {
        let a: Ipv4Addr = "192.168.188.107".parse().unwrap();
        assert!(in_prefix(a, "192.168.188.0".parse().unwrap(), 24));
        assert!(!in_prefix(a, "192.168.189.0".parse().unwrap(), 24));
        assert!(in_prefix(a, "10.0.0.0".parse().unwrap(), 0));
        assert_eq!(
            netmask_to_prefix("255.255.255.0".parse().unwrap()),
            Some(24)
        );
        assert_eq!(
            netmask_to_prefix("255.255.255.255".parse().unwrap()),
            Some(32)
        );
        assert_eq!(netmask_to_prefix("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(netmask_to_prefix("255.0.255.0".parse().unwrap()), None);
        assert_eq!(
            prefix_to_netmask(16),
            "255.255.0.0".parse::<Ipv4Addr>().unwrap()
        );
    }

    #[test]
    fn vip_slash_32_beside_a_slash_24_stays_primary() {
        let mut list = vec![addr("192.168.188.108", 24)];
        insert_address(&mut list, addr("192.168.188.120", 32)).unwrap();
        assert!(!list[1].secondary);
    }

    #[test]
    fn second_address_in_same_subnet_is_secondary_and_goes_last() {
        let mut list = vec![addr("10.0.0.1", 24)];
        insert_address(&mut list, addr("10.0.0.2", 24)).unwrap();
        insert_address(&mut list, addr("172.16.0.1", 16)).unwrap();
        assert_eq!(list[0].local.to_string(), "10.0.0.1");
        assert_eq!(list[1].local.to_string(), "172.16.0.1");
        assert!(list[2].secondary && list[2].local.to_string() == "10.0.0.2");
    }

    #[test]
    fn duplicates_are_refused_like_the_kernel() {
        let mut list = vec![addr("10.0.0.1", 24)];
        assert_eq!(
            insert_address(&mut list, addr("10.0.0.1", 24)),
            Err("File exists")
        );
    }

    #[test]
    fn removing_a_primary_removes_its_secondaries() {
        let mut list = vec![addr("10.0.0.1", 24), addr("10.0.0.2", 24)];
        list[1].secondary = true;
        remove_address(&mut list, "10.0.0.1".parse().unwrap(), Some(24)).unwrap();
        assert!(list.is_empty());
    }
}
