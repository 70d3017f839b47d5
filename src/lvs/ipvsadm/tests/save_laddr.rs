//! ipvsadm.md §6 (`-S`) and forwarding.md §8 (`-G`, `-P` lines).

use super::listing::reference_services;
use super::*;
use crate::lvs::ipvsadm::{list_laddrs, save};
use crate::lvs::service::{TunnelCsum, TunnelType};

/// ipvsadm.md §6's table: the §5.2 services plus tunnel and fwmark destinations.
fn save_example() -> IpvsSnapshot {
    let mut services = reference_services();
    for svc in &mut services {
        match svc.config.key {
            ServiceKey::Addr { port: 53, .. } => {
                let mut gre = dest("10.1.1.2", 53, Forward::Tunnel, 1);
                gre.config.tun.kind = TunnelType::Gre;
                let mut gue = dest("10.1.1.1", 53, Forward::Tunnel, 1);
                gue.config.tun = TunnelSpec {
                    kind: TunnelType::Gue,
                    port: 6080,
                    csum: TunnelCsum::Csum,
                };
                svc.dests = vec![gre, gue];
            }
            ServiceKey::Fwmark { mark: 7, .. } => {
                svc.dests = vec![dest("10.2.2.2", 0, Forward::Masq, 1)];
            }
            _ => {}
        }
    }
    snapshot(services)
}

// ipvsadm.md §6 example, verbatim.
#[test]
fn save_matches_the_reference() {
    let expected = "-A -t 192.168.188.120:80 -s wrr
-a -t 192.168.188.120:80 -r 192.168.188.107:80 -g -w 1
-a -t 192.168.188.120:80 -r 192.168.188.108:80 -m -w 3
-A -t 10.0.0.1:443 -s wlc -p 360
-a -t 10.0.0.1:443 -r 172.16.0.5:443 -i -w 100 --tun-type ipip
-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port
-a -u 10.0.0.1:53 -r 10.1.1.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -u 10.0.0.1:53 -r 10.1.1.2:53 -i -w 1 --tun-type gre --tun-nocsum
-A -t [2001:db8::80]:80 -s rr
-a -t [2001:db8::80]:80 -r [2001:db8::a0a0]:8080 -m -w 1
-A -f 7 -s rr -p 600 -M 255.255.255.0
-a -f 7 -r 10.2.2.2:0 -m -w 1
-A -f 9 -6 -s lc
";
    assert_eq!(save(true, &save_example()), expected);
}

// ipvsadm.md §6: without -n, ports are names; labels are never cut; thresholds not saved;
// a local destination saves as -g; --pe is saved even without persistence.
#[test]
fn save_with_names() {
    let mut web = service(config(tcp("255.255.255.255", 8990), "wrr"));
    let mut local = dest("255.255.255.254", 8990, Forward::Local, 2);
    local.config.u_threshold = 10;
    web.dests = vec![local];
    let mut sip = config(udp("10.0.0.1", 5060), "sh");
    sip.pe = Some("sip".into());
    sip.flags = crate::lvs::service::flags::SCHED3;
    let snap = snapshot(vec![web, service(sip)]);
    let expected = "-A -t 255.255.255.255:clc-build-daemon -s wrr
-a -t 255.255.255.255:clc-build-daemon -r 255.255.255.254:clc-build-daemon -g -w 2
-A -u 10.0.0.1:sip -s sh --pe sip -b 
";
    assert_eq!(save(false, &snap), expected);
}

/// A FULLNAT service with two local addresses, and a service without any.
fn fullnat_example() -> IpvsSnapshot {
    let mut web = service(config(tcp("192.168.0.200", 80), "rr"));
    web.dests = vec![dest("10.0.0.11", 8080, Forward::FullNat, 1)];
    web.laddrs = vec![laddr("10.0.1.1", 0, 3), laddr("10.0.1.2", 5, 0)];
    let other = service(config(tcp("10.0.0.1", 443), "wlc"));
    snapshot(vec![web, other])
}

// design.md FULLNAT conventions, forwarding.md §8: `--fullnat` and the `-P` lines.
#[test]
fn save_fullnat() {
    let expected = "-A -t 192.168.0.200:80 -s rr
-a -t 192.168.0.200:80 -r 10.0.0.11:8080 --fullnat -w 1
-P -t 192.168.0.200:80 -z 10.0.1.1
-P -t 192.168.0.200:80 -z 10.0.1.2
-A -t 10.0.0.1:443 -s wlc
";
    assert_eq!(save(true, &fullnat_example()), expected);
}

// forwarding.md §8 `-G` output; services in kernel order, the title once.
#[test]
fn get_laddrs_lists_every_service() {
    let expected = dots(
        "VIP:VPORT            TOTAL    SNAT_IP              CONFLICTS  CONNS·····
192.168.0.200:80     2········
                              10.0.1.1             0          3·········
                              10.0.1.2             5          0·········
10.0.0.1:443         0········
",
    );
    let out = list_laddrs(None, &fullnat_example()).expect("-G");
    assert_eq!(out, expected);
}

// forwarding.md §8 `-G -t VIP:PORT`: one service; a missing one is refused.
#[test]
fn get_laddrs_of_one_service() {
    let key = tcp("192.168.0.200", 80);
    let out = list_laddrs(Some(&key), &fullnat_example()).expect("-G -t");
    assert_eq!(out.lines().count(), 4);
    assert!(out.starts_with("VIP:VPORT "));
    let missing = tcp("192.168.0.201", 80);
    let err = list_laddrs(Some(&missing), &fullnat_example()).unwrap_err();
    assert_eq!((err.message.as_str(), err.exit), ("No such service", 255));
    assert_eq!(list_laddrs(None, &snapshot(Vec::new())), Ok(String::new()));
}
