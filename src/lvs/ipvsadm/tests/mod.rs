//! Tests against the reference (ipvsadm.md, forwarding.md §8, design.md) and the seeds. Each
//! test names the section it checks. Expected texts copy the reference; `·` there is a space
//! that matters, and [`dots`] turns it back into one.

mod errors;
mod listing;
mod parse;
mod restore_help;
mod save_laddr;

use std::net::IpAddr;

use super::command::{Command, IpvsadmError};
use crate::lvs::listing::{DestListing, IpvsSnapshot, LaddrListing, ServiceListing};
use crate::lvs::service::{
    Counters, DestConfig, Forward, Netmask, Protocol, Rates, ServiceConfig, ServiceKey, TunnelSpec,
};

/// The reference's `·` is a space.
fn dots(text: &str) -> String {
    text.replace('·', " ")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// A service key of protocol `proto` at `addr:port`.
fn addr_key(proto: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        proto,
        addr: ip(addr),
        port,
    }
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    addr_key(Protocol::Tcp, addr, port)
}

fn udp(addr: &str, port: u16) -> ServiceKey {
    addr_key(Protocol::Udp, addr, port)
}

fn fwm(mark: u32, ipv6: bool) -> ServiceKey {
    ServiceKey::Fwmark { mark, ipv6 }
}

/// A service configuration with ipvsadm's defaults: no flags, /32 (or /128) mask.
fn config(key: ServiceKey, sched: &str) -> ServiceConfig {
    ServiceConfig {
        key,
        sched: sched.to_string(),
        flags: 0,
        timeout: 0,
        netmask: Netmask::host(key.is_ipv6()),
        pe: None,
    }
}

/// A listed service with no destinations and zero counters.
fn service(config: ServiceConfig) -> ServiceListing {
    ServiceListing {
        config,
        stats: Counters::default(),
        rates: Rates::default(),
        dests: Vec::new(),
        laddrs: Vec::new(),
    }
}

fn dest_config(addr: &str, port: u16, fwd: Forward, weight: i32) -> DestConfig {
    DestConfig {
        addr: ip(addr),
        port,
        fwd,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun: TunnelSpec::default(),
    }
}

/// A listed destination with no connections.
fn dest(addr: &str, port: u16, fwd: Forward, weight: i32) -> DestListing {
    DestListing {
        config: dest_config(addr, port, fwd, weight),
        activeconns: 0,
        inactconns: 0,
        persistconns: 0,
        stats: Counters::default(),
        rates: Rates::default(),
    }
}

fn laddr(addr: &str, conflicts: u64, conns: u32) -> LaddrListing {
    LaddrListing {
        addr: ip(addr),
        conflicts,
        conns,
    }
}

fn snapshot(services: Vec<ServiceListing>) -> IpvsSnapshot {
    IpvsSnapshot {
        services,
        conns: Vec::new(),
        timeouts: (900, 120, 300),
        daemons: Vec::new(),
    }
}

/// `parse` of a whitespace-separated command line (its first word is `argv[0]`).
fn parse_line(line: &str) -> Result<Command, IpvsadmError> {
    let argv: Vec<&str> = line.split_whitespace().collect();
    super::parse(&argv)
}

/// The command a line must parse into.
fn parsed(line: &str) -> Command {
    match parse_line(line) {
        Ok(command) => command,
        Err(e) => panic!("{line}: {} (exit {})", e.message, e.exit),
    }
}

/// The error a line must give.
fn refused(line: &str) -> IpvsadmError {
    match parse_line(line) {
        Ok(command) => panic!("{line}: parsed as {command:?}"),
        Err(e) => e,
    }
}
