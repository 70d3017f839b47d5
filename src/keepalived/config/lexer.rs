//! keepalived.conf's lexical rules as keepalived 2.2.7's `lib/parser.c` applies them
//! (`read_line`, `decomment`, `alloc_strvec`; `reference/keepalived.md` §1): physical lines
//! lose their comments and surrounding blanks, a `{` or `}` outside quotes ends a logical
//! line (the rest of the physical line is read again as the next one, with the same line
//! number), and words are split on blanks with `"..."` grouping.
//!
//! Measured on the real 2.2.7: its generic tokenizer does not expand C escapes, does not
//! treat `'` as a quote (`'a b'` is the two words `'a` and `b'`), and `w\#x` is the word `w`
//! and a comment. Those are the rules here.

/// One logical line: the words keepalived's keyword matcher sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// 1-based line of the config text this logical line came from.
    pub number: usize,
    /// Empty when the line only produced messages (an `include`, an unmatched quote).
    pub words: Vec<String>,
    /// keepalived's messages about this line, reported when the parser reaches it.
    pub notes: Vec<String>,
}

/// The whole text as logical lines, with the brace balance keepalived checks at the end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lexed {
    pub lines: Vec<LogicalLine>,
    /// `{` lines never closed: "There are N missing '}'s or extra '{'s".
    pub unclosed: usize,
}

const BLANKS: &[char] = &[' ', '\t'];
const WHITE_SPACE: &[char] = &[' ', '\t', '\x0c', '\n', '\r', '\x0b'];

/// Splits a config text into keepalived's logical lines.
pub fn lex(text: &str) -> Lexed {
    let mut lexer = Lexer::default();
    for (index, physical) in text.split('\n').enumerate() {
        lexer.physical_line(index + 1, physical.trim_end_matches(['\r', '\n']));
    }
    Lexed {
        lines: lexer.lines,
        unclosed: lexer.depth,
    }
}

#[derive(Default)]
struct Lexer {
    lines: Vec<LogicalLine>,
    /// `block_depth` of read_line: `{` lines minus `}` lines, never below 0.
    depth: usize,
}

impl Lexer {
    fn physical_line(&mut self, number: usize, raw: &str) {
        let (text, unterminated) = decomment(raw);
        let mut notes = Vec::new();
        if unterminated {
            notes.push(format!(
                "Unterminated quote '{}'",
                raw.trim_start_matches(BLANKS)
            ));
        }
        let mut rest = Some(text);
        while let Some(current) = rest.take().filter(|t| !t.is_empty()) {
            let (head, residue) = split_at_brace(&current);
            rest = residue;
            self.logical_line(number, &head, std::mem::take(&mut notes));
        }
        if !notes.is_empty() {
            self.lines.push(LogicalLine {
                number,
                words: Vec::new(),
                notes,
            });
        }
    }

    fn logical_line(&mut self, number: usize, text: &str, mut notes: Vec<String>) {
        let (mut words, unmatched) = split_words(text);
        if unmatched {
            notes.push(format!("Unmatched quote: '{text}'"));
        }
        if let Some(target) = include_target(text, &words) {
            notes.push(format!(
                "Config files missing '{target}'. (a simulated host has no other files: put the text in keepalived = \"\"\"...\"\"\")"
            ));
            words.clear();
        }
        self.count_braces(text, &mut notes);
        self.lines.push(LogicalLine {
            number,
            words,
            notes,
        });
    }

    /// read_line's check for too many `}`s (the missing ones are counted at the end).
    fn count_braces(&mut self, text: &str, notes: &mut Vec<String>) {
        match text {
            "{" => self.depth += 1,
            "}" if self.depth == 0 => notes.push("Extra '}' found".to_string()),
            "}" => self.depth -= 1,
            _ => {}
        }
    }
}

/// `include FILE...`: the rest of the line, when the line is an include.
fn include_target<'a>(text: &'a str, words: &[String]) -> Option<&'a str> {
    if words.len() < 2 || words[0] != "include" {
        return None;
    }
    Some(text["include".len()..].trim_start_matches(WHITE_SPACE))
}

/// decomment(): leading blanks and comments (`#`, `!` outside `"..."`) removed, then trailing
/// blanks. Also says whether a quote was left open. keepalived 2.2.7 unescapes `\#` but its
/// VRRP and checker processes re-read that unescaped copy, so in effect `\#` starts a
/// comment too (measured).
fn decomment(raw: &str) -> (String, bool) {
    let text = raw.trim_start_matches(BLANKS);
    let mut quote = false;
    let mut end = text.len();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let escaped_comment = c == '\\' && matches!(chars.peek(), Some((_, '#' | '!')));
        match c {
            '"' => quote = !quote,
            _ if escaped_comment && !quote => {
                end = at;
                break;
            }
            '#' | '!' if !quote => {
                end = at;
                break;
            }
            _ => {}
        }
    }
    (text[..end].trim_end_matches(BLANKS).to_string(), quote)
}

