//! Option values parsed as libxtables and the extensions parse them: numbers, ports, marks
//! and addresses. Errors are the message text; the parser puts it at the value's word.

use std::net::Ipv4Addr;

use crate::stack::netfilter::{AddrMatch, L4, service_port};

/// xtables_strtoul: strtoumax with base 0 (`0x1f` hex, `010` octal) after optional blanks
/// and `+`; the value and what follows it.
fn strtoul(text: &str) -> Option<(u64, &str)> {
    let text = text.trim_start();
    let text = text.strip_prefix('+').unwrap_or(text);
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (radix, digits) = match hex {
        Some(digits) => (16, digits),
        None if text.starts_with('0') => (8, text),
        None => (10, text),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let value = u64::from_str_radix(&digits[..end], radix).ok()?;
    Some((value, &digits[end..]))
}

/// xtables_strtoui with no end pointer: the whole text, within `min..=max`.
pub(super) fn strtoul_whole(text: &str, min: u64, max: u64) -> Option<u64> {
    strtoul(text)
        .filter(|(value, rest)| rest.is_empty() && (min..=max).contains(value))
        .map(|(value, _)| value)
}

/// sscanf `%i`: a leading integer, optionally signed.
pub(super) fn leading_integer(text: &str) -> Option<i64> {
    let trimmed = text.trim_start();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (value, _) = strtoul(digits)?;
    let value = i64::try_from(value).ok()?;
    Some(if negative { -value } else { value })
}

/// libxt_tcp's parse_tcp_ports: `P`, `P:Q`, `:Q`, `P:` with xtables_parse_port.
pub(super) fn tcp_ports(text: &str) -> Result<(u16, u16), String> {
    let port = |p: &str| {
        strtoul_whole(p, 0, u16::MAX.into())
            .and_then(|n| u16::try_from(n).ok())
            .or_else(|| service_port(p, Some(L4::Tcp)))
            .ok_or_else(|| format!("invalid port/service `{p}' specified"))
    };
    let (min, max) = match text.split_once(':') {
        None => {
            let p = port(text)?;
            (p, p)
        }
        Some((low, high)) => (
            if low.is_empty() { 0 } else { port(low)? },
            if high.is_empty() {
                u16::MAX
            } else {
                port(high)?
            },
        ),
    };
    if min > max {
        return Err("invalid portrange (min > max)".to_owned());
    }
    Ok((min, max))
}

/// libxtables' xtopt_parse_mport for udp: at most two `:`-separated ports, each a decimal
/// number or a service name (getaddrinfo), an empty one keeping its default.
pub(super) fn udp_ports(text: &str, option: &str) -> Result<(u16, u16), String> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 2 {
        return Err(format!(
            "udp: Too many components for option \"--{option}\" (max: 2)"
        ));
    }
    let port = |p: &str| {
        let decimal = p
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse().ok())
            .flatten();
        decimal
            .or_else(|| service_port(p, None))
            .ok_or_else(|| format!("Port \"{p}\" does not resolve to anything."))
    };
    let low = match parts[0] {
        "" => 0,
        p => port(p)?,
    };
    let high = match parts.get(1) {
        None => low,
        Some(&"") => u16::MAX,
        Some(p) => port(p)?,
    };
    Ok((low, high))
}

/// xtables_parse_mark_mask: `VALUE[/MASK]`; the mask defaults to all ones.
pub(super) fn mark_mask(text: &str, option: &str) -> Result<(u32, u32), String> {
    let number = |t| strtoul(t).and_then(|(v, rest)| Some((u32::try_from(v).ok()?, rest)));
    let (mark, rest) = number(text).ok_or_else(|| {
        format!("MARK: bad mark value for option \"--{option}\", or out of range.")
    })?;
    let (mask, rest) = match rest.strip_prefix('/') {
        Some(mask) => number(mask).ok_or_else(|| {
            format!("MARK: bad mask value for option \"--{option}\", or out of range.")
        })?,
        None => (u32::MAX, rest),
    };
    if !rest.is_empty() {
        return Err(format!(
            "MARK: trailing garbage after value for option \"--{option}\"."
        ));
    }
    Ok((mark, mask))
}

/// xtables_ipparse_multiple: comma-separated `ADDR[/MASK]`, each masked. lvsim has no
/// DNS: names resolve only through /etc/networks and /etc/hosts (`localhost`).
pub(super) fn parse_addresses(text: &str, invert: bool) -> Result<Vec<AddrMatch>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim_start();
            let (name, mask) = match item.rsplit_once('/') {
                Some((name, mask)) => (name, parse_mask(mask)?),
                None => (item, Ipv4Addr::BROADCAST),
            };
            let name = if mask.is_unspecified() {
                "0.0.0.0"
            } else {
                name
            };
            let addr =
                host_or_network(name).ok_or_else(|| format!("host/network `{name}' not found"))?;
            Ok(AddrMatch::new(addr, mask, invert))
        })
        .collect()
}

/// parse_ipmask: a dotted mask (any bits) or a prefix length 0-32.
fn parse_mask(text: &str) -> Result<Ipv4Addr, String> {
    if let Some(mask) = dotted(text, false) {
        return Ok(mask);
    }
    let bits =
        strtoul_whole(text, 0, 32).ok_or_else(|| format!("invalid mask `{text}' specified"))?;
    Ok(Ipv4Addr::from(
        u32::MAX.checked_shl(32 - bits as u32).unwrap_or(0),
    ))
}

/// ipparse_hostnetwork: a dotted address, a network from /etc/networks, or a host name.
fn host_or_network(name: &str) -> Option<Ipv4Addr> {
    dotted(name, true).or(match name {
        "default" => Some(Ipv4Addr::UNSPECIFIED),
        "loopback" => Some(Ipv4Addr::new(127, 0, 0, 0)),
        "link-local" => Some(Ipv4Addr::new(169, 254, 0, 0)),
        "localhost" => Some(Ipv4Addr::LOCALHOST),
        _ => None,
    })
}

/// __numeric_to_ipaddr: four base-0 numbers up to 255; an address (not a mask) may stop
/// early and is completed with zeros (`10` is 10.0.0.0).
fn dotted(text: &str, complete: bool) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.splitn(4, '.').collect();
    if parts.len() < 4 && !complete {
        return None;
    }
    let mut octets = [0u8; 4];
    for (octet, part) in octets.iter_mut().zip(&parts) {
        *octet = u8::try_from(strtoul_whole(part, 0, 255)?).ok()?;
    }
    Some(Ipv4Addr::from(octets))
}
