//! The shell subset lab scripts are written in: words, quotes, `$VAR` expansion of variables
//! assigned earlier in the script, `\` continuations, comments, `;`, `&&`, a trailing `&`
//! and output redirection. Nothing is ever executed by a real shell: the words become
//! simulator commands. Anything else bash would do (pipes, loops, `if`) is an error.

use std::collections::BTreeMap;

use super::source::{Diagnostic, MappedText, Source, Span};

/// A word after quote removal and expansion, with the span of its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// `> FILE`, `>> FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub target: Word,
    pub append: bool,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub words: Vec<Word>,
    /// Where standard output goes (`echo 1 > /proc/sys/...`).
    pub stdout: Option<Redirect>,
    /// Runs only if the previous command succeeded (`a && b`).
    pub after_success: bool,
    pub span: Span,
}

impl CommandLine {
    /// The command as written, for the timeline (`$ curl -s http://...`).
    pub fn display(&self) -> String {
        let mut text = self
            .words
            .iter()
            .map(|w| quote_for_display(&w.text))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(r) = &self.stdout {
            text.push_str(if r.append { " >> " } else { " > " });
            text.push_str(&r.target.text);
        }
        text
    }

    /// The command name without a directory (`/sbin/ipvsadm` → `ipvsadm`).
    pub fn program(&self) -> &str {
        let first = &self.words[0].text;
        first.rsplit('/').next().unwrap_or(first)
    }
}

fn quote_for_display(text: &str) -> String {
    if text.is_empty() || text.contains(char::is_whitespace) {
        format!("'{text}'")
    } else {
        text.to_owned()
    }
}

const UNSUPPORTED_KEYWORDS: [&str; 18] = [
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "function", "{", "}", "[", "[[", "source",
];

struct Lexer<'a> {
    mapped: &'a MappedText,
    source: &'a Source,
    chars: Vec<(usize, char)>,
    pos: usize,
    vars: &'a mut BTreeMap<String, String>,
}

