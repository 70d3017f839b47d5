//! The programs a lab runs, as their real counterparts behave: iputils arping (`-c` caps the
//! probes even with `-w`, `-s` must be local, `-U`/`-A` may name another target, `-D`),
//! dsniff's arpspoof (poisoning, cleanup on SIGTERM), curl `-I`, ping `-I`.

mod common;

use common::{app, neigh, run_lab, warnings};
use lvsim::scenario::run::RunResult;

const TWO_HOSTS: &str = r#"
until = "10s"
[lan.lan0]
[host.a]
nic.eth0 = { lan = "lan0", mac = "02:00:00:00:00:0a", addr = "10.0.0.1/24" }
[host.b]
nic.eth0 = { lan = "lan0", mac = "02:00:00:00:00:0b", addr = "10.0.0.2/24" }
setup = "systemctl start nginx"
[host.c]
nic.eth0 = { lan = "lan0", mac = "02:00:00:00:00:0c", addr = "10.0.0.3/24" }
"#;

fn lab(runs: &[(&str, &str, &str)]) -> RunResult {
    let mut text = TWO_HOSTS.to_owned();
    for (time, host, run) in runs {
        text.push_str(&format!(
            "[[at]]\ntime = \"{time}\"\nhost = \"{host}\"\nrun = '''{run}'''\n"
        ));
    }
    run_lab(&text)
}

/// ARP frames `host` sent: (time in ms, op 1/2, spa, tpa).
fn arp_from(result: &RunResult, host: &str) -> Vec<(u64, u16, String, String)> {
    let id = result.world.host_id(host).unwrap();
    result
        .world
        .trace
        .arp_sent
        .iter()
        .filter(|s| s.host == id)
        .map(|s| {
            (
                s.t.ns() / 1_000_000,
                s.arp.op,
                s.arp.spa.to_string(),
                s.arp.tpa.to_string(),
            )
        })
        .collect()
}

#[test]
fn arping_sends_one_probe_per_second_until_the_count() {
    let result = lab(&[("1s", "a", "arping -c 3 -I eth0 10.0.0.2")]);
    let sent: Vec<u64> = arp_from(&result, "a").iter().map(|f| f.0).collect();
    assert_eq!(sent, [1000, 2000, 3000]);
    assert_eq!(app(&result, "arping -c 3 -I eth0 10.0.0.2"), (3, 0));
}

#[test]
fn arping_count_caps_the_probes_even_with_a_deadline() {
    let result = lab(&[("1s", "a", "arping -c 2 -w 5 -I eth0 10.0.0.9")]);
    assert_eq!(arp_from(&result, "a").len(), 2, "-c 2 caps the probes");
    assert_eq!(app(&result, "arping -c 2 -w 5 -I eth0 10.0.0.9"), (0, 2));
}

#[test]
fn arping_deadline_alone_keeps_probing_until_it_passes() {
    let result = lab(&[("1s", "a", "arping -w 3 -I eth0 10.0.0.9")]);
    assert_eq!(arp_from(&result, "a").len(), 3);
}

#[test]
fn arping_source_must_be_a_local_address() {
    let result = lab(&[("1s", "a", "arping -c 1 -s 10.0.0.77 -I eth0 10.0.0.2")]);
    assert!(arp_from(&result, "a").is_empty());
    assert_eq!(
        app(&result, "arping -c 1 -s 10.0.0.77 -I eth0 10.0.0.2"),
        (0, 1)
    );
}

#[test]
fn arping_unsolicited_may_name_a_target_other_than_its_source() {
    let result = lab(&[("1s", "a", "arping -U -c 1 -s 10.0.0.1 -I eth0 10.0.0.50")]);
    assert_eq!(
        arp_from(&result, "a"),
        [(1000, 1, "10.0.0.1".into(), "10.0.0.50".into())]
    );
    let result = lab(&[("1s", "a", "arping -A -c 1 -I eth0 10.0.0.1")]);
    assert_eq!(
        arp_from(&result, "a"),
        [(1000, 2, "10.0.0.1".into(), "10.0.0.1".into())],
        "-A: a gratuitous reply"
    );
}

#[test]
fn arping_duplicate_address_detection_finds_the_owner() {
    let free = lab(&[("1s", "a", "arping -D -c 2 -I eth0 10.0.0.99")]);
    assert_eq!(
        app(&free, "arping -D -c 2 -I eth0 10.0.0.99"),
        (1, 0),
        "nobody answered: the address is free"
    );
    assert_eq!(
        arp_from(&free, "a")[0].2,
        "0.0.0.0",
        "DAD probes use sender 0.0.0.0"
    );
    let taken = lab(&[("1s", "a", "arping -D -c 2 -I eth0 10.0.0.2")]);
    assert_eq!(app(&taken, "arping -D -c 2 -I eth0 10.0.0.2"), (0, 1));
}

