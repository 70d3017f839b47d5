//! ipvsadm.md §5: every `-L` form.

use super::*;
use crate::lvs::ipvsadm::{ListOptions, list};
use crate::lvs::listing::{ConnListing, DaemonListing};
use crate::lvs::service::{TunnelCsum, TunnelType, flags};

/// The services of ipvsadm.md §5.2's verified example, in a scrambled kernel order.
pub(super) fn reference_services() -> Vec<ServiceListing> {
    let mut sh = config(udp("10.0.0.1", 53), "sh");
    sh.flags = flags::SCHED1 | flags::SCHED2 | flags::ONEPACKET;
    let mut https = config(tcp("10.0.0.1", 443), "wlc");
    https.flags = flags::PERSISTENT;
    https.timeout = 360;
    let mut fwm7 = config(fwm(7, false), "rr");
    fwm7.flags = flags::PERSISTENT;
    fwm7.timeout = 600;
    fwm7.netmask = Netmask::V4(0xffff_ff00);
    let mut web = service(config(tcp("192.168.188.120", 80), "wrr"));
    web.dests = vec![
        dest("192.168.188.108", 80, Forward::Masq, 3),
        dest("192.168.188.107", 80, Forward::Route, 1),
    ];
    let mut https = service(https);
    https.dests = vec![dest("172.16.0.5", 443, Forward::Tunnel, 100)];
    let mut v6 = service(config(tcp("2001:db8::80", 80), "rr"));
    v6.dests = vec![dest("2001:db8::a0a0", 8080, Forward::Masq, 1)];
    vec![
        service(config(fwm(9, true), "lc")),
        service(sh),
        https,
        v6,
        service(fwm7),
        web,
    ]
}

fn numeric() -> ListOptions {
    ListOptions {
        numeric: true,
        ..ListOptions::default()
    }
}

fn listed(opts: &ListOptions, snap: &IpvsSnapshot) -> String {
    list(opts, snap).expect("listing")
}

// ipvsadm.md §5.2 verified example, verbatim.
#[test]
fn default_listing_matches_the_verified_example() {
    let expected = dots(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.188.120:80 wrr
  -> 192.168.188.107:80           Route   1      0          0·········
  -> 192.168.188.108:80           Masq    3      0          0·········
TCP  10.0.0.1:443 wlc persistent 360
  -> 172.16.0.5:443               Tunnel  100    0          0·········
UDP  10.0.0.1:53 sh (sh-fallback,sh-port) ops
TCP  [2001:db8::80]:80 rr
  -> [2001:db8::a0a0]:8080        Masq    1      0          0·········
FWM  7 rr persistent 600 mask 255.255.255.0
FWM  9 IPv6 lc
",
    );
    let snap = snapshot(reference_services());
    assert_eq!(listed(&numeric(), &snap), expected);
}

// ipvsadm.md §5.3: --nosort keeps the kernel's order, services and destinations alike.
#[test]
fn nosort_keeps_kernel_order() {
    let snap = snapshot(reference_services());
    let opts = ListOptions {
        nosort: true,
        ..numeric()
    };
    let out = listed(&opts, &snap);
    let labels: Vec<&str> = out
        .lines()
        .skip(3)
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        [
            "9",
            "10.0.0.1:53",
            "10.0.0.1:443",
            "172.16.0.5:443",
            "[2001:db8::80]:80",
            "[2001:db8::a0a0]:8080",
            "7",
            "192.168.188.120:80",
            "192.168.188.108:80",
            "192.168.188.107:80",
        ]
    );
}

// ipvsadm.md §5.3: the unsigned-wrap quirk; 192.168.188.120 sorts before 10.0.0.1, and a
// mark of 2^31 or more before the services without one.
#[test]
fn sort_quirk_orders_by_wrapped_differences() {
    let snap = snapshot(vec![
        service(config(tcp("10.0.0.1", 80), "rr")),
        service(config(fwm(4294967295, false), "rr")),
        service(config(tcp("192.168.188.120", 80), "rr")),
        service(config(tcp("10.0.0.1", 79), "rr")),
    ]);
    let out = listed(&numeric(), &snap);
    let rows: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(
        rows,
        [
            "FWM  -1 rr",
            "TCP  192.168.188.120:80 rr",
            "TCP  10.0.0.1:79 rr",
            "TCP  10.0.0.1:80 rr",
        ]
    );
}

