//! Source text, byte spans and the diagnostics that point into them.
//!
//! Every error a user can cause names the file, line and column, shows the offending line
//! with a caret under the exact text, and says what is accepted.

use std::fmt;

/// A byte range in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A scenario file's name (as the user wrote it) and text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: &str, text: &str) -> Source {
        Source {
            name: name.to_owned(),
            text: text.to_owned(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line - 1).unwrap_or("")
    }

    /// An error at `span`.
    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        let (line, col) = self.line_col(span.start);
        let text = self.line_text(line);
        let (end_line, end_col) = self.line_col(span.end);
        let width = if end_line == line && end_col > col {
            end_col - col
        } else {
            text.chars().count().saturating_sub(col - 1).max(1)
        };
        Diagnostic {
            file: self.name.clone(),
            line,
            col,
            message: message.into(),
            snippet: Some((text.to_owned(), width)),
            help: None,
        }
    }
}

/// A user-facing error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// The source line and the caret width.
    pub snippet: Option<(String, usize)>,
    /// What is accepted, or how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error about a whole file (it could not be read).
    pub fn file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: 0,
            col: 0,
            message: message.into(),
            snippet: None,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `FILE:LINE:COL: message` — the first line of the rendering, grep-friendly.
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!("{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        }
    }
}

/// ```text
/// scenarios/x.toml:12:1: ifconfg: command not found
///    |
/// 12 | ifconfg eth0 192.168.0.1
///    | ^^^^^^^
///    = accepted: ip, ifconfig, route, ...
/// ```
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        if let Some((text, width)) = &self.snippet {
            let gutter = self.line.to_string().len();
            let pad = " ".repeat(gutter);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {text}", self.line)?;
            let indent: String = text
                .chars()
                .take(self.col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} | {indent}{}", "^".repeat(*width))?;
            if let Some(help) = &self.help {
                writeln!(f, "{pad} = {help}")?;
            }
        } else if let Some(help) = &self.help {
            writeln!(f, "  = {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// A string value from the TOML file with, for each byte of its content, the byte offset
/// in the file it came from (escapes and TOML's line-ending backslash make these differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedText {
    pub text: String,
    pub offsets: Vec<usize>,
    pub fallback: usize,
}

impl MappedText {
    /// Text that is a whole file of its own: every byte maps to itself.
    pub fn whole(text: &str) -> MappedText {
        MappedText {
            text: text.to_owned(),
            offsets: (0..text.len()).collect(),
            fallback: 0,
        }
    }

    /// The file span of content bytes `[start, end)`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let at = |i: usize| self.offsets.get(i).copied();
        let s = at(start).unwrap_or(self.fallback);
        let e = if end > start {
            at(end - 1).map_or(s, |o| o + 1)
        } else {
            s
        };
        Span::new(s, e)
    }

    /// Maps a TOML string token (quotes included, as it appears at `token_start` in the
    /// file) to its value, keeping positions. If decoding disagrees with `expected` (the
    /// TOML parser's value), every position falls back to the token start.
    pub fn from_token(token: &str, token_start: usize, expected: &str) -> MappedText {
        match decode(token, token_start) {
            Some((text, offsets)) if text == expected => MappedText {
                text,
                offsets,
                fallback: token_start,
            },
            _ => MappedText {
                text: expected.to_owned(),
                offsets: Vec::new(),
                fallback: token_start,
            },
        }
    }
}

