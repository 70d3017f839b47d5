//! Every class of bad input is an error naming file, line and column, with the offending text
//! under a caret and what is accepted — never a panic, never a silent ignore.

use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions};
use lvsim::scenario::source::Diagnostic;

const HEAD: &str = "[lan.lan0]\n[host.a]\nnic.eth0 = { lan = \"lan0\", addr = \"10.0.0.1/24\" }\n";

/// The error of loading (or, for runtime failures in setup, running) `text` as `lab.toml`.
fn error_of(text: &str) -> Diagnostic {
    match load("lab.toml", text) {
        Err(e) => e,
        Ok(scenario) => match run::run(&scenario, RunOptions::default()) {
            Err(e) => e,
            Ok(_) => panic!("expected an error for:\n{text}"),
        },
    }
}

/// A host `a` whose setup script is `script`.
fn setup(script: &str) -> String {
    format!("{HEAD}setup = \"\"\"\n{script}\n\"\"\"\n")
}

fn assert_error(text: &str, headline: &str, caret: &str) {
    let e = error_of(text);
    assert_eq!(e.headline(), headline);
    let (line, width) = e.snippet.as_ref().expect("a snippet");
    let underlined: String = line.chars().skip(e.col - 1).take(*width).collect();
    assert_eq!(underlined, caret, "caret in:\n{e}");
    assert!(!e.to_string().contains("panicked"));
}

#[test]
fn unknown_command() {
    let e = error_of(&setup("ip link set eth0 up\nifconfg eth0 10.0.0.1"));
    assert_eq!(e.headline(), "lab.toml:6:1: ifconfg: command not found");
    assert!(
        e.help.as_deref().unwrap().contains("ifconfig"),
        "lists what is accepted"
    );
}

#[test]
fn bad_option() {
    assert_error(
        &setup("ping -x 10.0.0.2"),
        "lab.toml:5:6: ping: invalid option -- 'x'",
        "-x",
    );
    assert_error(
        &setup("route add -host 10.0.0.9 via 10.0.0.1"),
        "lab.toml:5:26: route: unknown option `via`",
        "via",
    );
    assert_error(
        &setup("ip link set eth0 sideways"),
        "lab.toml:5:18: Error: either \"dev\" is duplicate, or \"sideways\" is a garbage.",
        "sideways",
    );
    assert_error(
        &setup("sysctl -w net.ipv4.ip_forward"),
        "lab.toml:5:11: sysctl: \"net.ipv4.ip_forward\" must be of the form name=value",
        "net.ipv4.ip_forward",
    );
}

/// Options the real tools have but lvsim does not model are refused, not silently dropped.
#[test]
fn options_lvsim_does_not_model_are_refused() {
    assert_error(
        &setup("ping -v 10.0.0.2"),
        "lab.toml:5:6: ping: -v is not simulated",
        "-v",
    );
    assert_error(
        &setup("curl -v http://10.0.0.2/"),
        "lab.toml:5:6: curl: -v is not simulated",
        "-v",
    );
    assert_error(
        &setup("ip addr add 10.0.0.5/24 dev eth0 valid_lft 30"),
        "lab.toml:5:44: lvsim keeps addresses forever: only `forever` is accepted as a lifetime",
        "30",
    );
    assert_error(
        &setup("ip route add 10.9.0.0/16 via 10.0.0.254 table 100"),
        "lab.toml:5:47: lvsim has only the main routing table",
        "100",
    );
    assert_error(
        &setup("route add -net 10.9.0.0/16 gw 10.0.0.254 mss 1400"),
        "lab.toml:5:42: route: `mss` is not simulated",
        "mss",
    );
    assert_error(
        &setup("sysctl -a net.ipv4.ip_forward"),
        "lab.toml:5:11: sysctl: -a lists every key; drop the key or the -a",
        "net.ipv4.ip_forward",
    );
}

