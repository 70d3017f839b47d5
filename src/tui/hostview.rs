//! What the state pane shows of one host, taken after each event the host handled: its ARP
//! cache, addresses, routes, the sysctls that decide ARP and reverse-path behaviour, and on a
//! director the `ipvsadm -L -n` table. Parts are shared (`Rc`) between versions that did not
//! change them, so a million versions cost little more than what actually changed.

use std::net::Ipv4Addr;
use std::rc::Rc;

use crate::lvs::ipvsadm::{self, ListOptions};
use crate::scenario::commands::ip::show_routes;
use crate::sim::SimTime;
use crate::stack::host::Host;
use crate::stack::neigh::NudState;
use crate::stack::sysctl::ConfKey;
use crate::wire::mac::MacAddr;

/// One ARP cache entry. Its age is computed when drawn, from the time of the event shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighRow {
    pub dev: Rc<str>,
    pub ip: Ipv4Addr,
    pub mac: Option<MacAddr>,
    pub state: NudState,
    pub updated: SimTime,
}

/// One configured address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrRow {
    pub label: String,
    pub local: Ipv4Addr,
    pub prefix_len: u8,
}

/// A sysctl shown per device: `arp_ignore  all=1 lo=1 eth0=0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlRow {
    pub key: &'static str,
    pub values: Vec<(Rc<str>, i32)>,
}

/// One keepalived VRRP instance: its state, priority and the instant its timer fires
/// (master-down for a BACKUP, the next advert for a MASTER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpRow {
    pub name: String,
    pub state: &'static str,
    pub priority: u8,
    pub deadline: Option<SimTime>,
}

/// The displayed state of one host after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    pub neigh: Rc<[NeighRow]>,
    pub addrs: Rc<[AddrRow]>,
    pub routes: Rc<[String]>,
    pub ip_forward: i32,
    pub sysctls: Rc<[SysctlRow]>,
    /// `ipvsadm -L -n` when the host has virtual services.
    pub ipvs: Option<Rc<str>>,
    /// keepalived's VRRP instances (running ones, else how the last run left them).
    pub vrrp: Rc<[VrrpRow]>,
}

/// The per-device keys that explain ARP answers and reverse-path drops.
const SHOWN_KEYS: [ConfKey; 4] = [
    ConfKey::ArpIgnore,
    ConfKey::ArpAnnounce,
    ConfKey::RpFilter,
    ConfKey::ArpFilter,
];

impl HostView {
    /// Takes the view of `host` at `now`, reusing the parts of `previous` that are unchanged.
    pub fn capture(host: &Host, now: SimTime, previous: Option<&HostView>) -> HostView {
        let view = HostView {
            neigh: neigh_rows(host).into(),
            addrs: addr_rows(host).into(),
            routes: show_routes(host).into(),
            ip_forward: host.conf_all.get(ConfKey::Forwarding),
            sysctls: sysctl_rows(host).into(),
            ipvs: ipvs_listing(host, now).map(Rc::from),
            vrrp: vrrp_rows(host).into(),
        };
        match previous {
            Some(p) => view.sharing(p),
            None => view,
        }
    }

    /// The same view with every part equal to `previous`'s replaced by a pointer to it.
    fn sharing(self, previous: &HostView) -> HostView {
        fn share<T: ?Sized + PartialEq>(new: Rc<T>, old: &Rc<T>) -> Rc<T> {
            if *new == **old { old.clone() } else { new }
        }
        HostView {
            neigh: share(self.neigh, &previous.neigh),
            addrs: share(self.addrs, &previous.addrs),
            routes: share(self.routes, &previous.routes),
            ip_forward: self.ip_forward,
            sysctls: share(self.sysctls, &previous.sysctls),
            ipvs: match (self.ipvs, &previous.ipvs) {
                (Some(new), Some(old)) => Some(share(new, old)),
                (new, _) => new,
            },
            vrrp: share(self.vrrp, &previous.vrrp),
        }
    }

    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        self.addrs.iter().any(|a| a.local == ip)
    }
}

fn neigh_rows(host: &Host) -> Vec<NeighRow> {
    let mut rows: Vec<NeighRow> = host
        .neigh
        .iter()
        .map(|(&(dev, ip), e)| NeighRow {
            dev: host.ifaces[dev].name.clone(),
            ip,
            mac: e.mac.filter(|_| e.state.is_valid()),
            state: e.state,
            updated: e.updated,
        })
        .collect();
    rows.sort_by(|a, b| (&a.dev, u32::from(a.ip)).cmp(&(&b.dev, u32::from(b.ip))));
    rows
}

fn addr_rows(host: &Host) -> Vec<AddrRow> {
    host.ifaces
        .iter()
        .flat_map(|i| {
            i.addrs.iter().map(|a| AddrRow {
                label: a.label.clone(),
                local: a.local,
                prefix_len: a.prefix_len,
            })
        })
        .collect()
}

fn sysctl_rows(host: &Host) -> Vec<SysctlRow> {
    SHOWN_KEYS
        .iter()
        .map(|&key| {
            let all = (Rc::from("all"), host.conf_all.get(key));
            let devices = host
                .ifaces
                .iter()
                .map(|i| (i.name.clone(), i.conf.get(key)));
            SysctlRow {
                key: key.name(),
                values: std::iter::once(all).chain(devices).collect(),
            }
        })
        .collect()
}

fn vrrp_rows(host: &Host) -> Vec<VrrpRow> {
    let running: Vec<VrrpRow> = host
        .keepalived
        .instances()
        .map(|i| VrrpRow {
            name: i.conf.name.clone(),
            state: i.state.name(),
            priority: i.effective_priority,
            deadline: i.deadline,
        })
        .collect();
    if !running.is_empty() {
        return running;
    }
    host.keepalived
        .records
        .iter()
        .map(|(name, r)| VrrpRow {
            name: name.clone(),
            state: r.state.name(),
            priority: r.priority,
            deadline: None,
        })
        .collect()
}

fn ipvs_listing(host: &Host, now: SimTime) -> Option<String> {
    if !host.ipvs.is_active() {
        return None;
    }
    let options = ListOptions {
        numeric: true,
        ..ListOptions::default()
    };
    ipvsadm::list(&options, &host.ipvs.snapshot_without_conns(now.ns())).ok()
}
