//! iproute2 `ip`: `addr add|del|flush|show`, `link set|show`, `route add|del|show|get`,
//! `neigh add|replace|change|del|flush|show`, `fou add|del|show`, with iproute2's output
//! formats and errors.

use std::net::Ipv4Addr;

use super::args::{Args, parse_prefix};
use super::route::{self, RouteSpec};
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::stack::addr::{IfAddr, Scope, mask};
use crate::stack::ctx::Ctx;
use crate::stack::fou::{FouEncap, FouPort};
use crate::stack::host::Host;
use crate::stack::iface::IfKind;
use crate::stack::neigh::{NeighEntry, NudState, UpdateFlags};
use crate::stack::route::{RouteKind, RouteProto};
use crate::wire::MacAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpCommand {
    AddrAdd {
        dev: String,
        addr: IfAddr,
    },
    AddrDel {
        dev: String,
        local: Ipv4Addr,
        prefix_len: Option<u8>,
    },
    AddrFlush {
        dev: String,
    },
    AddrShow {
        dev: Option<String>,
    },
    LinkSet {
        dev: String,
        up: Option<bool>,
        mtu: Option<u32>,
    },
    LinkShow {
        dev: Option<String>,
    },
    RouteAdd(RouteSpec),
    RouteDel(RouteSpec),
    RouteShow,
    RouteGet(Ipv4Addr),
    NeighSet {
        ip: Ipv4Addr,
        mac: Option<MacAddr>,
        dev: String,
        state: NudState,
        replace: bool,
    },
    NeighDel {
        ip: Ipv4Addr,
        dev: String,
    },
    NeighFlush {
        dev: Option<String>,
    },
    NeighShow {
        dev: Option<String>,
    },
    FouAdd(FouPort),
    FouDel {
        port: u16,
    },
    FouShow,
}

const OBJECTS: &str = "ip addr|link|route|neigh|fou ...";

/// Object names accept iproute2's abbreviations (`a`, `addr`, `r`, `n`, ...).
fn object(word: &str) -> Option<&'static str> {
    let candidates: [(&str, &[&str]); 5] = [
        (
            "addr",
            &["a", "ad", "add", "addr", "addre", "addres", "address"],
        ),
        ("link", &["l", "li", "lin", "link"]),
        ("route", &["r", "ro", "rou", "rout", "route"]),
        (
            "neigh",
            &["n", "ne", "nei", "neig", "neigh", "neighbor", "neighbour"],
        ),
        ("fou", &["fou"]),
    ];
    candidates
        .iter()
        .find(|(_, names)| names.contains(&word))
        .map(|(name, _)| *name)
}

