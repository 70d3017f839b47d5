//! The labs in `scenarios/`: every expectation passes, the traces in `pcaps/` are the ones the
//! labs produce today, tshark reads them cleanly (interface names, comments, no checksum or
//! malformed-packet error), and running a lab twice gives the same bytes.
//!
//! Regenerate the traces after a deliberate change with
//! `LVSIM_UPDATE_PCAPS=1 cargo test --test shipped_labs`.

mod common;

use std::path::{Path, PathBuf};

use lvsim::output::json;
use lvsim::scenario::library::{SHIPPED, Shipped};
use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions};

use common::{assert_tshark_clean, run_lab_with_pcap, tshark_fields};

/// The teaching labs (the benchmarks in `scenarios/bench/` are too big to trace in tests).
fn labs() -> impl Iterator<Item = &'static Shipped> {
    SHIPPED.iter().filter(|lab| !lab.name.starts_with("bench/"))
}

fn committed_pcap(lab: &Shipped) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pcaps")
        .join(format!("{}.pcapng", lab.name))
}

#[test]
fn every_shipped_lab_meets_its_expectations() {
    for lab in SHIPPED {
        if lab.name.starts_with("bench/") {
            continue;
        }
        let scenario = load(lab.path, lab.text).unwrap_or_else(|e| panic!("{e}"));
        let result = run::run(&scenario, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!result.outcomes.is_empty(), "{} checks nothing", lab.name);
        for o in &result.outcomes {
            assert!(
                o.passed,
                "{} #{}: {} ({})",
                lab.name,
                o.index + 1,
                o.text,
                o.detail
            );
        }
    }
}

#[test]
fn the_benchmarks_load() {
    for lab in SHIPPED.iter().filter(|lab| lab.name.starts_with("bench/")) {
        load(lab.path, lab.text).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn committed_pcaps_match_what_the_labs_produce() {
    let update = std::env::var_os("LVSIM_UPDATE_PCAPS").is_some();
    let dir = tempfile::tempdir().unwrap();
    let mut stale = Vec::new();
    for lab in labs() {
        let (_, fresh) = run_lab_with_pcap(lab.text, dir.path());
        let fresh = std::fs::read(fresh).unwrap();
        let path = committed_pcap(lab);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run `LVSIM_UPDATE_PCAPS=1 cargo test --test shipped_labs`): {stale:?}"
    );
}

#[test]
fn tshark_reads_every_committed_pcap_cleanly() {
    for lab in labs() {
        let path = committed_pcap(lab);
        assert_tshark_clean(&path);
        let rows = tshark_fields(&path, &["frame.interface_name", "frame.comment"]);
        assert!(!rows.is_empty(), "{} has no packets", lab.name);
        for row in &rows {
            let (host, iface) = row[0]
                .split_once('/')
                .unwrap_or_else(|| panic!("interface name {:?} is host/nic", row[0]));
            let scenario = load(lab.path, lab.text).unwrap();
            assert!(
                scenario.hosts.iter().any(|h| h.name == host
                    && (iface == "tunl0" || h.nics.iter().any(|n| n.name == iface))),
                "{} names {}",
                lab.name,
                row[0]
            );
        }
        assert!(
            rows.iter().any(|r| r.len() > 1 && !r[1].is_empty()),
            "{}: tshark shows no packet comment",
            lab.name
        );
    }
}

#[test]
fn a_lab_run_twice_gives_identical_pcap_and_json_bytes() {
    let lab = lvsim::scenario::library::find("arp-announce-flip").unwrap();
    let run_once = |dir: &Path| {
        let (result, pcap) = run_lab_with_pcap(lab.text, dir);
        let report = json::report(lab.path, "", &result);
        (
            std::fs::read(pcap).unwrap(),
            serde_json::to_vec_pretty(&report).unwrap(),
        )
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (pcap1, json1) = run_once(a.path());
    let (pcap2, json2) = run_once(b.path());
    assert_eq!(pcap1, pcap2, "pcap bytes differ between runs");
    assert_eq!(json1, json2, "JSON bytes differ between runs");
}

#[test]
fn another_seed_draws_other_random_values() {
    let lab = lvsim::scenario::library::find("arp-basics").unwrap();
    let scenario = load(lab.path, lab.text).unwrap();
    let reachable = |seed| {
        let result = run::run(
            &scenario,
            RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
        .unwrap();
        result.world.hosts[0].ifaces[1].reachable_time_ns
    };
    assert_eq!(reachable(1), reachable(1));
    assert_ne!(reachable(1), reachable(2));
}
