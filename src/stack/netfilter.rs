//! Netfilter's `filter` and `mangle` tables: the rules `iptables` installs, how a packet
//! traverses a chain, and the text `iptables -L` and `iptables -S` print.
//!
//! Everything printed follows iptables 1.8.7 with the nf_tables backend (`iptables-nft`, the
//! default `iptables` of Debian 11 and RHEL 9): `iptables/nft-shared.c` (print_header,
//! print_rule_details, save_rule_details, save_matches_and_target), `iptables/xshared.c`
//! (print_ipv4_addresses, print_ifaces), `iptables/nft-ipv4.c` (print_fragment,
//! save_ipv4_addr, mask_to_str), `libxtables/xtables.c` (xtables_print_num,
//! xtables_ipmask_to_numeric, xtables_chain_protos) and the extensions `libxt_tcp.c`,
//! `libxt_udp.c`, `libxt_MARK.c` (revision 2) and `libipt_REJECT.c`. Protocol and port names
//! come from Debian 11's /etc/protocols and /etc/services (netbase). lvsim has no DNS, so
//! without `-n` addresses still print as numbers, except 127.0.0.1 which /etc/hosts names
//! `localhost`.
//!
//! Matching follows the kernel: `ip_packet_match` (net/ipv4/netfilter/ip_tables.c) for
//! addresses, interfaces and protocol, `tcp_mt`/`udp_mt` (net/netfilter/xt_tcpudp.c) for
//! ports and `mark_tg` (net/netfilter/xt_mark.c) for MARK. The first rule whose target ends
//! the traversal decides; every rule that matches counts the packet, and the policy counts
//! the packets that fall off the end of the chain (`nft_do_chain`).
//!
//! The hot path ([`Netfilter::filter`], [`Netfilter::mangle_prerouting`]) allocates nothing
//! unless a rule decides: then it clones that rule's `-S` text, built once when the rule was
//! added, so an explanation can quote it.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// A netfilter hook (`NF_INET_*` in include/uapi/linux/netfilter.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    /// The name of the built-in chain iptables attaches to this hook.
    pub fn chain_name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }
}

/// The tables lvsim simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Filter,
    Mangle,
}

impl Table {
    /// The built-in chains in hook order, which is the order `iptables -L` lists them
    /// (iptable_filter hooks LOCAL_IN, FORWARD and LOCAL_OUT; iptable_mangle all five).
    pub fn hooks(self) -> &'static [Hook] {
        match self {
            Table::Filter => &[Hook::Input, Hook::Forward, Hook::Output],
            Table::Mangle => &[
                Hook::Prerouting,
                Hook::Input,
                Hook::Forward,
                Hook::Output,
                Hook::Postrouting,
            ],
        }
    }

    fn index(self) -> usize {
        match self {
            Table::Filter => 0,
            Table::Mangle => 1,
        }
    }
}

/// The fields of a packet that rules match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketView<'a> {
    /// The IP protocol number.
    pub proto: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// TCP/UDP ports; `None` for other protocols (a port match never matches then).
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// The device the packet came in on (`-i`): none for locally generated packets.
    pub in_iface: Option<&'a str>,
    /// The device it leaves by (`-o`): none before routing.
    pub out_iface: Option<&'a str>,
    /// The packet's fwmark when it reaches the hook.
    pub mark: u32,
    /// The IP total length: what the byte counters add.
    pub len: u32,
}

/// `-s`/`-d`: an address and mask, stored masked as `xtables_ipparse_multiple` leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrMatch {
    addr: u32,
    mask: u32,
    invert: bool,
}

impl AddrMatch {
    pub fn new(addr: Ipv4Addr, mask: Ipv4Addr, invert: bool) -> AddrMatch {
        let mask = u32::from(mask);
        AddrMatch {
            addr: u32::from(addr) & mask,
            mask,
            invert,
        }
    }

    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr)
    }

    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask)
    }

    pub fn invert(&self) -> bool {
        self.invert
    }

    fn matches(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) & self.mask == self.addr) != self.invert
    }

    /// Nothing was said: `0.0.0.0/0`, not inverted (save_ipv4_addr prints nothing then).
    fn is_unset(&self) -> bool {
        self.addr == 0 && self.mask == 0 && !self.invert
    }
}

/// `-i`/`-o`: a device name; a trailing `+` matches every name that starts with the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceMatch {
    pub name: String,
    pub invert: bool,
}

impl IfaceMatch {
    /// A packet without that device compares as the empty name, as ip_packet_match does.
    fn matches(&self, dev: Option<&str>) -> bool {
        let dev = dev.unwrap_or("");
        let hit = match self.name.strip_suffix('+') {
            Some(prefix) => dev.starts_with(prefix),
            None => dev == self.name,
        };
        hit != self.invert
    }
}

/// The transport protocols whose ports lvsim matches (the `tcp` and `udp` matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    Tcp,
    Udp,
}

impl L4 {
    pub fn name(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
        }
    }

    pub fn number(self) -> u8 {
        match self {
            L4::Tcp => 6,
            L4::Udp => 17,
        }
    }
}

/// A port or port range (`--dport 80`, `--dport 1000:2000`, `! --dport 22`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
    pub invert: bool,
}

impl PortRange {
    /// Every port: what a match has before `--sport`/`--dport` narrows it.
    pub const ANY: PortRange = PortRange {
        min: 0,
        max: u16::MAX,
        invert: false,
    };

    fn matches(&self, port: u16) -> bool {
        (self.min..=self.max).contains(&port) != self.invert
    }

    fn is_any(&self) -> bool {
        *self == PortRange::ANY
    }
}

/// A `-m tcp` or `-m udp` match (struct xt_tcp / xt_udp without the TCP flag options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMatch {
    pub l4: L4,
    pub sport: PortRange,
    pub dport: PortRange,
}

impl PortMatch {
    pub fn new(l4: L4) -> PortMatch {
        PortMatch {
            l4,
            sport: PortRange::ANY,
            dport: PortRange::ANY,
        }
    }

    /// tcp_mt/udp_mt: both ranges must hold; without ports (no header) nothing matches.
    fn matches(&self, pkt: &PacketView) -> bool {
        match (pkt.sport, pkt.dport) {
            (Some(sport), Some(dport)) => self.sport.matches(sport) && self.dport.matches(dport),
            _ => false,
        }
    }
}

/// REJECT's `--reject-with` (enum ipt_reject_with), in libipt_REJECT.c's table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectWith {
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpProtoUnreachable,
    IcmpPortUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    TcpReset,
    IcmpAdminProhibited,
}

impl RejectWith {
    /// libipt_REJECT.c's reject_table order, which its prefix matching depends on.
    pub const ALL: [RejectWith; 8] = [
        RejectWith::IcmpNetUnreachable,
        RejectWith::IcmpHostUnreachable,
        RejectWith::IcmpProtoUnreachable,
        RejectWith::IcmpPortUnreachable,
        RejectWith::IcmpNetProhibited,
        RejectWith::IcmpHostProhibited,
        RejectWith::TcpReset,
        RejectWith::IcmpAdminProhibited,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RejectWith::IcmpNetUnreachable => "icmp-net-unreachable",
            RejectWith::IcmpHostUnreachable => "icmp-host-unreachable",
            RejectWith::IcmpProtoUnreachable => "icmp-proto-unreachable",
            RejectWith::IcmpPortUnreachable => "icmp-port-unreachable",
            RejectWith::IcmpNetProhibited => "icmp-net-prohibited",
            RejectWith::IcmpHostProhibited => "icmp-host-prohibited",
            RejectWith::TcpReset => "tcp-reset",
            RejectWith::IcmpAdminProhibited => "icmp-admin-prohibited",
        }
    }

    pub fn alias(self) -> &'static str {
        match self {
            RejectWith::IcmpNetUnreachable => "net-unreach",
            RejectWith::IcmpHostUnreachable => "host-unreach",
            RejectWith::IcmpProtoUnreachable => "proto-unreach",
            RejectWith::IcmpPortUnreachable => "port-unreach",
            RejectWith::IcmpNetProhibited => "net-prohib",
            RejectWith::IcmpHostProhibited => "host-prohib",
            RejectWith::TcpReset => "tcp-rst",
            RejectWith::IcmpAdminProhibited => "admin-prohib",
        }
    }

    /// The ICMP destination-unreachable code the kernel sends (ipt_REJECT.c reject_tg);
    /// `None` for `tcp-reset`, which answers with a RST instead.
    pub fn icmp_code(self) -> Option<u8> {
        match self {
            RejectWith::IcmpNetUnreachable => Some(0),
            RejectWith::IcmpHostUnreachable => Some(1),
            RejectWith::IcmpProtoUnreachable => Some(2),
            RejectWith::IcmpPortUnreachable => Some(3),
            RejectWith::IcmpNetProhibited => Some(9),
            RejectWith::IcmpHostProhibited => Some(10),
            RejectWith::TcpReset => None,
            RejectWith::IcmpAdminProhibited => Some(13),
        }
    }
}

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Accept,
    Drop,
    /// Leaves the chain; in a built-in chain the policy decides.
    Return,
    Reject(RejectWith),
    /// `mark = (mark & !mask) ^ value` (xt_mark.c mark_tg), then the traversal goes on.
    Mark {
        value: u32,
        mask: u32,
    },
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
            Target::Return => "RETURN",
            Target::Reject(_) => "REJECT",
            Target::Mark { .. } => "MARK",
        }
    }

    /// What `iptables -L` prints after the addresses (the extensions' print functions).
    fn print(self, out: &mut String) {
        match self {
            Target::Reject(with) => {
                let _ = write!(out, " reject-with {}", with.name());
            }
            Target::Mark { value, mask } => print_mark(value, mask, out),
            Target::Accept | Target::Drop | Target::Return => {}
        }
    }

    /// What `iptables -S` prints after the target's name (the extensions' save functions).
    fn save(self, out: &mut String) {
        match self {
            Target::Reject(with) => {
                let _ = write!(out, " --reject-with {}", with.name());
            }
            Target::Mark { value, mask } => {
                let _ = write!(out, " --set-xmark {value:#x}/{mask:#x}");
            }
            Target::Accept | Target::Drop | Target::Return => {}
        }
    }
}

