//! The parser against `reference/keepalived.md`: §8's example to the exact model, the defaults
//! of §3 and §4 and their cascade, and no panic on garbled input. The messages of each
//! config error class are compared with keepalived 2.2.7's in tests/keepalived_config.rs.

use std::net::Ipv4Addr;

use super::*;

const S8: &str = include_str!("../../../tests/keepalived/valid/reference-s8.conf");

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn messages(parsed: &Parsed) -> Vec<&str> {
    parsed
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect()
}

fn clean(text: &str) -> Config {
    let parsed = parse(text);
    assert_eq!(messages(&parsed), Vec::<&str>::new());
    parsed.config
}

#[test]
fn s8_the_minimal_example_parses_to_the_expected_model() {
    let config = clean(S8);
    assert_eq!(config.global.router_id.as_deref(), Some("LVS_A"));
    let [vi] = config.instances.as_slice() else {
        panic!("one instance")
    };
    assert_eq!(
        (vi.name.as_str(), vi.line, vi.wanted, vi.interface.as_str()),
        ("VI_1", 4, WantedState::Master, "eth0")
    );
    assert_eq!(
        (vi.vrid, vi.priority, vi.advert_int_us, vi.version),
        (51, 150, SECOND_US, 2)
    );
    assert_eq!(vi.auth, Some(Auth::Pass(*b"secret12")));
    assert_eq!(
        vi.vips,
        vec![VirtualAddress {
            addr: ip("192.168.188.120"),
            prefix_len: 24,
            broadcast: None,
            dev: Some("eth0".into()),
            scope: None,
            label: Some("eth0:1".into()),
        }]
    );
    assert_eq!(vi.garp, Garp::default());

    let [vs] = config.virtual_servers.as_slice() else {
        panic!("one virtual server")
    };
    assert_eq!(vs.key, ServiceKey::Addr(ip("192.168.188.120"), 80));
    assert_eq!((vs.line, vs.delay_loop_us), (18, 6 * SECOND_US));
    assert_eq!(
        (vs.scheduler.as_str(), vs.method, vs.protocol),
        ("wrr", Method::Dr, Protocol::Tcp)
    );
    assert_eq!(vs.persistence_timeout, Some(50));
    assert_eq!(vs.sorry_server, Some((ip("192.168.188.200"), 80)));
    assert_eq!((vs.quorum, vs.hysteresis), (1, 0));

    let [rs107, rs108] = vs.real_servers.as_slice() else {
        panic!("two real servers")
    };
    assert_eq!(
        (
            rs107.addr,
            rs107.port,
            rs107.weight,
            rs107.method,
            rs107.inhibit_on_failure
        ),
        (ip("192.168.188.107"), 80, 1, Method::Dr, false)
    );
    let tcp = Checker {
        kind: CheckKind::Tcp,
        line: 27,
        connect_ip: ip("192.168.188.107"),
        connect_port: 80,
        bindto: None,
        connect_timeout_us: 3 * SECOND_US,
        retry: 1,
        delay_before_retry_us: SECOND_US,
        delay_loop_us: 6 * SECOND_US,
        warmup_us: 6 * SECOND_US,
        alpha: false,
    };
    assert_eq!(rs107.checkers, vec![tcp]);
    assert_eq!(
        (
            rs108.addr,
            rs108.port,
            rs108.weight,
            rs108.inhibit_on_failure
        ),
        (ip("192.168.188.108"), 80, 3, true)
    );
    let http = Checker {
        kind: CheckKind::Http {
            urls: vec![Url {
                path: "/health".into(),
                status_codes: vec![(200, 200)],
                digest: None,
                virtualhost: None,
            }],
            ssl: false,
        },
        line: 35,
        connect_ip: ip("192.168.188.108"),
        connect_port: 80,
        bindto: None,
        connect_timeout_us: 3 * SECOND_US,
        retry: 3,
        delay_before_retry_us: 3 * SECOND_US,
        delay_loop_us: 6 * SECOND_US,
        warmup_us: 6 * SECOND_US,
        alpha: false,
    };
    assert_eq!(rs108.checkers, vec![http]);
}

fn instance(body: &str) -> VrrpInstance {
    let text = format!(
        "vrrp_instance VI {{\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {{\n  10.0.0.1\n }}\n{body}\n}}"
    );
    clean(&text).instances.remove(0)
}

#[test]
fn s3_priority_defaults_to_255_for_state_master_else_100() {
    assert_eq!(instance("state MASTER").priority, 255);
    assert_eq!(instance("state BACKUP").priority, 100);
    assert_eq!(instance("").priority, 100);
    assert_eq!(instance("").wanted, WantedState::Backup);
    assert_eq!(instance("priority 255").wanted, WantedState::Master);
    assert_eq!(instance("state MASTER\npriority 120").priority, 120);
}