/// Decodes a TOML string token: basic or literal, single- or multi-line.
fn decode(token: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let (quote, multi) = if token.starts_with("\"\"\"") {
        ('"', true)
    } else if token.starts_with("'''") {
        ('\'', true)
    } else if token.starts_with('"') {
        ('"', false)
    } else if token.starts_with('\'') {
        ('\'', false)
    } else {
        return None;
    };
    let delim = if multi { 3 } else { 1 };
    if token.len() < 2 * delim {
        return None;
    }
    let body_start = delim;
    let body_end = token.len() - delim;
    let mut chars = token[body_start..body_end].char_indices().peekable();
    let mut text = String::new();
    let mut offsets = Vec::new();
    let push = |c: char, at: usize, text: &mut String, offsets: &mut Vec<usize>| {
        text.push(c);
        offsets.extend(std::iter::repeat_n(base + body_start + at, c.len_utf8()));
    };
    // A newline right after the opening delimiter is trimmed.
    if multi {
        if let Some(&(_, '\n')) = chars.peek() {
            chars.next();
        } else if let Some(&(_, '\r')) = chars.peek() {
            chars.next();
            chars.next_if(|&(_, c)| c == '\n');
        }
    }
    while let Some((i, c)) = chars.next() {
        if quote == '\'' || c != '\\' {
            push(c, i, &mut text, &mut offsets);
            continue;
        }
        let (_, e) = chars.next()?;
        let decoded = match e {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            '"' => '"',
            '\\' => '\\',
            'u' | 'U' => {
                let len = if e == 'u' { 4 } else { 8 };
                let hex: String = (0..len)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            'x' => {
                let hex: String = (0..2)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            w if multi && (w == ' ' || w == '\t' || w == '\n' || w == '\r') => {
                // Line-ending backslash: skip whitespace and newlines up to the next text.
                while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
                continue;
            }
            _ => return None,
        };
        push(decoded, i, &mut text, &mut offsets);
    }
    Some((text, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let src = Source::new("x.toml", "a = 1\nbb = 2\n");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(6), (2, 1));
        assert_eq!(src.line_col(9), (2, 4));
    }

    #[test]
    fn diagnostics_render_with_a_caret_under_the_span() {
        let src = Source::new("lab.toml", "setup = \"\"\"\nifconfg eth0 up\n\"\"\"\n");
        let start = src.text.find("ifconfg").unwrap();
        let d = src
            .error(Span::new(start, start + 7), "ifconfg: command not found")
            .with_help("accepted: ip, ifconfig");
        assert_eq!(
            d.to_string(),
            "lab.toml:2:1: ifconfg: command not found\n  |\n2 | ifconfg eth0 up\n  | ^^^^^^^\n  = accepted: ip, ifconfig\n"
        );
    }

    #[test]
    fn multiline_basic_strings_map_back_to_file_offsets() {
        let file = "setup = \"\"\"\necho \"1\" > /x\nip a\n\"\"\"";
        let start = file.find("\"\"\"").unwrap();
        let token = &file[start..];
        let mapped = MappedText::from_token(token, start, "echo \"1\" > /x\nip a\n");
        assert_eq!(mapped.offsets.len(), mapped.text.len());
        let ip = mapped.text.find("ip a").unwrap();
        assert_eq!(&file[mapped.offsets[ip]..mapped.offsets[ip] + 4], "ip a");
    }

    #[test]
    fn line_ending_backslash_joins_lines_and_keeps_positions() {
        let file = "run = \"\"\"\nping -c 1 \\\n   10.0.0.1\"\"\"";
        let start = file.find("\"\"\"").unwrap();
        let mapped = MappedText::from_token(&file[start..], start, "ping -c 1 10.0.0.1");
        let at = mapped.text.find("10.0.0.1").unwrap();
        assert_eq!(
            &file[mapped.offsets[at]..mapped.offsets[at] + 8],
            "10.0.0.1"
        );
    }

    #[test]
    fn literal_strings_map_one_to_one() {
        let file = "run = 'echo $x'";
        let start = file.find('\'').unwrap();
        let mapped = MappedText::from_token(&file[start..], start, "echo $x");
        assert_eq!(mapped.span(5, 7), Span::new(start + 6, start + 8));
    }

    #[test]
    fn disagreement_with_the_parser_falls_back_to_the_token_start() {
        let mapped = MappedText::from_token("\"abc\"", 10, "something else");
        assert_eq!(mapped.span(2, 3), Span::new(10, 10));
    }
}
