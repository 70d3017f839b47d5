//! The C number conversions ipvsadm leans on (`strtol`, `atoi`), so that every value the real
//! tool accepts or refuses is accepted or refused here too: leading blanks and a sign are fine,
//! trailing garbage is not, and an overflow is an error rather than a wrap.

/// C's `isspace` in the "C" locale.
pub(super) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// What `strtol(s, &end, 10)` sees: the value (clamped as glibc clamps on overflow), whether it
/// overflowed (ERANGE), and the unparsed rest (`end`); None when no digit was read (`end == s`).
struct Strtol<'a> {
    value: i64,
    overflow: bool,
    rest: Option<&'a str>,
}

fn strtol(s: &str) -> Strtol<'_> {
    let trimmed = s.trim_start_matches(is_c_space);
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Strtol {
            value: 0,
            overflow: false,
            rest: None,
        };
    }
    let magnitude = unsigned[..digits]
        .bytes()
        .try_fold(0i128, |acc, d| {
            let next = acc * 10 + i128::from(d - b'0');
            (next <= i128::from(u64::MAX)).then_some(next)
        })
        .unwrap_or(i128::from(u64::MAX));
    let signed = if negative { -magnitude } else { magnitude };
    let value = signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Strtol {
        value: value as i64,
        overflow: value != signed,
        rest: Some(&unsigned[digits..]),
    }
}

/// `string_to_number`: a whole decimal string within `min..=max`, else None (ipvsadm's -1).
pub(super) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let parsed = strtol(s);
    (parsed.rest == Some("") && !parsed.overflow && (min..=max).contains(&parsed.value))
        .then_some(parsed.value)
}

/// `parse_fwmark`: a whole decimal string in 1..=4294967295.
pub(super) fn fwmark(s: &str) -> Option<u32> {
    let parsed = strtol(s);
    if parsed.rest != Some("") || parsed.overflow {
        return None;
    }
    u32::try_from(parsed.value).ok().filter(|&mark| mark > 0)
}

/// `atoi`: glibc's `(int) strtol(s, NULL, 10)`, garbage ignored, the long truncated to 32 bits
/// (`-M 4294967360` on an IPv6 service really is a /64).
pub(super) fn atoi(s: &str) -> i32 {
    strtol(s).value as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipvsadm.md §3: option values go through strtol-based string_to_number.
    #[test]
    fn string_to_number_accepts_blanks_and_signs_but_not_garbage() {
        assert_eq!(string_to_number("80", 0, 65535), Some(80));
        assert_eq!(string_to_number(" +80", 0, 65535), Some(80));
        assert_eq!(string_to_number("-0", 0, 65535), Some(0));
        assert_eq!(string_to_number("080", 0, 65535), Some(80));
        assert_eq!(string_to_number("", 0, 65535), None);
        assert_eq!(string_to_number("+", 0, 65535), None);
        assert_eq!(string_to_number("80 ", 0, 65535), None);
        assert_eq!(string_to_number("0x50", 0, 65535), None);
        assert_eq!(string_to_number("65536", 0, 65535), None);
        assert_eq!(string_to_number("99999999999999999999", 0, i64::MAX), None);
    }

    // ipvsadm.md §3 `-f`: 1..4294967295.
    #[test]
    fn fwmark_range() {
        assert_eq!(fwmark("4294967295"), Some(u32::MAX));
        assert_eq!(fwmark("0"), None);
        assert_eq!(fwmark("4294967296"), None);
        assert_eq!(fwmark("-1"), None);
        assert_eq!(fwmark("7x"), None);
    }

    // ipvsadm.md §3 `-M` on IPv6 services: atoi.
    #[test]
    fn atoi_truncates_like_glibc() {
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("junk"), 0);
        assert_eq!(atoi("4294967360"), 64);
        assert_eq!(atoi("99999999999999999999"), -1);
    }
}
