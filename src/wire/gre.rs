//! GRE headers (RFC 2784 with RFC 2890's key and sequence number): built by IPVS's GRE
//! tunnel (`mangle::encapsulate_gre`), read by the tunnel receive path and the timeline.

/// The C bit: a checksum and a reserved word follow.
pub const FLAG_CSUM: u16 = 0x8000;
/// The K bit: a 4-byte key follows.
pub const FLAG_KEY: u16 = 0x2000;
/// The S bit: a 4-byte sequence number follows.
pub const FLAG_SEQ: u16 = 0x1000;
/// The protocol of an IPv4 payload (an EtherType).
pub const PROTO_IPV4: u16 = 0x0800;

/// What a GRE header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreHeader {
    pub flags: u16,
    pub version: u8,
    pub protocol: u16,
    /// Bytes before the payload: 4, plus 4 per optional field present.
    pub header_len: usize,
}

impl GreHeader {
    pub fn has_checksum(&self) -> bool {
        self.flags & FLAG_CSUM != 0
    }
}

/// Reads the header at the start of `data` (the payload follows it).
pub fn parse(data: &[u8]) -> Result<GreHeader, &'static str> {
    if data.len() < 4 {
        return Err("truncated GRE header");
    }
    let word = u16::from_be_bytes([data[0], data[1]]);
    let flags = word & !0x0007;
    let header_len = [FLAG_CSUM, FLAG_KEY, FLAG_SEQ]
        .iter()
        .filter(|&&bit| flags & bit != 0)
        .count()
        * 4
        + 4;
    if data.len() < header_len {
        return Err("truncated GRE header");
    }
    Ok(GreHeader {
        flags,
        version: (word & 0x0007) as u8,
        protocol: u16::from_be_bytes([data[2], data[3]]),
        header_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_lengthen_the_header() {
        let plain = parse(&[0, 0, 8, 0]).unwrap();
        assert_eq!(
            (plain.header_len, plain.protocol, plain.version),
            (4, PROTO_IPV4, 0)
        );
        assert_eq!(parse(&[0x80, 0, 8, 0, 0, 0, 0, 0]).unwrap().header_len, 8);
        assert_eq!(
            parse(&[0xb0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                .unwrap()
                .header_len,
            16
        );
        assert_eq!(parse(&[0, 1, 0x88, 0x0b]).unwrap().version, 1);
        assert!(parse(&[0x80, 0, 8, 0]).is_err());
        assert!(parse(&[0, 0]).is_err());
    }
}
