//! do_parse's loop: each word read as getopt_long reads it, and the options that are not an
//! extension's. The extensions' options are in `extensions`, the checks after the loop and
//! the command they build in `finish`.

mod extensions;
mod finish;

use super::options::{
    Ext, ExtOpt, HasArg, INVERTIBLE, LONG, OPT_DESTINATION, OPT_EXACT, OPT_IN, OPT_JUMP,
    OPT_LETTERS, OPT_LINE_NUMBERS, OPT_NUMERIC, OPT_OUT, OPT_PROTOCOL, OPT_SOURCE, OPT_VERBOSE,
    OTHER_MATCHES, OTHER_TARGETS, Opt, SHORT,
};
use super::values::{leading_integer, strtoul_whole};
use super::{ACCEPTED, Action, IptablesCommand, PREFIX, cmd};
use crate::scenario::commands::args::Args;
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::stack::netfilter::{
    IfaceMatch, L4, PortMatch, RejectWith, Table, Target, protocol_by_name,
};

/// XT_EXTENSION_MAXNAMELEN: chain and target names are shorter.
const MAX_NAME: usize = 29;

/// IFNAMSIZ - 1.
const MAX_IFNAME: usize = 15;

/// `-j`: what it named.
#[derive(Debug, Clone)]
enum Jump<'w> {
    Target(Target),
    /// MARK, with the options given so far (xflags) and its value/mask.
    Mark {
        given: Vec<(ExtOpt, &'w Word)>,
        value: u32,
        mask: u32,
    },
    /// A name that is no target: iptables looks for a chain of that name at the end.
    Chain(&'w Word),
}

/// A port match being built, and which of its options were given.
#[derive(Debug, Clone)]
struct PortState {
    spec: PortMatch,
    source_given: bool,
    destination_given: bool,
}

/// `-s`/`-d`: the text, whether inverted, and the word it came in.
#[derive(Debug, Clone, Copy)]
struct AddrArg<'w> {
    text: &'w str,
    invert: bool,
    word: &'w Word,
}

/// An option's argument: its text and the word it is in.
#[derive(Debug, Clone, Copy)]
struct Value<'w> {
    text: &'w str,
    word: &'w Word,
}

/// do_parse's state.
pub(super) struct Parser<'a, 'w> {
    args: &'a Args<'w>,
    words: &'w [Word],
    next: usize,
    command: u16,
    chain: Option<Value<'w>>,
    rulenum: Option<u32>,
    policy: Option<Value<'w>>,
    table: Table,
    invert: Option<&'w Word>,
    options: [Option<&'w Word>; 10],
    proto: u8,
    proto_invert: bool,
    /// The implicit protocol match was loaded (cs->proto_used).
    proto_used: bool,
    src: Option<AddrArg<'w>>,
    dst: Option<AddrArg<'w>>,
    in_iface: Option<IfaceMatch>,
    out_iface: Option<IfaceMatch>,
    ports: Vec<PortState>,
    /// The extensions loaded, in order: their options resolve in this order.
    loaded: Vec<Ext>,
    jump: Option<(Jump<'w>, &'w Word)>,
    reject_given: bool,
    wait: Option<i64>,
    wait_interval: Option<&'w Word>,
    verbose: bool,
    version: Option<&'static str>,
}

impl<'a, 'w> Parser<'a, 'w> {
    pub(super) fn new(args: &'a Args<'w>) -> Parser<'a, 'w> {
        Parser {
            args,
            words: args.rest(),
            next: 0,
            command: 0,
            chain: None,
            rulenum: None,
            policy: None,
            table: Table::Filter,
            invert: None,
            options: [None; 10],
            proto: 0,
            proto_invert: false,
            proto_used: false,
            src: None,
            dst: None,
            in_iface: None,
            out_iface: None,
            ports: Vec::new(),
            loaded: Vec::new(),
            jump: None,
            reject_given: false,
            wait: None,
            wait_interval: None,
            verbose: false,
            version: None,
        }
    }

    pub(super) fn run(mut self) -> Result<IptablesCommand, Diagnostic> {
        while self.version.is_none() {
            let Some(word) = self.words.get(self.next) else {
                break;
            };
            self.next += 1;
            self.word(word)?;
        }
        if let Some(line) = self.version {
            return Ok(IptablesCommand {
                table: self.table,
                verbose: false,
                actions: vec![Action::Version(line)],
            });
        }
        self.finish()
    }

