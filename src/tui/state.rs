//! The TUI's own state: where the cursor is, what is selected and shown, the filter, play
//! mode and the message line. Plain data, changed only by `input::update`.

use super::filter::Filter;
use super::log::Log;
use crate::trace::HostId;

/// Which panes are shown (`1`–`4` and `x` toggle them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub detail: bool,
    pub path: bool,
    pub state: bool,
    pub explain: bool,
    pub hex: bool,
}

impl Default for Panes {
    fn default() -> Panes {
        Panes {
            detail: true,
            path: true,
            state: true,
            explain: true,
            hex: false,
        }
    }
}

/// What a line being typed will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// An event number or a time (`1.5s`, `1000ms`).
    Goto,
    Filter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Prompt { kind: PromptKind, text: String },
}

/// The line under the panes: feedback on the last command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// An active display filter and the entries it lets through (kept up to date as the
/// simulation adds entries, so stepping never re-evaluates it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    pub text: String,
    pub filter: Filter,
    pub matches: Vec<usize>,
    pub scanned: usize,
}

impl Filtered {
    pub fn new(text: String, filter: Filter) -> Filtered {
        Filtered {
            text,
            filter,
            matches: Vec::new(),
            scanned: 0,
        }
    }

    /// Evaluates the filter on the entries that arrived since the last call.
    pub fn sync(&mut self, log: &Log) {
        for (i, entry) in log.entries.iter().enumerate().skip(self.scanned) {
            if self.filter.matches(entry) {
                self.matches.push(i);
            }
        }
        self.scanned = log.len();
    }
}

/// Play speeds in events per second.
pub const SPEEDS: [u32; 8] = [1, 2, 5, 10, 25, 100, 500, 2000];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Play {
    pub playing: bool,
    pub speed: usize,
    /// Milliseconds of play time not yet turned into steps.
    pub carry_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The current entry (an index into the log).
    pub cursor: usize,
    /// The host whose state is shown; None follows the current event's host.
    pub selected: Option<HostId>,
    pub panes: Panes,
    pub mode: Mode,
    pub filter: Option<Filtered>,
    pub play: Play,
    pub message: Option<Message>,
    pub quit: bool,
}

impl Default for App {
    fn default() -> App {
        App {
            cursor: 0,
            selected: None,
            panes: Panes::default(),
            mode: Mode::Normal,
            filter: None,
            play: Play {
                playing: false,
                speed: 3,
                carry_ms: 0,
            },
            message: None,
            quit: false,
        }
    }
}

impl App {
    /// The host the state pane shows: the selected one, else the current event's.
    pub fn shown_host(&self, log: &Log) -> Option<HostId> {
        self.selected
            .or_else(|| log.entries.get(self.cursor).and_then(|e| e.facts.host))
    }

    pub fn tell(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    pub fn complain(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }
}
