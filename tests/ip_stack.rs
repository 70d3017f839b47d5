//! The IP layer, ICMP and TCP as a Linux host behaves: routing and forwarding, TTL, the ICMP
//! errors it sends, rp_filter, loopback, and TCP's handshake, data, FIN, RST, retransmission
//! and its confirmation of neighbour entries.

mod common;

use common::{app, neigh, run_lab};
use lvsim::scenario::run::RunResult;

/// Two LANs joined by a router: a 10.0.1.2 — (10.0.1.1) router (10.0.2.1) — b 10.0.2.2.
fn routed(router_setup: &str, extra: &str) -> RunResult {
    run_lab(&format!(
        r#"
until = "20s"
[lan.left]
[lan.right]
[host.a]
nic.eth0 = {{ lan = "left", addr = "10.0.1.2/24" }}
setup = "route add default gw 10.0.1.1"
[host.router]
nic.eth0 = {{ lan = "left", addr = "10.0.1.1/24" }}
nic.eth1 = {{ lan = "right", addr = "10.0.2.1/24" }}
setup = '''
{router_setup}
'''
[host.b]
nic.eth0 = {{ lan = "right", addr = "10.0.2.2/24" }}
setup = '''
route add default gw 10.0.2.1
systemctl start nginx
'''
{extra}
"#
    ))
}

fn drops(result: &RunResult, token: &str) -> Vec<String> {
    result
        .world
        .trace
        .drops
        .iter()
        .filter(|d| d.reason.starts_with(token))
        .map(|d| format!("{} {}", d.host, d.reason))
        .collect()
}

fn at(time: &str, host: &str, run: &str) -> String {
    format!("[[at]]\ntime = \"{time}\"\nhost = \"{host}\"\nrun = '''{run}'''\n")
}

#[test]
fn a_router_forwards_only_with_ip_forward() {
    let ping = at("1s", "a", "ping -c 2 10.0.2.2");
    let off = routed("", &ping);
    assert_eq!(app(&off, "ping -c 2 10.0.2.2"), (0, 2));
    assert!(
        !drops(&off, "ip_forward").is_empty(),
        "the router explains the drop"
    );
    let on = routed("echo 1 > /proc/sys/net/ipv4/ip_forward", &ping);
    assert_eq!(app(&on, "ping -c 2 10.0.2.2"), (2, 0));
}

#[test]
fn forwarding_decrements_ttl_and_expired_packets_get_time_exceeded() {
    // b's reply crosses the router: TTL 64 → 63 on arrival at a.
    let result = routed(
        "sysctl -w net.ipv4.ip_forward=1",
        &at("1s", "a", "ping -c 1 10.0.2.2"),
    );
    assert_eq!(app(&result, "ping -c 1 10.0.2.2"), (1, 0));
    let result = routed(
        "sysctl -w net.ipv4.ip_forward=1",
        &format!(
            "{}{}",
            at("0s", "a", "sysctl -w net.ipv4.ip_default_ttl=1"),
            at("1s", "a", "ping -c 1 10.0.2.2")
        ),
    );
    assert_eq!(app(&result, "ping -c 1 10.0.2.2"), (0, 1));
    assert!(!drops(&result, "ttl").is_empty());
    assert_eq!(
        result.world.hosts[0]
            .replies_from
            .get(&"10.0.1.1".parse().unwrap()),
        Some(&1),
        "a got ICMP time exceeded from the router"
    );
}

#[test]
fn no_route_is_network_unreachable_at_the_sender_and_at_a_router() {
    let result = routed(
        "sysctl -w net.ipv4.ip_forward=1",
        &format!(
            "{}{}",
            at("1s", "a", "ping -c 1 172.16.0.1"),
            at("1s", "b", "ip route del default")
        ),
    );
    // a sends to its default gateway; the router has no route and answers net unreachable.
    assert_eq!(app(&result, "ping -c 1 172.16.0.1"), (0, 1));
    assert!(!drops(&result, "no-route").is_empty());
}

#[test]
fn arp_failure_reports_host_unreachable_after_three_seconds() {
    let result = run_lab(&format!(
        "until = \"10s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n{}",
        at("1s", "a", "ping -c 1 -W 5 10.0.0.9")
    ));
    assert_eq!(app(&result, "ping -c 1 -W 5 10.0.0.9"), (0, 1));
    let failed: Vec<_> = result
        .world
        .trace
        .drops
        .iter()
        .filter(|d| d.reason.starts_with("arp-failed"))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].t.ns(),
        4_000_000_000,
        "three broadcasts one second apart, FAILED one second after the last"
    );
    assert_eq!(
        neigh(&result, "a", "10.0.0.9"),
        Some((None, "FAILED".into()))
    );
}

