//! Every forwarding method, read back from its lab's capture with tshark: each hop's MACs,
//! addresses, ports and TTL as forwarding.md §4-§8 say the kernel rewrites them, the outer and
//! inner headers of IPIP, FULLNAT's TOA option and sequence shift. The captures also pass
//! tshark's checksum and malformed-packet checks (`run_lab_with_pcap`).

mod common;

use std::path::PathBuf;

use common::{run_lab_with_pcap, tshark_fields};
use lvsim::scenario::library::find;

const HOP: [&str; 9] = [
    "frame.interface_name",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "tcp.srcport",
    "tcp.dstport",
    "ip.proto",
];

/// Runs a shipped lab with a pcapng and keeps the directory alive with the path.
fn capture(lab: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = run_lab_with_pcap(find(lab).unwrap().text, dir.path());
    (dir, path)
}

/// The rows of the first connection's client SYN (or, with `reply`, the server's SYN-ACK) at
/// every interface it crossed, in capture order: a SYN's path ends where the next one starts
/// at the client, a SYN-ACK's at the client.
fn first_handshake(path: &std::path::Path, reply: bool, fields: &[&str]) -> Vec<Vec<String>> {
    let rows = tshark_fields(
        path,
        &[&["tcp.flags.syn", "tcp.flags.ack"], fields].concat(),
    );
    let wanted = if reply { "1" } else { "0" };
    let mut out: Vec<Vec<String>> = Vec::new();
    for row in rows {
        if row[0] != "1" || row[1] != wanted {
            continue;
        }
        let row = row[2..].to_vec();
        let at_client = row[0] == "client/eth0";
        if at_client && !reply && !out.is_empty() {
            break;
        }
        out.push(row);
        if at_client && reply {
            break;
        }
    }
    out
}

/// The first `count` ICMP destination-unreachable frames of a capture (`fields` must put
/// `icmp.type` fourth), one row per interface that saw each.
fn unreachables(path: &std::path::Path, fields: &[&str], count: usize) -> Vec<Vec<String>> {
    assert_eq!(fields[3], "icmp.type");
    let rows = tshark_fields(path, fields);
    rows.into_iter()
        .filter(|r| r[3] == "3")
        .take(count)
        .collect()
}

