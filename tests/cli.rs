//! The `lvsim` command line: subcommands, exit codes (0 ok, 1 an expectation failed or lint
//! found something, 2 bad input), `--json`, `--until`, `--max-events` and `--stats`.

use std::process::{Command, Output};

fn lvsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .args(args)
        .output()
        .expect("lvsim runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write_lab(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const PING_LAB: &str = r#"
title = "ping"
[lan.lan0]
[host.a]
nic.eth0 = { lan = "lan0", addr = "10.0.0.1/24" }
[host.b]
nic.eth0 = { lan = "lan0", addr = "10.0.0.2/24" }
[[at]]
time = "1s"
host = "a"
run = "ping -c 2 10.0.0.2"
[[expect]]
app = { cmd = "ping -c 2 10.0.0.2", ok = 2 }
"#;

#[test]
fn list_shows_the_shipped_labs_with_their_titles() {
    let out = lvsim(&["list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("arp-basics") && l.contains("ARP basics:")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("bench/lan-echo-k10")));
}

#[test]
fn run_without_a_scenario_runs_the_default_lab() {
    let out = lvsim(&["run", "--quiet", "--json", "-"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenario"], "scenarios/dr-basic.toml");
}

#[test]
fn the_json_report_has_the_design_keys_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let lab = write_lab(&dir, "ping.toml", PING_LAB);
    let out = lvsim(&["run", &lab, "--until", "3s", "--json", "-"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "scenario",
            "title",
            "seed",
            "end_ns",
            "frames",
            "hosts",
            "ipvs",
            "apps",
            "warnings",
            "drops",
            "arp_decisions",
            "vrrp",
            "checkers",
            "expectations"
        ]
    );
    let neigh = &report["hosts"]["a"]["neigh"][0];
    assert_eq!(neigh["ip"], "10.0.0.2");
    assert_eq!(neigh["state"], "REACHABLE");
    assert_eq!(report["apps"][0]["ok"], 2);
    assert_eq!(report["expectations"][0]["passed"], true);
    assert_eq!(report["expectations"][0]["got"]["ok"], 2);
    assert_eq!(
        report["hosts"]["a"]["sysctl"]["net.ipv4.conf.all.arp_ignore"],
        "0"
    );
    assert_eq!(
        report["hosts"]["a"]["addrs"][0],
        serde_json::json!({ "dev": "lo", "label": "lo", "cidr": "127.0.0.1/8" })
    );
}

#[test]
fn until_stops_at_exactly_that_instant() {
    let dir = tempfile::tempdir().unwrap();
    let lab = write_lab(&dir, "ping.toml", PING_LAB);
    let out = lvsim(&["run", &lab, "--until", "1500ms", "--json", "-"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["end_ns"], 1_500_000_000u64);
    // ping is still running (its second echo goes at 2 s): design.md says a command still
    // running at `until` reports ok = failed = 0.
    assert_eq!(
        (
            report["apps"][0]["ok"].as_u64(),
            report["apps"][0]["failed"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn check_exits_1_when_an_expectation_fails() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_lab(&dir, "good.toml", PING_LAB);
    let bad = write_lab(&dir, "bad.toml", &PING_LAB.replace("ok = 2", "ok = 3"));
    let ok = lvsim(&["check", &good]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(stdout(&ok).contains("PASS"));
    let failed = lvsim(&["check", &good, &bad]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stdout(&failed).contains(&format!(
            "FAIL {bad} #1: app `ping -c 2 10.0.0.2` ok=3 (ok=2 failed=0)"
        )),
        "{}",
        stdout(&failed)
    );
}

#[test]
fn a_run_away_scenario_stops_at_max_events_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let lab = write_lab(&dir, "forever.toml", &PING_LAB.replace("ping -c 2", "ping"));
    let out = lvsim(&["run", &lab, "--quiet", "--max-events", "5000"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped after 5000 events") && stderr.contains("set `until`"),
        "{stderr}"
    );
}

#[test]
fn stats_prints_the_benchmark_figures() {
    let dir = tempfile::tempdir().unwrap();
    let lab = write_lab(&dir, "ping.toml", PING_LAB);
    let text = stdout(&lvsim(&[
        "run", &lab, "--quiet", "--stats", "--until", "3s",
    ]));
    for label in [
        "frames on the wire: 6",
        "events processed:",
        "wall seconds:",
        "frames per second:",
    ] {
        assert!(text.contains(label), "{label} in {text}");
    }
}

#[test]
fn lint_reports_a_vip_the_real_server_would_still_answer_for() {
    let dir = tempfile::tempdir().unwrap();
    let leaky = write_lab(
        &dir,
        "leaky.toml",
        "[lan.lan0]\n[host.rs1]\nnic.eth0 = { lan = \"lan0\", addr = \"10.0.0.7/24\" }\nsetup = '''\nifconfig lo:0 10.0.0.100/32 up\necho 1 > /proc/sys/net/ipv4/conf/lo/arp_ignore\n'''\n",
    );
    let out = lvsim(&["lint", &leaky]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("host rs1: 10.0.0.100 is on lo but rs1 answers who-has 10.0.0.100 on eth0: arp_ignore=0 (max of all=0, eth0=0)"), "{text}");
    assert!(
        text.contains("net.ipv4.conf.lo.arp_ignore=1 has no effect on ARP"),
        "{text}"
    );
    assert!(text.contains("may announce 10.0.0.100"), "{text}");
    let clean = lvsim(&["lint", "dr-lab-network"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

#[test]
fn lint_flags_a_wide_prefix_on_lo_and_duplicate_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let lab = write_lab(
        &dir,
        "wide.toml",
        "[lan.lan0]\n[host.a]\nnic.eth0 = { lan = \"lan0\", addr = \"10.0.0.7/24\" }\nsetup = '''\nsysctl -w net.ipv4.conf.all.arp_ignore=1\nsysctl -w net.ipv4.conf.all.arp_announce=2\nifconfig lo:0 10.0.9.1 netmask 255.255.255.0 up\n'''\n[host.b]\nnic.eth0 = { lan = \"lan0\", addr = \"10.0.0.7/24\" }\n",
    );
    let text = stdout(&lvsim(&["lint", &lab]));
    assert!(
        text.contains("10.0.9.1/24 on lo makes all of 10.0.9.0/24 local"),
        "{text}"
    );
    assert!(
        text.contains("10.0.0.7 is configured on a/eth0 and b/eth0"),
        "{text}"
    );
}

#[test]
fn the_json_report_lists_suppressed_arp_replies_with_their_rule() {
    let out = lvsim(&["run", "arp-ignore-matrix", "--json", "-"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let decisions = report["arp_decisions"].as_array().unwrap();
    let ignored = decisions
        .iter()
        .find(|d| d["host"] == "i1-rs" && d["kind"] == "ignored")
        .expect("i1-rs ignores who-has VIP");
    assert_eq!(ignored["ip"], "10.0.2.100");
    assert!(
        ignored["detail"]
            .as_str()
            .unwrap()
            .contains("arp_ignore=1 (max of all=1, eth0=0)")
    );
    let answered = decisions
        .iter()
        .find(|d| d["host"] == "i0-rs")
        .expect("i0-rs answers for an address on lo");
    assert_eq!(answered["kind"], "answered-for-other-interface");
}
