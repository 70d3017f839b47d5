//! ipvsadm's tables: the popt option table (`parse_options`), the option names of its messages
//! (`optnames`), the command names (`cmdnames`) and the command × option legality matrix
//! (`commands_v_options`, checked by `generic_opt_check`), with the tunnel type × option matrix
//! (`tunnel_types_v_options`, `tunnel_opt_check`). The FULLNAT extension (design.md) adds the
//! `add-laddr`/`del-laddr`/`get-laddr` commands, the `local-address` option and `--fullnat`,
//! named as alibaba/LVS's ipvsadm names them.

use super::command::IpvsadmError;
use super::errors::fail;
use crate::lvs::service::TunnelType;

/// What a popt option hands back to `parse_options` (its `val`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    AddLaddr,
    DelLaddr,
    GetLaddr,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    FullNat,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    Syncid,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    Laddr,
}

/// popt's argument kinds: `POPT_ARG_NONE`, `POPT_ARG_STRING`, and
/// `POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL` (`-p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArgKind {
    None,
    Required,
    Optional,
}

/// One `struct poptOption`.
pub(super) struct OptSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub arg: ArgKind,
    pub tag: Tag,
}

const fn opt(long: &'static str, short: Option<char>, arg: ArgKind, tag: Tag) -> OptSpec {
    OptSpec {
        long,
        short,
        arg,
        tag,
    }
}

use ArgKind::{None as Flag, Optional, Required};

/// The popt table in ipvsadm 1.31's order (`--list` appears twice, `-L` first), then the
/// FULLNAT additions.
pub(super) const OPTIONS: &[OptSpec] = &[
    opt("add-service", Some('A'), Flag, Tag::AddService),
    opt("edit-service", Some('E'), Flag, Tag::EditService),
    opt("delete-service", Some('D'), Flag, Tag::DeleteService),
    opt("clear", Some('C'), Flag, Tag::Clear),
    opt("list", Some('L'), Flag, Tag::List),
    opt("list", Some('l'), Flag, Tag::List),
    opt("zero", Some('Z'), Flag, Tag::Zero),
    opt("add-server", Some('a'), Flag, Tag::AddServer),
    opt("edit-server", Some('e'), Flag, Tag::EditServer),
    opt("delete-server", Some('d'), Flag, Tag::DeleteServer),
    opt("set", None, Flag, Tag::Set),
    opt("help", Some('h'), Flag, Tag::Help),
    opt("version", Some('v'), Flag, Tag::Version),
    opt("restore", Some('R'), Flag, Tag::Restore),
    opt("save", Some('S'), Flag, Tag::Save),
    opt("start-daemon", None, Required, Tag::StartDaemon),
    opt("stop-daemon", None, Required, Tag::StopDaemon),
    opt("tcp-service", Some('t'), Required, Tag::TcpService),
    opt("udp-service", Some('u'), Required, Tag::UdpService),
    opt("sctp-service", None, Required, Tag::SctpService),
    opt("fwmark-service", Some('f'), Required, Tag::FwmarkService),
    opt("scheduler", Some('s'), Required, Tag::Scheduler),
    opt("persistent", Some('p'), Optional, Tag::Persistent),
    opt("netmask", Some('M'), Required, Tag::Netmask),
    opt("real-server", Some('r'), Required, Tag::RealServer),
    opt("masquerading", Some('m'), Flag, Tag::Masquerading),
    opt("ipip", Some('i'), Flag, Tag::Ipip),
    opt("gatewaying", Some('g'), Flag, Tag::Gatewaying),
    opt("weight", Some('w'), Required, Tag::Weight),
    opt("u-threshold", Some('x'), Required, Tag::UThreshold),
    opt("l-threshold", Some('y'), Required, Tag::LThreshold),
    opt("numeric", Some('n'), Flag, Tag::Numeric),
    opt("connection", Some('c'), Flag, Tag::Connection),
    opt("mcast-interface", None, Required, Tag::McastInterface),
    opt("syncid", None, Required, Tag::Syncid),
    opt("timeout", None, Flag, Tag::Timeout),
    opt("daemon", None, Flag, Tag::Daemon),
    opt("stats", None, Flag, Tag::Stats),
    opt("rate", None, Flag, Tag::Rate),
    opt("thresholds", None, Flag, Tag::Thresholds),
    opt("persistent-conn", None, Flag, Tag::PersistentConn),
    opt("nosort", None, Flag, Tag::NoSort),
    opt("sort", None, Flag, Tag::Sort),
    opt("exact", Some('X'), Flag, Tag::Exact),
    opt("ipv6", Some('6'), Flag, Tag::Ipv6),
    opt("ops", Some('o'), Flag, Tag::Ops),
    opt("pe", None, Required, Tag::Pe),
    opt("sched-flags", Some('b'), Required, Tag::SchedFlags),
    opt("mcast-group", None, Required, Tag::McastGroup),
    opt("mcast-port", None, Required, Tag::McastPort),
    opt("mcast-ttl", None, Required, Tag::McastTtl),
    opt("sync-maxlen", None, Required, Tag::SyncMaxlen),
    opt("tun-info", None, Flag, Tag::TunInfo),
    opt("tun-type", None, Required, Tag::TunType),
    opt("tun-port", None, Required, Tag::TunPort),
    opt("tun-nocsum", None, Flag, Tag::TunNocsum),
    opt("tun-csum", None, Flag, Tag::TunCsum),
    opt("tun-remcsum", None, Flag, Tag::TunRemcsum),
    opt("add-laddr", Some('P'), Flag, Tag::AddLaddr),
    opt("del-laddr", Some('Q'), Flag, Tag::DelLaddr),
    opt("get-laddr", Some('G'), Flag, Tag::GetLaddr),
    opt("laddr", Some('z'), Required, Tag::Laddr),
    opt("fullnat", None, Flag, Tag::FullNat),
];