fn strs(rows: &[Vec<String>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect()
}

/// forwarding.md §4 DR: only the destination MAC changes (to the real server's); IP
/// addresses and ports stay client → VIP, TTL −1; the reply goes from the real server
/// straight to the client with the VIP as source.
#[test]
fn dr_rewrites_only_the_destination_mac() {
    let (_dir, path) = capture("dr-basic");
    let syn = first_handshake(&path, false, &HOP);
    let (client, lvs, rs2) = (
        "00:0c:29:f3:1f:de",
        "00:0c:29:50:d5:63",
        "00:0c:29:2c:a5:a0",
    );
    let (cip, vip) = ("192.168.188.111", "192.168.188.120");
    assert_eq!(
        strs(&syn),
        [
            [
                "client/eth0",
                client,
                lvs,
                cip,
                vip,
                "64",
                "38956",
                "80",
                "6"
            ],
            ["lvs/eth0", client, lvs, cip, vip, "64", "38956", "80", "6"],
            ["lvs/eth0", lvs, rs2, cip, vip, "63", "38956", "80", "6"],
            ["rs2/eth0", lvs, rs2, cip, vip, "63", "38956", "80", "6"],
        ]
    );
    let synack = first_handshake(&path, true, &HOP);
    assert_eq!(
        strs(&synack),
        [
            ["rs2/eth0", rs2, client, vip, cip, "64", "80", "38956", "6"],
            [
                "client/eth0",
                rs2,
                client,
                vip,
                cip,
                "64",
                "80",
                "38956",
                "6"
            ],
        ]
    );
}

/// forwarding.md §5 NAT: destination address and port become the real server's (80 →
/// 8000), TTL −1; the reply passes the director, which puts VIP:80 back as source (TTL −1 by
/// ip_forward).
#[test]
fn nat_rewrites_destination_then_reply_source_with_port_mapping() {
    let (_dir, path) = capture("nat-port-map");
    let (client, lvs0, lvs1, rs2) = (
        "02:00:ac:10:00:0a",
        "02:00:ac:10:00:01",
        "02:00:c0:a8:01:01",
        "02:00:c0:a8:01:0c",
    );
    let (cip, vip, rip) = ("172.16.0.10", "172.16.0.100", "192.168.1.12");
    let syn = first_handshake(&path, false, &HOP);
    assert_eq!(
        strs(&syn),
        [
            [
                "client/eth0",
                client,
                lvs0,
                cip,
                vip,
                "64",
                "38956",
                "80",
                "6"
            ],
            ["lvs/eth0", client, lvs0, cip, vip, "64", "38956", "80", "6"],
            ["lvs/eth1", lvs1, rs2, cip, rip, "63", "38956", "8000", "6"],
            ["rs2/eth0", lvs1, rs2, cip, rip, "63", "38956", "8000", "6"],
        ]
    );
    let synack = first_handshake(&path, true, &HOP);
    assert_eq!(
        strs(&synack),
        [
            ["rs2/eth0", rs2, lvs1, rip, cip, "64", "8000", "38956", "6"],
            ["lvs/eth1", rs2, lvs1, rip, cip, "64", "8000", "38956", "6"],
            ["lvs/eth0", lvs0, client, vip, cip, "63", "80", "38956", "6"],
            [
                "client/eth0",
                lvs0,
                client,
                vip,
                cip,
                "63",
                "80",
                "38956",
                "6"
            ],
        ]
    );
}

/// forwarding.md §6 TUN: an outer IPv4 header (proto 4) from the director to the real
/// server, TTL = the inner TTL after −1, DF copied from the inner header; the inner packet
/// keeps client → VIP and arrives again on the real server's tunl0.
#[test]
fn tun_encapsulates_in_ipip_with_the_inner_header_intact() {
    let (_dir, path) = capture("tun");
    let fields = [
        "frame.interface_name",
        "ip.src",
        "ip.dst",
        "ip.ttl",
        "ip.proto",
        "ip.flags.df",
        "tcp.dstport",
    ];
    let syn = first_handshake(&path, false, &fields);
    assert_eq!(
        strs(&syn),
        [
            [
                "client/eth0",
                "10.0.0.1",
                "10.0.0.100",
                "64",
                "6",
                "1",
                "80"
            ],
            ["lvs/eth0", "10.0.0.1", "10.0.0.100", "64", "6", "1", "80"],
            [
                "lvs/eth0",
                "10.0.0.2|10.0.0.1",
                "10.0.0.12|10.0.0.100",
                "63|63",
                "4|6",
                "1|1",
                "80"
            ],
            [
                "rs2/eth0",
                "10.0.0.2|10.0.0.1",
                "10.0.0.12|10.0.0.100",
                "63|63",
                "4|6",
                "1|1",
                "80"
            ],
            ["rs2/tunl0", "10.0.0.1", "10.0.0.100", "63", "6", "1", "80"],
        ]
    );
    let synack = first_handshake(&path, true, &["frame.interface_name", "ip.src", "ip.dst"]);
    assert_eq!(
        strs(&synack),
        [
            ["rs2/eth0", "10.0.0.100", "10.0.0.1"],
            ["client/eth0", "10.0.0.100", "10.0.0.1"]
        ]
    );
}

/// forwarding.md §8 FULLNAT: local address:port → real server, no TTL change, the SYN's
/// timestamp option gone and a TOA option (kind 254, client port as the experiment id, the
/// client address as data) first; the SYN-ACK comes back as VIP → client with MSS −8 and the
/// acknowledgement shifted back to the client's sequence space.
#[test]
fn fullnat_rewrites_both_ends_and_carries_the_client_in_toa() {
    let (_dir, path) = capture("fullnat");
    let fields = [
        "frame.interface_name",
        "ip.src",
        "ip.dst",
        "ip.ttl",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.options.experimental.exid",
        "tcp.options.experimental.data",
        "tcp.options.timestamp.tsval",
        "tcp.seq_raw",
    ];
    let syn = first_handshake(&path, false, &fields);
    let client_isn = syn[0][9].clone();
    let shifted_isn = syn[2][9].clone();
    assert_ne!(client_isn, shifted_isn, "the sequence numbers are shifted");
    let (cip, vip, lip, rip) = (
        "172.16.0.10",
        "172.16.0.100",
        "192.168.1.100",
        "192.168.1.12",
    );
    let rows: Vec<Vec<&str>> = strs(&syn)
        .into_iter()
        .map(|mut r| {
            r.truncate(9);
            r
        })
        .collect();
    assert_eq!(
        rows,
        [
            [
                "client/eth0",
                cip,
                vip,
                "64",
                "38956",
                "80",
                "",
                "",
                "4464802"
            ],
            ["lvs/eth0", cip, vip, "64", "38956", "80", "", "", "4464802"],
            [
                "lvs/eth1", lip, rip, "64", "5001", "80", "0x982c", "ac10000a", ""
            ],
            [
                "rs2/eth0", lip, rip, "64", "5001", "80", "0x982c", "ac10000a", ""
            ],
        ]
    );
    let synack = first_handshake(
        &path,
        true,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "tcp.options.mss_val",
            "tcp.ack_raw",
        ],
    );
    let expected_ack = (client_isn.parse::<u32>().unwrap() + 1).to_string();
    let shifted_ack = (shifted_isn.parse::<u32>().unwrap() + 1).to_string();
    assert_eq!(
        strs(&synack),
        [
            ["rs2/eth0", rip, lip, "1460", shifted_ack.as_str()],
            ["lvs/eth1", rip, lip, "1460", shifted_ack.as_str()],
            ["lvs/eth0", vip, cip, "1452", expected_ack.as_str()],
            ["client/eth0", vip, cip, "1452", expected_ack.as_str()],
        ]
    );
}

