//! The timeline: one `tcpdump -e -n`-style line per frame on each interface that saw it, an
//! indented explanation under every frame a host dropped, ignored, rewrote or learned from,
//! and the commands, their output and the warnings, all in simulated-time order.

use std::io::{self, Write};

use crate::trace::{Direction, Record, Sink};
use crate::wire::summary;

pub struct Timeline<W: Write> {
    out: W,
}

impl<W: Write> Timeline<W> {
    pub fn new(out: W) -> Timeline<W> {
        Timeline { out }
    }
}

/// Renders one record as timeline lines.
pub fn render(record: &Record, hosts: &[String]) -> Vec<String> {
    match record {
        Record::Capture(c) => {
            let dir = match c.dir {
                Direction::In => "In ",
                Direction::Out => "Out",
            };
            let mut lines = vec![format!(
                "{} {}/{} {dir} {}",
                c.t,
                hosts[c.host],
                c.iface,
                summary::capture(c.link, &c.frame)
            )];
            lines.extend(c.notes.iter().map(|n| format!("    {n}")));
            lines
        }
        Record::Note { t, text, .. } => vec![format!("{t} -- {text}")],
        Record::Command { t, host, line } => vec![format!("{t} {}$ {line}", hosts[*host])],
        Record::Output { t, host, text } => vec![format!("{t} {}| {text}", hosts[*host])],
        Record::Warning(w) => vec![format!(
            "{} WARNING {} ({}): {}",
            w.t, w.kind, w.host, w.detail
        )],
    }
}

impl<W: Write> Sink for Timeline<W> {
    fn record(&mut self, record: &Record, hosts: &[String]) -> io::Result<()> {
        for line in render(record, hosts) {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
