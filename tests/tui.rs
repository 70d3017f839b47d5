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
