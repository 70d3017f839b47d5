//! Running parsed commands against a host's tables.

use super::{ip, parsed};
use crate::scenario::commands::iptables::run;
use crate::stack::host::Host;

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
