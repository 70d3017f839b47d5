//! Simulated time: integer nanoseconds since the start of the run.
//!
//! Integers (not floats) so that event order and every output byte are exactly reproducible.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds in common units, for readable constants.
pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time (nanoseconds since t = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn from_secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_SEC)
    }

    pub fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }

    pub fn ns(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<u64> for SimTime {
    type Output = SimTime;
    fn add(self, ns: u64) -> SimTime {
        SimTime(self.0 + ns)
    }
}

impl AddAssign<u64> for SimTime {
    fn add_assign(&mut self, ns: u64) {
        self.0 += ns;
    }
}

impl Sub for SimTime {
    type Output = u64;
    fn sub(self, other: SimTime) -> u64 {
        self.0 - other.0
    }
}

/// Seconds with nine decimals, the timeline's time column: `12.000034500`.
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.0 / NS_PER_SEC, self.0 % NS_PER_SEC)
    }
}

/// Parses a duration written as an integer with a unit: `ns`, `us`, `ms`, `s`, `m`
/// (`"980ms"`, `"1s"`, `"50us"`). Returns nanoseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (accepted units: ns, us, ms, s, m)"))?;
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a duration (expected an integer with a unit, e.g. 500ms)"
        ));
    }
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("`{digits}` is too large"))?;
    let scale = match unit {
        "ns" => 1,
        "us" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_SEC,
        "m" => 60 * NS_PER_SEC,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (accepted units: ns, us, ms, s, m)"
            ));
        }
    };
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Parses seconds as command-line tools write them: `1`, `0.2`, `0.001` (ping -i, arping -w).
pub fn parse_decimal_seconds(text: &str) -> Option<u64> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_ns: u64 = 0;
    for (i, c) in frac.chars().enumerate() {
        frac_ns += (c as u64 - '0' as u64) * 10u64.pow(8 - i as u32);
    }
    whole.checked_mul(NS_PER_SEC)?.checked_add(frac_ns)
}

/// Formats a duration for explanations: `1s`, `22.7s`, `850ms`, `40us`.
pub fn human_duration(ns: u64) -> String {
    if ns >= NS_PER_SEC {
        let tenths = (ns + NS_PER_SEC / 20) / (NS_PER_SEC / 10);
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    } else if ns >= NS_PER_MS {
        format!("{}ms", ns / NS_PER_MS)
    } else if ns >= NS_PER_US {
        format!("{}us", ns / NS_PER_US)
    } else {
        format!("{ns}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("980ms"), Ok(980 * NS_PER_MS));
        assert_eq!(parse_duration("1s"), Ok(NS_PER_SEC));
        assert_eq!(parse_duration("50us"), Ok(50_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("2m"), Ok(120 * NS_PER_SEC));
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_rejected() {
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("10h")
                .unwrap_err()
                .contains("unknown unit `h`")
        );
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn decimal_seconds_parse_like_ping_intervals() {
        assert_eq!(parse_decimal_seconds("0.001"), Some(NS_PER_MS));
        assert_eq!(parse_decimal_seconds("2"), Some(2 * NS_PER_SEC));
        assert_eq!(parse_decimal_seconds(".5"), Some(NS_PER_SEC / 2));
        assert_eq!(parse_decimal_seconds("1.2.3"), None);
        assert_eq!(parse_decimal_seconds("abc"), None);
    }

    #[test]
    fn time_displays_as_seconds_with_nine_decimals() {
        assert_eq!(SimTime(1_000_034_500).to_string(), "1.000034500");
        assert_eq!(SimTime::ZERO.to_string(), "0.000000000");
    }

    #[test]
    fn human_durations_round_to_tenths_of_seconds() {
        assert_eq!(human_duration(22_700_000_000), "22.7s");
        assert_eq!(human_duration(NS_PER_SEC), "1s");
        assert_eq!(human_duration(5 * NS_PER_MS), "5ms");
    }
}