#[test]
fn bad_address() {
    assert_error(
        &setup("ip addr add 10.0.0.300/24 dev eth0"),
        "lab.toml:5:13: Error: any valid prefix is expected rather than \"10.0.0.300/24\".",
        "10.0.0.300/24",
    );
    assert_error(
        &setup("ifconfig eth0 10.0.0.2 netmask 255.0.255.0"),
        "lab.toml:5:24: ifconfig: netmask 255.0.255.0 is not contiguous",
        "netmask",
    );
    assert_error(
        &setup("arp -s 10.0.0.2 00:11:22:33:44"),
        "lab.toml:5:17: `00:11:22:33:44` is not a MAC address (expected six hex pairs like 00:0c:29:50:d5:63)",
        "00:11:22:33:44",
    );
    assert_error(
        &format!(
            "{HEAD}[[at]]\ntime = \"1s\"\nhost = \"a\"\nrun = \"curl http://www.example.com/\"\n"
        ),
        "lab.toml:7:13: curl: `www.example.com` is not an IPv4 address (lvsim has no DNS: write URLs as http://A.B.C.D[:PORT][/PATH])",
        "http://www.example.com/",
    );
}

#[test]
fn bad_toml() {
    assert_error(
        "[lan.lan0]\n[host.a\nnic.eth0 = { lan = \"lan0\" }\n",
        "lab.toml:2:8: invalid TOML: unclosed table, expected `]`",
        "",
    );
    assert_error(
        "title = 5\n[lan.lan0]\n",
        "lab.toml:1:9: title must be a string, not a integer",
        "5",
    );
    assert_error(
        &format!("{HEAD}colour = \"blue\"\n"),
        "lab.toml:4:1: unknown key `colour` in [host.a]",
        "colour",
    );
    assert_error(
        &format!("until = \"10\"\n{HEAD}"),
        "lab.toml:1:9: until: `10` has no unit (accepted units: ns, us, ms, s, m)",
        "\"10\"",
    );
}

#[test]
fn unknown_host_or_lan() {
    assert_error(
        &format!("{HEAD}[[at]]\ntime = \"1s\"\nhost = \"b\"\nrun = \"ping -c 1 10.0.0.1\"\n"),
        "lab.toml:6:8: unknown host `b`",
        "\"b\"",
    );
    assert_error(
        "[lan.lan0]\n[host.a]\nnic.eth0 = { lan = \"lan1\" }\n",
        "lab.toml:3:20: unknown LAN `lan1`",
        "\"lan1\"",
    );
    assert_error(
        &format!("{HEAD}[[expect]]\nhost = \"z\"\nneigh = {{ ip = \"10.0.0.2\" }}\n"),
        "lab.toml:5:8: unknown host `z`",
        "\"z\"",
    );
}

#[test]
fn duplicate_mac() {
    let text = "[lan.lan0]\n[host.a]\nnic.eth0 = { lan = \"lan0\", mac = \"00:0c:29:50:d5:63\" }\n[host.b]\nnic.eth0 = { lan = \"lan0\", mac = \"00:0C:29:50:D5:63\" }\n";
    assert_error(
        text,
        "lab.toml:5:34: duplicate MAC 00:0c:29:50:d5:63: already used by a/eth0",
        "\"00:0C:29:50:D5:63\"",
    );
}

#[test]
fn shell_constructs_lvsim_does_not_simulate() {
    assert_error(
        &setup("ping -c 1 $target"),
        "lab.toml:5:11: `$target` is not set",
        "$target",
    );
    assert_error(
        &setup("arp -n | grep 10.0.0.2"),
        "lab.toml:5:8: pipes are not simulated",
        "|",
    );
    assert_error(
        &setup("for i in 1 2; do ping $i; done"),
        "lab.toml:5:1: `for`: shell control flow and sourcing are not simulated",
        "for",
    );
    assert_error(
        &setup("sleep 5"),
        "lab.toml:5:1: sleep: scripts run at one instant in lvsim",
        "sleep",
    );
}

