//! Diagnoses raised while a lab runs. `arp-conflict`: two different MACs claim one IP on a
//! LAN while the first claimant still holds it; the warning names both hosts and the rule
//! (usually a sysctl) that let the second one claim it. `director-bypassed`: a client's
//! frames for a VIP reach a host that is not a director for it. `nat-reply-bypassed`: a NAT
//! real server's reply goes to the client without passing the director.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;

use crate::stack::sysctl::Effective;
use crate::trace::HostId;
use crate::wire::MacAddr;

/// Why a host put an address in the sender field of an ARP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimReason {
    /// The address is on the interface the frame left by.
    OwnAddress,
    /// It answered who-has for an address that lives on another interface (`arp_ignore`).
    AnsweredForOtherInterface {
        location: String,
        iface: String,
        rule: Effective,
    },
    /// Its own request carried the packet's source address (`arp_announce`).
    AnnouncedSource {
        location: String,
        iface: String,
        rule: Effective,
    },
    /// A tool told it to (`arping -U`, `arpspoof`).
    Tool(String),
    /// A router answered for an address it routes elsewhere (proxy_arp).
    ProxyArp,
    /// keepalived's gratuitous ARP on becoming MASTER (the instance's name): a VIP moving
    /// is normal; it is a conflict only if the old holder keeps it (split brain).
    Vrrp(String),
}

/// An ARP frame's claim that `ip` is at the sender's MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpClaim {
    pub ip: Ipv4Addr,
    pub reason: ClaimReason,
}

#[derive(Debug, Clone)]
struct Claimant {
    host: HostId,
    mac: MacAddr,
    reason: ClaimReason,
}

/// Where and by whom a claim was made.
#[derive(Debug, Clone, Copy)]
pub struct ClaimSeen<'a> {
    pub lan: usize,
    pub lan_name: &'a str,
    pub host: HostId,
    pub mac: MacAddr,
    pub claim: &'a ArpClaim,
}

/// A conflict found: the warning's host and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub culprit: HostId,
    pub detail: String,
    /// A VRRP takeover: a conflict only if both hosts still hold the address a while later
    /// (the old master gives it up on the new master's advert).
    pub pending: Option<(HostId, HostId, Ipv4Addr)>,
}

/// How long after a VRRP takeover both holders make a split brain.
pub const VRRP_CONFIRM_NS: u64 = 1_000_000_000;

/// Watches ARP claims per LAN.
#[derive(Default)]
pub struct ConflictDetector {
    claims: FxHashMap<(usize, Ipv4Addr), Claimant>,
    reported: BTreeSet<(usize, Ipv4Addr, HostId, HostId)>,
}

impl ConflictDetector {
    /// Records a claim seen on a LAN. `still_holds(h, ip)` says whether host `h` still has
    /// `ip` configured; `name(h)` is asked only for a conflict's text. Returns a conflict the
    /// first time a pair of hosts is seen fighting over an address.
    pub fn observe<'n>(
        &mut self,
        seen: ClaimSeen,
        name: impl Fn(HostId) -> &'n str,
        still_holds: impl Fn(HostId, Ipv4Addr) -> bool,
    ) -> Option<Conflict> {
        let ClaimSeen {
            lan,
            lan_name,
            host,
            mac,
            claim,
        } = seen;
        let key = (lan, claim.ip);
        let current = Claimant {
            host,
            mac,
            reason: claim.reason.clone(),
        };
        let previous = self.claims.insert(key, current.clone())?;
        if previous.mac == mac || previous.host == host {
            return None;
        }
        let previous_active =
            still_holds(previous.host, claim.ip) || matches!(previous.reason, ClaimReason::Tool(_));
        if !previous_active {
            return None;
        }
        let pair = (
            lan,
            claim.ip,
            previous.host.min(host),
            previous.host.max(host),
        );
        if !self.reported.insert(pair) {
            return None;
        }
        let (first, second) = (&previous, &current);
        let culprit = if matches!(second.reason, ClaimReason::Vrrp(_))
            || (matches!(second.reason, ClaimReason::OwnAddress)
                && !matches!(first.reason, ClaimReason::OwnAddress))
        {
            first
        } else {
            second
        };
        let why = match &second.reason {
            ClaimReason::Vrrp(instance) => {
                split_brain(name(second.host), name(first.host), instance, claim.ip)
            }
            _ => explain(name(culprit.host), claim.ip, &culprit.reason),
        };
        let detail = format!(
            "{} is claimed on {lan_name} by {} ({}) and by {} ({}): {why}",
            claim.ip,
            name(first.host),
            first.mac,
            name(second.host),
            second.mac,
        );
        let pending = matches!(current.reason, ClaimReason::Vrrp(_)).then_some((
            previous.host,
            host,
            claim.ip,
        ));
        Some(Conflict {
            culprit: culprit.host,
            detail,
            pending,
        })
    }

    /// A VRRP takeover turned out not to be a conflict: the pair may be reported later.
    pub fn forget(&mut self, lan: usize, ip: Ipv4Addr, a: HostId, b: HostId) {
        self.reported.remove(&(lan, ip, a.min(b), a.max(b)));
    }
}

