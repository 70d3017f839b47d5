//! VRRP advertisements, version 2 (RFC 3768) and version 3 (RFC 5798), as keepalived builds
//! them (`vrrp.c vrrp_build_vrrp_v2/v3`, `reference/keepalived.md` §6): a fixed header, the
//! VIPs, and for v2 an 8-byte authentication field. The v2 checksum covers the message only;
//! v3 adds the IPv4 pseudo-header.

use std::net::Ipv4Addr;

use super::ipv4::{checksum, checksum_with, pseudo_header_sum};

/// IP protocol number of VRRP.
pub const PROTO_VRRP: u8 = 112;
/// The IPv4 group adverts go to (`vrrp_mcast_group4`).
pub const MCAST_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// Adverts must arrive with this TTL: one that crossed a router is refused.
pub const TTL: u8 = 255;
/// DSCP CS6 (network control), as keepalived sets it.
pub const TOS: u8 = 0xc0;
/// Type 1 is the only one VRRP has.
const TYPE_ADVERTISEMENT: u8 = 1;
const HEADER_LEN: usize = 8;
const AUTH_LEN: usize = 8;

/// v2 authentication (auth type 0 none, 1 simple password, 2 AH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertAuth {
    None,
    Pass([u8; 8]),
    Ah([u8; 8]),
}

impl AdvertAuth {
    fn type_code(self) -> u8 {
        match self {
            AdvertAuth::None => 0,
            AdvertAuth::Pass(_) => 1,
            AdvertAuth::Ah(_) => 2,
        }
    }

    fn data(self) -> [u8; 8] {
        match self {
            AdvertAuth::None => [0; 8],
            AdvertAuth::Pass(p) | AdvertAuth::Ah(p) => p,
        }
    }
}

/// What an advertisement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// v2: whole seconds; v3: centiseconds (12 bits).
    pub interval: u16,
    pub addrs: Vec<Ipv4Addr>,
    /// Always `None` for v3, which has no authentication field.
    pub auth: AdvertAuth,
}

impl Advert {
    /// The advertisement interval in microseconds.
    pub fn interval_us(&self) -> u64 {
        match self.version {
            2 => self.interval as u64 * 1_000_000,
            _ => self.interval as u64 * 10_000,
        }
    }

    fn len(&self) -> usize {
        HEADER_LEN + 4 * self.addrs.len() + if self.version == 2 { AUTH_LEN } else { 0 }
    }

