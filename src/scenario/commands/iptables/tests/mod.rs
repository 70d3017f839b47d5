//! Tests of `iptables` lines as a lab script gives them: what they parse to (`parse`), the
//! errors iptables gives (`errors`), and what running them does to a host's tables (`run`).

mod errors;
mod parse;
mod run;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::{IptablesCommand, parse};
use crate::scenario::commands::args::Args;
use crate::scenario::shell::parse_script;
use crate::scenario::source::{Diagnostic, MappedText, Source};

/// Parses one command line as a lab script would.
fn parse_line(line: &str) -> Result<IptablesCommand, Diagnostic> {
    let source = Source::new("t.toml", line);
    let mapped = MappedText {
        text: line.to_owned(),
        offsets: (0..line.len()).collect(),
        fallback: 0,
    };
    let lines = parse_script(&mapped, &source, &mut BTreeMap::new()).expect("lexes");
    let mut args = Args::new(&source, &lines[0].words, lines[0].span);
    let parsed = parse(&mut args);
    assert!(parsed.is_err() || args.is_empty(), "every word is consumed");
    parsed
}

fn parsed(line: &str) -> IptablesCommand {
    parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}
