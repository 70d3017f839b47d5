//! GUE headers (Generic UDP Encapsulation, draft-ietf-intarea-gue): built by IPVS's GUE
//! tunnel (`mangle::encapsulate_gue`), read by FOU receive ports and by the director when an
//! ICMP error quotes one of its tunnel packets.

/// The fixed part of a version 0 header: version/control/hlen, protocol, flags.
pub const HEADER_LEN: usize = 4;

/// What a GUE header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GueHeader {
    /// 0, or 1: no GUE header at all, the payload is an IP packet (its first nibble says
    /// which version).
    pub version: u8,
    /// A control message, not data.
    pub control: bool,
    /// The payload's IP protocol (version 0); for version 1 the IP version nibble.
    pub proto: u8,
    pub flags: u16,
    /// Bytes before the payload: 4 plus the optional words (0 for version 1). Whether the
    /// options are all there is the reader's check: the kernel's two readers differ.
    pub header_len: usize,
}

/// Reads the header at the start of the UDP payload `data`.
pub fn parse(data: &[u8]) -> Result<GueHeader, &'static str> {
    let first = *data.first().ok_or("truncated GUE header")?;
    let version = first >> 6;
    if version == 1 {
        return Ok(GueHeader {
            version,
            control: false,
            proto: first >> 4,
            flags: 0,
            header_len: 0,
        });
    }
    if data.len() < HEADER_LEN {
        return Err("truncated GUE header");
    }
    Ok(GueHeader {
        version,
        control: first & 0x20 != 0,
        proto: data[1],
        flags: u16::from_be_bytes([data[2], data[3]]),
        header_len: HEADER_LEN + (first & 0x1f) as usize * 4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_options_and_truncation() {
        let plain = parse(&[0, 4, 0, 0]).unwrap();
        assert_eq!((plain.version, plain.proto, plain.header_len), (0, 4, 4));
        assert_eq!(
            parse(&[0x02, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                .unwrap()
                .header_len,
            12
        );
        assert!(parse(&[0x20, 0, 0, 0]).unwrap().control);
        let direct = parse(&[0x45, 0, 0, 20]).unwrap();
        assert_eq!((direct.version, direct.proto, direct.header_len), (1, 4, 0));
        assert_eq!(
            parse(&[0x02, 4, 0, 0]).unwrap().header_len,
            12,
            "options unchecked"
        );
        assert!(parse(&[0, 4]).is_err());
        assert!(parse(&[]).is_err());
    }
}
