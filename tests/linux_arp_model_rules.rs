//! linux-arp.md "Model rules a simulator can use" and "Differences from the textbook
//! description": one test per bullet that the tables do not already reproduce. Covered
//! elsewhere, so not repeated here: the arp_ignore levels for the VIP on lo, conf.lo having
//! no effect, arp_ignore 3/8, first reply wins and the reply order (§1,
//! linux_arp_table1_who_answers.rs); the arp_announce table for local sources (§2,
//! linux_arp_table2_announce.rs); GARP, locktime and arp_accept for GARPs (§3,
//! linux_arp_table3_garp_locktime.rs); arp_ignore=2 and rp_filter without a route back (§4)
//! and the REACHABLE → STALE → DELAY → PROBE → FAILED → INCOMPLETE sequence (§5), both in
//! linux_arp_table4_5.rs.

mod common;

use std::path::Path;

use common::{
    ArpLab, CLIENT_MAC, DIR_MAC, RS1_MAC, VIP, arp_repliers, neigh, request_senders, run_lab,
    run_lab_with_pcap, tshark_fields,
};
use lvsim::scenario::commands::ip::show_neighbours;
use lvsim::scenario::run::RunResult;

const CLIENT_IP: &str = "192.168.188.111";
const DIR_RIP: &str = "192.168.188.108";
const RS1_RIP: &str = "192.168.188.107";
const RS2_RIP: &str = "192.168.188.110";
/// A MAC no host has.
const NOBODY_MAC: &str = "02:00:00:00:00:99";

fn sysctl(key: &str, value: u8) -> String {
    format!("sysctl -w net.ipv4.{key}={value}")
}

/// Whether `host` sent an ARP reply claiming `ip`.
fn replied(result: &RunResult, host: &str, ip: &str) -> bool {
    arp_repliers(result, ip).iter().any(|h| h == host)
}

/// An `[[at]]` entry.
fn at(time: &str, host: &str, run: &str) -> String {
    format!("[[at]]\ntime = \"{time}\"\nhost = \"{host}\"\nrun = '''{run}'''\n")
}

// ----- a host with two NICs ----------------------------------------------------------------

const GW_ETH0_MAC: &str = "00:0c:29:aa:00:01";
const GW_ETH1_MAC: &str = "00:0c:29:aa:00:02";
/// gw's address on eth1 (lan1).
const GW_ETH1_IP: &str = "10.0.0.1";
/// A second address of the client on lan0, inside gw's eth1 subnet: the route back to it
/// leaves gw by eth1, not by eth0 where the client's requests arrive.
const CLIENT_IN_LAN1_SUBNET: &str = "10.0.0.99";
/// A third address of the client, for which gw has no route at all.
const CLIENT_UNROUTED: &str = "10.9.9.9";

/// gw has eth0 on lan0 (192.168.188.1/24, beside the client) and eth1 on lan1 (10.0.0.1/24,
/// beside `far` 10.0.0.2). The client also holds 10.0.0.99/24 and 10.9.9.9/24 on eth0, to
/// send requests whose route back leaves gw by the other NIC or by none.
fn two_nic_lab(gw_setup: &str, timeline: &[String]) -> String {
    format!(
        r#"title = "a host with two NICs"
seed = 1
until = "5s"

[lan.lan0]
latency = "20us"

[lan.lan1]
latency = "20us"

[host.client]
nic.eth0 = {{ lan = "lan0", mac = "{CLIENT_MAC}", addr = "{CLIENT_IP}/24" }}
setup = '''
ip addr add {CLIENT_IN_LAN1_SUBNET}/24 dev eth0
ip addr add {CLIENT_UNROUTED}/24 dev eth0
'''

[host.gw]
nic.eth0 = {{ lan = "lan0", mac = "{GW_ETH0_MAC}", addr = "192.168.188.1/24" }}
nic.eth1 = {{ lan = "lan1", mac = "{GW_ETH1_MAC}", addr = "{GW_ETH1_IP}/24" }}
setup = '''
{gw_setup}
'''

[host.far]
nic.eth0 = {{ lan = "lan1", mac = "00:0c:29:bb:00:01", addr = "10.0.0.2/24" }}

{timeline}"#,
        timeline = timeline.concat()
    )
}

