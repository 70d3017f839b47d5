//! The text `iptables -L` and `iptables -S` print for a rule (nft-shared.c print_rule_details,
//! save_rule_details; xshared.c; xtables.c xtables_print_num).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::names::CHAIN_PROTOS;
use super::{
    AddrMatch, Counters, IfaceMatch, ListFormat, PortMatch, Rule, RuleSpec, Target, protocol_name,
    service_name,
};

/// One `iptables -L` line: number, counters, then print_rule_details and the rest.
pub(super) fn row(rule: &Rule, number: usize, format: &ListFormat) -> String {
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
pub(super) fn proto_column(proto: u8, numeric: bool) -> String {
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
pub(super) fn save_rule(chain: &str, spec: &RuleSpec, counters: Option<Counters>) -> String {
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
pub(super) fn print_num(number: u64, exact: bool, tabular: bool) -> String {
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
