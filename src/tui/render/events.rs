//! The event list: one tcpdump-like line per entry (the timeline's own wording), in
//! Wireshark's colours, the current one marked and kept in view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::colours;
use crate::output::timeline;
use crate::trace::{Direction, Link, Record};
use crate::tui::session::Session;
use crate::tui::state::App;
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthHeader};
use crate::wire::summary;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let log = &session.log;
    let rows = area.height.saturating_sub(2) as usize;
    let shown = window(app, log.len(), rows);
    let lines: Vec<Line> = shown
        .into_iter()
        .map(|i| {
            let entry = &log.entries[i];
            let text = line(&entry.record, &log.hosts);
            let current = i == app.cursor;
            let marker = if current { "▶" } else { " " };
            let mut style = colours::entry(&entry.facts);
            if current {
                style = style.patch(colours::current());
            }
            Line::from(vec![
                Span::raw(marker),
                Span::styled(format!("{:>6} {text}", i + 1), style),
            ])
        })
        .collect();
    let progress = if session.finished {
        ""
    } else {
        ", simulating…"
    };
    let title = format!(" Events ({}{progress}) ", log.len());
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

/// A capture as `tcpdump -n` prints it (no MACs: the detail pane has them); other records
/// as the timeline prints them.
fn line(record: &Record, hosts: &[String]) -> String {
    let Record::Capture(c) = record else {
        return timeline::render(record, hosts).swap_remove(0);
    };
    let dir = match c.dir {
        Direction::In => "In ",
        Direction::Out => "Out",
    };
    let mut text = format!("{} {}/{} {dir} ", c.t, hosts[c.host], c.iface);
    let payload = c.frame.get(ETH_HEADER_LEN..).unwrap_or_default();
    match (c.link, EthHeader::parse(&c.frame).map(|e| e.ethertype)) {
        (Link::RawIp, _) => summary::ip_datagram(&mut text, &c.frame),
        (Link::Ethernet, Some(ETHERTYPE_IPV4)) => summary::ip_datagram(&mut text, payload),
        (Link::Ethernet, Some(ETHERTYPE_ARP)) => match ArpRepr::parse(payload) {
            Ok(arp) => text.push_str(&format!("ARP, {arp}")),
            Err(why) => text.push_str(why),
        },
        _ => text.push_str(&summary::capture(c.link, &c.frame)),
    }
    text
}

/// The entries to list: the visible ones around the cursor, the cursor a third of the way
/// down so that what comes next is in view.
fn window(app: &App, len: usize, rows: usize) -> Vec<usize> {
    match &app.filter {
        Some(f) => {
            let at = f.matches.partition_point(|&i| i < app.cursor);
            let start = at
                .saturating_sub(rows / 3)
                .min(f.matches.len().saturating_sub(rows));
            f.matches[start..(start + rows).min(f.matches.len())].to_vec()
        }
        None => {
            let start = app
                .cursor
                .saturating_sub(rows / 3)
                .min(len.saturating_sub(rows));
            (start..(start + rows).min(len)).collect()
        }
    }
}