/// libxt_MARK.c mark_tg_print: names the operation the value/mask pair amounts to.
fn print_mark(value: u32, mask: u32, out: &mut String) {
    let _ = if value == 0 {
        write!(out, " MARK and {:#x}", !mask)
    } else if value == mask {
        write!(out, " MARK or {value:#x}")
    } else if mask == 0 {
        write!(out, " MARK xor {value:#x}")
    } else if mask == u32::MAX {
        write!(out, " MARK set {value:#x}")
    } else {
        write!(out, " MARK xset {value:#x}/{mask:#x}")
    };
}

/// A rule as iptables hands it to the kernel: what it matches and its target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleSpec {
    pub src: AddrMatch,
    pub dst: AddrMatch,
    pub in_iface: Option<IfaceMatch>,
    pub out_iface: Option<IfaceMatch>,
    /// 0 is any protocol (`-p all`).
    pub proto: u8,
    pub proto_invert: bool,
    /// `-m tcp`/`-m udp` matches, in the order they were given.
    pub ports: Vec<PortMatch>,
    /// `None` when the rule has no `-j`: it only counts.
    pub target: Option<Target>,
}

impl RuleSpec {
    fn matches(&self, pkt: &PacketView) -> bool {
        self.src.matches(pkt.src)
            && self.dst.matches(pkt.dst)
            && self
                .in_iface
                .as_ref()
                .is_none_or(|m| m.matches(pkt.in_iface))
            && self
                .out_iface
                .as_ref()
                .is_none_or(|m| m.matches(pkt.out_iface))
            && (self.proto == 0 || (pkt.proto == self.proto) != self.proto_invert)
            && self.ports.iter().all(|m| m.matches(pkt))
    }

    /// The kernel's checkentry validation (xt_check_match/xt_check_target): a port match
    /// needs `-p` of its protocol, not inverted; REJECT lives in the filter table only
    /// (ipt_REJECT.c) and `tcp-reset` needs `-p tcp` (reject_tg_check).
    fn kernel_check(&self, table: Table) -> Result<(), NfError> {
        let proto_is = |number: u8| self.proto == number && !self.proto_invert;
        let ports_ok = self.ports.iter().all(|m| proto_is(m.l4.number()));
        let target_ok = match self.target {
            Some(Target::Reject(with)) => {
                table == Table::Filter && (with != RejectWith::TcpReset || proto_is(6))
            }
            _ => true,
        };
        if ports_ok && target_ok {
            Ok(())
        } else {
            Err(NfError::Invalid)
        }
    }
}

/// Packet and byte counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

impl Counters {
    fn count(&mut self, len: u32) {
        self.packets += 1;
        self.bytes += u64::from(len);
    }
}

/// A built-in chain's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

impl Policy {
    /// `nft_chain_set` accepts exactly these two words.
    pub fn parse(word: &str) -> Option<Policy> {
        match word {
            "ACCEPT" => Some(Policy::Accept),
            "DROP" => Some(Policy::Drop),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

/// Why a table operation failed; `iptables` words each per command (nft_strerror).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfError {
    /// The table has no chain of that name (ENOENT).
    NoSuchChain,
    /// No rule in the chain equals the one given (ENOENT from a delete).
    NoSuchRule,
    /// The rule number is past the end of the chain (E2BIG).
    IndexTooBig,
    /// The kernel refused the rule (EINVAL from checkentry).
    Invalid,
}

/// A filter-table decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// `rule` is the deciding rule as `iptables -S` prints it, or `-P CHAIN DROP`.
    Drop {
        rule: String,
    },
    Reject {
        with: RejectWith,
        rule: String,
    },
}

/// How `iptables -L` was asked to print (`-n`, `-v`, `-x`, `--line-numbers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFormat {
    pub numeric: bool,
    pub verbose: bool,
    pub exact: bool,
    pub line_numbers: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    spec: RuleSpec,
    counters: Counters,
    /// The `-S` line, built once: verdicts quote it without formatting per packet.
    text: String,
}

#[derive(Debug, Clone)]
struct Chain {
    hook: Hook,
    policy: Policy,
    policy_counters: Counters,
    rules: Vec<Rule>,
}

/// Who decided in a traversal: a rule (by index) or the chain's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decider {
    Rule(usize),
    Policy,
}

struct Traversal {
    decider: Decider,
    mark: u32,
    /// The last MARK rule that matched.
    marked_by: Option<usize>,
}

impl Chain {
    fn new(hook: Hook) -> Chain {
        Chain {
            hook,
            policy: Policy::Accept,
            policy_counters: Counters::default(),
            rules: Vec::new(),
        }
    }

    fn name(&self) -> &'static str {
        self.hook.chain_name()
    }

    fn add_rule(&mut self, index: usize, spec: RuleSpec) {
        let text = save_rule(self.name(), &spec, None);
        self.rules.insert(
            index,
            Rule {
                spec,
                counters: Counters::default(),
                text,
            },
        );
    }

    /// First match wins; MARK and rules without a target go on to the next rule.
    fn traverse(&mut self, pkt: &PacketView) -> Traversal {
        let mut mark = pkt.mark;
        let mut marked_by = None;
        for (index, rule) in self.rules.iter_mut().enumerate() {
            if !rule.spec.matches(pkt) {
                continue;
            }
            rule.counters.count(pkt.len);
            match rule.spec.target {
                None => {}
                Some(Target::Mark { value, mask }) => {
                    mark = (mark & !mask) ^ value;
                    marked_by = Some(index);
                }
                Some(Target::Return) => break,
                Some(Target::Accept | Target::Drop | Target::Reject(_)) => {
                    return Traversal {
                        decider: Decider::Rule(index),
                        mark,
                        marked_by,
                    };
                }
            }
        }
        self.policy_counters.count(pkt.len);
        Traversal {
            decider: Decider::Policy,
            mark,
            marked_by,
        }
    }

    fn verdict(&self, decider: Decider) -> Verdict {
        match decider {
            Decider::Policy => match self.policy {
                Policy::Accept => Verdict::Accept,
                Policy::Drop => Verdict::Drop {
                    rule: format!("-P {} DROP", self.name()),
                },
            },
            Decider::Rule(index) => {
                let rule = &self.rules[index];
                match rule.spec.target {
                    Some(Target::Drop) => Verdict::Drop {
                        rule: rule.text.clone(),
                    },
                    Some(Target::Reject(with)) => Verdict::Reject {
                        with,
                        rule: rule.text.clone(),
                    },
                    _ => Verdict::Accept,
                }
            }
        }
    }

    fn zero(&mut self) {
        self.policy_counters = Counters::default();
        for rule in &mut self.rules {
            rule.counters = Counters::default();
        }
    }

    /// `Chain INPUT (policy ACCEPT)` and the column titles (nft-shared.c print_header).
    fn header(&self, format: &ListFormat) -> [String; 2] {
        let mut title = format!("Chain {} (policy {}", self.name(), self.policy.name());
        if format.verbose {
            let _ = write!(
                title,
                " {}packets, {}bytes",
                print_num(self.policy_counters.packets, format.exact, false),
                print_num(self.policy_counters.bytes, format.exact, false)
            );
        }
        title.push(')');
        let mut columns = String::new();
        if format.line_numbers {
            let _ = write!(columns, "{:<4} ", "num");
        }
        if format.verbose {
            let _ = if format.exact {
                write!(columns, "{:>8} {:>10} ", "pkts", "bytes")
            } else {
                write!(columns, "{:>5} {:>5} ", "pkts", "bytes")
            };
        }
        let _ = write!(columns, "{:<9}  prot opt", "target");
        if format.verbose {
            let _ = write!(columns, " {:<6} {:<6} ", "in", "out");
        }
        let _ = write!(columns, " {:<19}  {:<19} ", "source", "destination");
        [title, columns]
    }

    /// `-P INPUT ACCEPT`, with ` -c PKTS BYTES` when counters were asked for.
    fn save_policy(&self, counters: bool) -> String {
        let mut line = format!("-P {} {}", self.name(), self.policy.name());
        if counters {
            let c = self.policy_counters;
            let _ = write!(line, " -c {} {}", c.packets, c.bytes);
        }
        line
    }
}