pub fn parse(args: &mut Args) -> Result<IpCommand, Diagnostic> {
    // -4 changes nothing: lvsim is IPv4 only.
    while args.peek_text() == Some("-4") {
        args.take();
    }
    let obj_word = args.expect("the object (addr, link, route, neigh or fou)")?;
    let obj = object(&obj_word.text).ok_or_else(|| {
        args.error_at(
            obj_word,
            format!("Object \"{}\" is unknown, try \"ip help\".", obj_word.text),
        )
        .with_help(format!("accepted: {OBJECTS}"))
    })?;
    let verb = args.take().map(|w| w.text.clone());
    let verb = verb.as_deref().unwrap_or("show");
    match (obj, verb) {
        ("addr", "add") => parse_addr_add(args),
        ("addr", "del" | "delete") => parse_addr_del(args),
        ("addr", "flush") => Ok(IpCommand::AddrFlush {
            dev: dev_arg(args, "ip addr flush")?,
        }),
        ("addr", "show" | "list" | "ls" | "lst" | "sh") => Ok(IpCommand::AddrShow {
            dev: optional_dev(args, "ip addr show")?,
        }),
        ("link", "set") => parse_link_set(args),
        ("link", "show" | "list" | "ls" | "sh") => Ok(IpCommand::LinkShow {
            dev: optional_dev(args, "ip link show")?,
        }),
        ("route", "add" | "append") => parse_route_spec(args).map(IpCommand::RouteAdd),
        ("route", "del" | "delete") => parse_route_spec(args).map(IpCommand::RouteDel),
        ("route", "show" | "list" | "ls" | "sh") => {
            args.finish("ip route show", "ip route show")?;
            Ok(IpCommand::RouteShow)
        }
        ("route", "get") => {
            let ip = args.ipv4("the destination address")?;
            args.finish("ip route get", "ip route get ADDRESS")?;
            Ok(IpCommand::RouteGet(ip))
        }
        ("neigh", "add" | "replace" | "change") => parse_neigh_set(args, verb != "add"),
        ("neigh", "del" | "delete") => {
            let ip = args.ipv4("the neighbour address")?;
            let dev = dev_arg(args, "ip neigh del")?;
            Ok(IpCommand::NeighDel { ip, dev })
        }
        ("neigh", "flush") => Ok(IpCommand::NeighFlush {
            dev: neigh_flush_dev(args)?,
        }),
        ("neigh", "show" | "list" | "ls" | "sh") => Ok(IpCommand::NeighShow {
            dev: optional_dev(args, "ip neigh show")?,
        }),
        ("fou", "add") => parse_fou(args, true),
        ("fou", "del" | "delete") => parse_fou(args, false),
        ("fou", "show" | "list" | "ls" | "sh") => {
            args.finish("ip fou show", "ip fou show")?;
            Ok(IpCommand::FouShow)
        }
        (obj, verb) => {
            let word = args.rest().first().unwrap_or(obj_word);
            Err(args
                .error_at(
                    word,
                    format!("Command \"{verb}\" is unknown, try \"ip {obj} help\"."),
                )
                .with_help(format!("accepted: {}", verbs(obj))))
        }
    }
}

fn verbs(obj: &str) -> &'static str {
    match obj {
        "addr" => "ip addr add|del|flush|show",
        "link" => "ip link set DEV up|down|mtu N, ip link show",
        "route" => "ip route add|del|show|get",
        "fou" => "ip fou add port PORT gue|ipproto PROTO, ip fou del port PORT, ip fou show",
        _ => "ip neigh add|replace|change|del|flush|show",
    }
}

/// `dev DEV` (the keyword may be omitted when the device is the only argument).
fn dev_arg(args: &mut Args, context: &str) -> Result<String, Diagnostic> {
    optional_dev(args, context)?.ok_or_else(|| args.missing("the device (dev DEV)"))
}

fn optional_dev(args: &mut Args, context: &str) -> Result<Option<String>, Diagnostic> {
    let mut dev = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "dev" => dev = Some(args.expect("the device name")?.text.clone()),
            "up" | "scope" if context.contains("show") => {
                if word.text == "scope" {
                    args.take();
                }
            }
            name if dev.is_none() && !name.starts_with('-') => dev = Some(name.to_owned()),
            _ => {
                return Err(args.error_at(
                    word,
                    format!("{context}: unexpected argument `{}`", word.text),
                ));
            }
        }
    }
    Ok(dev)
}

fn neigh_flush_dev(args: &mut Args) -> Result<Option<String>, Diagnostic> {
    let mut dev = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "dev" => dev = Some(args.expect("the device name")?.text.clone()),
            "all" => {}
            _ => {
                return Err(args
                    .error_at(
                        word,
                        format!("ip neigh flush: unexpected argument `{}`", word.text),
                    )
                    .with_help("accepted: ip neigh flush [dev DEV] [all]"));
            }
        }
    }
    Ok(dev)
}

/// iproute2's wording for an address it cannot read, with what lvsim accepts.
fn prefix_error(args: &Args, word: &Word, why: String) -> Diagnostic {
    args.error_at(
        word,
        format!(
            "Error: any valid prefix is expected rather than \"{}\".",
            word.text
        ),
    )
    .with_help(why)
}

