//! The explanation pane's text: the rule behind the current event, and for a warning the
//! whole story — what was seen, why it happened, how to fix it, and the decisions around it
//! that mention the same address.

use super::log::{Entry, Log};
use crate::trace::{Direction, Record};

/// How far around a warning to look for the decisions that led to it.
const STORY_WINDOW: usize = 60;

/// A paragraph of the explanation, with a heading when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub heading: Option<&'static str>,
    pub text: String,
}

fn plain(text: impl Into<String>) -> Paragraph {
    Paragraph {
        heading: None,
        text: text.into(),
    }
}

fn headed(heading: &'static str, text: impl Into<String>) -> Paragraph {
    Paragraph {
        heading: Some(heading),
        text: text.into(),
    }
}

/// The explanation of the entry at `index`.
pub fn explain(log: &Log, index: usize) -> Vec<Paragraph> {
    let Some(entry) = log.entries.get(index) else {
        return vec![plain("No event yet.")];
    };
    match &entry.record {
        Record::Capture(c) => {
            let host = &log.hosts[c.host];
            let verb = match c.dir {
                Direction::In => "received",
                Direction::Out => "sent",
            };
            let mut out = vec![plain(format!("{host} {verb} this frame on {}.", c.iface))];
            out.extend(c.notes.iter().map(|n| match n.strip_prefix("dropped: ") {
                Some(reason) => headed("Dropped", reason),
                None => plain(n.clone()),
            }));
            if c.notes.is_empty() && c.dir == Direction::In {
                out.push(plain(
                    "Nothing needed explaining: the host handled it the ordinary way.",
                ));
            }
            out
        }
        Record::Note { text, .. } => vec![plain(text.clone())],
        Record::Command { host, line, .. } => vec![plain(format!(
            "The lab runs `{line}` on {}.",
            log.hosts[*host]
        ))],
        Record::Output { host, text, .. } => {
            vec![plain(format!("{} printed: {text}", log.hosts[*host]))]
        }
        Record::Warning(w) => {
            let mut out = story(&w.kind, &w.detail);
            out.extend(related(log, index, &w.detail));
            out
        }
    }
}

/// A diagnosis reads "WHAT: WHY; FIX": split so each part gets its heading.
fn story(kind: &str, detail: &str) -> Vec<Paragraph> {
    let (what, rest) = detail.split_once(": ").unwrap_or((detail, ""));
    let (why, fix) = rest.rsplit_once("; ").unwrap_or((rest, ""));
    let mut out = vec![headed("Warning", format!("{kind}: {what}"))];
    if !why.is_empty() {
        out.push(headed("Why", why));
    }
    if !fix.is_empty() {
        out.push(headed("Fix", fix));
    }
    out
}

/// The notes near the warning that mention the address it is about (who answered, who
/// learned what): the decisions that make up the story.
fn related(log: &Log, index: usize, detail: &str) -> Vec<Paragraph> {
    let Some(address) = detail
        .split_whitespace()
        .find(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
    else {
        return Vec::new();
    };
    let from = index.saturating_sub(STORY_WINDOW);
    let to = (index + STORY_WINDOW).min(log.len());
    log.entries[from..to]
        .iter()
        .flat_map(notes)
        .filter(|n| n.contains(address))
        .map(|n| headed("Seen", n.to_owned()))
        .collect()
}

fn notes(entry: &Entry) -> Vec<&str> {
    match &entry.record {
        Record::Capture(c) => c.notes.iter().map(String::as_str).collect(),
        Record::Note { text, .. } => vec![text.as_str()],
        _ => Vec::new(),
    }
}
