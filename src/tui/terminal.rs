//! The real terminal: raw mode and the alternate screen (restored on exit, and on panic by
//! ratatui's hook), the simulation advanced between inputs so a long lab shows its first
//! events at once, keys and resizes turned into `Input`s, a redraw after each.

use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;

use super::input::{Input, update};
use super::render;
use super::session::Session;
use super::state::App;

/// Wall time spent simulating between two redraws while the run is not finished.
const SIMULATE_PER_FRAME: Duration = Duration::from_millis(25);
/// How long to wait for a key when there is nothing else to do.
const IDLE_WAIT: Duration = Duration::from_millis(250);
/// The redraw interval while playing or simulating.
const FRAME: Duration = Duration::from_millis(16);

/// Runs the TUI until `q`; the terminal is restored whatever happens.
pub fn run(session: &mut Session) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, session);
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut DefaultTerminal, session: &mut Session) -> io::Result<()> {
    let mut app = App::default();
    let mut last_tick = Instant::now();
    while !app.quit {
        if !session.finished {
            session.advance_for(SIMULATE_PER_FRAME);
        }
        terminal.draw(|frame| render::draw(frame, &app, session))?;
        let busy = !session.finished || app.play.playing;
        let mut wait = if busy { FRAME } else { IDLE_WAIT };
        while event::poll(wait)? {
            if let Some(input) = translate(event::read()?) {
                update(&mut app, &session.log, input);
            }
            wait = Duration::ZERO;
        }
        let now = Instant::now();
        update(&mut app, &session.log, Input::Tick(now - last_tick));
        last_tick = now;
    }
    Ok(())
}

fn translate(event: Event) -> Option<Input> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Input::Key(key)),
        Event::Resize(..) => Some(Input::Resize),
        _ => None,
    }
}
