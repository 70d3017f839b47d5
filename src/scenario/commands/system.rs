//! System administration: `systemctl`/`service` for the web server, `ifup`/`ifdown`,
//! `modprobe`, `poweroff`, `kill`/`pkill`/`killall`, and package installs (the software is
//! already there).

use super::args::Args;
use crate::scenario::source::Diagnostic;
use crate::stack::addr::IfAddr;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    Start,
    Stop,
    Restart,
    Reload,
    Status,
    Enable,
    Disable,
}

/// The signals `kill`/`pkill`/`killall` send here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Term,
    Kill,
    /// Signal 0: nothing is sent, the exit status says whether the process exists (the
    /// classic keepalived `vrrp_script`: `killall -0 nginx`).
    Probe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemCommand {
    WebServer {
        name: &'static str,
        action: ServiceAction,
    },
    Keepalived(ServiceAction),
    /// A unit that exists but does nothing in the simulation (`systemctl stop firewalld`).
    OtherUnit {
        name: String,
        action: ServiceAction,
    },
    Ifup(String),
    Ifdown(String),
    Modprobe(Vec<String>),
    Poweroff,
    Signal {
        name: String,
        signal: Signal,
        quiet_if_none: bool,
    },
    Install,
}

/// Kernel modules a lab may load; `ipip` also creates `tunl0`, `ip_gre` creates `gre0`; the
/// others are built in as far as lvsim is concerned.
const MODULES: &[&str] = &[
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_vs_twos",
    "ip_vs_ftp",
    "ipip",
    "ip_tunnel",
    "tunnel4",
    "fou",
    "ip_gre",
    "gre",
    "dummy",
    "nf_conntrack",
    "nf_conntrack_ipv4",
    "iptable_filter",
    "iptable_mangle",
    "iptable_nat",
    "xt_mark",
    "8021q",
    "bridge",
    "br_netfilter",
];

/// Units systemctl knows; only the web servers change anything.
const OTHER_UNITS: &[&str] = &[
    "network",
    "NetworkManager",
    "firewalld",
    "iptables",
    "ipvsadm",
    "sshd",
    "mariadb",
    "mysqld",
    "php-fpm",
];

fn action(word: &str) -> Option<ServiceAction> {
    Some(match word {
        "start" => ServiceAction::Start,
        "stop" => ServiceAction::Stop,
        "restart" | "force-reload" => ServiceAction::Restart,
        "reload" => ServiceAction::Reload,
        "status" | "is-active" => ServiceAction::Status,
        "enable" => ServiceAction::Enable,
        "disable" => ServiceAction::Disable,
        _ => return None,
    })
}

/// `systemctl ACTION UNIT` or `service UNIT ACTION`.
pub fn parse_service(args: &mut Args, systemctl: bool) -> Result<SystemCommand, Diagnostic> {
    let usage = if systemctl {
        "systemctl start|stop|restart|reload|status|enable|disable UNIT"
    } else {
        "service UNIT start|stop|restart|reload|status"
    };
    let first = args.expect(if systemctl {
        "the action"
    } else {
        "the service name"
    })?;
    let second = args.expect(if systemctl { "the unit" } else { "the action" })?;
    args.finish(if systemctl { "systemctl" } else { "service" }, usage)?;
    let (action_word, unit_word) = if systemctl {
        (first, second)
    } else {
        (second, first)
    };
    let act = action(&action_word.text).ok_or_else(|| {
        args.error_at(
            action_word,
            format!("Unknown command verb {}.", action_word.text),
        )
        .with_help(format!("accepted: {usage}"))
    })?;
    let unit = unit_word.text.trim_end_matches(".service");
    match unit {
        "nginx" => Ok(SystemCommand::WebServer {
            name: "nginx",
            action: act,
        }),
        "httpd" | "apache2" => Ok(SystemCommand::WebServer {
            name: "httpd",
            action: act,
        }),
        "keepalived" => Ok(SystemCommand::Keepalived(act)),
        other if OTHER_UNITS.contains(&other) => Ok(SystemCommand::OtherUnit {
            name: other.to_owned(),
            action: act,
        }),
        other => Err(args
            .error_at(unit_word, format!("Unit {other}.service not found."))
            .with_help(
                "lvsim runs nginx and httpd (and accepts network, firewalld, iptables, sshd ...)",
            )),
    }
}

