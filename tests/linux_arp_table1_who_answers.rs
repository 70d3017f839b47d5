//! linux-arp.md §1 "Who answers ARP for the VIP": each test runs the measured topology with
//! the row's sysctls on both real servers, has the client resolve the VIP (`ping -c 1`) and
//! rs1's own address, and reads who replied and what the client kept.

mod common;

use common::{ArpLab, DIR_MAC, RS2_MAC, VIP, arp_repliers, neigh, run_lab};

/// The client resolves the VIP at 1 s and rs1's RIP at 2 s.
fn lab(rs_setup: &str) -> ArpLab {
    ArpLab::new(rs_setup)
        .at("1s", "client", &format!("ping -c 1 {VIP}"))
        .at("2s", "client", "ping -c 1 192.168.188.107")
}

fn check(rs_setup: &str, vip_repliers: &[&str], rs1_answers_rip: bool) {
    let result = lab(rs_setup).run();
    assert_eq!(
        arp_repliers(&result, VIP),
        vip_repliers,
        "VIP repliers with `{rs_setup}`"
    );
    let rip = arp_repliers(&result, "192.168.188.107");
    assert_eq!(
        rip == ["rs1"],
        rs1_answers_rip,
        "rs1 answers for its RIP with `{rs_setup}`: {rip:?}"
    );
}

#[test]
fn row_arp_ignore_0_everyone_answers() {
    check("", &["dir", "rs1", "rs2"], true);
}

#[test]
fn row_arp_ignore_1_on_all_only_dir() {
    check("sysctl -w net.ipv4.conf.all.arp_ignore=1", &["dir"], true);
}

#[test]
fn row_arp_ignore_1_on_eth0_only_dir() {
    check("sysctl -w net.ipv4.conf.eth0.arp_ignore=1", &["dir"], true);
}

#[test]
fn row_arp_ignore_2_on_all_only_dir_and_rip_to_in_subnet_requester() {
    check("sysctl -w net.ipv4.conf.all.arp_ignore=2", &["dir"], true);
}

#[test]
fn row_arp_ignore_2_on_eth0_only_dir() {
    check("sysctl -w net.ipv4.conf.eth0.arp_ignore=2", &["dir"], true);
}

#[test]
fn row_arp_ignore_3_with_global_scope_vip_everyone_answers() {
    check(
        "sysctl -w net.ipv4.conf.all.arp_ignore=3",
        &["dir", "rs1", "rs2"],
        true,
    );
    check(
        "sysctl -w net.ipv4.conf.eth0.arp_ignore=3",
        &["dir", "rs1", "rs2"],
        true,
    );
}

#[test]
fn row_arp_ignore_3_with_scope_host_vip_only_dir() {
    let setup = format!(
        "ip addr del {VIP}/32 dev lo\nip addr add {VIP}/32 dev lo scope host label lo:0\nsysctl -w net.ipv4.conf.all.arp_ignore=3"
    );
    check(&setup, &["dir"], true);
}

#[test]
fn row_arp_ignore_8_silences_even_the_rip() {
    check("sysctl -w net.ipv4.conf.all.arp_ignore=8", &["dir"], false);
    check("sysctl -w net.ipv4.conf.eth0.arp_ignore=8", &["dir"], false);
}

#[test]
fn row_any_arp_ignore_only_on_conf_lo_has_no_effect() {
    for value in [1, 2, 3, 8] {
        check(
            &format!("sysctl -w net.ipv4.conf.lo.arp_ignore={value}"),
            &["dir", "rs1", "rs2"],
            true,
        );
    }
}

#[test]
fn row_seed_recipe_only_dir() {
    let recipe = "echo \"1\" >/proc/sys/net/ipv4/conf/lo/arp_ignore\necho \"2\" >/proc/sys/net/ipv4/conf/lo/arp_announce\necho \"1\" >/proc/sys/net/ipv4/conf/all/arp_ignore\necho \"2\" >/proc/sys/net/ipv4/conf/all/arp_announce";
    check(recipe, &["dir"], true);
}

#[test]
fn arp_announce_changes_nothing_in_this_table() {
    for announce in [0, 1, 2] {
        check(
            &format!("sysctl -w net.ipv4.conf.all.arp_announce={announce}"),
            &["dir", "rs1", "rs2"],
            true,
        );
        check(
            &format!(
                "sysctl -w net.ipv4.conf.all.arp_announce={announce}\nsysctl -w net.ipv4.conf.all.arp_ignore=1"
            ),
            &["dir"],
            true,
        );
    }
}

#[test]
fn first_reply_wins_and_is_reachable() {
    // All three answer; the first to arrive (rs2, as on the measured bridge) is kept as
    // REACHABLE; the later replies arrive within locktime and are dropped.
    let result = lab("").run();
    assert_eq!(
        neigh(&result, "client", VIP),
        Some((Some(RS2_MAC.into()), "REACHABLE".into()))
    );
}

#[test]
fn the_director_alone_leaves_the_client_on_its_mac() {
    let result = lab("sysctl -w net.ipv4.conf.all.arp_ignore=1").run();
    assert_eq!(
        neigh(&result, "client", VIP),
        Some((Some(DIR_MAC.into()), "REACHABLE".into()))
    );
}

#[test]
fn arping_from_user_space_creates_no_kernel_entry_without_arp_accept() {
    let result = ArpLab::new("")
        .at("1s", "client", &format!("arping -c 1 -I eth0 {VIP}"))
        .run();
    assert_eq!(arp_repliers(&result, VIP), ["dir", "rs1", "rs2"]);
    assert_eq!(neigh(&result, "client", VIP), None);
}

#[test]
fn arping_with_arp_accept_1_keeps_the_first_reply_as_reachable() {
    let result = ArpLab::new("")
        .client("sysctl -w net.ipv4.conf.eth0.arp_accept=1")
        .at("1s", "client", &format!("arping -c 1 -I eth0 {VIP}"))
        .run();
    assert_eq!(
        neigh(&result, "client", VIP),
        Some((Some(RS2_MAC.into()), "REACHABLE".into()))
    );
}

#[test]
fn the_reply_order_follows_the_lan_latencies() {
    // Swap the latencies: now dir is closest and its reply arrives first.
    let toml = ArpLab::new("")
        .at("1s", "client", &format!("ping -c 1 {VIP}"))
        .toml()
        .replace("addr = \"192.168.188.108/24\", latency = \"10us\"", "addr = \"192.168.188.108/24\"")
        .replace("nic.eth0 = { lan = \"lan0\", mac = \"00:0c:29:2c:a5:a0\", addr = \"192.168.188.110/24\" }", "nic.eth0 = { lan = \"lan0\", mac = \"00:0c:29:2c:a5:a0\", addr = \"192.168.188.110/24\", latency = \"10us\" }");
    let result = run_lab(&toml);
    assert_eq!(arp_repliers(&result, VIP), ["dir", "rs1", "rs2"]);
    assert_eq!(
        neigh(&result, "client", VIP),
        Some((Some(DIR_MAC.into()), "REACHABLE".into()))
    );
}