/// The option columns of the legality matrix (`OPTC_*`), in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Col {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Syncid,
    Exact,
    OnePacket,
    PersistenceEngine,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    LocalAddress,
}

/// `optnames`, indexed by `Col`.
const OPT_NAMES: [&str; 35] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
    "local-address",
];

impl Col {
    pub(super) fn name(self) -> &'static str {
        OPT_NAMES[self as usize]
    }
}

const ALL_COLS: [Col; 35] = [
    Col::Numeric,
    Col::Connection,
    Col::Service,
    Col::Scheduler,
    Col::Persistent,
    Col::Netmask,
    Col::Server,
    Col::Forward,
    Col::Weight,
    Col::UThreshold,
    Col::LThreshold,
    Col::Mcast,
    Col::Timeout,
    Col::Daemon,
    Col::Stats,
    Col::Rate,
    Col::Thresholds,
    Col::PersistentConn,
    Col::NoSort,
    Col::Syncid,
    Col::Exact,
    Col::OnePacket,
    Col::PersistenceEngine,
    Col::SchedFlags,
    Col::McastGroup,
    Col::McastPort,
    Col::McastTtl,
    Col::SyncMaxlen,
    Col::TunInfo,
    Col::TunType,
    Col::TunPort,
    Col::TunNocsum,
    Col::TunCsum,
    Col::TunRemcsum,
    Col::LocalAddress,
];

/// The options seen so far (`unsigned long long options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct OptSet(u64);

impl OptSet {
    pub(super) fn has(self, col: Col) -> bool {
        self.0 & (1 << col as u32) != 0
    }

    /// `set_option`: a second use of an option is an error.
    pub(super) fn set(&mut self, col: Col) -> Result<(), IpvsadmError> {
        if self.has(col) {
            return Err(fail(format!("multiple '{}' options specified", col.name())));
        }
        self.0 |= 1 << col as u32;
        Ok(())
    }
}

/// The commands (`CMD_*`), in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
    AddLaddr,
    DelLaddr,
    GetLaddr,
}

