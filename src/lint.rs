//! `lvsim lint`: the configuration a lab's setup scripts produce, checked without running:
//! a VIP on `lo` that the host will still answer ARP for, sysctls set where they have no
//! effect, prefixes on `lo` that make whole subnets local, duplicate addresses on a LAN;
//! and each host's keepalived.conf with keepalived's own diagnostics.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::keepalived::config;
use crate::scenario::Scenario;
use crate::scenario::run;
use crate::scenario::source::Diagnostic;
use crate::stack::addr::Scope;
use crate::stack::host::Host;
use crate::stack::iface::{IfKind, LOOPBACK};
use crate::stack::sysctl::ConfKey;

/// Applies the setup scripts and returns the findings, one line each.
pub fn lint(scenario: &Scenario) -> Result<Vec<String>, Diagnostic> {
    let mut world = run::build(scenario, scenario.seed);
    run::setup(&mut world, scenario)?;
    let mut findings = Vec::new();
    for host in &world.hosts {
        findings.extend(loopback_addresses(host));
        findings.extend(loopback_only_sysctls(host));
    }
    findings.extend(duplicate_addresses(&world.hosts));
    Ok(findings)
}

/// What `keepalived --config-test` would say about each host's keepalived.conf, in its
/// `(SCENARIO.toml:host.NAME.keepalived: Line N) MESSAGE` form.
pub fn keepalived(scenario: &Scenario) -> Vec<String> {
    let texts = scenario.hosts.iter().filter_map(|h| h.keepalived.as_ref());
    texts
        .flat_map(|k| {
            let diagnostics = config::parse(&k.text).diagnostics;
            diagnostics.into_iter().map(|d| d.render(&k.file))
        })
        .collect()
}

fn ethernet_devices(host: &Host) -> impl Iterator<Item = usize> + '_ {
    (0..host.ifaces.len()).filter(|&d| host.ifaces[d].kind == IfKind::Ethernet)
}

/// Addresses on `lo` other than 127/8: does the host still answer or announce them?
fn loopback_addresses(host: &Host) -> Vec<String> {
    let mut out = Vec::new();
    for a in host.ifaces[LOOPBACK]
        .addrs
        .iter()
        .filter(|a| !a.local.is_loopback())
    {
        if a.prefix_len < 32 {
            out.push(format!(
                "host {}: {} on lo makes all of {}/{} local: {} will accept and answer for every address in it; use /32",
                host.name,
                a.cidr(),
                a.network(),
                a.prefix_len,
                host.name
            ));
        }
        for dev in ethernet_devices(host) {
            let name = &host.ifaces[dev].name;
            let ignore = host.effective(ConfKey::ArpIgnore, dev);
            let hidden =
                matches!(ignore.value, 1 | 2 | 8) || (ignore.value == 3 && a.scope == Scope::Host);
            if !hidden {
                out.push(format!(
                    "host {}: {} is on lo but {} answers who-has {} on {name}: {}; set net.ipv4.conf.all.arp_ignore=1",
                    host.name,
                    a.local,
                    host.name,
                    a.local,
                    ignore.describe(name)
                ));
            }
            let announce = host.effective(ConfKey::ArpAnnounce, dev);
            if announce.value < 2 {
                out.push(format!(
                    "host {}: {} may announce {} (on lo) as the sender of its ARP requests on {name}: {}; set net.ipv4.conf.all.arp_announce=2",
                    host.name,
                    host.name,
                    a.local,
                    announce.describe(name)
                ));
            }
        }
    }
    out
}

/// `conf.lo.arp_ignore`/`arp_announce` above both `all` and every NIC: no effect (linux-arp.md
/// difference 1).
fn loopback_only_sysctls(host: &Host) -> Vec<String> {
    let mut out = Vec::new();
    for key in [ConfKey::ArpIgnore, ConfKey::ArpAnnounce] {
        let on_lo = host.ifaces[LOOPBACK].conf.get(key);
        let elsewhere = ethernet_devices(host)
            .map(|d| host.effective(key, d).value)
            .max()
            .unwrap_or(0);
        if on_lo > elsewhere {
            out.push(format!(
                "host {}: net.ipv4.conf.lo.{}={on_lo} has no effect on ARP: the kernel uses max(conf.all, conf.<NIC>), which is {elsewhere}; set net.ipv4.conf.all.{} instead",
                host.name,
                key.name(),
                key.name()
            ));
        }
    }
    out
}

/// The same address on NICs of two hosts on one LAN.
fn duplicate_addresses(hosts: &[Host]) -> Vec<String> {
    let mut owners: BTreeMap<(usize, Ipv4Addr), Vec<String>> = BTreeMap::new();
    for host in hosts {
        for iface in host.ifaces.iter().filter(|i| i.kind == IfKind::Ethernet) {
            let Some(attachment) = iface.attachment else {
                continue;
            };
            for a in &iface.addrs {
                owners
                    .entry((attachment.lan, a.local))
                    .or_default()
                    .push(format!("{}/{}", host.name, iface.name));
            }
        }
    }
    owners
        .into_iter()
        .filter(|(_, o)| o.len() > 1)
        .map(|((_, ip), o)| {
            format!(
                "{ip} is configured on {}: both will answer ARP for it",
                o.join(" and ")
            )
        })
        .collect()
}
