//! linux-arp.md §4 "arp_ignore=2" (every row of the table) and §5 "VIP moves dir → dir2
//! without GARP" (the whole sequence and its timing, checked against the model rules'
//! neighbour timers with the `reachable_time` the simulator drew from the scenario seed).

mod common;

use std::cell::RefCell;
use std::io;
use std::net::Ipv4Addr;
use std::rc::Rc;

use common::{ArpLab, DIR_MAC, VIP, arp_repliers, neigh, run_lab};
use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions, RunResult};
use lvsim::trace::{Capture, Direction, Record, Sink};
use lvsim::wire::arp::ArpRepr;
use lvsim::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthHeader};
use lvsim::wire::ipv4;

// ----- §4 arp_ignore=2 -------------------------------------------------------------------

const CLIENT_IP: &str = "192.168.188.111";
const RS1_RIP: &str = "192.168.188.107";
/// The client's second address (10.9.9.9/24 on eth0), outside every server's subnet.
const OFF_SUBNET: &str = "10.9.9.9";

/// A cell of the table: the host sent a reply to that requester, sent none, or "–" (not
/// measured, so not checked).
const REPLY: Option<bool> = Some(true);
const NONE: Option<bool> = Some(false);
const NOT_MEASURED: Option<bool> = None;

fn arp_ignore(conf: &str, value: u8) -> String {
    format!("sysctl -w net.ipv4.conf.{conf}.arp_ignore={value}")
}

/// §4's lab: the client also holds 10.9.9.9/24 on eth0 and, at 1 s, asks who-has `target`
/// with `arping -s requester` (the requester is one of its two addresses).
fn ask(rs_setup: &str, dir_setup: &str, target: &str, requester: &str) -> RunResult {
    ArpLab::new(rs_setup)
        .dir(dir_setup)
        .client(&format!("ip addr add {OFF_SUBNET}/24 dev eth0"))
        .at(
            "1s",
            "client",
            &format!("arping -c 1 -I eth0 -s {requester} {target}"),
        )
        .run()
}

/// Checks one row: `responder` (the host the row is about) answering who-has `target` from
/// the in-subnet requester .111 and from 10.9.9.9.
fn check_row(
    rs_setup: &str,
    dir_setup: &str,
    responder: &str,
    target: &str,
    in_subnet: Option<bool>,
    off_subnet: Option<bool>,
) {
    for (requester, cell) in [(CLIENT_IP, in_subnet), (OFF_SUBNET, off_subnet)] {
        let Some(expected) = cell else { continue };
        // One request per run, so every reply claiming the target answers this requester.
        let result = ask(rs_setup, dir_setup, target, requester);
        assert_eq!(
            arp_repliers(&result, target).contains(&responder.to_owned()),
            expected,
            "{responder} replies to who-has {target} tell {requester} (rs: `{rs_setup}`, dir: `{dir_setup}`)"
        );
    }
}

/// Row "rs1 RIP .107, arp_ignore 0": reply | reply.
#[test]
fn s4_row_rs1_rip_arp_ignore_0_replies_to_both_requesters() {
    check_row("", "", "rs1", RS1_RIP, REPLY, REPLY);
}

/// Row "rs1 RIP, arp_ignore 1": reply | reply (the RIP is on eth0, where the request arrives).
#[test]
fn s4_row_rs1_rip_arp_ignore_1_replies_to_both_requesters() {
    for conf in ["all", "eth0"] {
        check_row(&arp_ignore(conf, 1), "", "rs1", RS1_RIP, REPLY, REPLY);
    }
}

/// Row "rs1 RIP, arp_ignore 2": reply | **none** (no prefix on eth0 holds .107 and 10.9.9.9).
#[test]
fn s4_row_rs1_rip_arp_ignore_2_ignores_the_off_subnet_requester() {
    for conf in ["all", "eth0"] {
        check_row(&arp_ignore(conf, 2), "", "rs1", RS1_RIP, REPLY, NONE);
    }
}

