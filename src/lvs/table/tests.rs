//! The connection table's rules, each test naming the reference section it checks
//! (ipvs-schedulers.md, forwarding.md, ipvsadm.md).

use std::net::{IpAddr, Ipv4Addr};

use super::reports::svc_hash_order;
use super::*;
use crate::lvs::ipvsadm::command::{DaemonConfig, DaemonState, Errno};
use crate::lvs::service::{DestConfig, Netmask, ServiceKey, TunnelSpec, flags};
use crate::lvs::state::TcpState;

const S: u64 = SECOND;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn vip_key() -> ServiceKey {
    ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: ip("10.0.0.100"),
        port: 80,
    }
}

fn service(sched: &str) -> ServiceConfig {
    ServiceConfig {
        key: vip_key(),
        sched: sched.to_owned(),
        flags: 0,
        timeout: 0,
        netmask: Netmask::host(false),
        pe: None,
    }
}

fn dest(addr: &str, weight: i32, fwd: Forward) -> DestConfig {
    DestConfig {
        addr: ip(addr),
        port: 80,
        fwd,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun: TunnelSpec::default(),
    }
}

/// A director with one service and real servers added in order.
fn director(sched: &str, servers: &[(&str, i32)], fwd: Forward) -> Ipvs {
    let mut ipvs = Ipvs::new(1);
    ipvs.add_service(service(sched), 0).unwrap();
    for (addr, weight) in servers {
        ipvs.add_dest(&vip_key(), dest(addr, *weight, fwd), true, 0)
            .unwrap();
    }
    ipvs
}

fn segment(client: &str, sport: u16, flags: &str) -> PacketMeta {
    PacketMeta {
        proto: Protocol::Tcp,
        saddr: ip(client),
        sport,
        daddr: ip("10.0.0.100"),
        dport: 80,
        tcp: Some(TcpFlags {
            syn: flags.contains('S'),
            fin: flags.contains('F'),
            ack: flags.contains('A'),
            rst: flags.contains('R'),
        }),
        len: 60,
        fwmark: 0,
    }
}

/// The real server a connection went to, or the verdict's name.
fn sent_to(ipvs: &mut Ipvs, pkt: &PacketMeta, now: u64) -> String {
    match ipvs.process_in(pkt, now, false) {
        InVerdict::Forward { conn, .. } => ipvs.conns.get(conn).daddr.to_string(),
        InVerdict::Accept(_) => "accept".to_owned(),
        InVerdict::Drop(_) => "drop".to_owned(),
        InVerdict::Unreachable(_) => "unreachable".to_owned(),
    }
}

fn counts(ipvs: &Ipvs, addr: &str) -> (u32, u32, u32) {
    let d = (0..ipvs.dests.len())
        .map(|i| &ipvs.dests[i])
        .find(|d| d.config.addr == ip(addr) && d.available)
        .expect("listed dest");
    (d.activeconns, d.inactconns, d.persistconns)
}

/// ipvs-schedulers.md §2.3: the SYN that creates an entry moves it NONE → SYN_RECV, so it is
/// active at once; the handshake ACK keeps it active (ESTABLISHED).
#[test]
fn a_new_connection_is_active_from_its_syn() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0),
        "10.0.1.1"
    );
    assert_eq!(counts(&ipvs, "10.0.1.1"), (1, 0, 0));
    let (_, conn) = ipvs.conns.iter().next().unwrap();
    assert_eq!(conn.state, TcpState::SynRecv);
    assert_eq!(conn.expires_ns, 60 * S, "SYN_RECV timeout 60 s");
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), S);
    let (_, conn) = ipvs.conns.iter().next().unwrap();
    assert_eq!(conn.state, TcpState::Established);
    assert_eq!(conn.expires_ns, S + 900 * S);
}

