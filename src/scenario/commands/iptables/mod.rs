//! `iptables` as iptables 1.8.7 with the nf_tables backend parses and runs it (Debian 11,
//! RHEL 9): the filter table (`-A|-I|-D INPUT|FORWARD|OUTPUT`, `-F`, `-Z`, `-P`, `-L`,
//! `-S`) and mangle PREROUTING's MARK rules for IPVS fwmark services.
//!
//! The words are read the way `do_parse` (iptables/xtables.c) reads them with
//! getopt_long: short options bundle (`-nvL`), an optional argument must be attached
//! (`-Lnv` lists a chain named `nv`), long options may be abbreviated, `!` inverts the next
//! option, and an extension's options exist only once it is loaded (`-p tcp` loads the
//! `tcp` match on its first unknown option, so `--dport` before `-p tcp` is unknown). The
//! checks after the loop run in do_parse's order. Messages are iptables's own
//! (xtables_error prefixes `iptables v1.8.7 (nf_tables): `), from iptables/xshared.c,
//! libxtables/xtables.c, libxtables/xtoptions.c and the extensions libxt_tcp.c,
//! libxt_udp.c, libxt_MARK.c and libipt_REJECT.c. What lvsim does not simulate (user
//! chains, the nat table, other matches and targets) is refused by name.
//!
//! Failures the kernel or nf_tables report are runtime errors worded as iptables prints
//! them (nft_strerror in iptables/nft.c and mnl_append_error's `RULE_APPEND failed`).
//!
//! `parser` holds do_parse's loop (the extensions' options in `parser::extensions`, the checks
//! after the loop in `parser::finish`), over the option tables in `options` and the value
//! parsers in `values`; this file has the parsed command and runs it.

mod options;
mod parser;
#[cfg(test)]
mod tests;
mod values;

use super::args::Args;
use crate::scenario::source::Diagnostic;
use crate::stack::host::Host;
use crate::stack::netfilter::{
    ListFormat, Netfilter, NfError, Policy, RuleSpec, Table, print_rule,
};
use parser::Parser;

/// What every xtables_error message starts with.
const PREFIX: &str = "iptables v1.8.7 (nf_tables): ";

const ACCEPTED: &str = "iptables [-t filter|mangle] -A|-I|-D CHAIN [!] [-p P] [-s A[/M]] [-d A[/M]] [-i IF] [-o IF] [-m tcp|udp] [--sport P] [--dport P] -j ACCEPT|DROP|REJECT|RETURN|MARK, -D CHAIN N, -F|-Z [CHAIN], -P CHAIN ACCEPT|DROP, -L|-S [CHAIN [N]] [-n] [-v] [-x] [--line-numbers]";

