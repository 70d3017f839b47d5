//! keepalived's VRRP against the measurements of keepalived.md §9, read back from the pcaps
//! with tshark: advert-to-advert takeover times, GARP counts and spacing, packet fields,
//! and where the client's neighbour entry for the VIP points.

mod common;

use std::path::Path;

use common::{neigh, run_lab, run_lab_with_pcap, tshark_fields};

const D1: &str = "192.168.188.108";
const D2: &str = "192.168.188.109";
const VIP: &str = "192.168.188.120";
/// Within 1 ms of the measured value and of the unrounded formula (the issue's bar).
const MS: f64 = 0.001;

/// One VRRP advert as its sender's NIC captured it.
#[derive(Debug, Clone, PartialEq)]
struct Advert {
    t: f64,
    src: String,
    prio: u32,
}

/// The adverts each director sent (captured outbound on its own NIC).
fn adverts(pcap: &Path) -> Vec<Advert> {
    tshark_fields(
        pcap,
        &[
            "frame.time_epoch",
            "frame.interface_name",
            "ip.src",
            "vrrp.prio",
        ],
    )
    .into_iter()
    .filter(|r| r.len() == 4 && !r[3].is_empty())
    .filter(|r| r[1] == format!("{}/eth0", host_of(&r[2])))
    .map(|r| Advert {
        t: r[0].parse().unwrap(),
        src: r[2].clone(),
        prio: r[3].parse().unwrap(),
    })
    .collect()
}

fn host_of(ip: &str) -> &'static str {
    match ip {
        D1 => "d1",
        D2 => "d2",
        _ => "?",
    }
}

/// Times at which `host` sent a gratuitous ARP for the VIP (captured leaving its NIC).
fn garps(pcap: &Path, host: &str) -> Vec<f64> {
    let mac = match host {
        "d1" => "00:0c:29:50:d5:63",
        _ => "00:0c:29:50:d5:64",
    };
    tshark_fields(
        pcap,
        &[
            "frame.time_epoch",
            "frame.interface_name",
            "arp.src.proto_ipv4",
            "arp.dst.proto_ipv4",
            "arp.dst.hw_mac",
            "arp.opcode",
            "arp.src.hw_mac",
        ],
    )
    .into_iter()
    .filter(|r| r.len() == 7 && r[1] == format!("{host}/eth0") && r[6] == mac)
    .filter(|r| r[2] == VIP && r[3] == VIP && r[4] == "ff:ff:ff:ff:ff:ff" && r[5] == "1")
    .map(|r| r[0].parse().unwrap())
    .collect()
}

/// The last MAC the client used to reach the VIP (the destination of its last echo request).
fn neigh_at_end(pcap: &Path) -> String {
    tshark_fields(
        pcap,
        &["frame.interface_name", "eth.dst", "ip.dst", "icmp.type"],
    )
    .into_iter()
    .rfind(|r| r.len() == 4 && r[0] == "client/eth0" && r[2] == VIP && r[3] == "8")
    .map(|r| r[1].clone())
    .expect("the client pinged the VIP")
}

/// A shipped lab with its timeline and expectations replaced by `timeline`.
fn with_timeline(lab: &str, timeline: &str) -> String {
    format!("{}{timeline}", &lab[..lab.find("[[at]]").unwrap()])
}

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pcaps")
        .join(format!("{name}.pcapng"))
}

fn first_from(adverts: &[Advert], src: &str, after: f64) -> Advert {
    adverts
        .iter()
        .find(|a| a.src == src && a.t > after && a.prio > 0)
        .unwrap_or_else(|| panic!("no advert from {src} after {after}"))
        .clone()
}

fn last_from(adverts: &[Advert], src: &str, before: f64) -> Advert {
    adverts
        .iter()
        .rev()
        .find(|a| a.src == src && a.t < before)
        .unwrap_or_else(|| panic!("no advert from {src} before {before}"))
        .clone()
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() < MS
}

/// §9 "keepalived start → own first advert": d1 (150) first advertises after its own
/// Master_Down_Interval, 3.414062 s, although it is configured `state MASTER`; §9 packet
/// formats: TTL 255, IP ID from 1, checksum correct.
#[test]
fn start_to_first_advert_is_the_master_down_interval() {
    let pcap = shipped("keepalived-failover");
    let ads = adverts(&pcap);
    assert!(close(ads[0].t, 3.414062), "{:?}", ads[0]);
    assert_eq!((ads[0].src.as_str(), ads[0].prio), (D1, 150));
    let rows = tshark_fields(
        &pcap,
        &[
            "frame.interface_name",
            "ip.ttl",
            "ip.id",
            "ip.dsfield",
            "vrrp.checksum.status",
            "frame.len",
        ],
    );
    let d1: Vec<_> = rows
        .iter()
        .filter(|r| r[0] == "d1/eth0" && r[4] == "1")
        .collect();
    assert_eq!(&d1[0][1..], ["255", "0x0001", "0xc0", "1", "54"]);
    assert_eq!(d1[1][2], "0x0002");
}