#[test]
fn udp_to_a_closed_port_gets_port_unreachable() {
    // arpspoof resolves its target by sending an empty UDP datagram to port 67.
    let dir = tempfile::tempdir().unwrap();
    let (result, pcap) = common::run_lab_with_pcap(
        &format!(
            "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\n{}",
            at("1s", "a", "arpspoof -t 10.0.0.2 10.0.0.3")
        ),
        dir.path(),
    );
    let unreachable = common::tshark_fields(
        &pcap,
        &[
            "frame.interface_name",
            "icmp.type",
            "icmp.code",
            "udp.dstport",
        ],
    );
    let seen_by_a: Vec<_> = unreachable
        .iter()
        .filter(|r| r[0] == "a/eth0" && r[1] == "3" && r[2] == "3")
        .collect();
    assert_eq!(
        seen_by_a.len(),
        1,
        "a received one port unreachable quoting its datagram: {unreachable:?}"
    );
    assert_eq!(seen_by_a[0][3], "67", "the quoted UDP header names port 67");
    assert!(
        drops(&result, "no-socket")
            .iter()
            .any(|d| d.starts_with("b no-socket: nothing listens on UDP 10.0.0.2:67"))
    );
}

#[test]
fn strict_rp_filter_drops_packets_arriving_on_the_wrong_interface() {
    // The echo arrives on b's eth1, but b's route back to a leaves by eth0. (a has a static
    // ARP entry: with strict rp_filter b would not even answer a's who-has — linux-arp.md
    // difference 9.)
    let lab = |rp: u8| {
        run_lab(&format!(
            r#"
until = "5s"
[lan.left]
[lan.right]
[host.a]
nic.eth0 = {{ lan = "left", addr = "10.0.1.2/24" }}
setup = "arp -s 10.0.1.3 02:00:00:00:0b:01"
[host.b]
nic.eth0 = {{ lan = "right", addr = "10.0.2.2/24" }}
nic.eth1 = {{ lan = "left", mac = "02:00:00:00:0b:01", addr = "10.0.1.3/24" }}
setup = '''
ip route add 10.0.1.2/32 dev eth0
sysctl -w net.ipv4.conf.all.rp_filter={rp}
'''
{}
"#,
            at("1s", "a", "ping -c 1 10.0.1.3")
        ))
    };
    let strict = lab(1);
    assert!(
        drops(&strict, "rp_filter")
            .iter()
            .any(|d| d.contains("leaves by eth0, not eth1")),
        "{:?}",
        strict.world.trace.drops
    );
    let loose = lab(2);
    assert!(drops(&loose, "rp_filter").is_empty());
}

#[test]
fn traffic_to_a_local_address_never_leaves_the_host() {
    let result = run_lab(&format!(
        "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\nsetup = '''\nifconfig lo:0 192.168.0.204/32 up\nsystemctl start nginx\n'''\n{}{}",
        at("1s", "a", "ping -c 1 192.168.0.204"),
        at("1s", "a", "curl -s http://10.0.0.1/")
    ));
    assert_eq!(app(&result, "ping -c 1 192.168.0.204"), (1, 0));
    assert_eq!(app(&result, "curl -s http://10.0.0.1/"), (1, 0));
    assert_eq!(result.world.stats.frames, 0, "nothing went on the wire");
}

#[test]
fn tcp_fetches_a_page_and_names_the_server() {
    let result = routed(
        "echo 1 > /proc/sys/net/ipv4/ip_forward",
        &at("1s", "a", "curl -s http://10.0.2.2/"),
    );
    assert_eq!(app(&result, "curl -s http://10.0.2.2/"), (1, 0));
    let report = &result.world.trace.apps[0];
    assert_eq!(report.served_by.get("b"), Some(&1));
}

#[test]
fn a_closed_port_answers_rst_and_curl_reports_connection_refused() {
    let result = routed(
        "echo 1 > /proc/sys/net/ipv4/ip_forward",
        &at("1s", "a", "curl -s http://10.0.2.2:8080/"),
    );
    assert_eq!(app(&result, "curl -s http://10.0.2.2:8080/"), (0, 1));
    assert!(
        drops(&result, "no-socket")
            .iter()
            .any(|d| d.contains("nothing listens on 10.0.2.2:8080"))
    );
}

#[test]
fn tcp_retransmits_across_a_partition_and_recovers_when_it_heals() {
    let partition = "[[at]]\ntime = \"999ms\"\npartition = { lan = \"right\", groups = [[\"router\"], [\"b\"]] }\n[[at]]\ntime = \"2500ms\"\nheal = { lan = \"right\" }\n";
    let result = routed(
        "echo 1 > /proc/sys/net/ipv4/ip_forward",
        &format!("{partition}{}", at("1s", "a", "curl -s http://10.0.2.2/")),
    );
    assert_eq!(
        app(&result, "curl -s http://10.0.2.2/"),
        (1, 0),
        "the SYN is retransmitted after the RTO and gets through"
    );
    assert!(!drops(&result, "partition").is_empty());
}