/// §3.2 useful consequences: a client FIN on DR gives FIN_WAIT (inactive, 120 s); on NAT
/// CLOSE_WAIT (60 s). §3.4: the entry leaves when its timer runs out.
#[test]
fn client_fin_makes_the_entry_inactive_then_it_expires() {
    for (fwd, state, timeout) in [
        (Forward::Route, TcpState::FinWait, 120),
        (Forward::Masq, TcpState::CloseWait, 60),
    ] {
        let mut ipvs = director("rr", &[("10.0.1.1", 1)], fwd);
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), 0);
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "FA"), 10 * S);
        let (_, conn) = ipvs.conns.iter().next().unwrap();
        assert_eq!(conn.state, state, "{fwd:?}");
        assert_eq!(counts(&ipvs, "10.0.1.1"), (0, 1, 0));
        assert_eq!(ipvs.run_timers((10 + timeout) * S - 1), 0);
        assert_eq!(ipvs.run_timers((10 + timeout) * S), 1);
        assert_eq!(counts(&ipvs, "10.0.1.1"), (0, 0, 0));
        assert!(ipvs.conns.is_empty());
    }
}

/// §3.2 / forwarding.md §9: NAT sees the server's packets; the first output packet clears
/// NOOUTPUT for DR-like methods too (here NAT starts without it).
#[test]
fn nat_replies_drive_the_output_table() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Masq);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    let reply = PacketMeta {
        saddr: ip("10.0.1.1"),
        sport: 80,
        daddr: ip("1.1.1.1"),
        dport: 1000,
        ..segment("1.1.1.1", 1000, "SA")
    };
    let conn = ipvs.process_out(&reply, S).expect("the NAT entry");
    assert_eq!(
        ipvs.conns.get(conn).state,
        TcpState::SynRecv,
        "out syn keeps SR"
    );
    let reply_fin = PacketMeta {
        tcp: Some(TcpFlags {
            fin: true,
            ack: true,
            ..TcpFlags::default()
        }),
        ..reply
    };
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), S);
    ipvs.process_out(&reply_fin, 2 * S);
    assert_eq!(
        ipvs.conns.get(conn).state,
        TcpState::FinWait,
        "out fin on ES"
    );
}

/// §5.2: the template decides without the scheduler, ignoring weight 0; the scheduler's
/// state only moves when a template is made.
#[test]
fn persistence_sticks_even_to_a_quiesced_server() {
    let mut ipvs = Ipvs::new(1);
    let mut config = service("rr");
    config.flags = flags::PERSISTENT;
    config.timeout = 300;
    config.netmask = Netmask::V4(0xffff_ff00);
    ipvs.add_service(config, 0).unwrap();
    for a in ["10.0.1.1", "10.0.1.2"] {
        ipvs.add_dest(&vip_key(), dest(a, 1, Forward::Route), true, 0)
            .unwrap();
    }
    let first = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    assert_eq!(first, "10.0.1.2", "rr starts at the head: the newest dest");
    assert_eq!(counts(&ipvs, &first), (1, 0, 1));
    let same_net = sent_to(&mut ipvs, &segment("1.1.1.77", 2000, "S"), S);
    assert_eq!(same_net, first, "same /24, same template");
    let mut quiesced = dest(&first, 0, Forward::Route);
    quiesced.weight = 0;
    ipvs.edit_dest(&vip_key(), quiesced, 2 * S).unwrap();
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1001, "S"), 3 * S),
        first
    );
    let other_net = sent_to(&mut ipvs, &segment("2.2.2.2", 1000, "S"), 4 * S);
    assert_eq!(other_net, "10.0.1.1");
}

/// §5.2 + §10.1: expire_quiescent_template=1 breaks the stickiness of a weight-0 server.
#[test]
fn expire_quiescent_template_moves_clients_off_a_quiesced_server() {
    let mut ipvs = Ipvs::new(1);
    let mut config = service("rr");
    config.flags = flags::PERSISTENT;
    config.timeout = 300;
    ipvs.add_service(config, 0).unwrap();
    for a in ["10.0.1.1", "10.0.1.2"] {
        ipvs.add_dest(&vip_key(), dest(a, 1, Forward::Route), true, 0)
            .unwrap();
    }
    let first = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    ipvs.edit_dest(&vip_key(), dest(&first, 0, Forward::Route), S)
        .unwrap();
    ipvs.sysctl.set("expire_quiescent_template", "1").unwrap();
    let moved = sent_to(&mut ipvs, &segment("1.1.1.1", 1001, "S"), 2 * S);
    assert_ne!(moved, first);
    let invalidated = ipvs
        .conns
        .iter()
        .filter(|(_, c)| c.is_template() && c.vport == 0xffff)
        .count();
    assert_eq!(invalidated, 1, "the old template is re-keyed (ports 65535)");
}

