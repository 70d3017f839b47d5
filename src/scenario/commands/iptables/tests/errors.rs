//! Lines iptables refuses, and what lvsim refuses because it does not simulate it.

use super::parse_line;
use crate::scenario::commands::iptables::PREFIX;

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