/// The client asks gw who-has `target` from its address `sender`, at 1 s.
fn client_asks(target: &str, sender: &str) -> String {
    at(
        "1s",
        "client",
        &format!("arping -c 1 -I eth0 -s {sender} {target}"),
    )
}

/// Whether gw answered the one request of a two-NIC lab run for `target`.
fn gw_answers(gw_setup: &str, request: String, target: &str) -> bool {
    replied(&run_lab(&two_nic_lab(gw_setup, &[request])), "gw", target)
}

/// Model rules, answering, L = 1: "T is configured on I". gw's 10.0.0.1 is on eth1: a
/// request for it arriving on eth0 is answered with arp_ignore 0 (T is local on any
/// interface) and ignored with 1; arriving on eth1 it is answered. The level is
/// max(all, I) for the *arrival* NIC (difference 1), so arp_ignore=1 on conf.eth1 alone
/// leaves eth0 answering.
#[test]
fn rule_arp_ignore_1_needs_the_target_on_the_arrival_nic_of_a_two_nic_host() {
    let from_lan0 = || client_asks(GW_ETH1_IP, CLIENT_IP);
    let from_lan1 = || at("1s", "far", &format!("arping -c 1 -I eth0 {GW_ETH1_IP}"));
    assert!(gw_answers("", from_lan0(), GW_ETH1_IP), "arp_ignore 0");
    let ignore_all = sysctl("conf.all.arp_ignore", 1);
    assert!(!gw_answers(&ignore_all, from_lan0(), GW_ETH1_IP));
    assert!(gw_answers(&ignore_all, from_lan1(), GW_ETH1_IP));
    let ignore_eth1 = sysctl("conf.eth1.arp_ignore", 1);
    assert!(gw_answers(&ignore_eth1, from_lan0(), GW_ETH1_IP));
}

/// Model rules, answering, L = 2: "T is on I **and** one prefix on I contains both T and
/// S". rs1 gets 10.9.9.1/24 beside .107/24 on eth0; the client has 10.9.9.9/24 too. Both
/// of the pair are on eth0, but only a request inside one prefix is answered.
#[test]
fn rule_arp_ignore_2_needs_one_prefix_holding_both_target_and_sender() {
    let answered = |target: &str, sender: &str| {
        let result = ArpLab::new(&format!(
            "ip addr add 10.9.9.1/24 dev eth0\n{}",
            sysctl("conf.all.arp_ignore", 2)
        ))
        .client(&format!("ip addr add {CLIENT_UNROUTED}/24 dev eth0"))
        .at(
            "1s",
            "client",
            &format!("arping -c 1 -I eth0 -s {sender} {target}"),
        )
        .run();
        replied(&result, "rs1", target)
    };
    assert!(answered("10.9.9.1", CLIENT_UNROUTED));
    assert!(answered(RS1_RIP, CLIENT_IP));
    assert!(!answered(RS1_RIP, CLIENT_UNROUTED), "different prefixes");
    assert!(!answered("10.9.9.1", CLIENT_IP), "different prefixes");
}

/// The ARP frames one interface (`host/eth0`) captured, decoded by tshark.
#[derive(Debug, PartialEq, Eq)]
struct WireArp {
    eth_src: String,
    eth_dst: String,
    request: bool,
    sha: String,
    spa: String,
    tha: String,
    tpa: String,
}

fn captured_arp(pcap: &Path, interface: &str) -> Vec<WireArp> {
    let fields = [
        "frame.interface_name",
        "eth.src",
        "eth.dst",
        "arp.opcode",
        "arp.src.hw_mac",
        "arp.src.proto_ipv4",
        "arp.dst.hw_mac",
        "arp.dst.proto_ipv4",
    ];
    tshark_fields(pcap, &fields)
        .into_iter()
        .filter(|row| row[0] == interface && !row[3].is_empty())
        .map(|row| WireArp {
            eth_src: row[1].clone(),
            eth_dst: row[2].clone(),
            request: row[3] == "1",
            sha: row[4].clone(),
            spa: row[5].clone(),
            tha: row[6].clone(),
            tpa: row[7].clone(),
        })
        .collect()
}