#[test]
fn s3_advert_int_is_whole_seconds_for_v2_and_centiseconds_for_v3() {
    assert_eq!(instance("advert_int 2.6").advert_int_us, 3 * SECOND_US);
    assert_eq!(instance("advert_int 0.2").advert_int_us, SECOND_US);
    assert_eq!(instance("version 3\nadvert_int 0.5").advert_int_us, 500_000);
    assert_eq!(
        instance("version 3\nadvert_int 0.013").advert_int_us,
        10_000
    );
    assert_eq!(
        instance("version 3\nadvert_int 255").advert_int_us,
        40_950_000
    );
}

#[test]
fn s3_instance_garp_settings_inherit_global_defs_unless_given() {
    let config = clean(
        "global_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_refresh 30\n}\n\
         vrrp_instance VI {\n interface eth0\n virtual_router_id 9\n garp_master_repeat 3\n\
         virtual_ipaddress {\n  10.0.0.1\n }\n}",
    );
    let garp = config.instances[0].garp;
    assert_eq!(garp.master_delay_us, 2 * SECOND_US);
    assert_eq!(garp.master_refresh_us, 30 * SECOND_US);
    assert_eq!(garp.master_repeat, 3);
    assert_eq!(garp.lower_prio_repeat, 5);
}

#[test]
fn s3_version_3_ignores_authentication_and_passwords_keep_8_bytes() {
    let parsed = parse(
        "global_defs {\n vrrp_version 3\n}\nvrrp_instance VI {\n interface eth0\n virtual_router_id 9\n\
         authentication {\n  auth_type PASS\n  auth_pass 1111\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}",
    );
    assert_eq!(
        messages(&parsed),
        vec!["(VI) VRRP version 3 does not support authentication. Ignoring."]
    );
    assert_eq!(parsed.config.instances[0].auth, None);
    let long = parse(&S8.replace("secret12", "secret12345"));
    assert_eq!(
        messages(&long),
        vec!["Truncating auth_pass to 8 characters"]
    );
    assert_eq!(
        long.config.instances[0].auth,
        Some(Auth::Pass(*b"secret12"))
    );
    assert_eq!(
        instance("authentication {\n auth_type PASS\n auth_pass 1111\n}").auth,
        Some(Auth::Pass(*b"1111\0\0\0\0"))
    );
}

fn servers(text: &str) -> Parsed {
    parse(text)
}

#[test]
fn s4_a_service_without_scheduler_method_or_protocol_gets_wlc_nat_udp_with_warnings() {
    let parsed =
        servers("virtual_server 10.0.0.1 53 {\n real_server 10.0.0.2 {\n  weight 2\n }\n}");
    assert_eq!(
        messages(&parsed),
        vec![
            "Virtual server [10.0.0.1]:none:53: no protocol set - defaulting to UDP",
            "Virtual server [10.0.0.1]:udp:53: no scheduler set, setting default 'wlc'",
            "Virtual server [10.0.0.1]:udp:53: no forwarding method set, setting default NAT",
        ]
    );
    let vs = &parsed.config.virtual_servers[0];
    assert_eq!(
        (vs.scheduler.as_str(), vs.method, vs.protocol),
        ("wlc", Method::Nat, Protocol::Udp)
    );
    assert_eq!(vs.delay_loop_us, 60 * SECOND_US);
    assert_eq!(
        (vs.real_servers[0].port, vs.real_servers[0].weight),
        (53, 2)
    );
}

const SERVICE: &str = "lb_algo rr\n lb_kind DR\n protocol TCP\n";

#[test]
fn s4_real_server_ports_follow_the_forwarding_method() {
    let parsed = servers(&format!(
        "virtual_server 10.0.0.1 80 {{\n {SERVICE} real_server 10.0.0.2 8080 {{\n }}\n real_server 10.0.0.3 8080 {{\n  lb_kind NAT\n }}\n}}\n\
         virtual_server fwmark 7 {{\n {SERVICE} real_server 10.0.0.4 80 {{\n }}\n}}"
    ));
    assert_eq!(
        messages(&parsed),
        vec![
            "WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.0.2]:tcp:8080 ports don't match - resetting",
            "WARNING - fwmark virtual server FWM 7, real server [10.0.0.4]:none:80 has port specified - clearing",
        ]
    );
    let ports = |vs: &VirtualServer| vs.real_servers.iter().map(|r| r.port).collect::<Vec<_>>();
    assert_eq!(ports(&parsed.config.virtual_servers[0]), vec![80, 8080]);
    assert_eq!(ports(&parsed.config.virtual_servers[1]), vec![0]);
}

