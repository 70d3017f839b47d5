//! FULLNAT `ipvsadm -G [-t VIP:PORT]` (forwarding.md §8, alibaba/LVS `list_laddrs`,
//! `list_all_laddrs`): a title, then per service its label and local-address count, then one
//! row per local address with two empty columns. Services come in kernel order, as alibaba's
//! tool leaves them; the title is printed once, before the first service.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::addr::ntop;
use super::command::IpvsadmError;
use super::names::addrport_to_anyname;
use crate::lvs::listing::{IpvsSnapshot, ServiceListing};
use crate::lvs::service::ServiceKey;

/// The exact standard output of `ipvsadm -G`; a named service that does not exist gives
/// "No such service" (exit 255: alibaba's `process_options` returns -1). Addresses are always
/// numeric: `list_laddrs_print_service` passes FMT_NUMERIC whatever the command line says.
pub fn list_laddrs(
    service: Option<&ServiceKey>,
    snapshot: &IpvsSnapshot,
) -> Result<String, IpvsadmError> {
    let selected: Vec<&ServiceListing> = match service {
        Some(key) => {
            let found = snapshot.services.iter().find(|s| s.config.key == *key);
            vec![found.ok_or_else(|| IpvsadmError {
                message: "No such service".to_string(),
                exit: 255,
            })?]
        }
        None => snapshot.services.iter().collect(),
    };
    let mut out = String::new();
    if !selected.is_empty() {
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:<20} {:<10} {:<10}",
            "VIP:VPORT", "TOTAL", "SNAT_IP", "CONFLICTS", "CONNS"
        );
    }
    for service in selected {
        out.push_str(&service_block(service));
    }
    Ok(out)
}

/// The service row (`"%-20s %-8u \n"`) and its local addresses.
fn service_block(service: &ServiceListing) -> String {
    let mut out = format!(
        "{:<20} {:<8} \n",
        vip_label(&service.config.key),
        service.laddrs.len()
    );
    for laddr in &service.laddrs {
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:<20} {:<10} {:<10}",
            "",
            "",
            ntop(&laddr.addr),
            laddr.conflicts,
            laddr.conns
        );
    }
    out
}

/// `VIP:VPORT`; an fwmark service has no address in the kernel's reply, so it reads as the
/// zero address and port 0.
fn vip_label(key: &ServiceKey) -> String {
    match *key {
        ServiceKey::Addr { proto, addr, port } => {
            addrport_to_anyname(&addr, port, Some(proto), true)
        }
        ServiceKey::Fwmark { ipv6, .. } => {
            let zero = if ipv6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            };
            addrport_to_anyname(&zero, 0, None, true)
        }
    }
}
