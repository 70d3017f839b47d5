//! net-tools `arp`: `arp [-n|-e|-a] [-i IF] [ADDR]`, `arp -s ADDR MAC [-i IF]`,
//! `arp -d ADDR [-i IF]`, printed as net-tools prints `/proc/net/arp`.

use std::net::Ipv4Addr;

use super::args::Args;
use crate::scenario::source::Diagnostic;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::neigh::{NeighEntry, NudState, UpdateFlags};
use crate::wire::MacAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArpCommand {
    Show {
        bsd: bool,
        dev: Option<String>,
        addr: Option<Ipv4Addr>,
    },
    Set {
        ip: Ipv4Addr,
        mac: MacAddr,
        dev: Option<String>,
    },
    Delete {
        ip: Ipv4Addr,
        dev: Option<String>,
    },
}

const ACCEPTED: &str =
    "arp [-n|-e|-a] [-i IF] [ADDR], arp -s ADDR MAC [-i IF], arp -d ADDR [-i IF]";

pub fn parse(args: &mut Args) -> Result<ArpCommand, Diagnostic> {
    let mut bsd = false;
    let mut dev = None;
    let mut action: Option<(bool, Ipv4Addr, Option<MacAddr>)> = None;
    let mut addr = None;
    while let Some(word) = args.take() {
        match word.text.as_str() {
            // lvsim has no DNS, so output is always numeric, and `-e` is the default layout.
            "-n" | "-e" => {}
            "-a" => bsd = true,
            "-an" | "-na" => bsd = true,
            "-i" => dev = Some(args.expect("the interface")?.text.clone()),
            "-s" => {
                let ip = args.ipv4("the address")?;
                let mac = args.mac("the hardware address")?;
                action = Some((true, ip, Some(mac)));
            }
            "-d" => action = Some((false, args.ipv4("the address")?, None)),
            "temp" | "pub" | "netmask" | "-v" => {
                return Err(args
                    .error_at(word, format!("arp: `{}` is not simulated", word.text))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
            _ if addr.is_none() && action.is_none() => {
                addr = Some(
                    super::args::parse_ipv4(word)
                        .map_err(|m| args.error_at(word, format!("arp: {m}")))?,
                );
            }
            other => {
                return Err(args
                    .error_at(word, format!("arp: unknown option `{other}`"))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
        }
    }
    Ok(match action {
        Some((true, ip, Some(mac))) => ArpCommand::Set { ip, mac, dev },
        Some((_, ip, _)) => ArpCommand::Delete { ip, dev },
        None => ArpCommand::Show { bsd, dev, addr },
    })
}

pub fn run(host: &mut Host, ctx: &mut Ctx, command: &ArpCommand) -> Result<Vec<String>, String> {
    match command {
        ArpCommand::Show { bsd, dev, addr } => show(host, *bsd, dev.as_deref(), *addr),
        ArpCommand::Set { ip, mac, dev } => {
            let d = resolve_dev(host, *ip, dev.as_deref()).map_err(|e| format!("SIOCSARP: {e}"))?;
            host.neigh
                .entry((d, *ip))
                .or_insert_with(|| NeighEntry::new(ctx.now));
            let flags = UpdateFlags {
                override_: true,
                admin: true,
            };
            host.neigh_update(
                ctx,
                d,
                *ip,
                Some(*mac),
                NudState::Permanent,
                flags,
                false,
                "static entry (arp -s)",
            );
            Ok(Vec::new())
        }
        ArpCommand::Delete { ip, dev } => {
            let d = resolve_dev(host, *ip, dev.as_deref()).map_err(|e| format!("SIOCDARP: {e}"))?;
            host.neigh
                .remove(&(d, *ip))
                .map(|_| Vec::new())
                .ok_or_else(|| format!("No ARP entry for {ip}"))
        }
    }
}

/// The device given with `-i`, else the one the route to `ip` leaves by.
fn resolve_dev(host: &Host, ip: Ipv4Addr, dev: Option<&str>) -> Result<usize, String> {
    match dev {
        Some(name) => host
            .iface_index(name)
            .ok_or_else(|| "No such device".to_owned()),
        None => host
            .route_output(ip, None, None)
            .ok()
            .filter(|r| !r.local)
            .map(|r| r.dev)
            .ok_or_else(|| "Network is unreachable".to_owned()),
    }
}

fn show(
    host: &Host,
    bsd: bool,
    dev: Option<&str>,
    addr: Option<Ipv4Addr>,
) -> Result<Vec<String>, String> {
    let filter = dev
        .map(|n| {
            host.iface_index(n)
                .ok_or_else(|| format!("arp: {n}: No such device"))
        })
        .transpose()?;
    let mut entries: Vec<_> = host
        .neigh
        .iter()
        .filter(|((d, ip), e)| {
            e.state != NudState::Noarp
                && filter.is_none_or(|f| f == *d)
                && addr.is_none_or(|a| a == *ip)
        })
        .collect();
    entries.sort_by_key(|((d, ip), _)| (*d, u32::from(*ip)));
    if entries.is_empty() {
        return Ok(match addr {
            Some(a) => vec![format!("{a} (?) -- no entry")],
            None => Vec::new(),
        });
    }
    let mut lines = Vec::new();
    if !bsd {
        lines.push(
            "Address                  HWtype  HWaddress           Flags Mask            Iface"
                .to_owned(),
        );
    }
    for ((d, ip), e) in entries {
        let iface = &host.ifaces[*d].name;
        let complete = e.state.is_valid();
        let permanent = e.state == NudState::Permanent;
        let mac = e.mac.filter(|_| complete);
        lines.push(match (bsd, mac) {
            (true, Some(mac)) => format!(
                "? ({ip}) at {mac} [ether]{} on {iface}",
                if permanent { " PERM" } else { "" }
            ),
            (true, None) => format!("? ({ip}) at <incomplete> on {iface}"),
            (false, Some(mac)) => {
                let flags = if permanent { "CM" } else { "C" };
                format!(
                    "{:<23}  {:<8}{:<20}{:<6}{:<15} {iface}",
                    ip.to_string(),
                    "ether",
                    mac.to_string(),
                    flags,
                    ""
                )
            }
            (false, None) => format!(
                "{:<23}  {:<8}{:<20}{:<6}{:<15} {iface}",
                ip.to_string(),
                "",
                "(incomplete)",
                "",
                ""
            ),
        });
    }
    Ok(lines)
}