#[derive(Debug, Clone)]
struct TableState {
    /// Whether an iptables command has created the table in nf_tables yet; before that
    /// no chain is hooked, so nothing is evaluated or counted.
    created: bool,
    chains: Vec<Chain>,
}

impl TableState {
    fn new(table: Table) -> TableState {
        TableState {
            created: false,
            chains: table.hooks().iter().map(|&hook| Chain::new(hook)).collect(),
        }
    }

    fn chain_mut(&mut self, name: &str) -> Result<&mut Chain, NfError> {
        self.chains
            .iter_mut()
            .find(|c| c.name() == name)
            .ok_or(NfError::NoSuchChain)
    }

    /// The chain named, or every chain when none is.
    fn select(&mut self, name: Option<&str>) -> Result<&mut [Chain], NfError> {
        match name {
            None => Ok(&mut self.chains),
            Some(name) => {
                let index = self
                    .chains
                    .iter()
                    .position(|c| c.name() == name)
                    .ok_or(NfError::NoSuchChain)?;
                Ok(&mut self.chains[index..=index])
            }
        }
    }
}

/// A host's netfilter state: the filter and mangle tables.
#[derive(Debug, Clone)]
pub struct Netfilter {
    tables: [TableState; 2],
}

impl Default for Netfilter {
    fn default() -> Netfilter {
        Netfilter {
            tables: [
                TableState::new(Table::Filter),
                TableState::new(Table::Mangle),
            ],
        }
    }
}

impl Netfilter {
    /// True until an iptables command creates a table (iptables-nft creates it on first
    /// use; even `iptables -L` does). While true every verdict is Accept, no mark changes
    /// and there is nothing to count, so the packet path may skip netfilter entirely.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| !t.created)
    }

    /// Runs mangle PREROUTING: the mark the packet leaves with, and the last MARK rule that
    /// matched (as `-S` prints it), for explanations.
    pub fn mangle_prerouting(&mut self, pkt: &PacketView) -> (u32, Option<String>) {
        let Some(chain) = self.hooked_chain(Table::Mangle, Hook::Prerouting) else {
            return (pkt.mark, None);
        };
        let traversal = chain.traverse(pkt);
        let rule = traversal.marked_by.map(|i| chain.rules[i].text.clone());
        (traversal.mark, rule)
    }

    /// Runs the filter table's chain at `hook` (hooks without one accept).
    pub fn filter(&mut self, hook: Hook, pkt: &PacketView) -> Verdict {
        let Some(chain) = self.hooked_chain(Table::Filter, hook) else {
            return Verdict::Accept;
        };
        let traversal = chain.traverse(pkt);
        chain.verdict(traversal.decider)
    }

    fn hooked_chain(&mut self, table: Table, hook: Hook) -> Option<&mut Chain> {
        let state = &mut self.tables[table.index()];
        if !state.created {
            return None;
        }
        state.chains.iter_mut().find(|c| c.hook == hook)
    }

    /// The table, created by the command using it (nft_xt_builtin_init).
    fn table_mut(&mut self, table: Table) -> &mut TableState {
        let state = &mut self.tables[table.index()];
        state.created = true;
        state
    }

    /// `-A`: the rule goes at the end of the chain.
    pub fn append(&mut self, table: Table, chain: &str, spec: RuleSpec) -> Result<(), NfError> {
        let chain = self.table_mut(table).chain_mut(chain)?;
        spec.kernel_check(table)?;
        chain.add_rule(chain.rules.len(), spec);
        Ok(())
    }

    /// `-I CHAIN N`: the rule becomes rule N (1-based); one past the end appends.
    pub fn insert(
        &mut self,
        table: Table,
        chain: &str,
        position: u32,
        spec: RuleSpec,
    ) -> Result<(), NfError> {
        let chain = self.table_mut(table).chain_mut(chain)?;
        let index = rule_index(position);
        if index > chain.rules.len() {
            return Err(NfError::IndexTooBig);
        }
        spec.kernel_check(table)?;
        chain.add_rule(index, spec);
        Ok(())
    }

    /// `-D CHAIN RULE`: removes the first rule equal to `spec`.
    pub fn delete(&mut self, table: Table, chain: &str, spec: &RuleSpec) -> Result<(), NfError> {
        let chain = self.table_mut(table).chain_mut(chain)?;
        let index = chain
            .rules
            .iter()
            .position(|r| r.spec == *spec)
            .ok_or(NfError::NoSuchRule)?;
        chain.rules.remove(index);
        Ok(())
    }

    /// `-D CHAIN N`: removes rule N (1-based).
    pub fn delete_at(&mut self, table: Table, chain: &str, position: u32) -> Result<(), NfError> {
        let chain = self.table_mut(table).chain_mut(chain)?;
        let index = rule_index(position);
        if index >= chain.rules.len() {
            return Err(NfError::IndexTooBig);
        }
        chain.rules.remove(index);
        Ok(())
    }

    /// `-F [CHAIN]`: empties the chain or every chain; returns the names flushed (for
    /// `-v`). A plain `-F` does not create a table that does not exist (nft_rule_flush).
    pub fn flush(
        &mut self,
        table: Table,
        chain: Option<&str>,
    ) -> Result<Vec<&'static str>, NfError> {
        let state = match chain {
            Some(_) => self.table_mut(table),
            None => &mut self.tables[table.index()],
        };
        let chains = state.select(chain)?;
        for chain in chains.iter_mut() {
            chain.rules.clear();
        }
        Ok(chains.iter().map(Chain::name).collect())
    }

    /// `-Z [CHAIN [N]]`: zeroes the counters of a rule, a chain (its policy's too) or
    /// every chain; returns the chains zeroed (for `-v`).
    pub fn zero(
        &mut self,
        table: Table,
        chain: Option<&str>,
        position: Option<u32>,
    ) -> Result<Vec<&'static str>, NfError> {
        let chains = self.table_mut(table).select(chain)?;
        match position {
            Some(position) => {
                let rule = chains
                    .first_mut()
                    .and_then(|c| c.rules.get_mut(rule_index(position)))
                    .ok_or(NfError::NoSuchRule)?;
                rule.counters = Counters::default();
                Ok(Vec::new())
            }
            None => {
                chains.iter_mut().for_each(Chain::zero);
                Ok(chains.iter().map(Chain::name).collect())
            }
        }
    }

    /// `-P CHAIN POLICY`.
    pub fn set_policy(&mut self, table: Table, chain: &str, policy: Policy) -> Result<(), NfError> {
        self.table_mut(table).chain_mut(chain)?.policy = policy;
        Ok(())
    }

    /// `iptables -L`: every chain, or one; with a rule number only that rule's line.
    pub fn list(
        &mut self,
        table: Table,
        chain: Option<&str>,
        position: Option<u32>,
        format: ListFormat,
    ) -> Result<Vec<String>, NfError> {
        let chains = self.table_mut(table).select(chain)?;
        let mut lines = Vec::new();
        for (i, chain) in chains.iter().enumerate() {
            if let Some(position) = position {
                let index = rule_index(position);
                lines.extend(chain.rules.get(index).map(|r| row(r, index + 1, &format)));
                continue;
            }
            if i > 0 {
                lines.push(String::new());
            }
            lines.extend(chain.header(&format));
            for (index, rule) in chain.rules.iter().enumerate() {
                lines.push(row(rule, index + 1, &format));
            }
        }
        Ok(lines)
    }

    /// `iptables -S`: the policies, then the rules; with `-v` their counters (` -c P B`).
    pub fn list_rules(
        &mut self,
        table: Table,
        chain: Option<&str>,
        position: Option<u32>,
        counters: bool,
    ) -> Result<Vec<String>, NfError> {
        let chains = self.table_mut(table).select(chain)?;
        let mut lines: Vec<String> = Vec::new();
        if position.is_none() {
            lines.extend(chains.iter().map(|c| c.save_policy(counters)));
        }
        for chain in chains.iter() {
            let counted = |rule: &Rule| counters.then_some(rule.counters);
            let rules = chain.rules.iter().enumerate().filter(|(index, _)| {
                position.is_none_or(|position| *index == rule_index(position))
            });
            lines.extend(rules.map(|(_, rule)| save_rule(chain.name(), &rule.spec, counted(rule))));
        }
        Ok(lines)
    }
}