/// Model rules, answering: "A reply is unicast to the request's sha and carries I's MAC".
/// gw answers on eth0 for 10.0.0.1 (which lives on eth1): the reply the client receives is
/// addressed to the client's MAC and names eth0's MAC, not eth1's.
#[test]
fn rule_a_reply_is_unicast_to_the_requesters_sha_with_the_arrival_nics_mac() {
    let dir = tempfile::tempdir().unwrap();
    let toml = two_nic_lab("", &[client_asks(GW_ETH1_IP, CLIENT_IP)]);
    let (_, pcap) = run_lab_with_pcap(&toml, dir.path());
    let replies: Vec<WireArp> = captured_arp(&pcap, "client/eth0")
        .into_iter()
        .filter(|a| !a.request)
        .collect();
    let expected = WireArp {
        eth_src: GW_ETH0_MAC.into(),
        eth_dst: CLIENT_MAC.into(),
        request: false,
        sha: GW_ETH0_MAC.into(),
        spa: GW_ETH1_IP.into(),
        tha: CLIENT_MAC.into(),
        tpa: CLIENT_IP.into(),
    };
    assert_eq!(replies, [expected]);
}

/// Model rules, answering: "When the host replies, it also creates or overrides an entry
/// for S (STALE)". rs1 answers the client's who-has .107: with no entry it creates one,
/// and an entry with another MAC set 0.1 s earlier (inside locktime) is overridden.
#[test]
fn rule_the_replier_learns_the_requester_as_stale_creating_or_overriding() {
    let ask = ArpLab::new("").at("1s", "client", &format!("arping -c 1 -I eth0 {RS1_RIP}"));
    let created = ask.run();
    assert_eq!(
        neigh(&created, "rs1", CLIENT_IP),
        Some((Some(CLIENT_MAC.into()), "STALE".into()))
    );
    let overridden = ask
        .at(
            "900ms",
            "rs1",
            &format!("ip neigh replace {CLIENT_IP} lladdr {NOBODY_MAC} dev eth0 nud reachable"),
        )
        .run();
    assert_eq!(
        neigh(&overridden, "rs1", CLIENT_IP),
        Some((Some(CLIENT_MAC.into()), "STALE".into()))
    );
}

/// Model rules "An *ignored* request teaches the host nothing" and further rule "a real
/// server that ignores the client's who-has VIP must later resolve the client with its own
/// request". The RS (arp_ignore=1) ignore the client's who-has VIP at 1 s and have no entry
/// for the client; an entry rs1 already had stays as it was, although locktime has passed;
/// when a packet for the VIP then reaches rs1 (the client pins the VIP to rs1's MAC), rs1
/// asks who-has client itself to answer it.
#[test]
fn rule_an_ignored_request_teaches_nothing_so_the_rs_resolves_the_client_itself() {
    let ignore = sysctl("conf.all.arp_ignore", 1);
    let lab =
        |rs_setup: &str| ArpLab::new(rs_setup).at("1s", "client", &format!("ping -c 1 {VIP}"));
    let kept = lab(&format!(
        "{ignore}\nip neigh replace {CLIENT_IP} lladdr {NOBODY_MAC} dev eth0 nud stale"
    ))
    .until("1500ms")
    .run();
    assert_eq!(
        neigh(&kept, "rs1", CLIENT_IP),
        Some((Some(NOBODY_MAC.into()), "STALE".into())),
        "an entry older than locktime is not updated by an ignored request"
    );
    let ignored = lab(&ignore).until("1500ms").run();
    assert_eq!(arp_repliers(&ignored, VIP), ["dir"]);
    assert_eq!(neigh(&ignored, "rs1", CLIENT_IP), None);
    assert_eq!(neigh(&ignored, "rs2", CLIENT_IP), None);
    assert!(
        neigh(&ignored, "dir", CLIENT_IP).is_some(),
        "the replier learns"
    );
    assert!(request_senders(&ignored, "rs1", CLIENT_IP).is_empty());
    let pinned =
        format!("ip neigh replace {VIP} lladdr {RS1_MAC} dev eth0 nud permanent\nping -c 1 {VIP}");
    let served = lab(&ignore).at("2s", "client", &pinned).run();
    assert_eq!(
        request_senders(&served, "rs1", CLIENT_IP).len(),
        1,
        "rs1 asks who-has the client"
    );
    assert_eq!(
        neigh(&served, "rs1", CLIENT_IP),
        Some((Some(CLIENT_MAC.into()), "REACHABLE".into()))
    );
    assert_eq!(neigh(&served, "rs2", CLIENT_IP), None);
}