/// §5.3: a template running out while it still controls a connection waits 60 s more, and
/// keeps that 60 s timeout from then on.
#[test]
fn templates_outlive_their_connections_in_60_s_steps() {
    let mut ipvs = Ipvs::new(1);
    let mut config = service("rr");
    config.flags = flags::PERSISTENT;
    config.timeout = 10;
    ipvs.add_service(config, 0).unwrap();
    ipvs.add_dest(&vip_key(), dest("10.0.1.1", 1, Forward::Route), true, 0)
        .unwrap();
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), 0);
    let template = |ipvs: &Ipvs| {
        ipvs.conns
            .iter()
            .find(|(_, c)| c.is_template())
            .map(|(_, c)| (c.timeout_s, c.expires_ns))
    };
    assert_eq!(template(&ipvs), Some((10, 10 * S)));
    ipvs.run_timers(10 * S);
    assert_eq!(
        template(&ipvs),
        Some((60, 70 * S)),
        "deferred: controls a conn"
    );
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "R"), 20 * S);
    ipvs.run_timers(30 * S);
    assert!(
        ipvs.conns.iter().all(|(_, c)| c.is_template()),
        "the RST closed the conn"
    );
    ipvs.run_timers(70 * S);
    assert!(ipvs.conns.is_empty(), "then the template goes");
    assert_eq!(counts(&ipvs, "10.0.1.1"), (0, 0, 0));
}

/// §2.2: the upper threshold sets OVERLOAD at bind; without a lower one it clears below 3/4.
#[test]
fn thresholds_set_and_clear_overload() {
    let mut ipvs = Ipvs::new(1);
    ipvs.add_service(service("rr"), 0).unwrap();
    let mut d = dest("10.0.1.1", 1, Forward::Route);
    d.u_threshold = 4;
    ipvs.add_dest(&vip_key(), d, true, 0).unwrap();
    for port in 1..=4 {
        assert_eq!(
            sent_to(&mut ipvs, &segment("1.1.1.1", port, "S"), 0),
            "10.0.1.1"
        );
    }
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 5, "S"), 0),
        "unreachable",
        "4 ≥ u_threshold 4: overloaded, ICMP port unreachable"
    );
    for port in 1..=2 {
        sent_to(&mut ipvs, &segment("1.1.1.1", port, "A"), S);
        sent_to(&mut ipvs, &segment("1.1.1.1", port, "R"), S);
    }
    assert_eq!(counts(&ipvs, "10.0.1.1"), (2, 2, 0), "CLOSE is inactive");
    ipvs.run_timers(11 * S);
    assert_eq!(counts(&ipvs, "10.0.1.1").0, 2);
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 6, "S"), 12 * S),
        "10.0.1.1",
        "2×4 < 4×3: cleared"
    );
}

/// §3.5: a SYN on a TIME_WAIT/CLOSE entry expires it and is scheduled afresh; the old entry
/// still counts when the new one is scheduled.
#[test]
fn syn_on_a_closed_entry_is_rescheduled() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1), ("10.0.1.2", 1)], Forward::Route);
    let first = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "R"), S);
    let same = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), S);
    assert_eq!(same, first, "an input-only RST leaves SYN_RECV as it is");
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), S);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "R"), S);
    let again = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 2 * S);
    assert_ne!(again, first, "rr moved on: a new connection");
    assert_eq!(ipvs.conns.len(), 2, "the old entry waits for its timer");
    ipvs.run_timers(2 * S);
    assert_eq!(ipvs.conns.len(), 1);
}