#[test]
fn curl_gives_up_with_no_route_to_host_when_arp_fails() {
    let result = run_lab(&format!(
        "until = \"10s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n{}",
        at("1s", "a", "curl -s http://10.0.0.9/")
    ));
    assert_eq!(app(&result, "curl -s http://10.0.0.9/"), (0, 1));
}

#[test]
fn ab_runs_concurrent_http_1_0_requests() {
    let result = routed(
        "echo 1 > /proc/sys/net/ipv4/ip_forward",
        &at("1s", "a", "ab -n 20 -c 4 http://10.0.2.2/"),
    );
    assert_eq!(app(&result, "ab -n 20 -c 4 http://10.0.2.2/"), (20, 0));
}

#[test]
fn tcp_progress_confirms_the_neighbour_entry_ping_does_not() {
    // linux-arp.md difference 8: only confirmations keep an entry REACHABLE. With a fetch every
    // 2 s for 60 s, a never needs to re-probe b; with pings only, the entry goes STALE, DELAY
    // and PROBE, and a sends unicast re-probes.
    let traffic = |cmd: &str| {
        let mut extra = String::new();
        for t in (1..=60).step_by(2) {
            extra.push_str(&at(&format!("{t}s"), "a", cmd));
        }
        run_lab(&format!(
            "until = \"61500ms\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\nsetup = \"systemctl start nginx\"\n{extra}"
        ))
    };
    let tcp = traffic("curl -s http://10.0.0.2/");
    assert_eq!(
        common::request_senders(&tcp, "a", "10.0.0.2").len(),
        1,
        "one resolution, then TCP keeps confirming"
    );
    assert_eq!(neigh(&tcp, "a", "10.0.0.2").unwrap().1, "REACHABLE");
    let icmp = traffic("ping -c 1 10.0.0.2");
    assert!(
        common::request_senders(&icmp, "a", "10.0.0.2").len() > 1,
        "ICMP confirms nothing: the entry is probed again"
    );
}

#[test]
fn large_pings_are_fragmented_and_reassembled() {
    let result = run_lab(&format!(
        "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\n{}",
        at("1s", "a", "ping -c 1 -s 3000 10.0.0.2")
    ));
    assert_eq!(app(&result, "ping -c 1 -s 3000 10.0.0.2"), (1, 0));
    assert_eq!(
        result.world.stats.frames,
        2 + 3 + 3,
        "ARP request/reply, then three fragments each way"
    );
}

#[test]
fn ip_neigh_flush_forgets_learned_entries_but_keeps_static_ones() {
    let result = run_lab(&format!(
        "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\nsetup = \"arp -s 10.0.0.7 02:00:00:00:00:07\"\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\n{}{}",
        at("1s", "a", "ping -c 1 10.0.0.2"),
        at("2s", "a", "ip neigh flush dev eth0")
    ));
    assert_eq!(neigh(&result, "a", "10.0.0.2"), None);
    assert_eq!(
        neigh(&result, "a", "10.0.0.7"),
        Some((Some("02:00:00:00:00:07".into()), "PERMANENT".into()))
    );
}

#[test]
fn a_down_link_sends_nothing_and_routes_through_it_go() {
    let result = run_lab(&format!(
        "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\n{}{}",
        at("500ms", "a", "ip link set eth0 down"),
        at("1s", "a", "ping -c 1 10.0.0.2")
    ));
    assert_eq!(
        app(&result, "ping -c 1 10.0.0.2"),
        (0, 0),
        "ping: connect: Network is unreachable"
    );
    assert_eq!(result.world.stats.frames, 0);
}

#[test]
fn tcp_follows_tcp_timestamps_and_the_local_port_range() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "until = \"3s\"\n[lan.lan0]\n[host.a]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.1/24\" }}\nsetup = '''\nsysctl -w net.ipv4.tcp_timestamps=0\nsysctl -w \"net.ipv4.ip_local_port_range=40000 40010\"\n'''\n[host.b]\nnic.eth0 = {{ lan = \"lan0\", addr = \"10.0.0.2/24\" }}\nsetup = \"systemctl start nginx\"\n{}",
        at("1s", "a", "curl -s http://10.0.0.2/")
    );
    let (result, pcap) = common::run_lab_with_pcap(&text, dir.path());
    assert_eq!(app(&result, "curl -s http://10.0.0.2/"), (1, 0));
    let rows = common::tshark_fields(
        &pcap,
        &[
            "tcp.srcport",
            "tcp.flags.syn",
            "tcp.options.timestamp.tsval",
        ],
    );
    let syn = rows
        .iter()
        .find(|r| r.len() > 1 && r[1] == "1")
        .expect("a SYN");
    let port: u16 = syn[0].parse().unwrap();
    assert!(
        (40000..=40010).contains(&port),
        "source port {port} within ip_local_port_range"
    );
    assert!(
        rows.iter().all(|r| r.get(2).is_none_or(|ts| ts.is_empty())),
        "no timestamp option anywhere: {rows:?}"
    );
}
