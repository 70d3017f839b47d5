//! Addresses as ipvsadm reads and writes them: glibc's `inet_aton` (so `10.1`, `0x0a000001`,
//! `012.0.0.1` and a bare `167772162` are IPv4 addresses), `inet_pton`/`inet_ntop` for IPv6,
//! and `parse_service`'s `host[:port]` / `[v6]:port` forms.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::names::service_to_port;
use super::numbers::{is_c_space, string_to_number};
use crate::lvs::service::Protocol;

/// `inet_aton`: one to four dot-separated parts, each decimal, `0x` hex or `0` octal; the last
/// part fills the remaining bytes. Trailing blanks (and whatever follows them) are ignored, as
/// glibc ignores them. Returns the address in host order.
pub(super) fn inet_aton(text: &str) -> Option<u32> {
    let mut parts: Vec<u32> = Vec::with_capacity(4);
    let mut rest = text;
    loop {
        let (value, after) = c_unsigned_part(rest)?;
        match after.strip_prefix('.') {
            Some(next) if parts.len() < 3 && value <= 0xff => {
                parts.push(value);
                rest = next;
            }
            Some(_) => return None,
            None => {
                let trailing_ok = after.chars().next().is_none_or(is_c_space);
                return trailing_ok
                    .then(|| combine_aton_parts(&parts, value))
                    .flatten();
            }
        }
    }
}

/// One `strtoul(cp, &end, 0)` part of `inet_aton`; it must start with a digit.
fn c_unsigned_part(text: &str) -> Option<(u32, &str)> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (radix, digits) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if hex.starts_with(|c: char| c.is_ascii_hexdigit()) => (16, hex),
        _ if text.starts_with('0') => (8, text),
        _ => (10, text),
    };
    let len = digits.chars().take_while(|c| c.is_digit(radix)).count();
    let value = digits[..len].chars().try_fold(0u64, |acc, c| {
        let next = acc * u64::from(radix) + u64::from(c.to_digit(radix)?);
        (next <= u64::from(u32::MAX)).then_some(next)
    })?;
    Some((u32::try_from(value).ok()?, &digits[len..]))
}

/// The `a`, `a.b` (24-bit b), `a.b.c` (16-bit c) and `a.b.c.d` forms of `inet_aton`.
fn combine_aton_parts(leading: &[u32], last: u32) -> Option<u32> {
    let last_bits = 8 * (4 - leading.len() as u32);
    if last_bits < 32 && last >> last_bits != 0 {
        return None;
    }
    let high = leading
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, &byte)| acc | byte << (24 - 8 * i));
    Some(high | last)
}

/// An address ipvsadm would look up with `gethostbyname`/`getservbyname`. lvsim has no DNS,
/// so a name never resolves: the caller reports what ipvsadm reports for an unknown host.
fn resolve_host(_name: &str) -> Option<u32> {
    None
}

/// `parse_netmask`: `inet_aton`, else a host name (which never resolves here).
pub(super) fn parse_netmask(text: &str) -> Option<u32> {
    inet_aton(text).or_else(|| resolve_host(text))
}

/// What `parse_service` filled in: SERVICE_ADDR always, SERVICE_PORT when a port was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ServiceAddr {
    pub addr: IpAddr,
    pub port: Option<u16>,
}

/// `parse_service`: `host[:port]` or `[v6]:port`. An all-digit string is refused (so `-t 80`
/// is not a host), an IPv6 address without brackets takes no port, and a port is a number or a
/// services name for `proto`. Quirk kept: `[1.2.3.4]:80` is the IPv4 host with no port.
pub(super) fn parse_service(text: &str, proto: Option<Protocol>) -> Option<ServiceAddr> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (host, bracket_port) = match text.strip_prefix('[') {
        Some(inner) => {
            let close = inner.find(']')?;
            let port = inner[close + 1..].strip_prefix(':')?;
            (&inner[..close], Some(port))
        }
        None => (text, None),
    };
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        let port = optional_port(bracket_port, proto)?;
        return Some(ServiceAddr {
            addr: IpAddr::V6(v6),
            port,
        });
    }
    let (name, port_text) = match host.rfind(':') {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host, None),
    };
    let v4 = inet_aton(name).or_else(|| resolve_host(name))?;
    let port = optional_port(port_text, proto)?;
    Some(ServiceAddr {
        addr: IpAddr::V4(Ipv4Addr::from(v4)),
        port,
    })
}

/// SERVICE_PORT: Some(Some(port)) when a port was given and is valid, Some(None) when none was
/// given, None when the one given is not a port.
fn optional_port(text: Option<&str>, proto: Option<Protocol>) -> Option<Option<u16>> {
    match text {
        Some(text) => parse_port(text, proto).map(Some),
        None => Some(None),
    }
}

/// A port: 0..65535, else a services name for the protocol.
fn parse_port(text: &str, proto: Option<Protocol>) -> Option<u16> {
    string_to_number(text, 0, 65535)
        .and_then(|n| u16::try_from(n).ok())
        .or_else(|| service_to_port(text, proto?))
}

