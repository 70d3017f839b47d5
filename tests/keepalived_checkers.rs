//! keepalived's health checkers on whole labs (keepalived.md §4 retry rules, §5 what each
//! verdict does to the IPVS table): the director's checks are real simulated traffic, and
//! `ipvsadm -L -n` at each instant shows the result.

mod common;

use common::run_lab;
use lvsim::scenario::run::RunResult;

/// The keepalived-health lab with the real_server blocks replaced by `servers` and extra
/// virtual_server keywords, and its timeline replaced by `timeline`.
fn lab(vs_extra: &str, servers: &str, timeline: &str) -> String {
    let base = include_str!("../scenarios/keepalived-health.toml");
    let start = base.find("    real_server 192.168.0.202").unwrap();
    let end = base.find("}\n\"\"\"\n\n[host.rs1]").unwrap();
    let mut text = format!("{}{vs_extra}{servers}{}", &base[..start], &base[end..]);
    text.truncate(text.find("[[at]]").unwrap());
    text + timeline
}

const TCP_CHECKED: &str = r#"    real_server 192.168.0.202 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 192.168.0.203 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
        }
    }
"#;

fn checker_lines(result: &RunResult) -> Vec<(f64, String, String, String)> {
    result
        .world
        .hosts
        .iter()
        .flat_map(|h| h.keepalived.check_records.iter())
        .map(|c| {
            (
                c.t.ns() as f64 / 1e9,
                c.rs.clone(),
                c.result.clone(),
                c.action.clone(),
            )
        })
        .collect()
}

fn listing(result: &RunResult) -> String {
    let lvs = result.world.hosts.iter().find(|h| h.name == "lvs").unwrap();
    let options = lvsim::lvs::ipvsadm::ListOptions {
        numeric: true,
        ..Default::default()
    };
    lvsim::lvs::ipvsadm::list(&options, &lvs.ipvs.snapshot(result.end.ns())).unwrap()
}

const RS1_DOWN_AT_5S: &str = r#"
[[at]]
time = "5s"
host = "rs1"
run = "systemctl stop nginx"
"#;

/// §4 TCP_CHECK: retry 1, delay_before_retry 1 s: an UP server that fails is retried a
/// second later and removed on the second failure (§5 "RS check fails": `-d`).
#[test]
fn tcp_check_retries_once_then_removes_the_server() {
    let result = run_lab(&lab("", TCP_CHECKED, RS1_DOWN_AT_5S));
    let lines = checker_lines(&result);
    let failed: Vec<_> = lines.iter().filter(|l| l.1 == "192.168.0.202:80").collect();
    assert_eq!(failed.len(), 2, "{lines:?}");
    assert_eq!(
        (failed[0].2.as_str(), failed[1].2.as_str()),
        ("failed", "down")
    );
    assert!((failed[1].0 - failed[0].0 - 1.0).abs() < 0.01, "{failed:?}");
    assert_eq!(failed[1].3, "removed");
    let table = listing(&result);
    assert!(!table.contains("192.168.0.202"), "{table}");
    assert!(table.contains("192.168.0.203:80"), "{table}");
}

/// §5 inhibit_on_failure: the failed server stays with weight 0 (quiesced).
#[test]
fn inhibit_on_failure_keeps_the_server_with_weight_zero() {
    let servers = TCP_CHECKED.replacen(
        "        weight 1\n",
        "        weight 1\n        inhibit_on_failure\n",
        1,
    );
    let result = run_lab(&lab("", &servers, RS1_DOWN_AT_5S));
    let table = listing(&result);
    assert!(
        table.contains("  -> 192.168.0.202:80             Route   0"),
        "{table}"
    );
}

