//! The status line: position, time, shown host, filter and play state; or the prompt being
//! typed; or the last message (errors in red, as a bad Wireshark filter).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::colours;
use crate::tui::session::Session;
use crate::tui::state::{App, Mode, PromptKind, SPEEDS};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let line = match (&app.mode, &app.message) {
        (Mode::Prompt { kind, text }, _) => {
            let label = match kind {
                PromptKind::Goto => "go to (event number or time): ",
                PromptKind::Filter => "filter: ",
            };
            Line::from(vec![
                Span::styled(label, colours::heading()),
                Span::raw(format!("{text}▏")),
            ])
        }
        (_, Some(message)) if message.error => Line::styled(message.text.clone(), colours::error()),
        (_, message) => position(app, session, message.as_ref().map(|m| m.text.as_str())),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn position(app: &App, session: &Session, message: Option<&str>) -> Line<'static> {
    let log = &session.log;
    let time = log
        .entries
        .get(app.cursor)
        .map(|e| e.time().to_string())
        .unwrap_or_default();
    let host = app.shown_host(log).map_or("—", |h| log.hosts[h].as_str());
    let filter = app.filter.as_ref().map_or("—", |f| f.text.as_str());
    let play = if app.play.playing { "▶" } else { "▮▮" };
    let mut spans = vec![Span::raw(format!(
        " #{}/{}  t={time}  host: {host}  filter: {filter}  {play} {}/s  ?: help ",
        app.cursor + 1,
        log.len(),
        SPEEDS[app.play.speed]
    ))];
    if let Some(text) = message {
        spans.push(Span::styled(
            format!(" {text}"),
            Style::new().fg(Color::Green),
        ));
    }
    Line::from(spans)
}
