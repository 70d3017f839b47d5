//! The frame detail pane: the header tree of the current capture; for a frame a host
//! rewrote, every changed field as `before → after`, highlighted, and new headers marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::colours;
use crate::trace::Record;
use crate::tui::detail::{ShownLayer, compare, decode};
use crate::tui::session::Session;
use crate::tui::state::App;
use crate::tui::trail;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let log = &session.log;
    let (title, lines) = match log.entries.get(app.cursor).map(|e| &e.record) {
        Some(Record::Capture(c)) => {
            let after = decode(c.link, &c.frame);
            let pair = trail::rewrite(log, app.cursor);
            let before = pair.map(|(b, _)| match &log.entries[b].record {
                Record::Capture(b) => decode(b.link, &b.frame),
                _ => Vec::new(),
            });
            match pair {
                Some((was, out)) if out == app.cursor => {
                    let layers = compare(&after, before.as_deref());
                    let title = format!(
                        " Frame #{}: {} changed #{} ",
                        out + 1,
                        log.hosts[c.host],
                        was + 1
                    );
                    let mut lines = changes(&layers);
                    lines.extend(tree(&layers));
                    (title, lines)
                }
                _ => (
                    format!(" Frame #{} ", app.cursor + 1),
                    tree(&compare(&after, None)),
                ),
            }
        }
        _ => (
            " Frame ".to_owned(),
            vec![Line::raw("(not a frame: see the explanation)")],
        ),
    };
    let paragraph = Paragraph::new(lines)
        .block(Block::bordered().title(title))
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// The changed fields first, so that they show even in a small pane.
fn changes(layers: &[ShownLayer]) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for layer in layers {
        if layer.added {
            lines.push(Line::styled(
                format!("+ {}", layer.title),
                colours::changed(),
            ));
        }
        for field in &layer.fields {
            if let Some(before) = &field.before {
                lines.push(Line::styled(
                    format!("{}: {before} → {}", field.label, field.value),
                    colours::changed(),
                ));
            }
        }
    }
    lines.push(Line::raw(""));
    lines
}

fn tree(layers: &[ShownLayer]) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for layer in layers {
        let mut title = vec![Span::styled(
            layer.title.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        )];
        if layer.added {
            title.push(Span::styled(" (added)", colours::changed()));
        }
        lines.push(Line::from(title));
        for field in &layer.fields {
            let line = match &field.before {
                Some(before) => Line::from(vec![
                    Span::raw(format!("  {}: ", field.label)),
                    Span::styled(format!("{before} → {}", field.value), colours::changed()),
                ]),
                None => Line::raw(format!("  {}: {}", field.label, field.value)),
            };
            lines.push(line);
        }
    }
    lines
}