// ipvsadm.md §5.1: without -n, ports take their /etc/services name for the protocol; lvsim
// has no DNS, so addresses stay numbers.
#[test]
fn names_without_numeric() {
    let mut web = service(config(tcp("192.168.188.120", 80), "wrr"));
    web.dests = vec![dest("192.168.188.107", 80, Forward::Route, 1)];
    let mut dns = service(config(udp("10.0.0.1", 53), "rr"));
    dns.dests = vec![dest("10.1.1.1", 5353, Forward::Masq, 1)];
    let mut marked = service(config(fwm(3, false), "rr"));
    marked.dests = vec![dest("10.2.2.2", 80, Forward::Masq, 1)];
    let snap = snapshot(vec![web, dns, marked]);
    let expected = dots(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.188.120:http wrr
  -> 192.168.188.107:http         Route   1      0          0·········
UDP  10.0.0.1:domain rr
  -> 10.1.1.1:mdns                Masq    1      0          0·········
FWM  3 rr
  -> 10.2.2.2:80                  Masq    1      0          0·········
",
    );
    assert_eq!(listed(&ListOptions::default(), &snap), expected);
}

// ipvsadm.md §5.1: IPv4 labels are cut at 33 (service) and 28 (destination) characters;
// IPv6 labels are not.
#[test]
fn long_labels_are_cut() {
    let mut svc = service(config(tcp("255.255.255.255", 8990), "rr"));
    svc.dests = vec![dest("255.255.255.254", 8990, Forward::Masq, 1)];
    let mut v6 = service(config(
        tcp("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 8990),
        "rr",
    ));
    v6.dests = vec![dest(
        "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1",
        8990,
        Forward::Masq,
        1,
    )];
    let snap = snapshot(vec![v6, svc]);
    let out = listed(&ListOptions::default(), &snap);
    let rows: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(
        rows,
        [
            "TCP  255.255.255.255:clc-build-da rr",
            "  -> 255.255.255.254:clc-build-da Masq    1      0          0         ",
            "TCP  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:clc-build-daemon rr",
            "  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:clc-build-daemon Masq    1      0          0         ",
        ]
    );
}

// ipvsadm.md §5.2: scheduler flag names per scheduler, and the persistent/mask/pe/ops suffixes.
#[test]
fn service_row_suffixes() {
    let mut mh = config(tcp("10.0.0.1", 80), "mh");
    mh.flags = flags::SCHED1 | flags::SCHED2;
    let mut wrr = config(tcp("10.0.0.2", 80), "wrr");
    wrr.flags = flags::SCHED1 | flags::SCHED2 | flags::SCHED3 | flags::PERSISTENT;
    wrr.timeout = 300;
    wrr.pe = Some("sip".into());
    let mut sh3 = config(udp("10.0.0.3", 5060), "sh");
    sh3.flags = flags::SCHED3;
    let mut v6 = config(udp("2001:db8::1", 53), "lc");
    v6.flags = flags::PERSISTENT | flags::ONEPACKET;
    v6.timeout = 60;
    v6.netmask = Netmask::V6(64);
    let mut not_persistent_pe = config(tcp("10.0.0.4", 80), "rr");
    not_persistent_pe.pe = Some("sip".into());
    let snap = snapshot(
        [mh, wrr, sh3, v6, not_persistent_pe]
            .into_iter()
            .map(service)
            .collect(),
    );
    let out = listed(&numeric(), &snap);
    let rows: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(
        rows,
        [
            "TCP  10.0.0.1:80 mh (mh-fallback,mh-port)",
            "TCP  10.0.0.2:80 wrr (flag-1,flag-2,flag-3) persistent 300 pe sip",
            "TCP  10.0.0.4:80 rr",
            "UDP  10.0.0.3:5060 sh ()",
            "UDP  [2001:db8::1]:53 lc persistent 60 mask 64 ops",
        ]
    );
}

/// A service with two destinations and large counters, for the counter views.
fn counted_services() -> IpvsSnapshot {
    let mut svc = service(config(tcp("192.168.188.120", 80), "wrr"));
    let big = Counters {
        conns: 12_345_678,
        inpkts: 123_456_789,
        outpkts: 111_111_111,
        inbytes: 152_000_000_001,
        outbytes: 15_241_000_000_000,
    };
    svc.stats = big;
    let mut d = dest("192.168.188.107", 80, Forward::Route, 1);
    d.stats = big;
    svc.dests = vec![d];
    let mut small = service(config(tcp("192.168.188.120", 80), "wrr"));
    small.stats = Counters {
        conns: 5,
        inpkts: 50,
        outpkts: 45,
        inbytes: 61725,
        outbytes: 6_172_835,
    };
    snapshot(vec![svc, small])
}

// ipvsadm.md §5.4 verified example, verbatim (two rows with the same label, as printed).
#[test]
fn stats_listing_matches_the_reference() {
    let expected = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  192.168.188.120:80           12345678  123456K  111111K     152G   15241G
  -> 192.168.188.107:80           12345678  123456K  111111K     152G   15241G
TCP  192.168.188.120:80                  5       50       45    61725  6172835
";
    let opts = ListOptions {
        stats: true,
        ..numeric()
    };
    assert_eq!(listed(&opts, &counted_services()), expected);
}

// ipvsadm.md §5.4: --exact prints every digit with one leading space (nine columns at least).
#[test]
fn exact_stats() {
    let opts = ListOptions {
        stats: true,
        exact: true,
        ..numeric()
    };
    let out = listed(&opts, &counted_services());
    let rows: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(
        rows[0],
        "TCP  192.168.188.120:80           12345678 123456789 111111111 152000000001 15241000000000"
    );
    assert_eq!(
        rows[2],
        "TCP  192.168.188.120:80                  5       50       45    61725  6172835"
    );
}

// ipvsadm.md §5.4: largenum's K/M/G/T steps.
#[test]
fn largenum_scaling_steps() {
    let mut svc = service(config(tcp("10.0.0.1", 80), "rr"));
    svc.stats = Counters {
        conns: 99_999_999,
        inpkts: 999_999_999,
        outpkts: 99_999_999_999,
        inbytes: 99_999_999_999_999,
        outbytes: 100_000_000_000_000,
    };
    let opts = ListOptions {
        stats: true,
        ..numeric()
    };
    let out = listed(&opts, &snapshot(vec![svc]));
    assert_eq!(
        out.lines().nth(3),
        Some("TCP  10.0.0.1:80                  99999999  999999K   99999M   99999G     100T")
    );
}

// ipvsadm.md §5.5: the rate view; destination CPS/InPPS/OutPPS are never scaled.
#[test]
fn rate_listing() {
    let mut svc = service(config(tcp("192.168.188.120", 80), "wrr"));
    let rates = Rates {
        cps: 123_456_789,
        inpps: 2,
        outpps: 3,
        inbps: 1_234_567_890,
        outbps: 5,
    };
    svc.rates = rates;
    let mut d = dest("192.168.188.107", 80, Forward::Route, 1);
    d.rates = rates;
    svc.dests = vec![d];
    let opts = ListOptions {
        rate: true,
        ..numeric()
    };
    let expected = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  192.168.188.120:80            123456K        2        3    1234M        5
  -> 192.168.188.107:80           123456789        2        3    1234M        5
";
    assert_eq!(listed(&opts, &snapshot(vec![svc])), expected);
}

/// One service with a tunnel, a masquerading and a FULLNAT destination.
fn mixed_dests() -> IpvsSnapshot {
    let mut svc = service(config(udp("10.0.0.1", 53), "wrr"));
    let mut gue = dest("10.1.1.1", 53, Forward::Tunnel, 2);
    gue.config.tun = TunnelSpec {
        kind: TunnelType::Gue,
        port: 6080,
        csum: TunnelCsum::RemCsum,
    };
    gue.config.u_threshold = 100;
    gue.config.l_threshold = 75;
    gue.activeconns = 7;
    gue.inactconns = 12;
    gue.persistconns = 3;
    let mut gre = dest("10.1.1.2", 53, Forward::Tunnel, 1);
    gre.config.tun = TunnelSpec {
        kind: TunnelType::Gre,
        port: 0,
        csum: TunnelCsum::Csum,
    };
    let ipip = dest("10.1.1.3", 53, Forward::Tunnel, 1);
    let fullnat = dest("10.1.1.4", 5353, Forward::FullNat, 4);
    let masq = dest("10.1.1.5", 5353, Forward::Masq, 0);
    svc.dests = vec![masq, fullnat, ipip, gre, gue];
    snapshot(vec![svc])
}

// ipvsadm.md §5.6: --thresholds (header ends in one space).
#[test]
fn thresholds_listing() {
    let opts = ListOptions {
        thresholds: true,
        ..numeric()
    };
    let expected = dots(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn·
  -> RemoteAddress:Port
UDP  10.0.0.1:53 wrr
  -> 10.1.1.1:53                  100        75         7          12········
  -> 10.1.1.2:53                  0          0          0          0·········
  -> 10.1.1.3:53                  0          0          0          0·········
  -> 10.1.1.4:5353                0          0          0          0·········
  -> 10.1.1.5:5353                0          0          0          0·········
",
    );
    assert_eq!(listed(&opts, &mixed_dests()), expected);
}

// ipvsadm.md §5.6: --persistent-conn.
#[test]
fn persistent_conn_listing() {
    let opts = ListOptions {
        persistent_conn: true,
        ..numeric()
    };
    let expected = dots(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn·
  -> RemoteAddress:Port
UDP  10.0.0.1:53 wrr
  -> 10.1.1.1:53                  2         3           7          12········
  -> 10.1.1.2:53                  1         0           0          0·········
  -> 10.1.1.3:53                  1         0           0          0·········
  -> 10.1.1.4:5353                4         0           0          0·········
  -> 10.1.1.5:5353                0         0           0          0·········
",
    );
    assert_eq!(listed(&opts, &mixed_dests()), expected);
}

// ipvsadm.md §5.6: --tun-info; FULLNAT's Forward word is FullNat (design.md).
#[test]
fn tun_info_listing() {
    let opts = ListOptions {
        tun_info: true,
        ..numeric()
    };
    let expected = dots(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
UDP  10.0.0.1:53 wrr
  -> 10.1.1.1:53                  Tunnel  gue:6080:r+c  2      7          12········
  -> 10.1.1.2:53                  Tunnel  gre:+c        1      0          0·········
  -> 10.1.1.3:53                  Tunnel  ipip          1      0          0·········
  -> 10.1.1.4:5353                FullNat n/a           4      0          0·········
  -> 10.1.1.5:5353                Masq    n/a           0      0          0·········
",
    );
    assert_eq!(listed(&opts, &mixed_dests()), expected);
}

// ipvsadm.md §5.6: precedence stats > rate > thresholds > persistent-conn > tun-info.
#[test]
fn view_precedence() {
    let snap = mixed_dests();
    let with = |opts: ListOptions| listed(&opts, &snap);
    let all = ListOptions {
        stats: true,
        rate: true,
        thresholds: true,
        persistent_conn: true,
        tun_info: true,
        ..numeric()
    };
    let stats_only = ListOptions {
        stats: true,
        ..numeric()
    };
    assert_eq!(with(all.clone()), with(stats_only));
    let no_stats = ListOptions {
        stats: false,
        ..all.clone()
    };
    let rate_only = ListOptions {
        rate: true,
        ..numeric()
    };
    assert_eq!(with(no_stats), with(rate_only));
    let pc_and_tun = ListOptions {
        persistent_conn: true,
        tun_info: true,
        ..numeric()
    };
    let pc_only = ListOptions {
        persistent_conn: true,
        ..numeric()
    };
    assert_eq!(with(pc_and_tun), with(pc_only));
}

// ipvsadm.md §5: one selected service prints no version header.
#[test]
fn single_service_has_no_version_header() {
    let snap = snapshot(reference_services());
    let opts = ListOptions {
        service: Some(tcp("192.168.188.120", 80)),
        ..numeric()
    };
    let expected = dots(
        "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.188.120:80 wrr
  -> 192.168.188.107:80           Route   1      0          0·········
  -> 192.168.188.108:80           Masq    3      0          0·········
",
    );
    assert_eq!(listed(&opts, &snap), expected);
}

// ipvsadm.md §1 exit codes: listing a missing service fails with exit 1.
#[test]
fn single_missing_service_fails() {
    let snap = snapshot(reference_services());
    let opts = ListOptions {
        service: Some(tcp("192.168.188.120", 81)),
        ..numeric()
    };
    let err = list(&opts, &snap).unwrap_err();
    assert_eq!((err.message.as_str(), err.exit), ("No such service", 1));
}

// ipvsadm.md §5.2: an empty table is the header and the title.
#[test]
fn empty_table() {
    let expected = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
";
    assert_eq!(listed(&numeric(), &snapshot(Vec::new())), expected);
}

fn conn(
    proto: &'static str,
    client: (&str, u16),
    virt: (&str, u16),
    real: (&str, u16),
    state: &'static str,
    expires_secs: u64,
) -> ConnListing {
    ConnListing {
        proto,
        caddr: ip(client.0),
        cport: client.1,
        vaddr: ip(virt.0),
        vport: virt.1,
        daddr: ip(real.0),
        dport: real.1,
        state,
        expires_secs,
        pe: None,
    }
}

fn reference_conns() -> IpvsSnapshot {
    let mut snap = snapshot(Vec::new());
    snap.conns = vec![
        conn(
            "TCP",
            ("192.168.1.5", 51234),
            ("10.0.0.1", 443),
            ("172.16.0.5", 443),
            "ESTABLISHED",
            899,
        ),
        conn(
            "TCP",
            ("192.168.1.5", 0),
            ("10.0.0.1", 443),
            ("172.16.0.5", 443),
            "NONE",
            359,
        ),
        conn(
            "UDP",
            ("192.168.1.5", 40000),
            ("10.0.0.1", 53),
            ("10.1.1.1", 53),
            "UDP",
            299,
        ),
        conn(
            "TCP",
            ("192.168.1.5", 51300),
            ("192.168.188.120", 80),
            ("192.168.188.107", 80),
            "FIN_WAIT",
            65,
        ),
    ];
    snap
}

// ipvsadm.md §5.7 example, verbatim.
#[test]
fn connections_listing() {
    let opts = ListOptions {
        connections: true,
        ..numeric()
    };
    let expected = "IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 192.168.1.5:51234  10.0.0.1:443       172.16.0.5:443
TCP 05:59  NONE        192.168.1.5:0      10.0.0.1:443       172.16.0.5:443
UDP 04:59  UDP         192.168.1.5:40000  10.0.0.1:53        10.1.1.1:53
TCP 01:05  FIN_WAIT    192.168.1.5:51300  192.168.188.120:80 192.168.188.107:80
";
    assert_eq!(listed(&opts, &reference_conns()), expected);
}

// ipvsadm.md §5.7: without -n ports are named; minutes may pass 99; fwmark templates (IP)
// keep numbers.
#[test]
fn connections_with_names_and_templates() {
    let mut snap = reference_conns();
    snap.conns.truncate(1);
    snap.conns.push(conn(
        "IP",
        ("192.168.1.5", 0),
        ("0.0.0.7", 0),
        ("10.2.2.2", 80),
        "ASSURED",
        6001,
    ));
    let opts = ListOptions {
        connections: true,
        ..ListOptions::default()
    };
    let expected = "IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 192.168.1.5:51234  10.0.0.1:https     172.16.0.5:https
IP  100:01 ASSURED     192.168.1.5:0      0.0.0.7:0          10.2.2.2:80
";
    assert_eq!(listed(&opts, &snap), expected);
}

// ipvsadm.md §5.7: --persistent-conn adds pe columns to the header, and to rows with PE data.
#[test]
fn connections_with_persistence_engine_data() {
    let mut snap = reference_conns();
    snap.conns.truncate(2);
    snap.conns[0].pe = Some(("sip".into(), "abc@example".into()));
    let opts = ListOptions {
        connections: true,
        persistent_conn: true,
        ..numeric()
    };
    let expected = "IPVS connection entries
pro expire state       source             virtual            destination        pe name          pe_data
TCP 14:59  ESTABLISHED 192.168.1.5:51234  10.0.0.1:443       172.16.0.5:443   sip                abc@example
TCP 05:59  NONE        192.168.1.5:0      10.0.0.1:443       172.16.0.5:443
";
    assert_eq!(listed(&opts, &snap), expected);
}

// ipvsadm.md §5.8: --timeout.
#[test]
fn timeout_listing() {
    let opts = ListOptions {
        timeout: true,
        ..ListOptions::default()
    };
    let mut snap = snapshot(Vec::new());
    assert_eq!(
        listed(&opts, &snap),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    snap.timeouts = (30, 5, 60);
    assert_eq!(listed(&opts, &snap), "Timeout (tcp tcpfin udp): 30 5 60\n");
}

// ipvsadm.md §5.8: --daemon, nothing when none runs.
#[test]
fn daemon_listing() {
    let opts = ListOptions {
        daemon: true,
        ..ListOptions::default()
    };
    let mut snap = snapshot(Vec::new());
    assert_eq!(listed(&opts, &snap), "");
    snap.daemons = vec![
        DaemonListing {
            state: "master",
            mcast_ifn: "eth0".into(),
            syncid: 0,
            maxlen: 1472,
            group: ip("224.0.0.81"),
            port: 8848,
            ttl: 1,
        },
        DaemonListing {
            state: "backup",
            mcast_ifn: "eth1".into(),
            syncid: 7,
            maxlen: 0,
            group: ip("ff02::81"),
            port: 0,
            ttl: 0,
        },
    ];
    let expected =
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)
backup sync daemon (mcast=eth1, syncid=7, group=ff02::81)
";
    assert_eq!(listed(&opts, &snap), expected);
}