pub fn parse_ifupdown(args: &mut Args, up: bool) -> Result<SystemCommand, Diagnostic> {
    let dev = args.expect("the interface")?.text.clone();
    args.finish(if up { "ifup" } else { "ifdown" }, "ifup|ifdown IFACE")?;
    Ok(if up {
        SystemCommand::Ifup(dev)
    } else {
        SystemCommand::Ifdown(dev)
    })
}

pub fn parse_modprobe(args: &mut Args) -> Result<SystemCommand, Diagnostic> {
    let mut modules = Vec::new();
    while let Some(word) = args.take() {
        if word.text.starts_with('-') {
            continue;
        }
        if !MODULES.contains(&word.text.as_str()) {
            return Err(args.error_at(word, format!("modprobe: FATAL: Module {} not found in directory /lib/modules/6.1.0-lvsim", word.text)).with_help("lvsim knows ip_vs and its schedulers, ipip, fou, ip_gre, dummy, nf_conntrack, iptable_*"));
        }
        modules.push(word.text.clone());
    }
    if modules.is_empty() {
        return Err(args.missing("the module name"));
    }
    Ok(SystemCommand::Modprobe(modules))
}

/// `kill [-9|-KILL|-15|-TERM] $(pidof NAME)`, `pkill [-9] NAME`, `killall [-9] NAME`.
pub fn parse_signal(args: &mut Args, program: &str) -> Result<SystemCommand, Diagnostic> {
    let usage = "kill [-9|-0] $(pidof NAME), pkill [-9|-0] NAME, killall [-9|-0] NAME";
    let mut signal = Signal::Term;
    let mut name = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "-9" | "-KILL" | "-SIGKILL" => signal = Signal::Kill,
            "-15" | "-TERM" | "-SIGTERM" => signal = Signal::Term,
            "-0" => signal = Signal::Probe,
            "-s" => {
                let sig = args.expect("the signal")?;
                signal = match sig.text.as_str() {
                    "9" | "KILL" | "SIGKILL" => Signal::Kill,
                    "0" => Signal::Probe,
                    _ => Signal::Term,
                };
            }
            text if program == "kill" => {
                let Some(target) = text
                    .strip_prefix("$(pidof ")
                    .and_then(|t| t.strip_suffix(')'))
                else {
                    return Err(args
                        .error_at(word, "kill: process ids are not simulated")
                        .with_help(format!("accepted: {usage}")));
                };
                name = Some(target.to_owned());
            }
            text => name = Some(text.to_owned()),
        }
    }
    let name = name.ok_or_else(|| args.missing("the process name"))?;
    Ok(SystemCommand::Signal {
        name,
        signal,
        quiet_if_none: program == "pkill",
    })
}

pub fn run(host: &mut Host, ctx: &mut Ctx, command: &SystemCommand) -> Result<Vec<String>, String> {
    match command {
        SystemCommand::WebServer { name, action } => web_server(host, ctx, name, *action),
        SystemCommand::Keepalived(action) => crate::keepalived::service(host, ctx, *action),
        SystemCommand::OtherUnit { name, action } => Ok(match action {
            ServiceAction::Status => vec![
                format!("● {name}.service"),
                "     Active: inactive (dead) (not simulated)".to_owned(),
            ],
            _ => Vec::new(),
        }),
        SystemCommand::Ifup(dev) => ifup(host, ctx, dev).map(|_| Vec::new()),
        SystemCommand::Ifdown(dev) => ifdown(host, ctx, dev).map(|_| Vec::new()),
        SystemCommand::Modprobe(modules) => {
            for module in modules {
                match module.as_str() {
                    "ipip" => {
                        host.ensure_tunnel("tunl0");
                    }
                    "ip_gre" => {
                        host.ensure_tunnel("gre0");
                    }
                    _ => {}
                }
            }
            Ok(Vec::new())
        }
        SystemCommand::Poweroff => {
            host.power_off(ctx);
            Ok(Vec::new())
        }
        SystemCommand::Signal {
            name,
            signal,
            quiet_if_none,
        } => {
            let hit = match *signal {
                Signal::Probe => running_processes(host, name),
                Signal::Kill | Signal::Term => {
                    let kill = *signal == Signal::Kill;
                    if name == "keepalived" {
                        signal_keepalived(host, ctx, kill)
                    } else if name == "nginx" || name == "httpd" {
                        let running = running_processes(host, name);
                        if running > 0 {
                            host.web_server_stop(ctx);
                        }
                        running
                    } else {
                        host.signal_programs(ctx, name, kill)
                    }
                }
            };
            match (hit, quiet_if_none) {
                (0, true) => Err(String::new()),
                (0, false) => Err(format!("{name}: no process found")),
                _ => Ok(Vec::new()),
            }
        }
        SystemCommand::Install => Ok(vec![
            "(lvsim: the software is already installed)".to_owned(),
        ]),
    }
}

