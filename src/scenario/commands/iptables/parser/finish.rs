//! What do_parse does after its loop: the checks, in its order, then the actions.

use super::{AddrArg, Jump, MAX_NAME, Parser};
use crate::scenario::commands::iptables::options::{
    ExtOpt, FORBIDDEN, MARK_OPTIONS, OPT_EXACT, OPT_IN, OPT_LETTERS, OPT_LINE_NUMBERS, OPT_NUMERIC,
    OPT_OUT,
};
use crate::scenario::commands::iptables::values::parse_addresses;
use crate::scenario::commands::iptables::{ACCEPTED, Action, IptablesCommand, PREFIX, cmd};
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::stack::netfilter::{AddrMatch, ListFormat, RuleSpec, Table, Target};

impl<'a, 'w> Parser<'a, 'w> {
    /// The checks do_parse makes after its loop, in its order, then the rule or command.
    pub(super) fn finish(self) -> Result<IptablesCommand, Diagnostic> {
        if let Some(word) = self.wait_interval.filter(|_| self.wait.unwrap_or(0) == 0) {
            return Err(self.error(word, "--wait-interval only makes sense with --wait"));
        }
        let target = self.final_target()?;
        if self.command == 0 {
            return Err(self
                .args
                .error_whole(format!("{PREFIX}no command specified"))
                .with_help(format!("accepted: {ACCEPTED}")));
        }
        if let Some(word) = self.invert {
            return Err(self.error(word, "nothing appropriate following !"));
        }
        let addresses = self.post_parse()?;
        self.generic_opt_check()?;
        if let Some(chain) = self.chain.filter(|c| c.text.len() >= MAX_NAME) {
            return Err(self.error(
                chain.word,
                format!(
                    "chain name `{}' too long (must be under {MAX_NAME} chars)",
                    chain.text
                ),
            ));
        }
        self.direction_check()?;
        if let Some(Jump::Chain(name)) = self.jump.as_ref().map(|(j, _)| j) {
            return Err(self.error(name, format!("Chain '{}' does not exist", name.text)));
        }
        self.simulated_check(target)?;
        let actions = self.actions(target, addresses);
        Ok(IptablesCommand {
            table: self.table,
            verbose: self.verbose,
            actions,
        })
    }

