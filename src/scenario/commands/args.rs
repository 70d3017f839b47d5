//! A cursor over a command's words, with the value parsers the tools share and errors that
//! point at the offending word.

use std::net::Ipv4Addr;

use crate::scenario::shell::Word;
use crate::scenario::source::{Diagnostic, Source, Span};
use crate::wire::MacAddr;

pub struct Args<'a> {
    pub source: &'a Source,
    words: &'a [Word],
    pos: usize,
    /// The whole command, for errors about something missing.
    whole: Span,
}

impl<'a> Args<'a> {
    /// The words after the program name.
    pub fn new(source: &'a Source, words: &'a [Word], whole: Span) -> Args<'a> {
        Args {
            source,
            words,
            pos: 1,
            whole,
        }
    }

    /// The text of word `index` of the command (0 = the program name as written).
    pub fn source_word(&self, index: usize) -> String {
        self.words
            .get(index)
            .map(|w| w.text.clone())
            .unwrap_or_default()
    }

    pub fn peek(&self) -> Option<&'a Word> {
        self.words.get(self.pos)
    }

    pub fn peek_text(&self) -> Option<&'a str> {
        self.peek().map(|w| w.text.as_str())
    }

    pub fn take(&mut self) -> Option<&'a Word> {
        let word = self.words.get(self.pos)?;
        self.pos += 1;
        Some(word)
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.words.len()
    }

    pub fn rest(&self) -> &'a [Word] {
        &self.words[self.pos.min(self.words.len())..]
    }

    /// The next word, or an error saying what was expected after the command.
    pub fn expect(&mut self, what: &str) -> Result<&'a Word, Diagnostic> {
        match self.take() {
            Some(word) => Ok(word),
            None => Err(self.missing(what)),
        }
    }

    /// An error at the end of the command: something is missing.
    pub fn missing(&self, what: &str) -> Diagnostic {
        let end = self.words.last().map_or(self.whole, |w| w.span);
        self.source
            .error(Span::new(end.start, end.end), format!("{what} is missing"))
    }

    pub fn error_at(&self, word: &Word, message: impl Into<String>) -> Diagnostic {
        self.source.error(word.span, message)
    }

    pub fn error_whole(&self, message: impl Into<String>) -> Diagnostic {
        self.source.error(self.whole, message)
    }

    /// Fails if words remain: `program: unexpected argument 'x'` plus what is accepted.
    pub fn finish(&self, program: &str, accepted: &str) -> Result<(), Diagnostic> {
        match self.peek() {
            None => Ok(()),
            Some(word) => Err(self
                .error_at(
                    word,
                    format!("{program}: unexpected argument `{}`", word.text),
                )
                .with_help(format!("accepted: {accepted}"))),
        }
    }

    pub fn ipv4(&mut self, what: &str) -> Result<Ipv4Addr, Diagnostic> {
        let word = self.expect(what)?;
        parse_ipv4(word).map_err(|m| self.error_at(word, m))
    }

    pub fn number<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, Diagnostic> {
        let word = self.expect(what)?;
        word.text
            .parse()
            .map_err(|_| self.error_at(word, format!("`{}` is not a valid {what}", word.text)))
    }

    pub fn mac(&mut self, what: &str) -> Result<MacAddr, Diagnostic> {
        let word = self.expect(what)?;
        word.text
            .parse()
            .map_err(|m: String| self.error_at(word, m))
    }
}

/// A dotted-quad address.
pub fn parse_ipv4(word: &Word) -> Result<Ipv4Addr, String> {
    word.text
        .parse()
        .map_err(|_| format!("`{}` is not an IPv4 address (expected a.b.c.d)", word.text))
}

/// `A.B.C.D[/LEN]`, with the prefix length when given.
pub fn parse_prefix(word: &Word) -> Result<(Ipv4Addr, Option<u8>), String> {
    let (addr, len) = match word.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (word.text.as_str(), None),
    };
    let ip: Ipv4Addr = addr.parse().map_err(|_| {
        format!(
            "`{}` is not an IPv4 address or prefix (expected a.b.c.d or a.b.c.d/len)",
            word.text
        )
    })?;
    let len = match len {
        None => None,
        Some(l) => Some(
            l.parse::<u8>()
                .ok()
                .filter(|&n| n <= 32)
                .ok_or_else(|| format!("`{l}` is not a prefix length (0-32)"))?,
        ),
    };
    Ok((ip, len))
}

/// One parsed option: its letter, its value if it takes one, and the word it came from.
pub struct Opt<'a> {
    pub letter: char,
    pub value: Option<String>,
    pub word: &'a Word,
}

/// getopt(3)-style parsing: short options (bundled `-qn`, values attached `-c3` or separate
/// `-c 3`), long options mapped to letters, and the remaining operands.
pub struct OptionSpec<'s> {
    pub program: &'s str,
    /// Letters that take a value.
    pub with_value: &'s str,
    /// Letters that are plain flags.
    pub flags: &'s str,
    /// `--name` → letter.
    pub long: &'s [(&'s str, char)],
    pub accepted: &'s str,
}

impl OptionSpec<'_> {
    pub fn parse<'a>(
        &self,
        args: &mut Args<'a>,
    ) -> Result<(Vec<Opt<'a>>, Vec<&'a Word>), Diagnostic> {
        let mut options = Vec::new();
        let mut operands = Vec::new();
        while let Some(word) = args.take() {
            let text = word.text.as_str();
            if let Some(long) = text.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (long, None),
                };
                let Some(&(_, letter)) = self.long.iter().find(|(n, _)| *n == name) else {
                    return Err(self.unknown(args, word, text));
                };
                let value = if self.with_value.contains(letter) {
                    Some(match inline {
                        Some(v) => v,
                        None => args.expect(&format!("the value of --{name}"))?.text.clone(),
                    })
                } else {
                    None
                };
                options.push(Opt {
                    letter,
                    value,
                    word,
                });
                continue;
            }
            if !text.starts_with('-') || text.len() == 1 {
                operands.push(word);
                continue;
            }
            let letters: Vec<char> = text[1..].chars().collect();
            for (i, &letter) in letters.iter().enumerate() {
                if self.with_value.contains(letter) {
                    let attached: String = letters[i + 1..].iter().collect();
                    let value = if attached.is_empty() {
                        args.expect(&format!("the value of -{letter}"))?
                            .text
                            .clone()
                    } else {
                        attached
                    };
                    options.push(Opt {
                        letter,
                        value: Some(value),
                        word,
                    });
                    break;
                }
                if !self.flags.contains(letter) {
                    return Err(self.unknown(args, word, &format!("-{letter}")));
                }
                options.push(Opt {
                    letter,
                    value: None,
                    word,
                });
            }
        }
        Ok((options, operands))
    }

    fn unknown(&self, args: &Args, word: &Word, option: &str) -> Diagnostic {
        args.error_at(
            word,
            format!(
                "{}: invalid option -- '{}'",
                self.program,
                option.trim_start_matches('-')
            ),
        )
        .with_help(format!("accepted: {}", self.accepted))
    }
}