/// Row "rs1 RIP, arp_ignore 0 + rp_filter=1 (no route back to 10.9.9.0/24)": – | **none**.
#[test]
fn s4_row_rs1_rip_rp_filter_1_without_route_back_does_not_reply() {
    check_row(
        "sysctl -w net.ipv4.conf.all.rp_filter=1",
        "",
        "rs1",
        RS1_RIP,
        NOT_MEASURED,
        NONE,
    );
}

/// Row "dir VIP (/32 on eth0 beside .108/24), arp_ignore 2": reply | none. The VIP's own
/// prefix is a /32, but .108/24 on the same NIC holds both the VIP and .111.
#[test]
fn s4_row_dir_vip_arp_ignore_2_replies_only_in_subnet() {
    for conf in ["all", "eth0"] {
        check_row("", &arp_ignore(conf, 2), "dir", VIP, REPLY, NONE);
    }
}

/// Row "RS VIP on lo, arp_ignore 2": none (only dir answers) | –.
#[test]
fn s4_row_rs_vip_on_lo_arp_ignore_2_only_dir_answers() {
    for conf in ["all", "eth0"] {
        let setup = arp_ignore(conf, 2);
        check_row(&setup, "", "rs1", VIP, NONE, NOT_MEASURED);
        check_row(&setup, "", "rs2", VIP, NONE, NOT_MEASURED);
        check_row(&setup, "", "dir", VIP, REPLY, NOT_MEASURED);
    }
}

// ----- §5 VIP moves dir → dir2 without GARP ------------------------------------------------

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000 * MS;
const DIR2_MAC: &str = "00:0c:29:50:d5:64";
const BROADCAST: &str = "ff:ff:ff:ff:ff:ff";
/// The client pings the VIP every 0.7 s from 1 s on; the first ping resolves and confirms
/// the entry a round trip after 1 s.
const PING_START: u64 = SECOND;
const PING_INTERVAL: u64 = 700 * MS;
/// The VIP moves 1.02 s after the entry was confirmed, as in the measured run.
const MOVE_AT: u64 = 2_020 * MS;
/// Past the latest possible recovery: 1 s + 45 s (longest reachable_time) + 2 s slack +
/// 0.7 s + 5 s + 3 s + 0.7 s.
const END: u64 = 60 * SECOND;
/// The model's bounds: timer-wheel slack on the REACHABLE timer, DELAY, the three probes.
const MAX_SLACK: u64 = 2 * SECOND;
const DELAY_FIRST_PROBE: u64 = 5 * SECOND;
const RETRANS: u64 = SECOND;
const UCAST_PROBES: u64 = 3;
/// Seeds giving different reachable_time draws: the sequence must hold for any of them.
const SEEDS: [u64; 3] = [1, 2, 3];

/// client, dir (the VIP on eth0 as eth0:2) and dir2 (which has no VIP yet) on one LAN; the
/// client pings the VIP; at 2.02 s the VIP leaves dir and appears on dir2, with no GARP.
fn move_lab(seed: u64, until_ns: u64) -> String {
    format!(
        r#"title = "linux-arp.md §5: VIP moves dir -> dir2 without GARP"
seed = {seed}
until = "{until_ns}ns"

[lan.lan0]
latency = "20us"

[host.client]
nic.eth0 = {{ lan = "lan0", mac = "{client_mac}", addr = "{CLIENT_IP}/24" }}

[host.dir]
nic.eth0 = {{ lan = "lan0", mac = "{DIR_MAC}", addr = "192.168.188.108/24" }}
setup = "ip addr add {VIP}/32 dev eth0 label eth0:2"

[host.dir2]
nic.eth0 = {{ lan = "lan0", mac = "{DIR2_MAC}", addr = "192.168.188.109/24" }}

[[at]]
time = "{PING_START}ns"
host = "client"
run = "ping -i 0.7 {VIP}"

[[at]]
time = "{MOVE_AT}ns"
host = "dir"
run = "ip addr del {VIP}/32 dev eth0"

[[at]]
time = "{MOVE_AT}ns"
host = "dir2"
run = "ip addr add {VIP}/32 dev eth0"
"#,
        client_mac = common::CLIENT_MAC,
    )
}

