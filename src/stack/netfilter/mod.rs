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

/// A 1-based rule number as an index (0 never comes from the parser; it maps past the end).
fn rule_index(position: u32) -> usize {
    usize::try_from(position).map_or(usize::MAX, |p| p.wrapping_sub(1))
}

mod listing;
mod names;

pub use listing::print_rule;
use listing::{print_num, row, save_rule};
pub use names::{protocol_by_name, protocol_name, service_name, service_port};

#[cfg(test)]
mod tests;
