//! linux-arp.md §3 "Gratuitous ARP and locktime at the client", row by row.
//!
//! Each test runs the measured topology. Unless the row says otherwise, the client resolves
//! the VIP with a ping at 0.1 s (only dir answers: the real servers run arp_ignore=1), so
//! its entry VIP → dir is 1.5 s old when the first host (A = rs1) acts at 1.6 s. The frames
//! are sent with the tools a user would use: `arping -U`/`-A` for gratuitous ARP, `arping -s
//! VIP` for requests that announce the VIP, and `arpspoof` for unsolicited replies. The
//! client's entry is checked with `[[expect]]` blocks 0.1 s after every frame.

mod common;

use std::net::Ipv4Addr;

use common::{ArpLab, CLIENT_MAC, DIR_MAC, RS1_MAC, RS2_MAC, VIP};
use lvsim::scenario::run::RunResult;

const CLIENT: &str = "192.168.188.111";
/// An address on the client's subnet that nobody owns.
const NOBODY: &str = "192.168.188.200";
/// An off-subnet address rs1 adds to lo for row 6.
const OFF_SUBNET: &str = "172.16.0.120";

/// The client's ping resolves the VIP at this time (ms).
const RESOLVED: u64 = 100;
/// The first frame of a row whose entry is "1.5 s old".
const OLD: u64 = RESOLVED + 1500;
/// The first frame of a "fresh" row: less than locktime (1 s) after the resolution.
const FRESH: u64 = RESOLVED + 400;
/// Each check runs this long after the frame it observes (the LAN delivers in µs).
const SETTLE: u64 = 100;

/// The real servers must not answer the client's who-has VIP (arp_ignore=1), and arpspoof
/// needs the target's MAC in its kernel cache to start at once: a static entry gives it.
fn rs_setup() -> String {
    format!(
        "sysctl -w net.ipv4.conf.all.arp_ignore=1\n\
         ip neigh add {CLIENT} lladdr {CLIENT_MAC} dev eth0 nud permanent"
    )
}

fn ms(t: u64) -> String {
    format!("{t}ms")
}