/// Model rules, receiving: "If no entry exists: create one only under arp_accept (a GARP or
/// a reply), or for a request for my own address". rs1 asks who-has rs2's RIP: rs2 (asked
/// for its own address) learns rs1, the client learns nothing even with arp_accept=1.
#[test]
fn rule_a_request_for_someone_else_creates_no_entry_even_with_arp_accept_1() {
    let result = ArpLab::new("")
        .client(&sysctl("conf.eth0.arp_accept", 1))
        .at("1s", "rs1", &format!("arping -c 1 -I eth0 {RS2_RIP}"))
        .run();
    assert_eq!(
        neigh(&result, "rs2", RS1_RIP),
        Some((Some(RS1_MAC.into()), "STALE".into()))
    );
    assert_eq!(neigh(&result, "client", RS1_RIP), None);
    assert_eq!(neigh(&result, "dir", RS1_RIP), None);
}

/// Further rule "The unicast re-probes of an entry in PROBE state carry the interface's own
/// address as sender, whatever arp_announce says" (and "Unicast probes follow the same
/// rule"). rs1 pings the client from the VIP every second: its first, broadcast request
/// announces the VIP (arp_announce 0 and 1: the queued packet's source) or the RIP (2); once
/// its entry has gone STALE → DELAY → PROBE, the unicast re-probes to the client's MAC say
/// .107 in every case.
#[test]
fn rule_reprobes_carry_the_nics_own_address_whatever_arp_announce_says() {
    for (announce, first_spa) in [(0, VIP), (1, VIP), (2, RS1_RIP)] {
        let dir = tempfile::tempdir().unwrap();
        let toml = ArpLab::new(&sysctl("conf.all.arp_announce", announce))
            .at("1s", "rs1", &format!("ping -I {VIP} {CLIENT_IP}"))
            .until("60s")
            .toml();
        let (_, pcap) = run_lab_with_pcap(&toml, dir.path());
        let requests: Vec<(String, String)> = captured_arp(&pcap, "rs1/eth0")
            .into_iter()
            .filter(|a| a.request && a.eth_src == RS1_MAC && a.tpa == CLIENT_IP)
            .map(|a| (a.eth_dst, a.spa))
            .collect();
        assert!(
            requests.len() >= 2,
            "announce {announce}: a resolution and at least one re-probe: {requests:?}"
        );
        assert_eq!(
            requests[0],
            ("ff:ff:ff:ff:ff:ff".to_owned(), first_spa.to_owned()),
            "announce {announce}: the first request"
        );
        for probe in &requests[1..] {
            assert_eq!(
                probe,
                &(CLIENT_MAC.to_owned(), RS1_RIP.to_owned()),
                "announce {announce}: a re-probe"
            );
        }
    }
}

/// Model rules, sender IP of the host's own requests: "A = 0: the packet's source, if it is
/// local ... In every other case spa is I's own address for the target". gw forwards far's
/// ping to the client: the queued packet's source 10.0.0.2 is not local, so gw asks
/// who-has .111 with its own eth0 address whatever arp_announce is.
#[test]
fn rule_a_forwarded_packets_source_is_never_announced() {
    for announce in [0, 1, 2] {
        let gw_setup = format!(
            "{}\n{}",
            sysctl("ip_forward", 1),
            sysctl("conf.all.arp_announce", announce)
        );
        let timeline = [
            at("500ms", "far", "ip route add default via 10.0.0.1"),
            at("1s", "far", &format!("ping -c 1 {CLIENT_IP}")),
        ];
        let result = run_lab(&two_nic_lab(&gw_setup, &timeline));
        assert_eq!(
            request_senders(&result, "gw", CLIENT_IP),
            ["192.168.188.1"],
            "arp_announce {announce}"
        );
    }
}

