//! net-tools `route`: `route add|del -host|-net TARGET [netmask M] [gw G] [metric N]
//! [reject] [[dev] IF]`, `route [-n]`; and the route specification `ip route` shares.

use std::net::Ipv4Addr;

use super::args::{Args, parse_prefix};
use crate::scenario::source::Diagnostic;
use crate::stack::addr::{Scope, classful_prefix, netmask_to_prefix, prefix_to_netmask};
use crate::stack::host::Host;
use crate::stack::route::{Route, RouteKind, RouteProto, RouteSelector};

/// A route as `route` or `ip route` names it; devices are resolved when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
    /// A device or alias label (`eth0:2` means `eth0`).
    pub dev: Option<String>,
    pub src: Option<Ipv4Addr>,
    pub metric: Option<u32>,
    pub scope: Option<Scope>,
    pub kind: RouteKind,
    pub proto: Option<RouteProto>,
    /// `onlink`: trust that the gateway is on the link, without a route to it.
    pub onlink: bool,
}

impl RouteSpec {
    /// A unicast route to `dst/prefix_len` with nothing else said yet.
    pub fn new(dst: Ipv4Addr, prefix_len: u8) -> RouteSpec {
        RouteSpec {
            dst,
            prefix_len,
            gateway: None,
            dev: None,
            src: None,
            metric: None,
            scope: None,
            kind: RouteKind::Unicast,
            proto: None,
            onlink: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteCommand {
    Show,
    Add(RouteSpec),
    Del(RouteSpec),
}

const ACCEPTED: &str = "route [-n], route add|del [-net|-host] TARGET [netmask NM] [gw GW] [metric N] [reject] [[dev] IF]";

pub fn parse(args: &mut Args) -> Result<RouteCommand, Diagnostic> {
    while args.peek_text().is_some_and(|t| matches!(t, "-n" | "-v")) {
        args.take();
    }
    let Some(verb) = args.take() else {
        return Ok(RouteCommand::Show);
    };
    let add = match verb.text.as_str() {
        "add" => true,
        "del" | "delete" => false,
        other => {
            return Err(args
                .error_at(verb, format!("route: unknown action `{other}`"))
                .with_help(format!("accepted: {ACCEPTED}")));
        }
    };
    let spec = parse_spec(args)?;
    Ok(if add {
        RouteCommand::Add(spec)
    } else {
        RouteCommand::Del(spec)
    })
}

fn parse_spec(args: &mut Args) -> Result<RouteSpec, Diagnostic> {
    let mut kind_flag = None;
    if let Some(flag) = args.peek_text().filter(|t| *t == "-net" || *t == "-host") {
        kind_flag = Some(flag == "-host");
        args.take();
    }
    let target = args.expect("the target (an address, a.b.c.d/len or default)")?;
    let mut spec = if target.text == "default" {
        RouteSpec::new(Ipv4Addr::UNSPECIFIED, 0)
    } else {
        let (ip, len) =
            parse_prefix(target).map_err(|m| args.error_at(target, format!("route: {m}")))?;
        let len = len.unwrap_or(match kind_flag {
            Some(true) => 32,
            Some(false) => classful_prefix(ip),
            None if u32::from(ip) & !crate::stack::addr::mask(classful_prefix(ip)) != 0 => 32,
            None => classful_prefix(ip),
        });
        RouteSpec::new(ip, len)
    };
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "netmask" => {
                let mask = args.ipv4("the netmask")?;
                spec.prefix_len = netmask_to_prefix(mask).ok_or_else(|| {
                    args.error_at(word, format!("route: netmask {mask} is not contiguous"))
                })?;
            }
            "gw" => spec.gateway = Some(args.ipv4("the gateway")?),
            "metric" => spec.metric = Some(args.number("metric")?),
            "reject" => spec.kind = RouteKind::Unreachable,
            "dev" => spec.dev = Some(args.expect("the device")?.text.clone()),
            "mss" | "window" | "irtt" | "mod" | "dyn" | "reinstate" => {
                return Err(args
                    .error_at(word, format!("route: `{}` is not simulated", word.text))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
            other if args.is_empty() && !other.starts_with('-') => {
                spec.dev = Some(other.to_owned())
            }
            other => {
                return Err(args
                    .error_at(word, format!("route: unknown option `{other}`"))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
        }
    }
    Ok(spec)
}

/// Resolves a device name or alias label, with the tools' error if there is none.
pub fn device(host: &Host, name: &str) -> Result<usize, String> {
    host.resolve_dev(name)
        .ok_or_else(|| "No such device".to_owned())
}

/// Installs a route the way the kernel validates it (`fib_check_nh`). Errors are errno texts.
pub fn install(host: &mut Host, spec: &RouteSpec) -> Result<(), String> {
    let mut dev = spec.dev.as_deref().map(|d| device(host, d)).transpose()?;
    if let Some(gw) = spec.gateway.filter(|_| !(spec.onlink && dev.is_some())) {
        let onlink = host
            .routes
            .lookup(gw, dev)
            .filter(|r| r.gateway.is_none() && r.kind == RouteKind::Unicast);
        match onlink {
            Some(route) => dev = dev.or(route.dev),
            None => return Err("Network is unreachable".into()),
        }
    }
    if spec.kind == RouteKind::Unicast && dev.is_none() {
        return Err("No such device".into());
    }
    if let Some(src) = spec.src
        && !host.is_local(src)
    {
        return Err("Invalid prefsrc address".into());
    }
    let scope = spec.scope.unwrap_or(
        if spec.gateway.is_some() || spec.kind != RouteKind::Unicast {
            Scope::Global
        } else {
            Scope::Link
        },
    );
    host.add_route(Route {
        dst: spec.dst,
        prefix_len: spec.prefix_len,
        gateway: spec.gateway,
        dev,
        src: spec.src,
        scope,
        metric: spec.metric.unwrap_or(0),
        proto: spec.proto.unwrap_or(RouteProto::Boot),
        kind: spec.kind,
    })
}

pub fn remove(host: &mut Host, spec: &RouteSpec) -> Result<(), String> {
    let dev = spec.dev.as_deref().map(|d| device(host, d)).transpose()?;
    let selector = RouteSelector {
        dst: Some((spec.dst, spec.prefix_len)),
        gateway: spec.gateway,
        dev,
        metric: spec.metric,
    };
    host.del_route(&selector).map(|_| ())
}

/// The main table in the order the kernel's trie walks it (by destination).
pub fn sorted_routes(host: &Host) -> Vec<&Route> {
    let mut routes: Vec<&Route> = host.routes.routes().iter().collect();
    routes.sort_by_key(|r| (u32::from(r.dst), std::cmp::Reverse(r.prefix_len), r.metric));
    routes
}

/// `route -n`, as net-tools prints `/proc/net/route`.
pub fn show(host: &Host) -> Vec<String> {
    let mut lines = vec![
        "Kernel IP routing table".to_owned(),
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface".to_owned(),
    ];
    for r in sorted_routes(host) {
        let mut flags = String::from("U");
        if r.gateway.is_some() {
            flags.push('G');
        }
        if r.prefix_len == 32 {
            flags.push('H');
        }
        if r.kind != RouteKind::Unicast {
            flags = "!".to_owned() + &flags;
        }
        let iface = r
            .dev
            .map_or("-".to_owned(), |d| host.ifaces[d].name.to_string());
        lines.push(format!(
            "{:<15} {:<15} {:<15} {:<5} {:<6} {:<2} {:>7} {}",
            r.dst.to_string(),
            r.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
            prefix_to_netmask(r.prefix_len).to_string(),
            flags,
            r.metric,
            0,
            0,
            iface
        ));
    }
    lines
}

/// Runs a parsed `route` command.
pub fn run(host: &mut Host, command: &RouteCommand) -> Result<Vec<String>, String> {
    match command {
        RouteCommand::Show => Ok(show(host)),
        RouteCommand::Add(spec) => install(host, spec)
            .map(|_| Vec::new())
            .map_err(|e| format!("SIOCADDRT: {e}")),
        RouteCommand::Del(spec) => remove(host, spec)
            .map(|_| Vec::new())
            .map_err(|e| format!("SIOCDELRT: {e}")),
    }
}
