//! `iptables` as iptables 1.8.7 with the nf_tables backend parses and runs it (Debian 11,
//! RHEL 9): the filter table (`-A|-I|-D INPUT|FORWARD|OUTPUT`, `-F`, `-Z`, `-P`, `-L`,
//! `-S`) and mangle PREROUTING's MARK rules for IPVS fwmark services.
//!
//! The words are read the way `do_parse` (iptables/xtables.c) reads them with
//! getopt_long: short options bundle (`-nvL`), an optional argument must be attached
//! (`-Lnv` lists a chain named `nv`), long options may be abbreviated, `!` inverts the next
//! option, and an extension's options exist only once it is loaded (`-p tcp` loads the
//! `tcp` match on its first unknown option, so `--dport` before `-p tcp` is unknown). The
//! checks after the loop run in do_parse's order. Messages are iptables's own
//! (xtables_error prefixes `iptables v1.8.7 (nf_tables): `), from iptables/xshared.c,
//! libxtables/xtables.c, libxtables/xtoptions.c and the extensions libxt_tcp.c,
//! libxt_udp.c, libxt_MARK.c and libipt_REJECT.c. What lvsim does not simulate (user
//! chains, the nat table, other matches and targets) is refused by name.
//!
//! Failures the kernel or nf_tables report are runtime errors worded as iptables prints
//! them (nft_strerror in iptables/nft.c and mnl_append_error's `RULE_APPEND failed`).

use std::net::Ipv4Addr;

use super::args::Args;
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::stack::host::Host;
use crate::stack::netfilter::{
    AddrMatch, IfaceMatch, L4, ListFormat, Netfilter, NfError, Policy, PortMatch, PortRange,
    RejectWith, RuleSpec, Table, Target, print_rule, protocol_by_name, service_port,
};

/// What every xtables_error message starts with.
const PREFIX: &str = "iptables v1.8.7 (nf_tables): ";

const ACCEPTED: &str = "iptables [-t filter|mangle] -A|-I|-D CHAIN [!] [-p P] [-s A[/M]] [-d A[/M]] [-i IF] [-o IF] [-m tcp|udp] [--sport P] [--dport P] -j ACCEPT|DROP|REJECT|RETURN|MARK, -D CHAIN N, -F|-Z [CHAIN], -P CHAIN ACCEPT|DROP, -L|-S [CHAIN [N]] [-n] [-v] [-x] [--line-numbers]";

/// A parsed `iptables` command: the table and what to do, in order (`-L -Z` lists, then
/// zeroes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IptablesCommand {
    pub table: Table,
    /// `-v`: echo added and deleted rules, name flushed and zeroed chains.
    pub verbose: bool,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-V`: prints the version line and does nothing else.
    Version(&'static str),
    /// One rule per combination of the `-s` and `-d` addresses.
    Append {
        chain: String,
        rules: Vec<RuleSpec>,
    },
    Insert {
        chain: String,
        position: u32,
        rules: Vec<RuleSpec>,
    },
    Delete {
        chain: String,
        rules: Vec<RuleSpec>,
    },
    DeleteAt {
        chain: String,
        position: u32,
    },
    Flush {
        chain: Option<String>,
    },
    Zero {
        chain: Option<String>,
        position: Option<u32>,
    },
    /// The policy word is checked when it runs, as nft_chain_set does.
    Policy {
        chain: String,
        policy: String,
    },
    List {
        chain: Option<String>,
        position: Option<u32>,
        format: ListFormat,
    },
    ListRules {
        chain: Option<String>,
        position: Option<u32>,
        counters: bool,
    },
}

/// Commands, as the CMD_* bits of iptables/xshared.h (their bit order is what cmd2char
/// names them by).
mod cmd {
    pub const INSERT: u16 = 1 << 0;
    pub const DELETE: u16 = 1 << 1;
    pub const DELETE_NUM: u16 = 1 << 2;
    pub const APPEND: u16 = 1 << 4;
    pub const LIST: u16 = 1 << 5;
    pub const FLUSH: u16 = 1 << 6;
    pub const ZERO: u16 = 1 << 7;
    pub const SET_POLICY: u16 = 1 << 10;
    pub const LIST_RULES: u16 = 1 << 12;
    pub const ZERO_NUM: u16 = 1 << 13;
    /// cmd2char's table, indexed by bit.
    pub const LETTERS: &[u8] = b"IDDRALFZNXPESZC";
    /// The commands that take a rule specification.
    pub const WITH_RULE: u16 = INSERT | DELETE | APPEND;
}

/// The options do_parse records with set_option, in optflags order (`-n -s -d -p -j -v
/// -x -i -o --line-numbers`); the letter is how errors name them.
const OPT_LETTERS: [char; 10] = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0'];
const OPT_NUMERIC: usize = 0;
const OPT_SOURCE: usize = 1;
const OPT_DESTINATION: usize = 2;
const OPT_PROTOCOL: usize = 3;
const OPT_JUMP: usize = 4;
const OPT_VERBOSE: usize = 5;
const OPT_EXACT: usize = 6;
const OPT_IN: usize = 7;
const OPT_OUT: usize = 8;
const OPT_LINE_NUMBERS: usize = 9;
/// The options `!` may precede (inverse_for_options).
const INVERTIBLE: [usize; 5] = [OPT_SOURCE, OPT_DESTINATION, OPT_PROTOCOL, OPT_IN, OPT_OUT];

