//! The protocol states IPVS tracks per connection (ip_vs_proto_tcp.c, ip_vs_proto_udp.c): the
//! TCP state tables for the three directions, the timeouts, and which states count as active.

use std::fmt;

/// An IPVS TCP state (`IP_VS_TCP_S_*`), in the kernel's numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    None = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait = 4,
    TimeWait = 5,
    Close = 6,
    CloseWait = 7,
    LastAck = 8,
    Listen = 9,
    Synack = 10,
}

const ALL: [TcpState; 11] = [
    TcpState::None,
    TcpState::Established,
    TcpState::SynSent,
    TcpState::SynRecv,
    TcpState::FinWait,
    TcpState::TimeWait,
    TcpState::Close,
    TcpState::CloseWait,
    TcpState::LastAck,
    TcpState::Listen,
    TcpState::Synack,
];

impl TcpState {
    pub fn from_index(index: u8) -> TcpState {
        ALL[index as usize % ALL.len()]
    }

    /// The name `/proc/net/ip_vs_conn` prints (`tcp_state_name_table`).
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Synack => "SYNACK",
        }
    }

    /// Active states count in ActiveConn (`tcp_state_active_table`, kernel ≥ 4.x).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::Synack
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which state table a packet goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client → server.
    Input,
    /// Server → client, seen by the director (NAT and FULLNAT only).
    Output,
    /// Client → server on a connection that never showed an output packet (DR, TUN, local).
    InputOnly,
}

/// The TCP flag that drives a transition: RST > SYN > FIN > ACK (`tcp_state_idx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFlag {
    Syn = 0,
    Fin = 1,
    Ack = 2,
    Rst = 3,
}

impl TcpFlag {
    /// The flag that counts for a segment; None when it has none of the four (→ CLOSE).
    pub fn of(syn: bool, fin: bool, ack: bool, rst: bool) -> Option<TcpFlag> {
        if rst {
            Some(TcpFlag::Rst)
        } else if syn {
            Some(TcpFlag::Syn)
        } else if fin {
            Some(TcpFlag::Fin)
        } else if ack {
            Some(TcpFlag::Ack)
        } else {
            None
        }
    }
}

use TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI,
    SynRecv as SR, SynSent as SS, TimeWait as TW,
};

/// `tcp_states[]`: [direction][flag][current state] → next state (ipvs-schedulers.md §3.2).
const TABLE: [[[TcpState; 11]; 4]; 3] = [
    // INPUT
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    // OUTPUT
    [
        [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // INPUT-ONLY
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// The next state for a segment; a segment with none of RST/SYN/FIN/ACK closes the entry.
pub fn next_state(current: TcpState, direction: Direction, flag: Option<TcpFlag>) -> TcpState {
    match flag {
        None => TcpState::Close,
        Some(flag) => TABLE[direction as usize][flag as usize][current as usize],
    }
}

/// The state timeouts in seconds (`tcp_timeouts[]`, `udp_timeouts[]`); `--set` changes
/// ESTABLISHED, FIN_WAIT and UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: [u32; 11],
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            tcp: [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120],
            udp: 300,
        }
    }
}

impl Timeouts {
    pub fn tcp(&self, state: TcpState) -> u32 {
        self.tcp[state as usize]
    }

    /// `ipvsadm --set tcp tcpfin udp`: 0 keeps a value.
    pub fn set(&mut self, tcp: u32, tcpfin: u32, udp: u32) {
        let keep_or = |old: u32, new: u32| if new == 0 { old } else { new };
        self.tcp[TcpState::Established as usize] =
            keep_or(self.tcp[TcpState::Established as usize], tcp);
        self.tcp[TcpState::FinWait as usize] =
            keep_or(self.tcp[TcpState::FinWait as usize], tcpfin);
        self.udp = keep_or(self.udp, udp);
    }

    /// What `ipvsadm -L --timeout` prints: (tcp, tcpfin, udp).
    pub fn listed(&self) -> (u32, u32, u32) {
        (
            self.tcp(TcpState::Established),
            self.tcp(TcpState::FinWait),
            self.udp,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ipvs-schedulers.md §3.2: a client SYN on a new entry gives SYN_RECV (active).
    #[test]
    fn syn_opens_into_syn_recv_which_is_active() {
        let s = next_state(TcpState::None, Direction::InputOnly, Some(TcpFlag::Syn));
        assert_eq!(s, TcpState::SynRecv);
        assert!(s.is_active());
    }

    /// §3.2 "useful consequences": a client FIN on ESTABLISHED is FIN_WAIT for DR (input-only)
    /// and CLOSE_WAIT for NAT (input).
    #[test]
    fn client_fin_differs_between_dr_and_nat() {
        let est = TcpState::Established;
        let fin = Some(TcpFlag::Fin);
        assert_eq!(
            next_state(est, Direction::InputOnly, fin),
            TcpState::FinWait
        );
        assert_eq!(next_state(est, Direction::Input, fin), TcpState::CloseWait);
    }

    /// §3.2: flag priority RST > SYN > FIN > ACK; no flag at all → CLOSE.
    #[test]
    fn flag_priority_and_no_flag() {
        assert_eq!(TcpFlag::of(true, true, true, true), Some(TcpFlag::Rst));
        assert_eq!(TcpFlag::of(true, true, true, false), Some(TcpFlag::Syn));
        assert_eq!(TcpFlag::of(false, true, true, false), Some(TcpFlag::Fin));
        assert_eq!(TcpFlag::of(false, false, false, false), None);
        assert_eq!(
            next_state(TcpState::Established, Direction::Input, None),
            TcpState::Close
        );
    }

    /// §3.2 last rows: input-only RST on SYNACK closes while input RST keeps SYN_RECV.
    #[test]
    fn rst_rows_differ_in_the_synack_column() {
        let rst = Some(TcpFlag::Rst);
        assert_eq!(
            next_state(TcpState::Synack, Direction::Input, rst),
            TcpState::SynRecv
        );
        assert_eq!(
            next_state(TcpState::Synack, Direction::InputOnly, rst),
            TcpState::Close
        );
        assert_eq!(
            next_state(TcpState::TimeWait, Direction::Output, rst),
            TcpState::TimeWait
        );
    }

    /// §3.3: `--set 0 5 0` changes only FIN_WAIT.
    #[test]
    fn set_zero_keeps_a_timeout() {
        let mut t = Timeouts::default();
        assert_eq!(t.listed(), (900, 120, 300));
        t.set(0, 5, 0);
        assert_eq!(t.listed(), (900, 5, 300));
        t.set(30, 0, 60);
        assert_eq!(t.listed(), (30, 5, 60));
        assert_eq!(t.tcp(TcpState::TimeWait), 120);
    }
}
