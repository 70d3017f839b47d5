//! The keyword engine of keepalived's `process_stream` (lib/parser.c): each block is a table
//! of keywords; a keyword's handler reads its arguments, and a keyword with a sub-block
//! recurses into its own table. Unknown keywords are reported and ignored, so one typo
//! produces the same cascade of messages as in keepalived (`Unknown keyword 'real_sever'`,
//! then `Unexpected '{' - ignoring` and the sub-block's lines read at the outer level).

use std::net::Ipv4Addr;

use super::global::GLOBAL_DEFS;
use super::lexer::{Lexed, LogicalLine, lex};
use super::model::{Config, SECOND_US};
use super::model::{GlobalDefs, SyncGroup, VirtualServerGroup};
use super::virtual_server::{self, ServerDraft};
use super::vrrp::{self, InstanceDraft, ScriptDraft};

/// One message keepalived would print for the config (`keepalived -t` exits 5 on any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiagnostic {
    /// The config-text line keepalived names; None for the checks it makes after reading
    /// the whole file (missing braces, defaults it had to choose, dropped servers).
    pub line: Option<usize>,
    pub message: String,
}

impl ConfigDiagnostic {
    /// keepalived's form: `(FILE: Line N) MESSAGE`; `(FILE) MESSAGE` for the whole-file checks
    /// (keepalived prints those without a prefix, which would not say which host's file).
    pub fn render(&self, file: &str) -> String {
        match self.line {
            Some(n) => format!("({file}: Line {n}) {}", self.message),
            None => format!("({file}) {}", self.message),
        }
    }
}

/// A parsed config: the model with keepalived's defaults applied, and what keepalived said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub config: Config,
    pub diagnostics: Vec<ConfigDiagnostic>,
}

/// Parses a keepalived.conf text. Never fails: like keepalived, it reports and goes on.
pub fn parse(text: &str) -> Parsed {
    let Lexed { lines, unclosed } = lex(text);
    let mut parser = Parser::new(lines);
    parser.block(&TOP_LEVEL, false, 0);
    if unclosed > 0 {
        parser.report_file(format!("There are {unclosed} missing '}}'s or extra '{{'s"));
    }
    let config = parser.finish();
    Parsed {
        config,
        diagnostics: parser.diagnostics,
    }
}

/// A keyword handler: the parser and the keyword's words (the keyword itself first).
pub(super) type Handler = fn(&mut Parser, &[String]);

/// One keyword of a block's table.
pub(super) struct Keyword {
    pub name: &'static str,
    pub handler: Handler,
    pub sub: Option<&'static Block>,
}

impl Keyword {
    pub const fn new(name: &'static str, handler: Handler) -> Keyword {
        Keyword {
            name,
            handler,
            sub: None,
        }
    }

    pub const fn block(name: &'static str, handler: Handler, sub: &'static Block) -> Keyword {
        Keyword {
            name,
            handler,
            sub: Some(sub),
        }
    }

    /// A keyword keepalived knows that lvsim does not simulate (mail, SNMP, VMACs, ...).
    pub const fn ignored(name: &'static str) -> Keyword {
        Keyword::new(name, |_, _| {})
    }

    /// A keyword whose `{ ... }` value block lvsim does not simulate.
    pub const fn ignored_values(name: &'static str) -> Keyword {
        Keyword::new(name, |p, words| {
            p.value_block(words, |_, _| {});
        })
    }
}

/// A sub-block: its keyword tables (blocks of one family share one, e.g. the checkers'
/// common keywords) and what runs when its `}` is reached (sub_close_handler).
pub(super) struct Block {
    pub keywords: &'static [&'static [Keyword]],
    pub close: Option<fn(&mut Parser)>,
}

static TOP_LEVEL: Block = Block {
    keywords: &[&[
        Keyword::block("global_defs", |_, _| {}, &GLOBAL_DEFS),
        Keyword::block("vrrp_script", vrrp::open_script, &vrrp::VRRP_SCRIPT),
        Keyword::block("vrrp_sync_group", vrrp::open_sync_group, &vrrp::SYNC_GROUP),
        Keyword::block("vrrp_instance", vrrp::open_instance, &vrrp::VRRP_INSTANCE),
        Keyword::new("virtual_server_group", virtual_server::server_group),
        Keyword::block(
            "virtual_server",
            virtual_server::open_server,
            &virtual_server::VIRTUAL_SERVER,
        ),
    ]],
    close: None,
};

/// The config being built, with what each block has not decided yet.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub global: GlobalDefs,
    pub script_security: bool,
    pub scripts: Vec<ScriptDraft>,
    pub sync_groups: Vec<SyncGroup>,
    pub instances: Vec<InstanceDraft>,
    pub server_groups: Vec<VirtualServerGroup>,
    pub servers: Vec<ServerDraft>,
}