/// Further rule "A request whose *sender* IP is one of the receiver's own addresses is never
/// answered and teaches nothing (martian source), whatever rp_filter says: when rs1 sends a
/// GARP for a VIP that dir also holds, dir stays silent". Also a plain request "who-has
/// .108 tell VIP" from rs1. rs2 (VIP on lo, arp_ignore 0) is silent for the same reason.
#[test]
fn rule_a_request_from_one_of_my_own_addresses_is_never_answered_and_teaches_nothing() {
    for rp_filter in [0, 1, 2] {
        let setup = sysctl("conf.all.rp_filter", rp_filter);
        let result = ArpLab::new(&setup)
            .dir(&setup)
            .at("1s", "rs1", &format!("arping -U -c 1 -I eth0 {VIP}"))
            .at(
                "2s",
                "rs1",
                &format!("arping -c 1 -I eth0 -s {VIP} {DIR_RIP}"),
            )
            .run();
        for silent in ["dir", "rs2"] {
            let id = result.world.host_id(silent).unwrap();
            let sent: Vec<_> = result
                .world
                .trace
                .arp_sent
                .iter()
                .filter(|s| s.host == id)
                .collect();
            assert!(
                sent.is_empty(),
                "rp_filter {rp_filter}: {silent} sent {sent:?}"
            );
            assert!(
                result.world.hosts[id].neigh.is_empty(),
                "rp_filter {rp_filter}: {silent} learned nothing"
            );
        }
    }
}

/// Difference 6 and the model's "New state: REACHABLE for a unicast reply to me, otherwise
/// STALE": the client's VIP entry is dir/STALE (learned at 2 s from dir's "who-has client
/// tell VIP"). Inside locktime, a unicast reply with the same MAC (dir answering the
/// client's arping) makes it REACHABLE, while a unicast reply "VIP is-at rs1" (arpspoof)
/// changes nothing at all: neither the MAC nor the state.
#[test]
fn difference_6_only_a_unicast_reply_makes_reachable_and_another_mac_inside_locktime_changes_nothing()
 {
    // rs1 learns the client first, so that arpspoof sends at once; only dir answers the VIP.
    let lab = || {
        ArpLab::new(&sysctl("conf.all.arp_ignore", 1))
            .at("500ms", "client", &format!("arping -c 1 -I eth0 {RS1_RIP}"))
            .at(
                "2s",
                "dir",
                &format!("arping -c 1 -I eth0 -s {VIP} {CLIENT_IP}"),
            )
            .until("2600ms")
    };
    let stale = lab().run();
    assert_eq!(
        neigh(&stale, "client", VIP),
        Some((Some(DIR_MAC.into()), "STALE".into()))
    );
    let confirmed = lab()
        .at("2300ms", "client", &format!("arping -c 1 -I eth0 {VIP}"))
        .run();
    assert_eq!(arp_repliers(&confirmed, VIP), ["dir"]);
    assert_eq!(
        neigh(&confirmed, "client", VIP),
        Some((Some(DIR_MAC.into()), "REACHABLE".into()))
    );
    let spoofed = lab()
        .at(
            "2300ms",
            "rs1",
            &format!("arpspoof -i eth0 -t {CLIENT_IP} {VIP}"),
        )
        .at("2400ms", "rs1", "pkill -9 arpspoof")
        .run();
    assert_eq!(arp_repliers(&spoofed, VIP), ["rs1"], "arpspoof replied");
    assert_eq!(
        neigh(&spoofed, "client", VIP),
        Some((Some(DIR_MAC.into()), "STALE".into()))
    );
}