/// §10.1: packets of a connection whose server was deleted are dropped (no state change);
/// with expire_nodest_conn=1 a SYN is scheduled afresh.
#[test]
fn deleted_servers_drop_their_connections_packets() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1), ("10.0.1.2", 1)], Forward::Route);
    let first = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    ipvs.del_dest(&vip_key(), ip(&first), 80, S).unwrap();
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), 2 * S),
        "drop"
    );
    ipvs.sysctl.set("expire_nodest_conn", "1").unwrap();
    let other = sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 3 * S);
    assert_ne!(other, first);
    assert_ne!(other, "drop");
}

/// forwarding.md §2: no entry and not a SYN → the director's own stack; source port 20
/// (FTP data) is never scheduled (§10.2); no usable server → ICMP port unreachable.
#[test]
fn what_is_not_scheduled() {
    let mut ipvs = director("rr", &[("10.0.1.1", 0)], Forward::Route);
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), 0),
        "accept"
    );
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 20, "S"), 0),
        "accept"
    );
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0),
        "unreachable",
        "the only server has weight 0"
    );
    let mut other_port = segment("1.1.1.1", 1000, "S");
    other_port.dport = 81;
    assert_eq!(
        sent_to(&mut ipvs, &other_port, 0),
        "accept",
        "no such service"
    );
}

/// §3.3: `--set` changes the timeout used from the next packet on.
#[test]
fn set_timeouts_apply_at_the_next_packet() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), 0);
    ipvs.timeouts.set(30, 5, 60);
    assert_eq!(ipvs.conns.iter().next().unwrap().1.expires_ns, 900 * S);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "A"), S);
    assert_eq!(ipvs.conns.iter().next().unwrap().1.expires_ns, 31 * S);
}

/// §10.4: a server deleted and re-added while its connections live is the same object,
/// counters intact, and goes back to the head of the list.
#[test]
fn a_readded_server_is_revived_from_the_trash() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    let before = ipvs.dests.len();
    ipvs.del_dest(&vip_key(), ip("10.0.1.1"), 80, S).unwrap();
    ipvs.add_dest(&vip_key(), dest("10.0.1.1", 3, Forward::Route), true, 2 * S)
        .unwrap();
    assert_eq!(ipvs.dests.len(), before, "no new object");
    assert_eq!(counts(&ipvs, "10.0.1.1"), (1, 0, 0));
    assert_eq!(ipvs.snapshot(2 * S).services[0].dests[0].stats.conns, 1);
}

/// §10.4: unreferenced, a deleted server is freed 120-180 s later; a re-add then starts from
/// zero counters.
#[test]
fn the_trash_frees_unreferenced_servers() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0);
    sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "R"), 0);
    ipvs.run_timers(10 * S);
    ipvs.del_dest(&vip_key(), ip("10.0.1.1"), 80, 10 * S)
        .unwrap();
    for t in [70, 130] {
        ipvs.run_timers(t * S);
        assert_eq!(ipvs.next_timer(), Some((t + 60) * S), "the trash ticks");
    }
    ipvs.run_timers(190 * S);
    assert_eq!(ipvs.next_timer(), None, "freed at 190 s (idle since 70 s)");
    ipvs.add_dest(
        &vip_key(),
        dest("10.0.1.1", 1, Forward::Route),
        true,
        200 * S,
    )
    .unwrap();
    assert_eq!(ipvs.snapshot(200 * S).services[0].dests[0].stats.conns, 0);
}

