//! `ipvsadm -L` in every form (`list_all`, `list_service`, `print_title`,
//! `print_service_entry`, `list_conn`, `list_timeout`, `list_daemon`), byte for byte: the
//! `printf` widths pad with spaces, so most rows end in blanks.

use std::fmt::Write;

use super::addr::ntop;
use super::command::{IpvsadmError, ListOptions};
use super::errors::listing_failed;
use super::names::{addrport_to_anyname, protocol_from_word};
use super::sort::{dests_in_order, services_in_order};
use crate::lvs::listing::{ConnListing, DaemonListing, DestListing, IpvsSnapshot, ServiceListing};
use crate::lvs::service::{Forward, Netmask, Protocol, ServiceKey, TunnelCsum, TunnelType, flags};

/// `IP_VS_VERSION_CODE` 1.2.1 and the connection table size of a default kernel.
const VERSION_HEADER: &str = "IP Virtual Server version 1.2.1 (size=4096)\n";

/// Which row layout a listing uses; the order is `print_title`'s precedence (`-S` has its
/// own, in save.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    TunInfo,
    Plain,
}

/// The `FMT_*` bits a listing was asked for.
#[derive(Debug, Clone, Copy)]
struct Format {
    view: View,
    numeric: bool,
    exact: bool,
    nosort: bool,
}

impl Format {
    fn from_options(opts: &ListOptions) -> Format {
        let view = [
            (opts.stats, View::Stats),
            (opts.rate, View::Rate),
            (opts.thresholds, View::Thresholds),
            (opts.persistent_conn, View::PersistentConn),
            (opts.tun_info, View::TunInfo),
        ]
        .into_iter()
        .find_map(|(asked, view)| asked.then_some(view))
        .unwrap_or(View::Plain);
        Format {
            view,
            numeric: opts.numeric,
            exact: opts.exact,
            nosort: opts.nosort,
        }
    }
}

/// `ipvsadm -L ...`: the exact standard output, or ipvsadm's error when the selected service
/// does not exist ("No such service", exit 1).
pub fn list(opts: &ListOptions, snapshot: &IpvsSnapshot) -> Result<String, IpvsadmError> {
    let format = Format::from_options(opts);
    if opts.connections {
        return Ok(list_conn(
            &snapshot.conns,
            opts.numeric,
            opts.persistent_conn,
        ));
    }
    if let Some(key) = &opts.service {
        let service = snapshot
            .services
            .iter()
            .find(|s| s.config.key == *key)
            .ok_or_else(|| listing_failed("No such service"))?;
        let mut out = title(format.view);
        out.push_str(&service_entry(service, format));
        return Ok(out);
    }
    if opts.timeout {
        let (tcp, tcpfin, udp) = snapshot.timeouts;
        return Ok(format!("Timeout (tcp tcpfin udp): {tcp} {tcpfin} {udp}\n"));
    }
    if opts.daemon {
        return Ok(snapshot.daemons.iter().map(daemon_line).collect());
    }
    let mut out = VERSION_HEADER.to_string();
    out.push_str(&title(format.view));
    for service in services_in_order(&snapshot.services, format.nosort) {
        out.push_str(&service_entry(service, format));
    }
    Ok(out)
}

/// `print_title`, with `printf`'s widths.
fn title(view: View) -> String {
    const PROT: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port";
    let counters = |names: [&str; 5]| {
        let [a, b, c, d, e] = names;
        format!("{PROT:<33} {a:>8} {b:>8} {c:>8} {d:>8} {e:>8}\n{REMOTE}\n")
    };
    match view {
        View::Stats => counters(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]),
        View::Rate => counters(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]),
        View::Thresholds => format!(
            "{PROT:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}\n",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        View::PersistentConn => format!(
            "{PROT:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}\n",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
        View::TunInfo => format!(
            "{PROT} Scheduler Flags\n{REMOTE}           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        ),
        View::Plain => format!(
            "{PROT} Scheduler Flags\n{REMOTE}           Forward Weight ActiveConn InActConn\n"
        ),
    }
}

/// The `svc_name` of `print_service_entry`: `-t a:p` / `-f 7 -6` for rules, `TCP  a:p` /
/// `FWM  7 IPv6` for listings. 1.31 prints the mark with `%d`, so marks of 2^31 and more come
/// out negative. An IPv4 listing label is cut at 33 characters.
pub(super) fn service_name(key: &ServiceKey, numeric: bool, rule: bool) -> String {
    match *key {
        ServiceKey::Fwmark { mark, ipv6 } => {
            let mark = mark as i32;
            match (rule, ipv6) {
                (true, true) => format!("-f {mark} -6"),
                (true, false) => format!("-f {mark}"),
                (false, true) => format!("FWM  {mark} IPv6"),
                (false, false) => format!("FWM  {mark}"),
            }
        }
        ServiceKey::Addr { proto, addr, port } => {
            let vname = addrport_to_anyname(&addr, port, Some(proto), numeric);
            if rule {
                return format!("{} {vname}", option_from_protocol(proto));
            }
            let mut label = format!("{:<4} {vname}", proto.name());
            if addr.is_ipv4() {
                label.truncate(33);
            }
            label
        }
    }
}

/// `option_from_protocol`.
fn option_from_protocol(proto: Protocol) -> &'static str {
    match proto {
        Protocol::Tcp => "-t",
        Protocol::Udp => "-u",
        Protocol::Sctp => "--sctp-service",
    }
}

