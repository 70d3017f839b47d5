//! `?`: the keys, the filter words, and the lab's own `about` text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::colours;
use crate::tui::filter::VOCABULARY;
use crate::tui::session::Session;

/// Every key, as the help pane and the README list them.
pub const KEYS: [(&str, &str); 16] = [
    ("→ l ↓ j / ← h ↑ k", "next / previous event"),
    ("PgDn / PgUp", "20 events forward / back"),
    ("Home / End", "first / last event"),
    ("n / p", "next / previous frame"),
    ("w / W", "next / previous warning or drop"),
    ("e / E", "next / previous event on the shown host"),
    ("space", "play / pause"),
    ("+ / -", "play faster / slower"),
    ("g", "go to an event number or a time (1.5s, 1000ms)"),
    ("/", "display filter (Enter applies, Esc cancels)"),
    ("Esc", "clear the filter"),
    (
        "Tab / Shift-Tab",
        "show the next / previous host (then: follow the event)",
    ),
    (
        "1 2 3 4",
        "toggle frame detail / path / state / explanation",
    ),
    ("x", "toggle the bytes pane"),
    ("?", "this help (any of ? Esc Enter closes it)"),
    ("q", "quit"),
];

pub fn draw(frame: &mut Frame, area: Rect, session: &Session) {
    let lab = &session.lab;
    let mut lines = vec![
        Line::styled(format!("{} — {}", lab.name, lab.title), colours::heading()),
        Line::raw(""),
    ];
    // The file's line breaks are for the TOML; paragraphs are separated by blank lines.
    for paragraph in lab.about.trim().split("\n\n") {
        lines.push(Line::raw(
            paragraph.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Keys", colours::heading()));
    lines.extend(
        KEYS.iter()
            .map(|(key, what)| Line::raw(format!("  {key:<20} {what}"))),
    );
    lines.push(Line::raw(""));
    lines.push(Line::styled("Filter words", colours::heading()));
    lines.push(Line::raw(format!(
        "  {VOCABULARY}; and/&&, or/||, not/!, ( )"
    )));
    let paragraph = Paragraph::new(lines)
        .block(Block::bordered().title(" Help "))
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}
