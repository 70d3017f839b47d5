//! ipvsadm.md §1–§4 and design.md: what lines parse into, including the seeds' commands.

use std::net::Ipv4Addr;

use super::*;
use crate::lvs::ipvsadm::{
    DaemonConfig, DaemonState, ListOptions, list, parse, parse_restore_line,
};
use crate::lvs::service::{TunnelCsum, TunnelType, flags};

fn add_service(line: &str) -> ServiceConfig {
    match parsed(line) {
        Command::AddService(config) => config,
        other => panic!("{line}: {other:?}"),
    }
}

fn add_dest(line: &str) -> (ServiceKey, DestConfig) {
    match parsed(line) {
        Command::AddDest { service, dest } => (service, dest),
        other => panic!("{line}: {other:?}"),
    }
}

fn list_options(line: &str) -> ListOptions {
    match parsed(line) {
        Command::List(opts) => opts,
        other => panic!("{line}: {other:?}"),
    }
}

fn persistent(mut config: ServiceConfig, timeout: u32) -> ServiceConfig {
    config.flags |= flags::PERSISTENT;
    config.timeout = timeout;
    config
}

/// A minimal kernel for the seed scripts: services and destinations as `-A`/`-a` add them
/// (destinations newest first, as the kernel lists them), `-d` removes one.
fn apply(snap: &mut IpvsSnapshot, command: Command) {
    match command {
        Command::Clear => snap.services.clear(),
        Command::SetTimeouts { tcp, tcpfin, udp } => snap.timeouts = (tcp, tcpfin, udp),
        Command::AddService(config) => snap.services.push(service(config)),
        Command::AddDest { service: key, dest } => {
            let svc = snap
                .services
                .iter_mut()
                .find(|s| s.config.key == key)
                .unwrap();
            let mut listed = super::dest("0.0.0.0", 0, Forward::Route, 1);
            listed.config = dest;
            svc.dests.insert(0, listed);
        }
        Command::DeleteDest {
            service: key,
            addr,
            port,
        } => {
            let svc = snap
                .services
                .iter_mut()
                .find(|s| s.config.key == key)
                .unwrap();
            svc.dests
                .retain(|d| (d.config.addr, d.config.port) != (addr, port));
        }
        other => panic!("not a seed command: {other:?}"),
    }
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

// Seed arp-and-lvs-service.txt: the lab's commands, then `ipvsadm -L -n` and `--stats`
// compared with the published output (whose spacing was lost).
#[test]
fn seed_arp_and_lvs_service_lab() {
    let mut snap = snapshot(Vec::new());
    for line in [
        "ipvsadm -C",
        "ipvsadm --set 30 5 60",
        "ipvsadm -A -t 192.168.0.204:80 -s rr -p 20",
        "ipvsadm -a -t 192.168.0.204:80 -r 192.168.0.202 -g -w 1",
        "ipvsadm -a -t 192.168.0.204:80 -r 192.168.0.203 -g -w 1",
    ] {
        apply(&mut snap, parsed(line));
    }
    assert_eq!(snap.timeouts, (30, 5, 60));
    let listing = list(&list_options("ipvsadm -L -n"), &snap).unwrap();
    let published = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
-> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP 192.168.0.204:80 rr persistent 20
-> 192.168.0.202:80 Route 1 0 0
-> 192.168.0.203:80 Route 1 0 0";
    assert_eq!(words(&listing), words(published));

    let counters = |conns, bytes| Counters {
        conns,
        inpkts: conns,
        outpkts: 0,
        inbytes: bytes,
        outbytes: 0,
    };
    snap.services[0].stats = counters(2, 104);
    for d in &mut snap.services[0].dests {
        d.stats = counters(1, 52);
    }
    let stats = list(&list_options("ipvsadm -L -n --stats"), &snap).unwrap();
    let published = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Conns InPkts OutPkts InBytes OutBytes
-> RemoteAddress:Port
TCP 192.168.0.204:80 2 2 0 104 0
-> 192.168.0.202:80 1 1 0 52 0
-> 192.168.0.203:80 1 1 0 52 0";
    assert_eq!(words(&stats), words(published));

    apply(
        &mut snap,
        parsed("ipvsadm -d -t 192.168.0.204:80 -r 192.168.0.203"),
    );
    assert_eq!(snap.services[0].dests.len(), 1);
    assert_eq!(
        parsed("ipvsadm -D -t 192.168.0.204:80"),
        Command::DeleteService(tcp("192.168.0.204", 80))
    );
}

// Seed arp-and-lvs-service.txt: lvs.sh and lvscheck.sh (variables substituted).
#[test]
fn seed_arp_and_lvs_service_scripts() {
    let expected = persistent(config(tcp("192.168.0.204", 80), "rr"), 300);
    assert_eq!(
        add_service("ipvsadm -A -t 192.168.0.204:80 -s rr -p 300"),
        expected
    );
    assert_eq!(list_options("ipvsadm -ln"), list_options("ipvsadm -L -n"));
    assert_eq!(
        parsed("ipvsadm -d -t 192.168.0.204:80 -r 192.168.0.202"),
        Command::DeleteDest {
            service: tcp("192.168.0.204", 80),
            addr: ip("192.168.0.202"),
            port: 80,
        }
    );
}

// Seed lvs-dr-packet-analysis.md: lvs_dr.sh through /sbin/ipvsadm, then `ipvsadm -ln`.
#[test]
fn seed_lvs_dr_packet_analysis() {
    let mut snap = snapshot(Vec::new());
    for line in [
        "/sbin/ipvsadm -C",
        "/sbin/ipvsadm -A -t 192.168.188.120:80 -s wrr",
        "/sbin/ipvsadm -a -t 192.168.188.120:80 -r 192.168.188.107:80 -g -w 1",
        "/sbin/ipvsadm -a -t 192.168.188.120:80 -r 192.168.188.110:80 -g -w 1",
    ] {
        apply(&mut snap, parsed(line));
    }
    let listing = list(&list_options("ipvsadm -ln"), &snap).unwrap();
    let published = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.188.120:80 wrr
  -> 192.168.188.107:80           Route   1      0          0
  -> 192.168.188.110:80           Route   1      0          0";
    assert_eq!(words(&listing), words(published));
    // The published first rows kept their spacing: they match byte for byte.
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[3], "TCP  192.168.188.120:80 wrr");
    assert_eq!(
        lines[4].trim_end(),
        "  -> 192.168.188.107:80           Route   1      0          0"
    );
}