/// Difference 7: "Value 1 creates an entry from both [GARPs and unsolicited replies]. Value
/// 2 creates one only for senders inside one of the interface's subnets" — here for
/// unsolicited replies (arping's): rs1's RIP is in the client's subnet, 172.16.0.120 (on
/// the RS' lo) is not.
#[test]
fn difference_7_arp_accept_2_learns_from_replies_only_for_in_subnet_senders() {
    let off_subnet = "172.16.0.120";
    let learned = |arp_accept: u8| {
        let result = ArpLab::new(&format!("ip addr add {off_subnet}/32 dev lo"))
            .client(&sysctl("conf.eth0.arp_accept", arp_accept))
            .at("1s", "client", &format!("arping -c 1 -I eth0 {RS1_RIP}"))
            .at(
                "2s",
                "client",
                &format!("arping -c 1 -I eth0 -s {CLIENT_IP} {off_subnet}"),
            )
            .run();
        assert_eq!(arp_repliers(&result, off_subnet), ["rs1", "rs2"]);
        [RS1_RIP, off_subnet].map(|ip| neigh(&result, "client", ip).is_some())
    };
    assert_eq!(learned(1), [true, true], "arp_accept=1");
    assert_eq!(learned(2), [true, false], "arp_accept=2");
}

/// Difference 8 and the model's timers: "What confirms an entry: ... forward progress of a
/// TCP connection. ICMP and UDP traffic confirm nothing" and "The next packet moves it to
/// DELAY for 5 s. If it is confirmed in the meantime it returns to REACHABLE; otherwise it
/// goes to PROBE". The client resolves rs1 at 1 s, leaves the entry to go STALE, and at
/// 50 s (past any reachable_time) sends to it again: after curl the entry is REACHABLE when
/// DELAY ends, with no probe; after ping it is in PROBE with a unicast probe on the wire.
#[test]
fn difference_8_tcp_progress_confirms_during_delay_icmp_does_not() {
    let run = |command: &str| {
        ArpLab::new("systemctl start nginx")
            .at("1s", "client", command)
            .at("50s", "client", command)
            .until("55s")
            .run()
    };
    let tcp = run(&format!("curl -s http://{RS1_RIP}/"));
    assert_eq!(
        neigh(&tcp, "client", RS1_RIP),
        Some((Some(RS1_MAC.into()), "REACHABLE".into()))
    );
    assert_eq!(
        request_senders(&tcp, "client", RS1_RIP).len(),
        1,
        "no probe"
    );
    let icmp = run(&format!("ping -c 1 {RS1_RIP}"));
    assert_eq!(
        neigh(&icmp, "client", RS1_RIP),
        Some((Some(RS1_MAC.into()), "PROBE".into()))
    );
    assert_eq!(
        request_senders(&icmp, "client", RS1_RIP).len(),
        2,
        "the resolution, then a probe"
    );
}

/// Difference 8: "Continuous traffic does not keep an entry REACHABLE. Only confirmations
/// do ... That is why a poisoned cache stays poisoned under TCP": a curl every 2 s for a
/// minute keeps the entry REACHABLE with no probe at all.
#[test]
fn difference_8_continuous_tcp_keeps_the_entry_reachable_without_probes() {
    let curl = format!("curl -s http://{RS1_RIP}/");
    let lab = (1..=30).fold(
        ArpLab::new("systemctl start nginx").until("62s"),
        |lab, i| lab.at(&format!("{}s", 2 * i - 1), "client", &curl),
    );
    let result = lab.run();
    assert_eq!(
        neigh(&result, "client", RS1_RIP),
        Some((Some(RS1_MAC.into()), "REACHABLE".into()))
    );
    assert_eq!(request_senders(&result, "client", RS1_RIP).len(), 1);
}