/// What ended a command.
#[derive(Debug, PartialEq, Eq)]
enum Terminator {
    End,
    Semicolon,
    And,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).map(|&(_, c)| c)
    }

    fn offset(&self, index: usize) -> usize {
        self.chars
            .get(index)
            .map_or(self.mapped.text.len(), |&(o, _)| o)
    }

    fn span(&self, from: usize, to: usize) -> Span {
        self.mapped.span(self.offset(from), self.offset(to))
    }

    fn error(&self, from: usize, to: usize, message: impl Into<String>) -> Diagnostic {
        self.source
            .error(self.span(from, to.max(from + 1)), message)
    }

    fn skip_blanks(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(' ' | '\t' | '\r'), _) => self.pos += 1,
                (Some('\\'), Some('\n')) => self.pos += 2,
                _ => return,
            }
        }
    }

    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.pos += 1;
        }
    }

    /// Reads one word, expanding variables; None at an operator or the end.
    fn word(&mut self) -> Result<Option<Word>, Diagnostic> {
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '>' | '<' => break,
                '\\' => {
                    match self.peek_at(1) {
                        Some('\n') => {}
                        Some(next) => text.push(next),
                        None => {}
                    }
                    self.pos += 2;
                }
                '\'' => {
                    self.pos += 1;
                    let open = self.pos - 1;
                    loop {
                        match self.peek() {
                            None => {
                                return Err(self.error(
                                    open,
                                    open + 1,
                                    "unterminated single quote",
                                ));
                            }
                            Some('\'') => break,
                            Some(ch) => text.push(ch),
                        }
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                '"' => self.double_quoted(&mut text)?,
                '$' => self.expand(&mut text)?,
                '`' => {
                    return Err(self.error(
                        self.pos,
                        self.pos + 1,
                        "command substitution with backquotes is not simulated",
                    ));
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if self.pos == start {
            return Ok(None);
        }
        Ok(Some(Word {
            text,
            span: self.span(start, self.pos),
        }))
    }

    fn double_quoted(&mut self, text: &mut String) -> Result<(), Diagnostic> {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error(open, open + 1, "unterminated double quote")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') if matches!(self.peek_at(1), Some('"' | '\\' | '$' | '`')) => {
                    text.push(self.peek_at(1).expect("matched"));
                    self.pos += 2;
                }
                Some('\\') if self.peek_at(1) == Some('\n') => self.pos += 2,
                Some('$') => self.expand(text)?,
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `$NAME`, `${NAME}`, and `$(pidof NAME)` (kept literally for `kill`).
    fn expand(&mut self, text: &mut String) -> Result<(), Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                let name_start = self.pos;
                while self.peek().is_some_and(|c| c != '}') {
                    self.pos += 1;
                }
                if self.peek() != Some('}') {
                    return Err(self.error(start, self.pos, "unterminated ${...}"));
                }
                let name: String = self.chars[name_start..self.pos]
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                self.pos += 1;
                self.substitute(&name, start, text)
            }
            Some('(') => {
                let open = self.pos;
                while self.peek().is_some_and(|c| c != ')' && c != '\n') {
                    self.pos += 1;
                }
                if self.peek() != Some(')') {
                    return Err(self.error(start, self.pos, "unterminated $(...)"));
                }
                self.pos += 1;
                let inner: String = self.chars[open + 1..self.pos - 1]
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                let words: Vec<&str> = inner.split_whitespace().collect();
                if words.len() == 2 && words[0] == "pidof" {
                    text.push_str(&format!("$(pidof {})", words[1]));
                    Ok(())
                } else {
                    Err(self.error(start, self.pos, format!("command substitution `$({inner})` is not simulated (only $(pidof NAME), for kill)")))
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let name_start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.pos += 1;
                }
                let name: String = self.chars[name_start..self.pos]
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                self.substitute(&name, start, text)
            }
            Some(c) if c.is_ascii_digit() || "?#@*!$-".contains(c) => {
                self.pos += 1;
                Err(self.error(
                    start,
                    self.pos,
                    format!("`${c}`: shell parameters are not simulated"),
                ))
            }
            _ => {
                text.push('$');
                Ok(())
            }
        }
    }

    fn substitute(&self, name: &str, start: usize, text: &mut String) -> Result<(), Diagnostic> {
        match self.vars.get(name) {
            Some(value) => {
                text.push_str(value);
                Ok(())
            }
            None => Err(self
                .error(start, self.pos, format!("`${name}` is not set"))
                .with_help(
                    "lvsim expands only variables assigned earlier in the same script (NAME=value)",
                )),
        }
    }

    /// Reads one simple command up to its terminator.
    fn command(&mut self) -> Result<Option<(CommandLine, Terminator)>, Diagnostic> {
        let mut words: Vec<Word> = Vec::new();
        let mut stdout = None;
        let start = self.pos;
        loop {
            self.skip_blanks();
            let here = self.pos;
            match (self.peek(), self.peek_at(1)) {
                (None, _) => return Ok(self.finish(words, stdout, start, Terminator::End)),
                (Some('\n'), _) => {
                    self.pos += 1;
                    if words.is_empty() && stdout.is_none() {
                        return Ok(Some((CommandLine::empty(), Terminator::Semicolon)));
                    }
                    return Ok(self.finish(words, stdout, start, Terminator::Semicolon));
                }
                (Some('#'), _) => self.skip_comment(),
                (Some(';'), _) => {
                    self.pos += 1;
                    return Ok(self.finish(words, stdout, start, Terminator::Semicolon));
                }
                (Some('&'), Some('&')) => {
                    self.pos += 2;
                    return Ok(self.finish(words, stdout, start, Terminator::And));
                }
                (Some('&'), Some('>')) => {
                    self.pos += 2;
                    self.discard_target(here)?;
                }
                (Some('&'), _) => {
                    // Background: every program runs asynchronously in lvsim anyway.
                    self.pos += 1;
                    return Ok(self.finish(words, stdout, start, Terminator::Semicolon));
                }
                (Some('|'), Some('|')) => {
                    return Err(self.error(here, here + 2, "`||` is not simulated"));
                }
                (Some('|'), _) => {
                    return Err(self
                        .error(here, here + 1, "pipes are not simulated")
                        .with_help(
                            "run the command on its own; its output appears in the timeline",
                        ));
                }
                (Some('<'), _) => {
                    return Err(self.error(here, here + 1, "input redirection is not simulated"));
                }
                (Some('>'), _) => {
                    let append = self.peek_at(1) == Some('>');
                    self.pos += if append { 2 } else { 1 };
                    self.skip_blanks();
                    let Some(target) = self.word()? else {
                        return Err(self.error(
                            here,
                            self.pos,
                            "a file name is expected after `>`",
                        ));
                    };
                    stdout = Some(Redirect { target, append });
                }
                (Some('2'), Some('>')) if self.at_word_start() => {
                    self.pos += 2;
                    if self.peek() == Some('&') && self.peek_at(1) == Some('1') {
                        self.pos += 2;
                    } else {
                        self.discard_target(here)?;
                    }
                }
                _ => match self.word()? {
                    Some(word) => words.push(word),
                    None => return Err(self.error(here, here + 1, "unexpected character")),
                },
            }
        }
    }

    fn at_word_start(&self) -> bool {
        self.pos == 0 || matches!(self.chars[self.pos - 1].1, ' ' | '\t' | '\n' | ';')
    }

    /// `2> FILE` / `&> FILE`: only /dev/null is a place to send error output.
    fn discard_target(&mut self, from: usize) -> Result<(), Diagnostic> {
        self.skip_blanks();
        match self.word()? {
            Some(w) if w.text == "/dev/null" => Ok(()),
            Some(w) => Err(self.source.error(
                w.span,
                format!("`{}`: only /dev/null can receive error output", w.text),
            )),
            None => Err(self.error(
                from,
                self.pos,
                "a file name is expected after the redirection",
            )),
        }
    }

    fn finish(
        &self,
        words: Vec<Word>,
        stdout: Option<Redirect>,
        start: usize,
        end: Terminator,
    ) -> Option<(CommandLine, Terminator)> {
        if words.is_empty() && stdout.is_none() && end == Terminator::End {
            return None;
        }
        let span = match (words.first(), words.last()) {
            (Some(a), Some(b)) => a
                .span
                .join(stdout.as_ref().map_or(b.span, |r| r.target.span)),
            _ => self.span(start, self.pos),
        };
        Some((
            CommandLine {
                words,
                stdout,
                after_success: false,
                span,
            },
            end,
        ))
    }
}