/// §9 SIGTERM row: a priority-0 advert, then d2 is MASTER after Skew_Time(100) = 0.609375 s.
#[test]
fn graceful_stop_hands_over_after_the_skew_time() {
    let ads = adverts(&shipped("keepalived-failover"));
    let bye = ads
        .iter()
        .find(|a| a.prio == 0)
        .expect("a priority-0 advert");
    assert_eq!(bye.src, D1);
    let takeover = first_from(&ads, D2, bye.t);
    assert!(
        close(takeover.t - bye.t, 0.609375),
        "{}",
        takeover.t - bye.t
    );
}

/// §9 "restart d1 after failover (preempt on)": d1's first advert 3.414 s after its start
/// at 15 s; d2 sends no advert after it.
#[test]
fn a_restarted_higher_priority_director_preempts_after_its_own_timer() {
    let ads = adverts(&shipped("keepalived-failover"));
    let back = first_from(&ads, D1, 15.0);
    assert!(close(back.t, 15.0 + 3.414062), "{}", back.t);
    assert!(ads.iter().all(|a| a.src != D2 || a.t < back.t));
}

/// §9 SIGKILL row: no priority-0 advert; d2's first advert 3.6096 s after d1's last.
#[test]
fn kill_9_hands_over_after_master_down_interval() {
    let ads = adverts(&shipped("keepalived-failover-kill"));
    assert!(ads.iter().all(|a| a.prio != 0));
    let last = last_from(&ads, D1, 8.0);
    let takeover = first_from(&ads, D2, 8.0);
    assert!(
        close(takeover.t - last.t, 3.609375),
        "{}",
        takeover.t - last.t
    );
}

/// §9 "Split brain after SIGKILL": d1 keeps answering for the VIP until d2's GARP moves the
/// client (at 11 s the client still points at d1, at 12 s at d2).
#[test]
fn after_kill_9_the_client_follows_the_new_masters_garp() {
    let pcap = shipped("keepalived-failover-kill");
    let d2 = garps(&pcap, "d2");
    assert_eq!(
        d2.iter()
            .filter(|&&t| (11.023..11.025).contains(&t))
            .count(),
        5
    );
    assert_eq!(
        d2.iter()
            .filter(|&&t| (16.023..16.025).contains(&t))
            .count(),
        5
    );
    assert_eq!(d2.len(), 10, "{d2:?}");
    assert_eq!(
        neigh_at_end(&pcap),
        "00:0c:29:50:d5:63",
        "d1 is master again at the end"
    );
}

/// §9 link down row: FAULT, the priority-0 advert never reaches the wire, d2 takes over
/// 3.6097 s after d1's last advert; link up: d1 MASTER 3.4176 s after link-up.
#[test]
fn link_down_and_up() {
    let ads = adverts(&shipped("keepalived-failover-linkdown"));
    assert!(
        ads.iter().all(|a| a.prio != 0),
        "nothing leaves a down link"
    );
    let last = last_from(&ads, D1, 8.0);
    let takeover = first_from(&ads, D2, 8.0);
    assert!(close(takeover.t - last.t, 3.609375));
    let back = first_from(&ads, D1, 15.0);
    assert!(close(back.t, 15.0 + 3.414062), "{}", back.t);
}

/// §9 "GARPs on becoming MASTER": 5 at once right after the first advert, 5 more 5 s later,
/// then none; target MAC ff:ff:ff:ff:ff:ff.
#[test]
fn garp_bursts_on_becoming_master() {
    let pcap = shipped("keepalived-failover");
    let ads = adverts(&pcap);
    let d1 = garps(&pcap, "d1");
    let in_window = |from: f64, to: f64| d1.iter().filter(|&&t| t >= from && t < to).count();
    // The first mastership ends at 8 s, before its second burst (due at 8.414 s) …
    assert_eq!(in_window(ads[0].t, ads[0].t + 0.002), 5);
    assert_eq!(in_window(ads[0].t + 0.002, 15.0), 0);
    // … the one after the restart lasts, and has both.
    let back = first_from(&ads, D1, 15.0).t;
    assert_eq!(in_window(back, back + 0.002), 5);
    assert_eq!(in_window(back + 0.002, back + 5.0), 0);
    assert_eq!(in_window(back + 5.0, back + 5.004), 5);
    assert_eq!(d1.len(), 15);
}