/// `cmdnames` and `commands_v_options`, indexed by `Cmd`. Each row has one character per
/// `Col`: `+` required, `x` illegal, `1` at most one of the row's `1`s, ` ` optional.
///
/// Columns: `-n -c svc -s -p -M -r fwd -w -x -y mcif timeout daemon stats rate thresholds
/// pconn nosort syncid exact ops pe -b grp port ttl maxlen tun-info tun-type tun-port nocsum
/// csum remcsum laddr`.
const COMMANDS: [(&str, &str); 17] = [
    ("add-service", "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx"),
    ("edit-service", "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx"),
    ("delete-service", "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("flush", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("list", " 11xxxxxxxxx11       xxxxxxx xxxxxx"),
    ("add-server", "xx+xxx+    xxxxxxxxxxxxxxxxxx     x"),
    ("delete-server", "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("edit-server", "xx+xxx+    xxxxxxxxxxxxxxxxxx     x"),
    ("set", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("start-daemon", "xxxxxxxxxxx xxxxxxx xxxx    xxxxxxx"),
    ("stop-daemon", "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx"),
    ("restore", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("save", " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("zero", "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("add-laddr", "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+"),
    ("del-laddr", "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+"),
    ("get-laddr", " x xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
];

/// `generic_opt_check`: walk the command's row in column order; the first missing `+`,
/// present `x` or second `1` is the error.
pub(super) fn generic_opt_check(cmd: Cmd, options: OptSet) -> Result<(), IpvsadmError> {
    let (cmd_name, row) = COMMANDS[cmd as usize];
    let rules = ALL_COLS.iter().copied().zip(row.bytes());
    check_rules(rules, options, &format!("the '{cmd_name}' command"))
}

/// The walk shared by `generic_opt_check` and `tunnel_opt_check`.
fn check_rules(
    rules: impl Iterator<Item = (Col, u8)>,
    options: OptSet,
    context: &str,
) -> Result<(), IpvsadmError> {
    let mut first_exclusive: Option<Col> = None;
    for (col, rule) in rules {
        let name = col.name();
        match (options.has(col), rule) {
            (false, b'+') => {
                return Err(fail(format!(
                    "You need to supply the '{name}' option for {context}"
                )));
            }
            (true, b'x') => {
                return Err(fail(format!("Illegal '{name}' option with {context}")));
            }
            (true, b'1') => match first_exclusive {
                None => first_exclusive = Some(col),
                Some(first) => {
                    return Err(fail(format!(
                        "The option '{name}' conflicts with the '{}' option in {context}",
                        first.name()
                    )));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// `tunnel_types_v_options` over the columns tun-port, tun-nocsum, tun-csum, tun-remcsum.
fn tunnel_rules(kind: TunnelType) -> (&'static str, &'static str) {
    match kind {
        TunnelType::Ipip => ("ipip", "xxxx"),
        TunnelType::Gue => ("gue", "+111"),
        TunnelType::Gre => ("gre", "x11x"),
    }
}

/// `tunnel_opt_check`: the same walk over the tunnel options for the tunnel type.
pub(super) fn tunnel_opt_check(kind: TunnelType, options: OptSet) -> Result<(), IpvsadmError> {
    let (name, rules) = tunnel_rules(kind);
    let cols = [Col::TunPort, Col::TunNocsum, Col::TunCsum, Col::TunRemcsum];
    let rules = cols.into_iter().zip(rules.bytes());
    check_rules(rules, options, &format!("the '{name}' tunnel type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipvsadm.md §3 "Command × option legality": one rule per option column.
    #[test]
    fn every_matrix_row_covers_every_option() {
        for (name, row) in COMMANDS {
            assert_eq!(row.len(), OPT_NAMES.len(), "{name}");
            assert!(row.bytes().all(|b| b"+x1 ".contains(&b)), "{name}");
        }
        assert_eq!(ALL_COLS.len(), OPT_NAMES.len());
        assert!(ALL_COLS.iter().enumerate().all(|(i, &c)| c as usize == i));
    }
}