/// The rule that let `host` claim `ip`, and the fix.
fn explain(host: &str, ip: Ipv4Addr, reason: &ClaimReason) -> String {
    match reason {
        ClaimReason::AnsweredForOtherInterface {
            location,
            iface,
            rule,
        } => format!(
            "{host} answered who-has {ip} on {iface} although the address is on {location}, because {} {}; set net.ipv4.conf.all.arp_ignore=1 on {host}",
            rule.describe(iface),
            crate::stack::arp::why_arp_ignore_answers(rule.value)
        ),
        ClaimReason::AnnouncedSource {
            location,
            iface,
            rule,
        } => format!(
            "{host} used {ip} (on {location}) as the sender of its own ARP request on {iface}, because {} lets the packet's source be announced; set net.ipv4.conf.all.arp_announce=2 on {host}",
            rule.describe(iface)
        ),
        ClaimReason::Tool(tool) => {
            format!("{host} ran `{tool}`, which announces {ip} at its own MAC")
        }
        ClaimReason::OwnAddress => {
            format!("both hosts have {ip} configured on a LAN interface (duplicate address)")
        }
        ClaimReason::ProxyArp => format!(
            "{host} answers for {ip} by proxy ARP (proxy_arp=1) although {ip} is on this LAN; turn proxy_arp off on {host}"
        ),
        ClaimReason::Vrrp(instance) => {
            format!("{host}'s keepalived ({instance}) announced {ip} on becoming MASTER")
        }
    }
}

/// Why a VRRP takeover became a conflict: the old holder kept the VIP.
fn split_brain(master: &str, holder: &str, instance: &str, ip: std::net::Ipv4Addr) -> String {
    format!(
        "{master}'s keepalived ({instance}) became MASTER and announced {ip}, but {holder} still holds it a second later: split brain (a keepalived killed with -9 leaves its VIP on the interface; VRRP adverts blocked between the directors make two masters); every host that resolves {ip} now gets two answers"
    )
}

/// Where the directors' virtual services and NAT real servers are, as each director
/// registers them after changing its tables.
#[derive(Default)]
pub struct DirectorMap {
    /// VIP → the hosts with a virtual service on it.
    vips: FxHashMap<Ipv4Addr, Vec<HostId>>,
    /// (real server, port) → the hosts that NAT to it.
    nat_servers: FxHashMap<(Ipv4Addr, u16), Vec<HostId>>,
    reported: BTreeSet<(&'static str, HostId, HostId, Ipv4Addr)>,
}

/// A bypass found: kind, the host to name, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bypass {
    pub kind: &'static str,
    pub host: HostId,
    pub detail: String,
}

/// The fields of a unicast IPv4 frame the bypass checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameAddrs {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: Option<u16>,
}

/// The addresses of a unicast IPv4 frame (None for other frames, which no bypass check
/// concerns).
pub fn frame_addrs(frame: &[u8]) -> Option<FrameAddrs> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] || frame[0] & 1 != 0 {
        return None;
    }
    let ip = &frame[14..];
    let hl = ((ip[0] & 0x0f) as usize) * 4;
    let v4 = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
    let sport = matches!(ip[9], 6 | 17)
        .then(|| ip.get(hl..hl + 2))
        .flatten()
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    Some(FrameAddrs {
        src: v4(12),
        dst: v4(16),
        sport,
    })
}

impl DirectorMap {
    /// `host`'s virtual service addresses and NAT real servers, replacing what it had.
    pub fn register(&mut self, host: HostId, vips: &[Ipv4Addr], nat: &[(Ipv4Addr, u16)]) {
        for hosts in self.vips.values_mut().chain(self.nat_servers.values_mut()) {
            hosts.retain(|&h| h != host);
        }
        for vip in vips {
            self.vips.entry(*vip).or_default().push(host);
        }
        for server in nat {
            self.nat_servers.entry(*server).or_default().push(host);
        }
        self.vips.retain(|_, hosts| !hosts.is_empty());
        self.nat_servers.retain(|_, hosts| !hosts.is_empty());
    }