fn parse_addr_add(args: &mut Args) -> Result<IpCommand, Diagnostic> {
    let mut local = None;
    let mut dev: Option<String> = None;
    let mut broadcast = None;
    let mut brd_plus = false;
    let mut scope = Scope::Global;
    let mut label = None;
    let mut label_word = None;
    let mut noprefixroute = false;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "dev" => dev = Some(args.expect("the device name")?.text.clone()),
            "brd" | "broadcast" => {
                let value = args.expect("the broadcast address")?;
                if value.text == "+" {
                    brd_plus = true;
                } else {
                    broadcast = Some(super::args::parse_ipv4(value).map_err(|m| args.error_at(value, m))?);
                }
            }
            "scope" => {
                let value = args.expect("the scope")?;
                scope = Scope::parse(&value.text).ok_or_else(|| args.error_at(value, format!("Error: argument \"{}\" is wrong: invalid scope value.", value.text)).with_help("accepted scopes: global, site, link, host"))?;
            }
            "label" => {
                let value = args.expect("the label")?;
                label = Some(value.text.clone());
                label_word = Some(value);
            }
            "local" => local = Some(args.expect("the address")?),
            "valid_lft" | "preferred_lft" => {
                let value = args.expect("a lifetime")?;
                if value.text != "forever" {
                    return Err(args.error_at(value, "lvsim keeps addresses forever: only `forever` is accepted as a lifetime"));
                }
            }
            "noprefixroute" => noprefixroute = true,
            _ if local.is_none() => local = Some(word),
            other => return Err(args.error_at(word, format!("Error: either \"local\" is duplicate, or \"{other}\" is a garbage.")).with_help("accepted: ip addr add ADDR[/LEN] [brd ADDR|+] [scope SCOPE] [label LABEL] [noprefixroute] [valid_lft|preferred_lft forever] dev DEV")),
        }
    }
    let Some(local_word) = local else {
        return Err(args.missing("the address"));
    };
    let (ip, len) = parse_prefix(local_word).map_err(|m| prefix_error(args, local_word, m))?;
    let Some(dev) = dev else {
        return Err(args.error_whole("Not enough information: \"dev\" argument is required."));
    };
    let prefix_len = len.unwrap_or(32);
    let label = label.unwrap_or_else(|| dev.clone());
    if label != dev && !label.starts_with(&format!("{dev}:")) {
        let word = label_word.expect("label given");
        return Err(args.error_at(
            word,
            format!(
                "\"{label}\" label must match \"{dev}\" or be prefixed by \"{dev}\" with a colon."
            ),
        ));
    }
    if brd_plus && prefix_len < 31 {
        broadcast = Some(Ipv4Addr::from(u32::from(ip) | !mask(prefix_len)));
    }
    Ok(IpCommand::AddrAdd {
        dev,
        addr: IfAddr {
            local: ip,
            prefix_len,
            broadcast,
            label,
            scope,
            secondary: false,
            noprefixroute,
        },
    })
}

fn parse_addr_del(args: &mut Args) -> Result<IpCommand, Diagnostic> {
    let word = args.expect("the address")?;
    let (local, prefix_len) = parse_prefix(word).map_err(|m| prefix_error(args, word, m))?;
    let dev = dev_arg(args, "ip addr del")?;
    Ok(IpCommand::AddrDel {
        dev,
        local,
        prefix_len,
    })
}

fn parse_link_set(args: &mut Args) -> Result<IpCommand, Diagnostic> {
    let mut dev = None;
    let mut up = None;
    let mut mtu = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "dev" => dev = Some(args.expect("the device name")?.text.clone()),
            "up" => up = Some(true),
            "down" => up = Some(false),
            "mtu" => mtu = Some(args.number::<u32>("MTU")?),
            name if dev.is_none() => dev = Some(name.to_owned()),
            other => {
                return Err(args
                    .error_at(
                        word,
                        format!("Error: either \"dev\" is duplicate, or \"{other}\" is a garbage."),
                    )
                    .with_help("accepted: ip link set [dev] DEV up|down|mtu N"));
            }
        }
    }
    let dev = dev
        .ok_or_else(|| args.error_whole("Not enough information: \"dev\" argument is required."))?;
    Ok(IpCommand::LinkSet { dev, up, mtu })
}