/// §9 symmetric partition: both MASTER; on heal d1 (150) answers d2's advert at once with
/// its own advert and 5 GARPs, and d2 sends nothing more.
#[test]
fn healing_a_partition_the_higher_priority_master_reasserts_itself() {
    let pcap = shipped("keepalived-split-brain");
    let ads = adverts(&pcap);
    let d2_master = first_from(&ads, D2, 8.0);
    assert!(close(d2_master.t - last_from(&ads, D1, 8.0).t, 3.609375));
    let d2_after_heal = first_from(&ads, D2, 15.0);
    let answer = first_from(&ads, D1, d2_after_heal.t - 1e-9);
    assert!(answer.t - d2_after_heal.t < 0.0001 + 0.00005, "{answer:?}");
    let burst = garps(&pcap, "d1")
        .into_iter()
        .filter(|&t| t >= answer.t && t < answer.t + 0.002)
        .count();
    assert_eq!(burst, 5);
    assert!(ads.iter().all(|a| a.src != D2 || a.t <= d2_after_heal.t));
}

/// The same scenario + seed gives the same takeover: the client's entry for the VIP is on
/// d2 while d2 is master and back on d1 at the end (a lab built here, with VRRPv3 at 0.5 s).
#[test]
fn vrrp_v3_half_second_adverts_and_master_down() {
    let lab = include_str!("../scenarios/keepalived-failover.toml")
        .replace("    advert_int 1\n", "    advert_int 0.5\n")
        .replace("global_defs {\n", "global_defs {\n    vrrp_version 3\n")
        .replace(
            "    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }\n",
            "",
        );
    let dir = tempfile::tempdir().unwrap();
    let (result, pcap) = run_lab_with_pcap(&lab, dir.path());
    let ads = adverts(&pcap);
    // (256 − 150) × 0.5 / 256 + 3 × 0.5 = 1.707031 s
    assert!(close(ads[0].t, 1.707031), "{:?}", ads[0]);
    assert!(close(ads[1].t - ads[0].t, 0.5));
    let rows = tshark_fields(
        &pcap,
        &["vrrp.version", "vrrp.short_adver_int", "frame.len"],
    );
    let v3 = rows.iter().find(|r| r[0] == "3").expect("a v3 advert");
    assert_eq!((v3[1].as_str(), v3[2].as_str()), ("50", "46"));
    let bye = ads.iter().find(|a| a.prio == 0).unwrap();
    let takeover = first_from(&ads, D2, bye.t);
    // The skew on a priority-0 advert is (256 − 100) × 0.5 / 256 for v3 too (§9).
    assert!(
        close(takeover.t - bye.t, 0.304687),
        "{}",
        takeover.t - bye.t
    );
    assert_eq!(
        neigh(&result, "client", VIP).unwrap().0.as_deref(),
        Some("00:0c:29:50:d5:63")
    );
}

/// §9 nopreempt: with both BACKUP and nopreempt on d1, d2 (started first) stays master.
#[test]
fn nopreempt_keeps_the_current_master() {
    let lab = include_str!("../scenarios/keepalived-failover.toml")
        .replace("    state MASTER\n", "    state BACKUP\n    nopreempt\n")
        .replace(
            "[host.d1]",
            "[[at]]\ntime = \"2s\"\nhost = \"d1\"\nrun = \"systemctl start keepalived\"\n\n[host.d1]",
        )
        .replacen("setup = \"systemctl start keepalived\"\n", "", 1);
    let dir = tempfile::tempdir().unwrap();
    let (_, pcap) = run_lab_with_pcap(&lab, dir.path());
    let ads = adverts(&pcap);
    assert!(close(ads[0].t, 3.609375), "{:?}", ads[0]);
    assert_eq!(ads[0].src, D2);
    assert!(ads.iter().all(|a| a.src == D2), "{ads:?}");
}