    /// The target's final check (mark_tg_check, then the options' exclusivity).
    fn final_target(&self) -> Result<Option<Target>, Diagnostic> {
        match &self.jump {
            None | Some((Jump::Chain(_), _)) => Ok(None),
            Some((Jump::Target(target), _)) => Ok(Some(*target)),
            Some((Jump::Mark { given, value, mask }, word)) => {
                if given.is_empty() {
                    return Err(self.error(
                        word,
                        "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                    ));
                }
                if let Some(clash) = mark_clash(given) {
                    return Err(self.error(clash.1, clash.0));
                }
                Ok(Some(Target::Mark {
                    value: *value,
                    mask: *mask,
                }))
            }
        }
    }

    /// post_parse: rule commands default to 0.0.0.0/0, then both lists are parsed.
    fn post_parse(&self) -> Result<(Vec<AddrMatch>, Vec<AddrMatch>), Diagnostic> {
        let defaulted = self.command & cmd::WITH_RULE != 0;
        let parse = |arg: Option<AddrArg>| match arg {
            None if defaulted => Ok(vec![AddrMatch::default()]),
            None => Ok(Vec::new()),
            Some(arg) => parse_addresses(arg.text, arg.invert).map_err(|m| self.error(arg.word, m)),
        };
        let src = parse(self.src)?;
        let dst = parse(self.dst)?;
        let inverted = [self.src, self.dst]
            .into_iter()
            .flatten()
            .find(|a| a.invert);
        if let Some(arg) = inverted.filter(|_| src.len() > 1 || dst.len() > 1) {
            return Err(self.error(
                arg.word,
                "! not allowed with multiple source or destination IP addresses",
            ));
        }
        Ok((src, dst))
    }

    /// generic_opt_check: an option is legal if any of the commands given allows it.
    fn generic_opt_check(&self) -> Result<(), Diagnostic> {
        for (option, word) in self.options.iter().enumerate() {
            let Some(word) = word else { continue };
            let mut legal = false;
            let mut illegal = false;
            for (command, forbidden) in FORBIDDEN {
                if self.command & command == 0 {
                    continue;
                }
                if forbidden.as_bytes()[option] == b'x' {
                    illegal = true;
                } else {
                    legal = true;
                }
            }
            if illegal && !legal {
                return Err(self.error(
                    word,
                    format!(
                        "Illegal option `-{}' with this command",
                        OPT_LETTERS[option]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `-o` means nothing to incoming packets, `-i` to outgoing ones.
    fn direction_check(&self) -> Result<(), Diagnostic> {
        let rule_command = cmd::WITH_RULE | cmd::DELETE_NUM;
        let Some(chain) = self.chain.filter(|_| self.command & rule_command != 0) else {
            return Ok(());
        };
        let refused = match chain.text {
            "PREROUTING" | "INPUT" => self.options[OPT_OUT].map(|w| ('o', w)),
            "POSTROUTING" | "OUTPUT" => self.options[OPT_IN].map(|w| ('i', w)),
            _ => None,
        };
        match refused {
            Some((letter, word)) => {
                Err(self.error(word, format!("Can't use -{letter} with {}", chain.text)))
            }
            None => Ok(()),
        }
    }

    /// What lvsim leaves out: mangle only marks in PREROUTING; filter does not mark.
    fn simulated_check(&self, target: Option<Target>) -> Result<(), Diagnostic> {
        let adding = self.command & (cmd::APPEND | cmd::INSERT) != 0;
        let chain = self.chain.map_or("", |c| c.text);
        let jump_word = self.jump.as_ref().map(|(_, w)| *w);
        match self.table {
            Table::Mangle => {
                let other_hook = ["INPUT", "FORWARD", "OUTPUT", "POSTROUTING"].contains(&chain);
                if let Some(chain_word) = self.chain.filter(|_| adding && other_hook) {
                    return Err(self.not_simulated(
                        chain_word.word,
                        &format!("mangle {chain}"),
                        "lvsim's mangle table marks packets in PREROUTING",
                    ));
                }
                let dropping = match (self.policy, jump_word) {
                    (Some(policy), _) if policy.text == "DROP" => Some(policy.word),
                    (_, Some(word)) if adding && target == Some(Target::Drop) => Some(word),
                    _ => None,
                };
                if let Some(word) = dropping {
                    return Err(self.not_simulated(
                        word,
                        "dropping in the mangle table",
                        "drop packets in the filter table",
                    ));
                }
            }
            Table::Filter => {
                if let (true, Some(Target::Mark { .. }), Some(word)) = (adding, target, jump_word) {
                    return Err(self.not_simulated(
                        word,
                        "MARK in the filter table",
                        "mark packets with -t mangle -A PREROUTING ... -j MARK",
                    ));
                }
            }
        }
        Ok(())
    }

    /// What the command does, in order: a listing first (`-L -Z` lists, then zeroes).
    fn actions(
        &self,
        target: Option<Target>,
        addresses: (Vec<AddrMatch>, Vec<AddrMatch>),
    ) -> Vec<Action> {
        let mut actions: Vec<Action> = self.listing().into_iter().collect();
        actions.extend(self.change(target, addresses));
        actions
    }

    fn listing(&self) -> Option<Action> {
        let chain = self.chain.map(|c| c.text.to_owned());
        match self.command & (cmd::LIST | cmd::LIST_RULES) {
            cmd::LIST => Some(Action::List {
                chain,
                position: self.rulenum,
                format: ListFormat {
                    numeric: self.options[OPT_NUMERIC].is_some(),
                    verbose: self.verbose,
                    exact: self.options[OPT_EXACT].is_some(),
                    line_numbers: self.options[OPT_LINE_NUMBERS].is_some(),
                },
            }),
            cmd::LIST_RULES => Some(Action::ListRules {
                chain,
                position: self.rulenum,
                counters: self.verbose,
            }),
            _ => None,
        }
    }

    fn change(
        &self,
        target: Option<Target>,
        (src, dst): (Vec<AddrMatch>, Vec<AddrMatch>),
    ) -> Option<Action> {
        let chain = self.chain.map(|c| c.text.to_owned());
        // Every command below took its chain as a required argument.
        let named = || chain.clone().unwrap_or_default();
        let rules = || self.rules(target, &src, &dst);
        let position = self.rulenum.unwrap_or(1);
        Some(match self.command & !(cmd::LIST | cmd::LIST_RULES) {
            cmd::APPEND => Action::Append {
                chain: named(),
                rules: rules(),
            },
            cmd::INSERT => Action::Insert {
                chain: named(),
                position,
                rules: rules(),
            },
            cmd::DELETE => Action::Delete {
                chain: named(),
                rules: rules(),
            },
            cmd::DELETE_NUM => Action::DeleteAt {
                chain: named(),
                position,
            },
            cmd::SET_POLICY => Action::Policy {
                chain: named(),
                policy: self.policy.map_or("", |p| p.text).to_owned(),
            },
            cmd::FLUSH => Action::Flush { chain },
            cmd::ZERO => Action::Zero {
                chain,
                position: None,
            },
            cmd::ZERO_NUM => Action::Zero {
                chain,
                position: self.rulenum,
            },
            _ => return None,
        })
    }

    /// One rule per combination of source and destination, as add_entry loops over them.
    fn rules(&self, target: Option<Target>, src: &[AddrMatch], dst: &[AddrMatch]) -> Vec<RuleSpec> {
        let template = RuleSpec {
            src: AddrMatch::default(),
            dst: AddrMatch::default(),
            in_iface: self.in_iface.clone(),
            out_iface: self.out_iface.clone(),
            proto: self.proto,
            proto_invert: self.proto_invert,
            ports: self.ports.iter().map(|p| p.spec).collect(),
            target,
        };
        let template = &template;
        src.iter()
            .flat_map(|&src| {
                dst.iter().map(move |&dst| RuleSpec {
                    src,
                    dst,
                    ..template.clone()
                })
            })
            .collect()
    }
}

/// xtables_options_fcheck for MARK: the first option given (in table order) that
/// excludes another one given (in id order) is reported.
fn mark_clash<'w>(given: &[(ExtOpt, &'w Word)]) -> Option<(String, &'w Word)> {
    let id_order = [
        ExtOpt::SetMark,
        ExtOpt::AndMark,
        ExtOpt::OrMark,
        ExtOpt::XorMark,
        ExtOpt::SetXmark,
    ];
    let name = |o: ExtOpt| {
        MARK_OPTIONS
            .iter()
            .find(|(_, e)| *e == o)
            .map_or("", |(n, _)| n)
    };
    let &(_, this) = MARK_OPTIONS
        .iter()
        .find(|(_, o)| given.iter().any(|(g, _)| g == o))?;
    let other = id_order
        .into_iter()
        .find(|o| *o != this && given.iter().any(|(g, _)| g == o))?;
    let &(_, word) = given.last()?;
    Some((
        format!(
            "MARK: option \"--{}\" cannot be used together with \"--{}\".",
            name(this),
            name(other)
        ),
        word,
    ))
}
