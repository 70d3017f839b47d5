//! Drawing: one free function per screen region, each reading the state and the session
//! and nothing else.
//!
//! ```text
//! ┌ Events ─────────────────────────────────────────────────────────────┐
//! │   41 1.000124256 lvs/eth0 In  00:0c:29:f3:1f:de > 00:0c:29:50:d5:63 │
//! │▶  47 1.000206944 lvs/eth0 Out 00:0c:29:50:d5:63 > 00:0c:29:2c:a5:a0 │
//! ├ Frame ─────────────────────────┬ Path ──────────────────────────────┤
//! │ Ethernet II                    │ client/eth0 Out → lvs/eth0 In → …  │
//! │   Destination: a → b           ├ State: lvs ────────────────────────┤
//! │ IPv4 …            (hex below   │ ARP cache, addresses, routes,      │
//! │                    with `x`)   │ sysctls, ipvsadm -L -n             │
//! ├ Explanation ───────────────────┴────────────────────────────────────┤
//! │ the rule behind the event; for a warning: what, why, fix            │
//! └─────────────────────────────────────────────────────────────────────┘
//!  #47/251  t=1.000206944  host: lvs  filter: —             ▮▮ 10/s
//! ```

mod colours;
mod detail;
mod events;
mod explain;
mod help;
mod hex;
mod path;
mod state;
mod status;

use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout, Rect};

use super::session::Session;
use super::state::{App, Mode};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, session: &Session) {
    let [body, status_row] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(frame.area());
    status::draw(frame, status_row, app, session);
    if app.mode == Mode::Help {
        help::draw(frame, body, session);
        return;
    }
    let explain_height = if app.panes.explain {
        (body.height / 5).max(5)
    } else {
        0
    };
    let events_height = (body.height * 2 / 5).max(5);
    let [events_area, middle, explain_area] = Layout::vertical([
        Constraint::Length(events_height),
        Constraint::Fill(1),
        Constraint::Length(explain_height),
    ])
    .areas(body);
    events::draw(frame, events_area, app, session);
    draw_middle(frame, middle, app, session);
    if app.panes.explain {
        explain::draw(frame, explain_area, app, session);
    }
}

/// The frame detail (and hex) on the left, path over state on the right.
fn draw_middle(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let panes = app.panes;
    let right_shown = panes.path || panes.state;
    let left_shown = panes.detail || panes.hex;
    let [left, right] = match (left_shown, right_shown) {
        (true, true) => {
            Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(area)
        }
        (true, false) => [area, Rect::default()],
        (false, _) => [Rect::default(), area],
    };
    let [detail_area, hex_area] = match (panes.detail, panes.hex) {
        (true, true) => {
            Layout::vertical([Constraint::Percentage(60), Constraint::Fill(1)]).areas(left)
        }
        (true, false) => [left, Rect::default()],
        (false, _) => [Rect::default(), left],
    };
    if panes.detail {
        detail::draw(frame, detail_area, app, session);
    }
    if panes.hex {
        hex::draw(frame, hex_area, app, session);
    }
    let path_height = if panes.state {
        (right.height / 4).max(4)
    } else {
        right.height
    };
    let [path_area, state_area] =
        Layout::vertical([Constraint::Length(path_height), Constraint::Fill(1)]).areas(right);
    if panes.path {
        path::draw(
            frame,
            if panes.state { path_area } else { right },
            app,
            session,
        );
    }
    if panes.state {
        state::draw(
            frame,
            if panes.path { state_area } else { right },
            app,
            session,
        );
    }
}

/// The screen as text at `width`×`height` (snapshot tests and the benchmark).
pub fn to_text(app: &App, session: &Session, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test backend");
    terminal
        .draw(|frame| draw(frame, app, session))
        .expect("drawing into memory");
    terminal.backend().to_string()
}
