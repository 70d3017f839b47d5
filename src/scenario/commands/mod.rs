//! The commands a lab script may run, each parsed with its tool's syntax (errors point at the
//! offending word) and run against a simulated host.

pub mod args;
pub mod arp;
pub mod ifconfig;
pub mod ip;
pub mod iptables;
pub mod ipvsadm;
pub mod programs;
pub mod route;
pub mod sysctl;
pub mod system;

use args::Args;

use super::shell::CommandLine;
use super::source::{Diagnostic, MappedText, Source};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ip(ip::IpCommand),
    Iptables(iptables::IptablesCommand),
    Ifconfig(ifconfig::IfconfigCommand),
    Route(route::RouteCommand),
    Arp(arp::ArpCommand),
    Sysctl(sysctl::SysctlCommand),
    System(system::SystemCommand),
    Program(programs::ProgramSpec),
    Ipvsadm(ipvsadm::IpvsadmLine),
}

/// A command with the line it came from (for the timeline and for error positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    pub line: CommandLine,
    pub command: Command,
}

/// Every command name lvsim knows, for "command not found" help.
pub const KNOWN: &str = "ip, ifconfig, iptables, route, arp, sysctl, echo, cat, ifup, ifdown, modprobe, systemctl, service, ipvsadm, ping, curl, ab, arping, arpspoof, kill, pkill, killall, poweroff, yum, apt-get";

/// An error for a command lvsim knows of but does not run (yet), at the command's name.
fn not_simulated(source: &Source, line: &CommandLine, message: &str, help: &str) -> Diagnostic {
    source.error(line.words[0].span, message).with_help(help)
}

/// Parses one command line.
/// A command line that lives outside a scenario file (a keepalived `misc_path`), parsed as
/// a script of its own named `file`.
pub fn parse_text(file: &str, text: &str) -> Result<Vec<ScriptCommand>, Diagnostic> {
    let source = Source::new(file, text);
    let mapped = MappedText::whole(text);
    let mut vars = std::collections::BTreeMap::new();
    crate::scenario::shell::parse_script(&mapped, &source, &mut vars)?
        .into_iter()
        .map(|line| parse(line, &source))
        .collect()
}

pub fn parse(line: CommandLine, source: &Source) -> Result<ScriptCommand, Diagnostic> {
    let command = {
        let mut args = Args::new(source, &line.words, line.span);
        let program = line.program();
        if let Some(redirect) = line.stdout.as_ref().filter(|_| program != "echo") {
            let target = &redirect.target;
            if target.text != "/dev/null" {
                return Err(source.error(
                    target.span,
                    format!(
                        "`{}`: output can only be redirected to /dev/null (or /proc/sys with echo)",
                        target.text
                    ),
                ));
            }
        }
        match program {
            "ip" => Command::Ip(ip::parse(&mut args)?),
            "ifconfig" => Command::Ifconfig(ifconfig::parse(&mut args)?),
            "route" => Command::Route(route::parse(&mut args)?),
            "arp" => Command::Arp(arp::parse(&mut args)?),
            "sysctl" => Command::Sysctl(sysctl::parse_sysctl(&mut args)?),
            "echo" => Command::Sysctl(sysctl::parse_echo(&mut args, &line)?),
            "cat" => Command::Sysctl(sysctl::parse_cat(&mut args)?),
            "systemctl" => Command::System(system::parse_service(&mut args, true)?),
            "service" => Command::System(system::parse_service(&mut args, false)?),
            "ifup" => Command::System(system::parse_ifupdown(&mut args, true)?),
            "ifdown" => Command::System(system::parse_ifupdown(&mut args, false)?),
            "modprobe" => Command::System(system::parse_modprobe(&mut args)?),
            "poweroff" | "halt" => Command::System(system::SystemCommand::Poweroff),
            "kill" | "pkill" | "killall" => {
                Command::System(system::parse_signal(&mut args, program)?)
            }
            "yum" | "apt-get" | "apt" | "dnf" => Command::System(system::SystemCommand::Install),
            "ping" => Command::Program(programs::parse_ping(&mut args)?),
            "curl" => Command::Program(programs::parse_curl(&mut args)?),
            "ab" => Command::Program(programs::parse_ab(&mut args)?),
            "arping" => Command::Program(programs::parse_arping(&mut args)?),
            "arpspoof" => Command::Program(programs::parse_arpspoof(&mut args)?),
            "ipvsadm" | "/sbin/ipvsadm" | "/usr/sbin/ipvsadm" => {
                Command::Ipvsadm(ipvsadm::parse(&mut args))
            }
            "iptables" => Command::Iptables(iptables::parse(&mut args)?),
            "sleep" => {
                return Err(not_simulated(
                    source,
                    &line,
                    "sleep: scripts run at one instant in lvsim",
                    "use an [[at]] entry with a time to run commands later",
                ));
            }
            other => {
                return Err(source
                    .error(line.words[0].span, format!("{other}: command not found"))
                    .with_help(format!("lvsim knows: {KNOWN}")));
            }
        }
    };
    Ok(ScriptCommand { line, command })
}

/// Runs a command on a host. Output lines go to the timeline; an error is the tool's
/// message (empty when the tool fails silently, as `pkill` does).
pub fn run(host: &mut Host, ctx: &mut Ctx, command: &ScriptCommand) -> Result<(), String> {
    ctx.trace.command(ctx.now, ctx.host, command.line.display());
    let output = match &command.command {
        Command::Ip(c) => ip::run(host, ctx, c),
        Command::Ifconfig(c) => ifconfig::run(host, ctx, c),
        Command::Route(c) => route::run(host, c),
        Command::Iptables(c) => iptables::run(host, c),
        Command::Arp(c) => arp::run(host, ctx, c),
        Command::Sysctl(c) => sysctl::run(host, ctx, c),
        Command::System(c) => system::run(host, ctx, c),
        Command::Program(spec) => {
            programs::run(host, ctx, spec, &command.line.display());
            Ok(Vec::new())
        }
        Command::Ipvsadm(line) => ipvsadm::run(host, ctx, line),
    }?;
    let silenced = command
        .line
        .stdout
        .as_ref()
        .is_some_and(|r| r.target.text == "/dev/null");
    if !silenced {
        for line in output {
            ctx.output(line);
        }
    }
    Ok(())
}
