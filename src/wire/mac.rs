//! Ethernet (MAC) addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address, displayed lower-case `aa:bb:cc:dd:ee:ff` as `ip neigh` does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub fn is_broadcast(self) -> bool {
        self == MacAddr::BROADCAST
    }

    /// Group bit set: broadcast or multicast, delivered to every port of a switch.
    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    pub fn octets(self) -> [u8; 6] {
        self.0
    }

    /// The deterministic address of a NIC given no `mac` in the scenario: the locally
    /// administered prefix 02:00 followed by a hash of `host/nic`, so it is stable across runs
    /// and independent of the order in which hosts are declared.
    pub fn generated(host: &str, nic: &str) -> MacAddr {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in host.bytes().chain([b'/']).chain(nic.bytes()) {
            hash ^= byte as u32;
            hash = hash.wrapping_mul(0x0100_0193);
        }
        let h = hash.to_be_bytes();
        MacAddr([0x02, 0x00, h[0], h[1], h[2], h[3]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = String;

    /// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, either case.
    fn from_str(text: &str) -> Result<MacAddr, String> {
        let parts: Vec<&str> = text.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!(
                "`{text}` is not a MAC address (expected six hex pairs like 00:0c:29:50:d5:63)"
            ));
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            if part.is_empty() || part.len() > 2 {
                return Err(format!(
                    "`{text}` is not a MAC address (expected six hex pairs like 00:0c:29:50:d5:63)"
                ));
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| {
                format!("`{text}` is not a MAC address (`{part}` is not hexadecimal)")
            })?;
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_lower_case() {
        let mac: MacAddr = "00:0C:29:50:D5:63".parse().unwrap();
        assert_eq!(mac.to_string(), "00:0c:29:50:d5:63");
        assert_eq!("00-0c-29-50-d5-63".parse::<MacAddr>().unwrap(), mac);
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert!("00:0c:29:50:d5".parse::<MacAddr>().is_err());
        assert!("00:0c:29:50:d5:zz".parse::<MacAddr>().is_err());
        assert!("000:0c:29:50:d5:63".parse::<MacAddr>().is_err());
    }

    #[test]
    fn generated_addresses_are_stable_and_locally_administered() {
        let a = MacAddr::generated("rs1", "eth0");
        assert_eq!(a, MacAddr::generated("rs1", "eth0"));
        assert_ne!(a, MacAddr::generated("rs2", "eth0"));
        assert_eq!(a.0[0], 0x02);
        assert!(!a.is_multicast());
    }
}