/// glibc's `inet_ntop(AF_INET6)`: the first longest run of two or more zero groups becomes
/// `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` keep the dotted tail (Rust's `Display` writes
/// `::102:304` for the former).
pub(super) fn inet_ntop6(addr: &Ipv6Addr) -> String {
    let words = addr.segments();
    let best = longest_zero_run(&words);
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best
            && (base..base + len).contains(&i)
        {
            if i == base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && has_ipv4_tail(best, &words) {
            let o = addr.octets();
            out.push_str(&Ipv4Addr::new(o[12], o[13], o[14], o[15]).to_string());
            return out;
        }
        out.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    if best.is_some_and(|(base, len)| base + len == 8) {
        out.push(':');
    }
    out
}

/// `(base, len)` of the first longest run of at least two zero groups.
fn longest_zero_run(words: &[u16; 8]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = None;
    for i in 0..=8 {
        match (words.get(i), start) {
            (Some(0), None) => start = Some(i),
            (Some(0), Some(_)) => {}
            (_, Some(s)) => {
                let len = i - s;
                if len >= 2 && best.is_none_or(|(_, l)| len > l) {
                    best = Some((s, len));
                }
                start = None;
            }
            (_, None) => {}
        }
    }
    best
}

/// The IPv4-compatible and IPv4-mapped forms glibc prints with a dotted tail.
fn has_ipv4_tail(best: Option<(usize, usize)>, words: &[u16; 8]) -> bool {
    matches!(best, Some((0, 6))) || (best == Some((0, 5)) && words[5] == 0xffff)
}

/// An address the way `inet_ntop` prints it.
pub(super) fn ntop(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => inet_ntop6(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Option<Ipv4Addr> {
        inet_aton(text).map(Ipv4Addr::from)
    }

    // ipvsadm.md §3 "Address parsing": inet_aton forms.
    #[test]
    fn inet_aton_forms() {
        assert_eq!(v4("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(v4("0x0a000002"), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(v4("012.0.0.4"), Some(Ipv4Addr::new(10, 0, 0, 4)));
        assert_eq!(v4("167772162"), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(v4("24"), Some(Ipv4Addr::new(0, 0, 0, 24)));
        assert_eq!(v4("10.1.65535"), Some(Ipv4Addr::new(10, 1, 255, 255)));
        assert_eq!(v4("1.2.3.4 junk"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("10.1.65536"), None);
        assert_eq!(v4("256.1.1.1"), None);
        assert_eq!(v4("09.1.1.1"), None);
        assert_eq!(v4("1.2.3.4.5"), None);
        assert_eq!(v4("1..2"), None);
        assert_eq!(v4("0x"), None);
        assert_eq!(v4("4294967296"), None);
        assert_eq!(v4("web1"), None);
        assert_eq!(v4(""), None);
    }

    // ipvsadm.md §3 `-t`: host[:port], [v6]:port, names, all-digit refused.
    #[test]
    fn parse_service_forms() {
        let tcp = Some(Protocol::Tcp);
        let got = |t| parse_service(t, tcp).map(|s| (s.addr.to_string(), s.port));
        assert_eq!(got("1.2.3.4:80"), Some(("1.2.3.4".into(), Some(80))));
        assert_eq!(got("1.2.3.4"), Some(("1.2.3.4".into(), None)));
        assert_eq!(got("167772162:80"), Some(("10.0.0.2".into(), Some(80))));
        assert_eq!(got("1.2.3.4:http"), Some(("1.2.3.4".into(), Some(80))));
        assert_eq!(
            got("[2001:db8::1]:443"),
            Some(("2001:db8::1".into(), Some(443)))
        );
        assert_eq!(got("2001:db8::1"), Some(("2001:db8::1".into(), None)));
        assert_eq!(got("[1.2.3.4]:80"), Some(("1.2.3.4".into(), None)));
        assert_eq!(got("167772162"), None);
        assert_eq!(got(""), None);
        assert_eq!(got("1.2.3.4:"), None);
        assert_eq!(got("1.2.3.4:65536"), None);
        assert_eq!(got("1.2.3.4:nosuch"), None);
        assert_eq!(got("[2001:db8::1]80"), None);
        assert_eq!(got("[2001:db8::1"), None);
        assert_eq!(got("web1:80"), None);
        assert_eq!(parse_service("1.2.3.4:domain", None), None);
    }

    // ipvsadm.md §5.1: IPv6 is printed in inet_ntop form.
    #[test]
    fn inet_ntop6_matches_glibc() {
        let show = |t: &str| inet_ntop6(&t.parse().unwrap());
        assert_eq!(show("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(show("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
        assert_eq!(show("::"), "::");
        assert_eq!(show("::1"), "::1");
        assert_eq!(show("fe80::"), "fe80::");
        assert_eq!(show("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(show("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
        assert_eq!(show("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
    }
}