#[test]
fn arpspoof_poisons_the_target_and_cleans_up_on_sigterm() {
    // c impersonates b towards a; a's entry for b points at c, then `pkill arpspoof` makes
    // arpspoof re-ARP b's real address, as dsniff's cleanup does.
    let poisoned = lab(&[
        ("1s", "a", "ping -c 1 10.0.0.2"),
        ("2s", "c", "arpspoof -i eth0 -t 10.0.0.1 10.0.0.2"),
    ]);
    assert_eq!(
        neigh(&poisoned, "a", "10.0.0.2").unwrap().0.as_deref(),
        Some("02:00:00:00:00:0c")
    );
    let conflict = warnings(&poisoned, "arp-conflict");
    assert!(
        conflict
            .iter()
            .any(|(host, detail)| host == "c" && detail.contains("c ran `arpspoof`")),
        "{conflict:?}"
    );
    let cleaned = lab(&[
        ("1s", "a", "ping -c 1 10.0.0.2"),
        ("1500ms", "c", "ping -c 1 10.0.0.2"),
        ("2s", "c", "arpspoof -i eth0 -t 10.0.0.1 10.0.0.2"),
        ("5s", "c", "pkill arpspoof"),
    ]);
    assert_eq!(
        neigh(&cleaned, "a", "10.0.0.2").unwrap().0.as_deref(),
        Some("02:00:00:00:00:0b")
    );
}

#[test]
fn pkill_9_stops_arpspoof_without_cleanup() {
    // Looked at 5.5 s: at 6 s b's own re-probe of a (its DELAY entry from answering the ping)
    // is a request for a's address, which overrides a's entry for b and ends the poisoning.
    let result = lab(&[
        ("1s", "a", "ping -c 1 10.0.0.2"),
        ("1500ms", "c", "ping -c 1 10.0.0.2"),
        ("2s", "c", "arpspoof -i eth0 -t 10.0.0.1 10.0.0.2"),
        ("5s", "c", "pkill -9 arpspoof"),
    ]);
    let c = result.world.host_id("c").unwrap();
    let claims_for_b_after_kill = result
        .world
        .trace
        .arp_sent
        .iter()
        .filter(|s| s.host == c && s.t.ns() >= 5_000_000_000 && s.arp.spa.to_string() == "10.0.0.2")
        .count();
    assert_eq!(claims_for_b_after_kill, 0, "SIGKILL: no cleanup re-ARP");
    assert_eq!(
        neigh(&result, "a", "10.0.0.2").unwrap().0.as_deref(),
        Some("02:00:00:00:00:0b"),
        "b's re-probe at 6 s healed a's cache"
    );
}

#[test]
fn curl_head_and_ping_from_an_interface() {
    let result = lab(&[
        ("1s", "a", "curl -s -I http://10.0.0.2/"),
        ("2s", "a", "ping -c 1 -I eth0 10.0.0.3"),
    ]);
    assert_eq!(app(&result, "curl -s -I http://10.0.0.2/"), (1, 0));
    assert_eq!(app(&result, "ping -c 1 -I eth0 10.0.0.3"), (1, 0));
    assert_eq!(
        result.world.trace.apps[0].served_by.len(),
        0,
        "HEAD returns no page to name the server"
    );
}

#[test]
fn systemctl_stop_nginx_refuses_new_connections() {
    let result = lab(&[
        ("1s", "b", "systemctl stop nginx"),
        ("2s", "a", "curl -s http://10.0.0.2/"),
    ]);
    assert_eq!(app(&result, "curl -s http://10.0.0.2/"), (0, 1));
}

#[test]
fn timeline_errors_are_printed_and_the_run_goes_on() {
    let result = lab(&[(
        "1s",
        "a",
        "route add -host 10.0.0.99 dev eth9\nping -c 1 10.0.0.2",
    )]);
    assert_eq!(
        app(&result, "ping -c 1 10.0.0.2"),
        (1, 0),
        "the next command still ran"
    );
}

/// ab's `-B`: connections come from the given local address (the server counts packets from
/// it); an address the host does not have is refused as the kernel refuses bind().
#[test]
fn ab_binds_connections_to_a_local_address() {
    let result = lab(&[
        ("1s", "a", "ip addr add 10.0.0.9/24 dev eth0"),
        ("2s", "a", "ab -n 3 -c 1 -B 10.0.0.9 http://10.0.0.2/"),
        ("3s", "a", "ab -n 1 -c 1 -B 10.0.0.77 http://10.0.0.2/"),
    ]);
    assert_eq!(
        app(&result, "ab -n 3 -c 1 -B 10.0.0.9 http://10.0.0.2/"),
        (3, 0)
    );
    let b = result.world.hosts.iter().find(|h| h.name == "b").unwrap();
    let from_bound = b.replies_from.get(&"10.0.0.9".parse().unwrap()).copied();
    assert!(
        from_bound.unwrap_or(0) >= 9,
        "three connections from 10.0.0.9"
    );
    assert_eq!(
        app(&result, "ab -n 1 -c 1 -B 10.0.0.77 http://10.0.0.2/"),
        (0, 1)
    );
}

/// tcp_minisocks.c: the side that closes first keeps a TIME_WAIT record for 60 s, then
/// forgets it.
#[test]
fn time_wait_lasts_sixty_seconds() {
    let count = |until: &str| {
        let text = TWO_HOSTS.replace("until = \"10s\"", &format!("until = \"{until}\""))
            + "[[at]]\ntime = \"1s\"\nhost = \"a\"\nrun = \"ab -n 1 -c 1 http://10.0.0.2/\"\n";
        let result = run_lab(&text);
        let b = result.world.hosts.iter().find(|h| h.name == "b").unwrap();
        b.tcp.time_wait_count()
    };
    assert_eq!(count("60s"), 1, "ab's HTTP/1.0: the server closes first");
    assert_eq!(count("62s"), 0);
}
