//! The parts of popt 1.19's `poptGetNextOpt` that ipvsadm's command line exercises: clustered
//! short options (`-Ln`), the rest of a cluster as an argument (`-p600`, `-s=rr`), `--long=value`
//! and `--long value`, the optional argument of `-p` (taken only when the next word does not
//! start with `-`), `--` ending the options, and words that are not options collected as
//! leftovers wherever they stand. `poptBadOption` is the last word consumed.

use super::options::{ArgKind, OPTIONS, OptSpec, Tag};

/// An option popt found, with its argument (None for a flag or an omitted optional argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found<'a> {
    pub tag: Tag,
    pub arg: Option<&'a str>,
}

/// The popt errors ipvsadm can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PoptError {
    BadOpt,
    NoArg,
    UnwantedArg,
}

impl PoptError {
    /// `poptStrerror`.
    pub(super) fn text(self) -> &'static str {
        match self {
            PoptError::BadOpt => "unknown option",
            PoptError::NoArg => "missing argument",
            PoptError::UnwantedArg => "option does not take an argument",
        }
    }
}

/// A popt context over `argv` (`argv[0]` is the program and is skipped).
pub(super) struct Popt<'a> {
    argv: &'a [&'a str],
    next: usize,
    /// The unread rest of a short-option cluster (`nextCharArg`); `Some("")` is possible
    /// after `-x=` and then reads as an unknown option, as in popt.
    cluster: Option<&'a str>,
    rest_are_leftovers: bool,
    leftovers: Vec<&'a str>,
}

impl<'a> Popt<'a> {
    pub(super) fn new(argv: &'a [&'a str]) -> Popt<'a> {
        Popt {
            argv,
            next: 1,
            cluster: None,
            rest_are_leftovers: false,
            leftovers: Vec::new(),
        }
    }

    /// `poptBadOption(con, POPT_BADOPTION_NOALIAS)`: the last word consumed.
    pub(super) fn bad_option(&self) -> &'a str {
        self.next
            .checked_sub(1)
            .and_then(|i| self.argv.get(i))
            .copied()
            .unwrap_or("")
    }

    /// The words that were not options, in order (`poptGetArg`).
    pub(super) fn leftovers(&self) -> &[&'a str] {
        &self.leftovers
    }

    /// `poptGetNextOpt`: the next option, Ok(None) when the words are used up.
    pub(super) fn next_opt(&mut self) -> Result<Option<Found<'a>>, PoptError> {
        loop {
            if self.cluster.is_none() {
                let Some(&word) = self.argv.get(self.next) else {
                    return Ok(None);
                };
                self.next += 1;
                match self.classify(word) {
                    Word::Leftover => self.leftovers.push(word),
                    Word::EndOfOptions => self.rest_are_leftovers = true,
                    Word::Long(name, value) => {
                        let spec = find_long(name).ok_or(PoptError::BadOpt)?;
                        return self.take_argument(spec, value).map(Some);
                    }
                    Word::Cluster(chars) => self.cluster = Some(chars),
                }
                continue;
            }
            let spec = self.next_short()?;
            return self.take_argument(spec, None).map(Some);
        }
    }

    fn classify(&self, word: &'a str) -> Word<'a> {
        if self.rest_are_leftovers || !word.starts_with('-') || word == "-" {
            return Word::Leftover;
        }
        if word == "--" {
            return Word::EndOfOptions;
        }
        match word.strip_prefix("--") {
            Some(long) => match long.split_once('=') {
                Some((name, value)) => Word::Long(name, Some(value)),
                None => Word::Long(long, None),
            },
            // No ipvsadm option is POPT_ARGFLAG_ONEDASH, so `-list` is the cluster l,i,s,t.
            None => Word::Cluster(&word[1..]),
        }
    }

    /// The next character of the cluster; an `=` right after it is skipped.
    fn next_short(&mut self) -> Result<&'static OptSpec, PoptError> {
        let chars = self.cluster.take().unwrap_or("");
        let short = chars.chars().next().ok_or(PoptError::BadOpt)?;
        let spec = find_short(short).ok_or(PoptError::BadOpt)?;
        let rest = &chars[short.len_utf8()..];
        if !rest.is_empty() {
            self.cluster = Some(rest.strip_prefix('=').unwrap_or(rest));
        }
        Ok(spec)
    }

    /// The argument of `spec`: `--long=value`, the rest of a cluster, or the next word.
    fn take_argument(
        &mut self,
        spec: &OptSpec,
        long_value: Option<&'a str>,
    ) -> Result<Found<'a>, PoptError> {
        let arg = match spec.arg {
            ArgKind::None => {
                let eq_follows = self.cluster.is_some_and(|rest| rest.starts_with('='));
                if long_value.is_some() || eq_follows {
                    return Err(PoptError::UnwantedArg);
                }
                None
            }
            ArgKind::Required | ArgKind::Optional => {
                let optional = spec.arg == ArgKind::Optional;
                if long_value.is_some() {
                    long_value
                } else if let Some(rest) = self.cluster.take() {
                    Some(rest.strip_prefix('=').unwrap_or(rest))
                } else {
                    self.next_word_as_argument(optional)?
                }
            }
        };
        Ok(Found { tag: spec.tag, arg })
    }

    fn next_word_as_argument(&mut self, optional: bool) -> Result<Option<&'a str>, PoptError> {
        match self.argv.get(self.next) {
            None if optional => Ok(None),
            None => Err(PoptError::NoArg),
            Some(word) if optional && word.starts_with('-') => Ok(None),
            Some(&word) => {
                self.next += 1;
                Ok(Some(word))
            }
        }
    }
}