/// The NAT lab with extra setup lines appended to a host's script.
fn nat_lab_with(host: &str, line: &str) -> String {
    let text = find("nat-port-map").unwrap().text;
    let marker = format!("[host.{host}]");
    let start = text.find(&marker).unwrap();
    let setup = start + text[start..].find("setup = \"\"\"\n").unwrap() + "setup = \"\"\"\n".len();
    format!("{}{line}\n{}", &text[..setup], &text[setup..])
}

/// forwarding.md §7, outgoing: a NAT real server's ICMP error about a client's packet gets
/// the VIP back as outer source and as quoted destination (port 8000 → 80), so the client's
/// TCP sees "connection refused" from the address it connected to.
#[test]
fn nat_rewrites_a_real_servers_icmp_error_for_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let lab = nat_lab_with("rs2", "iptables -A INPUT -p tcp --dport 8000 -j REJECT");
    let (result, path) = run_lab_with_pcap(&lab, dir.path());
    let icmp = unreachables(
        &path,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "icmp.type",
            "icmp.code",
            "tcp.srcport",
            "tcp.dstport",
        ],
        4,
    );
    assert_eq!(
        icmp,
        [
            [
                "rs2/eth0",
                "192.168.1.12|172.16.0.10",
                "172.16.0.10|192.168.1.12",
                "3",
                "3",
                "38956",
                "8000"
            ],
            [
                "lvs/eth1",
                "192.168.1.12|172.16.0.10",
                "172.16.0.10|192.168.1.12",
                "3",
                "3",
                "38956",
                "8000"
            ],
            [
                "lvs/eth0",
                "172.16.0.100|172.16.0.10",
                "172.16.0.10|172.16.0.100",
                "3",
                "3",
                "38956",
                "80"
            ],
            [
                "client/eth0",
                "172.16.0.100|172.16.0.10",
                "172.16.0.10|172.16.0.100",
                "3",
                "3",
                "38956",
                "80"
            ],
        ]
    );
    let curl = result
        .world
        .trace
        .apps
        .iter()
        .find(|a| a.host == "client")
        .unwrap();
    assert_eq!((curl.ok, curl.failed), (0, 1), "connection refused");
}

/// forwarding.md §7, incoming: a client's ICMP error about the director's NAT reply (VIP →
/// client) goes on to the real server with the real server as outer destination and quoted
/// source.
#[test]
fn nat_relays_a_clients_icmp_error_to_the_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let lab = nat_lab_with("client", "iptables -A INPUT -p tcp --sport 80 -j REJECT");
    let lab = lab.replace("nic.eth0 = { lan = \"public\", mac = \"02:00:ac:10:00:0a\", addr = \"172.16.0.10/24\" }\n", "nic.eth0 = { lan = \"public\", mac = \"02:00:ac:10:00:0a\", addr = \"172.16.0.10/24\" }\nsetup = \"\"\"\niptables -A INPUT -p tcp --sport 80 -j REJECT\n\"\"\"\n");
    let (_, path) = run_lab_with_pcap(&lab, dir.path());
    let icmp = unreachables(
        &path,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "icmp.type",
            "tcp.srcport",
            "tcp.dstport",
        ],
        4,
    );
    assert_eq!(
        icmp,
        [
            [
                "client/eth0",
                "172.16.0.10|172.16.0.100",
                "172.16.0.100|172.16.0.10",
                "3",
                "80",
                "38956"
            ],
            [
                "lvs/eth0",
                "172.16.0.10|172.16.0.100",
                "172.16.0.100|172.16.0.10",
                "3",
                "80",
                "38956"
            ],
            [
                "lvs/eth1",
                "172.16.0.10|192.168.1.12",
                "192.168.1.12|172.16.0.10",
                "3",
                "8000",
                "38956"
            ],
            [
                "rs2/eth0",
                "172.16.0.10|192.168.1.12",
                "192.168.1.12|172.16.0.10",
                "3",
                "8000",
                "38956"
            ],
        ]
    );
}