    /// An iptables error at `word`: `iptables v1.8.7 (nf_tables): MESSAGE`.
    fn error(&self, word: &Word, message: impl std::fmt::Display) -> Diagnostic {
        self.args
            .error_at(word, format!("{PREFIX}{message}"))
            .with_help(format!("accepted: {ACCEPTED}"))
    }

    fn not_simulated(&self, word: &Word, what: &str, help: &str) -> Diagnostic {
        self.args
            .error_at(word, format!("iptables: {what} is not simulated"))
            .with_help(help.to_owned())
    }

    /// One argv element: `!`, a bundle of short options, a long option or a stray word.
    fn word(&mut self, word: &'w Word) -> Result<(), Diagnostic> {
        let text = word.text.as_str();
        if text == "!" {
            if self.invert.is_some() {
                return Err(self.error(word, "multiple consecutive ! not allowed"));
            }
            self.invert = Some(word);
            return Ok(());
        }
        if text == "--" {
            // getopt stops at `--`; whatever follows is left over.
            return match self.words.get(self.next) {
                Some(rest) => Err(self.error(rest, "unknown arguments found on commandline")),
                None => Ok(()),
            };
        }
        if let Some(long) = text.strip_prefix("--") {
            return self.long_option(word, long);
        }
        match text.strip_prefix('-').filter(|s| !s.is_empty()) {
            Some(letters) => self.short_options(word, letters),
            None => Err(self
                .args
                .error_at(word, format!("Bad argument `{text}'"))
                .with_help("Try `iptables -h' or 'iptables --help' for more information.")),
        }
    }

    fn short_options(&mut self, word: &'w Word, letters: &'w str) -> Result<(), Diagnostic> {
        for (at, letter) in letters.char_indices() {
            let Some(&(_, opt)) = SHORT.iter().find(|(c, _)| *c == letter) else {
                return Err(self.unknown_option(word));
            };
            let rest = &letters[at + letter.len_utf8()..];
            let attached = (!rest.is_empty()).then_some(Value { text: rest, word });
            match opt.has_arg() {
                HasArg::No => self.apply(opt, None, word)?,
                HasArg::Optional => return self.apply(opt, attached, word),
                HasArg::Required => {
                    let value = match attached {
                        Some(value) => value,
                        None => self.required_argument(word)?,
                    };
                    return self.apply(opt, Some(value), word);
                }
            }
        }
        Ok(())
    }