/// `ip fou add|del port PORT [gue | ipproto PROTO]` with ipfou.c's complaints.
fn parse_fou(args: &mut Args, adding: bool) -> Result<IpCommand, Diagnostic> {
    const USAGE: &str = "accepted: ip fou add port PORT gue|ipproto PROTO, ip fou del port PORT";
    let mut port = None;
    let mut gue = false;
    let mut ipproto = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "port" => port = Some(args.number::<u16>("the port")?),
            "gue" => gue = true,
            "ipproto" => ipproto = Some(args.number::<u8>("the IP protocol number")?),
            other => {
                return Err(args
                    .error_at(word, format!("fou: unknown command \"{other}\"?"))
                    .with_help(USAGE));
            }
        }
    }
    let port = port
        .filter(|&p| p != 0)
        .ok_or_else(|| args.error_whole("fou: missing port").with_help(USAGE))?;
    if !adding {
        return Ok(IpCommand::FouDel { port });
    }
    let encap = match (gue, ipproto) {
        (true, Some(_)) => {
            return Err(args
                .error_whole("fou: cannot set ipproto and gue")
                .with_help(USAGE));
        }
        (true, None) => FouEncap::Gue,
        (false, Some(proto)) if proto != 0 => FouEncap::Direct(proto),
        (false, _) => {
            return Err(args
                .error_whole("fou: must set ipproto or gue")
                .with_help(USAGE));
        }
    };
    Ok(IpCommand::FouAdd(FouPort { port, encap }))
}

fn parse_route_spec(args: &mut Args) -> Result<RouteSpec, Diagnostic> {
    let mut kind = RouteKind::Unicast;
    if let Some(k) = args.peek_text().and_then(|t| match t {
        "blackhole" => Some(RouteKind::Blackhole),
        "unreachable" => Some(RouteKind::Unreachable),
        "prohibit" => Some(RouteKind::Prohibit),
        "unicast" => Some(RouteKind::Unicast),
        _ => None,
    }) {
        kind = k;
        args.take();
    }
    let target = args.expect("the destination prefix or default")?;
    let (dst, prefix_len) = if target.text == "default" {
        (Ipv4Addr::UNSPECIFIED, 0)
    } else {
        let (ip, len) = parse_prefix(target).map_err(|m| prefix_error(args, target, m))?;
        (ip, len.unwrap_or(32))
    };
    let mut spec = RouteSpec::new(dst, prefix_len);
    spec.kind = kind;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "via" => spec.gateway = Some(args.ipv4("the gateway")?),
            "dev" | "oif" => spec.dev = Some(args.expect("the device name")?.text.clone()),
            "src" => spec.src = Some(args.ipv4("the source address")?),
            "metric" | "priority" | "preference" => spec.metric = Some(args.number("metric")?),
            "scope" => {
                let value = args.expect("the scope")?;
                spec.scope = Some(Scope::parse(&value.text).ok_or_else(|| args.error_at(value, format!("Error: argument \"{}\" is wrong: invalid scope value.", value.text)))?);
            }
            "proto" | "protocol" => {
                let value = args.expect("the protocol")?;
                spec.proto = Some(match value.text.as_str() {
                    "boot" | "3" => RouteProto::Boot,
                    "static" | "4" => RouteProto::Static,
                    "kernel" | "2" => RouteProto::Kernel,
                    other => return Err(args.error_at(value, format!("Error: \"{other}\" is not a valid protocol.")).with_help("accepted: boot, static, kernel")),
                });
            }
            "table" => {
                let value = args.expect("the table")?;
                if value.text != "main" && value.text != "254" {
                    return Err(args.error_at(value, "lvsim has only the main routing table").with_help("accepted: table main"));
                }
            }
            "onlink" => spec.onlink = true,
            other => return Err(args.error_at(word, format!("Error: either \"to\" is duplicate, or \"{other}\" is a garbage.")).with_help("accepted: ip route add|del PREFIX|default [via GW] [dev DEV] [src ADDR] [metric N] [scope SCOPE]")),
        }
    }
    Ok(spec)
}