/// How popt reads one word of the command line.
enum Word<'a> {
    Leftover,
    EndOfOptions,
    Long(&'a str, Option<&'a str>),
    Cluster(&'a str),
}

fn find_long(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.long == name)
}

fn find_short(short: char) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.short == Some(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options found, and how the scan ended (the bad word and the error, if any).
    type Scan = (Vec<(Tag, Option<String>)>, Result<(), (String, PoptError)>);

    fn scan(words: &[&str]) -> Scan {
        let mut argv = vec!["ipvsadm"];
        argv.extend_from_slice(words);
        let mut popt = Popt::new(&argv);
        let mut found = Vec::new();
        loop {
            match popt.next_opt() {
                Ok(Some(f)) => found.push((f.tag, f.arg.map(str::to_string))),
                Ok(None) => return (found, Ok(())),
                Err(e) => return (found, Err((popt.bad_option().to_string(), e))),
            }
        }
    }

    // ipvsadm.md §1: popt splits clustered short options.
    #[test]
    fn clusters_split_and_lend_their_rest_as_argument() {
        let (found, end) = scan(&["-Ln", "-p600", "-s=rr"]);
        assert_eq!(end, Ok(()));
        assert_eq!(
            found,
            vec![
                (Tag::List, None),
                (Tag::Numeric, None),
                (Tag::Persistent, Some("600".into())),
                (Tag::Scheduler, Some("rr".into())),
            ]
        );
    }

    // ipvsadm.md §3 `-p`: optional argument rules.
    #[test]
    fn optional_argument_only_when_the_next_word_is_not_an_option() {
        let (found, _) = scan(&["-p", "-s", "rr", "--persistent", "800", "--persistent=700"]);
        assert_eq!(
            found,
            vec![
                (Tag::Persistent, None),
                (Tag::Scheduler, Some("rr".into())),
                (Tag::Persistent, Some("800".into())),
                (Tag::Persistent, Some("700".into())),
            ]
        );
    }

    // ipvsadm.md §1 "popt error after the command".
    #[test]
    fn errors_name_the_last_word_consumed() {
        assert_eq!(
            scan(&["--bogus"]).1,
            Err(("--bogus".into(), PoptError::BadOpt))
        );
        assert_eq!(scan(&["-Ls"]).1, Err(("-Ls".into(), PoptError::NoArg)));
        assert_eq!(scan(&["-Lq"]).1, Err(("-Lq".into(), PoptError::BadOpt)));
        assert_eq!(
            scan(&["--numeric=1"]).1,
            Err(("--numeric=1".into(), PoptError::UnwantedArg))
        );
    }

    // ipvsadm.md §1 "Trailing operand": words that are not options are kept for later.
    #[test]
    fn leftovers_and_double_dash() {
        let argv = ["ipvsadm", "x", "-L", "--", "-n", "-"];
        let mut popt = Popt::new(&argv);
        assert_eq!(popt.next_opt().unwrap().unwrap().tag, Tag::List);
        assert_eq!(popt.next_opt(), Ok(None));
        assert_eq!(popt.leftovers(), &["x", "-n", "-"]);
    }
}