/// A parsed `iptables` command: the table and what to do, in order (`-L -Z` lists, then
/// zeroes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IptablesCommand {
    pub table: Table,
    /// `-v`: echo added and deleted rules, name flushed and zeroed chains.
    pub verbose: bool,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-V`: prints the version line and does nothing else.
    Version(&'static str),
    /// One rule per combination of the `-s` and `-d` addresses.
    Append {
        chain: String,
        rules: Vec<RuleSpec>,
    },
    Insert {
        chain: String,
        position: u32,
        rules: Vec<RuleSpec>,
    },
    Delete {
        chain: String,
        rules: Vec<RuleSpec>,
    },
    DeleteAt {
        chain: String,
        position: u32,
    },
    Flush {
        chain: Option<String>,
    },
    Zero {
        chain: Option<String>,
        position: Option<u32>,
    },
    /// The policy word is checked when it runs, as nft_chain_set does.
    Policy {
        chain: String,
        policy: String,
    },
    List {
        chain: Option<String>,
        position: Option<u32>,
        format: ListFormat,
    },
    ListRules {
        chain: Option<String>,
        position: Option<u32>,
        counters: bool,
    },
}

/// Commands, as the CMD_* bits of iptables/xshared.h (their bit order is what cmd2char
/// names them by).
mod cmd {
    pub const INSERT: u16 = 1 << 0;
    pub const DELETE: u16 = 1 << 1;
    pub const DELETE_NUM: u16 = 1 << 2;
    pub const APPEND: u16 = 1 << 4;
    pub const LIST: u16 = 1 << 5;
    pub const FLUSH: u16 = 1 << 6;
    pub const ZERO: u16 = 1 << 7;
    pub const SET_POLICY: u16 = 1 << 10;
    pub const LIST_RULES: u16 = 1 << 12;
    pub const ZERO_NUM: u16 = 1 << 13;
    /// cmd2char's table, indexed by bit.
    pub const LETTERS: &[u8] = b"IDDRALFZNXPESZC";
    /// The commands that take a rule specification.
    pub const WITH_RULE: u16 = INSERT | DELETE | APPEND;
}

pub fn parse(args: &mut Args) -> Result<IptablesCommand, Diagnostic> {
    let command = Parser::new(args).run()?;
    while args.take().is_some() {}
    Ok(command)
}

/// Runs a parsed command against the host's tables; errors are iptables's messages.
/// Like iptables-nft, a command is one nf_tables transaction: if any part fails, nothing
/// it did stays (not even the table it created).
pub fn run(host: &mut Host, command: &IptablesCommand) -> Result<Vec<String>, String> {
    let mut tables = host.netfilter.clone();
    let mut output = Vec::new();
    for action in &command.actions {
        output.extend(run_action(
            &mut tables,
            command.table,
            command.verbose,
            action,
        )?);
    }
    host.netfilter = tables;
    Ok(output)
}

fn run_action(
    nf: &mut Netfilter,
    table: Table,
    verbose: bool,
    action: &Action,
) -> Result<Vec<String>, String> {
    let echo = |rules: &[RuleSpec]| -> Vec<String> {
        if verbose {
            rules.iter().map(print_rule).collect()
        } else {
            Vec::new()
        }
    };
    match action {
        Action::Version(line) => Ok(vec![(*line).to_owned()]),
        Action::Append { chain, rules } => {
            for rule in rules {
                nf.append(table, chain, rule.clone())
                    .map_err(|e| rule_error(e, "RULE_APPEND", chain))?;
            }
            Ok(echo(rules))
        }
        Action::Insert {
            chain,
            position,
            rules,
        } => {
            for rule in rules {
                nf.insert(table, chain, *position, rule.clone())
                    .map_err(|e| rule_error(e, "RULE_INSERT", chain))?;
            }
            Ok(echo(rules))
        }
        Action::Delete { chain, rules } => {
            for rule in rules {
                nf.delete(table, chain, rule).map_err(|_| {
                    errno_text("Bad rule (does a matching rule exist in that chain?)")
                })?;
            }
            Ok(echo(rules))
        }
        Action::DeleteAt { chain, position } => nf
            .delete_at(table, chain, *position)
            .map(|()| Vec::new())
            .map_err(|e| match e {
                NfError::IndexTooBig => errno_text("Index of deletion too big"),
                _ => no_such_chain(),
            }),
        Action::Flush { chain } => nf
            .flush(table, chain.as_deref())
            .map(|names| verbose_chains(verbose, "Flushing", names))
            .map_err(|_| no_such_chain()),
        Action::Zero { chain, position } => nf
            .zero(table, chain.as_deref(), *position)
            .map(|names| verbose_chains(verbose, "Zeroing", names))
            .map_err(|_| no_such_chain()),
        Action::Policy { chain, policy } => {
            let policy = Policy::parse(policy).ok_or_else(|| {
                "iptables: Bad policy name. Run `dmesg' for more information.".to_owned()
            })?;
            nf.set_policy(table, chain, policy)
                .map(|()| Vec::new())
                .map_err(|_| errno_text("Bad built-in chain name"))
        }
        Action::List {
            chain,
            position,
            format,
        } => nf
            .list(table, chain.as_deref(), *position, *format)
            .map_err(|_| no_such_chain()),
        Action::ListRules {
            chain,
            position,
            counters,
        } => nf
            .list_rules(table, chain.as_deref(), *position, *counters)
            .map_err(|_| no_such_chain()),
    }
}

/// `iptables: MESSAGE.` (xtables_main's report of nft_strerror).
fn errno_text(message: &str) -> String {
    format!("iptables: {message}.")
}

fn no_such_chain() -> String {
    errno_text("No chain/target/match by that name")
}

/// An added rule that failed: no chain, a rule number past the end, or refused by the
/// kernel (mnl_append_error: ` RULE_APPEND failed (Invalid argument): rule in chain X`).
fn rule_error(error: NfError, operation: &str, chain: &str) -> String {
    match error {
        NfError::IndexTooBig => errno_text("Index of insertion too big"),
        NfError::Invalid => {
            format!("{PREFIX} {operation} failed (Invalid argument): rule in chain {chain}")
        }
        NfError::NoSuchChain | NfError::NoSuchRule => no_such_chain(),
    }
}

/// `-v -F` and `-v -Z` name each chain: ``Flushing chain `INPUT'``.
fn verbose_chains(verbose: bool, doing: &str, names: Vec<&str>) -> Vec<String> {
    if !verbose {
        return Vec::new();
    }
    names
        .into_iter()
        .map(|name| format!("{doing} chain `{name}'"))
        .collect()
}