/// One `iptables -L` line: number, counters, then print_rule_details and the rest.
fn row(rule: &Rule, number: usize, format: &ListFormat) -> String {
    let mut out = String::new();
    if format.line_numbers {
        let _ = write!(out, "{number:<4} ");
    }
    if format.verbose {
        out.push_str(&print_num(rule.counters.packets, format.exact, true));
        out.push_str(&print_num(rule.counters.bytes, format.exact, true));
    }
    print_rule_body(&rule.spec, Style::table(*format), &mut out);
    out
}

/// A 1-based rule number as an index (0 never comes from the parser; it maps past the end).
fn rule_index(position: u32) -> usize {
    usize::try_from(position).map_or(usize::MAX, |p| p.wrapping_sub(1))
}

/// The line `iptables -v -A ...` echoes for each rule it adds (FMT_PRINT_RULE: no table
/// columns, numeric, with interfaces), e.g. `ACCEPT  all opt -- in eth2 out *  10.0.0.1  -> 0.0.0.0/0  `.
pub fn print_rule(spec: &RuleSpec) -> String {
    let mut out = String::new();
    print_rule_body(spec, Style::LINE, &mut out);
    out
}

/// How a rule is laid out: in `-L`'s columns or on one line (FMT_NOTABLE).
#[derive(Debug, Clone, Copy)]
struct Style {
    tabular: bool,
    numeric: bool,
    interfaces: bool,
}

impl Style {
    const LINE: Style = Style {
        tabular: false,
        numeric: true,
        interfaces: true,
    };

    fn table(format: ListFormat) -> Style {
        Style {
            tabular: true,
            numeric: format.numeric,
            interfaces: format.verbose,
        }
    }

    /// FMT(tab, notab) with the two printf patterns `{:<width} ` and `{prefix}{} `.
    fn cell(self, out: &mut String, text: &str, width: usize, prefix: &str) {
        let _ = if self.tabular {
            write!(out, "{text:<width$} ")
        } else {
            write!(out, "{prefix}{text} ")
        };
    }
}

/// Target, protocol, options, interfaces, addresses, then what matches and target print.
fn print_rule_body(spec: &RuleSpec, style: Style, out: &mut String) {
    style.cell(out, spec.target.map_or("", Target::name), 9, "");
    out.push(invert_mark(spec.proto_invert));
    let proto = proto_column(spec.proto, style.numeric);
    let _ = if style.tabular {
        write!(out, "{proto:<5}")
    } else {
        write!(out, "{proto} opt ")
    };
    out.push_str("-- ");
    if style.interfaces {
        let any = if style.numeric { "*" } else { "any" };
        let name = |m: &Option<IfaceMatch>| match m {
            Some(m) => format!("{}{}", if m.invert { "!" } else { "" }, m.name),
            None => any.to_owned(),
        };
        if style.tabular {
            out.push(' ');
        }
        style.cell(out, &name(&spec.in_iface), 6, "in ");
        style.cell(out, &name(&spec.out_iface), 6, "out ");
    }
    out.push(invert_mark(spec.src.invert));
    style.cell(out, &addr_column(&spec.src, style.numeric), 19, "");
    out.push(invert_mark(spec.dst.invert));
    let dst = addr_column(&spec.dst, style.numeric);
    let _ = if style.tabular {
        write!(out, "{dst:<19} ")
    } else {
        write!(out, "-> {dst}  ")
    };
    for ports in &spec.ports {
        print_ports(ports, style.numeric, out);
    }
    if let Some(target) = spec.target {
        target.print(out);
    }
}

fn invert_mark(invert: bool) -> char {
    if invert { '!' } else { ' ' }
}

/// proto_to_name: /etc/protocols unless numeric, then xtables_chain_protos, then the number.
fn proto_column(proto: u8, numeric: bool) -> String {
    let looked_up = (proto != 0 && !numeric)
        .then(|| protocol_name(proto))
        .flatten();
    looked_up
        .or_else(|| {
            CHAIN_PROTOS
                .iter()
                .find(|(_, n)| *n == proto)
                .map(|(name, _)| *name)
        })
        .map_or_else(|| proto.to_string(), str::to_owned)
}

/// ipv4_addr_to_string: `anywhere` for /0 unless numeric; the mask only when not /32.
fn addr_column(m: &AddrMatch, numeric: bool) -> String {
    if m.mask == 0 && !numeric {
        return "anywhere".to_owned();
    }
    let addr = m.addr();
    let name = if numeric || addr != Ipv4Addr::LOCALHOST {
        addr.to_string()
    } else {
        "localhost".to_owned()
    };
    match mask_bits(m.mask) {
        Some(32) => name,
        Some(bits) => format!("{name}/{bits}"),
        None => format!("{name}/{}", m.mask()),
    }
}

/// The prefix length of a contiguous mask (xtables_ipmask_to_cidr).
fn mask_bits(mask: u32) -> Option<u32> {
    let bits = mask.leading_ones();
    (mask.checked_shl(bits).unwrap_or(0) == 0).then_some(bits)
}

/// libxt_tcp/libxt_udp print: ` tcp spt:1024:65535 dpt:http`.
fn print_ports(m: &PortMatch, numeric: bool, out: &mut String) {
    let _ = write!(out, " {}", m.l4.name());
    for (label, range) in [("spt", m.sport), ("dpt", m.dport)] {
        if range.is_any() {
            continue;
        }
        let invert = if range.invert { "!" } else { "" };
        let port = |p: u16| match service_name(p, m.l4).filter(|_| !numeric) {
            Some(name) => name.to_owned(),
            None => p.to_string(),
        };
        let _ = if range.min == range.max {
            write!(out, " {label}:{invert}{}", port(range.min))
        } else {
            write!(
                out,
                " {label}s:{invert}{}:{}",
                port(range.min),
                port(range.max)
            )
        };
    }
}

/// One `iptables -S` line (nft_rule_print_save): every part ends with a space, the target
/// comes last without one, so a rule without `-j` keeps a trailing space as iptables prints.
fn save_rule(chain: &str, spec: &RuleSpec, counters: Option<Counters>) -> String {
    let mut out = format!("-A {chain} ");
    for (letter, m) in [('s', &spec.src), ('d', &spec.dst)] {
        if !m.is_unset() {
            let mask = match mask_bits(m.mask) {
                Some(bits) => bits.to_string(),
                None => m.mask().to_string(),
            };
            let _ = write!(out, "{}-{letter} {}/{mask} ", inverted(m.invert), m.addr());
        }
    }
    for (letter, m) in [('i', &spec.in_iface), ('o', &spec.out_iface)] {
        if let Some(m) = m.as_ref().filter(|m| m.name != "+") {
            let _ = write!(out, "{}-{letter} {} ", inverted(m.invert), m.name);
        }
    }
    if spec.proto != 0 {
        let name = protocol_name(spec.proto).map_or_else(|| spec.proto.to_string(), str::to_owned);
        let _ = write!(out, "{}-p {name} ", inverted(spec.proto_invert));
    }
    for m in &spec.ports {
        let _ = write!(out, "-m {}", m.l4.name());
        for (option, range) in [("--sport", m.sport), ("--dport", m.dport)] {
            if range.min == 0 && range.max == u16::MAX {
                continue;
            }
            let invert = if range.invert { " !" } else { "" };
            let _ = if range.min == range.max {
                write!(out, "{invert} {option} {}", range.min)
            } else {
                write!(out, "{invert} {option} {}:{}", range.min, range.max)
            };
        }
        out.push(' ');
    }
    if let Some(c) = counters {
        let _ = write!(out, "-c {} {} ", c.packets, c.bytes);
    }
    if let Some(target) = spec.target {
        let _ = write!(out, "-j {}", target.name());
        target.save(&mut out);
    }
    out
}

fn inverted(invert: bool) -> &'static str {
    if invert { "! " } else { "" }
}

/// xtables_print_num: exact (`-x`) or scaled by thousands with a K/M/G/T suffix, padded
/// to the column (`tabular`) or followed by one space.
fn print_num(number: u64, exact: bool, tabular: bool) -> String {
    let pad = |text: String, width: usize| {
        if tabular {
            format!("{text:>width$} ")
        } else {
            format!("{text} ")
        }
    };
    if exact {
        return pad(number.to_string(), 8);
    }
    if number <= 99_999 {
        return pad(number.to_string(), 5);
    }
    let mut scaled = number;
    for suffix in ['K', 'M', 'G'] {
        scaled = scaled.saturating_add(500) / 1000;
        if scaled <= 9999 {
            return pad(format!("{scaled}{suffix}"), 5);
        }
    }
    scaled = scaled.saturating_add(500) / 1000;
    pad(format!("{scaled}T"), 5)
}