/// Model rules, timers: "A FAILED entry stays listed with no link-layer address (`ip neigh`
/// shows `FAILED` with no `lladdr`); report its MAC as null". .198 never answers; .199 had
/// a MAC (set STALE by hand) and fails after its unicast probes. A minute later both are
/// still listed, without an address, in `ip neigh` and in the JSON report.
#[test]
fn rule_a_failed_entry_stays_listed_without_a_link_layer_address() {
    let (never, lost) = ("192.168.188.198", "192.168.188.199");
    let result = ArpLab::new("")
        .at(
            "1s",
            "client",
            &format!(
                "ip neigh replace {lost} lladdr {NOBODY_MAC} dev eth0 nud stale\nping -c 1 {lost}\nping -c 1 {never}"
            ),
        )
        .until("70s")
        .run();
    for ip in [never, lost] {
        assert_eq!(neigh(&result, "client", ip), Some((None, "FAILED".into())));
    }
    let client = &result.world.hosts[result.world.host_id("client").unwrap()];
    let listed = show_neighbours(client, None).unwrap();
    for ip in [never, lost] {
        assert!(
            listed.contains(&format!("{ip} dev eth0 FAILED")),
            "ip neigh: {listed:?}"
        );
    }
    let report = lvsim::output::json::report("test.toml", "", &result);
    for ip in [never, lost] {
        let entry = report["hosts"]["client"]["neigh"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["ip"] == ip)
            .unwrap_or_else(|| panic!("{ip} listed in the JSON report"));
        assert_eq!(entry["state"], "FAILED");
        assert!(entry["mac"].is_null(), "{ip}: {entry}");
    }
}

/// Whether rs1 answers for the VIP and for its RIP with `setup` on both real servers (the client resolves the
/// VIP at 1 s and rs1's RIP at 2 s).
fn rs1_answers(setup: &str) -> (bool, bool) {
    let result = ArpLab::new(setup)
        .at("1s", "client", &format!("ping -c 1 {VIP}"))
        .at("2s", "client", &format!("ping -c 1 {RS1_RIP}"))
        .run();
    (
        replied(&result, "rs1", VIP),
        replied(&result, "rs1", RS1_RIP),
    )
}

/// Difference 1: "The effective value is `max(conf.all, conf.<interface>)`". With
/// all/eth0 = 1/3 or 3/1 the level is 3, which answers for the global-scope VIP on lo; with
/// 1/8 or 8/1 it is 8, which answers for nothing, not even the RIP.
#[test]
fn difference_1_effective_arp_ignore_is_the_max_of_all_and_the_interface() {
    let both = |all: u8, eth0: u8| {
        format!(
            "{}\n{}",
            sysctl("conf.all.arp_ignore", all),
            sysctl("conf.eth0.arp_ignore", eth0)
        )
    };
    assert_eq!(rs1_answers(&both(1, 3)), (true, true), "1/3");
    assert_eq!(rs1_answers(&both(3, 1)), (true, true), "3/1");
    assert_eq!(rs1_answers(&both(1, 8)), (false, false), "1/8");
    assert_eq!(rs1_answers(&both(8, 1)), (false, false), "8/1");
    assert_eq!(rs1_answers(&both(0, 1)), (false, true), "0/1");
}

/// Difference 9: "ARP replies are also subject to `rp_filter`. Request processing validates
/// the sender IP with a route lookup". On gw, a request arriving on eth0 from 10.0.0.99
/// (route back by eth1) fails strict mode (1) and passes loose mode (2); one from 10.9.9.9
/// (no route back) fails both; rp_filter 0 answers all.
#[test]
fn difference_9_rp_filter_strict_and_loose_decide_whether_gw_answers() {
    let target = "192.168.188.1";
    for (rp_filter, sender, answers) in [
        (0, CLIENT_IN_LAN1_SUBNET, true),
        (0, CLIENT_UNROUTED, true),
        (1, CLIENT_IP, true),
        (1, CLIENT_IN_LAN1_SUBNET, false),
        (2, CLIENT_IN_LAN1_SUBNET, true),
        (2, CLIENT_UNROUTED, false),
    ] {
        assert_eq!(
            gw_answers(
                &sysctl("conf.all.rp_filter", rp_filter),
                client_asks(target, sender),
                target
            ),
            answers,
            "rp_filter {rp_filter}, sender {sender}"
        );
    }
}