/// forwarding.md §8: local ports from fullnat_lport_min + 1, addresses round robin in the
/// order added; both tuples find the entry.
#[test]
fn fullnat_takes_local_addresses_round_robin() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::FullNat);
    assert_eq!(
        sent_to(&mut ipvs, &segment("1.1.1.1", 1000, "S"), 0),
        "unreachable",
        "no local address yet"
    );
    ipvs.add_laddr(&vip_key(), ip("10.0.9.1")).unwrap();
    ipvs.add_laddr(&vip_key(), ip("10.0.9.2")).unwrap();
    assert_eq!(
        ipvs.add_laddr(&vip_key(), ip("10.0.9.2")),
        Err(Errno::Eexist)
    );
    let mut locals = Vec::new();
    for port in 1..=3 {
        if let InVerdict::Forward { conn, .. } =
            ipvs.process_in(&segment("1.1.1.1", port, "S"), 0, false)
        {
            let f = ipvs.conns.get(conn).fullnat.as_deref().copied().unwrap();
            locals.push((f.laddr.to_string(), f.lport));
        }
    }
    assert_eq!(
        locals,
        [
            ("10.0.9.1".to_owned(), 5001),
            ("10.0.9.2".to_owned(), 5001),
            ("10.0.9.1".to_owned(), 5002)
        ]
    );
    let reply = PacketMeta {
        saddr: ip("10.0.1.1"),
        sport: 80,
        daddr: ip("10.0.9.2"),
        dport: 5001,
        ..segment("1.1.1.1", 2, "SA")
    };
    let conn = ipvs.process_out(&reply, S).unwrap();
    assert_eq!(ipvs.conns.get(conn).cport, 2);
}

/// ipvsadm.md §7: the kernel's answers to bad requests.
#[test]
fn kernel_errors() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    assert_eq!(ipvs.add_service(service("rr"), 0), Err(Errno::Eexist));
    assert_eq!(
        ipvs.add_service(
            ServiceConfig {
                key: ServiceKey::Fwmark {
                    mark: 1,
                    ipv6: false
                },
                ..service("nosuch")
            },
            0
        ),
        Err(Errno::Enoent)
    );
    let d = dest("10.0.1.1", 1, Forward::Route);
    assert_eq!(
        ipvs.add_dest(&vip_key(), d.clone(), true, 0),
        Err(Errno::Eexist)
    );
    let mut bad = dest("10.0.1.2", -1, Forward::Route);
    assert_eq!(
        ipvs.add_dest(&vip_key(), bad.clone(), true, 0),
        Err(Errno::Erange)
    );
    bad.weight = 1;
    bad.l_threshold = 5;
    bad.u_threshold = 4;
    assert_eq!(ipvs.add_dest(&vip_key(), bad, true, 0), Err(Errno::Erange));
    let broadcast = dest("10.0.1.255", 1, Forward::Route);
    assert_eq!(
        ipvs.add_dest(&vip_key(), broadcast, false, 0),
        Err(Errno::Einval)
    );
    assert_eq!(
        ipvs.del_dest(&vip_key(), ip("10.0.1.9"), 80, 0),
        Err(Errno::Enoent)
    );
    let missing = ServiceKey::Addr {
        proto: Protocol::Udp,
        addr: ip("10.0.0.100"),
        port: 53,
    };
    assert_eq!(ipvs.del_service(&missing, 0), Err(Errno::Esrch));
    assert_eq!(ipvs.edit_dest(&missing, d, 0), Err(Errno::Esrch));
}

/// ipvsadm.md §5.3 (--nosort): services come in the kernel's hash-bucket order.
#[test]
fn snapshot_lists_services_in_bucket_order() {
    let mut ipvs = Ipvs::new(1);
    for port in [80, 443, 8080] {
        ipvs.add_service(
            ServiceConfig {
                key: ServiceKey::Addr {
                    proto: Protocol::Tcp,
                    addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                    port,
                },
                ..service("rr")
            },
            0,
        )
        .unwrap();
    }
    let buckets: Vec<u32> = ipvs
        .snapshot(0)
        .services
        .iter()
        .map(|s| svc_hash_order(&s.config.key).1)
        .collect();
    let mut sorted = buckets.clone();
    sorted.sort();
    assert_eq!(buckets, sorted);
}

fn daemon(state: DaemonState) -> DaemonConfig {
    DaemonConfig {
        state,
        mcast_ifn: "eth0".into(),
        syncid: 51,
        group: None,
        port: None,
        ttl: None,
        maxlen: None,
    }
}