/// The failover lab with a vrrp_script on d1 (`killall -0 nginx`, `weight`), nginx running
/// on d1 and stopped at 8 s.
fn tracked_script_lab(weight: i32) -> String {
    let script = format!(
        "vrrp_script chk_nginx {{\n    script \"killall -0 nginx\"\n    interval 1\n    fall 2\n    rise 1\n    weight {weight}\n}}\nvrrp_instance VI_1 {{\n    track_script {{\n        chk_nginx\n    }}\n"
    );
    include_str!("../scenarios/keepalived-failover.toml")
        .replacen("vrrp_instance VI_1 {\n", &script, 1)
        .replacen(
            "setup = \"systemctl start keepalived\"",
            "setup = \"systemctl start nginx\\nsystemctl start keepalived\"",
            1,
        )
        .replace(
            "run = \"systemctl stop keepalived\"",
            "run = \"systemctl stop nginx\"",
        )
        .replace(
            "run = \"systemctl start keepalived\"",
            "run = \"systemctl start nginx\"",
        )
}

/// §3 vrrp_script: a negative weight lowers the priority while the script fails (after
/// `fall` failures); d1's adverts at 90 lose to d2's 100, which takes over after its own
/// master-down interval; when nginx is back (15 s) d1 is 150 again: d2's adverts no longer
/// reset its timer, and it preempts Master_Down_Interval(150) after the last one that did.
#[test]
fn a_failing_tracked_script_lowers_the_priority_and_hands_over() {
    let dir = tempfile::tempdir().unwrap();
    let (result, pcap) = run_lab_with_pcap(&tracked_script_lab(-60), dir.path());
    let ads = adverts(&pcap);
    let lowered = ads
        .iter()
        .find(|a| a.src == D1 && a.prio == 90)
        .expect("d1 at 90");
    assert!(lowered.t > 9.0 && lowered.t < 11.0, "{lowered:?}");
    let last_150 = last_from(&ads, D1, lowered.t);
    assert_eq!(last_150.prio, 150);
    let takeover = first_from(&ads, D2, 8.0);
    assert!(
        close(takeover.t - last_150.t, 3.609375),
        "{}",
        takeover.t - last_150.t
    );
    let back = ads
        .iter()
        .find(|a| a.src == D1 && a.prio == 150 && a.t > 15.0)
        .unwrap();
    let last_reset = ads
        .iter()
        .rev()
        .find(|a| a.src == D2 && a.t < 15.0)
        .unwrap();
    let last_reset_bound = last_reset.t + 1.0 + 3.414062;
    assert!(
        back.t > 15.0 + 2.414 && back.t < last_reset_bound,
        "{back:?}"
    );
    let d1 = result.world.hosts.iter().find(|h| h.name == "d1").unwrap();
    assert_eq!(d1.keepalived.records["VI_1"].state.name(), "MASTER");
}

/// §3: a weight-0 script that fails puts the instance in FAULT (VIP removed, a priority-0
/// advert from the master), and out of FAULT after `rise` successes.
#[test]
fn a_failing_weight_zero_script_means_fault() {
    let result = run_lab(&tracked_script_lab(0).replace("until = \"25s\"", "until = \"12s\""));
    let d1 = result.world.hosts.iter().find(|h| h.name == "d1").unwrap();
    let record = &d1.keepalived.records["VI_1"];
    assert_eq!(record.state.name(), "FAULT");
    let fault = record.transitions.last().unwrap();
    assert!(
        fault.reason.contains("script chk_nginx failed"),
        "{fault:?}"
    );
    assert!(!d1.ifaces.iter().any(|i| i.has_addr(VIP.parse().unwrap())));
}

/// Two directors with two LANs and a VRRP instance on each, in one vrrp_sync_group.
fn sync_group_lab() -> String {
    let director = |name: &str, mac: u8, priority: u8| {
        format!(
            r#"[host.{name}]
nic.eth0 = {{ lan = "front", mac = "00:0c:29:00:00:{mac:02x}", addr = "192.168.188.{mac}/24" }}
nic.eth1 = {{ lan = "back", mac = "00:0c:29:00:01:{mac:02x}", addr = "10.0.0.{mac}/24" }}
setup = "systemctl start keepalived"
keepalived = """
vrrp_sync_group G1 {{
    group {{
        VI_FRONT
        VI_BACK
    }}
}}
vrrp_instance VI_FRONT {{
    interface eth0
    virtual_router_id 51
    priority {priority}
    virtual_ipaddress {{
        192.168.188.120/24
    }}
}}
vrrp_instance VI_BACK {{
    interface eth1
    virtual_router_id 52
    priority {priority}
    virtual_ipaddress {{
        10.0.0.254/24
    }}
}}
"""
"#
        )
    };
    format!(
        "seed = 1\nuntil = \"14s\"\n[lan.front]\n[lan.back]\n{}{}\n[[at]]\ntime = \"8s\"\nhost = \"d1\"\nrun = \"ip link set eth1 down\"\n",
        director("d1", 108, 150),
        director("d2", 109, 100)
    )
}

