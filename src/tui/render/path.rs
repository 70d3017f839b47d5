//! The path pane: every capture of the current packet (`host/iface In|Out`) with the current
//! one highlighted, and on a director the netfilter/IPVS hooks it passes with the step the
//! current capture is at.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::colours;
use crate::trace::{Capture, Direction, Record};
use crate::tui::session::Session;
use crate::tui::state::App;
use crate::tui::trail;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_IPV4};
use crate::wire::ipv4;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let log = &session.log;
    let mut lines = Vec::new();
    let hops = trail::hops(log, app.cursor);
    if hops.is_empty() {
        lines.push(Line::raw("(not a frame)"));
    } else {
        let mut spans = Vec::new();
        for (n, &i) in hops.iter().enumerate() {
            if n > 0 {
                spans.push(Span::raw(" → "));
            }
            let Record::Capture(c) = &log.entries[i].record else {
                continue;
            };
            let dir = if c.dir == Direction::In { "In" } else { "Out" };
            let style = if i == app.cursor {
                colours::current()
            } else {
                Style::new()
            };
            spans.push(Span::styled(
                format!("{}/{} {dir}", log.hosts[c.host], c.iface),
                style,
            ));
        }
        lines.push(Line::from(spans));
    }
    if let Some(Record::Capture(c)) = log.entries.get(app.cursor).map(|e| &e.record)
        && let Some(hooks) = hook_line(c, app, session)
    {
        lines.push(hooks);
    }
    let paragraph = Paragraph::new(lines)
        .block(Block::bordered().title(" Path "))
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// On a director: PREROUTING → INPUT|FORWARD → IPVS → POSTROUTING, the step of the
/// current capture highlighted (arriving: IPVS when it decided, else the hook that took the
/// packet; leaving: POSTROUTING).
fn hook_line(c: &Capture, app: &App, session: &Session) -> Option<Line<'static>> {
    let event = session.log.entries[app.cursor].event;
    let view = session.history.view_at(c.host, event)?;
    view.ipvs.as_ref()?;
    let dst = ipv4_destination(&c.frame)?;
    let local_hook = if view.is_local(dst) {
        "INPUT"
    } else {
        "FORWARD"
    };
    let ipvs_decided = c.notes.iter().any(|n| n.contains("IPVS"));
    let at = match c.dir {
        Direction::Out => "POSTROUTING",
        Direction::In if ipvs_decided => "IPVS",
        Direction::In => local_hook,
    };
    let mut spans = vec![Span::raw(format!("{}: ", session.log.hosts[c.host]))];
    for (n, hook) in ["PREROUTING", local_hook, "IPVS", "POSTROUTING"]
        .into_iter()
        .enumerate()
    {
        if n > 0 {
            spans.push(Span::raw(" → "));
        }
        let style = if hook == at {
            colours::current()
        } else {
            Style::new()
        };
        spans.push(Span::styled(hook, style));
    }
    Some(Line::from(spans))
}

fn ipv4_destination(frame: &[u8]) -> Option<std::net::Ipv4Addr> {
    if frame.len() < ETH_HEADER_LEN || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_IPV4
    {
        return None;
    }
    ipv4::parse(&frame[ETH_HEADER_LEN..])
        .ok()
        .map(|info| info.dst)
}
