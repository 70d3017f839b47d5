//! `lvsim sched`: the scheduler playground's output for the shipped example scripts (golden
//! text), its `--json` lines, and design.md's rules for lines ipvsadm would reject.

use std::process::Command;

fn lvsim_sched(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .arg("sched")
        .args(args)
        .output()
        .expect("lvsim runs")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn wlc_and_thresholds_example() {
    let out = lvsim_sched(&["scenarios/sched/wlc-thresholds.sched"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn wrr_and_persistence_example() {
    let out = lvsim_sched(&["scenarios/sched/wrr-persistence.sched"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(stdout(&out));
}

/// design.md: `{"line", "op": "conn", "conn", "dest", "reused"}` per conn and
/// `{"line", "op": "ipvsadm", "output"}` per ipvsadm line, with ipvsadm's exact bytes.
#[test]
fn json_lines_carry_the_contract_keys() {
    let out = lvsim_sched(&["scenarios/sched/wrr-persistence.sched", "--json"]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let first_conn = lines.iter().find(|v| v["op"] == "conn").unwrap();
    assert_eq!(first_conn["line"], 7);
    assert_eq!(first_conn["conn"], 1);
    assert_eq!(first_conn["dest"], "10.0.0.3:80");
    assert_eq!(first_conn["reused"], false);
    let listing = lines
        .iter()
        .find(|v| v["op"] == "ipvsadm" && v["output"] != "")
        .unwrap();
    let text = listing["output"].as_str().unwrap();
    assert!(text.starts_with("IP Virtual Server version 1.2.1 (size=4096)\n"));
    assert!(
        text.ends_with("0         \n"),
        "trailing blanks and newline kept"
    );
    let silent = lines.iter().find(|v| v["op"] == "ipvsadm").unwrap();
    assert_eq!(silent["output"], "");
}

/// design.md: a rejected ipvsadm line stops the script with exit 2; with --json the last
/// line is `{"line", "op": "ipvsadm", "error", "exit"}`, without it stderr says
/// `FILE:L: ipvsadm: <message>`.
#[test]
fn a_rejected_ipvsadm_line_stops_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.sched");
    std::fs::write(
        &path,
        "ipvsadm -A -t 10.0.0.1:80\n\n# comment\nipvsadm -A -t 10.0.0.1:80\nconn 1.1.1.1:1\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = lvsim_sched(&[file]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{file}:4: ipvsadm: Service already exists\n")
    );
    let out = lvsim_sched(&[file, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let last: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(
        last,
        serde_json::json!({ "line": 4, "op": "ipvsadm", "error": "Service already exists", "exit": 255 })
    );
    std::fs::write(&path, "ipvsadm -A -t 10.0.0.1:80 -w 3\n").unwrap();
    let out = lvsim_sched(&[file, "--json"]);
    let last: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(last["exit"], 2);
    assert_eq!(
        last["error"],
        "Illegal 'weight' option with the 'add-service' command"
    );
}

#[test]
fn script_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.sched");
    std::fs::write(&path, "ipvsadm -A -t 10.0.0.1:80\nconn 1.1.1.1\n").unwrap();
    let file = path.to_str().unwrap();
    let out = lvsim_sched(&[file]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{file}:2: `1.1.1.1` is not ADDR:PORT (IPv6 as [ADDR]:PORT)\n")
    );
}
