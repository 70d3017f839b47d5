//! The state pane: the shown host's ARP cache (entries changed by this event highlighted,
//! with state and age), addresses, routes, the sysctls behind ARP and rp_filter decisions,
//! and on a director `ipvsadm -L -n` with its live ActiveConn/InActConn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::colours;
use crate::sim::SimTime;
use crate::tui::hostview::{HostView, NeighRow};
use crate::tui::session::Session;
use crate::tui::state::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, session: &Session) {
    let log = &session.log;
    let Some(host) = app.shown_host(log) else {
        frame.render_widget(
            Paragraph::new("(no host)").block(Block::bordered().title(" State ")),
            area,
        );
        return;
    };
    let entry = log.entries.get(app.cursor);
    let event = entry.map_or(0, |e| e.event);
    let now = entry.map_or(SimTime::ZERO, |e| e.time());
    let follow = if app.selected.is_none() {
        " (follows the event; Tab selects)"
    } else {
        ""
    };
    let title = format!(" State: {}{follow} ", log.hosts[host]);
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = session.history.view_at(host, event) else {
        frame.render_widget(Paragraph::new("(not set up yet)"), inner);
        return;
    };
    let before = event
        .checked_sub(1)
        .and_then(|e| session.history.view_at(host, e));
    let mut primary = neigh_lines(view, before.map(|v| v.as_ref()), now);
    primary.extend(vrrp_lines(view, now));
    primary.extend(ipvs_lines(view));
    let secondary = config_lines(view);
    if inner.width >= TWO_COLUMNS {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(primary), left);
        frame.render_widget(Paragraph::new(secondary), right);
    } else {
        primary.extend(secondary);
        frame.render_widget(Paragraph::new(primary), inner);
    }
}

/// From this width on, the configuration goes beside the ARP cache instead of under it.
const TWO_COLUMNS: u16 = 100;

/// The ARP cache; entries this event changed are marked `*` and highlighted.
fn neigh_lines(view: &HostView, before: Option<&HostView>, now: SimTime) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled("ARP cache", colours::heading())];
    if view.neigh.is_empty() {
        lines.push(Line::raw("  (empty)"));
    }
    for row in view.neigh.iter() {
        let changed = before.is_some_and(|b| !b.neigh.contains(row));
        let text = neigh_line(row, now);
        lines.push(match changed {
            true => Line::from(vec![
                Span::raw("* "),
                Span::styled(text, colours::changed()),
            ]),
            false => Line::raw(format!("  {text}")),
        });
    }
    lines
}

/// keepalived's instances with their state, priority and what their timer waits for.
fn vrrp_lines(view: &HostView, now: SimTime) -> Vec<Line<'static>> {
    if view.vrrp.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::styled("keepalived VRRP", colours::heading())];
    for row in view.vrrp.iter() {
        let timer = match (row.state, row.deadline) {
            ("MASTER", Some(at)) => format!(", next advert in {}", seconds(at.since(now))),
            ("BACKUP", Some(at)) => format!(", master-down in {}", seconds(at.since(now))),
            _ => String::new(),
        };
        lines.push(Line::raw(format!(
            "  {} {} prio {}{timer}",
            row.name, row.state, row.priority
        )));
    }
    lines
}

fn seconds(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

fn ipvs_lines(view: &HostView) -> Vec<Line<'static>> {
    let Some(ipvs) = &view.ipvs else {
        return Vec::new();
    };
    let mut lines = vec![Line::styled("ipvsadm -L -n", colours::heading())];
    lines.extend(
        ipvs.lines()
            .map(|l| Line::raw(format!("  {}", l.trim_end()))),
    );
    lines
}

fn config_lines(view: &HostView) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled("Addresses", colours::heading())];
    lines.extend(
        view.addrs
            .iter()
            .map(|a| Line::raw(format!("  {:<10} {}/{}", a.label, a.local, a.prefix_len))),
    );
    lines.push(Line::styled("Routes", colours::heading()));
    lines.extend(view.routes.iter().map(|r| Line::raw(format!("  {r}"))));
    lines.push(Line::styled(
        format!("sysctl (ip_forward={})", view.ip_forward),
        colours::heading(),
    ));
    for row in view.sysctls.iter() {
        let values: Vec<String> = row
            .values
            .iter()
            .map(|(dev, v)| format!("{dev}={v}"))
            .collect();
        lines.push(Line::raw(format!("  {:<12} {}", row.key, values.join(" "))));
    }
    lines
}

fn neigh_line(row: &NeighRow, now: SimTime) -> String {
    let mac = row
        .mac
        .map_or_else(|| "(none)".to_owned(), |m| m.to_string());
    let age = now.ns().saturating_sub(row.updated.ns()) as f64 / 1e9;
    format!("{} {} {mac} {} age {age:.3}s", row.ip, row.state, row.dev)
}