/// §3 vrrp_sync_group: the back link of d1 fails, so VI_BACK goes to FAULT and pulls
/// VI_FRONT with it (priority-0 advert on the front LAN); on d2 VI_FRONT takes over after
/// its skew time and pulls VI_BACK to MASTER at the same instant.
#[test]
fn a_sync_group_moves_its_members_together() {
    let result = run_lab(&sync_group_lab());
    let host = |name: &str| result.world.hosts.iter().find(|h| h.name == name).unwrap();
    let state = |h: &str, i: &str| host(h).keepalived.records[i].state.name();
    assert_eq!(
        (state("d1", "VI_FRONT"), state("d1", "VI_BACK")),
        ("FAULT", "FAULT")
    );
    assert_eq!(
        (state("d2", "VI_FRONT"), state("d2", "VI_BACK")),
        ("MASTER", "MASTER")
    );
    let became_master = |i: &str| {
        host("d2").keepalived.records[i]
            .transitions
            .iter()
            .find(|t| t.to.name() == "MASTER")
            .unwrap()
            .t
            .ns()
    };
    assert_eq!(became_master("VI_FRONT"), became_master("VI_BACK"));
    let front = became_master("VI_FRONT") as f64 / 1e9;
    assert!(close(front - 8.0, 0.609375), "{front}");
}

/// §3/§6 unicast_peer: adverts go to each peer's address (its MAC, TTL 255) instead of the
/// group; the election and the takeover after a graceful stop are the same.
#[test]
fn unicast_peers_get_the_adverts_directly() {
    let peers = |own: &str, peer: &str| {
        format!(
            "    unicast_src_ip {own}\n    unicast_peer {{\n        {peer}\n    }}\n    virtual_ipaddress {{\n"
        )
    };
    let text = include_str!("../scenarios/keepalived-failover.toml");
    let (d1_part, d2_part) = text.split_at(text.find("[host.d2]").unwrap());
    let lab = d1_part.replacen("    virtual_ipaddress {\n", &peers(D1, D2), 1)
        + &d2_part.replacen("    virtual_ipaddress {\n", &peers(D2, D1), 1);
    let dir = tempfile::tempdir().unwrap();
    let (_, pcap) = run_lab_with_pcap(&lab, dir.path());
    let rows = tshark_fields(
        &pcap,
        &[
            "frame.interface_name",
            "ip.src",
            "ip.dst",
            "eth.dst",
            "ip.ttl",
            "vrrp.prio",
        ],
    );
    let sent: Vec<_> = rows
        .iter()
        .filter(|r| r[0] == "d1/eth0" && r[1] == D1 && !r[5].is_empty())
        .collect();
    assert!(!sent.is_empty());
    assert!(
        sent.iter()
            .all(|r| r[2] == D2 && r[3] == "00:0c:29:50:d5:64" && r[4] == "255"),
        "{sent:?}"
    );
    let ads = adverts(&pcap);
    assert!(close(ads[0].t, 3.414062), "{:?}", ads[0]);
    let bye = ads.iter().find(|a| a.prio == 0).unwrap();
    assert!(close(first_from(&ads, D2, bye.t).t - bye.t, 0.609375));
}

/// §2/§3 GARP settings: `garp_master_delay 0` drops the second burst, `garp_master_refresh 2`
/// sends `garp_master_refresh_repeat` GARPs every 2 s while MASTER, `garp_master_repeat 2`
/// makes the burst two GARPs.
#[test]
fn garp_delay_refresh_and_repeat_settings() {
    let lab = include_str!("../scenarios/keepalived-failover.toml").replacen(
        "    advert_int 1\n",
        "    advert_int 1\n    garp_master_delay 0\n    garp_master_refresh 2\n    garp_master_repeat 2\n",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, pcap) = run_lab_with_pcap(&lab, dir.path());
    let d1 = garps(&pcap, "d1");
    let first = 3.414062;
    let at = |t: f64| d1.iter().filter(|&&g| (g - t).abs() < 0.002).count();
    assert_eq!(at(first), 2, "{d1:?}");
    assert_eq!((at(first + 2.0), at(first + 4.0)), (1, 1), "{d1:?}");
    assert_eq!(
        at(first + 5.0),
        0,
        "no second burst with garp_master_delay 0"
    );
    assert!(
        d1.iter().all(|&t| !(8.0..=15.0).contains(&t)),
        "no refresh after the stop: {d1:?}"
    );
}

