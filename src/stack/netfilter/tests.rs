//! Rule matching, traversal and the -L/-S text, checked against iptables 1.8.7.

use super::listing::proto_column;
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
    let (m, _) =
        mangle_with(&[rule_of(Target::Accept), rule_of(mark(2, u32::MAX))]).mangle_prerouting(&pkt);
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