/// Debian 11's /etc/protocols (netbase): the names getprotobyname/getprotobynumber know.
const PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

/// libxtables' xtables_chain_protos: the names iptables knows without /etc/protocols.
const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("all", 0),
];

/// getprotobynumber.
pub fn protocol_name(number: u8) -> Option<&'static str> {
    PROTOCOLS
        .iter()
        .find(|(_, n)| *n == number)
        .map(|(name, _)| *name)
}

/// xtables_parse_protocol's name lookups: `all`, /etc/protocols, then xtables_chain_protos.
pub fn protocol_by_name(name: &str) -> Option<u8> {
    if name == "all" {
        return Some(0);
    }
    PROTOCOLS
        .iter()
        .chain(CHAIN_PROTOS)
        .find(|(n, _)| *n == name)
        .map(|(_, number)| *number)
}

const TCP: u8 = 1;
const UDP: u8 = 2;
const BOTH: u8 = TCP | UDP;

/// Debian 11's /etc/services (netbase), the well-known part: name, port, protocols,
/// aliases.
const SERVICES: &[(&str, u16, u8, &[&str])] = &[
    ("tcpmux", 1, TCP, &[]),
    ("echo", 7, BOTH, &[]),
    ("discard", 9, BOTH, &["sink", "null"]),
    ("systat", 11, TCP, &["users"]),
    ("daytime", 13, BOTH, &[]),
    ("netstat", 15, TCP, &[]),
    ("qotd", 17, TCP, &["quote"]),
    ("chargen", 19, BOTH, &["ttytst", "source"]),
    ("ftp-data", 20, TCP, &[]),
    ("ftp", 21, TCP, &[]),
    ("fsp", 21, UDP, &["fspd"]),
    ("ssh", 22, TCP, &[]),
    ("telnet", 23, TCP, &[]),
    ("smtp", 25, TCP, &["mail"]),
    ("time", 37, BOTH, &["timserver"]),
    ("whois", 43, TCP, &["nicname"]),
    ("tacacs", 49, BOTH, &[]),
    ("domain", 53, BOTH, &[]),
    ("bootps", 67, UDP, &[]),
    ("bootpc", 68, UDP, &[]),
    ("tftp", 69, UDP, &[]),
    ("gopher", 70, TCP, &[]),
    ("finger", 79, TCP, &[]),
    ("http", 80, TCP, &["www"]),
    ("kerberos", 88, BOTH, &["kerberos5", "krb5", "kerberos-sec"]),
    ("pop3", 110, TCP, &["pop-3"]),
    ("sunrpc", 111, BOTH, &["portmapper"]),
    ("auth", 113, TCP, &["authentication", "tap", "ident"]),
    ("nntp", 119, TCP, &["readnews", "untp"]),
    ("ntp", 123, UDP, &[]),
    ("epmap", 135, TCP, &["loc-srv"]),
    ("netbios-ns", 137, UDP, &[]),
    ("netbios-dgm", 138, UDP, &[]),
    ("netbios-ssn", 139, TCP, &[]),
    ("imap2", 143, TCP, &["imap"]),
    ("snmp", 161, BOTH, &[]),
    ("snmp-trap", 162, BOTH, &["snmptrap"]),
    ("bgp", 179, TCP, &[]),
    ("ldap", 389, BOTH, &[]),
    ("https", 443, BOTH, &[]),
    ("microsoft-ds", 445, TCP, &[]),
    ("submissions", 465, TCP, &["ssmtp", "smtps", "urd"]),
    ("isakmp", 500, UDP, &[]),
    ("exec", 512, TCP, &[]),
    ("biff", 512, UDP, &["comsat"]),
    ("login", 513, TCP, &[]),
    ("who", 513, UDP, &["whod"]),
    ("shell", 514, TCP, &["cmd"]),
    ("syslog", 514, UDP, &[]),
    ("printer", 515, TCP, &["spooler"]),
    ("route", 520, UDP, &["router", "routed"]),
    ("submission", 587, TCP, &[]),
    ("ldaps", 636, BOTH, &[]),
    ("rsync", 873, TCP, &[]),
    ("imaps", 993, TCP, &[]),
    ("pop3s", 995, TCP, &[]),
    ("socks", 1080, TCP, &[]),
    ("openvpn", 1194, BOTH, &[]),
    ("ms-sql-s", 1433, TCP, &[]),
    ("radius", 1812, BOTH, &[]),
    ("nfs", 2049, BOTH, &[]),
    ("mysql", 3306, TCP, &[]),
    ("ms-wbt-server", 3389, TCP, &[]),
    ("sip", 5060, BOTH, &[]),
    ("postgresql", 5432, TCP, &["postgres"]),
    ("x11", 6000, TCP, &["x11-0"]),
    ("http-alt", 8080, TCP, &["webcache"]),
];

fn serves(protocols: u8, l4: L4) -> bool {
    protocols
        & match l4 {
            L4::Tcp => TCP,
            L4::Udp => UDP,
        }
        != 0
}

/// getservbyport(port, "tcp"|"udp").
pub fn service_name(port: u16, l4: L4) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(_, p, protocols, _)| *p == port && serves(*protocols, l4))
        .map(|(name, ..)| *name)
}