/// A LAN partition (`[[at]] partition`) between the directors: d2 takes over 3.609 s after
/// the last advert it heard, both hold the VIP (the split-brain conflict is reported on d1),
/// and after `heal` d1 (150) answers d2's advert and d2 yields.
#[test]
fn a_lan_partition_makes_two_masters_until_it_heals() {
    let lab = with_timeline(
        include_str!("../scenarios/keepalived-split-brain.toml"),
        "[[at]]\ntime = \"8s\"\npartition = { lan = \"lan0\", groups = [[\"d1\"], [\"client\", \"d2\", \"rs1\", \"rs2\"]] }\n\n[[at]]\ntime = \"15s\"\nheal = { lan = \"lan0\" }\n",
    );
    let result = run_lab(&lab);
    let host = |name: &str| result.world.hosts.iter().find(|h| h.name == name).unwrap();
    let d2 = &host("d2").keepalived.records["VI_1"];
    let takeover = d2
        .transitions
        .iter()
        .find(|t| t.to.name() == "MASTER")
        .unwrap();
    assert!(
        close(takeover.t.ns() as f64 / 1e9 - 7.414062, 3.609375),
        "{takeover:?}"
    );
    assert_eq!(d2.state.name(), "BACKUP");
    assert_eq!(host("d1").keepalived.records["VI_1"].state.name(), "MASTER");
    assert!(
        result
            .world
            .trace
            .warnings
            .iter()
            .any(|w| w.kind == "arp-conflict"
                && w.host == "d1"
                && w.detail.contains("split brain"))
    );
}

/// `systemctl reload keepalived` (SIGHUP) re-reads the configuration: a MASTER stays MASTER
/// and keeps advertising every second; `restart` is stop (priority 0, VIP removed) then a
/// fresh start (BACKUP, master-down interval, IP IDs from 1 again).
#[test]
fn reload_keeps_the_state_and_restart_starts_afresh() {
    let lab = with_timeline(
        include_str!("../scenarios/keepalived-failover.toml"),
        "[[at]]\ntime = \"5s\"\nhost = \"d1\"\nrun = \"systemctl reload keepalived\"\n\n[[at]]\ntime = \"10s\"\nhost = \"d1\"\nrun = \"systemctl restart keepalived\"\n",
    )
    .replace("until = \"25s\"", "until = \"16s\"");
    let dir = tempfile::tempdir().unwrap();
    let (result, pcap) = run_lab_with_pcap(&lab, dir.path());
    let ads = adverts(&pcap);
    let d1: Vec<&Advert> = ads.iter().filter(|a| a.src == D1).collect();
    let before_restart: Vec<f64> = d1.iter().filter(|a| a.t < 10.0).map(|a| a.t).collect();
    assert!(
        before_restart.windows(2).all(|w| close(w[1] - w[0], 1.0)),
        "reload did not disturb the advert rhythm: {before_restart:?}"
    );
    let bye = d1
        .iter()
        .find(|a| a.prio == 0)
        .expect("restart stops first");
    assert!(close(bye.t, 10.0));
    let back = first_from(&ads, D1, 10.0);
    assert!(close(back.t, 10.0 + 3.414062), "{back:?}");
    let record = &result
        .world
        .hosts
        .iter()
        .find(|h| h.name == "d1")
        .unwrap()
        .keepalived
        .records["VI_1"];
    let states: Vec<&str> = record.transitions.iter().map(|t| t.to.name()).collect();
    assert_eq!(states, ["BACKUP", "MASTER", "STOP", "BACKUP", "MASTER"]);
    let ids = tshark_fields(
        &pcap,
        &["frame.interface_name", "ip.src", "ip.id", "vrrp.prio"],
    );
    let restarted: Vec<&Vec<String>> = ids
        .iter()
        .filter(|r| r[0] == "d1/eth0" && r[1] == D1 && !r[3].is_empty())
        .collect();
    let goodbye = restarted.iter().position(|r| r[3] == "0").unwrap();
    let first_after = restarted.get(goodbye + 1);
    assert_eq!(
        first_after.map(|r| r[2].as_str()),
        Some("0x0001"),
        "a fresh process counts IP IDs from 1"
    );
}