// ipvsadm.md §1: no arguments lists like -L (names); `-L` and `-l` are the same command.
#[test]
fn bare_ipvsadm_and_list_spellings() {
    assert_eq!(parsed("ipvsadm"), Command::List(ListOptions::default()));
    assert_eq!(parse(&[]), Ok(Command::List(ListOptions::default())));
    assert_eq!(parsed("ipvsadm -l"), parsed("ipvsadm -L"));
    assert_eq!(parsed("ipvsadm --list --numeric"), parsed("ipvsadm -Ln"));
    assert_eq!(parsed("ipvsadm -L --sort"), parsed("ipvsadm -L"));
    let all = list_options(
        "ipvsadm -L -n --stats --rate --thresholds --persistent-conn --nosort --exact --tun-info --syncid 3",
    );
    assert_eq!(
        all,
        ListOptions {
            numeric: true,
            stats: true,
            rate: true,
            thresholds: true,
            persistent_conn: true,
            nosort: true,
            exact: true,
            tun_info: true,
            ..ListOptions::default()
        }
    );
    assert!(list_options("ipvsadm -L -c").connections);
    assert!(list_options("ipvsadm -L --timeout").timeout);
    assert!(list_options("ipvsadm -L --daemon").daemon);
    assert_eq!(
        list_options("ipvsadm -L -u 10.0.0.1:53").service,
        Some(udp("10.0.0.1", 53))
    );
}

// ipvsadm.md §2/§4: -A defaults (wlc, no persistence, /32).
#[test]
fn add_service_defaults() {
    assert_eq!(
        add_service("ipvsadm -A -t 10.0.0.1:80"),
        config(tcp("10.0.0.1", 80), "wlc")
    );
    assert_eq!(
        parsed("ipvsadm -E -t 10.0.0.1:80 -s rr"),
        Command::EditService(config(tcp("10.0.0.1", 80), "rr"))
    );
    let sctp = add_service("ipvsadm -A --sctp-service 10.0.0.1:5672");
    assert_eq!(sctp.key, addr_key(Protocol::Sctp, "10.0.0.1", 5672));
    assert_eq!(
        add_service("ipvsadm -A --sctp-service 10.0.0.1:amqp").key,
        sctp.key
    );
    assert_eq!(
        add_service("ipvsadm -A -t 10.0.0.1:80 -s abcdefghijklmnopq").sched,
        "abcdefghijklmno"
    );
}