fn parse_neigh_set(args: &mut Args, replace: bool) -> Result<IpCommand, Diagnostic> {
    let ip = args.ipv4("the neighbour address")?;
    let mut mac = None;
    let mut dev = None;
    let mut state = NudState::Permanent;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "lladdr" => mac = Some(args.mac("the link-layer address")?),
            "dev" => dev = Some(args.expect("the device name")?.text.clone()),
            "nud" => {
                let value = args.expect("the state")?;
                state = NudState::parse(&value.text)
                    .filter(|s| matches!(s, NudState::Permanent | NudState::Noarp | NudState::Reachable | NudState::Stale | NudState::Delay | NudState::Probe | NudState::Failed))
                    .ok_or_else(|| args.error_at(value, format!("nud state \"{}\" is invalid", value.text)).with_help("accepted: permanent, noarp, reachable, stale, delay, probe, failed"))?;
            }
            other => {
                return Err(args
                    .error_at(word, format!("Error: unexpected argument \"{other}\"."))
                    .with_help(
                        "accepted: ip neigh add|replace|change ADDR lladdr MAC dev DEV [nud STATE]",
                    ));
            }
        }
    }
    let dev =
        dev.ok_or_else(|| args.error_whole("Device and destination are required arguments."))?;
    Ok(IpCommand::NeighSet {
        ip,
        mac,
        dev,
        state,
        replace,
    })
}

fn find_dev(host: &Host, name: &str) -> Result<usize, String> {
    host.iface_index(name)
        .ok_or_else(|| format!("Cannot find device \"{name}\""))
}

/// Runs a parsed `ip` command.
pub fn run(host: &mut Host, ctx: &mut Ctx, command: &IpCommand) -> Result<Vec<String>, String> {
    let rtnl = |e: &str| format!("RTNETLINK answers: {e}");
    match command {
        IpCommand::AddrAdd { dev, addr } => {
            let d = find_dev(host, dev)?;
            host.add_address(d, addr.clone()).map_err(rtnl)?;
        }
        IpCommand::AddrDel {
            dev,
            local,
            prefix_len,
        } => {
            let d = find_dev(host, dev)?;
            host.del_address(d, *local, *prefix_len).map_err(rtnl)?;
        }
        IpCommand::AddrFlush { dev } => {
            let d = find_dev(host, dev)?;
            let locals: Vec<Ipv4Addr> = host.ifaces[d].addrs.iter().map(|a| a.local).collect();
            for local in locals {
                let _ = host.del_address(d, local, None);
            }
        }
        IpCommand::AddrShow { dev } => return show_links(host, dev.as_deref(), true),
        IpCommand::LinkSet { dev, up, mtu } => {
            let d = find_dev(host, dev)?;
            if let Some(mtu) = mtu {
                host.ifaces[d].mtu = *mtu;
            }
            if let Some(up) = up {
                host.set_link(ctx, d, *up);
            }
        }
        IpCommand::LinkShow { dev } => return show_links(host, dev.as_deref(), false),
        IpCommand::RouteAdd(spec) => route::install(host, spec).map_err(|e| rtnl(&e))?,
        IpCommand::RouteDel(spec) => route::remove(host, spec).map_err(|e| rtnl(&e))?,
        IpCommand::RouteShow => return Ok(show_routes(host)),
        IpCommand::RouteGet(ip) => return route_get(host, *ip),
        IpCommand::NeighSet {
            ip,
            mac,
            dev,
            state,
            replace,
        } => neigh_set(host, ctx, *ip, *mac, dev, *state, *replace)?,
        IpCommand::NeighDel { ip, dev } => {
            let d = find_dev(host, dev)?;
            host.neigh
                .remove(&(d, *ip))
                .ok_or_else(|| rtnl("No such file or directory"))?;
        }
        IpCommand::NeighFlush { dev } => {
            let d = dev.as_deref().map(|n| find_dev(host, n)).transpose()?;
            host.neigh.retain(|(entry_dev, _), e| {
                d.is_some_and(|x| x != *entry_dev)
                    || matches!(e.state, NudState::Permanent | NudState::Noarp)
            });
        }
        IpCommand::NeighShow { dev } => return show_neighbours(host, dev.as_deref()),
        IpCommand::FouAdd(fou) => {
            // The port's UDP socket cannot bind twice (fou_create).
            if host.fou.iter().any(|f| f.port == fou.port) {
                return Err(rtnl("Address already in use"));
            }
            host.fou.push(*fou);
        }
        IpCommand::FouDel { port } => {
            let before = host.fou.len();
            host.fou.retain(|f| f.port != *port);
            if host.fou.len() == before {
                return Err(rtnl("Invalid argument"));
            }
        }
        IpCommand::FouShow => return Ok(host.fou.iter().map(FouPort::show).collect()),
    }
    Ok(Vec::new())
}