/// How many processes called `name` run on the host (the web server, keepalived, programs).
fn running_processes(host: &Host, name: &str) -> usize {
    match name {
        "nginx" | "httpd" => (host.web.running == Some(name)) as usize,
        "keepalived" => host.keepalived.is_running() as usize,
        _ => host.count_programs(name),
    }
}

/// SIGKILL ends keepalived at once, sending nothing; SIGTERM is a graceful stop.
fn signal_keepalived(host: &mut Host, ctx: &mut Ctx, kill: bool) -> usize {
    if !host.keepalived.is_running() {
        return 0;
    }
    if kill {
        host.keepalived_kill(ctx, "killed by SIGKILL");
    } else {
        host.keepalived_stop(ctx);
    }
    1
}

fn web_server(
    host: &mut Host,
    ctx: &mut Ctx,
    name: &'static str,
    action: ServiceAction,
) -> Result<Vec<String>, String> {
    let running = host.web.running;
    let other_running = running.is_some_and(|r| r != name);
    match action {
        ServiceAction::Start | ServiceAction::Restart if other_running => Err(format!(
            "Job for {name}.service failed because the control process exited with error code. ({}: bind() to 0.0.0.0:80 failed (98: Address already in use))",
            name
        )),
        ServiceAction::Start => {
            host.web_server_start(name);
            Ok(Vec::new())
        }
        ServiceAction::Restart => {
            if running == Some(name) {
                host.web_server_stop(ctx);
            }
            host.web_server_start(name);
            Ok(Vec::new())
        }
        ServiceAction::Stop => {
            if running == Some(name) {
                host.web_server_stop(ctx);
            }
            Ok(Vec::new())
        }
        ServiceAction::Reload if running != Some(name) => {
            Err(format!("{name}.service is not active, cannot reload."))
        }
        ServiceAction::Reload | ServiceAction::Enable | ServiceAction::Disable => Ok(Vec::new()),
        ServiceAction::Status => {
            let state = if running == Some(name) {
                "active (running)"
            } else {
                "inactive (dead)"
            };
            Ok(vec![
                format!("● {name}.service"),
                format!("     Active: {state}"),
            ])
        }
    }
}

/// RHEL `ifdown`: flush the device's addresses and take it down. What the device had on its
/// own label is kept as its ifcfg file when the scenario gave the NIC none.
fn ifdown(host: &mut Host, ctx: &mut Ctx, dev: &str) -> Result<(), String> {
    let d = host
        .iface_index(dev)
        .ok_or_else(|| format!("ifdown: unknown interface {dev}"))?;
    if host.ifaces[d].boot_addrs.is_empty() {
        let own: Vec<_> = host.ifaces[d]
            .addrs
            .iter()
            .filter(|a| a.label == dev)
            .map(|a| (a.local, a.prefix_len))
            .collect();
        host.ifaces[d].boot_addrs = own;
    }
    let locals: Vec<_> = host.ifaces[d].addrs.iter().map(|a| a.local).collect();
    for local in locals {
        let _ = host.del_address(d, local, None);
    }
    host.set_link(ctx, d, false);
    Ok(())
}

/// RHEL `ifup`: bring the device up with its ifcfg addresses.
fn ifup(host: &mut Host, ctx: &mut Ctx, dev: &str) -> Result<(), String> {
    let d = host
        .iface_index(dev)
        .ok_or_else(|| format!("ifup: unknown interface {dev}"))?;
    host.set_link(ctx, d, true);
    for (local, prefix_len) in host.ifaces[d].boot_addrs.clone() {
        if !host.ifaces[d].has_addr(local) {
            host.add_address(d, IfAddr::with_broadcast(local, prefix_len, dev))
                .map_err(|e| format!("ifup: {e}"))?;
        }
    }
    Ok(())
}