/// The protocol whose services names a destination's port takes: none for an fwmark service
/// (the kernel reports no protocol for it, so its ports stay numbers).
pub(super) fn names_protocol(key: &ServiceKey) -> Option<Protocol> {
    match *key {
        ServiceKey::Addr { proto, .. } => Some(proto),
        ServiceKey::Fwmark { .. } => None,
    }
}

/// A destination's `dname`: cut at 28 characters for IPv4 in listings.
pub(super) fn dest_name(
    service: &ServiceListing,
    dest: &DestListing,
    numeric: bool,
    rule: bool,
) -> String {
    let proto = names_protocol(&service.config.key);
    let mut name = addrport_to_anyname(&dest.config.addr, dest.config.port, proto, numeric);
    if !rule && dest.config.addr.is_ipv4() {
        name.truncate(28);
    }
    name
}

/// `print_sched_flags`: the names depend on the scheduler (`sh`, `mh`, others).
pub(super) fn sched_flags_text(sched: &str, bits: u32) -> String {
    let names: [(u32, &str); 3] = match sched {
        "sh" => [
            (flags::SCHED1, "sh-fallback"),
            (flags::SCHED2, "sh-port"),
            (0, ""),
        ],
        "mh" => [
            (flags::SCHED1, "mh-fallback"),
            (flags::SCHED2, "mh-port"),
            (0, ""),
        ],
        _ => [
            (flags::SCHED1, "flag-1"),
            (flags::SCHED2, "flag-2"),
            (flags::SCHED3, "flag-3"),
        ],
    };
    names
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether any scheduler flag bit is set (ipvsadm then prints the flags part, even empty).
pub(super) fn has_sched_flags(bits: u32) -> bool {
    bits & (flags::SCHED1 | flags::SCHED2 | flags::SCHED3) != 0
}

/// The persistence mask as `inet_ntoa` / `%i` prints it, None for /32 and /128.
pub(super) fn mask_text(netmask: &Netmask) -> Option<String> {
    (!netmask.is_host()).then(|| netmask.to_string())
}

/// `print_largenum`: nine columns, scaled to K/M/G/T unless `--exact`.
fn largenum(n: u64, exact: bool) -> String {
    if exact {
        let width = n.to_string().len().max(8) + 1;
        return format!("{n:>width$}");
    }
    const UNITS: [(u64, u64, &str); 4] = [
        (1_000_000_000, 1_000, "K"),
        (100_000_000_000, 1_000_000, "M"),
        (100_000_000_000_000, 1_000_000_000, "G"),
        (u64::MAX, 1_000_000_000_000, "T"),
    ];
    if n < 100_000_000 {
        return format!("{n:>9}");
    }
    let (_, divisor, unit) = UNITS
        .iter()
        .find(|(limit, _, _)| n < *limit)
        .copied()
        .unwrap_or(UNITS[3]);
    format!("{:>8}{unit}", n / divisor)
}

fn largenums(values: &[u64], exact: bool) -> String {
    values.iter().map(|&v| largenum(v, exact)).collect()
}

/// `print_service_entry` for listings: the service row, then its destinations.
fn service_entry(service: &ServiceListing, format: Format) -> String {
    let name = service_name(&service.config.key, format.numeric, false);
    let mut out = match format.view {
        View::Stats => {
            let s = &service.stats;
            let counters = [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes];
            format!("{name:<33}{}", largenums(&counters, format.exact))
        }
        View::Rate => {
            let r = &service.rates;
            let rates = [r.cps, r.inpps, r.outpps, r.inbps, r.outbps];
            format!("{name:<33}{}", largenums(&rates, format.exact))
        }
        _ => format!("{name} {}", service_flags(service)),
    };
    out.push('\n');
    for dest in dests_in_order(service, format.nosort) {
        out.push_str(&dest_row(service, dest, format));
    }
    out
}

/// The scheduler and its suffixes: `(flags)`, `persistent T`, `mask M`, `pe P`, `ops`.
fn service_flags(service: &ServiceListing) -> String {
    let config = &service.config;
    let mut out = config.sched.clone();
    if has_sched_flags(config.flags) {
        let _ = write!(out, " ({})", sched_flags_text(&config.sched, config.flags));
    }
    if config.is_persistent() {
        let _ = write!(out, " persistent {}", config.timeout);
        if let Some(mask) = mask_text(&config.netmask) {
            let _ = write!(out, " mask {mask}");
        }
        if let Some(pe) = &config.pe {
            let _ = write!(out, " pe {pe}");
        }
    }
    if config.flags & flags::ONEPACKET != 0 {
        out.push_str(" ops");
    }
    out
}

/// One destination row of a listing.
fn dest_row(service: &ServiceListing, dest: &DestListing, format: Format) -> String {
    let name = dest_name(service, dest, format.numeric, false);
    let c = &dest.config;
    let (active, inactive) = (dest.activeconns, dest.inactconns);
    match format.view {
        View::Stats => {
            let s = &dest.stats;
            let counters = [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes];
            format!("  -> {name:<28}{}\n", largenums(&counters, format.exact))
        }
        View::Rate => {
            let r = &dest.rates;
            let bps = largenums(&[r.inbps, r.outbps], format.exact);
            format!(
                "  -> {name:<28} {:>8} {:>8} {:>8}{bps}\n",
                r.cps, r.inpps, r.outpps
            )
        }
        View::Thresholds => format!(
            "  -> {name:<28} {:<10} {:<10} {active:<10} {inactive:<10}\n",
            c.u_threshold, c.l_threshold
        ),
        View::PersistentConn => format!(
            "  -> {name:<28} {:<9} {:<11} {active:<10} {inactive:<10}\n",
            c.weight as u32, dest.persistconns
        ),
        View::TunInfo => format!(
            "  -> {name:<28} {:<7} {:<13} {:<6} {active:<10} {inactive:<10}\n",
            c.fwd.name(),
            tunnel_info(dest),
            c.weight
        ),
        View::Plain => format!(
            "  -> {name:<28} {:<7} {:<6} {active:<10} {inactive:<10}\n",
            c.fwd.name(),
            c.weight
        ),
    }
}

/// `fwd_tun_info`: `ipip`, `gue:PORT:FLAGS`, `gre:FLAGS`, or `n/a` for other methods.
fn tunnel_info(dest: &DestListing) -> String {
    let tun = &dest.config.tun;
    if dest.config.fwd != Forward::Tunnel {
        return "n/a".to_string();
    }
    let csum = match tun.csum {
        TunnelCsum::NoCsum => "-c",
        TunnelCsum::Csum => "+c",
        TunnelCsum::RemCsum => "r+c",
    };
    match tun.kind {
        TunnelType::Ipip => "ipip".to_string(),
        TunnelType::Gue => format!("gue:{}:{csum}", tun.port),
        TunnelType::Gre => format!("gre:{csum}"),
    }
}

/// `list_conn`/`print_conn`: `/proc/net/ip_vs_conn` in table order.
fn list_conn(conns: &[ConnListing], numeric: bool, persistent_conn: bool) -> String {
    let mut out = String::from("IPVS connection entries\n");
    let (state, source, virt, dest) = ("state", "source", "virtual", "destination");
    if persistent_conn {
        let (pe_name, pe_data) = ("pe name", "pe_data");
        let _ = writeln!(
            out,
            "pro expire {state:<11} {source:<18} {virt:<18} {dest:<18} {pe_name:<16} {pe_data}"
        );
    } else {
        let _ = writeln!(out, "pro expire {state:<11} {source:<18} {virt:<18} {dest}");
    }
    for conn in conns {
        out.push_str(&conn_row(conn, numeric, persistent_conn));
    }
    out
}

fn conn_row(conn: &ConnListing, numeric: bool, persistent_conn: bool) -> String {
    let proto = protocol_from_word(conn.proto);
    let name = |addr, port| addrport_to_anyname(addr, port, proto, numeric);
    let source = name(&conn.caddr, conn.cport);
    let virt = name(&conn.vaddr, conn.vport);
    let dest = name(&conn.daddr, conn.dport);
    // The kernel prints the seconds with %u; ipvsadm splits them into minutes and seconds.
    let secs = conn.expires_secs as u32;
    let expire = format!("{:02}:{:02}", secs / 60, secs % 60);
    let (p, state) = (conn.proto, conn.state);
    match (&conn.pe, persistent_conn) {
        (Some((pe_name, pe_data)), true) => format!(
            "{p:<3} {expire:<6} {state:<11} {source:<18} {virt:<18} {dest:<16} {pe_name:<18} {pe_data}\n"
        ),
        _ => format!("{p:<3} {expire:<6} {state:<11} {source:<18} {virt:<18} {dest}\n"),
    }
}

/// `list_daemon`: one line per running sync daemon.
fn daemon_line(daemon: &DaemonListing) -> String {
    let mut line = format!(
        "{} sync daemon (mcast={}, syncid={}",
        daemon.state, daemon.mcast_ifn, daemon.syncid
    );
    if daemon.maxlen != 0 {
        let _ = write!(line, ", maxlen={}", daemon.maxlen);
    }
    let _ = write!(line, ", group={}", ntop(&daemon.group));
    if daemon.port != 0 {
        let _ = write!(line, ", port={}", daemon.port);
    }
    if daemon.ttl != 0 {
        let _ = write!(line, ", ttl={}", daemon.ttl);
    }
    line.push_str(")\n");
    line
}