/// An ARP frame about the VIP (or `OFF_SUBNET`) that a host sends to the client.
#[derive(Clone, Copy)]
enum Frame {
    /// `arping -U`: gratuitous request, spa = tpa = the address, broadcast.
    GarpRequest(&'static str),
    /// `arping -A`: gratuitous reply, spa = tpa, tha = sha, broadcast.
    GarpReply(&'static str),
    /// `arpspoof -t client`: "VIP is-at me", unicast to the client (not gratuitous).
    UnicastReply,
    /// `arpspoof` without `-t`: "VIP is-at me", broadcast, tpa 0.0.0.0 (not gratuitous).
    BroadcastReply,
    /// `arping -s VIP TARGET`: a broadcast "who-has TARGET tell VIP".
    RequestFor(&'static str),
}

impl Frame {
    /// Schedules the command that sends exactly one such frame from `host` at `at` ms.
    fn send(self, lab: ArpLab, at: u64, host: &str) -> ArpLab {
        let arping = |mode: &str, ip: &str, target: &str| {
            format!("arping {mode}-c 1 -I eth0 -s {ip} {target}")
        };
        match self {
            Frame::GarpRequest(ip) => lab.at(&ms(at), host, &arping("-U ", ip, ip)),
            Frame::GarpReply(ip) => lab.at(&ms(at), host, &arping("-A ", ip, ip)),
            Frame::RequestFor(target) => lab.at(&ms(at), host, &arping("", VIP, target)),
            Frame::UnicastReply => spoof_once(lab, at, host, &format!("-t {CLIENT} ")),
            Frame::BroadcastReply => spoof_once(lab, at, host, ""),
        }
    }
}

/// arpspoof sends its first reply at once and the next only 2 s later; killing it with
/// SIGKILL in between leaves exactly one frame (plain SIGTERM would re-ARP the real MAC).
fn spoof_once(lab: ArpLab, at: u64, host: &str, target: &str) -> ArpLab {
    lab.at(&ms(at), host, &format!("arpspoof -i eth0 {target}{VIP}"))
        .at(&ms(at + SETTLE / 2), host, "pkill -9 arpspoof")
}

/// One row of the table: a lab, the frames sent, and the client's entry after each.
struct Row {
    lab: ArpLab,
    /// The address whose client entry is checked.
    ip: &'static str,
    /// (ms, host) of every frame a step sends announcing `ip`.
    sent: Vec<(u64, String)>,
}

impl Row {
    fn new(lab: ArpLab, ip: &'static str) -> Row {
        Row {
            lab,
            ip,
            sent: Vec::new(),
        }
    }

    /// The client's entry VIP → dir is set (REACHABLE) by its ping at `RESOLVED`.
    fn entry_on_dir(client_setup: &str) -> Row {
        let lab = ArpLab::new(&rs_setup()).client(client_setup).at(
            &ms(RESOLVED),
            "client",
            &format!("ping -c 1 {VIP}"),
        );
        Row::new(lab, VIP).expect(FRESH - SETTLE, Some((DIR_MAC, "REACHABLE")))
    }

    /// The client has never heard of `ip`.
    fn no_entry(client_setup: &str, ip: &'static str) -> Row {
        let lab = ArpLab::new(&rs_setup()).client(client_setup);
        Row::new(lab, ip).expect(FRESH - SETTLE, None)
    }

    /// `host` sends `frame` at `at` ms; `SETTLE` later the client's entry is `then`
    /// ((mac, state), or None: no entry).
    fn step(mut self, at: u64, host: &str, frame: Frame, then: Option<(&str, &str)>) -> Row {
        self.lab = frame.send(self.lab, at, host);
        self.sent.push((at, host.to_owned()));
        self.expect(at + SETTLE, then)
    }

    fn expect(mut self, at: u64, entry: Option<(&str, &str)>) -> Row {
        let neigh = match entry {
            Some((mac, state)) => {
                format!(
                    "{{ ip = \"{}\", mac = \"{mac}\", state = \"{state}\" }}",
                    self.ip
                )
            }
            None => format!("{{ ip = \"{}\", absent = true }}", self.ip),
        };
        self.lab = self.lab.with(&format!(
            "[[expect]]\ntime = \"{}\"\nhost = \"client\"\nneigh = {neigh}\n",
            ms(at)
        ));
        self
    }

    /// Runs the lab; every step must have sent exactly its one frame, and every check must
    /// pass.
    fn check(self) {
        let result = self.lab.run();
        assert_eq!(
            self.frames_announcing_ip(&result),
            self.sent,
            "the frames announcing {} after the client's resolution, as (ms, host)",
            self.ip
        );
        let failed: Vec<String> = result
            .outcomes
            .iter()
            .filter(|o| !o.passed)
            .map(|o| {
                format!(
                    "at {} ms: expected {}: {} (got {})",
                    o.time_ns / 1_000_000,
                    o.text,
                    o.detail,
                    o.got
                )
            })
            .collect();
        assert!(
            failed.is_empty(),
            "the client's entry differs from linux-arp.md §3:\n{}",
            failed.join("\n")
        );
    }

    /// (ms, host) of the ARP frames with sender address `ip` sent after the baseline check
    /// (dir's reply to the client's own resolution comes before it).
    fn frames_announcing_ip(&self, result: &RunResult) -> Vec<(u64, String)> {
        let ip: Ipv4Addr = self.ip.parse().unwrap();
        result
            .world
            .trace
            .arp_sent
            .iter()
            .filter(|s| s.arp.spa == ip && s.t.ns() > (FRESH - SETTLE) * 1_000_000)
            .map(|s| {
                let host = result.world.hosts[s.host].name.clone();
                (s.t.ns() / 1_000_000, host)
            })
            .collect()
    }
}

/// Rows 7-10: A (rs1) at `OLD`, B (rs2) 0.3 s later (inside A's locktime), B again 1.7 s
/// after A (outside it). `after` is the client's entry after each of the three frames.
fn a_then_b_then_b(client_setup: &str, frame: Frame, after: [(&str, &str); 3]) {
    Row::entry_on_dir(client_setup)
        .step(OLD, "rs1", frame, Some(after[0]))
        .step(OLD + 300, "rs2", frame, Some(after[1]))
        .step(OLD + 1700, "rs2", frame, Some(after[2]))
        .check();
}

/// Rows 11-12: A (rs1) at `OLD`, then B (rs2) 0.3 s later, each override leaving STALE.
fn a_then_b_overrides(frame: Frame) {
    Row::entry_on_dir("")
        .step(OLD, "rs1", frame, Some((RS1_MAC, "STALE")))
        .step(OLD + 300, "rs2", frame, Some((RS2_MAC, "STALE")))
        .check();
}

/// Rows 1-3: one GARP from rs1 at `at` ms moves the entry to rs1/STALE.
fn garp_from_rs1(at: u64, frame: Frame) {
    Row::entry_on_dir("")
        .step(at, "rs1", frame, Some((RS1_MAC, "STALE")))
        .check();
}

/// Row 1: `arping -U` (GARP request) from rs1 → entry rs1/STALE.
#[test]
fn row1_garp_request_from_rs1_moves_the_entry_to_rs1_stale() {
    garp_from_rs1(OLD, Frame::GarpRequest(VIP));
}

/// Row 2: `arping -A` (GARP reply: broadcast, tha = sha) from rs1 → entry rs1/STALE.
#[test]
fn row2_garp_reply_from_rs1_moves_the_entry_to_rs1_stale() {
    garp_from_rs1(OLD, Frame::GarpReply(VIP));
}

/// Row 3, `-U`: less than 1 s after the entry was set → rs1/STALE: GARP ignores locktime.
#[test]
fn row3_fresh_garp_request_ignores_locktime() {
    garp_from_rs1(FRESH, Frame::GarpRequest(VIP));
}

/// Row 3, `-A`: less than 1 s after the entry was set → rs1/STALE: GARP ignores locktime.
#[test]
fn row3_fresh_garp_reply_ignores_locktime() {
    garp_from_rs1(FRESH, Frame::GarpReply(VIP));
}

/// Row 4: GARP from rs1, then from dir 0.25 s later; with `frame` = -U or -A.
fn last_garp_wins(frame: Frame) {
    Row::entry_on_dir("")
        .step(OLD, "rs1", frame, Some((RS1_MAC, "STALE")))
        .step(OLD + 250, "dir", frame, Some((DIR_MAC, "STALE")))
        .check();
}

/// Row 4, `-U`: GARP request from rs1, then from dir 0.25 s later → dir/STALE.
#[test]
fn row4_last_garp_request_wins() {
    last_garp_wins(Frame::GarpRequest(VIP));
}

/// Row 4, `-A`: GARP reply from rs1, then from dir 0.25 s later → dir/STALE.
#[test]
fn row4_last_garp_reply_wins() {
    last_garp_wins(Frame::GarpReply(VIP));
}

/// Rows 5-6: rs1 sends a GARP request for `ip` (which it holds on lo) to a client with
/// `arp_accept` and no entry for `ip`.
fn garp_without_entry(arp_accept: u8, ip: &'static str, created: bool) {
    let setup = format!("sysctl -w net.ipv4.conf.eth0.arp_accept={arp_accept}");
    let mut row = Row::no_entry(&setup, ip);
    if ip != VIP {
        // rs1 must own the address (arping -s needs a local source) before it sends.
        row.lab = row
            .lab
            .at(&ms(RESOLVED), "rs1", &format!("ip addr add {ip}/32 dev lo"));
    }
    let then = created.then_some((RS1_MAC, "STALE"));
    row.step(OLD, "rs1", Frame::GarpRequest(ip), then).check();
}

/// Row 5, arp_accept 0: a GARP for a VIP the client has no entry for creates no entry.
#[test]
fn row5_garp_without_entry_arp_accept_0_creates_nothing() {
    garp_without_entry(0, VIP, false);
}

/// Row 5, arp_accept 1: a GARP for a VIP the client has no entry for creates it STALE.
#[test]
fn row5_garp_without_entry_arp_accept_1_creates_stale() {
    garp_without_entry(1, VIP, true);
}

/// Row 5, arp_accept 2: the VIP is inside the client's subnet, so the entry is created STALE.
#[test]
fn row5_garp_without_entry_arp_accept_2_creates_stale() {
    garp_without_entry(2, VIP, true);
}

/// Row 6, arp_accept 1: a GARP for off-subnet 172.16.0.120 creates an entry.
#[test]
fn row6_off_subnet_garp_arp_accept_1_creates_an_entry() {
    garp_without_entry(1, OFF_SUBNET, true);
}

/// Row 6, arp_accept 2: a GARP for off-subnet 172.16.0.120 creates no entry (the sender is
/// in none of eth0's subnets).
#[test]
fn row6_off_subnet_garp_arp_accept_2_creates_nothing() {
    garp_without_entry(2, OFF_SUBNET, false);
}

/// Row 7: unicast non-gratuitous replies "VIP is-at A", then B +0.3 s, then B +1.7 s →
/// A/REACHABLE, then A kept, then B/REACHABLE.
#[test]
fn row7_unicast_replies_a_then_b_kept_out_until_locktime_passes() {
    let a = (RS1_MAC, "REACHABLE");
    a_then_b_then_b("", Frame::UnicastReply, [a, a, (RS2_MAC, "REACHABLE")]);
}

/// Row 8: the same with `neigh.eth0.locktime=0` → A, then B (+0.3 s), then B.
#[test]
fn row8_unicast_replies_with_locktime_0_b_wins_at_once() {
    let b = (RS2_MAC, "REACHABLE");
    a_then_b_then_b(
        "sysctl -w net.ipv4.neigh.eth0.locktime=0",
        Frame::UnicastReply,
        [(RS1_MAC, "REACHABLE"), b, b],
    );
}

/// Row 9: the same but broadcast replies → A/STALE, then A kept, then B/STALE.
#[test]
fn row9_broadcast_replies_a_stale_then_kept_then_b_stale() {
    let a = (RS1_MAC, "STALE");
    a_then_b_then_b("", Frame::BroadcastReply, [a, a, (RS2_MAC, "STALE")]);
}

/// Row 10: requests "who-has .200 tell VIP" from A, then from B → A/STALE, then A kept
/// (locktime), then B: any ARP from the VIP overrides once locktime has passed.
#[test]
fn row10_requests_for_another_target_override_once_locktime_has_passed() {
    let a = (RS1_MAC, "STALE");
    a_then_b_then_b("", Frame::RequestFor(NOBODY), [a, a, (RS2_MAC, "STALE")]);
}

/// Row 11: requests "who-has client tell VIP" from A, then B +0.3 s → A/STALE, then
/// B/STALE: unconditional, ignores locktime.
#[test]
fn row11_requests_for_the_client_override_unconditionally() {
    a_then_b_overrides(Frame::RequestFor(CLIENT));
}

/// Row 12: gratuitous requests from A, then B +0.3 s → A, then B: GARP ignores locktime.
#[test]
fn row12_gratuitous_requests_a_then_b_ignore_locktime() {
    a_then_b_overrides(Frame::GarpRequest(VIP));
}

/// Row 13: a unicast reply from A less than 1 s after the client's own resolution is
/// ignored, dir kept: first reply wins.
#[test]
fn row13_unicast_reply_within_locktime_of_own_resolution_is_ignored() {
    Row::entry_on_dir("")
        .step(
            FRESH,
            "rs1",
            Frame::UnicastReply,
            Some((DIR_MAC, "REACHABLE")),
        )
        .check();
}