// ipvsadm.md §3 `-p`: optional argument, 360 when bare.
#[test]
fn persistence_timeout_forms() {
    let base = config(tcp("10.0.0.1", 80), "wlc");
    for (line, timeout) in [
        ("ipvsadm -A -t 10.0.0.1:80 -p", 360),
        ("ipvsadm -A -t 10.0.0.1:80 -p 600", 600),
        ("ipvsadm -A -t 10.0.0.1:80 -p600", 600),
        ("ipvsadm -A -t 10.0.0.1:80 --persistent=700", 700),
        ("ipvsadm -A -t 10.0.0.1:80 --persistent 800", 800),
        ("ipvsadm -A -t 10.0.0.1:80 -p 2678400", 2_678_400),
    ] {
        assert_eq!(
            add_service(line),
            persistent(base.clone(), timeout),
            "{line}"
        );
    }
    let mut rr = persistent(base, 360);
    rr.sched = "rr".into();
    assert_eq!(add_service("ipvsadm -A -t 10.0.0.1:80 -p -s rr"), rr);
}

// ipvsadm.md §3 `-M`: read for the family known where it stands.
#[test]
fn netmask_follows_the_family_known_so_far() {
    let v4 = |line| add_service(line).netmask;
    assert_eq!(
        v4("ipvsadm -A -t 10.0.0.1:80 -p -M 255.255.255.0"),
        Netmask::V4(0xffff_ff00)
    );
    assert_eq!(v4("ipvsadm -A -t 10.0.0.1:80 -p -M 24"), Netmask::V4(24));
    assert_eq!(
        v4("ipvsadm -A -M 255.255.0.0 -t 10.0.0.1:80 -p"),
        Netmask::V4(0xffff_0000)
    );
    assert_eq!(
        v4("ipvsadm -A -t [2001:db8::1]:80 -p -M 64"),
        Netmask::V6(64)
    );
    assert_eq!(
        v4("ipvsadm -A -M 255.0.0.0 -t [2001:db8::1]:80 -p"),
        Netmask::V6(128)
    );
    assert_eq!(v4("ipvsadm -A -f 5 -6 -M 48"), Netmask::V6(48));
    assert_eq!(v4("ipvsadm -A -f 5 -M 255.0.0.0 -6"), Netmask::V6(128));
    assert_eq!(v4("ipvsadm -A -f 5 -6 -M 4294967360"), Netmask::V6(64));
}

// ipvsadm.md §3: fwmark services, -6, sched flags, ops, pe.
#[test]
fn fwmark_flags_ops_and_pe() {
    let fw = add_service("ipvsadm -A -f 4294967295 -6 -6 -s mh -b mh-fallback,mh-port --pe sip -p");
    assert_eq!(fw.key, fwm(u32::MAX, true));
    assert_eq!(fw.flags, flags::PERSISTENT | flags::SCHED1 | flags::SCHED2);
    assert_eq!(fw.pe.as_deref(), Some("sip"));
    let ops = add_service("ipvsadm -A -u 10.0.0.1:53 -s sh -o -b sh-fallback,,sh-port");
    assert_eq!(ops.flags, flags::ONEPACKET | flags::SCHED1 | flags::SCHED2);
    assert_eq!(add_service("ipvsadm -A -f 5 -o").flags, flags::ONEPACKET);
    assert_eq!(
        add_service("ipvsadm -A -t 1.2.3.4:80 -b flag-3").flags,
        flags::SCHED3
    );
    // An empty -b is skipped (sched_flags_arg[0] == 0), yet counts as given.
    let empty = parse(&["ipvsadm", "-A", "-t", "1.2.3.4:80", "-b", ""]);
    assert_eq!(
        empty,
        Ok(Command::AddService(config(tcp("1.2.3.4", 80), "wlc")))
    );
    assert_eq!(
        add_service("ipvsadm -A -t 1.2.3.4:80 -s sh -b sh-port").sched,
        "sh"
    );
}

// ipvsadm.md §3 "Address parsing": inet_aton forms and service names.
#[test]
fn address_forms() {
    let key = |line| add_service(line).key;
    assert_eq!(key("ipvsadm -A -t 10.1:80"), tcp("10.0.0.1", 80));
    assert_eq!(key("ipvsadm -A -t 0x0a000002:80"), tcp("10.0.0.2", 80));
    assert_eq!(key("ipvsadm -A -t 012.0.0.4:80"), tcp("10.0.0.4", 80));
    assert_eq!(key("ipvsadm -A -t 167772162:80"), tcp("10.0.0.2", 80));
    assert_eq!(key("ipvsadm -A -t 10.0.0.1:http"), tcp("10.0.0.1", 80));
    assert_eq!(key("ipvsadm -A -u 10.0.0.1:domain"), udp("10.0.0.1", 53));
    assert_eq!(
        key("ipvsadm -A -t [2001:db8::80]:https"),
        tcp("2001:db8::80", 443)
    );
    assert_eq!(
        key("ipvsadm -A --tcp-service=10.0.0.1:80"),
        tcp("10.0.0.1", 80)
    );
    assert_eq!(key("ipvsadm -A -t10.0.0.1:80"), tcp("10.0.0.1", 80));
    // A port-0 service is legal once persistent.
    assert_eq!(key("ipvsadm -A -t 10.0.0.1 -p"), tcp("10.0.0.1", 0));
}