    /// The message bytes with the checksum filled in; `src`/`dst` are the IPv4 addresses
    /// the datagram carries (the v3 pseudo-header).
    pub fn emit(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.push(self.version << 4 | TYPE_ADVERTISEMENT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(self.addrs.len() as u8);
        if self.version == 2 {
            out.push(self.auth.type_code());
            out.push(self.interval as u8);
        } else {
            out.extend_from_slice(&(self.interval & 0x0fff).to_be_bytes());
        }
        out.extend_from_slice(&[0, 0]);
        for a in &self.addrs {
            out.extend_from_slice(&a.octets());
        }
        if self.version == 2 {
            out.extend_from_slice(&self.auth.data());
        }
        let sum = self.checksum_of(&out, src, dst);
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        out
    }

    fn checksum_of(&self, message: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        if self.version == 2 {
            checksum(message)
        } else {
            checksum_with(
                pseudo_header_sum(src, dst, PROTO_VRRP, message.len()),
                message,
            )
        }
    }

    /// Reads an advertisement (`vrrp_check_packet`'s format checks: version, type, length,
    /// checksum). Whether it matches an instance is the receiver's business.
    pub fn parse(data: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<Advert, String> {
        if data.len() < HEADER_LEN {
            return Err(format!("truncated VRRP header ({} bytes)", data.len()));
        }
        let version = data[0] >> 4;
        if version != 2 && version != 3 {
            return Err(format!("invalid VRRP version {version}"));
        }
        if data[0] & 0x0f != TYPE_ADVERTISEMENT {
            return Err(format!("invalid VRRP type {}", data[0] & 0x0f));
        }
        let count = data[3] as usize;
        let auth_len = if version == 2 { AUTH_LEN } else { 0 };
        let needed = HEADER_LEN + 4 * count + auth_len;
        if data.len() != needed {
            return Err(format!(
                "VRRP length {} does not match {count} addresses (expected {needed})",
                data.len()
            ));
        }
        let addrs = data[HEADER_LEN..HEADER_LEN + 4 * count]
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect();
        let (auth, interval) = if version == 2 {
            let mut word = [0u8; 8];
            word.copy_from_slice(&data[needed - AUTH_LEN..]);
            let auth = match data[4] {
                0 => AdvertAuth::None,
                1 => AdvertAuth::Pass(word),
                2 => AdvertAuth::Ah(word),
                other => return Err(format!("invalid VRRP auth type {other}")),
            };
            (auth, data[5] as u16)
        } else {
            (
                AdvertAuth::None,
                u16::from_be_bytes([data[4], data[5]]) & 0x0fff,
            )
        };
        let advert = Advert {
            version,
            vrid: data[1],
            priority: data[2],
            interval,
            addrs,
            auth,
        };
        if advert.checksum_of(data, src, dst) != 0 {
            return Err("invalid VRRP checksum".into());
        }
        Ok(advert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d1_advert(version: u8) -> Advert {
        Advert {
            version,
            vrid: 51,
            priority: 150,
            interval: if version == 2 { 1 } else { 100 },
            addrs: vec![Ipv4Addr::new(192, 168, 188, 120)],
            auth: if version == 2 {
                AdvertAuth::Pass(*b"1111\0\0\0\0")
            } else {
                AdvertAuth::None
            },
        }
    }

    const D1: Ipv4Addr = Ipv4Addr::new(192, 168, 188, 108);

    /// keepalived.md §9 "Packet formats": d1's v2 advert is 20 bytes with checksum 0x6846.
    #[test]
    fn v2_advert_matches_the_measured_bytes() {
        let bytes = d1_advert(2).emit(D1, MCAST_GROUP);
        assert_eq!(bytes.len(), 20);
        assert_eq!(&bytes[..6], &[0x21, 51, 150, 1, 1, 1]);
        assert_eq!(u16::from_be_bytes([bytes[6], bytes[7]]), 0x6846);
        assert_eq!(&bytes[12..], b"1111\0\0\0\0");
    }

    /// §9: the v3 advert is 12 bytes, interval 100 cs, checksum 0x5da1 with the pseudo-header.
    #[test]
    fn v3_advert_matches_the_measured_bytes() {
        let bytes = d1_advert(3).emit(D1, MCAST_GROUP);
        assert_eq!(bytes.len(), 12);
        assert_eq!(&bytes[..6], &[0x31, 51, 150, 1, 0, 100]);
        assert_eq!(u16::from_be_bytes([bytes[6], bytes[7]]), 0x5da1);
    }

    #[test]
    fn parse_round_trips_and_refuses_bad_checksums_and_lengths() {
        for version in [2, 3] {
            let advert = d1_advert(version);
            let mut bytes = advert.emit(D1, MCAST_GROUP);
            assert_eq!(Advert::parse(&bytes, D1, MCAST_GROUP), Ok(advert.clone()));
            bytes[2] = 100;
            assert_eq!(
                Advert::parse(&bytes, D1, MCAST_GROUP),
                Err("invalid VRRP checksum".into())
            );
            assert!(Advert::parse(&bytes[..bytes.len() - 1], D1, MCAST_GROUP).is_err());
        }
        assert!(Advert::parse(&[0x21, 1], D1, MCAST_GROUP).is_err());
        assert_eq!(d1_advert(2).interval_us(), 1_000_000);
        assert_eq!(d1_advert(3).interval_us(), 1_000_000);
    }
}