fn neigh_set(
    host: &mut Host,
    ctx: &mut Ctx,
    ip: Ipv4Addr,
    mac: Option<MacAddr>,
    dev: &str,
    state: NudState,
    replace: bool,
) -> Result<(), String> {
    let d = find_dev(host, dev)?;
    if !replace && host.neigh.contains_key(&(d, ip)) {
        return Err("RTNETLINK answers: File exists".into());
    }
    if state.is_valid()
        && mac.is_none()
        && !host.neigh.get(&(d, ip)).is_some_and(|e| e.state.is_valid())
    {
        return Err("RTNETLINK answers: Invalid argument".into());
    }
    host.neigh
        .entry((d, ip))
        .or_insert_with(|| NeighEntry::new(ctx.now));
    let flags = UpdateFlags {
        override_: true,
        admin: true,
    };
    host.neigh_update(ctx, d, ip, mac, state, flags, false, "set by `ip neigh`");
    Ok(())
}

/// `ip addr` / `ip link`.
fn show_links(host: &Host, dev: Option<&str>, with_addrs: bool) -> Result<Vec<String>, String> {
    let selected = match dev {
        Some(name) => vec![find_dev(host, name)?],
        None => (0..host.ifaces.len()).collect(),
    };
    let mut lines = Vec::new();
    for index in selected {
        let iface = &host.ifaces[index];
        let flags = match (iface.kind, iface.admin_up) {
            (IfKind::Loopback, true) => "<LOOPBACK,UP,LOWER_UP>",
            (IfKind::Loopback, false) => "<LOOPBACK>",
            (IfKind::Ethernet, true) => "<BROADCAST,MULTICAST,UP,LOWER_UP>",
            (IfKind::Ethernet, false) => "<BROADCAST,MULTICAST>",
            (IfKind::Tunnel, true) => "<NOARP,UP,LOWER_UP>",
            (IfKind::Tunnel, false) => "<NOARP>",
        };
        let state = match (iface.kind, iface.admin_up) {
            (_, false) => "DOWN",
            (IfKind::Ethernet, true) => "UP",
            _ => "UNKNOWN",
        };
        let name = if iface.kind == IfKind::Tunnel {
            format!("{}@NONE", iface.name)
        } else {
            iface.name.to_string()
        };
        let mode = if with_addrs { "" } else { " mode DEFAULT" };
        let qdisc = match (iface.kind, iface.admin_up) {
            (IfKind::Ethernet, true) => "fq_codel",
            (IfKind::Loopback, true) => "noqueue",
            _ => "noop",
        };
        lines.push(format!(
            "{}: {name}: {flags} mtu {} qdisc {qdisc} state {state}{mode} group default qlen 1000",
            index + 1,
            iface.mtu
        ));
        lines.push(match iface.kind {
            IfKind::Loopback => {
                "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00".to_owned()
            }
            IfKind::Ethernet => format!("    link/ether {} brd ff:ff:ff:ff:ff:ff", iface.mac),
            IfKind::Tunnel => "    link/ipip 0.0.0.0 brd 0.0.0.0".to_owned(),
        });
        if !with_addrs {
            continue;
        }
        for a in &iface.addrs {
            let brd = a.broadcast.map(|b| format!(" brd {b}")).unwrap_or_default();
            // iproute2 prints the address flags in this order after the scope.
            let secondary = if a.secondary { " secondary" } else { "" };
            let noprefixroute = if a.noprefixroute {
                " noprefixroute"
            } else {
                ""
            };
            lines.push(format!(
                "    inet {}{brd} scope {}{secondary}{noprefixroute} {}",
                a.cidr(),
                a.scope,
                a.label
            ));
            lines.push("       valid_lft forever preferred_lft forever".to_owned());
        }
    }
    Ok(lines)
}

