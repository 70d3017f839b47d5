//! The TUI on whole labs: snapshots of the main screens at 80×24 and 160×48 (the DR lab
//! before and after the director's rewrite, an ARP conflict, a drop), and exact stepping back.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lvsim::cli::load_scenario;
use lvsim::trace::{Direction, Record};
use lvsim::tui::input::{Input, update};
use lvsim::tui::log::{Entry, Kind};
use lvsim::tui::render;
use lvsim::tui::session::Session;
use lvsim::tui::state::App;

fn session(lab: &str) -> Session {
    let scenario = load_scenario(lab).expect("a shipped lab");
    let mut session = Session::open(&scenario, None).expect("the lab sets up");
    session.finish();
    session
}

fn first(session: &Session, wanted: impl Fn(&Entry) -> bool) -> usize {
    session
        .log
        .entries
        .iter()
        .position(wanted)
        .expect("the lab has such an event")
}

fn notes_mention(entry: &Entry, text: &str) -> bool {
    matches!(&entry.record, Record::Capture(c) if c.notes.iter().any(|n| n.contains(text)))
}

fn screens(name: &str, session: &Session, cursor: usize) {
    let app = App {
        cursor,
        ..App::default()
    };
    for (width, height) in [(80, 24), (160, 48)] {
        let text = render::to_text(&app, session, width, height);
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), text);
    }
}

#[test]
fn dr_lab_before_the_directors_rewrite() {
    let s = session("dr-basic");
    let syn_in = first(&s, |e| {
        e.facts.kind == Kind::Frame(Direction::In) && notes_mention(e, "IPVS: TCP")
    });
    screens("dr_before_rewrite", &s, syn_in);
}

#[test]
fn dr_lab_after_the_directors_rewrite() {
    let s = session("dr-basic");
    let syn_out = first(&s, |e| notes_mention(e, "IPVS DR"));
    screens("dr_after_rewrite", &s, syn_out);
}

#[test]
fn an_arp_conflict() {
    let s = session("dr-no-arp-ignore");
    let warning = first(
        &s,
        |e| matches!(&e.record, Record::Warning(w) if w.kind == "arp-conflict"),
    );
    screens("arp_conflict", &s, warning);
}

#[test]
fn a_drop() {
    let s = session("tun-rp-filter");
    let drop = first(&s, |e| e.facts.dropped);
    screens("rp_filter_drop", &s, drop);
}

/// issue 5: the state pane shows a director's VRRP state and timers; here d2 at the advert
/// it sends on taking over after d1's graceful stop.
#[test]
fn a_vrrp_takeover() {
    let s = session("keepalived-failover");
    let takeover = first(&s, |e| {
        matches!(&e.record, Record::Output { text, .. } if text.contains("Entering MASTER STATE"))
            && e.time().ns() > 8_000_000_000
    });
    screens("vrrp_takeover", &s, takeover);
}

#[test]
fn the_help_screen_shows_the_keys_and_the_labs_about_text() {
    let s = session("dr-basic");
    let mut app = App::default();
    update(&mut app, &s.log, key(KeyCode::Char('?')));
    insta::assert_snapshot!("help_80x24", render::to_text(&app, &s, 80, 24));
}

fn key(code: KeyCode) -> Input {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Everything the screen shows depends on the state and the session alone: stepping N
/// forward then N back gives the identical state and the identical screen.
#[test]
fn stepping_forward_then_back_returns_the_identical_state() {
    let s = session("dr-basic");
    let mut app = App::default();
    for _ in 0..30 {
        update(&mut app, &s.log, key(KeyCode::Right));
    }
    let before = (app.clone(), render::to_text(&app, &s, 160, 48));
    let n = 120;
    for _ in 0..n {
        update(&mut app, &s.log, key(KeyCode::Right));
    }
    assert_eq!(app.cursor, 150, "moved N forward");
    let middle = render::to_text(&app, &s, 160, 48);
    assert_ne!(middle, before.1, "the screen changed on the way");
    for _ in 0..n {
        update(&mut app, &s.log, key(KeyCode::Left));
    }
    let after = render::to_text(&app, &s, 160, 48);
    assert_eq!((app, after), before);
}

fn capture_host(session: &Session, index: usize) -> &str {
    match &session.log.entries[index].record {
        Record::Capture(c) => &session.log.hosts[c.host],
        _ => panic!("entry {index} is not a capture"),
    }
}

/// FULLNAT rewrites both ends (forwarding.md §8) but keeps the IP identification: the path
/// pane follows the client's SYN through the director to the real server, and the detail
/// pane pairs the director's outbound SYN with the one it received.
#[test]
fn fullnat_packets_are_followed_through_the_director() {
    let s = session("fullnat");
    let syn_out = first(&s, |e| notes_mention(e, "IPVS FULLNAT"));
    let (before, after) = lvsim::tui::trail::rewrite(&s.log, syn_out).expect("paired");
    assert_eq!(after, syn_out);
    assert_eq!(capture_host(&s, before), "lvs");
    assert!(matches!(&s.log.entries[before].record, Record::Capture(c) if c.dir == Direction::In));
    let client_syn = first(&s, |e| {
        matches!(&e.record, Record::Capture(c) if s.log.hosts[c.host] == "client"
            && c.dir == Direction::Out && c.frame.get(47) == Some(&0x02))
    });
    let hosts: Vec<&str> = lvsim::tui::trail::hops(&s.log, client_syn)
        .into_iter()
        .map(|i| capture_host(&s, i))
        .collect();
    assert_eq!(hosts, ["client", "lvs", "lvs", "rs2"], "{hosts:?}");
}

/// In labs without FULLNAT every before → after pair keeps the source or the destination
/// address: no answer is mistaken for a rewrite of the request it answers.
#[test]
fn rewrites_without_fullnat_keep_one_end() {
    // The innermost header's ends (an IPIP packet's inner one).
    let ends = |c: &lvsim::trace::Capture| {
        let mut ip = &c.frame[14..];
        while ip[9] == 4 {
            ip = &ip[usize::from(ip[0] & 0x0f) * 4..];
        }
        (ip[12..16].to_vec(), ip[16..20].to_vec())
    };
    for lab in ["dr-basic", "nat-port-map", "tun"] {
        let s = session(lab);
        let mut pairs = 0;
        for (index, entry) in s.log.entries.iter().enumerate() {
            let Record::Capture(out) = &entry.record else {
                continue;
            };
            if out.dir != Direction::Out || out.frame.get(12..14) != Some(&[8, 0]) {
                continue;
            }
            let Some((before, _)) = lvsim::tui::trail::rewrite(&s.log, index) else {
                continue;
            };
            let Record::Capture(inbound) = &s.log.entries[before].record else {
                panic!("{lab}: entry {before} is not a capture");
            };
            if inbound.link != lvsim::trace::Link::Ethernet {
                continue;
            }
            let ((src_in, dst_in), (src_out, dst_out)) = (ends(inbound), ends(out));
            assert!(
                src_in == src_out || dst_in == dst_out,
                "{lab}: entry {index} paired with {before}"
            );
            pairs += 1;
        }
        assert!(pairs > 0, "{lab}: the director's rewrites are paired");
    }
}
