//! Snapshots of the IPVS tables in the shape `ipvsadm` prints them: what the listing code
//! reads, so printing never needs the live tables.

use std::net::IpAddr;

use super::service::{Counters, DestConfig, Rates, ServiceConfig};

/// One destination as `ipvsadm -L` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestListing {
    pub config: DestConfig,
    pub activeconns: u32,
    pub inactconns: u32,
    pub persistconns: u32,
    pub stats: Counters,
    pub rates: Rates,
}

/// One virtual service with its destinations in the kernel's list order (newest first;
/// ipvsadm sorts them unless `--nosort`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceListing {
    pub config: ServiceConfig,
    pub stats: Counters,
    pub rates: Rates,
    pub dests: Vec<DestListing>,
    /// FULLNAT local addresses (`-P ... -z LIP`) in the order added, with their conflict and
    /// connection counts (`-G`).
    pub laddrs: Vec<LaddrListing>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaddrListing {
    pub addr: IpAddr,
    pub conflicts: u64,
    pub conns: u32,
}

/// One line of `/proc/net/ip_vs_conn` (`ipvsadm -L -c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnListing {
    /// `TCP`, `UDP`, `SCTP`, or `IP` for a fwmark persistence template.
    pub proto: &'static str,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    /// The kernel's state name (`ESTABLISHED`, `NONE`, `UDP`, ...).
    pub state: &'static str,
    /// Remaining seconds of the entry's timer.
    pub expires_secs: u64,
    /// Persistence engine name and data, when the entry carries them.
    pub pe: Option<(String, String)>,
}

/// A running connection-sync daemon (`ipvsadm -L --daemon`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonListing {
    /// `master` or `backup`.
    pub state: &'static str,
    pub mcast_ifn: String,
    pub syncid: u8,
    pub maxlen: u16,
    pub group: IpAddr,
    pub port: u16,
    pub ttl: u8,
}

/// Everything the listing commands can print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsSnapshot {
    /// Services in the kernel's table order (ipvsadm sorts them unless `--nosort`).
    pub services: Vec<ServiceListing>,
    /// Connection entries and templates in table order.
    pub conns: Vec<ConnListing>,
    /// `--set` values: ESTABLISHED, FIN_WAIT and UDP timeouts in seconds.
    pub timeouts: (u32, u32, u32),
    pub daemons: Vec<DaemonListing>,
}