pub(super) struct Parser {
    lines: Vec<LogicalLine>,
    next: usize,
    /// Lines whose notes were already reported (a line may be read again after a skip).
    noted: usize,
    line: usize,
    /// Set by a handler that rejects its keyword: the sub-block is skipped (skip_block).
    skip_sub_block: bool,
    pub draft: Draft,
    pub diagnostics: Vec<ConfigDiagnostic>,
}

impl Parser {
    fn new(lines: Vec<LogicalLine>) -> Parser {
        Parser {
            lines,
            next: 0,
            noted: 0,
            line: 0,
            skip_sub_block: false,
            draft: Draft::default(),
            diagnostics: Vec::new(),
        }
    }

    /// A message for the line being parsed.
    pub fn report(&mut self, message: impl Into<String>) {
        self.diagnostics.push(ConfigDiagnostic {
            line: Some(self.line),
            message: message.into(),
        });
    }

    /// A message from the checks made after reading (no line, as in keepalived).
    pub fn report_file(&mut self, message: impl Into<String>) {
        self.diagnostics.push(ConfigDiagnostic {
            line: None,
            message: message.into(),
        });
    }

    /// The line number being parsed (kept in the model for the timeline).
    pub fn line(&self) -> usize {
        self.line
    }

    /// skip_block(): the keyword being handled is rejected with its whole sub-block.
    pub fn skip_block(&mut self) {
        self.skip_sub_block = true;
    }

    /// The next logical line with words, reporting the lexer's notes on first reading.
    fn read_line(&mut self) -> Option<Vec<String>> {
        while let Some(line) = self.lines.get(self.next) {
            self.next += 1;
            self.line = line.number;
            if self.next > self.noted {
                self.noted = self.next;
                let notes = line.notes.clone();
                for note in notes {
                    self.report(note);
                }
            }
            if let Some(line) = self.lines.get(self.next - 1)
                && !line.words.is_empty()
            {
                return Some(line.words.clone());
            }
        }
        None
    }

    fn unread(&mut self) {
        self.next -= 1;
    }

    /// process_stream(): the lines of one block, until its `}` (or the end of the text).
    fn block(&mut self, block: &Block, mut need_open: bool, level: usize) {
        while let Some(words) = self.read_line() {
            let first = words[0].as_str();
            if need_open {
                need_open = false;
                if first == "{" && level > 0 {
                    continue;
                }
                self.report("Missing '{' at beginning of configuration block");
            } else if first == "{" {
                self.report("Unexpected '{' - ignoring");
                continue;
            }
            if first == "}" && level > 0 {
                return;
            }
            match block
                .keywords
                .iter()
                .flat_map(|t| t.iter())
                .find(|k| k.name == first)
            {
                Some(keyword) => self.keyword(keyword, words, level),
                None => self.report(format!("Unknown keyword '{first}'")),
            }
        }
    }

    fn keyword(&mut self, keyword: &Keyword, mut words: Vec<String>, level: usize) {
        let mut need_open = false;
        if keyword.sub.is_some() {
            if words.last().is_some_and(|w| w == "{") {
                words.pop();
            } else {
                need_open = true;
            }
        }
        (keyword.handler)(self, &words);
        let Some(sub) = keyword.sub else {
            return;
        };
        if std::mem::take(&mut self.skip_sub_block) {
            self.skip_lines(need_open);
            return;
        }
        self.block(sub, need_open, level + 1);
        if let Some(close) = sub.close {
            close(self);
        }
    }

    /// The lines of a rejected keyword's sub-block, up to its matching `}`.
    fn skip_lines(&mut self, need_open: bool) {
        let mut depth = if need_open { 0 } else { 1 };
        if need_open {
            match self.read_line() {
                Some(words) if words[0] == "{" => depth = 1,
                Some(_) => return self.unread(),
                None => return,
            }
        }
        while let Some(words) = self.read_line() {
            for word in &words {
                match word.as_str() {
                    "{" => depth += 1,
                    "}" => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    return;
                }
            }
        }
    }

    /// alloc_value_block(): `KEYWORD { value lines }`, each line (without braces) given to
    /// `item` with its words.
    pub fn value_block(&mut self, words: &[String], item: impl FnMut(&mut Parser, &[String])) {
        if let Some(extra) = words.get(1).filter(|w| *w != "{") {
            self.report(format!(
                "Block {} has extra parameters {extra} ...",
                words[0]
            ));
        }
        self.value_lines(item);
    }

    /// The `{ value lines }` after a keyword line, without checking that line.
    pub fn value_lines(&mut self, mut item: impl FnMut(&mut Parser, &[String])) {
        let mut need_open = true;
        while let Some(mut line) = self.read_line() {
            if need_open {
                need_open = false;
                if line[0] == "{" {
                    if line.len() == 1 {
                        continue;
                    }
                    line.remove(0);
                }
            }
            let closes = line.last().is_some_and(|w| w == "}");
            if closes {
                line.pop();
            }
            if !line.is_empty() {
                item(self, &line);
            }
            if closes {
                return;
            }
        }
    }