/// `ip route show`: the main table in trie order.
pub fn show_routes(host: &Host) -> Vec<String> {
    route::sorted_routes(host)
        .into_iter()
        .map(|r| {
            let dst = if r.prefix_len == 0 {
                "default".to_owned()
            } else if r.prefix_len == 32 {
                r.dst.to_string()
            } else {
                format!("{}/{}", r.dst, r.prefix_len)
            };
            let mut line = match r.kind {
                RouteKind::Unicast => dst,
                RouteKind::Blackhole => format!("blackhole {dst}"),
                RouteKind::Unreachable => format!("unreachable {dst}"),
                RouteKind::Prohibit => format!("prohibit {dst}"),
            };
            if let Some(gw) = r.gateway {
                line.push_str(&format!(" via {gw}"));
            }
            if let Some(d) = r.dev {
                line.push_str(&format!(" dev {}", host.ifaces[d].name));
            }
            match r.proto {
                RouteProto::Kernel => line.push_str(" proto kernel"),
                RouteProto::Static => line.push_str(" proto static"),
                RouteProto::Boot => {}
            }
            if r.scope != Scope::Global {
                line.push_str(&format!(" scope {}", r.scope));
            }
            if let Some(src) = r.src {
                line.push_str(&format!(" src {src}"));
            }
            if r.metric != 0 {
                line.push_str(&format!(" metric {}", r.metric));
            }
            line
        })
        .collect()
}

fn route_get(host: &Host, ip: Ipv4Addr) -> Result<Vec<String>, String> {
    let route = host
        .route_output(ip, None, None)
        .map_err(|f| format!("RTNETLINK answers: {}", f.errno_text()))?;
    let dev = &host.ifaces[route.dev].name;
    Ok(vec![if route.local {
        format!("local {ip} dev lo src {}", route.src)
    } else if route.next_hop != ip {
        format!("{ip} via {} dev {dev} src {}", route.next_hop, route.src)
    } else {
        format!("{ip} dev {dev} src {}", route.src)
    }])
}

/// `ip neigh show`, ordered by device then address.
pub fn show_neighbours(host: &Host, dev: Option<&str>) -> Result<Vec<String>, String> {
    let filter = dev.map(|n| find_dev(host, n)).transpose()?;
    let mut entries: Vec<_> = host
        .neigh
        .iter()
        .filter(|((d, _), _)| filter.is_none_or(|f| f == *d))
        .collect();
    entries.sort_by_key(|((d, ip), _)| (*d, u32::from(*ip)));
    Ok(entries
        .into_iter()
        .map(|((d, ip), e)| {
            let dev = &host.ifaces[*d].name;
            match e.mac.filter(|_| e.state.is_valid()) {
                Some(mac) => format!("{ip} dev {dev} lladdr {mac} {}", e.state),
                None => format!("{ip} dev {dev} {}", e.state),
            }
        })
        .collect())
}