    pub fn is_empty(&self) -> bool {
        self.vips.is_empty() && self.nat_servers.is_empty()
    }

    /// A unicast frame with addresses `f` that `sender` put on a LAN and the switch delivers
    /// to `receiver`. Returns a bypass the first time a (sender, receiver, address) is seen.
    pub fn observe<'n>(
        &mut self,
        f: FrameAddrs,
        sender: HostId,
        receiver: HostId,
        name: &dyn Fn(HostId) -> &'n str,
        holds: &dyn Fn(HostId, Ipv4Addr) -> bool,
    ) -> Option<Bypass> {
        if let Some(directors) = self.vips.get(&f.dst)
            && !directors.contains(&sender)
            && !directors.contains(&receiver)
            && holds(receiver, f.dst)
        {
            let director = directors[0];
            if !self
                .reported
                .insert(("director-bypassed", receiver, sender, f.dst))
            {
                return None;
            }
            let (s, r) = (name(sender), name(receiver));
            let detail = format!(
                "{s} sends its packets for the VIP {} to {r} instead of the director {}: {s}'s ARP entry for {} points at {r} (does {r} answer ARP for the VIP? check arp_ignore/arp_announce there)",
                f.dst,
                name(director),
                f.dst
            );
            return Some(Bypass {
                kind: "director-bypassed",
                host: receiver,
                detail,
            });
        }
        let sport = f.sport?;
        let directors = self.nat_servers.get(&(f.src, sport))?;
        if directors.contains(&receiver)
            || !holds(sender, f.src)
            || !self
                .reported
                .insert(("nat-reply-bypassed", sender, receiver, f.src))
        {
            return None;
        }
        let detail = format!(
            "{} sends its reply from {}:{sport} to {} through {}, not through the NAT director {}: the client never sent to {} and will reset it (the real server's default gateway must be the director)",
            name(sender),
            f.src,
            f.dst,
            name(receiver),
            name(directors[0]),
            f.src
        );
        Some(Bypass {
            kind: "nat-reply-bypassed",
            host: sender,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::sysctl::{ConfKey, DevConf};

    const DIR: MacAddr = MacAddr([0, 0x0c, 0x29, 0x50, 0xd5, 0x63]);
    const RS1: MacAddr = MacAddr([0, 0x0c, 0x29, 0xe4, 0x4d, 0x1f]);

    fn names(host: HostId) -> &'static str {
        ["dir", "rs1"][host]
    }

    fn seen(host: HostId, mac: MacAddr, claim: &ArpClaim) -> ClaimSeen<'_> {
        ClaimSeen {
            lan: 0,
            lan_name: "lan0",
            host,
            mac,
            claim,
        }
    }

    fn own(ip: &str) -> ArpClaim {
        ArpClaim {
            ip: ip.parse().unwrap(),
            reason: ClaimReason::OwnAddress,
        }
    }

    #[test]
    fn a_real_server_answering_for_the_vip_is_a_conflict_blaming_arp_ignore() {
        let mut d = ConflictDetector::default();
        let rule = Effective::combine(ConfKey::ArpIgnore, &DevConf::default(), &DevConf::default());
        let leak = ArpClaim {
            ip: "192.168.188.120".parse().unwrap(),
            reason: ClaimReason::AnsweredForOtherInterface {
                location: "lo (label lo:0)".into(),
                iface: "eth0".into(),
                rule,
            },
        };
        let vip = own("192.168.188.120");
        assert!(d.observe(seen(0, DIR, &vip), names, |_, _| true).is_none());
        let conflict = d.observe(seen(1, RS1, &leak), names, |_, _| true).unwrap();
        assert_eq!(conflict.culprit, 1);
        assert!(
            conflict
                .detail
                .contains("by dir (00:0c:29:50:d5:63) and by rs1 (00:0c:29:e4:4d:1f)"),
            "{}",
            conflict.detail
        );
        assert!(
            conflict
                .detail
                .contains("arp_ignore=0 (max of all=0, eth0=0)"),
            "{}",
            conflict.detail
        );
        // Reported once per pair.
        assert!(d.observe(seen(0, DIR, &vip), names, |_, _| true).is_none());
    }

    #[test]
    fn an_address_that_moved_is_not_a_conflict() {
        let mut d = ConflictDetector::default();
        let claim = own("10.0.0.1");
        d.observe(seen(0, DIR, &claim), names, |_, _| false);
        assert!(
            d.observe(seen(1, RS1, &claim), names, |_, _| false)
                .is_none()
        );
    }
}
