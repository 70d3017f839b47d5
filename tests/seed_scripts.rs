//! The seeds' real-server scripts paste into a lab unchanged: lvs_rs.sh of
//! lvs-dr-packet-analysis.md (with its `#/bin/bash`, variables and Chinese comments) and the
//! RS commands of arp-and-lvs-service.txt, whose `route -n` listing lvsim reproduces.

mod common;

use common::run_lab;
use std::cell::RefCell;
use std::rc::Rc;

/// lvs_rs.sh, verbatim from lvs-dr-packet-analysis.md §5.2.
const LVS_RS_SH: &str = r#"#/bin/bash
vip=192.168.188.120
#把vip绑定在lo上，是为了实现rs直接把结果返回给客户端
ifconfig lo:0 $vip broadcast $vip netmask 255.255.255.255 up
route add -host $vip lo:0
#以下操作为更改arp内核参数，目的是为了让rs顺利发送mac地址给客户端
#参考文档www.cnblogs.com/lgfeng/archive/2012/10/16/2726308.html
echo "1" >/proc/sys/net/ipv4/conf/lo/arp_ignore
echo "2" >/proc/sys/net/ipv4/conf/lo/arp_announce
echo "1" >/proc/sys/net/ipv4/conf/all/arp_ignore
echo "2" >/proc/sys/net/ipv4/conf/all/arp_announce
"#;

/// The RS commands of arp-and-lvs-service.txt ("RS配置" and "抑制ARP").
const ARP_AND_LVS_RS: &str = r#"ifconfig lo:0 192.168.0.204/32 up
route add -host 192.168.0.204 dev lo
route -n
echo "1" > /proc/sys/net/ipv4/conf/lo/arp_ignore
echo "2" > /proc/sys/net/ipv4/conf/lo/arp_announce
echo "2" > /proc/sys/net/ipv4/conf/all/arp_announce
echo "1" > /proc/sys/net/ipv4/conf/all/arp_ignore
"#;

fn sysctl(result: &lvsim::scenario::run::RunResult, host: &str, key: &str) -> String {
    let h = result.world.hosts.iter().find(|h| h.name == host).unwrap();
    h.sysctl_read(key).unwrap()
}

#[test]
fn lvs_rs_sh_pastes_in_unchanged() {
    let result = run_lab(&format!(
        "[lan.lan0]\n[host.rs1]\nnic.eno16777736 = {{ lan = \"lan0\", addr = \"192.168.188.107/24\" }}\nsetup = '''\n{LVS_RS_SH}'''\n"
    ));
    let rs1 = &result.world.hosts[0];
    let vip = rs1.ifaces[0]
        .addrs
        .iter()
        .find(|a| a.label == "lo:0")
        .expect("the VIP on lo:0");
    assert_eq!(vip.cidr(), "192.168.188.120/32");
    assert!(
        rs1.routes
            .routes()
            .iter()
            .any(|r| r.dst.to_string() == "192.168.188.120"
                && r.prefix_len == 32
                && r.dev == Some(0))
    );
    assert_eq!(sysctl(&result, "rs1", "net.ipv4.conf.all.arp_ignore"), "1");
    assert_eq!(
        sysctl(&result, "rs1", "net.ipv4.conf.all.arp_announce"),
        "2"
    );
    assert_eq!(sysctl(&result, "rs1", "net.ipv4.conf.lo.arp_ignore"), "1");
}

/// Collects the output lines a host's commands print.
struct Output(Rc<RefCell<Vec<String>>>);

impl lvsim::trace::Sink for Output {
    fn record(&mut self, record: &lvsim::trace::Record, _: &[String]) -> std::io::Result<()> {
        if let lvsim::trace::Record::Output { text, .. } = record {
            self.0.borrow_mut().push(text.clone());
        }
        Ok(())
    }
}

#[test]
fn the_arp_and_lvs_service_rs_commands_reproduce_the_seeds_route_listing() {
    // The seed's RS also had a default route via 192.168.0.1 and the zeroconf route CentOS
    // adds (169.254.0.0/16, metric 1002), from its ifcfg files.
    let text = format!(
        "[lan.lan0]\n[host.rs]\nnic.eth0 = {{ lan = \"lan0\", addr = \"192.168.0.202/24\" }}\nsetup = '''\nroute add default gw 192.168.0.1\nroute add -net 169.254.0.0 netmask 255.255.0.0 metric 1002 dev eth0\n{ARP_AND_LVS_RS}'''\n"
    );
    let lines = Rc::new(RefCell::new(Vec::new()));
    let scenario = lvsim::scenario::load::load("lab.toml", &text).unwrap();
    let options = lvsim::scenario::run::RunOptions {
        sinks: vec![Box::new(Output(lines.clone()))],
        ..Default::default()
    };
    lvsim::scenario::run::run(&scenario, options).unwrap();
    let printed: Vec<String> = lines
        .take()
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // The seed's listing (its column spacing was lost in publication). A 6.x kernel lists
    // /proc/net/route in trie order, by destination, where 2.6.32 listed by prefix length.
    let seed = [
        "Kernel IP routing table",
        "Destination Gateway Genmask Flags Metric Ref Use Iface",
        "0.0.0.0 192.168.0.1 0.0.0.0 UG 0 0 0 eth0",
        "169.254.0.0 0.0.0.0 255.255.0.0 U 1002 0 0 eth0",
        "192.168.0.0 0.0.0.0 255.255.255.0 U 0 0 0 eth0",
        "192.168.0.204 0.0.0.0 255.255.255.255 UH 0 0 0 lo",
    ];
    assert_eq!(printed, seed);
}