/// ipvsadm.md error table: a second --start-daemon of the same kind is EEXIST ("Daemon has
/// already run"), stopping one that does not run ESRCH ("No daemon is running").
#[test]
fn sync_daemons_start_once_and_stop_once() {
    let mut ipvs = Ipvs::new(1);
    assert_eq!(ipvs.start_daemon(daemon(DaemonState::Master)), Ok(()));
    assert_eq!(
        ipvs.start_daemon(daemon(DaemonState::Master)),
        Err(Errno::Eexist)
    );
    assert_eq!(ipvs.start_daemon(daemon(DaemonState::Backup)), Ok(()));
    assert_eq!(ipvs.snapshot(0).daemons.len(), 2);
    assert_eq!(ipvs.stop_daemon(DaemonState::Master), Ok(()));
    assert_eq!(ipvs.stop_daemon(DaemonState::Master), Err(Errno::Esrch));
}

/// ip_vs_sync_conn_needed with the default sync_threshold "3 50": a TCP connection is sent
/// on its 3rd input packet in ESTABLISHED (then the 53rd, ...), and at once when it moves
/// to FIN_WAIT; the buffer leaves when 2 s old.
#[test]
fn a_master_syncs_on_the_third_packet_and_on_state_changes() {
    let mut ipvs = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    ipvs.start_daemon(daemon(DaemonState::Master)).unwrap();
    for (t, flags) in [(0, "S"), (1, "A"), (2, "A")] {
        sent_to(&mut ipvs, &segment("10.1.0.1", 40000, flags), t);
        assert!(ipvs.sync.take_message(t).is_none());
    }
    assert_eq!(ipvs.sync.flush_at(), Some(2 + 2 * S));
    sent_to(&mut ipvs, &segment("10.1.0.1", 40000, "FA"), 3);
    let msg = ipvs.sync.take_message(2 * S + 2).expect("due after 2 s");
    let states: Vec<u16> = msg.conns.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [TcpState::Established as u16, TcpState::FinWait as u16]
    );
    assert_eq!(
        (msg.syncid, msg.conns[0].flags & 7),
        (51, 3),
        "DR is IP_VS_CONN_F_DROUTE"
    );
    assert!(ipvs.sync.take_message(4 * S).is_none());
}

/// ip_vs_proc_conn: a backup creates the entry, bound to its own matching real server, with
/// the master's state and timeout; a later message moves it between active and inactive.
#[test]
fn a_backup_creates_and_updates_entries_from_sync_messages() {
    let mut master = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    master.start_daemon(daemon(DaemonState::Master)).unwrap();
    for (t, flags) in [(0, "S"), (1, "A"), (2, "A")] {
        sent_to(&mut master, &segment("10.1.0.1", 40000, flags), t);
    }
    let msg = master.sync.take_message(3 * S).unwrap();
    let mut backup = director("rr", &[("10.0.1.1", 1)], Forward::Route);
    backup.start_daemon(daemon(DaemonState::Backup)).unwrap();
    assert_eq!(backup.apply_sync(&msg, 3 * S), (1, Vec::new()));
    let listing = backup.snapshot(3 * S);
    assert_eq!(listing.conns.len(), 1);
    assert_eq!(listing.services[0].dests[0].activeconns, 1);
    assert_eq!(
        sent_to(&mut backup, &segment("10.1.0.1", 40000, "A"), 4 * S),
        "10.0.1.1"
    );
    let mut fin = msg.clone();
    fin.conns[0].state = TcpState::FinWait as u16;
    fin.conns[0].flags |= 0x0100;
    backup.apply_sync(&fin, 5 * S);
    let listing = backup.snapshot(5 * S);
    assert_eq!(
        (
            listing.services[0].dests[0].activeconns,
            listing.services[0].dests[0].inactconns
        ),
        (0, 1)
    );
    let mut stranger = msg;
    stranger.conns[0].daddr = Ipv4Addr::new(10, 0, 9, 9);
    stranger.conns[0].cport = 40001;
    let (applied, skipped) = backup.apply_sync(&stranger, 6 * S);
    assert_eq!(applied, 0);
    assert!(
        skipped[0].contains("no real server 10.0.9.9:80"),
        "{skipped:?}"
    );
}