    fn long_option(&mut self, word: &'w Word, long: &'w str) -> Result<(), Diagnostic> {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(Value { text: value, word })),
            None => (long, None),
        };
        let opt = match self.lookup(name) {
            Some(opt) => opt,
            None if self.load_protocol_match() => {
                self.lookup(name).ok_or_else(|| self.unknown_option(word))?
            }
            None => {
                return Err(self.unknown_long(word, name));
            }
        };
        let value = match (opt.has_arg(), inline) {
            (HasArg::No, Some(_)) => {
                return Err(self.unknown_option(word));
            }
            (HasArg::Required, None) => Some(self.required_argument(word)?),
            (_, inline) => inline,
        };
        self.apply(opt, value, word)
    }

    /// getopt's complaint about a word it has no option for.
    fn unknown_option(&self, word: &Word) -> Diagnostic {
        self.error(word, format!("unknown option \"{}\"", word.text))
    }

    /// An unknown long option; `--icmp-type` is known to iptables (the icmp match `-p icmp`
    /// loads) but not simulated.
    fn unknown_long(&self, word: &Word, name: &str) -> Diagnostic {
        if self.proto == 1 && "icmp-type".starts_with(name) && !name.is_empty() {
            return self.not_simulated(
                word,
                "`--icmp-type`",
                "an icmp rule matches every ICMP type in lvsim; leave --icmp-type out",
            );
        }
        self.unknown_option(word)
    }

    /// getopt_long's lookup: an exact name, else an unambiguous prefix, among the main
    /// options and those of the extensions loaded so far.
    fn lookup(&self, name: &str) -> Option<Opt> {
        let mut known: Vec<(&str, Opt)> = LONG.to_vec();
        for &ext in &self.loaded {
            known.extend(ext.options().iter().map(|&(n, o)| (n, Opt::Ext(ext, o, n))));
        }
        if let Some(&(_, opt)) = known.iter().find(|(n, _)| *n == name) {
            return Some(opt);
        }
        let mut candidates = known.iter().filter(|(n, _)| n.starts_with(name));
        let first = candidates.next()?.1;
        (!name.is_empty() && candidates.all(|(_, opt)| opt.same(first))).then_some(first)
    }

    /// The next word as a required argument, whatever it looks like (getopt takes it).
    fn required_argument(&mut self, option: &Word) -> Result<Value<'w>, Diagnostic> {
        let word = self.words.get(self.next).ok_or_else(|| {
            self.error(
                option,
                format!("option \"{}\" requires an argument", option.text),
            )
        })?;
        self.next += 1;
        Ok(Value {
            text: &word.text,
            word,
        })
    }

    /// xs_has_arg: the next word, if it does not start with `-` or `!`.
    fn optional_word(&mut self) -> Option<Value<'w>> {
        let word = self
            .words
            .get(self.next)
            .filter(|w| !w.text.starts_with(['-', '!']))?;
        self.next += 1;
        Some(Value {
            text: &word.text,
            word,
        })
    }

    fn apply(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
    ) -> Result<(), Diagnostic> {
        let invert = self.invert.take().is_some();
        match opt {
            Opt::Append | Opt::Delete | Opt::Insert | Opt::Policy => {
                self.rule_command(opt, value, word, invert)
            }
            Opt::List | Opt::ListRules | Opt::Flush | Opt::Zero => {
                self.chain_command(opt, value, word, invert)
            }
            Opt::Check | Opt::Replace => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                "delete the rule and add it again (-D, then -A or -I)",
            )),
            Opt::NewChain | Opt::DeleteChain | Opt::RenameChain | Opt::Goto => Err(self
                .not_simulated(
                    word,
                    "user-defined chains",
                    "put the rules in the built-in chains",
                )),
            Opt::Fragment | Opt::SetCounters | Opt::Help => Err(self.not_simulated(
                word,
                &format!("`{}`", word.text),
                &format!("accepted: {ACCEPTED}"),
            )),
            Opt::Protocol => self.protocol(value, word, invert),
            Opt::Source | Opt::Destination => self.address(opt, value, word, invert),
            Opt::InInterface | Opt::OutInterface => self.interface(opt, value, word, invert),
            Opt::Jump => self.jump(value, word, invert),
            Opt::Match => self.load_match(value, word, invert),
            Opt::Table => self.table(value, word, invert),
            Opt::Numeric => self.set_option(OPT_NUMERIC, word, invert).map(drop),
            Opt::Exact => self.set_option(OPT_EXACT, word, invert).map(drop),
            Opt::LineNumbers => self.set_option(OPT_LINE_NUMBERS, word, invert).map(drop),
            Opt::Verbose => {
                if !self.verbose {
                    self.set_option(OPT_VERBOSE, word, invert)?;
                }
                self.verbose = true;
                Ok(())
            }
            Opt::Wait => self.wait(value, word),
            Opt::WaitInterval => self.wait_interval(value, word),
            Opt::Version => {
                self.version = Some(if invert {
                    "Not 1.8.7 ;-)"
                } else {
                    "iptables v1.8.7 (nf_tables)"
                });
                Ok(())
            }
            Opt::Modprobe | Opt::Ipv4 => Ok(()),
            Opt::Ipv6 => Err(self.args.error_at(
                word,
                "Try `iptables -h' or 'iptables --help' for more information.",
            )),
            Opt::Ext(_, option, name) => self.extension_option(option, name, value, word, invert),
        }
    }

    /// add_command: `!` is refused and a second command must be one that combines.
    fn add_command(
        &mut self,
        new: u16,
        others: u16,
        word: &Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected '!' flag"));
        }
        let clash = self.command & !others;
        if clash != 0 {
            return Err(self.error(
                word,
                format!(
                    "Cannot use -{} with -{}",
                    cmd_letter(new),
                    cmd_letter(clash)
                ),
            ));
        }
        self.command |= new;
        Ok(())
    }

    /// `-A|-D|-I CHAIN` (with `-D CHAIN N` and `-I CHAIN [N]`) and `-P CHAIN POLICY`.
    fn rule_command(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let new = match opt {
            Opt::Append => cmd::APPEND,
            Opt::Delete => cmd::DELETE,
            Opt::Insert => cmd::INSERT,
            _ => cmd::SET_POLICY,
        };
        self.add_command(new, 0, word, invert)?;
        self.chain = value;
        match opt {
            Opt::Delete => {
                if let Some(number) = self.optional_word() {
                    self.rulenum = Some(self.rule_number(number)?);
                    self.command = cmd::DELETE_NUM;
                }
            }
            Opt::Insert => {
                self.rulenum = Some(match self.optional_word() {
                    Some(number) => self.rule_number(number)?,
                    None => 1,
                });
            }
            Opt::Policy => {
                let policy = self
                    .optional_word()
                    .ok_or_else(|| self.error(word, "-P requires a chain and a policy"))?;
                self.policy = Some(policy);
            }
            _ => {}
        }
        Ok(())
    }

    /// `-L|-S [CHAIN [N]]`, `-F [CHAIN]`, `-Z [CHAIN [N]]`.
    fn chain_command(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let (new, others) = match opt {
            Opt::List => (cmd::LIST, cmd::ZERO | cmd::ZERO_NUM),
            Opt::ListRules => (cmd::LIST_RULES, cmd::ZERO | cmd::ZERO_NUM),
            Opt::Flush => (cmd::FLUSH, 0),
            _ => (cmd::ZERO, cmd::LIST | cmd::LIST_RULES),
        };
        self.add_command(new, others, word, invert)?;
        if let Some(chain) = value.or_else(|| self.optional_word()) {
            self.chain = Some(chain);
        }
        if opt != Opt::Flush
            && let Some(number) = self.optional_word()
        {
            self.rulenum = Some(self.rule_number(number)?);
            if opt == Opt::Zero {
                self.command = cmd::ZERO_NUM;
            }
        }
        Ok(())
    }

    /// parse_rulenumber: 1 to INT_MAX.
    fn rule_number(&self, value: Value) -> Result<u32, Diagnostic> {
        strtoul_whole(value.text, 1, i32::MAX as u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.error(value.word, format!("Invalid rule number `{}'", value.text)))
    }

    /// set_option: each option once, `!` only before those that can be inverted.
    fn set_option(
        &mut self,
        option: usize,
        word: &'w Word,
        invert: bool,
    ) -> Result<bool, Diagnostic> {
        let letter = OPT_LETTERS[option];
        if self.options[option].is_some() {
            return Err(self.error(word, format!("multiple -{letter} flags not allowed")));
        }
        self.options[option] = Some(word);
        if invert && !INVERTIBLE.contains(&option) {
            return Err(self.error(word, format!("cannot have ! before -{letter}")));
        }
        Ok(invert)
    }

    /// `-p`: lower-cased, then a number, `all`, /etc/protocols or xtables_chain_protos.
    fn protocol(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        self.set_option(OPT_PROTOCOL, word, invert)?;
        let value = argument(value, word);
        let name = value.text.to_lowercase();
        let proto = strtoul_whole(&name, 0, u8::MAX.into())
            .and_then(|n| u8::try_from(n).ok())
            .or_else(|| protocol_by_name(&name))
            .ok_or_else(|| {
                self.error(value.word, format!("unknown protocol \"{name}\" specified"))
            })?;
        if proto == 0 && invert {
            return Err(self.error(value.word, "rule would never match protocol"));
        }
        self.proto = proto;
        self.proto_invert = invert;
        Ok(())
    }

    /// `-s`/`-d`: only remembered; the addresses are parsed after the loop (post_parse).
    fn address(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let source = opt == Opt::Source;
        self.set_option(
            if source { OPT_SOURCE } else { OPT_DESTINATION },
            word,
            invert,
        )?;
        let value = argument(value, word);
        let arg = Some(AddrArg {
            text: value.text,
            invert,
            word: value.word,
        });
        if source {
            self.src = arg;
        } else {
            self.dst = arg;
        }
        Ok(())
    }

    /// `-i`/`-o` (xtables_parse_interface).
    fn interface(
        &mut self,
        opt: Opt,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        let value = argument(value, word);
        if value.text.is_empty() {
            return Err(self.error(value.word, "Empty interface is likely to be undesired"));
        }
        let incoming = opt == Opt::InInterface;
        self.set_option(if incoming { OPT_IN } else { OPT_OUT }, word, invert)?;
        if value.text.len() > MAX_IFNAME {
            return Err(self.error(
                value.word,
                format!(
                    "interface name `{}' must be shorter than IFNAMSIZ ({MAX_IFNAME})",
                    value.text
                ),
            ));
        }
        let iface = Some(IfaceMatch {
            name: value.text.to_owned(),
            invert,
        });
        if incoming {
            self.in_iface = iface;
        } else {
            self.out_iface = iface;
        }
        Ok(())
    }

    /// `-j` (command_jump): a standard verdict, REJECT or MARK loads its options; another
    /// name is taken for a chain.
    fn jump(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        self.set_option(OPT_JUMP, word, invert)?;
        let value = argument(value, word);
        let name = value.text;
        if name.is_empty() {
            return Err(self.error(value.word, "Invalid target name (too short)"));
        }
        if name.len() >= MAX_NAME {
            return Err(self.error(
                value.word,
                format!("Invalid target name `{name}' ({} chars max)", MAX_NAME - 1),
            ));
        }
        if name.contains(char::is_whitespace) {
            return Err(self.error(value.word, format!("Invalid target name `{name}'")));
        }
        let jump = match name {
            "ACCEPT" => Jump::Target(Target::Accept),
            "DROP" => Jump::Target(Target::Drop),
            "RETURN" => Jump::Target(Target::Return),
            "REJECT" => {
                self.loaded.push(Ext::Reject);
                Jump::Target(Target::Reject(RejectWith::IcmpPortUnreachable))
            }
            "MARK" => {
                self.loaded.push(Ext::Mark);
                Jump::Mark {
                    given: Vec::new(),
                    value: 0,
                    mask: 0,
                }
            }
            other if OTHER_TARGETS.contains(&other) => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("the {other} target"),
                    "lvsim simulates ACCEPT, DROP, REJECT, RETURN and MARK",
                ));
            }
            _ => Jump::Chain(value.word),
        };
        self.jump = Some((jump, word));
        Ok(())
    }

    /// `-m` (command_match): tcp and udp are simulated.
    fn load_match(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected ! flag before --match"));
        }
        let value = argument(value, word);
        match value.text {
            "tcp" => self.add_port_match(L4::Tcp),
            "udp" => self.add_port_match(L4::Udp),
            other if OTHER_MATCHES.contains(&other) => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("`-m {other}`"),
                    "lvsim simulates the tcp and udp matches (--sport, --dport)",
                ));
            }
            other => {
                return Err(self.error(
                    value.word,
                    format!("Couldn't load match `{other}':No such file or directory"),
                ));
            }
        }
        Ok(())
    }

    /// `-t`: the tables nf_tables knows; lvsim simulates filter and mangle.
    fn table(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
        invert: bool,
    ) -> Result<(), Diagnostic> {
        if invert {
            return Err(self.error(word, "unexpected ! flag before --table"));
        }
        let value = argument(value, word);
        self.table = match value.text {
            "filter" => Table::Filter,
            "mangle" => Table::Mangle,
            "nat" | "raw" | "security" => {
                return Err(self.not_simulated(
                    value.word,
                    &format!("the {} table", value.text),
                    "lvsim simulates the filter table and mangle PREROUTING (MARK)",
                ));
            }
            other => {
                return Err(self.error(value.word, format!("table '{other}' does not exist")));
            }
        };
        Ok(())
    }

    /// `-w [SECONDS]` (parse_wait_time): accepted; lvsim never waits for the xtables lock.
    fn wait(&mut self, value: Option<Value<'w>>, word: &Word) -> Result<(), Diagnostic> {
        let seconds = match value.or_else(|| self.optional_word()) {
            None => -1,
            Some(v) => leading_integer(v.text)
                .ok_or_else(|| self.error(word, "wait seconds not numeric"))?,
        };
        self.wait = Some(seconds);
        Ok(())
    }

    /// `-W [USECS]` (parse_wait_interval).
    fn wait_interval(
        &mut self,
        value: Option<Value<'w>>,
        word: &'w Word,
    ) -> Result<(), Diagnostic> {
        let value = value
            .or_else(|| self.optional_word())
            .ok_or_else(|| self.error(word, "wait interval value required"))?;
        let usecs = leading_integer(value.text)
            .filter(|n| *n >= 0)
            .ok_or_else(|| self.error(value.word, "wait interval not numeric"))?;
        if usecs > 999_999 {
            return Err(self.error(
                value.word,
                format!("too long usec wait {usecs} > 999999 usec"),
            ));
        }
        self.wait_interval = Some(word);
        Ok(())
    }
}

/// The option's argument; `apply` is only called without one for options that take none.
fn argument<'w>(value: Option<Value<'w>>, word: &'w Word) -> Value<'w> {
    value.unwrap_or(Value { text: "", word })
}

/// cmd2char: the letter of the lowest command bit.
fn cmd_letter(command: u16) -> char {
    let bit = command.trailing_zeros() as usize;
    cmd::LETTERS.get(bit).map_or('?', |&b| char::from(b))
}
