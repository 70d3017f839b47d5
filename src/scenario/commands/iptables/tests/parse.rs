//! Lines that parse: rules, commands and listings.

use std::net::Ipv4Addr;

use super::{ip, parsed};
use crate::scenario::commands::iptables::Action;
use crate::stack::netfilter::{
    AddrMatch, L4, ListFormat, PortMatch, PortRange, RejectWith, RuleSpec, Table, Target,
};

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