/// The client's entry for the VIP as (mac, state) right after the events due at `t`.
fn entry_at(seed: u64, t: u64) -> (Option<String>, String) {
    let result = run_lab(&move_lab(seed, t));
    neigh(&result, "client", VIP).unwrap_or_else(|| panic!("no entry for the VIP at {t} ns"))
}

fn entry(mac: Option<&str>, state: &str) -> (Option<String>, String) {
    (mac.map(str::to_owned), state.to_owned())
}

/// Keeps every frame the hosts' NICs saw.
struct Captures(Rc<RefCell<Vec<Capture>>>);

impl Sink for Captures {
    fn record(&mut self, record: &Record, _hosts: &[String]) -> io::Result<()> {
        if let Record::Capture(c) = record {
            self.0.borrow_mut().push(c.clone());
        }
        Ok(())
    }

    fn wants_output(&self) -> bool {
        false
    }
}

/// A frame the client sent or received, decoded.
struct Frame {
    t: u64,
    out: bool,
    eth: EthHeader,
    arp: Option<ArpRepr>,
    /// (source, destination) of an IPv4 datagram.
    ip: Option<(Ipv4Addr, Ipv4Addr)>,
}

/// Runs the lab to `END`, keeping the frames the client's eth0 saw.
fn run_capturing(seed: u64) -> (RunResult, Vec<Frame>) {
    let scenario = load("move.toml", &move_lab(seed, END)).unwrap_or_else(|e| panic!("{e}"));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let options = RunOptions {
        sinks: vec![Box::new(Captures(seen.clone()))],
        ..RunOptions::default()
    };
    let result = run::run(&scenario, options).unwrap_or_else(|e| panic!("{e}"));
    let client = result.world.host_id("client").expect("client exists");
    let frames = seen
        .borrow()
        .iter()
        .filter(|c| c.host == client)
        .map(|c| {
            let eth = EthHeader::parse(&c.frame).expect("Ethernet frame");
            let payload = &c.frame[ETH_HEADER_LEN..];
            Frame {
                t: c.t.ns(),
                out: c.dir == Direction::Out,
                eth,
                arp: (eth.ethertype == ETHERTYPE_ARP)
                    .then(|| ArpRepr::parse(payload).expect("ARP")),
                ip: (eth.ethertype == ETHERTYPE_IPV4)
                    .then(|| ipv4::parse(payload).expect("IPv4"))
                    .map(|i| (i.src, i.dst)),
            }
        })
        .collect();
    (result, frames)
}

fn vip() -> Ipv4Addr {
    VIP.parse().unwrap()
}

/// What the client's captures say about the run, with times in ns.
struct Observed {
    /// The client's randomised reachable_time on eth0, drawn from the seed (re-drawn only
    /// every 300 s, so the value at the end of the run is the one in force throughout).
    reachable_time: u64,
    /// When dir's reply to the first ping reached the client (REACHABLE from then on).
    confirmed: u64,
    /// When the client's pings left, and to which MAC.
    pings: Vec<(u64, String)>,
    /// The client's who-has VIP after the first resolution, up to the first broadcast (the
    /// new resolution; later ones re-probe dir2): (time, Ethernet destination, sender).
    requests: Vec<(u64, String, Ipv4Addr)>,
    /// Echo replies the client received: (time, Ethernet source).
    echo_replies: Vec<(u64, String)>,
}

