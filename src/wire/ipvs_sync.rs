//! IPVS connection-sync messages, protocol version 1 (`net/netfilter/ipvs/ip_vs_sync.c`:
//! `struct ip_vs_sync_mesg` and `struct ip_vs_sync_v4`), as the master sync daemon sends
//! them in UDP datagrams to 224.0.0.81:8848 and a backup reads them.

use std::net::Ipv4Addr;

/// The default multicast group and port of the sync daemons.
pub const MCAST_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
pub const PORT: u16 = 8848;
/// The multicast TTL a master sends with unless `--mcast-ttl` says otherwise.
pub const DEFAULT_TTL: u8 = 1;
const HEADER_LEN: usize = 8;
/// One IPv4 connection without sequence options or persistence-engine data.
pub const CONN_LEN: usize = 36;
const VERSION: u8 = 1;

/// One connection as the master describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConn {
    pub protocol: u8,
    /// `IP_VS_CONN_F_*` (forwarding method in the low bits, TEMPLATE, INACTIVE, ...).
    pub flags: u32,
    /// The IPVS state number (TCP: NONE 0, ESTABLISHED 1, ... `ip_vs_proto_tcp.c`).
    pub state: u16,
    pub cport: u16,
    pub vport: u16,
    pub dport: u16,
    pub fwmark: u32,
    /// Seconds.
    pub timeout: u32,
    pub caddr: Ipv4Addr,
    pub vaddr: Ipv4Addr,
    pub daddr: Ipv4Addr,
}

/// A whole message: the sync id and the connections it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncMessage {
    pub syncid: u8,
    pub conns: Vec<SyncConn>,
}

impl SyncMessage {
    /// How many connections fit in a message of at most `maxlen` bytes.
    pub fn capacity(maxlen: usize) -> usize {
        maxlen.saturating_sub(HEADER_LEN) / CONN_LEN
    }

    pub fn emit(&self) -> Vec<u8> {
        let size = HEADER_LEN + CONN_LEN * self.conns.len();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&[0, self.syncid]);
        out.extend_from_slice(&(size as u16).to_be_bytes());
        out.extend_from_slice(&[self.conns.len() as u8, VERSION, 0, 0]);
        for c in &self.conns {
            out.extend_from_slice(&[0, c.protocol]);
            out.extend_from_slice(&(CONN_LEN as u16).to_be_bytes());
            out.extend_from_slice(&c.flags.to_be_bytes());
            for half in [c.state, c.cport, c.vport, c.dport] {
                out.extend_from_slice(&half.to_be_bytes());
            }
            out.extend_from_slice(&c.fwmark.to_be_bytes());
            out.extend_from_slice(&c.timeout.to_be_bytes());
            for addr in [c.caddr, c.vaddr, c.daddr] {
                out.extend_from_slice(&addr.octets());
            }
        }
        out
    }

    /// `ip_vs_process_message`'s checks: version 1 (reserved byte 0), the size field, and
    /// each connection's own size; IPv6 entries and options are refused here.
    pub fn parse(data: &[u8]) -> Result<SyncMessage, String> {
        if data.len() < HEADER_LEN {
            return Err("sync message too short".into());
        }
        if data[0] != 0 || data[5] != VERSION {
            return Err(format!(
                "sync message of protocol version {} (lvsim reads version 1)",
                if data[0] != 0 { 0 } else { data[5] }
            ));
        }
        let size = u16::from_be_bytes([data[2], data[3]]) as usize;
        if size != data.len() {
            return Err(format!(
                "sync message size {size} does not match {} bytes",
                data.len()
            ));
        }
        let count = data[4] as usize;
        let mut conns = Vec::with_capacity(count);
        let mut at = HEADER_LEN;
        for _ in 0..count {
            let entry = data
                .get(at..at + CONN_LEN)
                .ok_or("sync message ends inside a connection")?;
            let len = (u16::from_be_bytes([entry[2], entry[3]]) & 0x0fff) as usize;
            if entry[0] != 0 || len != CONN_LEN {
                return Err("IPv6 or optioned sync entries are not simulated".into());
            }
            conns.push(parse_conn(entry));
            at += CONN_LEN;
        }
        Ok(SyncMessage {
            syncid: data[1],
            conns,
        })
    }
}

fn parse_conn(e: &[u8]) -> SyncConn {
    let u16_at = |i: usize| u16::from_be_bytes([e[i], e[i + 1]]);
    let u32_at = |i: usize| u32::from_be_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]);
    let addr_at = |i: usize| Ipv4Addr::new(e[i], e[i + 1], e[i + 2], e[i + 3]);
    SyncConn {
        protocol: e[1],
        flags: u32_at(4),
        state: u16_at(8),
        cport: u16_at(10),
        vport: u16_at(12),
        dport: u16_at(14),
        fwmark: u32_at(16),
        timeout: u32_at(20),
        caddr: addr_at(24),
        vaddr: addr_at(28),
        daddr: addr_at(32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> SyncConn {
        SyncConn {
            protocol: 6,
            flags: 0x0003,
            state: 1,
            cport: 40000,
            vport: 80,
            dport: 80,
            fwmark: 0,
            timeout: 900,
            caddr: Ipv4Addr::new(192, 168, 188, 111),
            vaddr: Ipv4Addr::new(192, 168, 188, 120),
            daddr: Ipv4Addr::new(192, 168, 188, 107),
        }
    }

    #[test]
    fn a_message_round_trips_with_the_kernel_layout() {
        let msg = SyncMessage {
            syncid: 51,
            conns: vec![conn(), conn()],
        };
        let bytes = msg.emit();
        assert_eq!(bytes.len(), 8 + 2 * 36);
        assert_eq!(&bytes[..8], &[0, 51, 0, 80, 2, 1, 0, 0]);
        assert_eq!(&bytes[8..12], &[0, 6, 0, 36]);
        assert_eq!(SyncMessage::parse(&bytes), Ok(msg));
    }

    #[test]
    fn bad_messages_are_refused() {
        let mut bytes = SyncMessage {
            syncid: 1,
            conns: vec![conn()],
        }
        .emit();
        assert!(SyncMessage::parse(&bytes[..7]).is_err());
        assert!(SyncMessage::parse(&bytes[..40]).is_err());
        bytes[5] = 0;
        assert!(SyncMessage::parse(&bytes).is_err());
        assert_eq!(SyncMessage::capacity(1472), 40);
    }
}