/// (successes, failures) of each program the client ran.
fn client_curls(result: &lvsim::scenario::run::RunResult) -> Vec<(u64, u64)> {
    let apps = result.world.trace.apps.iter();
    apps.filter(|a| a.host == "client")
        .map(|a| (a.ok, a.failed))
        .collect()
}

/// The TUN lab with every `-i` destination given extra ipvsadm options and the real servers'
/// tunnel setup replaced.
fn tun_lab_with(dest_options: &str, rs_setup: &str) -> String {
    let text = find("tun").unwrap().text;
    let rs_block = "modprobe ipip\nip link set tunl0 up\nip addr add 10.0.0.100/32 dev tunl0\nsysctl -w net.ipv4.conf.tunl0.rp_filter=0\n";
    assert!(
        text.contains(rs_block),
        "the tun lab's real-server setup moved"
    );
    text.replace(" -i\n", &format!(" -i{dest_options}\n"))
        .replace(rs_block, rs_setup)
}

/// forwarding.md §6 GRE: `--tun-type gre --tun-csum` puts a 4-byte GRE header with the C bit
/// and a checksum over GRE header and payload (8 bytes in all) between the outer header
/// (proto 47) and the client's packet; the real server takes it on gre0 and answers.
#[test]
fn gre_tunnel_carries_a_checksummed_gre_header() {
    let dir = tempfile::tempdir().unwrap();
    let lab = tun_lab_with(
        " --tun-type gre --tun-csum",
        "modprobe ip_gre\nip link set gre0 up\nip addr add 10.0.0.100/32 dev gre0\nsysctl -w net.ipv4.conf.gre0.rp_filter=0\n",
    );
    let (result, path) = run_lab_with_pcap(&lab, dir.path());
    let rows = tshark_fields(
        &path,
        &[
            "frame.interface_name",
            "ip.proto",
            "gre.flags.checksum",
            "gre.proto",
            "gre.checksum.status",
            "ip.dst",
            "tcp.flags.syn",
        ],
    );
    let gre: Vec<Vec<&str>> = strs(&rows)
        .into_iter()
        .filter(|r| r[1] == "47|6")
        .take(2)
        .collect();
    assert_eq!(
        gre,
        [
            [
                "lvs/eth0",
                "47|6",
                "1",
                "0x0800",
                "1",
                "10.0.0.12|10.0.0.100",
                "1"
            ],
            [
                "rs2/eth0",
                "47|6",
                "1",
                "0x0800",
                "1",
                "10.0.0.12|10.0.0.100",
                "1"
            ],
        ],
        "GRE with a good checksum (status 1 = Good)"
    );
    assert!(
        strs(&rows)
            .iter()
            .any(|r| r[0] == "rs2/gre0" && r[1] == "6"),
        "the inner packet arrives on gre0"
    );
    assert_eq!(client_curls(&result), [(1, 0), (1, 0)]);
}

/// forwarding.md §6 GUE and the tunnel branch of §7: with `--tun-type gue` but no FOU port
/// on the real server (`ip fou add` is missing), the real server answers the UDP datagram
/// with port unreachable; the director turns that into port unreachable about the client's
/// own packet, from the VIP, and curl sees "connection refused".
#[test]
fn gue_without_a_fou_port_becomes_port_unreachable_for_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let lab = tun_lab_with(
        " --tun-type gue --tun-port 6080",
        "modprobe ipip\nip link set tunl0 up\nip addr add 10.0.0.100/32 dev tunl0\nsysctl -w net.ipv4.conf.tunl0.rp_filter=0\n",
    );
    let (result, path) = run_lab_with_pcap(&lab, dir.path());
    let rows = tshark_fields(
        &path,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "icmp.type",
            "icmp.code",
            "udp.dstport",
            "tcp.dstport",
        ],
    );
    let first_syn_out = strs(&rows)
        .into_iter()
        .find(|r| r[0] == "lvs/eth0" && r[5] == "6080")
        .expect("a GUE packet (tshark has no GUE dissector: UDP data)");
    assert_eq!(first_syn_out[1..3], ["10.0.0.2", "10.0.0.12"]);
    let icmp: Vec<Vec<&str>> = strs(&rows)
        .into_iter()
        .filter(|r| r[3] == "3")
        .take(3)
        .collect();
    assert_eq!(
        icmp,
        [
            [
                "rs2/eth0",
                "10.0.0.12|10.0.0.2",
                "10.0.0.2|10.0.0.12",
                "3",
                "3",
                "6080",
                ""
            ],
            [
                "lvs/eth0",
                "10.0.0.12|10.0.0.2",
                "10.0.0.2|10.0.0.12",
                "3",
                "3",
                "6080",
                ""
            ],
            [
                "lvs/eth0",
                "10.0.0.100|10.0.0.1",
                "10.0.0.1|10.0.0.100",
                "3",
                "3",
                "",
                "80"
            ],
        ]
    );
    assert_eq!(
        client_curls(&result),
        [(0, 1), (0, 1)],
        "connection refused"
    );
}