    fn finish(&mut self) -> Config {
        let mut draft = std::mem::take(&mut self.draft);
        let mut config = Config {
            global: draft.global.clone(),
            ..Config::default()
        };
        vrrp::finish(self, &mut draft, &mut config);
        virtual_server::finish(self, &mut draft, &mut config);
        config
    }

    // ----- argument readers: keepalived's read_* functions and their messages -----

    /// The word at `index`, or keepalived's missing-parameter message.
    pub fn arg<'w>(&mut self, words: &'w [String], index: usize) -> Option<&'w str> {
        let word = words.get(index).map(String::as_str);
        if word.is_none() {
            self.report(format!(
                "*** Configuration line starting `{}` is missing a parameter after keyword `{}` at word position {}",
                words[0],
                words[index - 1],
                index + 1
            ));
        }
        word
    }

    /// read_unsigned(): a decimal in [min, max], or the message keepalived prints.
    pub fn unsigned(&mut self, word: &str, min: u32, max: u32) -> Option<u32> {
        let digits = word.trim_start_matches(WHITE);
        let value = if digits.starts_with('-') {
            Err(format!("negative number '{word}'"))
        } else {
            parse_integer(digits, word)
        };
        let value = value.and_then(|v| {
            u32::try_from(v).map_err(|_| format!("number '{word}' outside unsigned integer range"))
        });
        self.in_range(value, (min, max), word, u32::to_string)
    }

    /// read_int(): a signed decimal in [min, max].
    pub fn int(&mut self, word: &str, min: i32, max: i32) -> Option<i32> {
        let value = parse_integer(word, word).and_then(|v| {
            i32::try_from(v).map_err(|_| format!("number '{word}' outside integer range"))
        });
        self.in_range(value, (min, max), word, i32::to_string)
    }

    /// The value when read and within the bounds; otherwise keepalived's message (`show`
    /// prints a bound as keepalived does).
    fn in_range<T: PartialOrd + Copy>(
        &mut self,
        value: Result<T, String>,
        (min, max): (T, T),
        word: &str,
        show: impl Fn(&T) -> String,
    ) -> Option<T> {
        match value {
            Ok(v) if v >= min && v <= max => Some(v),
            Ok(_) => {
                let (min, max) = (show(&min), show(&max));
                self.report(format!("number '{word}' outside range [{min}, {max}]"));
                None
            }
            Err(message) => {
                self.report(message);
                None
            }
        }
    }

    /// read_timer(): seconds with up to 6 decimals, returned in µs, within [min, max] µs.
    pub fn timer(&mut self, word: &str, min_us: u64, max_us: u64) -> Option<u64> {
        let text = word.trim_start_matches(WHITE);
        let us = if text.starts_with('-') {
            Err(format!("negative number '{word}'"))
        } else {
            parse_decimal_us(text, word)
        };
        self.in_range(us, (min_us, max_us), word, |&us| seconds(us))
    }

    /// An IPv4 address (inet_pton rules: four decimal octets).
    pub fn ipv4(word: &str) -> Option<Ipv4Addr> {
        word.parse().ok()
    }

    /// A port word as keepalived reads it (1..65535).
    pub fn port(&mut self, word: &str) -> Option<u16> {
        self.unsigned(word, 1, 65535).map(|p| p as u16)
    }

    /// check_true_false(): an optional on/off argument after a flag keyword (bare = true).
    pub fn flag(&mut self, words: &[String]) -> Option<bool> {
        match words.get(1).map(String::as_str) {
            None => Some(true),
            Some("true" | "on" | "yes") => Some(true),
            Some("false" | "off" | "no") => Some(false),
            Some(other) => {
                self.report(format!("Invalid value '{other}' for {}", words[0]));
                None
            }
        }
    }
}

const WHITE: &[char] = &[' ', '\t', '\x0c', '\n', '\r', '\x0b'];

/// The largest timer keepalived accepts (TIMER_MAXIMUM, µs).
pub(super) const TIMER_MAXIMUM: u64 = u32::MAX as u64 * SECOND_US / 1000;

/// `%lu.%06lu` as keepalived prints a timer bound.
fn seconds(us: u64) -> String {
    format!("{}.{:06}", us / SECOND_US, us % SECOND_US)
}

/// strtol's decimal digits (with an optional sign); the error is keepalived's message.
fn parse_integer(text: &str, word: &str) -> Result<i64, String> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid number '{word}'"));
    }
    text.parse::<i64>()
        .map_err(|_| format!("number '{word}' outside integer range"))
}

/// `S[.FFFFFF]` seconds as µs; the error is keepalived's message.
fn parse_decimal_us(text: &str, word: &str) -> Result<u64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(format!("invalid number '{word}'"));
    }
    if fraction.len() > 6 {
        return Err(format!("number '{word}' has too many decimal places"));
    }
    let out_of_range = || format!("number '{word}' outside unsigned decimal range");
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| out_of_range())?
    };
    let fraction: u64 = format!("{fraction:0<6}").parse().unwrap_or(0);
    whole
        .checked_mul(SECOND_US)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(out_of_range)
}