/// §4 first run: a server down from the start is declared DOWN on its first failure (no
/// retries); §5 alpha: it is not added until a check succeeds.
#[test]
fn alpha_adds_servers_only_after_a_good_check_and_a_first_failure_is_final() {
    let timeline = r#"
[[at]]
time = "0s"
host = "rs1"
run = "systemctl stop nginx"
"#;
    let result = run_lab(&lab("    alpha\n", TCP_CHECKED, timeline));
    let lines = checker_lines(&result);
    let rs1: Vec<_> = lines.iter().filter(|l| l.1 == "192.168.0.202:80").collect();
    assert!(rs1.iter().all(|l| l.2 != "failed"), "{lines:?}");
    let rs2: Vec<_> = lines.iter().filter(|l| l.1 == "192.168.0.203:80").collect();
    assert_eq!(rs2[0].2, "up");
    assert!(rs2[0].3.starts_with("added"), "{rs2:?}");
    let table = listing(&result);
    assert!(!table.contains("192.168.0.202"), "{table}");
    assert!(table.contains("192.168.0.203:80"), "{table}");
}

/// §5 quorum lost: with every server down the sorry server is added with weight 1; when a
/// server comes back the sorry server goes and the server returns.
#[test]
fn the_sorry_server_stands_in_while_quorum_is_lost() {
    let timeline = r#"
[[at]]
time = "5s"
host = "rs1"
run = "systemctl stop nginx"

[[at]]
time = "5s"
host = "rs2"
run = "systemctl stop nginx"
"#;
    let extra = "    sorry_server 192.168.0.201 8080\n";
    let down =
        run_lab(&lab(extra, TCP_CHECKED, timeline).replace("until = \"20s\"", "until = \"12s\""));
    let table = listing(&down);
    assert!(table.contains("  -> 192.168.0.201:8080"), "{table}");
    assert!(
        !table.contains("192.168.0.202") && !table.contains("192.168.0.203"),
        "{table}"
    );
    let back = format!(
        "{timeline}\n[[at]]\ntime = \"13s\"\nhost = \"rs2\"\nrun = \"systemctl start nginx\"\n"
    );
    let result = run_lab(&lab(extra, TCP_CHECKED, &back));
    let table = listing(&result);
    assert!(!table.contains("192.168.0.201"), "{table}");
    assert!(table.contains("192.168.0.203:80"), "{table}");
}

/// MISC_CHECK: `misc_path` runs a simulated program on the director; curl failing to
/// connect is a failing exit status.
#[test]
fn misc_check_runs_the_command_and_reads_its_exit_status() {
    let servers = r#"    real_server 192.168.0.202 80 {
        weight 1
        MISC_CHECK {
            misc_path "curl -s -o /dev/null http://192.168.0.202/"
            misc_timeout 2
        }
    }
    real_server 192.168.0.203 80 {
        weight 1
        MISC_CHECK {
            misc_path "curl -s -o /dev/null http://192.168.0.203/"
            misc_timeout 2
        }
    }
"#;
    let result = run_lab(&lab("", servers, RS1_DOWN_AT_5S));
    let lines = checker_lines(&result);
    let rs1: Vec<_> = lines.iter().filter(|l| l.1 == "192.168.0.202:80").collect();
    assert_eq!(rs1.last().map(|l| l.2.as_str()), Some("down"), "{lines:?}");
    let curls = result
        .world
        .trace
        .apps
        .iter()
        .filter(|a| a.host == "lvs" && a.cmd.contains("curl"))
        .count();
    assert!(curls >= 4, "the checks ran curl on the director: {curls}");
    assert!(!listing(&result).contains("192.168.0.202"));
}

/// §4 HTTP_GET: every url is fetched in order, each on its own connection, and all must
/// answer with an accepted status: nginx has no /health (404), so the server goes down on
/// the first run (no retries before a first verdict) and is never added back.
#[test]
fn http_get_checks_every_url_in_order() {
    let servers = r#"    real_server 192.168.0.202 80 {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
        }
    }
"#;
    let result = run_lab(&lab("", servers, ""));
    let lines = checker_lines(&result);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        (lines[0].2.as_str(), lines[0].3.as_str()),
        ("down", "removed")
    );
    let requests = result
        .world
        .hosts
        .iter()
        .find(|h| h.name == "rs1")
        .unwrap()
        .web
        .served;
    assert!(requests >= 2, "both urls were asked for: {requests}");
    assert!(!listing(&result).contains("192.168.0.202"));
}
