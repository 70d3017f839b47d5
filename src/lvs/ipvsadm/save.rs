//! `ipvsadm -S [-n]` (`list_all(FMT_RULE)`): one `-A` line per service in listing order, then
//! its `-a` lines, then (FULLNAT, forwarding.md §8) its `-P ... -z LIP` lines. No header, and
//! labels are never cut.

use std::fmt::Write;

use super::addr::ntop;
use super::list::{dest_name, has_sched_flags, mask_text, sched_flags_text, service_name};
use super::sort::{dests_in_order, services_in_order};
use crate::lvs::listing::{DestListing, IpvsSnapshot, ServiceListing};
use crate::lvs::service::{Forward, TunnelCsum, TunnelType, flags};

/// The exact standard output of `ipvsadm -S` (`-n` when `numeric`).
pub fn save(numeric: bool, snapshot: &IpvsSnapshot) -> String {
    let mut out = String::new();
    for service in services_in_order(&snapshot.services, false) {
        let svc_name = service_name(&service.config.key, numeric, true);
        out.push_str(&service_rule(service, &svc_name));
        for dest in dests_in_order(service, false) {
            let dname = dest_name(service, dest, numeric, true);
            out.push_str(&dest_rule(&svc_name, &dname, dest));
        }
        for laddr in &service.laddrs {
            let _ = writeln!(out, "-P {svc_name} -z {}", ntop(&laddr.addr));
        }
    }
    out
}

/// `-A svc -s sched [-p T [-M mask]] [--pe P] [-o] [-b flags]`.
fn service_rule(service: &ServiceListing, svc_name: &str) -> String {
    let config = &service.config;
    let mut line = format!("-A {svc_name} -s {}", config.sched);
    if config.is_persistent() {
        let _ = write!(line, " -p {}", config.timeout);
        if let Some(mask) = mask_text(&config.netmask) {
            let _ = write!(line, " -M {mask}");
        }
    }
    if let Some(pe) = &config.pe {
        let _ = write!(line, " --pe {pe}");
    }
    if config.flags & flags::ONEPACKET != 0 {
        line.push_str(" -o");
    }
    if has_sched_flags(config.flags) {
        let _ = write!(
            line,
            " -b {}",
            sched_flags_text(&config.sched, config.flags)
        );
    }
    line.push('\n');
    line
}

/// `fwd_switch`: a local destination is saved as `-g`; FULLNAT as `--fullnat` (design.md).
fn forward_switch(fwd: Forward) -> &'static str {
    match fwd {
        Forward::Masq => "-m",
        Forward::Tunnel => "-i",
        Forward::Local | Forward::Route => "-g",
        Forward::FullNat => "--fullnat",
    }
}

/// `-a svc -r dest <method> -w W`, plus `print_tunnel_rule`'s tunnel options.
fn dest_rule(svc_name: &str, dname: &str, dest: &DestListing) -> String {
    let c = &dest.config;
    let mut line = format!(
        "-a {svc_name} -r {dname} {} -w {}",
        forward_switch(c.fwd),
        c.weight
    );
    if c.fwd == Forward::Tunnel {
        let csum = match c.tun.csum {
            TunnelCsum::NoCsum => "--tun-nocsum",
            TunnelCsum::Csum => "--tun-csum",
            TunnelCsum::RemCsum => "--tun-remcsum",
        };
        let _ = match c.tun.kind {
            TunnelType::Ipip => write!(line, " --tun-type ipip"),
            TunnelType::Gre => write!(line, " --tun-type gre {csum}"),
            TunnelType::Gue => write!(line, " --tun-type gue --tun-port {} {csum}", c.tun.port),
        };
    }
    line.push('\n');
    line
}
