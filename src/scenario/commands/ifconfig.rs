//! net-tools `ifconfig`: show interfaces, set an address (with alias labels such as `eth0:2`
//! or `lo:0`), netmask, broadcast, MTU, and bring devices up or down, with the kernel's
//! SIOCSIFADDR semantics (a classful mask unless one is given).

use std::net::Ipv4Addr;

use super::args::{Args, parse_prefix};
use crate::scenario::source::Diagnostic;
use crate::stack::addr::{
    IfAddr, Scope, classful_prefix, mask, netmask_to_prefix, prefix_to_netmask,
};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::iface::{IfKind, Iface};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfconfigCommand {
    Show { all: bool, name: Option<String> },
    Set(IfconfigSet),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfconfigSet {
    /// `eth0` or an alias `eth0:2`.
    pub name: String,
    pub addr: Option<(Ipv4Addr, Option<u8>)>,
    pub netmask: Option<u8>,
    pub broadcast: Option<Ipv4Addr>,
    pub up: Option<bool>,
    pub mtu: Option<u32>,
}

const ACCEPTED: &str = "ifconfig [-a] [IF], ifconfig IF[:N] [ADDR[/LEN]] [netmask MASK] [broadcast ADDR] [mtu N] [up|down]";

pub fn parse(args: &mut Args) -> Result<IfconfigCommand, Diagnostic> {
    let mut all = false;
    if args.peek_text() == Some("-a") {
        args.take();
        all = true;
    }
    let Some(name) = args.take() else {
        return Ok(IfconfigCommand::Show { all, name: None });
    };
    if args.is_empty() {
        return Ok(IfconfigCommand::Show {
            all,
            name: Some(name.text.clone()),
        });
    }
    let mut set = IfconfigSet {
        name: name.text.clone(),
        ..IfconfigSet::default()
    };
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "up" => set.up = Some(true),
            "down" => set.up = Some(false),
            "netmask" => {
                let m = args.ipv4("the netmask")?;
                set.netmask = Some(netmask_to_prefix(m).ok_or_else(|| {
                    args.error_at(word, format!("ifconfig: netmask {m} is not contiguous"))
                })?);
            }
            "broadcast" => set.broadcast = Some(args.ipv4("the broadcast address")?),
            "mtu" => set.mtu = Some(args.number("MTU")?),
            "-arp" | "arp" | "promisc" | "-promisc" | "allmulti" | "-allmulti" => {
                return Err(args
                    .error_at(word, format!("ifconfig: `{}` is not simulated", word.text))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
            _ if set.addr.is_none()
                && word.text.chars().next().is_some_and(|c| c.is_ascii_digit()) =>
            {
                set.addr = Some(
                    parse_prefix(word)
                        .map_err(|m| args.error_at(word, format!("ifconfig: {m}")))?,
                );
            }
            other => {
                return Err(args
                    .error_at(word, format!("ifconfig: unknown option `{other}`"))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
        }
    }
    Ok(IfconfigCommand::Set(set))
}

pub fn run(
    host: &mut Host,
    ctx: &mut Ctx,
    command: &IfconfigCommand,
) -> Result<Vec<String>, String> {
    match command {
        IfconfigCommand::Show { all, name } => show(host, *all, name.as_deref()),
        IfconfigCommand::Set(set) => apply(host, ctx, set).map(|_| Vec::new()),
    }
}

fn apply(host: &mut Host, ctx: &mut Ctx, set: &IfconfigSet) -> Result<(), String> {
    let dev = host
        .resolve_dev(&set.name)
        .ok_or("SIOCSIFADDR: No such device")?;
    let alias = set.name.contains(':');
    if let Some((ip, len)) = set.addr {
        let prefix_len = len.or(set.netmask).unwrap_or_else(|| classful_prefix(ip));
        remove_label(host, dev, &set.name);
        let mut addr = IfAddr::with_broadcast(ip, prefix_len, &set.name);
        if let Some(b) = set.broadcast {
            addr.broadcast = Some(b);
        }
        if host.ifaces[dev].kind == IfKind::Loopback && ip.is_loopback() {
            addr.scope = Scope::Host;
        }
        host.add_address(dev, addr)
            .map_err(|e| format!("SIOCSIFADDR: {e}"))?;
        if !alias {
            host.set_link(ctx, dev, true);
        }
    } else if set.netmask.is_some() || set.broadcast.is_some() {
        change_mask_or_broadcast(host, dev, set)?;
    }
    if let Some(mtu) = set.mtu {
        host.ifaces[dev].mtu = mtu;
    }
    match (set.up, alias) {
        (Some(up), false) => host.set_link(ctx, dev, up),
        (Some(false), true) => remove_label(host, dev, &set.name),
        _ => {}
    }
    Ok(())
}

/// Removes the address an alias label names (setting a label's address replaces it;
/// `ifconfig eth0:2 down` deletes it).
fn remove_label(host: &mut Host, dev: usize, label: &str) {
    if let Some(old) = host.ifaces[dev]
        .addrs
        .iter()
        .find(|a| a.label == label)
        .map(|a| a.local)
    {
        let _ = host.del_address(dev, old, None);
    }
}

/// `ifconfig eth0 netmask M` / `broadcast B` on an existing address.
fn change_mask_or_broadcast(host: &mut Host, dev: usize, set: &IfconfigSet) -> Result<(), String> {
    let Some(mut addr) = host.ifaces[dev]
        .addrs
        .iter()
        .find(|a| a.label == set.name)
        .cloned()
    else {
        return Err("SIOCSIFNETMASK: Cannot assign requested address".into());
    };
    let _ = host.del_address(dev, addr.local, None);
    if let Some(len) = set.netmask {
        addr.prefix_len = len;
        addr.broadcast = (len < 31).then(|| Ipv4Addr::from(u32::from(addr.local) | !mask(len)));
    }
    if let Some(b) = set.broadcast {
        addr.broadcast = Some(b);
    }
    host.add_address(dev, addr)
        .map_err(|e| format!("SIOCSIFNETMASK: {e}"))
}

/// Interfaces and alias labels as net-tools 2.10 prints them.
fn show(host: &Host, all: bool, name: Option<&str>) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for (index, iface) in host.ifaces.iter().enumerate() {
        if !all && name.is_none() && !iface.admin_up {
            continue;
        }
        let mut labels: Vec<&str> = vec![&*iface.name];
        for a in &iface.addrs {
            if *a.label != *iface.name && !labels.contains(&a.label.as_str()) {
                labels.push(&a.label);
            }
        }
        for label in labels {
            if name.is_some_and(|n| n != label) {
                continue;
            }
            block(host, index, iface, label, &mut lines);
        }
    }
    if lines.is_empty()
        && let Some(n) = name
    {
        return Err(format!(
            "{n}: error fetching interface information: Device not found"
        ));
    }
    Ok(lines)
}

fn block(host: &Host, index: usize, iface: &Iface, label: &str, lines: &mut Vec<String>) {
    let (code, flags) = match (iface.kind, iface.admin_up) {
        (IfKind::Loopback, true) => (73, "UP,LOOPBACK,RUNNING"),
        (IfKind::Loopback, false) => (8, "LOOPBACK"),
        (IfKind::Ethernet, true) => (4163, "UP,BROADCAST,RUNNING,MULTICAST"),
        (IfKind::Ethernet, false) => (4098, "BROADCAST,MULTICAST"),
        (IfKind::Tunnel, true) => (193, "UP,RUNNING,NOARP"),
        (IfKind::Tunnel, false) => (128, "NOARP"),
    };
    lines.push(format!("{label}: flags={code}<{flags}>  mtu {}", iface.mtu));
    if let Some(a) = iface
        .addrs
        .iter()
        .find(|a| a.label == label && !a.secondary)
        .or_else(|| iface.addrs.iter().find(|a| a.label == label))
    {
        let brd = a
            .broadcast
            .map(|b| format!("  broadcast {b}"))
            .unwrap_or_default();
        lines.push(format!(
            "        inet {}  netmask {}{brd}",
            a.local,
            prefix_to_netmask(a.prefix_len)
        ));
    }
    lines.push(match iface.kind {
        IfKind::Loopback => "        loop  txqueuelen 1000  (Local Loopback)".to_owned(),
        IfKind::Ethernet => format!("        ether {}  txqueuelen 1000  (Ethernet)", iface.mac),
        IfKind::Tunnel => "        tunnel   txqueuelen 1000  (IPIP Tunnel)".to_owned(),
    });
    if *label == *iface.name {
        let c = &host.ifaces[index].counters;
        lines.push(format!(
            "        RX packets {}  bytes {} ({})",
            c.rx_packets,
            c.rx_bytes,
            human_bytes(c.rx_bytes)
        ));
        lines.push("        RX errors 0  dropped 0  overruns 0  frame 0".to_owned());
        lines.push(format!(
            "        TX packets {}  bytes {} ({})",
            c.tx_packets,
            c.tx_bytes,
            human_bytes(c.tx_bytes)
        ));
        lines.push("        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0".to_owned());
    }
    lines.push(String::new());
}

/// net-tools' byte counts: `999.0 B`, `3.3 KB`, `1.2 MB`.
fn human_bytes(bytes: u64) -> String {
    let (value, unit) = match bytes {
        b if b >= 1_000_000_000 => (b as f64 / 1e9, "GB"),
        b if b >= 1_000_000 => (b as f64 / 1e6, "MB"),
        b if b >= 1_000 => (b as f64 / 1e3, "KB"),
        b => (b as f64, "B"),
    };
    format!("{value:.1} {unit}")
}
