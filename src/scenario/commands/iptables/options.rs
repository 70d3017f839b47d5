//! do_parse's option tables: the options it records (and which commands forbid them),
//! getopt's short and long names, the extensions lvsim loads with their options, and the
//! matches and targets that exist but are not simulated.

use super::cmd;

/// The options do_parse records with set_option, in optflags order (`-n -s -d -p -j -v
/// -x -i -o --line-numbers`); the letter is how errors name them.
pub(super) const OPT_LETTERS: [char; 10] = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0'];
pub(super) const OPT_NUMERIC: usize = 0;
pub(super) const OPT_SOURCE: usize = 1;
pub(super) const OPT_DESTINATION: usize = 2;
pub(super) const OPT_PROTOCOL: usize = 3;
pub(super) const OPT_JUMP: usize = 4;
pub(super) const OPT_VERBOSE: usize = 5;
pub(super) const OPT_EXACT: usize = 6;
pub(super) const OPT_IN: usize = 7;
pub(super) const OPT_OUT: usize = 8;
pub(super) const OPT_LINE_NUMBERS: usize = 9;
/// The options `!` may precede (inverse_for_options).
pub(super) const INVERTIBLE: [usize; 5] =
    [OPT_SOURCE, OPT_DESTINATION, OPT_PROTOCOL, OPT_IN, OPT_OUT];

/// commands_v_options: which options each command forbids (`x`), in OPT_LETTERS order.
pub(super) const FORBIDDEN: &[(u16, &str)] = &[
    (cmd::INSERT, "x.....x..x"),
    (cmd::DELETE, "x.....x..x"),
    (cmd::DELETE_NUM, "xxxxx.xxxx"),
    (cmd::APPEND, "x.....x..x"),
    (cmd::LIST, ".xxxx..xx."),
    (cmd::FLUSH, "xxxxx.xxxx"),
    (cmd::ZERO, "xxxxx.xxxx"),
    (cmd::ZERO_NUM, "xxxxx.xxxx"),
    (cmd::SET_POLICY, "xxxxx.xxxx"),
    (cmd::LIST_RULES, "xxxxx.xxxx"),
];

/// Every option do_parse knows, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    Append,
    Check,
    Delete,
    Insert,
    Replace,
    List,
    ListRules,
    Flush,
    Zero,
    NewChain,
    DeleteChain,
    RenameChain,
    Policy,
    Source,
    Destination,
    Protocol,
    InInterface,
    OutInterface,
    Jump,
    Goto,
    Match,
    Fragment,
    SetCounters,
    Table,
    Numeric,
    Verbose,
    Exact,
    LineNumbers,
    Wait,
    WaitInterval,
    Version,
    Help,
    Modprobe,
    Ipv4,
    Ipv6,
    /// An extension's option, with its full name (the extensions' messages use it).
    Ext(Ext, ExtOpt, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HasArg {
    No,
    Required,
    /// Only attached (`-LINPUT`, `--list=INPUT`).
    Optional,
}

impl Opt {
    /// getopt_long's test for two names being one option: the same has_arg, flag and val.
    pub(super) fn same(self, other: Opt) -> bool {
        match (self, other) {
            (Opt::Ext(e1, o1, _), Opt::Ext(e2, o2, _)) => e1 == e2 && o1 == o2,
            _ => self == other,
        }
    }

    pub(super) fn has_arg(self) -> HasArg {
        match self {
            Opt::List | Opt::ListRules | Opt::Flush | Opt::Zero | Opt::DeleteChain => {
                HasArg::Optional
            }
            Opt::Help | Opt::Wait | Opt::WaitInterval => HasArg::Optional,
            Opt::Fragment
            | Opt::Numeric
            | Opt::Verbose
            | Opt::Exact
            | Opt::LineNumbers
            | Opt::Version
            | Opt::Ipv4
            | Opt::Ipv6
            | Opt::Ext(_, ExtOpt::Syn, _) => HasArg::No,
            _ => HasArg::Required,
        }
    }
}

/// The getopt string `A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fvw::W::nt:m:xc:g:46`.
pub(super) const SHORT: &[(char, Opt)] = &[
    ('A', Opt::Append),
    ('C', Opt::Check),
    ('D', Opt::Delete),
    ('R', Opt::Replace),
    ('I', Opt::Insert),
    ('L', Opt::List),
    ('S', Opt::ListRules),
    ('M', Opt::Modprobe),
    ('F', Opt::Flush),
    ('Z', Opt::Zero),
    ('N', Opt::NewChain),
    ('X', Opt::DeleteChain),
    ('E', Opt::RenameChain),
    ('P', Opt::Policy),
    ('V', Opt::Version),
    ('h', Opt::Help),
    ('o', Opt::OutInterface),
    ('p', Opt::Protocol),
    ('s', Opt::Source),
    ('d', Opt::Destination),
    ('j', Opt::Jump),
    ('i', Opt::InInterface),
    ('f', Opt::Fragment),
    ('v', Opt::Verbose),
    ('w', Opt::Wait),
    ('W', Opt::WaitInterval),
    ('n', Opt::Numeric),
    ('t', Opt::Table),
    ('m', Opt::Match),
    ('x', Opt::Exact),
    ('c', Opt::SetCounters),
    ('g', Opt::Goto),
    ('4', Opt::Ipv4),
    ('6', Opt::Ipv6),
];

/// original_opts in iptables/xtables.c, in order (getopt_long's prefix matching needs them).
pub(super) const LONG: &[(&str, Opt)] = &[
    ("append", Opt::Append),
    ("delete", Opt::Delete),
    ("check", Opt::Check),
    ("insert", Opt::Insert),
    ("replace", Opt::Replace),
    ("list", Opt::List),
    ("list-rules", Opt::ListRules),
    ("flush", Opt::Flush),
    ("zero", Opt::Zero),
    ("new-chain", Opt::NewChain),
    ("delete-chain", Opt::DeleteChain),
    ("rename-chain", Opt::RenameChain),
    ("policy", Opt::Policy),
    ("source", Opt::Source),
    ("destination", Opt::Destination),
    ("src", Opt::Source),
    ("dst", Opt::Destination),
    ("protocol", Opt::Protocol),
    ("in-interface", Opt::InInterface),
    ("jump", Opt::Jump),
    ("table", Opt::Table),
    ("match", Opt::Match),
    ("numeric", Opt::Numeric),
    ("out-interface", Opt::OutInterface),
    ("verbose", Opt::Verbose),
    ("wait", Opt::Wait),
    ("wait-interval", Opt::WaitInterval),
    ("exact", Opt::Exact),
    ("fragments", Opt::Fragment),
    ("version", Opt::Version),
    ("help", Opt::Help),
    ("line-numbers", Opt::LineNumbers),
    ("modprobe", Opt::Modprobe),
    ("set-counters", Opt::SetCounters),
    ("goto", Opt::Goto),
    ("ipv4", Opt::Ipv4),
    ("ipv6", Opt::Ipv6),
];

/// The extensions lvsim loads: two matches and two targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ext {
    Tcp,
    Udp,
    Mark,
    Reject,
}