fn observe(result: &RunResult, frames: &[Frame]) -> Observed {
    let client = &result.world.hosts[result.world.host_id("client").unwrap()];
    let eth0 = client.iface_index("eth0").expect("client has eth0");
    let confirmed = frames
        .iter()
        .find(|f| !f.out && f.arp.is_some_and(|a| a.is_reply() && a.spa == vip()))
        .expect("the first ping resolved the VIP")
        .t;
    let ip_frames = |out: bool, src: Ipv4Addr, dst: Ipv4Addr| {
        frames
            .iter()
            .filter(move |f| f.out == out && f.ip == Some((src, dst)))
    };
    let client_ip: Ipv4Addr = CLIENT_IP.parse().unwrap();
    let mut requests: Vec<(u64, String, Ipv4Addr)> = frames
        .iter()
        .filter(|f| f.out && f.t > confirmed)
        .filter_map(|f| {
            f.arp
                .filter(|a| a.is_request() && a.tpa == vip())
                .map(|a| (f, a))
        })
        .map(|(f, a)| (f.t, f.eth.dst.to_string(), a.spa))
        .collect();
    if let Some(first_broadcast) = requests.iter().position(|r| r.1 == BROADCAST) {
        requests.truncate(first_broadcast + 1);
    }
    Observed {
        reachable_time: client.ifaces[eth0].reachable_time_ns,
        confirmed,
        pings: ip_frames(true, client_ip, vip())
            .map(|f| (f.t, f.eth.dst.to_string()))
            .collect(),
        requests,
        echo_replies: ip_frames(false, vip(), client_ip)
            .map(|f| (f.t, f.eth.src.to_string()))
            .collect(),
    }
}

