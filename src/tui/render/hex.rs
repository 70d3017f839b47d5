//! The bytes of the current capture, 16 to a line with their ASCII, as Wireshark's bytes pane.

use std::fmt::Write;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use crate::trace::Record;
use crate::tui::session::Session;
use crate::tui::state::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let lines: Vec<Line> = match session.log.entries.get(app.cursor).map(|e| &e.record) {
        Some(Record::Capture(c)) => c
            .frame
            .chunks(16)
            .enumerate()
            .map(|(i, row)| Line::raw(hex_line(i * 16, row)))
            .collect(),
        _ => vec![Line::raw("(no bytes)")],
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Bytes ")),
        area,
    );
}

fn hex_line(offset: usize, row: &[u8]) -> String {
    let mut out = format!("{offset:04x}  ");
    for (i, b) in row.iter().enumerate() {
        let gap = if i == 8 { " " } else { "" };
        let _ = write!(out, "{gap}{b:02x} ");
    }
    let pad = (16 - row.len()) * 3 + usize::from(row.len() <= 8);
    out.push_str(&" ".repeat(pad));
    out.extend(
        row.iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }),
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_short_row_keeps_the_ascii_column_aligned() {
        let full = super::hex_line(0, b"0123456789abcdef");
        let short = super::hex_line(16, b"GET");
        assert_eq!(full.find("0123"), short.find("GET"));
    }
}
