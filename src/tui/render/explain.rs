//! The explanation pane: the reason text of the current event, and a warning's story.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::colours;
use crate::tui::explain::explain;
use crate::tui::session::Session;
use crate::tui::state::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let lines: Vec<Line> = explain(&session.log, app.cursor)
        .into_iter()
        .map(|p| match p.heading {
            Some(heading) => Line::from(vec![
                Span::styled(format!("{heading}: "), colours::heading()),
                Span::raw(p.text),
            ]),
            None => Line::raw(p.text),
        })
        .collect();
    let paragraph = Paragraph::new(lines)
        .block(Block::bordered().title(" Explanation "))
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}