/// Difference 9, the fix: with strict rp_filter, adding a route back to 10.9.9.0/24 by the
/// NIC the request arrives on lets rs1 answer the off-subnet requester again (§4 measured
/// "none" without it).
#[test]
fn difference_9_a_route_back_by_the_arrival_nic_restores_the_reply() {
    let answered = |rs_setup: &str| {
        let result = ArpLab::new(rs_setup)
            .client(&format!("ip addr add {CLIENT_UNROUTED}/24 dev eth0"))
            .at(
                "1s",
                "client",
                &format!("arping -c 1 -I eth0 -s {CLIENT_UNROUTED} {RS1_RIP}"),
            )
            .run();
        replied(&result, "rs1", RS1_RIP)
    };
    let strict = sysctl("conf.all.rp_filter", 1);
    assert!(!answered(&strict));
    assert!(answered(&format!(
        "{strict}\nip route add 10.9.9.0/24 dev eth0"
    )));
}

/// arp_filter (kernel `arp_filter()`; linux-arp.md lists it under "Not measured", the brief
/// asks for it): with arp_filter=1 gw answers a request only if its route back to the
/// sender leaves by the NIC the request came in on. The request from 10.0.0.99 on eth0
/// (route back by eth1) goes unanswered; the same request from .111 is answered.
#[test]
fn arp_filter_answers_only_when_the_route_back_leaves_by_the_arrival_nic() {
    let filter = sysctl("conf.all.arp_filter", 1);
    let ask = |sender| client_asks(GW_ETH1_IP, sender);
    assert!(gw_answers("", ask(CLIENT_IN_LAN1_SUBNET), GW_ETH1_IP));
    assert!(!gw_answers(&filter, ask(CLIENT_IN_LAN1_SUBNET), GW_ETH1_IP));
    assert!(gw_answers(&filter, ask(CLIENT_IP), GW_ETH1_IP));
}

/// Kernel rule outside the measured tables (`arp_fwd_proxy`): a forwarding host with
/// proxy_arp answers who-has for an address it routes through another interface, after a
/// random part of proxy_delay (0.8 s) for a broadcast request; never for an address routed
/// back out of the interface the request came in on.
#[test]
fn rule_proxy_arp_answers_for_addresses_routed_through_another_interface() {
    let lab = |proxy: u8| {
        common::run_lab(&format!(
            r#"
until = "3s"
[lan.left]
[lan.right]
[host.a]
nic.eth0 = {{ lan = "left", addr = "10.0.0.1/16" }}
[host.gw]
nic.eth0 = {{ lan = "left", addr = "10.0.0.254/24" }}
nic.eth1 = {{ lan = "right", addr = "10.0.1.254/24" }}
setup = '''
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.conf.eth0.proxy_arp={proxy}
'''
[host.b]
nic.eth0 = {{ lan = "right", addr = "10.0.1.2/24" }}
setup = "route add default gw 10.0.1.254"
[[at]]
time = "1s"
host = "a"
run = "ping -c 1 -W 2 10.0.1.2"
[[at]]
time = "1s"
host = "a"
run = "arping -c 1 -I eth0 10.0.0.7"
"#
        ))
    };
    let on = lab(1);
    // On the left LAN only gw answers for b (b itself answers gw's own who-has on the right).
    let replies: Vec<_> = on
        .world
        .trace
        .arp_sent
        .iter()
        .filter(|s| s.arp.is_reply() && s.arp.spa.to_string() == "10.0.1.2" && s.lan == 0)
        .collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(on.world.hosts[replies[0].host].name, "gw");
    let delay = replies[0].t.ns() - 1_000_000_000;
    assert!(
        delay < 800_000_000 + 1_000_000,
        "within proxy_delay: {delay} ns"
    );
    assert_eq!(
        common::neigh(&on, "a", "10.0.1.2").unwrap().0.as_deref(),
        Some(on.world.hosts[1].ifaces[1].mac.to_string().as_str())
    );
    assert!(
        on.world
            .trace
            .arp_decisions
            .iter()
            .any(|d| d.kind == "proxy-answered")
    );
    assert!(
        common::arp_repliers(&on, "10.0.0.7").is_empty(),
        "10.0.0.7 is routed back out of eth0: no proxy reply"
    );
    let off = lab(0);
    assert!(common::arp_repliers(&off, "10.0.1.2").is_empty());
}