/// commands_v_options: which options each command forbids (`x`), in OPT_LETTERS order.
const FORBIDDEN: &[(u16, &str)] = &[
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
enum Opt {
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
enum HasArg {
    No,
    Required,
    /// Only attached (`-LINPUT`, `--list=INPUT`).
    Optional,
}

impl Opt {
    /// getopt_long's test for two names being one option: the same has_arg, flag and val.
    fn same(self, other: Opt) -> bool {
        match (self, other) {
            (Opt::Ext(e1, o1, _), Opt::Ext(e2, o2, _)) => e1 == e2 && o1 == o2,
            _ => self == other,
        }
    }

    fn has_arg(self) -> HasArg {
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
const SHORT: &[(char, Opt)] = &[
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
const LONG: &[(&str, Opt)] = &[
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
enum Ext {
    Tcp,
    Udp,
    Mark,
    Reject,
}

/// The extensions' options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtOpt {
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
const MARK_OPTIONS: [(&str, ExtOpt); 5] = [
    ("set-xmark", ExtOpt::SetXmark),
    ("set-mark", ExtOpt::SetMark),
    ("and-mark", ExtOpt::AndMark),
    ("or-mark", ExtOpt::OrMark),
    ("xor-mark", ExtOpt::XorMark),
];

impl Ext {
    fn options(self) -> &'static [(&'static str, ExtOpt)] {
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
const OTHER_MATCHES: &[&str] = &[
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
const OTHER_TARGETS: &[&str] = &[
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

/// XT_EXTENSION_MAXNAMELEN: chain and target names are shorter.
const MAX_NAME: usize = 29;

/// IFNAMSIZ - 1.
const MAX_IFNAME: usize = 15;

/// `-j`: what it named.
#[derive(Debug, Clone)]
enum Jump<'w> {
    Target(Target),
    /// MARK, with the options given so far (xflags) and its value/mask.
    Mark {
        given: Vec<(ExtOpt, &'w Word)>,
        value: u32,
        mask: u32,
    },
    /// A name that is no target: iptables looks for a chain of that name at the end.
    Chain(&'w Word),
}

/// A port match being built, and which of its options were given.
#[derive(Debug, Clone)]
struct PortState {
    spec: PortMatch,
    source_given: bool,
    destination_given: bool,
}

/// `-s`/`-d`: the text, whether inverted, and the word it came in.
#[derive(Debug, Clone, Copy)]
struct AddrArg<'w> {
    text: &'w str,
    invert: bool,
    word: &'w Word,
}

/// An option's argument: its text and the word it is in.
#[derive(Debug, Clone, Copy)]
struct Value<'w> {
    text: &'w str,
    word: &'w Word,
}

/// do_parse's state.
struct Parser<'a, 'w> {
    args: &'a Args<'w>,
    words: &'w [Word],
    next: usize,
    command: u16,
    chain: Option<Value<'w>>,
    rulenum: Option<u32>,
    policy: Option<Value<'w>>,
    table: Table,
    invert: Option<&'w Word>,
    options: [Option<&'w Word>; 10],
    proto: u8,
    proto_invert: bool,
    /// The implicit protocol match was loaded (cs->proto_used).
    proto_used: bool,
    src: Option<AddrArg<'w>>,
    dst: Option<AddrArg<'w>>,
    in_iface: Option<IfaceMatch>,
    out_iface: Option<IfaceMatch>,
    ports: Vec<PortState>,
    /// The extensions loaded, in order: their options resolve in this order.
    loaded: Vec<Ext>,
    jump: Option<(Jump<'w>, &'w Word)>,
    reject_given: bool,
    wait: Option<i64>,
    wait_interval: Option<&'w Word>,
    verbose: bool,
    version: Option<&'static str>,
}

pub fn parse(args: &mut Args) -> Result<IptablesCommand, Diagnostic> {
    let command = Parser::new(args).run()?;
    while args.take().is_some() {}
    Ok(command)
}

impl<'a, 'w> Parser<'a, 'w> {
    fn new(args: &'a Args<'w>) -> Parser<'a, 'w> {
        Parser {
            args,
            words: args.rest(),
            next: 0,
            command: 0,
            chain: None,
            rulenum: None,
            policy: None,
            table: Table::Filter,
            invert: None,
            options: [None; 10],
            proto: 0,
            proto_invert: false,
            proto_used: false,
            src: None,
            dst: None,
            in_iface: None,
            out_iface: None,
            ports: Vec::new(),
            loaded: Vec::new(),
            jump: None,
            reject_given: false,
            wait: None,
            wait_interval: None,
            verbose: false,
            version: None,
        }
    }

    fn run(mut self) -> Result<IptablesCommand, Diagnostic> {
        while self.version.is_none() {
            let Some(word) = self.words.get(self.next) else {
                break;
            };
            self.next += 1;
            self.word(word)?;
        }
        if let Some(line) = self.version {
            return Ok(IptablesCommand {
                table: self.table,
                verbose: false,
                actions: vec![Action::Version(line)],
            });
        }
        self.finish()
    }

    /// An iptables error at `word`: `iptables v1.8.7 (nf_tables): MESSAGE`.
    fn error(&self, word: &Word, message: impl std::fmt::Display) -> Diagnostic {
        self.args
            .error_at(word, format!("{PREFIX}{message}"))
            .with_help(format!("accepted: {ACCEPTED}"))
    }

    fn not_simulated(&self, word: &Word, what: &str, help: &str) -> Diagnostic {
        self.args
            .error_at(word, format!("iptables: {what} is not simulated"))
            .with_help(help.to_owned())
    }

    /// One argv element: `!`, a bundle of short options, a long option or a stray word.
    fn word(&mut self, word: &'w Word) -> Result<(), Diagnostic> {
        let text = word.text.as_str();
        if text == "!" {
            if self.invert.is_some() {
                return Err(self.error(word, "multiple consecutive ! not allowed"));
            }
            self.invert = Some(word);
            return Ok(());
        }
        if text == "--" {
            // getopt stops at `--`; whatever follows is left over.
            return match self.words.get(self.next) {
                Some(rest) => Err(self.error(rest, "unknown arguments found on commandline")),
                None => Ok(()),
            };
        }
        if let Some(long) = text.strip_prefix("--") {
            return self.long_option(word, long);
        }
        match text.strip_prefix('-').filter(|s| !s.is_empty()) {
            Some(letters) => self.short_options(word, letters),
            None => Err(self
                .args
                .error_at(word, format!("Bad argument `{text}'"))
                .with_help("Try `iptables -h' or 'iptables --help' for more information.")),
        }
    }

    fn short_options(&mut self, word: &'w Word, letters: &'w str) -> Result<(), Diagnostic> {
        for (at, letter) in letters.char_indices() {
            let Some(&(_, opt)) = SHORT.iter().find(|(c, _)| *c == letter) else {
                return Err(self.error(word, format!("unknown option \"{}\"", word.text)));
            };
            let rest = &letters[at + letter.len_utf8()..];
            let attached = (!rest.is_empty()).then_some(Value { text: rest, word });
            match opt.has_arg() {
                HasArg::No => self.apply(opt, None, word)?,
                HasArg::Optional => return self.apply(opt, attached, word),
                HasArg::Required => {
                    let value = match attached {
                        Some(value) => value,
                        None => self.required_argument(word)?,
                    };
                    return self.apply(opt, Some(value), word);
                }
            }
        }
        Ok(())
    }

    fn long_option(&mut self, word: &'w Word, long: &'w str) -> Result<(), Diagnostic> {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(Value { text: value, word })),
            None => (long, None),
        };
        let opt = match self.lookup(name) {
            Some(opt) => opt,
            None if self.load_protocol_match() => self
                .lookup(name)
                .ok_or_else(|| self.error(word, format!("unknown option \"{}\"", word.text)))?,
            None => {
                return Err(self.unknown_long(word, name));
            }
        };
        let value = match (opt.has_arg(), inline) {
            (HasArg::No, Some(_)) => {
                return Err(self.error(word, format!("unknown option \"{}\"", word.text)));
            }
            (HasArg::Required, None) => Some(self.required_argument(word)?),
            (_, inline) => inline,
        };
        self.apply(opt, value, word)
    }

    /// An unknown long option; `--icmp-type` is known to iptables (the icmp match `-p icmp`
    /// loads) but not simulated.
    fn unknown_long(&self, word: &Word, name: &str) -> Diagnostic {
        if self.proto == 1 && "icmp-type".starts_with(name) && !name.is_empty() {
            return self.not_simulated(
                word,
                "`--icmp-type`",
                "an icmp rule matches every ICMP type in lvsim; leave --icmp-type out",
            );
        }
        self.error(word, format!("unknown option \"{}\"", word.text))
    }

    /// getopt_long's lookup: an exact name, else an unambiguous prefix, among the main
    /// options and those of the extensions loaded so far.
    fn lookup(&self, name: &str) -> Option<Opt> {
        let mut known: Vec<(&str, Opt)> = LONG.to_vec();
        for &ext in &self.loaded {
            known.extend(ext.options().iter().map(|&(n, o)| (n, Opt::Ext(ext, o, n))));
        }
        if let Some(&(_, opt)) = known.iter().find(|(n, _)| *n == name) {
            return Some(opt);
        }
        let mut candidates = known.iter().filter(|(n, _)| n.starts_with(name));
        let first = candidates.next()?.1;
        (!name.is_empty() && candidates.all(|(_, opt)| opt.same(first))).then_some(first)
    }

    /// command_default's load_proto: with `-p tcp|udp` given, the first unknown option
    /// loads that protocol's match once, then the option is looked up again.
    fn load_protocol_match(&mut self) -> bool {
        let l4 = match self.proto {
            6 => L4::Tcp,
            17 => L4::Udp,
            _ => return false,
        };
        if self.proto_used {
            return false;
        }
        self.proto_used = true;
        self.add_port_match(l4);
        true
    }

    fn add_port_match(&mut self, l4: L4) {
        self.ports.push(PortState {
            spec: PortMatch::new(l4),
            source_given: false,
            destination_given: false,
        });
        let ext = match l4 {
            L4::Tcp => Ext::Tcp,
            L4::Udp => Ext::Udp,
        };
        if !self.loaded.contains(&ext) {
            self.loaded.push(ext);
        }
    }

    /// The next word as a required argument, whatever it looks like (getopt takes it).
    fn required_argument(&mut self, option: &Word) -> Result<Value<'w>, Diagnostic> {
        let word = self.words.get(self.next).ok_or_else(|| {
            self.error(
                option,
                format!("option \"{}\" requires an argument", option.text),
            )
        })?;
        self.next += 1;
        Ok(Value {
            text: &word.text,
            word,
        })
    }

    /// xs_has_arg: the next word, if it does not start with `-` or `!`.
    fn optional_word(&mut self) -> Option<Value<'w>> {
        let word = self
            .words
            .get(self.next)
            .filter(|w| !w.text.starts_with(['-', '!']))?;
        self.next += 1;
        Some(Value {
            text: &word.text,
            word,
        })
    }

    fn apply(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
    ) -> Result<(), Diagnostic> {
        let invert = self.invert.take().is_some();
        match opt {
            Opt::Append | Opt::Delete | Opt::Insert | Opt::Policy => {
                self.rule_command(opt, value, word, invert)
            }
            Opt::List | Opt::ListRules | Opt::Flush | Opt::Zero => {
                self.chain_command(opt, value, word, invert)
            }
            Opt::Check | Opt::Replace => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                "delete the rule and add it again (-D, then -A or -I)",
            )),
            Opt::NewChain | Opt::DeleteChain | Opt::RenameChain | Opt::Goto => Err(self
                .not_simulated(
                    word,
                    "user-defined chains",
                    "put the rules in the built-in chains",
                )),
            Opt::Fragment | Opt::SetCounters | Opt::Help => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                &format!("accepted: {ACCEPTED}"),
            )),
            Opt::Protocol => self.protocol(value, word, invert),
            Opt::Source | Opt::Destination => self.address(opt, value, word, invert),
            Opt::InInterface | Opt::OutInterface => self.interface(opt, value, word, invert),
            Opt::Jump => self.jump(value, word, invert),
            Opt::Match => self.load_match(value, word, invert),
            Opt::Table => self.table(value, word, invert),
            Opt::Numeric => self.set_option(OPT_NUMERIC, word, invert).map(drop),
            Opt::Exact => self.set_option(OPT_EXACT, word, invert).map(drop),
            Opt::LineNumbers => self.set_option(OPT_LINE_NUMBERS, word, invert).map(drop),
            Opt::Verbose => {
                if !self.verbose {
                    self.set_option(OPT_VERBOSE, word, invert)?;
                }
                self.verbose = true;
                Ok(())
            }
            Opt::Wait => self.wait(value, word),
            Opt::WaitInterval => self.wait_interval(value, word),
            Opt::Version => {
                self.version = Some(if invert {
                    "Not 1.8.7 ;-)"
                } else {
                    "iptables v1.8.7 (nf_tables)"
                });
                Ok(())
            }
            Opt::Modprobe | Opt::Ipv4 => Ok(()),
            Opt::Ipv6 => Err(self.args.error_at(
                word,
                "Try `iptables -h' or 'iptables --help' for more information.",
            )),
            Opt::Ext(_, option, name) => self.extension_option(option, name, value, word, invert),
        }
    }

    /// add_command: `!` is refused and a second command must be one that combines.
    fn add_command(
        &mut self,
        new: u16,
        others: u16,
        word: &Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected '!' flag"));
        }
        let clash = self.command & !others;
        if clash != 0 {
            return Err(self.error(
                word,
                format!(
                    "Cannot use -{} with -{}",
                    cmd_letter(new),
                    cmd_letter(clash)
                ),
            ));
        }
        self.command |= new;
        Ok(())
    }

    /// `-A|-D|-I CHAIN` (with `-D CHAIN N` and `-I CHAIN [N]`) and `-P CHAIN POLICY`.
    fn rule_command(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let new = match opt {
            Opt::Append => cmd::APPEND,
            Opt::Delete => cmd::DELETE,
            Opt::Insert => cmd::INSERT,
            _ => cmd::SET_POLICY,
        };
        self.add_command(new, 0, word, invert)?;
        self.chain = value;
        match opt {
            Opt::Delete => {
                if let Some(number) = self.optional_word() {
                    self.rulenum = Some(self.rule_number(number)?);
                    self.command = cmd::DELETE_NUM;
                }
            }
            Opt::Insert => {
                self.rulenum = Some(match self.optional_word() {
                    Some(number) => self.rule_number(number)?,
                    None => 1,
                });
            }
            Opt::Policy => {
                let policy = self
                    .optional_word()
                    .ok_or_else(|| self.error(word, "-P requires a chain and a policy"))?;
                self.policy = Some(policy);
            }
            _ => {}
        }
        Ok(())
    }

    /// `-L|-S [CHAIN [N]]`, `-F [CHAIN]`, `-Z [CHAIN [N]]`.
    fn chain_command(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let (new, others) = match opt {
            Opt::List => (cmd::LIST, cmd::ZERO | cmd::ZERO_NUM),
            Opt::ListRules => (cmd::LIST_RULES, cmd::ZERO | cmd::ZERO_NUM),
            Opt::Flush => (cmd::FLUSH, 0),
            _ => (cmd::ZERO, cmd::LIST | cmd::LIST_RULES),
        };
        self.add_command(new, others, word, invert)?;
        if let Some(chain) = value.or_else(|| self.optional_word()) {
            self.chain = Some(chain);
        }
        if opt != Opt::Flush
            && let Some(number) = self.optional_word()
        {
            self.rulenum = Some(self.rule_number(number)?);
            if opt == Opt::Zero {
                self.command = cmd::ZERO_NUM;
            }
        }
        Ok(())
    }

    /// parse_rulenumber: 1 to INT_MAX.
    fn rule_number(&self, value: Value) -> Result<u32, Diagnostic> {
        strtoul_whole(value.text, 1, i32::MAX as u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.error(value.word, format!("Invalid rule number `{}'", value.text)))
    }

    /// set_option: each option once, `!` only before those that can be inverted.
    fn set_option(
        &mut self,
        option: usize,
        word: &'w Word,
        invert: bool,
    ) -> Result<bool, Diagnostic> {
        let letter = OPT_LETTERS[option];
        if self.options[option].is_some() {
            return Err(self.error(word, format!("multiple -{letter} flags not allowed")));
        }
        self.options[option] = Some(word);
        if invert && !INVERTIBLE.contains(&option) {
            return Err(self.error(word, format!("cannot have ! before -{letter}")));
        }
        Ok(invert)
    }

    /// `-p`: lower-cased, then a number, `all`, /etc/protocols or xtables_chain_protos.
    fn protocol(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        self.set_option(OPT_PROTOCOL, word, invert)?;
        let value = argument(value, word);
        let name = value.text.to_lowercase();
        let proto = strtoul_whole(&name, 0, u8::MAX.into())
            .and_then(|n| u8::try_from(n).ok())
            .or_else(|| protocol_by_name(&name))
            .ok_or_else(|| {
                self.error(value.word, format!("unknown protocol \"{name}\" specified"))
            })?;
        if proto == 0 && invert {
            return Err(self.error(value.word, "rule would never match protocol"));
        }
        self.proto = proto;
        self.proto_invert = invert;
        Ok(())
    }

    /// `-s`/`-d`: only remembered; the addresses are parsed after the loop (post_parse).
    fn address(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let source = opt == Opt::Source;
        self.set_option(
            if source { OPT_SOURCE } else { OPT_DESTINATION },
            word,
            invert,
        )?;
        let value = argument(value, word);
        let arg = Some(AddrArg {
            text: value.text,
            invert,
            word: value.word,
        });
        if source {
            self.src = arg;
        } else {
            self.dst = arg;
        }
        Ok(())
    }

    /// `-i`/`-o` (xtables_parse_interface).
    fn interface(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let value = argument(value, word);
        if value.text.is_empty() {
            return Err(self.error(value.word, "Empty interface is likely to be undesired"));
        }
        let incoming = opt == Opt::InInterface;
        self.set_option(if incoming { OPT_IN } else { OPT_OUT }, word, invert)?;
        if value.text.len() > MAX_IFNAME {
            return Err(self.error(
                value.word,
                format!(
                    "interface name `{}' must be shorter than IFNAMSIZ ({MAX_IFNAME})",
                    value.text
                ),
            ));
        }
        let iface = Some(IfaceMatch {
            name: value.text.to_owned(),
            invert,
        });
        if incoming {
            self.in_iface = iface;
        } else {
            self.out_iface = iface;
        }
        Ok(())
    }

    /// `-j` (command_jump): a standard verdict, REJECT or MARK loads its options; another
    /// name is taken for a chain.
    fn jump(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        self.set_option(OPT_JUMP, word, invert)?;
        let value = argument(value, word);
        let name = value.text;
        if name.is_empty() {
            return Err(self.error(value.word, "Invalid target name (too short)"));
        }
        if name.len() >= MAX_NAME {
            return Err(self.error(
                value.word,
                format!("Invalid target name `{name}' ({} chars max)", MAX_NAME - 1),
            ));
        }
        if name.contains(char::is_whitespace) {
            return Err(self.error(value.word, format!("Invalid target name `{name}'")));
        }
        let jump = match name {
            "ACCEPT" => Jump::Target(Target::Accept),
            "DROP" => Jump::Target(Target::Drop),
            "RETURN" => Jump::Target(Target::Return),
            "REJECT" => {
                self.loaded.push(Ext::Reject);
                Jump::Target(Target::Reject(RejectWith::IcmpPortUnreachable))
            }
            "MARK" => {
                self.loaded.push(Ext::Mark);
                Jump::Mark {
                    given: Vec::new(),
                    value: 0,
                    mask: 0,
                }
            }
            other if OTHER_TARGETS.contains(&other) => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("the {other} target"),
                    "lvsim simulates ACCEPT, DROP, REJECT, RETURN and MARK",
                ));
            }
            _ => Jump::Chain(value.word),
        };
        self.jump = Some((jump, word));
        Ok(())
    }

    /// `-m` (command_match): tcp and udp are simulated.
    fn load_match(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected ! flag before --match"));
        }
        let value = argument(value, word);
        match value.text {
            "tcp" => self.add_port_match(L4::Tcp),
            "udp" => self.add_port_match(L4::Udp),
            other if OTHER_MATCHES.contains(&other) => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("`-m {other}`"),
                    "lvsim simulates the tcp and udp matches (--sport, --dport)",
                ));
            }
            other => {
                return Err(self.error(
                    value.word,
                    format!("Couldn't load match `{other}':No such file or directory"),
                ));
            }
        }
        Ok(())
    }

    /// `-t`: the tables nf_tables knows; lvsim simulates filter and mangle.
    fn table(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected ! flag before --table"));
        }
        let value = argument(value, word);
        self.table = match value.text {
            "filter" => Table::Filter,
            "mangle" => Table::Mangle,
            "nat" | "raw" | "security" => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("the {} table", value.text),
                    "lvsim simulates the filter table and mangle PREROUTING (MARK)",
                ));
            }
            other => {
                return Err(self.error(value.word, format!("table '{other}' does not exist")));
            }
        };
        Ok(())
    }

    /// `-w [SECONDS]` (parse_wait_time): accepted; lvsim never waits for the xtables lock.
    fn wait(&mut self, value: Option<Value<'w>>, word: &Word) -> Result<(), Diagnostic> {
        let seconds = match value.or_else(|| self.optional_word()) {
            None => -1,
            Some(v) => leading_integer(v.text)
                .ok_or_else(|| self.error(word, "wait seconds not numeric"))?,
        };
        self.wait = Some(seconds);
        Ok(())
    }

    /// `-W [USECS]` (parse_wait_interval).
    fn wait_interval(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
    ) -> Result<(), Diagnostic> {
        let value = value
            .or_else(|| self.optional_word())
            .ok_or_else(|| self.error(word, "wait interval value required"))?;
        let usecs = leading_integer(value.text)
            .filter(|n| *n >= 0)
            .ok_or_else(|| self.error(value.word, "wait interval not numeric"))?;
        if usecs > 999_999 {
            return Err(self.error(
                value.word,
                format!("too long usec wait {usecs} > 999999 usec"),
            ));
        }
        self.wait_interval = Some(word);
        Ok(())
    }

    fn extension_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let value = argument(value, word);
        match option {
            ExtOpt::SourcePort | ExtOpt::DestinationPort => {
                self.port_option(option, name, value, word, invert)
            }
            ExtOpt::Syn | ExtOpt::TcpFlags | ExtOpt::TcpOption => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                "lvsim's tcp match compares ports (--sport, --dport)",
            )),
            ExtOpt::RejectWith => self.reject_with(value, word, invert),
            _ => self.mark_option(option, name, value, word, invert),
        }
    }

    /// `--sport`/`--dport` go to the first port match loaded (command_default's order;
    /// the options exist only once one is).
    fn port_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let Some(first) = self.ports.first() else {
            return Err(self.error(word, format!("unknown option \"{}\"", word.text)));
        };
        let source = option == ExtOpt::SourcePort;
        let given = if source {
            first.source_given
        } else {
            first.destination_given
        };
        let l4 = first.spec.l4;
        if given {
            return Err(self.error(
                word,
                match l4 {
                    L4::Tcp => format!(
                        "Only one `--{}' allowed",
                        if source {
                            "source-port"
                        } else {
                            "destination-port"
                        }
                    ),
                    L4::Udp => format!("udp: option \"--{name}\" can only be used once."),
                },
            ));
        }
        let (min, max) = match l4 {
            L4::Tcp => tcp_ports(value.text),
            L4::Udp => udp_ports(value.text, name),
        }
        .map_err(|message| self.error(value.word, message))?;
        let range = PortRange { min, max, invert };
        let state = &mut self.ports[0];
        if source {
            state.spec.sport = range;
            state.source_given = true;
        } else {
            state.spec.dport = range;
            state.destination_given = true;
        }
        Ok(())
    }

    /// `--reject-with`: a case-insensitive prefix of a name or alias, in table order.
    fn reject_with(
        &mut self,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if self.reject_given {
            return Err(self.error(
                word,
                "REJECT: option \"--reject-with\" can only be used once.",
            ));
        }
        if invert {
            return Err(self.error(word, "REJECT: option \"--reject-with\" cannot be inverted."));
        }
        let wanted = value.text.to_ascii_lowercase();
        let with = RejectWith::ALL
            .into_iter()
            .find(|w| w.name().starts_with(&wanted) || w.alias().starts_with(&wanted))
            .ok_or_else(|| {
                self.error(
                    value.word,
                    format!("unknown reject type \"{}\"", value.text),
                )
            })?;
        self.reject_given = true;
        if let Some((Jump::Target(target), _)) = &mut self.jump {
            *target = Target::Reject(with);
        }
        Ok(())
    }

    /// MARK's options (libxt_MARK.c mark_tg_parse): each at most once.
    fn mark_option(
        &mut self,
        option: ExtOpt,
        name: &str,
        value: Value<'w>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let Some((Jump::Mark { given, .. }, _)) = &self.jump else {
            return Err(self.error(word, format!("unknown option \"{}\"", word.text)));
        };
        if given.iter().any(|(o, _)| *o == option) {
            return Err(self.error(
                word,
                format!("MARK: option \"--{name}\" can only be used once."),
            ));
        }
        if invert {
            return Err(self.error(
                word,
                format!("MARK: option \"--{name}\" cannot be inverted."),
            ));
        }
        let (value, mask) = match option {
            ExtOpt::SetXmark | ExtOpt::SetMark => {
                let (mark, mask) =
                    mark_mask(value.text, name).map_err(|m| self.error(value.word, m))?;
                if option == ExtOpt::SetMark {
                    (mark, mark | mask)
                } else {
                    (mark, mask)
                }
            }
            _ => {
                let bits = strtoul_whole(value.text, 0, u32::MAX.into())
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        self.error(
                            value.word,
                            format!("MARK: bad value for option \"--{name}\", or out of range (0-4294967295)."),
                        )
                    })?;
                match option {
                    ExtOpt::AndMark => (0, !bits),
                    ExtOpt::OrMark => (bits, bits),
                    _ => (bits, 0),
                }
            }
        };
        if let Some((
            Jump::Mark {
                given,
                value: v,
                mask: m,
            },
            _,
        )) = &mut self.jump
        {
            given.push((option, word));
            *v = value;
            *m = mask;
        }
        Ok(())
    }

    /// The checks do_parse makes after its loop, in its order, then the rule or command.
    fn finish(self) -> Result<IptablesCommand, Diagnostic> {
        if let Some(word) = self.wait_interval.filter(|_| self.wait.unwrap_or(0) == 0) {
            return Err(self.error(word, "--wait-interval only makes sense with --wait"));
        }
        let target = self.final_target()?;
        if self.command == 0 {
            return Err(self
                .args
                .error_whole(format!("{PREFIX}no command specified"))
                .with_help(format!("accepted: {ACCEPTED}")));
        }
        if let Some(word) = self.invert {
            return Err(self.error(word, "nothing appropriate following !"));
        }
        let addresses = self.post_parse()?;
        self.generic_opt_check()?;
        if let Some(chain) = self.chain.filter(|c| c.text.len() >= MAX_NAME) {
            return Err(self.error(
                chain.word,
                format!(
                    "chain name `{}' too long (must be under {MAX_NAME} chars)",
                    chain.text
                ),
            ));
        }
        self.direction_check()?;
        if let Some(Jump::Chain(name)) = self.jump.as_ref().map(|(j, _)| j) {
            return Err(self.error(name, format!("Chain '{}' does not exist", name.text)));
        }
        self.simulated_check(target)?;
        let actions = self.actions(target, addresses);
        Ok(IptablesCommand {
            table: self.table,
            verbose: self.verbose,
            actions,
        })
    }

    /// The target's final check (mark_tg_check, then the options' exclusivity).
    fn final_target(&self) -> Result<Option<Target>, Diagnostic> {
        match &self.jump {
            None | Some((Jump::Chain(_), _)) => Ok(None),
            Some((Jump::Target(target), _)) => Ok(Some(*target)),
            Some((Jump::Mark { given, value, mask }, word)) => {
                if given.is_empty() {
                    return Err(self.error(
                        word,
                        "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                    ));
                }
                if let Some(clash) = mark_clash(given) {
                    return Err(self.error(clash.1, clash.0));
                }
                Ok(Some(Target::Mark {
                    value: *value,
                    mask: *mask,
                }))
            }
        }
    }

    /// post_parse: rule commands default to 0.0.0.0/0, then both lists are parsed.
    fn post_parse(&self) -> Result<(Vec<AddrMatch>, Vec<AddrMatch>), Diagnostic> {
        let defaulted = self.command & cmd::WITH_RULE != 0;
        let parse = |arg: Option<AddrArg>| match arg {
            None if defaulted => Ok(vec![AddrMatch::default()]),
            None => Ok(Vec::new()),
            Some(arg) => parse_addresses(arg.text, arg.invert).map_err(|m| self.error(arg.word, m)),
        };
        let src = parse(self.src)?;
        let dst = parse(self.dst)?;
        let inverted = [self.src, self.dst]
            .into_iter()
            .flatten()
            .find(|a| a.invert);
        if let Some(arg) = inverted.filter(|_| src.len() > 1 || dst.len() > 1) {
            return Err(self.error(
                arg.word,
                "! not allowed with multiple source or destination IP addresses",
            ));
        }
        Ok((src, dst))
    }

    /// generic_opt_check: an option is legal if any of the commands given allows it.
    fn generic_opt_check(&self) -> Result<(), Diagnostic> {
        for (option, word) in self.options.iter().enumerate() {
            let Some(word) = word else { continue };
            let mut legal = false;
            let mut illegal = false;
            for (command, forbidden) in FORBIDDEN {
                if self.command & command == 0 {
                    continue;
                }
                if forbidden.as_bytes()[option] == b'x' {
                    illegal = true;
                } else {
                    legal = true;
                }
            }
            if illegal && !legal {
                return Err(self.error(
                    word,
                    format!(
                        "Illegal option `-{}' with this command",
                        OPT_LETTERS[option]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `-o` means nothing to incoming packets, `-i` to outgoing ones.
    fn direction_check(&self) -> Result<(), Diagnostic> {
        let rule_command = cmd::WITH_RULE | cmd::DELETE_NUM;
        let Some(chain) = self.chain.filter(|_| self.command & rule_command != 0) else {
            return Ok(());
        };
        let refused = match chain.text {
            "PREROUTING" | "INPUT" => self.options[OPT_OUT].map(|w| ('o', w)),
            "POSTROUTING" | "OUTPUT" => self.options[OPT_IN].map(|w| ('i', w)),
            _ => None,
        };
        match refused {
            Some((letter, word)) => {
                Err(self.error(word, format!("Can't use -{letter} with {}", chain.text)))
            }
            None => Ok(()),
        }
    }

    /// What lvsim leaves out: mangle only marks in PREROUTING; filter does not mark.
    fn simulated_check(&self, target: Option<Target>) -> Result<(), Diagnostic> {
        let adding = self.command & (cmd::APPEND | cmd::INSERT) != 0;
        let chain = self.chain.map_or("", |c| c.text);
        let jump_word = self.jump.as_ref().map(|(_, w)| *w);
        match self.table {
            Table::Mangle => {
                let other_hook = ["INPUT", "FORWARD", "OUTPUT", "POSTROUTING"].contains(&chain);
                if let Some(chain_word) = self.chain.filter(|_| adding && other_hook) {
                    return Err(self.not_simulated(
                        chain_word.word,
                        &format!("mangle {chain}"),
                        "lvsim's mangle table marks packets in PREROUTING",
                    ));
                }
                let dropping = match (self.policy, jump_word) {
                    (Some(policy), _) if policy.text == "DROP" => Some(policy.word),
                    (_, Some(word)) if adding && target == Some(Target::Drop) => Some(word),
                    _ => None,
                };
                if let Some(word) = dropping {
                    return Err(self.not_simulated(
                        word,
                        "dropping in the mangle table",
                        "drop packets in the filter table",
                    ));
                }
            }
            Table::Filter => {
                if let (true, Some(Target::Mark { .. }), Some(word)) = (adding, target, jump_word) {
                    return Err(self.not_simulated(
                        word,
                        "MARK in the filter table",
                        "mark packets with -t mangle -A PREROUTING ... -j MARK",
                    ));
                }
            }
        }
        Ok(())
    }

    /// What the command does, in order: a listing first (`-L -Z` lists, then zeroes).
    fn actions(
        &self,
        target: Option<Target>,
        addresses: (Vec<AddrMatch>, Vec<AddrMatch>),
    ) -> Vec<Action> {
        let mut actions: Vec<Action> = self.listing().into_iter().collect();
        actions.extend(self.change(target, addresses));
        actions
    }

    fn listing(&self) -> Option<Action> {
        let chain = self.chain.map(|c| c.text.to_owned());
        match self.command & (cmd::LIST | cmd::LIST_RULES) {
            cmd::LIST => Some(Action::List {
                chain,
                position: self.rulenum,
                format: ListFormat {
                    numeric: self.options[OPT_NUMERIC].is_some(),
                    verbose: self.verbose,
                    exact: self.options[OPT_EXACT].is_some(),
                    line_numbers: self.options[OPT_LINE_NUMBERS].is_some(),
                },
            }),
            cmd::LIST_RULES => Some(Action::ListRules {
                chain,
                position: self.rulenum,
                counters: self.verbose,
            }),
            _ => None,
        }
    }

    fn change(
        &self,
        target: Option<Target>,
        (src, dst): (Vec<AddrMatch>, Vec<AddrMatch>),
    ) -> Option<Action> {
        let chain = self.chain.map(|c| c.text.to_owned());
        // Every command below took its chain as a required argument.
        let named = || chain.clone().unwrap_or_default();
        let rules = || self.rules(target, &src, &dst);
        let position = self.rulenum.unwrap_or(1);
        Some(match self.command & !(cmd::LIST | cmd::LIST_RULES) {
            cmd::APPEND => Action::Append {
                chain: named(),
                rules: rules(),
            },
            cmd::INSERT => Action::Insert {
                chain: named(),
                position,
                rules: rules(),
            },
            cmd::DELETE => Action::Delete {
                chain: named(),
                rules: rules(),
            },
            cmd::DELETE_NUM => Action::DeleteAt {
                chain: named(),
                position,
            },
            cmd::SET_POLICY => Action::Policy {
                chain: named(),
                policy: self.policy.map_or("", |p| p.text).to_owned(),
            },
            cmd::FLUSH => Action::Flush { chain },
            cmd::ZERO => Action::Zero {
                chain,
                position: None,
            },
            cmd::ZERO_NUM => Action::Zero {
                chain,
                position: self.rulenum,
            },
            _ => return None,
        })
    }

    /// One rule per combination of source and destination, as add_entry loops over them.
    fn rules(&self, target: Option<Target>, src: &[AddrMatch], dst: &[AddrMatch]) -> Vec<RuleSpec> {
        let template = RuleSpec {
            src: AddrMatch::default(),
            dst: AddrMatch::default(),
            in_iface: self.in_iface.clone(),
            out_iface: self.out_iface.clone(),
            proto: self.proto,
            proto_invert: self.proto_invert,
            ports: self.ports.iter().map(|p| p.spec).collect(),
            target,
        };
        let template = &template;
        src.iter()
            .flat_map(|&src| {
                dst.iter().map(move |&dst| RuleSpec {
                    src,
                    dst,
                    ..template.clone()
                })
            })
            .collect()
    }
}

/// The option's argument; `apply` is only called without one for options that take none.
fn argument<'w>(value: Option<Value<'w>>, word: &'w Word) -> Value<'w> {
    value.unwrap_or(Value { text: "", word })
}

/// cmd2char: the letter of the lowest command bit.
fn cmd_letter(command: u16) -> char {
    let bit = command.trailing_zeros() as usize;
    cmd::LETTERS.get(bit).map_or('?', |&b| char::from(b))
}

/// xtables_options_fcheck for MARK: the first option given (in table order) that
/// excludes another one given (in id order) is reported.
fn mark_clash<'w>(given: &[(ExtOpt, &'w Word)]) -> Option<(String, &'w Word)> {
    let id_order = [
        ExtOpt::SetMark,
        ExtOpt::AndMark,
        ExtOpt::OrMark,
        ExtOpt::XorMark,
        ExtOpt::SetXmark,
    ];
    let name = |o: ExtOpt| {
        MARK_OPTIONS
            .iter()
            .find(|(_, e)| *e == o)
            .map_or("", |(n, _)| n)
    };
    let &(_, this) = MARK_OPTIONS
        .iter()
        .find(|(_, o)| given.iter().any(|(g, _)| g == o))?;
    let other = id_order
        .into_iter()
        .find(|o| *o != this && given.iter().any(|(g, _)| g == o))?;
    let &(_, word) = given.last()?;
    Some((
        format!(
            "MARK: option \"--{}\" cannot be used together with \"--{}\".",
            name(this),
            name(other)
        ),
        word,
    ))
}

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
fn strtoul_whole(text: &str, min: u64, max: u64) -> Option<u64> {
    strtoul(text)
        .filter(|(value, rest)| rest.is_empty() && (min..=max).contains(value))
        .map(|(value, _)| value)
}

/// sscanf `%i`: a leading integer, optionally signed.
fn leading_integer(text: &str) -> Option<i64> {
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
fn tcp_ports(text: &str) -> Result<(u16, u16), String> {
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
fn udp_ports(text: &str, option: &str) -> Result<(u16, u16), String> {
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
fn mark_mask(text: &str, option: &str) -> Result<(u32, u32), String> {
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
fn parse_addresses(text: &str, invert: bool) -> Result<Vec<AddrMatch>, String> {
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

/// Runs a parsed command against the host's tables; errors are iptables's messages.
/// Like iptables-nft, a command is one nf_tables transaction: if any part fails, nothing
/// it did stays (not even the table it created).
pub fn run(host: &mut Host, command: &IptablesCommand) -> Result<Vec<String>, String> {
    let mut tables = host.netfilter.clone();
    let mut output = Vec::new();
    for action in &command.actions {
        output.extend(run_action(
            &mut tables,
            command.table,
            command.verbose,
            action,
        )?);
    }
    host.netfilter = tables;
    Ok(output)
}

fn run_action(
    nf: &mut Netfilter,
    table: Table,
    verbose: bool,
    action: &Action,
) -> Result<Vec<String>, String> {
    let echo = |rules: &[RuleSpec]| -> Vec<String> {
        if verbose {
            rules.iter().map(print_rule).collect()
        } else {
            Vec::new()
        }
    };
    match action {
        Action::Version(line) => Ok(vec![(*line).to_owned()]),
        Action::Append { chain, rules } => {
            for rule in rules {
                nf.append(table, chain, rule.clone())
                    .map_err(|e| rule_error(e, "RULE_APPEND", chain))?;
            }
            Ok(echo(rules))
        }
        Action::Insert {
            chain,
            position,
            rules,
        } => {
            for rule in rules {
                nf.insert(table, chain, *position, rule.clone())
                    .map_err(|e| rule_error(e, "RULE_INSERT", chain))?;
            }
            Ok(echo(rules))
        }
        Action::Delete { chain, rules } => {
            for rule in rules {
                nf.delete(table, chain, rule).map_err(|_| {
                    errno_text("Bad rule (does a matching rule exist in that chain?)")
                })?;
            }
            Ok(echo(rules))
        }
        Action::DeleteAt { chain, position } => nf
            .delete_at(table, chain, *position)
            .map(|()| Vec::new())
            .map_err(|e| match e {
                NfError::IndexTooBig => errno_text("Index of deletion too big"),
                _ => no_such_chain(),
            }),
        Action::Flush { chain } => nf
            .flush(table, chain.as_deref())
            .map(|names| verbose_chains(verbose, "Flushing", names))
            .map_err(|_| no_such_chain()),
        Action::Zero { chain, position } => nf
            .zero(table, chain.as_deref(), *position)
            .map(|names| verbose_chains(verbose, "Zeroing", names))
            .map_err(|_| no_such_chain()),
        Action::Policy { chain, policy } => {
            let policy = Policy::parse(policy).ok_or_else(|| {
                "iptables: Bad policy name. Run `dmesg' for more information.".to_owned()
            })?;
            nf.set_policy(table, chain, policy)
                .map(|()| Vec::new())
                .map_err(|_| errno_text("Bad built-in chain name"))
        }
        Action::List {
            chain,
            position,
            format,
        } => nf
            .list(table, chain.as_deref(), *position, *format)
            .map_err(|_| no_such_chain()),
        Action::ListRules {
            chain,
            position,
            counters,
        } => nf
            .list_rules(table, chain.as_deref(), *position, *counters)
            .map_err(|_| no_such_chain()),
    }
}

/// `iptables: MESSAGE.` (xtables_main's report of nft_strerror).
fn errno_text(message: &str) -> String {
    format!("iptables: {message}.")
}

fn no_such_chain() -> String {
    errno_text("No chain/target/match by that name")
}

/// An added rule that failed: no chain, a rule number past the end, or refused by the
/// kernel (mnl_append_error: ` RULE_APPEND failed (Invalid argument): rule in chain X`).
fn rule_error(error: NfError, operation: &str, chain: &str) -> String {
    match error {
        NfError::IndexTooBig => errno_text("Index of insertion too big"),
        NfError::Invalid => {
            format!("{PREFIX} {operation} failed (Invalid argument): rule in chain {chain}")
        }
        NfError::NoSuchChain | NfError::NoSuchRule => no_such_chain(),
    }
}

/// `-v -F` and `-v -Z` name each chain: ``Flushing chain `INPUT'``.
fn verbose_chains(verbose: bool, doing: &str, names: Vec<&str>) -> Vec<String> {
    if !verbose {
        return Vec::new();
    }
    names
        .into_iter()
        .map(|name| format!("{doing} chain `{name}'"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::scenario::shell::parse_script;
    use crate::scenario::source::{MappedText, Source};

    /// Parses one command line as a lab script would.
    fn parse_line(line: &str) -> Result<IptablesCommand, Diagnostic> {
        let source = Source::new("t.toml", line);
        let mapped = MappedText {
            text: line.to_owned(),
            offsets: (0..line.len()).collect(),
            fallback: 0,
        };
        let lines = parse_script(&mapped, &source, &mut BTreeMap::new()).expect("lexes");
        let mut args = Args::new(&source, &lines[0].words, lines[0].span);
        let parsed = parse(&mut args);
        assert!(parsed.is_err() || args.is_empty(), "every word is consumed");
        parsed
    }

    fn parsed(line: &str) -> IptablesCommand {
        parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// The only rule an `-A`/`-I`/`-D` line makes.
    fn rule(line: &str) -> RuleSpec {
        match &parsed(line).actions[..] {
            [Action::Append { rules, .. }]
            | [Action::Insert { rules, .. }]
            | [Action::Delete { rules, .. }] => {
                assert_eq!(rules.len(), 1, "{line}");
                rules[0].clone()
            }
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The message and the underlined text of a parse error.
    fn error(line: &str) -> (String, String) {
        let e = parse_line(line).expect_err(line);
        let underlined = line
            .chars()
            .skip(e.col - 1)
            .take(e.snippet.unwrap().1)
            .collect();
        (e.message, underlined)
    }

    fn iptables_error(line: &str) -> (String, String) {
        let (message, at) = error(line);
        let message = message
            .strip_prefix(PREFIX)
            .unwrap_or_else(|| panic!("{line}: no prefix in {message}"))
            .to_owned();
        (message, at)
    }

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    fn ports(l4: L4, dport: (u16, u16)) -> PortMatch {
        PortMatch {
            dport: PortRange {
                min: dport.0,
                max: dport.1,
                invert: false,
            },
            ..PortMatch::new(l4)
        }
    }

    #[test]
    fn a_filter_rule_with_everything() {
        let spec = rule(
            "iptables -A INPUT -p tcp -s 10.0.0.5 -d 10.0.0.0/24 -i eth0 --dport 80 --sport 1024: -j DROP",
        );
        assert_eq!(spec.proto, 6);
        assert_eq!(
            spec.src,
            AddrMatch::new(ip("10.0.0.5"), Ipv4Addr::BROADCAST, false)
        );
        assert_eq!(
            spec.dst,
            AddrMatch::new(ip("10.0.0.0"), ip("255.255.255.0"), false)
        );
        assert_eq!(spec.in_iface.unwrap().name, "eth0");
        let mut expected = ports(L4::Tcp, (80, 80));
        expected.sport.min = 1024;
        assert_eq!(spec.ports, [expected]);
        assert_eq!(spec.target, Some(Target::Drop));
    }

    #[test]
    fn explicit_and_implicit_port_matches_are_the_same_rule() {
        let implicit = rule("iptables -A INPUT -p udp --dport 53 -j ACCEPT");
        let explicit = rule("iptables -A INPUT -p udp -m udp --dport 53 -j ACCEPT");
        assert_eq!(implicit, explicit);
        assert_eq!(implicit.ports, [ports(L4::Udp, (53, 53))]);
        assert_eq!(
            rule("iptables -A INPUT -p 6 --dport 22").ports,
            [ports(L4::Tcp, (22, 22))]
        );
        assert_eq!(rule("iptables -A INPUT -p tcp -j ACCEPT").ports, []);
        assert_eq!(
            rule("iptables -A INPUT -p tcp -m tcp -j ACCEPT").ports,
            [PortMatch::new(L4::Tcp)]
        );
    }

    #[test]
    fn ports_take_names_ranges_and_bases() {
        let dport = |line: &str| rule(line).ports[0].dport;
        let range = |min, max| PortRange {
            min,
            max,
            invert: false,
        };
        assert_eq!(
            dport("iptables -A INPUT -p tcp --dport http"),
            range(80, 80)
        );
        assert_eq!(
            dport("iptables -A INPUT -p tcp --dport 1000:2000"),
            range(1000, 2000)
        );
        assert_eq!(
            dport("iptables -A INPUT -p tcp --dport :1023"),
            range(0, 1023)
        );
        assert_eq!(
            dport("iptables -A INPUT -p tcp --dport 0x50"),
            range(80, 80)
        );
        assert_eq!(dport("iptables -A INPUT -p tcp --dport 010"), range(8, 8));
        assert_eq!(dport("iptables -A INPUT -p udp --dport 010"), range(10, 10));
        assert_eq!(
            dport("iptables -A INPUT -p udp --dport domain:"),
            range(53, 65535)
        );
        assert_eq!(
            dport("iptables -A INPUT -p tcp --destination-port=443"),
            range(443, 443)
        );
        assert_eq!(dport("iptables -A INPUT -p tcp --dp 443"), range(443, 443));
        let inverted = dport("iptables -A INPUT -p tcp ! --dport 22");
        assert!(inverted.invert);
    }

    #[test]
    fn negation_before_addresses_protocol_and_interfaces() {
        let spec = rule(
            "iptables -A FORWARD ! -s 10.0.0.0/8 ! -d 1.2.3.4 ! -p udp ! -i eth0 ! -o eth1 -j ACCEPT",
        );
        assert!(spec.src.invert() && spec.dst.invert() && spec.proto_invert);
        assert!(spec.in_iface.unwrap().invert && spec.out_iface.unwrap().invert);
    }

    #[test]
    fn addresses_take_masks_abbreviations_names_and_lists() {
        let src = |arg: &str| rule(&format!("iptables -A INPUT -s {arg} -j ACCEPT")).src;
        let m = |addr: &str, mask: &str| AddrMatch::new(ip(addr), ip(mask), false);
        assert_eq!(src("10.1.2.3/255.255.0.0"), m("10.1.0.0", "255.255.0.0"));
        assert_eq!(src("10.1.2.3/16"), m("10.1.0.0", "255.255.0.0"));
        assert_eq!(src("10.0.0.0/255.0.255.0"), m("10.0.0.0", "255.0.255.0"));
        assert_eq!(src("10"), m("10.0.0.0", "255.255.255.255"));
        assert_eq!(src("192.168.1"), m("192.168.1.0", "255.255.255.255"));
        assert_eq!(src("localhost"), m("127.0.0.1", "255.255.255.255"));
        assert_eq!(src("loopback/8"), m("127.0.0.0", "255.0.0.0"));
        assert_eq!(src("anything/0"), AddrMatch::default());
        let command = parsed("iptables -A INPUT -s 10.0.0.1,10.0.0.2 -d 10.0.0.9,10.0.0.8 -j DROP");
        let [Action::Append { rules, .. }] = &command.actions[..] else {
            panic!("{command:?}");
        };
        let pairs: Vec<(Ipv4Addr, Ipv4Addr)> =
            rules.iter().map(|r| (r.src.addr(), r.dst.addr())).collect();
        assert_eq!(
            pairs,
            [
                (ip("10.0.0.1"), ip("10.0.0.9")),
                (ip("10.0.0.1"), ip("10.0.0.8")),
                (ip("10.0.0.2"), ip("10.0.0.9")),
                (ip("10.0.0.2"), ip("10.0.0.8")),
            ]
        );
    }

    #[test]
    fn protocols_by_number_name_and_case() {
        let proto = |arg: &str| rule(&format!("iptables -A INPUT -p {arg} -j ACCEPT")).proto;
        assert_eq!(proto("vrrp"), 112);
        assert_eq!(proto("112"), 112);
        assert_eq!(proto("ICMP"), 1);
        assert_eq!(proto("all"), 0);
        assert_eq!(proto("icmpv6"), 58);
    }

    #[test]
    fn targets_reject_types_and_marks() {
        let target = |line: &str| rule(line).target;
        assert_eq!(target("iptables -A INPUT -j ACCEPT"), Some(Target::Accept));
        assert_eq!(target("iptables -A INPUT -j RETURN"), Some(Target::Return));
        assert_eq!(target("iptables -A INPUT"), None);
        assert_eq!(
            target("iptables -A INPUT -j REJECT"),
            Some(Target::Reject(RejectWith::IcmpPortUnreachable))
        );
        let reject = |with: &str| {
            target(&format!(
                "iptables -A INPUT -p tcp -j REJECT --reject-with {with}"
            ))
        };
        assert_eq!(
            reject("tcp-reset"),
            Some(Target::Reject(RejectWith::TcpReset))
        );
        assert_eq!(
            reject("host-unreach"),
            Some(Target::Reject(RejectWith::IcmpHostUnreachable))
        );
        assert_eq!(
            reject("ICMP-ADMIN"),
            Some(Target::Reject(RejectWith::IcmpAdminProhibited))
        );
        assert_eq!(
            reject("icmp-p"),
            Some(Target::Reject(RejectWith::IcmpProtoUnreachable))
        );
        let mark = |option: &str| {
            target(&format!(
                "iptables -t mangle -A PREROUTING -j MARK {option}"
            ))
        };
        let set = |value, mask| Some(Target::Mark { value, mask });
        assert_eq!(mark("--set-mark 1"), set(1, u32::MAX));
        assert_eq!(mark("--set-mark 0x10/0xf0"), set(0x10, 0xf0));
        assert_eq!(mark("--set-xmark 0x1/0xff"), set(1, 0xff));
        assert_eq!(mark("--set-xmark 7"), set(7, u32::MAX));
        assert_eq!(mark("--and-mark 0x30"), set(0, !0x30));
        assert_eq!(mark("--or-mark 4"), set(4, 4));
        assert_eq!(mark("--xor-mark 0xff"), set(0xff, 0));
        assert_eq!(mark("--set-m 2"), set(2, u32::MAX));
    }

    #[test]
    fn the_fwmark_rule_of_the_lvs_labs() {
        let command = parsed(
            "iptables -t mangle -A PREROUTING -d 192.168.188.120 -p tcp --dport 80 -j MARK --set-mark 1",
        );
        assert_eq!(command.table, Table::Mangle);
        let [Action::Append { chain, rules }] = &command.actions[..] else {
            panic!("{command:?}");
        };
        assert_eq!(chain, "PREROUTING");
        assert_eq!(
            rules[0].target,
            Some(Target::Mark {
                value: 1,
                mask: u32::MAX
            })
        );
        assert_eq!(rules[0].ports, [ports(L4::Tcp, (80, 80))]);
    }

    #[test]
    fn commands_with_chains_numbers_and_policies() {
        let action = |line: &str| parsed(line).actions;
        assert_eq!(
            action("iptables -I INPUT 3 -j DROP"),
            [Action::Insert {
                chain: "INPUT".into(),
                position: 3,
                rules: vec![RuleSpec {
                    target: Some(Target::Drop),
                    ..RuleSpec::default()
                }],
            }]
        );
        assert!(matches!(
            &action("iptables -I INPUT -j DROP")[0],
            Action::Insert { position: 1, .. }
        ));
        assert_eq!(
            action("iptables -D OUTPUT 2"),
            [Action::DeleteAt {
                chain: "OUTPUT".into(),
                position: 2
            }]
        );
        assert_eq!(action("iptables -F"), [Action::Flush { chain: None }]);
        assert_eq!(
            action("iptables --flush INPUT"),
            [Action::Flush {
                chain: Some("INPUT".into())
            }]
        );
        assert_eq!(
            action("iptables -Z INPUT 2"),
            [Action::Zero {
                chain: Some("INPUT".into()),
                position: Some(2)
            }]
        );
        assert_eq!(
            action("iptables -P FORWARD DROP"),
            [Action::Policy {
                chain: "FORWARD".into(),
                policy: "DROP".into()
            }]
        );
        assert_eq!(
            action("iptables -V"),
            [Action::Version("iptables v1.8.7 (nf_tables)")]
        );
        assert_eq!(action("iptables ! -V"), [Action::Version("Not 1.8.7 ;-)")]);
    }

    #[test]
    fn listing_options_bundle_and_abbreviate() {
        let list = |line: &str| parsed(line).actions;
        let format = |numeric, verbose, exact, line_numbers| ListFormat {
            numeric,
            verbose,
            exact,
            line_numbers,
        };
        assert_eq!(
            list("iptables -nvL INPUT --line"),
            [Action::List {
                chain: Some("INPUT".into()),
                position: None,
                format: format(true, true, false, true)
            }]
        );
        assert_eq!(
            list("iptables -L FORWARD 2 -x -v"),
            [Action::List {
                chain: Some("FORWARD".into()),
                position: Some(2),
                format: format(false, true, true, false)
            }]
        );
        assert_eq!(
            list("iptables -Lnv"),
            [Action::List {
                chain: Some("nv".into()),
                position: None,
                format: format(false, false, false, false)
            }],
            "an optional argument must be attached, so -Lnv lists a chain named nv"
        );
        assert_eq!(
            list("iptables -v -S OUTPUT"),
            [Action::ListRules {
                chain: Some("OUTPUT".into()),
                position: None,
                counters: true
            }]
        );
        assert_eq!(
            list("iptables -L -Z"),
            [
                Action::List {
                    chain: None,
                    position: None,
                    format: ListFormat::default()
                },
                Action::Zero {
                    chain: None,
                    position: None
                }
            ]
        );
        assert_eq!(
            parsed("iptables -w -t mangle --numeric --list").table,
            Table::Mangle
        );
    }

    #[test]
    fn unknown_options_and_extension_options_before_their_extension() {
        assert_eq!(
            iptables_error("iptables -A INPUT --dport 80 -j DROP"),
            ("unknown option \"--dport\"".into(), "--dport".into())
        );
        assert_eq!(
            iptables_error("iptables -A INPUT -p icmp --dport 80 -j DROP"),
            ("unknown option \"--dport\"".into(), "--dport".into())
        );
        assert_eq!(
            iptables_error("iptables -A INPUT -p tcp --bogus 1"),
            ("unknown option \"--bogus\"".into(), "--bogus".into())
        );
        assert_eq!(
            iptables_error("iptables -A INPUT -y"),
            ("unknown option \"-y\"".into(), "-y".into())
        );
        assert_eq!(
            iptables_error("iptables -A INPUT -j DROP --set-mark 1"),
            ("unknown option \"--set-mark\"".into(), "--set-mark".into())
        );
        assert_eq!(
            iptables_error("iptables -L --d"),
            ("unknown option \"--d\"".into(), "--d".into()),
            "an ambiguous abbreviation"
        );
        assert_eq!(
            iptables_error("iptables -A"),
            ("option \"-A\" requires an argument".into(), "-A".into())
        );
        assert_eq!(
            iptables_error("iptables -A INPUT -p tcp --dport"),
            (
                "option \"--dport\" requires an argument".into(),
                "--dport".into()
            )
        );
        assert_eq!(
            error("iptables -A INPUT DROP"),
            ("Bad argument `DROP'".into(), "DROP".into())
        );
    }

    #[test]
    fn command_errors() {
        let cases = [
            ("iptables -n", "no command specified", "iptables -n"),
            ("iptables -A INPUT -D INPUT", "Cannot use -D with -A", "-D"),
            ("iptables -L -L", "Cannot use -L with -L", "-L"),
            ("iptables ! -A INPUT", "unexpected '!' flag", "-A"),
            ("iptables -D INPUT 0", "Invalid rule number `0'", "0"),
            (
                "iptables -I INPUT x1 -j DROP",
                "Invalid rule number `x1'",
                "x1",
            ),
            (
                "iptables -S -t mangle PREROUTING",
                "Bad argument `PREROUTING'",
                "PREROUTING",
            ),
            (
                "iptables -P INPUT",
                "-P requires a chain and a policy",
                "-P",
            ),
            (
                "iptables -A INPUT -j DROP -j ACCEPT",
                "multiple -j flags not allowed",
                "-j",
            ),
            (
                "iptables -A INPUT ! -j DROP",
                "cannot have ! before -j",
                "-j",
            ),
            (
                "iptables -A INPUT -s 1.2.3.4 !",
                "nothing appropriate following !",
                "!",
            ),
            (
                "iptables -L -s 1.2.3.4",
                "Illegal option `-s' with this command",
                "-s",
            ),
            (
                "iptables -A INPUT -n -j DROP",
                "Illegal option `-n' with this command",
                "-n",
            ),
            (
                "iptables -D INPUT 1 -p tcp",
                "Illegal option `-p' with this command",
                "-p",
            ),
            (
                "iptables -A INPUT -o eth0 -j DROP",
                "Can't use -o with INPUT",
                "-o",
            ),
            (
                "iptables -A OUTPUT -i eth0 -j DROP",
                "Can't use -i with OUTPUT",
                "-i",
            ),
            (
                "iptables -A INPUT -j DROPP",
                "Chain 'DROPP' does not exist",
                "DROPP",
            ),
            ("iptables -t foo -L", "table 'foo' does not exist", "foo"),
            (
                "iptables ! -t filter -L",
                "unexpected ! flag before --table",
                "-t",
            ),
            (
                "iptables -A INPUT -m foo",
                "Couldn't load match `foo':No such file or directory",
                "foo",
            ),
            (
                "iptables -A INPUT ! -m tcp",
                "unexpected ! flag before --match",
                "-m",
            ),
            (
                "iptables -A ABCDEFGHIJKLMNOPQRSTUVWXYZ123 -j DROP",
                "chain name `ABCDEFGHIJKLMNOPQRSTUVWXYZ123' too long (must be under 29 chars)",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ123",
            ),
            (
                "iptables -W 5 -L",
                "--wait-interval only makes sense with --wait",
                "-W",
            ),
            ("iptables -w x -L", "wait seconds not numeric", "-w"),
            ("iptables -L --", "", ""),
        ];
        for (line, message, at) in cases {
            if message.is_empty() {
                assert!(parse_line(line).is_ok(), "{line}");
                continue;
            }
            let (got, underlined) = error(line);
            assert_eq!(got.trim_start_matches(PREFIX), message, "{line}");
            assert_eq!(underlined, at, "{line}");
        }
    }

    #[test]
    fn value_errors() {
        let cases = [
            (
                "iptables -A INPUT -p foo",
                "unknown protocol \"foo\" specified",
                "foo",
            ),
            (
                "iptables -A INPUT ! -p all",
                "rule would never match protocol",
                "all",
            ),
            (
                "iptables -A INPUT -s web1 -j DROP",
                "host/network `web1' not found",
                "web1",
            ),
            (
                "iptables -A INPUT -d 10.0.0.1/33",
                "invalid mask `33' specified",
                "10.0.0.1/33",
            ),
            (
                "iptables -A INPUT -s 1.2.3.256",
                "host/network `1.2.3.256' not found",
                "1.2.3.256",
            ),
            (
                "iptables -A INPUT ! -s 1.1.1.1,2.2.2.2",
                "! not allowed with multiple source or destination IP addresses",
                "1.1.1.1,2.2.2.2",
            ),
            (
                "iptables -A INPUT -i ''",
                "Empty interface is likely to be undesired",
                "''",
            ),
            (
                "iptables -A INPUT -i abcdefghijklmnop",
                "interface name `abcdefghijklmnop' must be shorter than IFNAMSIZ (15)",
                "abcdefghijklmnop",
            ),
            (
                "iptables -A INPUT -p tcp --dport foo",
                "invalid port/service `foo' specified",
                "foo",
            ),
            (
                "iptables -A INPUT -p tcp --dport 70000",
                "invalid port/service `70000' specified",
                "70000",
            ),
            (
                "iptables -A INPUT -p tcp --dport 90:80",
                "invalid portrange (min > max)",
                "90:80",
            ),
            (
                "iptables -A INPUT -p tcp --dport 80 --dport 81",
                "Only one `--destination-port' allowed",
                "--dport",
            ),
            (
                "iptables -A INPUT -p udp --sport foo",
                "Port \"foo\" does not resolve to anything.",
                "foo",
            ),
            (
                "iptables -A INPUT -p udp --dport 1:2:3",
                "udp: Too many components for option \"--dport\" (max: 2)",
                "1:2:3",
            ),
            (
                "iptables -A INPUT -p udp --dport 1 --dp 2",
                "udp: option \"--dport\" can only be used once.",
                "--dp",
            ),
            (
                "iptables -A INPUT -j REJECT --reject-with bogus",
                "unknown reject type \"bogus\"",
                "bogus",
            ),
            (
                "iptables -A INPUT -j REJECT ! --reject-with tcp-reset",
                "REJECT: option \"--reject-with\" cannot be inverted.",
                "--reject-with",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK",
                "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                "-j",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --set-mark 1 --or-mark 2",
                "MARK: option \"--set-mark\" cannot be used together with \"--or-mark\".",
                "--or-mark",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --set-mark 1 --set-mark 2",
                "MARK: option \"--set-mark\" can only be used once.",
                "--set-mark",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --set-mark x",
                "MARK: bad mark value for option \"--set-mark\", or out of range.",
                "x",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --set-mark 1/y",
                "MARK: bad mask value for option \"--set-mark\", or out of range.",
                "1/y",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --set-mark 1z",
                "MARK: trailing garbage after value for option \"--set-mark\".",
                "1z",
            ),
            (
                "iptables -t mangle -A PREROUTING -j MARK --or-mark 0x100000000",
                "MARK: bad value for option \"--or-mark\", or out of range (0-4294967295).",
                "0x100000000",
            ),
            (
                "iptables -A INPUT -j ''",
                "Invalid target name (too short)",
                "''",
            ),
        ];
        for (line, message, at) in cases {
            assert_eq!(
                iptables_error(line),
                (message.to_owned(), at.to_owned()),
                "{line}"
            );
        }
    }

    #[test]
    fn what_lvsim_does_not_simulate_is_named() {
        let cases = [
            (
                "iptables -A INPUT -m state --state NEW -j ACCEPT",
                "`-m state`",
                "state",
            ),
            (
                "iptables -t nat -A POSTROUTING -j MASQUERADE",
                "the nat table",
                "nat",
            ),
            ("iptables -A INPUT -j LOG", "the LOG target", "LOG"),
            ("iptables -N mychain", "user-defined chains", "-N"),
            ("iptables -C INPUT -j DROP", "`-C`", "-C"),
            ("iptables -A INPUT -p tcp --syn -j DROP", "`--syn`", "--syn"),
            (
                "iptables -A INPUT -p icmp --icmp-type 8 -j DROP",
                "`--icmp-type`",
                "--icmp-type",
            ),
            (
                "iptables -t mangle -A OUTPUT -j MARK --set-mark 1",
                "mangle OUTPUT",
                "OUTPUT",
            ),
            (
                "iptables -t mangle -A PREROUTING -j DROP",
                "dropping in the mangle table",
                "-j",
            ),
            (
                "iptables -t mangle -P PREROUTING DROP",
                "dropping in the mangle table",
                "DROP",
            ),
            (
                "iptables -A INPUT -j MARK --set-mark 1",
                "MARK in the filter table",
                "-j",
            ),
        ];
        for (line, what, at) in cases {
            let (message, underlined) = error(line);
            assert_eq!(
                message,
                format!("iptables: {what} is not simulated"),
                "{line}"
            );
            assert_eq!(underlined, at, "{line}");
        }
    }

    fn host() -> Host {
        Host::new(0, "h", 1)
    }

    fn exec(host: &mut Host, line: &str) -> Result<Vec<String>, String> {
        run(host, &parsed(line))
    }

    fn setup(lines: &[&str]) -> Host {
        let mut h = host();
        for line in lines {
            exec(&mut h, line).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
        h
    }

    /// `iptables [-t TABLE] -S CHAIN` without the policy line.
    fn rules_of(host: &mut Host, table_and_chain: &str) -> Vec<String> {
        let (table, chain) = table_and_chain
            .rsplit_once(' ')
            .unwrap_or(("", table_and_chain));
        exec(host, &format!("iptables {table} -S {chain}")).unwrap()[1..].to_vec()
    }

    #[test]
    fn insert_delete_flush_and_policy_edit_the_tables() {
        let mut h = setup(&[
            "iptables -A INPUT -s 10.0.0.1 -j ACCEPT",
            "iptables -I INPUT -s 10.0.0.2 -j ACCEPT",
            "iptables -I INPUT 2 -s 10.0.0.3 -j ACCEPT",
            "iptables -A INPUT -p tcp --dport 22 -j DROP",
        ]);
        assert_eq!(
            rules_of(&mut h, "INPUT"),
            [
                "-A INPUT -s 10.0.0.2/32 -j ACCEPT",
                "-A INPUT -s 10.0.0.3/32 -j ACCEPT",
                "-A INPUT -s 10.0.0.1/32 -j ACCEPT",
                "-A INPUT -p tcp -m tcp --dport 22 -j DROP",
            ]
        );
        exec(
            &mut h,
            "iptables -D INPUT -p tcp -m tcp --dport ssh -j DROP",
        )
        .unwrap();
        exec(&mut h, "iptables -D INPUT 1").unwrap();
        assert_eq!(
            rules_of(&mut h, "INPUT"),
            [
                "-A INPUT -s 10.0.0.3/32 -j ACCEPT",
                "-A INPUT -s 10.0.0.1/32 -j ACCEPT"
            ]
        );
        exec(&mut h, "iptables -P INPUT DROP").unwrap();
        exec(&mut h, "iptables -F").unwrap();
        assert_eq!(
            exec(&mut h, "iptables -S INPUT").unwrap(),
            ["-P INPUT DROP"]
        );
    }

    #[test]
    fn runtime_errors_are_iptables_messages() {
        let mut h = setup(&["iptables -A INPUT -j ACCEPT"]);
        let cases = [
            (
                "iptables -D INPUT -j DROP",
                "iptables: Bad rule (does a matching rule exist in that chain?).",
            ),
            (
                "iptables -D FOO -j DROP",
                "iptables: Bad rule (does a matching rule exist in that chain?).",
            ),
            (
                "iptables -D INPUT 5",
                "iptables: Index of deletion too big.",
            ),
            (
                "iptables -D FOO 1",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -I INPUT 3 -j DROP",
                "iptables: Index of insertion too big.",
            ),
            (
                "iptables -A PREROUTING -j DROP",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -L FOO",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -Lnv",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -F FOO",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -Z INPUT 4",
                "iptables: No chain/target/match by that name.",
            ),
            (
                "iptables -P INPUT REJECT",
                "iptables: Bad policy name. Run `dmesg' for more information.",
            ),
            ("iptables -P FOO DROP", "iptables: Bad built-in chain name."),
            (
                "iptables -A INPUT -j REJECT --reject-with tcp-reset",
                "iptables v1.8.7 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT",
            ),
            (
                "iptables -I INPUT -m tcp --dport 22 -j ACCEPT",
                "iptables v1.8.7 (nf_tables):  RULE_INSERT failed (Invalid argument): rule in chain INPUT",
            ),
            (
                "iptables -t mangle -A PREROUTING -j REJECT",
                "iptables v1.8.7 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING",
            ),
        ];
        for (line, message) in cases {
            assert_eq!(exec(&mut h, line), Err(message.to_owned()), "{line}");
        }
        assert_eq!(
            rules_of(&mut h, "INPUT"),
            ["-A INPUT -j ACCEPT"],
            "failures change nothing"
        );
    }

    #[test]
    fn a_failed_command_changes_nothing() {
        let mut h = setup(&["iptables -A INPUT -s 10.0.0.1 -j ACCEPT"]);
        let both = exec(&mut h, "iptables -D INPUT -s 10.0.0.1,10.0.0.2 -j ACCEPT");
        assert!(both.is_err());
        assert_eq!(
            rules_of(&mut h, "INPUT"),
            ["-A INPUT -s 10.0.0.1/32 -j ACCEPT"]
        );
        let mut fresh = host();
        assert!(exec(&mut fresh, "iptables -A FOO -j DROP").is_err());
        assert!(fresh.netfilter.is_empty(), "not even the table was created");
    }

    #[test]
    fn verbose_echoes_rules_and_names_chains() {
        let mut h = host();
        assert_eq!(
            exec(
                &mut h,
                "iptables -v -A FORWARD -i eth2 -o eth3 -s 10.0.0.1 -d 10.0.0.2 -j ACCEPT"
            ),
            Ok(vec![
                "ACCEPT  all opt -- in eth2 out eth3  10.0.0.1  -> 10.0.0.2  ".to_owned()
            ])
        );
        assert_eq!(
            exec(&mut h, "iptables -v -F"),
            Ok(vec![
                "Flushing chain `INPUT'".to_owned(),
                "Flushing chain `FORWARD'".to_owned(),
                "Flushing chain `OUTPUT'".to_owned(),
            ])
        );
        assert_eq!(
            exec(&mut h, "iptables -v -Z OUTPUT"),
            Ok(vec!["Zeroing chain `OUTPUT'".to_owned()])
        );
        assert_eq!(
            exec(&mut h, "iptables -V"),
            Ok(vec!["iptables v1.8.7 (nf_tables)".to_owned()])
        );
    }

    #[test]
    fn list_then_zero_shows_the_counts_it_clears() {
        let mut h = setup(&["iptables -A INPUT -j ACCEPT"]);
        let pkt = crate::stack::netfilter::PacketView {
            proto: 1,
            src: ip("10.0.0.2"),
            dst: ip("10.0.0.1"),
            sport: None,
            dport: None,
            in_iface: Some("eth0"),
            out_iface: None,
            mark: 0,
            len: 84,
        };
        h.netfilter
            .filter(crate::stack::netfilter::Hook::Input, &pkt);
        let first = exec(&mut h, "iptables -L INPUT -v -n -Z").unwrap();
        assert!(first[2].starts_with("    1    84 ACCEPT"), "{first:?}");
        let second = exec(&mut h, "iptables -L INPUT -v -n").unwrap();
        assert!(second[2].starts_with("    0     0 ACCEPT"), "{second:?}");
    }

    #[test]
    fn the_mangle_listing_of_an_fwmark_service() {
        let mut h = setup(&[
            "iptables -t mangle -A PREROUTING -d 192.168.188.120/32 -p tcp -m tcp --dport 80 -j MARK --set-mark 0x1",
        ]);
        let expected = [
            "Chain PREROUTING (policy ACCEPT)",
            "target     prot opt source               destination         ",
            "MARK       tcp  --  anywhere             192.168.188.120      tcp dpt:http MARK set 0x1",
            "",
            "Chain INPUT (policy ACCEPT)",
            "target     prot opt source               destination         ",
        ];
        assert_eq!(
            exec(&mut h, "iptables -t mangle -L").unwrap()[..6],
            expected
        );
        assert_eq!(
            rules_of(&mut h, "-t mangle PREROUTING"),
            [
                "-A PREROUTING -d 192.168.188.120/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff"
            ]
        );
    }
}