// ipvsadm.md §2/§3 `-a`: defaults -g -w 1, and the `-r` port rules.
#[test]
fn real_server_defaults_and_port_rules() {
    let (svc, d) = add_dest("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1");
    assert_eq!(svc, tcp("10.0.0.1", 80));
    assert_eq!(d, dest_config("10.1.1.1", 80, Forward::Route, 1));
    let port = |line| add_dest(line).1.port;
    assert_eq!(port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m"), 8080);
    assert_eq!(port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:8080 -g"), 80);
    assert_eq!(port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:8080 -i"), 80);
    assert_eq!(
        port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:8080 --fullnat"),
        8080
    );
    assert_eq!(port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1 -m"), 80);
    assert_eq!(port("ipvsadm -a -r 10.1.1.1 -t 10.0.0.1:80 -m"), 0);
    assert_eq!(port("ipvsadm -a -r 10.1.1.1 -t 10.0.0.1:80 -g"), 80);
    assert_eq!(port("ipvsadm -a -f 7 -r 10.1.1.1:8080 -g"), 8080);
    assert_eq!(port("ipvsadm -a -f 7 -r 10.1.1.1 -g"), 0);
    assert_eq!(
        port("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:http-alt -m"),
        8080
    );
    let (_, full) = add_dest("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1:8080 -m -w 0 -x 100 -y 50");
    assert_eq!((full.fwd, full.weight), (Forward::Masq, 0));
    assert_eq!((full.u_threshold, full.l_threshold), (100, 50));
    assert_eq!(
        add_dest("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1 -w 2147483647")
            .1
            .weight,
        i32::MAX
    );
}

// ipvsadm.md §3: tunnels, and the different family allowed only with -i.
#[test]
fn tunnel_destinations() {
    let (_, d) = add_dest("ipvsadm -a -t 10.0.0.1:80 -r 2001:db8::1 -i");
    assert_eq!(
        (d.addr, d.port, d.fwd),
        (ip("2001:db8::1"), 80, Forward::Tunnel)
    );
    assert_eq!(d.tun, TunnelSpec::default());
    let tun = |line| add_dest(line).1.tun;
    assert_eq!(
        tun(
            "ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gue --tun-port 6080 --tun-remcsum"
        ),
        TunnelSpec {
            kind: TunnelType::Gue,
            port: 6080,
            csum: TunnelCsum::RemCsum
        }
    );
    assert_eq!(
        tun("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gre --tun-csum"),
        TunnelSpec {
            kind: TunnelType::Gre,
            port: 0,
            csum: TunnelCsum::Csum
        }
    );
    assert_eq!(
        tun("ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type ipip"),
        TunnelSpec::default()
    );
    assert!(matches!(
        parsed("ipvsadm -e -t 10.0.0.1:80 -r 10.1.1.1 -i --tun-type gue --tun-port 1 --tun-nocsum"),
        Command::EditDest { .. }
    ));
}

// ipvsadm.md §2: the other commands.
#[test]
fn other_commands() {
    assert_eq!(parsed("ipvsadm -Z"), Command::Zero(None));
    assert_eq!(
        parsed("ipvsadm --zero -f 3"),
        Command::Zero(Some(fwm(3, false)))
    );
    assert_eq!(parsed("ipvsadm -S"), Command::Save { numeric: false });
    assert_eq!(parsed("ipvsadm -Sn"), Command::Save { numeric: true });
    assert_eq!(parsed("ipvsadm --save -n"), Command::Save { numeric: true });
    assert_eq!(parsed("ipvsadm -R"), Command::Restore);
    assert_eq!(parsed("ipvsadm --clear"), Command::Clear);
    assert_eq!(
        parsed("ipvsadm --set 0 0 2678400"),
        Command::SetTimeouts {
            tcp: 0,
            tcpfin: 0,
            udp: 2_678_400
        }
    );
    assert_eq!(parsed("ipvsadm -h"), Command::Help);
    assert_eq!(parsed("ipvsadm --help --bogus"), Command::Help);
    assert_eq!(parsed("ipvsadm -v"), Command::Version);
    assert_eq!(parsed("ipvsadm --version"), Command::Version);
}

// ipvsadm.md §2/§3: the sync daemon commands and their options.
#[test]
fn daemon_commands() {
    assert_eq!(
        parsed("ipvsadm --start-daemon master"),
        Command::StartDaemon(DaemonConfig {
            state: DaemonState::Master,
            mcast_ifn: "eth0".into(),
            syncid: 0,
            group: None,
            port: None,
            ttl: None,
            maxlen: None,
        })
    );
    assert_eq!(
        parsed(
            "ipvsadm --start-daemon=backup --mcast-interface eth1 --syncid 9 \
             --mcast-group ff02::81 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 65507"
        ),
        Command::StartDaemon(DaemonConfig {
            state: DaemonState::Backup,
            mcast_ifn: "eth1".into(),
            syncid: 9,
            group: Some(ip("ff02::81")),
            port: Some(9000),
            ttl: Some(2),
            maxlen: Some(65507),
        })
    );
    assert_eq!(
        parsed("ipvsadm --stop-daemon backup --syncid 4"),
        Command::StopDaemon {
            state: DaemonState::Backup
        }
    );
}

// design.md FULLNAT conventions: -P/-Q with -z, -G with or without a service.
#[test]
fn fullnat_commands() {
    assert_eq!(
        parsed("ipvsadm -P -t 192.168.0.200:80 -z 10.0.1.1"),
        Command::AddLaddr {
            service: tcp("192.168.0.200", 80),
            addr: ip("10.0.1.1"),
        }
    );
    assert_eq!(
        parsed("ipvsadm --del-laddr -t 192.168.0.200:80 --laddr=10.0.1.1"),
        Command::DelLaddr {
            service: tcp("192.168.0.200", 80),
            addr: ip("10.0.1.1"),
        }
    );
    assert_eq!(parsed("ipvsadm -G"), Command::ListLaddrs { service: None });
    assert_eq!(
        parsed("ipvsadm -G -t 192.168.0.200:80 -n"),
        Command::ListLaddrs {
            service: Some(tcp("192.168.0.200", 80)),
        }
    );
    let (_, d) = add_dest("ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.11:8080 --fullnat -w 3");
    assert_eq!(d, dest_config("10.0.0.11", 8080, Forward::FullNat, 3));
    // Upstream -b stays --sched-flags.
    assert_eq!(
        add_service("ipvsadm -A -t 1.2.3.4:80 -b flag-1").flags,
        flags::SCHED1
    );
}

// ipvsadm.md §8: inside -R input, -R itself is refused (after the usual checks).
#[test]
fn restore_line_refuses_restore() {
    let try_help = IpvsadmError {
        message: "Try `ipvsadm -h' or 'ipvsadm --help' for more information.".into(),
        exit: 255,
    };
    assert_eq!(parse_restore_line(&["ipvsadm", "-R"]), Err(try_help));
    assert_eq!(
        parse_restore_line(&["ipvsadm", "-R", "-n"])
            .unwrap_err()
            .message,
        "Illegal 'numeric' option with the 'restore' command"
    );
    assert_eq!(
        parse_restore_line(&["ipvsadm", "-A", "-t", "10.0.0.1:80"]),
        Ok(Command::AddService(config(tcp("10.0.0.1", 80), "wlc")))
    );
}

// ipvsadm.md §3: an IPv4 address written many ways is still one address.
#[test]
fn inet_aton_host_for_real_servers() {
    let (_, d) = add_dest("ipvsadm -a -t 10.0.0.1:80 -r 0xc0a80001");
    assert_eq!(d.addr, std::net::IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)));
}

// Any words at all give a command or ipvsadm's error, never a panic (a deterministic sweep
// over option words, values and oddities, one to six words per line).
#[test]
fn arbitrary_words_never_panic() {
    const WORDS: [&str; 32] = [
        "-A",
        "-a",
        "-L",
        "-Ln",
        "--set",
        "-R",
        "-G",
        "-P",
        "-t",
        "-f",
        "-r",
        "-6",
        "-p",
        "-M",
        "-b",
        "-z",
        "--",
        "-",
        "",
        "=",
        "-s=",
        "-x=",
        "10.0.0.1:80",
        "[::1]:80",
        "[",
        "é",
        "-é",
        "1",
        "4294967295",
        ",",
        "--tun-port=",
        "sh-port",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = 1 + (next() % 6) as usize;
        let mut argv = vec!["ipvsadm"];
        argv.extend((0..len).map(|_| WORDS[(next() % WORDS.len() as u64) as usize]));
        let _ = parse(&argv);
        let _ = parse_restore_line(&argv);
        let _ = crate::lvs::ipvsadm::restore_lines(&argv.join(" \t\r\n"));
    }
}