/// forwarding.md §6 RS setup ("VIP/32 on tunl0 (up)") and the IPIP case of §7's tunnel
/// branch: a real server whose tunl0 was never brought up has no tunnel to take the IPIP
/// packet (ipip_rcv finds only a fallback device that is down) and answers port
/// unreachable; the director passes that on to the client about its own packet.
#[test]
fn tunl0_left_down_refuses_the_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let lab = tun_lab_with(
        "",
        "modprobe ipip\nip addr add 10.0.0.100/32 dev tunl0\nsysctl -w net.ipv4.conf.tunl0.rp_filter=0\n",
    );
    let (result, path) = run_lab_with_pcap(&lab, dir.path());
    let icmp = unreachables(
        &path,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "icmp.type",
            "icmp.code",
            "ip.proto",
        ],
        3,
    );
    assert_eq!(
        icmp,
        [
            [
                "rs2/eth0",
                "10.0.0.12|10.0.0.2|10.0.0.1",
                "10.0.0.2|10.0.0.12|10.0.0.100",
                "3",
                "3",
                "1|4|6"
            ],
            [
                "lvs/eth0",
                "10.0.0.12|10.0.0.2|10.0.0.1",
                "10.0.0.2|10.0.0.12|10.0.0.100",
                "3",
                "3",
                "1|4|6"
            ],
            [
                "lvs/eth0",
                "10.0.0.100|10.0.0.1",
                "10.0.0.1|10.0.0.100",
                "3",
                "3",
                "1|6"
            ],
        ]
    );
    assert_eq!(
        client_curls(&result),
        [(0, 1), (0, 1)],
        "connection refused"
    );
}

/// forwarding.md §6 GUE with the real server set up as the reference says (`ip fou add port
/// <tun-port> gue` plus ipip): the outer UDP goes to the tunnel port with checksum 0, the
/// 4-byte GUE header names protocol 4, and after FOU strips UDP and GUE the inner packet
/// arrives on tunl0 and is answered.
#[test]
fn gue_tunnel_reaches_a_real_server_with_a_fou_port() {
    let dir = tempfile::tempdir().unwrap();
    let lab = tun_lab_with(
        " --tun-type gue --tun-port 6080",
        "modprobe ipip\nmodprobe fou\nip fou add port 6080 gue\nip link set tunl0 up\nip addr add 10.0.0.100/32 dev tunl0\nsysctl -w net.ipv4.conf.tunl0.rp_filter=0\n",
    );
    let (result, path) = run_lab_with_pcap(&lab, dir.path());
    let rows = tshark_fields(
        &path,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "udp.dstport",
            "udp.checksum",
            "udp.length",
            "data.data",
        ],
    );
    let first: Vec<&str> = strs(&rows)
        .into_iter()
        .find(|r| r[0] == "rs2/eth0" && r[3] == "6080")
        .expect("a GUE datagram reaches rs2");
    assert_eq!(
        first[1..6],
        ["10.0.0.2", "10.0.0.12", "6080", "0x0000", "72"]
    );
    assert!(
        first[6].starts_with("00040000" /* GUE v0, proto 4, no flags */)
            && first[6][8..].starts_with("45"),
        "GUE header then the inner IPv4 header: {}",
        first[6]
    );
    assert!(
        strs(&rows)
            .iter()
            .any(|r| r[0] == "rs2/tunl0" && r[1] == "10.0.0.1"),
        "the inner packet arrives on tunl0"
    );
    assert_eq!(client_curls(&result), [(1, 0), (1, 0)]);
}