/// The first instant (to 1 ms) in (`lo`, `hi`] at which `holds` is true, given that it is
/// false at `lo` and true at `hi`.
fn first_instant(mut lo: u64, mut hi: u64, holds: impl Fn(u64) -> bool) -> u64 {
    while hi - lo > MS {
        let mid = lo + (hi - lo) / 2;
        if holds(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The instants of the sequence, derived from the captures and checked against the model.
struct Sequence {
    stale: u64,
    delay: u64,
    probe: u64,
    failed: u64,
    resolve: u64,
}

/// Derives the instants: PROBE is when the first unicast probe left, DELAY 5 s before it,
/// FAILED 1 s after the 3rd probe, the new resolution the broadcast after that; STALE is
/// found by stepping the run to instants between reachable_time and DELAY.
fn sequence(seed: u64, o: &Observed) -> Sequence {
    assert_eq!(
        o.requests.len(),
        UCAST_PROBES as usize + 1,
        "after the first resolution the client asks who-has VIP exactly 3 times unicast, then once broadcast: {:?}",
        o.requests
    );
    let probe = o.requests[0].0;
    let delay = probe - DELAY_FIRST_PROBE;
    let failed = o.requests[UCAST_PROBES as usize - 1].0 + RETRANS;
    let resolve = o.requests[UCAST_PROBES as usize].0;
    let expiry = o.confirmed + o.reachable_time;
    let stale = first_instant(expiry - 1, delay - 1, |t| {
        entry_at(seed, t).1 != "REACHABLE"
    });
    Sequence {
        stale,
        delay,
        probe,
        failed,
        resolve,
    }
}

/// One seed's run to `END`: the result, what the client saw, and the derived instants.
fn move_run(seed: u64) -> (RunResult, Observed, Sequence) {
    let (result, frames) = run_capturing(seed);
    let observed = observe(&result, &frames);
    let instants = sequence(seed, &observed);
    (result, observed, instants)
}

/// The first instant at or after `t` at which ping sends (its schedule, not the captures: a
/// ping that meets an unresolved entry waits in the queue and leaves later).
fn next_ping(t: u64) -> u64 {
    PING_START + t.saturating_sub(PING_START).div_ceil(PING_INTERVAL) * PING_INTERVAL
}

/// Model rules, neighbour timers: "REACHABLE lasts reachable_time from the last
/// confirmation. Traffic does not extend it. On expiry the entry goes to STALE"; §5 rows
/// "0 → 34.73 s REACHABLE on dir's MAC, every ping goes to the old MAC and is lost" and
/// "34.73 s STALE: reachable_time plus slack (≤ 2 s)".
#[test]
fn s5_reachable_until_reachable_time_despite_pings_then_stale() {
    for seed in SEEDS {
        let (_, o, s) = move_run(seed);
        assert!(
            (15 * SECOND..=45 * SECOND).contains(&o.reachable_time),
            "seed {seed}: reachable_time {} ns is drawn in [15, 45] s",
            o.reachable_time
        );
        let expiry = o.confirmed + o.reachable_time;
        let dir = entry(Some(DIR_MAC), "REACHABLE");
        assert_eq!(
            entry_at(seed, MOVE_AT + MS),
            dir,
            "seed {seed}: after the move"
        );
        assert_eq!(
            entry_at(seed, expiry - 1),
            dir,
            "seed {seed}: just before reachable_time ends"
        );
        let pings_while_reachable = o
            .pings
            .iter()
            .filter(|(t, _)| *t > MOVE_AT && *t < expiry)
            .count();
        assert!(
            pings_while_reachable as u64 >= (o.reachable_time - 2 * SECOND) / PING_INTERVAL,
            "seed {seed}: the client kept pinging while REACHABLE ({pings_while_reachable} pings)"
        );
        assert!(
            (expiry..=expiry + MAX_SLACK).contains(&s.stale),
            "seed {seed}: STALE at {} ns, expected reachable_time end {expiry} ns + slack ≤ 2 s",
            s.stale
        );
        assert_eq!(entry_at(seed, s.stale), entry(Some(DIR_MAC), "STALE"));
    }
}

/// §5 rows "35.36 s DELAY, at the next packet" and "40.52 s PROBE: DELAY lasts 5 s"; model
/// rules "The next packet moves it to DELAY for 5 s ... otherwise it goes to PROBE".
#[test]
fn s5_stale_until_the_next_ping_then_delay_for_5_s_then_probe() {
    for seed in SEEDS {
        let (_, _, s) = move_run(seed);
        assert_eq!(
            s.delay,
            next_ping(s.stale),
            "seed {seed}: DELAY starts with the first ping after STALE"
        );
        assert_eq!(entry_at(seed, s.delay - 1), entry(Some(DIR_MAC), "STALE"));
        assert_eq!(entry_at(seed, s.delay), entry(Some(DIR_MAC), "DELAY"));
        assert_eq!(
            entry_at(seed, s.probe - 1),
            entry(Some(DIR_MAC), "DELAY"),
            "seed {seed}: DELAY lasts 5 s"
        );
        assert_eq!(entry_at(seed, s.probe), entry(Some(DIR_MAC), "PROBE"));
    }
}

/// §5 row "PROBE: unicast who-has VIP goes to dir's old MAC at 40.52, 41.54 and 42.56 s";
/// model rules "PROBE sends 3 unicast probes to the cached MAC at 1 s intervals" and the
/// re-probes carry the interface's own address (.111).
#[test]
fn s5_probe_sends_three_unicast_probes_to_the_old_mac_one_second_apart() {
    for seed in SEEDS {
        let (_, o, s) = move_run(seed);
        let client_ip: Ipv4Addr = CLIENT_IP.parse().unwrap();
        let expected: Vec<(u64, String, Ipv4Addr)> = (0..UCAST_PROBES)
            .map(|i| (s.probe + i * RETRANS, DIR_MAC.to_owned(), client_ip))
            .collect();
        assert_eq!(
            o.requests[..UCAST_PROBES as usize],
            expected[..],
            "seed {seed}: the probes"
        );
    }
}

/// §5 rows "43.59 s FAILED, about 1 s after the 3rd probe" and "43.78 s the next ping
/// triggers INCOMPLETE and a broadcast request. dir2 answers, and the entry is
/// dir2/REACHABLE"; model rules "FAILED 1 s after the last", "The next packet sends a
/// broadcast and the entry becomes INCOMPLETE".
#[test]
fn s5_failed_then_the_next_ping_broadcasts_and_dir2_answers() {
    for seed in SEEDS {
        let (result, o, s) = move_run(seed);
        assert_eq!(entry_at(seed, s.failed - 1), entry(Some(DIR_MAC), "PROBE"));
        assert_eq!(entry_at(seed, s.failed), entry(None, "FAILED"));
        assert_eq!(
            s.resolve,
            next_ping(s.failed),
            "seed {seed}: the first ping after FAILED resolves again"
        );
        let broadcast = &o.requests[UCAST_PROBES as usize];
        assert_eq!(broadcast.1, BROADCAST, "seed {seed}: a broadcast");
        assert_eq!(entry_at(seed, s.resolve - 1), entry(None, "FAILED"));
        assert_eq!(entry_at(seed, s.resolve), entry(None, "INCOMPLETE"));
        let dir2 = entry(Some(DIR2_MAC), "REACHABLE");
        assert_eq!(
            entry_at(seed, s.resolve + MS),
            dir2,
            "seed {seed}: dir2 answered"
        );
        assert_eq!(neigh(&result, "client", VIP), Some(dir2));
    }
}

/// Model rules "In DELAY and PROBE, packets still go to the old MAC"; §5 "Every ping goes to
/// the old MAC and is lost": from the move to the new resolution every ping is sent to dir's
/// MAC and none is answered.
#[test]
fn s5_every_ping_until_the_new_resolution_goes_to_the_old_mac_and_is_lost() {
    for seed in SEEDS {
        let (_, o, s) = move_run(seed);
        let lost: Vec<&(u64, String)> = o
            .pings
            .iter()
            .filter(|(t, _)| *t > MOVE_AT && *t < s.resolve)
            .collect();
        assert!(!lost.is_empty());
        assert!(
            lost.iter().all(|(_, mac)| mac == DIR_MAC),
            "seed {seed}: pings to {lost:?}"
        );
        let answered_in_outage = o
            .echo_replies
            .iter()
            .filter(|(t, _)| *t > MOVE_AT && *t < s.resolve)
            .count();
        assert_eq!(answered_in_outage, 0, "seed {seed}: no ping is answered");
    }
}

/// §5 "the outage lasts about reachable_time (15–45 s) + slack (≤ 2 s) + ≤ 1 packet
/// interval + 5 s + 3 s + ≤ 1 packet interval", counted from the confirmation (the move
/// came 1.02 s after it, so the outage seen from the move is that much shorter).
#[test]
fn s5_outage_duration_follows_the_formula() {
    for seed in SEEDS {
        let (_, o, s) = move_run(seed);
        let recovered = o
            .echo_replies
            .iter()
            .find(|(t, _)| *t > MOVE_AT)
            .expect("a ping is answered again");
        assert_eq!(recovered.1, DIR2_MAC, "seed {seed}: dir2 answers the pings");
        let slack = s.stale - (o.confirmed + o.reachable_time);
        let wait_for_delay = s.delay - s.stale;
        let wait_for_resolve = s.resolve - s.failed;
        let round_trip = recovered.0 - s.resolve;
        assert!(slack <= MAX_SLACK, "seed {seed}: slack {slack} ns");
        assert!(wait_for_delay < PING_INTERVAL && wait_for_resolve <= PING_INTERVAL);
        assert!(
            round_trip < MS,
            "seed {seed}: ARP + ping round trip {round_trip} ns"
        );
        assert_eq!(
            recovered.0 - o.confirmed,
            o.reachable_time
                + slack
                + wait_for_delay
                + DELAY_FIRST_PROBE
                + UCAST_PROBES * RETRANS
                + wait_for_resolve
                + round_trip,
            "seed {seed}: the outage is the sum of the formula's terms"
        );
        let outage = recovered.0 - MOVE_AT;
        let since_confirmation = MOVE_AT - o.confirmed;
        let shortest = o.reachable_time + DELAY_FIRST_PROBE + UCAST_PROBES * RETRANS;
        let longest = shortest + MAX_SLACK + 2 * PING_INTERVAL + MS;
        assert!(
            (shortest - since_confirmation..=longest - since_confirmation).contains(&outage),
            "seed {seed}: outage {outage} ns with reachable_time {} ns",
            o.reachable_time
        );
    }
}