#[test]
fn s4_checker_timings_cascade_from_virtual_to_real_server_with_per_kind_defaults() {
    let parsed = servers(&format!(
        "virtual_server 10.0.0.1 80 {{\n {SERVICE} delay_loop 10\n connect_timeout 4\n\
         real_server 10.0.0.2 80 {{\n  retry 5\n  TCP_CHECK {{\n   delay_loop 2\n  }}\n\
         HTTP_GET {{\n   url {{\n    path /\n   }}\n  }}\n  MISC_CHECK {{\n   misc_path \"/bin/true\"\n   retry 7\n  }}\n }}\n\
         real_server 10.0.0.3 80 {{\n  HTTP_GET {{\n   url {{\n    path /\n   }}\n  }}\n  MISC_CHECK {{\n   misc_path \"/bin/true\"\n  }}\n }}\n}}"
    ));
    let timings = |c: &Checker| {
        (
            c.connect_timeout_us / SECOND_US,
            c.retry,
            c.delay_before_retry_us / SECOND_US,
            c.delay_loop_us / SECOND_US,
            c.warmup_us / SECOND_US,
        )
    };
    let vs = &parsed.config.virtual_servers[0];
    let first: Vec<_> = vs.real_servers[0].checkers.iter().map(timings).collect();
    assert_eq!(
        first,
        vec![(4, 5, 1, 2, 2), (4, 5, 3, 10, 10), (4, 7, 1, 10, 10)]
    );
    let second: Vec<_> = vs.real_servers[1].checkers.iter().map(timings).collect();
    assert_eq!(second, vec![(4, 1, 3, 10, 10), (4, 0, 1, 10, 10)]);
    let CheckKind::Http { urls, .. } = &vs.real_servers[1].checkers[0].kind else {
        panic!("HTTP_GET")
    };
    assert_eq!(urls[0].status_codes, vec![(200, 299)]);
    let CheckKind::Misc { timeout_us, .. } = &vs.real_servers[1].checkers[1].kind else {
        panic!("MISC_CHECK")
    };
    assert_eq!(*timeout_us, 10 * SECOND_US);
}

#[test]
fn s4_quorum_and_hysteresis_are_clipped_and_duplicate_real_servers_removed() {
    let parsed = servers(&format!(
        "virtual_server 10.0.0.1 80 {{\n {SERVICE} quorum 10\n hysteresis 4\n\
         real_server 10.0.0.2 80 {{\n  weight 2\n }}\n real_server 10.0.0.2 80 {{\n  weight 3\n }}\n\
         real_server 10.0.0.3 80 {{\n  weight 1\n }}\n}}"
    ));
    assert_eq!(
        messages(&parsed),
        vec![
            "VS [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:80 is duplicated - removing second rs",
            "Warning - quorum 10 for [10.0.0.1]:tcp:80 exceeds total weight of real servers 3, reducing quorum to 3",
            "Virtual server [10.0.0.1]:tcp:80: hysteresis 4 >= quorum 3; setting hysteresis to 2",
        ]
    );
    let vs = &parsed.config.virtual_servers[0];
    assert_eq!((vs.quorum, vs.hysteresis, vs.real_servers.len()), (3, 2, 2));
    assert_eq!(vs.real_servers[0].weight, 2);
}

#[test]
fn s1_unknown_keywords_keep_the_line_keepalived_reports() {
    let parsed = parse(&S8.replace("delay_loop 6", "dealy_loop 6"));
    assert_eq!(
        parsed.diagnostics,
        vec![ConfigDiagnostic {
            line: Some(19),
            message: "Unknown keyword 'dealy_loop'".into()
        }]
    );
    assert_eq!(
        parsed.config.virtual_servers[0].delay_loop_us,
        60 * SECOND_US
    );
}

#[test]
fn diagnostics_render_in_keepalived_s_form_with_the_scenario_file() {
    let file = "lab.toml:host.d1.keepalived";
    let at_line = ConfigDiagnostic {
        line: Some(28),
        message: "Unknown keyword 'real_sever'".into(),
    };
    assert_eq!(
        at_line.render(file),
        "(lab.toml:host.d1.keepalived: Line 28) Unknown keyword 'real_sever'"
    );
    let whole_file = ConfigDiagnostic {
        line: None,
        message: "There are 1 missing '}'s or extra '{'s".into(),
    };
    assert_eq!(
        whole_file.render(file),
        "(lab.toml:host.d1.keepalived) There are 1 missing '}'s or extra '{'s"
    );
}

/// Truncations, dropped lines, dropped or doubled braces and swapped words of §8's example:
/// the parser reports and carries on, whatever the input.
#[test]
fn garbled_variants_of_the_s8_example_never_panic() {
    let lines: Vec<&str> = S8.lines().collect();
    for cut in (0..S8.len()).filter(|&i| S8.is_char_boundary(i)) {
        parse(&S8[..cut]);
    }
    for drop in 0..lines.len() {
        let mut garbled = lines.clone();
        garbled.remove(drop);
        parse(&garbled.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(drop, lines[drop]);
        parse(&doubled.join("\n"));
    }
    for (at, _) in S8.match_indices(['{', '}', ' ', '"']) {
        let mut without = S8.to_string();
        without.remove(at);
        parse(&without);
    }
    for word in [
        "{",
        "}",
        "\"",
        "include",
        "virtual_server",
        "real_server",
        "TCP_CHECK",
        "url",
        "-1",
        "999999999999",
    ] {
        for line in 0..lines.len() {
            let mut garbled = lines.clone();
            let replaced = format!("{} {word}", lines[line]);
            garbled[line] = &replaced;
            parse(&garbled.join("\n"));
        }
    }
}