impl CommandLine {
    fn empty() -> CommandLine {
        CommandLine {
            words: Vec::new(),
            stdout: None,
            after_success: false,
            span: Span::default(),
        }
    }
}

/// `NAME=value` as a whole word (the name part unquoted in the source).
fn assignment(word: &Word) -> Option<(String, String)> {
    let (name, value) = word.text.split_once('=')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (name.to_owned(), value.to_owned()))
}

/// Splits a script into commands, applying variable assignments as they come.
pub fn parse_script(
    mapped: &MappedText,
    source: &Source,
    vars: &mut BTreeMap<String, String>,
) -> Result<Vec<CommandLine>, Diagnostic> {
    let chars: Vec<(usize, char)> = mapped.text.char_indices().collect();
    let mut lexer = Lexer {
        mapped,
        source,
        chars,
        pos: 0,
        vars,
    };
    let mut out = Vec::new();
    let mut after_and = false;
    while let Some((mut line, end)) = lexer.command()? {
        if line.words.is_empty() {
            if line.stdout.is_some() {
                return Err(source.error(line.span, "a redirection needs a command"));
            }
            after_and = false;
            continue;
        }
        if let Some(word) = line.words.iter().find(|w| w.text.contains("=(")) {
            return Err(source.error(word.span, "shell arrays are not simulated"));
        }
        let assignments = line
            .words
            .iter()
            .take_while(|w| assignment(w).is_some())
            .count();
        for word in &line.words[..assignments] {
            let (name, value) = assignment(word).expect("counted");
            lexer.vars.insert(name, value);
        }
        line.words.drain(..assignments);
        if line.words.is_empty() {
            after_and = end == Terminator::And;
            continue;
        }
        let first = &line.words[0];
        if UNSUPPORTED_KEYWORDS.contains(&first.text.as_str()) || first.text == "." {
            return Err(source
                .error(
                    first.span,
                    format!(
                        "`{}`: shell control flow and sourcing are not simulated",
                        first.text
                    ),
                )
                .with_help(
                    "write one command per line; use [[at]] entries to run commands later",
                ));
        }
        line.after_success = after_and;
        after_and = end == Terminator::And;
        out.push(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(script: &str) -> Result<Vec<CommandLine>, Diagnostic> {
        let source = Source::new("t.toml", script);
        let mapped = MappedText {
            text: script.to_owned(),
            offsets: (0..script.len()).collect(),
            fallback: 0,
        };
        parse_script(&mapped, &source, &mut BTreeMap::new())
    }

    fn texts(lines: &[CommandLine]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.words.iter().map(|w| w.text.clone()).collect())
            .collect()
    }

    #[test]
    fn the_seed_rs_script_lexes_with_its_variables_and_redirections() {
        let script = "#/bin/bash\nvip=192.168.188.120\n#comment\nifconfig lo:0 $vip broadcast $vip netmask 255.255.255.255 up\nroute add -host $vip lo:0\necho \"1\" >/proc/sys/net/ipv4/conf/lo/arp_ignore\n";
        let lines = lex(script).unwrap();
        assert_eq!(
            texts(&lines)[0],
            [
                "ifconfig",
                "lo:0",
                "192.168.188.120",
                "broadcast",
                "192.168.188.120",
                "netmask",
                "255.255.255.255",
                "up"
            ]
        );
        assert_eq!(
            texts(&lines)[1],
            ["route", "add", "-host", "192.168.188.120", "lo:0"]
        );
        assert_eq!(texts(&lines)[2], ["echo", "1"]);
        assert_eq!(
            lines[2].stdout.as_ref().unwrap().target.text,
            "/proc/sys/net/ipv4/conf/lo/arp_ignore"
        );
    }

    #[test]
    fn commands_through_variables_and_paths_name_their_program() {
        let lines = lex("ipv=/sbin/ipvsadm\n$ipv -C\n").unwrap();
        assert_eq!(lines[0].program(), "ipvsadm");
    }

    #[test]
    fn continuations_semicolons_and_and_chains() {
        let lines = lex(
            "ip addr add 10.0.0.1/24 \\\n  dev eth0; ip link set eth0 up && ping -c 1 10.0.0.2 &\n",
        )
        .unwrap();
        assert_eq!(
            texts(&lines),
            vec![
                vec!["ip", "addr", "add", "10.0.0.1/24", "dev", "eth0"],
                vec!["ip", "link", "set", "eth0", "up"],
                vec!["ping", "-c", "1", "10.0.0.2"],
            ]
        );
        assert!(!lines[1].after_success && lines[2].after_success);
    }

    #[test]
    fn word_spans_point_at_the_source() {
        let script = "x=5\nping -c $x 10.0.0.1\n";
        let lines = lex(script).unwrap();
        let w = &lines[0].words[2];
        assert_eq!(w.text, "5");
        assert_eq!(&script[w.span.start..w.span.end], "$x");
    }

    #[test]
    fn unset_variables_pipes_and_control_flow_are_errors() {
        let e = lex("ping $nope\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 6));
        assert!(e.message.contains("`$nope` is not set"));
        assert!(
            lex("arp -n | grep x\n")
                .unwrap_err()
                .message
                .contains("pipes")
        );
        assert!(
            lex("for i in 1 2; do ping $i; done\n")
                .unwrap_err()
                .message
                .contains("control flow")
        );
        assert!(
            lex("echo 'open\n")
                .unwrap_err()
                .message
                .contains("unterminated")
        );
        assert!(lex("RIP=(a b)\n").unwrap_err().message.contains("arrays"));
    }

    #[test]
    fn pidof_substitution_is_kept_for_kill() {
        let lines = lex("kill -9 $(pidof keepalived)\n").unwrap();
        assert_eq!(lines[0].words[2].text, "$(pidof keepalived)");
    }

    #[test]
    fn error_output_may_go_to_dev_null_only() {
        assert!(lex("ping -c 1 10.0.0.1 2>/dev/null\n").is_ok());
        assert!(lex("ping -c 1 10.0.0.1 >/dev/null 2>&1\n").is_ok());
        assert!(lex("ping -c 1 10.0.0.1 2> /tmp/x\n").is_err());
    }
}