#[test]
fn failures_in_setup_stop_the_run_at_the_command() {
    assert_error(
        &setup("route add -host 10.0.0.9 dev eth9"),
        "lab.toml:5:1: SIOCADDRT: No such device",
        "route",
    );
    assert_error(
        &setup("sysctl -w net.ipv4.conf.eth9.arp_ignore=1"),
        "lab.toml:5:1: sysctl: cannot stat /proc/sys/net/ipv4/conf/eth9/arp_ignore: No such file or directory",
        "sysctl",
    );
    assert_error(
        &setup("echo x > /proc/sys/net/ipv4/conf/all/arp_ignore"),
        "lab.toml:5:1: bash: echo: write error: Invalid argument",
        "echo",
    );
    assert_error(
        &setup("ip addr add 10.0.0.1/24 dev eth0"),
        "lab.toml:5:1: RTNETLINK answers: File exists",
        "ip",
    );
}

/// design.md "lvsim sched output rules": an ipvsadm line ipvsadm would reject, in setup,
/// stops the run with `FILE:LINE:COL: ipvsadm: <message>` — parse errors and kernel refusals.
#[test]
fn bad_ipvsadm_lines_stop_the_setup_with_ipvsadms_message() {
    let e = error_of(&setup("ipvsadm -A -t 10.0.0.100:80 -s rr -w 5"));
    assert_eq!(
        e.headline(),
        "lab.toml:5:1: ipvsadm: Illegal 'weight' option with the 'add-service' command"
    );
    let e = error_of(&setup("ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.2"));
    assert_eq!(e.headline(), "lab.toml:5:1: ipvsadm: Service not defined");
    let e = error_of(&setup(
        "ipvsadm -A -t 10.0.0.100:80\nipvsadm -A -t 10.0.0.100:80 -s rr",
    ));
    assert_eq!(
        e.headline(),
        "lab.toml:6:1: ipvsadm: Service already exists"
    );
}

/// iproute2's ipfou.c complaints, and the kernel's when a port is taken twice or unknown.
#[test]
fn bad_ip_fou_lines_say_what_ipfou_says() {
    assert_error(
        &setup("ip fou add port 6080"),
        "lab.toml:5:1: fou: must set ipproto or gue",
        "ip fou add port 6080",
    );
    assert_error(
        &setup("ip fou add port 6080 gue ipproto 4"),
        "lab.toml:5:1: fou: cannot set ipproto and gue",
        "ip fou add port 6080 gue ipproto 4",
    );
    assert_error(
        &setup("ip fou add gue"),
        "lab.toml:5:1: fou: missing port",
        "ip fou add gue",
    );
    assert_error(
        &setup("ip fou add port 6080 gue encap"),
        "lab.toml:5:26: fou: unknown command \"encap\"?",
        "encap",
    );
    assert_error(
        &setup("ip fou add port 6080 gue\nip fou add port 6080 ipproto 4"),
        "lab.toml:6:1: RTNETLINK answers: Address already in use",
        "ip",
    );
    assert_error(
        &setup("ip fou del port 6080"),
        "lab.toml:5:1: RTNETLINK answers: Invalid argument",
        "ip",
    );
}

#[test]
fn iptables_errors_are_its_own_at_the_offending_word() {
    assert_error(
        &setup("iptables -A INPUT --dport 80 -j DROP"),
        "lab.toml:5:19: iptables v1.8.7 (nf_tables): unknown option \"--dport\"",
        "--dport",
    );
    assert_error(
        &setup("iptables -t mangle -A PREROUTING -d vip.example -j MARK --set-mark 1"),
        "lab.toml:5:37: iptables v1.8.7 (nf_tables): host/network `vip.example' not found",
        "vip.example",
    );
    assert_error(
        &setup("iptables -A INPUT -m state --state NEW -j ACCEPT"),
        "lab.toml:5:22: iptables: `-m state` is not simulated",
        "state",
    );
    assert_error(
        &setup("iptables -D INPUT -p tcp -j DROP"),
        "lab.toml:5:1: iptables: Bad rule (does a matching rule exist in that chain?).",
        "iptables",
    );
}

#[test]
fn the_cli_exits_2_with_the_message_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.toml");
    std::fs::write(&path, setup("ifconfg eth0 up")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .arg("run")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}:5:1: ifconfg: command not found",
            path.display()
        )),
        "{stderr}"
    );
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .args(["run", "no-such-lab"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
