//! Wireshark's default colouring rules (its `colorfilters` file), first match wins: bad and
//! dropped frames, ICMP errors, ARP, ICMP, TCP RST, HTTP, routing (VRRP), TCP SYN/FIN, TCP,
//! UDP. Backgrounds with Wireshark's dark text, as in its packet list.

use ratatui::style::{Color, Modifier, Style};

use crate::tui::log::{Facts, Kind, Proto};

const TEXT: Color = Color::Rgb(0x12, 0x27, 0x3e);

fn on(bg: (u8, u8, u8)) -> Style {
    Style::new().fg(TEXT).bg(Color::Rgb(bg.0, bg.1, bg.2))
}

/// The style of an event-list line.
pub fn entry(facts: &Facts) -> Style {
    match facts.kind {
        Kind::Warning => Style::new()
            .fg(Color::Rgb(0xf7, 0x87, 0x87))
            .bg(TEXT)
            .add_modifier(Modifier::BOLD),
        Kind::Command => Style::new().add_modifier(Modifier::BOLD),
        Kind::Output | Kind::Note => Style::new().fg(Color::Gray),
        Kind::Frame(_) => frame(facts),
    }
}

fn frame(facts: &Facts) -> Style {
    if facts.dropped {
        // "Bad TCP" / "Checksum Errors": red on black.
        return Style::new().fg(Color::Rgb(0xf7, 0x87, 0x87)).bg(TEXT);
    }
    match facts.proto {
        Proto::IcmpError => Style::new().fg(Color::Rgb(0xb7, 0xf7, 0x74)).bg(TEXT),
        Proto::Arp => on((0xfa, 0xf0, 0xd7)),
        Proto::Icmp => on((0xfc, 0xe0, 0xff)),
        Proto::Tcp if facts.tcp_rst => Style::new()
            .fg(Color::Rgb(0xff, 0xfc, 0x9c))
            .bg(Color::Rgb(0xa4, 0x00, 0x00)),
        Proto::Tcp if facts.http => on((0xe4, 0xff, 0xc7)),
        Proto::Vrrp => on((0xff, 0xf3, 0xd6)),
        Proto::Tcp if facts.tcp_syn_or_fin => on((0xa0, 0xa0, 0xa0)),
        Proto::Tcp => on((0xe7, 0xe6, 0xff)),
        Proto::Udp => on((0xda, 0xee, 0xff)),
        Proto::None | Proto::OtherIp => Style::new(),
    }
}

/// A field a node changed (before → after).
pub fn changed() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// Section headings inside a pane.
pub fn heading() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

/// Errors in the status line (a bad filter, a bad goto).
pub fn error() -> Style {
    Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD)
}

/// The current item (event row, hop, hook).
pub fn current() -> Style {
    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
}