/// read_line's brace split: a line starting with a brace is that brace alone; otherwise the
/// text up to the first brace outside `"..."`. Returns the logical line and what is re-read.
fn split_at_brace(text: &str) -> (String, Option<String>) {
    let residue = |s: &str| {
        let s = s.trim_end_matches(BLANKS);
        (!s.is_empty()).then(|| s.to_string())
    };
    if text.starts_with(['{', '}']) {
        return (
            text[..1].to_string(),
            residue(text[1..].trim_start_matches(BLANKS)),
        );
    }
    match first_unquoted_brace(text) {
        Some(at) => (
            text[..at].trim_end_matches(BLANKS).to_string(),
            residue(&text[at..]),
        ),
        None => (text.trim_end_matches(BLANKS).to_string(), None),
    }
}

fn first_unquoted_brace(text: &str) -> Option<usize> {
    let mut in_quote = false;
    for (at, c) in text.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '{' | '}' if !in_quote => return Some(at),
            _ => {}
        }
    }
    None
}

/// alloc_strvec(): words split on white space; a word starting with `"` runs to the next
/// `"` (quotes removed); an unmatched quote ends the line (the flag reports it).
fn split_words(text: &str) -> (Vec<String>, bool) {
    let mut words = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(WHITE_SPACE);
        if rest.is_empty() {
            return (words, false);
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return (words, true);
            };
            words.push(quoted[..end].to_string());
            rest = &quoted[end + 1..];
        } else {
            let end = rest
                .find(|c: char| WHITE_SPACE.contains(&c) || c == '"')
                .unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(usize, Vec<String>)> {
        lex(text)
            .lines
            .into_iter()
            .map(|l| (l.number, l.words))
            .collect()
    }

    fn w(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn s1_text_after_a_brace_is_read_again_as_a_new_line_with_the_same_number() {
        assert_eq!(
            words("vrrp_instance VI_1{\n  virtual_ipaddress { 10.0.0.1 }\n}"),
            vec![
                (1, w(&["vrrp_instance", "VI_1"])),
                (1, w(&["{"])),
                (2, w(&["virtual_ipaddress"])),
                (2, w(&["{"])),
                (2, w(&["10.0.0.1"])),
                (2, w(&["}"])),
                (3, w(&["}"])),
            ]
        );
    }

    #[test]
    fn s1_braces_and_comment_characters_inside_quotes_do_not_count() {
        assert_eq!(
            words("notify \"/bin/echo { # }\" x # comment\n! whole line\nrouter_id a!b"),
            vec![
                (1, w(&["notify", "/bin/echo { # }", "x"])),
                (3, w(&["router_id", "a"])),
            ]
        );
    }

    #[test]
    fn s1_quotes_group_words_but_single_quotes_and_escapes_are_literal_in_2_2_7() {
        assert_eq!(
            words("\"bo gus\" 1\n'si ngle' 2\nab\"c d\"e\nesc\\x41 w\\#x"),
            vec![
                (1, w(&["bo gus", "1"])),
                (2, w(&["'si", "ngle'", "2"])),
                (3, w(&["ab", "c d", "e"])),
                (4, w(&["esc\\x41", "w"])),
            ]
        );
    }

    #[test]
    fn s1_an_unmatched_quote_is_reported_twice_like_keepalived() {
        let lexed = lex("x\"y 6");
        assert_eq!(lexed.lines[0].words, w(&["x"]));
        assert_eq!(
            lexed.lines[0].notes,
            vec![
                "Unterminated quote 'x\"y 6'".to_string(),
                "Unmatched quote: 'x\"y 6'".to_string()
            ]
        );
    }

    #[test]
    fn s1_include_is_refused_with_keepalived_s_missing_file_message() {
        let lexed = lex("include /etc/keepalived/vs.conf\ninclude");
        assert!(lexed.lines[0].words.is_empty());
        assert!(
            lexed.lines[0].notes[0].starts_with("Config files missing '/etc/keepalived/vs.conf'.")
        );
        assert_eq!(lexed.lines[1].words, w(&["include"]));
    }

    #[test]
    fn s1_brace_balance_extra_and_missing() {
        let lexed = lex("}\na {\nb {\n}");
        assert_eq!(lexed.lines[0].notes, vec!["Extra '}' found".to_string()]);
        assert_eq!(lexed.unclosed, 1);
    }

    #[test]
    fn blank_lines_crlf_and_trailing_blanks_are_dropped() {
        assert_eq!(
            words("\r\n  \t\n  router_id  r1 \t\r\n"),
            vec![(3, w(&["router_id", "r1"]))]
        );
    }
}