/// getservbyname: a name or alias, for one protocol or (`None`, as getaddrinfo looks a
/// service up) any.
pub fn service_port(name: &str, l4: Option<L4>) -> Option<u16> {
    SERVICES
        .iter()
        .filter(|(_, _, protocols, _)| l4.is_none_or(|l4| serves(*protocols, l4)))
        .find(|(n, _, _, aliases)| *n == name || aliases.contains(&name))
        .map(|(_, port, ..)| *port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    /// `a.b.c.d/len` as a match.
    fn net(text: &str, invert: bool) -> AddrMatch {
        let (addr, len) = text.split_once('/').unwrap_or((text, "32"));
        let len: u32 = len.parse().unwrap();
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        AddrMatch::new(ip(addr), Ipv4Addr::from(mask), invert)
    }

    /// A TCP segment 10.0.0.5:40000 -> 10.0.0.1:80 arriving on eth0.
    fn tcp_packet() -> PacketView<'static> {
        PacketView {
            proto: 6,
            src: ip("10.0.0.5"),
            dst: ip("10.0.0.1"),
            sport: Some(40000),
            dport: Some(80),
            in_iface: Some("eth0"),
            out_iface: None,
            mark: 0,
            len: 60,
        }
    }

    fn rule(target: Target) -> RuleSpec {
        RuleSpec {
            target: Some(target),
            ..RuleSpec::default()
        }
    }

    fn tcp_to(port: u16, target: Target) -> RuleSpec {
        let mut ports = PortMatch::new(L4::Tcp);
        ports.dport = PortRange {
            min: port,
            max: port,
            invert: false,
        };
        RuleSpec {
            proto: 6,
            ports: vec![ports],
            ..rule(target)
        }
    }

    fn filter_with(rules: &[RuleSpec]) -> Netfilter {
        let mut nf = Netfilter::default();
        for spec in rules {
            nf.append(Table::Filter, "INPUT", spec.clone()).unwrap();
        }
        nf
    }

    fn input_verdict(rules: &[RuleSpec], pkt: &PacketView) -> Verdict {
        filter_with(rules).filter(Hook::Input, pkt)
    }

    fn dropped(rules: &[RuleSpec], pkt: &PacketView) -> bool {
        matches!(input_verdict(rules, pkt), Verdict::Drop { .. })
    }

    #[test]
    fn source_prefixes_match_by_mask_and_invert() {
        let pkt = tcp_packet();
        let drop_from = |text: &str, invert: bool| RuleSpec {
            src: net(text, invert),
            ..rule(Target::Drop)
        };
        assert!(dropped(&[drop_from("10.0.0.5", false)], &pkt));
        assert!(dropped(&[drop_from("10.0.0.0/24", false)], &pkt));
        assert!(!dropped(&[drop_from("10.0.1.0/24", false)], &pkt));
        assert!(dropped(&[drop_from("10.0.1.0/24", true)], &pkt));
        assert!(!dropped(&[drop_from("10.0.0.0/8", true)], &pkt));
        assert!(dropped(&[drop_from("0.0.0.0/0", false)], &pkt));
    }

    #[test]
    fn an_address_is_stored_masked() {
        let m = AddrMatch::new(ip("10.1.2.3"), ip("255.255.0.0"), false);
        assert_eq!(m.addr(), ip("10.1.0.0"));
        assert_eq!(m.mask(), ip("255.255.0.0"));
    }

    #[test]
    fn destination_and_protocol_must_both_hold() {
        let pkt = tcp_packet();
        let spec = |proto, proto_invert| RuleSpec {
            dst: net("10.0.0.1", false),
            proto,
            proto_invert,
            ..rule(Target::Drop)
        };
        assert!(dropped(&[spec(6, false)], &pkt));
        assert!(!dropped(&[spec(17, false)], &pkt));
        assert!(dropped(&[spec(17, true)], &pkt), "! -p udp matches tcp");
        assert!(!dropped(&[spec(6, true)], &pkt));
        assert!(dropped(&[spec(0, false)], &pkt), "-p all matches anything");
        let other_host = RuleSpec {
            dst: net("10.0.0.2", false),
            ..rule(Target::Drop)
        };
        assert!(!dropped(&[other_host], &pkt));
    }

    #[test]
    fn ports_match_ranges_inversions_and_need_a_header() {
        let pkt = tcp_packet();
        assert!(dropped(&[tcp_to(80, Target::Drop)], &pkt));
        assert!(!dropped(&[tcp_to(443, Target::Drop)], &pkt));
        let mut range = tcp_to(0, Target::Drop);
        range.ports[0].dport = PortRange {
            min: 1,
            max: 1023,
            invert: false,
        };
        range.ports[0].sport = PortRange {
            min: 1024,
            max: 65535,
            invert: false,
        };
        assert!(dropped(&[range.clone()], &pkt));
        range.ports[0].sport.invert = true;
        assert!(
            !dropped(&[range], &pkt),
            "! --sport 1024:65535 excludes 40000"
        );
        let without_ports = PacketView {
            sport: None,
            dport: None,
            ..pkt
        };
        assert!(!dropped(&[tcp_to(80, Target::Drop)], &without_ports));
    }

    #[test]
    fn interfaces_match_exactly_by_prefix_or_inverted() {
        let pkt = tcp_packet();
        let on = |name: &str, invert: bool| RuleSpec {
            in_iface: Some(IfaceMatch {
                name: name.to_owned(),
                invert,
            }),
            ..rule(Target::Drop)
        };
        assert!(dropped(&[on("eth0", false)], &pkt));
        assert!(!dropped(&[on("eth1", false)], &pkt));
        assert!(!dropped(&[on("eth", false)], &pkt), "no prefix without +");
        assert!(dropped(&[on("eth+", false)], &pkt));
        assert!(dropped(&[on("+", false)], &pkt));
        assert!(dropped(&[on("eth1", true)], &pkt));
        assert!(!dropped(&[on("eth+", true)], &pkt));
        let local = PacketView {
            in_iface: None,
            ..pkt
        };
        assert!(!dropped(&[on("eth0", false)], &local));
    }

    #[test]
    fn the_first_deciding_rule_wins_and_counts() {
        let pkt = tcp_packet();
        let mut nf = filter_with(&[
            tcp_to(443, Target::Drop),
            tcp_to(80, Target::Accept),
            rule(Target::Drop),
        ]);
        assert_eq!(nf.filter(Hook::Input, &pkt), Verdict::Accept);
        assert_eq!(nf.filter(Hook::Input, &pkt), Verdict::Accept);
        let counts: Vec<u64> = nf.tables[0].chains[0]
            .rules
            .iter()
            .map(|r| r.counters.packets)
            .collect();
        assert_eq!(counts, [0, 2, 0]);
        assert_eq!(nf.tables[0].chains[0].rules[1].counters.bytes, 120);
        assert_eq!(nf.tables[0].chains[0].policy_counters, Counters::default());
    }

    #[test]
    fn a_rule_without_target_counts_and_traversal_goes_on() {
        let pkt = tcp_packet();
        let mut nf = filter_with(&[RuleSpec::default(), rule(Target::Drop)]);
        assert!(matches!(nf.filter(Hook::Input, &pkt), Verdict::Drop { .. }));
        assert_eq!(nf.tables[0].chains[0].rules[0].counters.packets, 1);
    }

    #[test]
    fn the_policy_decides_when_nothing_does_and_counts() {
        let pkt = tcp_packet();
        let mut nf = filter_with(&[tcp_to(22, Target::Accept)]);
        nf.set_policy(Table::Filter, "INPUT", Policy::Drop).unwrap();
        assert_eq!(
            nf.filter(Hook::Input, &pkt),
            Verdict::Drop {
                rule: "-P INPUT DROP".into()
            }
        );
        let policy = nf.tables[0].chains[0].policy_counters;
        assert_eq!((policy.packets, policy.bytes), (1, 60));
    }

    #[test]
    fn return_in_a_built_in_chain_falls_to_the_policy() {
        let pkt = tcp_packet();
        let mut nf = filter_with(&[rule(Target::Return), rule(Target::Accept)]);
        nf.set_policy(Table::Filter, "INPUT", Policy::Drop).unwrap();
        assert!(matches!(nf.filter(Hook::Input, &pkt), Verdict::Drop { .. }));
    }

    #[test]
    fn drops_and_rejects_quote_the_rule_as_iptables_s_prints_it() {
        let pkt = tcp_packet();
        let drop = RuleSpec {
            src: net("10.0.0.5", false),
            ..tcp_to(80, Target::Drop)
        };
        assert_eq!(
            input_verdict(&[drop], &pkt),
            Verdict::Drop {
                rule: "-A INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 80 -j DROP".into()
            }
        );
        let reject = tcp_to(80, Target::Reject(RejectWith::TcpReset));
        assert_eq!(
            input_verdict(&[reject], &pkt),
            Verdict::Reject {
                with: RejectWith::TcpReset,
                rule: "-A INPUT -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset".into()
            }
        );
    }

    #[test]
    fn hooks_without_a_filter_chain_accept() {
        let mut nf = filter_with(&[rule(Target::Drop)]);
        assert_eq!(nf.filter(Hook::Prerouting, &tcp_packet()), Verdict::Accept);
        assert_eq!(nf.filter(Hook::Output, &tcp_packet()), Verdict::Accept);
    }

    #[test]
    fn nothing_is_evaluated_or_counted_before_a_table_exists() {
        let mut nf = Netfilter::default();
        assert!(nf.is_empty());
        assert_eq!(nf.filter(Hook::Input, &tcp_packet()), Verdict::Accept);
        assert_eq!(nf.tables[0].chains[0].policy_counters.packets, 0);
        nf.flush(Table::Filter, None).unwrap();
        assert!(nf.is_empty(), "a plain -F does not create the table");
        nf.list(Table::Mangle, None, None, ListFormat::default())
            .unwrap();
        assert!(!nf.is_empty(), "iptables -L creates it");
        nf.mangle_prerouting(&tcp_packet());
        assert_eq!(nf.tables[1].chains[0].policy_counters.packets, 1);
    }

    fn mangle_with(rules: &[RuleSpec]) -> Netfilter {
        let mut nf = Netfilter::default();
        for spec in rules {
            nf.append(Table::Mangle, "PREROUTING", spec.clone())
                .unwrap();
        }
        nf
    }

    fn mark(value: u32, mask: u32) -> Target {
        Target::Mark { value, mask }
    }

    #[test]
    fn mark_rules_set_the_mark_and_name_the_last_one() {
        let pkt = PacketView {
            mark: 0xf0,
            ..tcp_packet()
        };
        let (m, rule) = mangle_with(&[tcp_to(80, mark(1, u32::MAX))]).mangle_prerouting(&pkt);
        assert_eq!(m, 1);
        assert_eq!(
            rule.as_deref(),
            Some("-A PREROUTING -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff")
        );
        let (m, _) = mangle_with(&[rule_of(mark(0x3, 0x3))]).mangle_prerouting(&pkt);
        assert_eq!(m, 0xf3, "--or-mark 3");
        let (m, _) = mangle_with(&[rule_of(mark(0, !0x30))]).mangle_prerouting(&pkt);
        assert_eq!(m, 0x30, "--and-mark 0x30");
        let (m, _) = mangle_with(&[rule_of(mark(0xff, 0))]).mangle_prerouting(&pkt);
        assert_eq!(m, 0x0f, "--xor-mark 0xff");
        let (m, rule) = mangle_with(&[tcp_to(443, mark(1, u32::MAX))]).mangle_prerouting(&pkt);
        assert_eq!((m, rule), (0xf0, None), "no match leaves the mark");
    }

    fn rule_of(target: Target) -> RuleSpec {
        rule(target)
    }

    #[test]
    fn mark_goes_on_to_later_rules_and_accept_stops_them() {
        let pkt = tcp_packet();
        let (m, rule) = mangle_with(&[rule_of(mark(1, u32::MAX)), rule_of(mark(2, u32::MAX))])
            .mangle_prerouting(&pkt);
        assert_eq!(m, 2);
        assert!(rule.unwrap().contains("0x2/"));
        let (m, _) = mangle_with(&[rule_of(Target::Accept), rule_of(mark(2, u32::MAX))])
            .mangle_prerouting(&pkt);
        assert_eq!(m, 0);
    }

    #[test]
    fn the_kernel_refuses_port_matches_and_rejects_out_of_place() {
        let mut nf = Netfilter::default();
        let mut udp_ports = tcp_to(53, Target::Accept);
        udp_ports.proto = 17;
        assert_eq!(
            nf.append(Table::Filter, "INPUT", udp_ports),
            Err(NfError::Invalid)
        );
        let mut inverted = tcp_to(53, Target::Accept);
        inverted.proto_invert = true;
        assert_eq!(
            nf.append(Table::Filter, "INPUT", inverted),
            Err(NfError::Invalid)
        );
        let reset = rule(Target::Reject(RejectWith::TcpReset));
        assert_eq!(
            nf.append(Table::Filter, "INPUT", reset),
            Err(NfError::Invalid)
        );
        let reject = rule(Target::Reject(RejectWith::IcmpPortUnreachable));
        assert_eq!(
            nf.append(Table::Mangle, "PREROUTING", reject.clone()),
            Err(NfError::Invalid)
        );
        assert_eq!(nf.append(Table::Filter, "INPUT", reject), Ok(()));
    }

    fn chain_texts(nf: &mut Netfilter) -> Vec<String> {
        nf.list_rules(Table::Filter, Some("INPUT"), None, false)
            .unwrap()
            .into_iter()
            .skip(1)
            .collect()
    }

    fn from(addr: &str) -> RuleSpec {
        RuleSpec {
            src: net(addr, false),
            ..rule(Target::Accept)
        }
    }

    #[test]
    fn insert_places_rules_by_number_up_to_one_past_the_end() {
        let mut nf = filter_with(&[from("1.1.1.1")]);
        nf.insert(Table::Filter, "INPUT", 1, from("2.2.2.2"))
            .unwrap();
        nf.insert(Table::Filter, "INPUT", 3, from("3.3.3.3"))
            .unwrap();
        nf.insert(Table::Filter, "INPUT", 2, from("4.4.4.4"))
            .unwrap();
        assert_eq!(
            nf.insert(Table::Filter, "INPUT", 6, from("5.5.5.5")),
            Err(NfError::IndexTooBig)
        );
        let sources: Vec<String> = chain_texts(&mut nf)
            .iter()
            .map(|t| t.split(' ').nth(3).unwrap().to_owned())
            .collect();
        assert_eq!(
            sources,
            ["2.2.2.2/32", "4.4.4.4/32", "1.1.1.1/32", "3.3.3.3/32"]
        );
    }

    #[test]
    fn delete_removes_the_first_equal_rule_or_rule_n() {
        let mut nf = filter_with(&[from("1.1.1.1"), from("2.2.2.2"), from("1.1.1.1")]);
        nf.delete(Table::Filter, "INPUT", &from("1.1.1.1")).unwrap();
        assert_eq!(chain_texts(&mut nf).len(), 2);
        assert!(chain_texts(&mut nf)[0].contains("2.2.2.2"));
        assert_eq!(
            nf.delete(Table::Filter, "INPUT", &from("9.9.9.9")),
            Err(NfError::NoSuchRule)
        );
        assert_eq!(
            nf.delete_at(Table::Filter, "INPUT", 3),
            Err(NfError::IndexTooBig)
        );
        nf.delete_at(Table::Filter, "INPUT", 1).unwrap();
        assert_eq!(chain_texts(&mut nf), ["-A INPUT -s 1.1.1.1/32 -j ACCEPT"]);
    }

    #[test]
    fn flush_zero_and_policy_work_per_chain_or_table() {
        let mut nf = filter_with(&[rule(Target::Accept)]);
        nf.append(Table::Filter, "OUTPUT", rule(Target::Accept))
            .unwrap();
        nf.filter(Hook::Input, &tcp_packet());
        assert_eq!(nf.flush(Table::Filter, Some("OUTPUT")).unwrap(), ["OUTPUT"]);
        assert_eq!(nf.tables[0].chains[2].rules.len(), 0);
        assert_eq!(nf.tables[0].chains[0].rules.len(), 1);
        assert_eq!(
            nf.zero(Table::Filter, None, None).unwrap(),
            ["INPUT", "FORWARD", "OUTPUT"]
        );
        assert_eq!(nf.tables[0].chains[0].rules[0].counters.packets, 0);
        assert_eq!(
            nf.zero(Table::Filter, Some("INPUT"), Some(2)),
            Err(NfError::NoSuchRule)
        );
        assert_eq!(nf.flush(Table::Filter, None).unwrap().len(), 3);
        assert_eq!(nf.tables[0].chains[0].rules.len(), 0);
        for missing in [
            nf.set_policy(Table::Filter, "PREROUTING", Policy::Drop),
            nf.append(Table::Filter, "FOO", rule(Target::Drop)),
            nf.flush(Table::Filter, Some("FOO")).map(drop),
        ] {
            assert_eq!(missing, Err(NfError::NoSuchChain));
        }
    }

    /// The filter table of the golden listings: a DNS accept, a web drop from one host, a
    /// reject from outside the LAN, and VRRP out of any eth device.
    fn sample() -> Netfilter {
        let mut dns = tcp_to(53, Target::Accept);
        dns.proto = 17;
        dns.ports[0].l4 = L4::Udp;
        let web = RuleSpec {
            src: net("10.0.0.5", false),
            ..tcp_to(80, Target::Drop)
        };
        let mut outside = tcp_to(0, Target::Reject(RejectWith::TcpReset));
        outside.src = net("10.0.0.0/24", true);
        outside.in_iface = Some(IfaceMatch {
            name: "eth0".into(),
            invert: false,
        });
        outside.ports[0].dport = PortRange::ANY;
        outside.ports[0].sport = PortRange {
            min: 1024,
            max: 65535,
            invert: false,
        };
        let vrrp = RuleSpec {
            proto: 112,
            out_iface: Some(IfaceMatch {
                name: "eth+".into(),
                invert: false,
            }),
            ..rule(Target::Accept)
        };
        let mut nf = filter_with(&[dns, web, outside]);
        nf.append(Table::Filter, "OUTPUT", vrrp).unwrap();
        nf.set_policy(Table::Filter, "FORWARD", Policy::Drop)
            .unwrap();
        nf
    }

    /// A packet none of the sample's INPUT rules decides: the policy counts it.
    fn policy_packet() -> PacketView<'static> {
        PacketView {
            src: ip("10.0.0.9"),
            dport: Some(8080),
            ..tcp_packet()
        }
    }

    fn listing(nf: &mut Netfilter, format: ListFormat) -> String {
        nf.list(Table::Filter, None, None, format)
            .unwrap()
            .join("\n")
    }

    #[test]
    fn list_prints_names_and_anywhere() {
        let expected = "\
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     udp  --  anywhere             anywhere             udp dpt:domain
DROP       tcp  --  10.0.0.5             anywhere             tcp dpt:http
REJECT     tcp  -- !10.0.0.0/24          anywhere             tcp spts:1024:65535 reject-with tcp-reset

Chain FORWARD (policy DROP)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     vrrp --  anywhere             anywhere            ";
        assert_eq!(listing(&mut sample(), ListFormat::default()), expected);
    }

    #[test]
    fn list_numeric_verbose_with_line_numbers_prints_counters_and_devices() {
        let mut nf = sample();
        nf.filter(Hook::Input, &policy_packet());
        let format = ListFormat {
            numeric: true,
            verbose: true,
            line_numbers: true,
            exact: false,
        };
        let expected = "\
Chain INPUT (policy ACCEPT 1 packets, 60 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 ACCEPT     udp  --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:53
2        0     0 DROP       tcp  --  *      *       10.0.0.5             0.0.0.0/0            tcp dpt:80
3        0     0 REJECT     tcp  --  eth0   *      !10.0.0.0/24          0.0.0.0/0            tcp spts:1024:65535 reject-with tcp-reset

Chain FORWARD (policy DROP 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 ACCEPT     112  --  *      eth+    0.0.0.0/0            0.0.0.0/0           ";
        assert_eq!(listing(&mut nf, format), expected);
    }

    #[test]
    fn verbose_counts_scale_unless_exact() {
        let mut nf = filter_with(&[rule(Target::Accept)]);
        let big = PacketView {
            len: 1_500_000,
            ..tcp_packet()
        };
        for _ in 0..3 {
            nf.filter(Hook::Input, &big);
        }
        let verbose = ListFormat {
            verbose: true,
            ..ListFormat::default()
        };
        let lines = nf
            .list(Table::Filter, Some("INPUT"), None, verbose)
            .unwrap();
        assert_eq!(
            lines[2],
            "    3 4500K ACCEPT     all  --  any    any     anywhere             anywhere            "
        );
        let exact = ListFormat {
            exact: true,
            ..verbose
        };
        let lines = nf.list(Table::Filter, Some("INPUT"), None, exact).unwrap();
        assert_eq!(
            lines[1],
            "    pkts      bytes target     prot opt in     out     source               destination         "
        );
        assert!(lines[2].starts_with("       3  4500000 ACCEPT "));
    }

    #[test]
    fn print_num_follows_xtables_print_num() {
        assert_eq!(print_num(99_999, false, true), "99999 ");
        assert_eq!(print_num(100_000, false, true), " 100K ");
        assert_eq!(print_num(9_999_499, false, true), "9999K ");
        assert_eq!(print_num(9_999_500, false, true), "  10M ");
        assert_eq!(print_num(12_345_678_901, false, false), "12G ");
        assert_eq!(print_num(20_000_000_000_000_000, false, true), "20000T ");
        assert_eq!(print_num(7, true, true), "       7 ");
        assert_eq!(print_num(7, true, false), "7 ");
    }

    #[test]
    fn list_one_rule_prints_its_line_alone() {
        let mut nf = sample();
        let line = nf
            .list(Table::Filter, Some("INPUT"), Some(2), ListFormat::default())
            .unwrap();
        assert_eq!(
            line,
            ["DROP       tcp  --  10.0.0.5             anywhere             tcp dpt:http"]
        );
        let past = nf.list(Table::Filter, Some("INPUT"), Some(9), ListFormat::default());
        assert_eq!(past, Ok(Vec::new()));
        let missing = nf.list(Table::Filter, Some("FOO"), None, ListFormat::default());
        assert_eq!(missing, Err(NfError::NoSuchChain));
    }

    #[test]
    fn list_rules_prints_policies_then_rules() {
        let expected = [
            "-P INPUT ACCEPT",
            "-P FORWARD DROP",
            "-P OUTPUT ACCEPT",
            "-A INPUT -p udp -m udp --dport 53 -j ACCEPT",
            "-A INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 80 -j DROP",
            "-A INPUT ! -s 10.0.0.0/24 -i eth0 -p tcp -m tcp --sport 1024:65535 -j REJECT --reject-with tcp-reset",
            "-A OUTPUT -o eth+ -p vrrp -j ACCEPT",
        ];
        assert_eq!(
            sample()
                .list_rules(Table::Filter, None, None, false)
                .unwrap(),
            expected
        );
    }

    #[test]
    fn list_rules_with_counters_and_by_number() {
        let mut nf = sample();
        nf.filter(Hook::Input, &policy_packet());
        assert_eq!(
            nf.list_rules(Table::Filter, Some("INPUT"), None, true)
                .unwrap()[..3],
            [
                "-P INPUT ACCEPT -c 1 60",
                "-A INPUT -p udp -m udp --dport 53 -c 0 0 -j ACCEPT",
                "-A INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 80 -c 0 0 -j DROP",
            ]
        );
        assert_eq!(
            nf.list_rules(Table::Filter, Some("OUTPUT"), Some(1), false)
                .unwrap(),
            ["-A OUTPUT -o eth+ -p vrrp -j ACCEPT"]
        );
    }

    #[test]
    fn save_text_covers_inversions_masks_and_bare_rules() {
        let spec = RuleSpec {
            src: AddrMatch::new(ip("10.0.0.0"), ip("255.0.255.0"), false),
            dst: net("0.0.0.0/0", true),
            in_iface: Some(IfaceMatch {
                name: "eth1".into(),
                invert: true,
            }),
            out_iface: Some(IfaceMatch {
                name: "+".into(),
                invert: false,
            }),
            proto: 6,
            proto_invert: true,
            ports: Vec::new(),
            target: None,
        };
        assert_eq!(
            save_rule("FORWARD", &spec, None),
            "-A FORWARD -s 10.0.0.0/255.0.255.0 ! -d 0.0.0.0/0 ! -i eth1 ! -p tcp "
        );
        let mut ports = PortMatch::new(L4::Tcp);
        ports.dport = PortRange {
            min: 22,
            max: 22,
            invert: true,
        };
        let ssh = RuleSpec {
            proto: 6,
            ports: vec![ports],
            ..rule(Target::Accept)
        };
        assert_eq!(
            save_rule("INPUT", &ssh, None),
            "-A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT"
        );
    }

    #[test]
    fn list_columns_for_masks_localhost_and_inverted_ports() {
        let mut ports = PortMatch::new(L4::Tcp);
        ports.dport = PortRange {
            min: 8080,
            max: 8080,
            invert: true,
        };
        let spec = RuleSpec {
            src: AddrMatch::new(ip("127.0.0.1"), Ipv4Addr::BROADCAST, false),
            dst: AddrMatch::new(ip("10.0.0.0"), ip("255.0.255.0"), false),
            proto: 6,
            ports: vec![ports],
            ..rule(Target::Accept)
        };
        let mut nf = filter_with(&[spec]);
        let names = nf
            .list(Table::Filter, Some("INPUT"), Some(1), ListFormat::default())
            .unwrap();
        assert_eq!(
            names,
            ["ACCEPT     tcp  --  localhost            10.0.0.0/255.0.255.0  tcp dpt:!http-alt"]
        );
        let numeric = ListFormat {
            numeric: true,
            ..ListFormat::default()
        };
        let numbers = nf
            .list(Table::Filter, Some("INPUT"), Some(1), numeric)
            .unwrap();
        assert_eq!(
            numbers,
            ["ACCEPT     tcp  --  127.0.0.1            10.0.0.0/255.0.255.0  tcp dpt:!8080"]
        );
    }

    #[test]
    fn mangle_lists_its_five_chains_and_mark_set() {
        let mut nf = mangle_with(&[RuleSpec {
            dst: net("10.0.0.100", false),
            ..tcp_to(443, mark(1, u32::MAX))
        }]);
        let numeric = ListFormat {
            numeric: true,
            ..ListFormat::default()
        };
        let lines = nf.list(Table::Mangle, None, None, numeric).unwrap();
        let titles: Vec<&String> = lines.iter().filter(|l| l.starts_with("Chain")).collect();
        assert_eq!(
            titles,
            [
                "Chain PREROUTING (policy ACCEPT)",
                "Chain INPUT (policy ACCEPT)",
                "Chain FORWARD (policy ACCEPT)",
                "Chain OUTPUT (policy ACCEPT)",
                "Chain POSTROUTING (policy ACCEPT)",
            ]
        );
        assert_eq!(
            lines[2],
            "MARK       tcp  --  0.0.0.0/0            10.0.0.100           tcp dpt:443 MARK set 0x1"
        );
    }

    #[test]
    fn mark_prints_as_the_operation_it_amounts_to() {
        let printed = |value, mask| {
            let mut out = String::new();
            print_mark(value, mask, &mut out);
            out
        };
        assert_eq!(printed(1, u32::MAX), " MARK set 0x1");
        assert_eq!(printed(0, !0x30), " MARK and 0x30");
        assert_eq!(printed(4, 4), " MARK or 0x4");
        assert_eq!(printed(0xff, 0), " MARK xor 0xff");
        assert_eq!(printed(1, 0xff), " MARK xset 0x1/0xff");
    }

    #[test]
    fn the_verbose_echo_is_one_numeric_line() {
        let spec = RuleSpec {
            src: net("10.0.0.1", false),
            dst: net("10.0.0.2", false),
            in_iface: Some(IfaceMatch {
                name: "eth2".into(),
                invert: false,
            }),
            ..rule(Target::Accept)
        };
        assert_eq!(
            print_rule(&spec),
            "ACCEPT  all opt -- in eth2 out *  10.0.0.1  -> 10.0.0.2  "
        );
        assert_eq!(
            print_rule(&tcp_to(80, Target::Drop)),
            "DROP  tcp opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0   tcp dpt:80"
        );
    }

    #[test]
    fn names_come_from_protocols_and_services() {
        assert_eq!(protocol_by_name("vrrp"), Some(112));
        assert_eq!(protocol_by_name("ip"), Some(0));
        assert_eq!(protocol_by_name("icmpv6"), Some(58));
        assert_eq!(protocol_by_name("VRRP"), None);
        assert_eq!(protocol_name(89), Some("ospf"));
        assert_eq!(proto_column(58, true), "icmpv6");
        assert_eq!(proto_column(58, false), "ipv6-icmp");
        assert_eq!(proto_column(0, false), "all");
        assert_eq!(proto_column(200, false), "200");
        assert_eq!(service_name(514, L4::Tcp), Some("shell"));
        assert_eq!(service_name(514, L4::Udp), Some("syslog"));
        assert_eq!(service_name(80, L4::Udp), None);
        assert_eq!(service_port("www", Some(L4::Tcp)), Some(80));
        assert_eq!(service_port("www", Some(L4::Udp)), None);
        assert_eq!(service_port("www", None), Some(80));
    }

    #[test]
    fn reject_types_know_their_icmp_codes() {
        let codes: Vec<Option<u8>> = RejectWith::ALL.iter().map(|w| w.icmp_code()).collect();
        assert_eq!(
            codes,
            [
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(9),
                Some(10),
                None,
                Some(13)
            ]
        );
    }
}