/// The extensions' options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExtOpt {
    SourcePort,
    DestinationPort,
    Syn,
    TcpFlags,
    TcpOption,
    SetXmark,
    SetMark,
    AndMark,
    OrMark,
    XorMark,
    RejectWith,
}

const PORT_OPTIONS: [(&str, ExtOpt); 4] = [
    ("source-port", ExtOpt::SourcePort),
    ("sport", ExtOpt::SourcePort),
    ("destination-port", ExtOpt::DestinationPort),
    ("dport", ExtOpt::DestinationPort),
];

/// libxt_MARK.c mark_tg_opts, in table order (its exclusivity check walks this order).
pub(super) const MARK_OPTIONS: [(&str, ExtOpt); 5] = [
    ("set-xmark", ExtOpt::SetXmark),
    ("set-mark", ExtOpt::SetMark),
    ("and-mark", ExtOpt::AndMark),
    ("or-mark", ExtOpt::OrMark),
    ("xor-mark", ExtOpt::XorMark),
];

impl Ext {
    pub(super) fn options(self) -> &'static [(&'static str, ExtOpt)] {
        const TCP: [(&str, ExtOpt); 7] = [
            PORT_OPTIONS[0],
            PORT_OPTIONS[1],
            PORT_OPTIONS[2],
            PORT_OPTIONS[3],
            ("syn", ExtOpt::Syn),
            ("tcp-flags", ExtOpt::TcpFlags),
            ("tcp-option", ExtOpt::TcpOption),
        ];
        match self {
            Ext::Tcp => &TCP,
            Ext::Udp => &PORT_OPTIONS,
            Ext::Mark => &MARK_OPTIONS,
            Ext::Reject => &[("reject-with", ExtOpt::RejectWith)],
        }
    }
}

/// Matches that exist in iptables 1.8.7 but are not simulated (the rest are unknown).
pub(super) const OTHER_MATCHES: &[&str] = &[
    "addrtype",
    "ah",
    "bpf",
    "cgroup",
    "cluster",
    "comment",
    "connbytes",
    "connlabel",
    "connlimit",
    "connmark",
    "conntrack",
    "cpu",
    "dccp",
    "devgroup",
    "dscp",
    "ecn",
    "esp",
    "hashlimit",
    "helper",
    "icmp",
    "iprange",
    "ipvs",
    "length",
    "limit",
    "mac",
    "mark",
    "multiport",
    "nfacct",
    "osf",
    "owner",
    "physdev",
    "pkttype",
    "policy",
    "quota",
    "rateest",
    "realm",
    "recent",
    "rpfilter",
    "sctp",
    "set",
    "socket",
    "state",
    "statistic",
    "string",
    "tcpmss",
    "time",
    "tos",
    "ttl",
    "u32",
    "udplite",
];

/// Targets that exist in iptables 1.8.7 but are not simulated (the rest would be chains).
pub(super) const OTHER_TARGETS: &[&str] = &[
    "AUDIT",
    "CHECKSUM",
    "CLASSIFY",
    "CLUSTERIP",
    "CONNMARK",
    "CONNSECMARK",
    "CT",
    "DNAT",
    "DSCP",
    "ECN",
    "HMARK",
    "IDLETIMER",
    "LED",
    "LOG",
    "MASQUERADE",
    "NETMAP",
    "NFLOG",
    "NFQUEUE",
    "NOTRACK",
    "QUEUE",
    "RATEEST",
    "REDIRECT",
    "SECMARK",
    "SET",
    "SNAT",
    "SYNPROXY",
    "TCPMSS",
    "TCPOPTSTRIP",
    "TEE",
    "TOS",
    "TPROXY",
    "TRACE",
    "TTL",
    "ULOG",
];
