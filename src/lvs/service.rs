//! The IPVS configuration and accounting model: virtual services, their destinations (real
//! servers) and the counters ipvsadm shows. Shared by the schedulers, the connection table,
//! the packet path, `ipvsadm` and `lvsim sched`.

use std::fmt;
use std::net::IpAddr;

/// A transport protocol a virtual service can carry (`-t`, `-u`, `--sctp-service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number (the order ipvsadm sorts services by).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// ipvsadm's listing word: `TCP`, `UDP`, `SCTP`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// How the kernel identifies a virtual service: by (af, proto, addr, port) or by (af, fwmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKey {
    Addr {
        proto: Protocol,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        mark: u32,
        ipv6: bool,
    },
}

impl ServiceKey {
    pub fn is_ipv6(&self) -> bool {
        match *self {
            ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
            ServiceKey::Fwmark { ipv6, .. } => ipv6,
        }
    }

    pub fn is_fwmark(&self) -> bool {
        matches!(self, ServiceKey::Fwmark { .. })
    }
}

/// The service flag bits of `include/uapi/linux/ip_vs.h`.
pub mod flags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const ONEPACKET: u32 = 0x0004;
    /// sh-fallback / mh-fallback / flag-1.
    pub const SCHED1: u32 = 0x0008;
    /// sh-port / mh-port / flag-2.
    pub const SCHED2: u32 = 0x0010;
    /// flag-3.
    pub const SCHED3: u32 = 0x0020;
}

/// A destination's forwarding method (ipvsadm's Forward column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forward {
    /// NAT, `-m`.
    Masq,
    /// A real server on the director itself (2.6.32-era kernels listed it so).
    Local,
    /// IPIP/GUE/GRE, `-i`.
    Tunnel,
    /// Direct routing, `-g` (the default).
    Route,
    /// Alibaba's FULLNAT, `--fullnat` (design.md).
    FullNat,
}

impl Forward {
    /// The Forward column word (`fwd_name`).
    pub fn name(self) -> &'static str {
        match self {
            Forward::Masq => "Masq",
            Forward::Local => "Local",
            Forward::Tunnel => "Tunnel",
            Forward::Route => "Route",
            Forward::FullNat => "FullNat",
        }
    }
}

/// `--tun-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
}

/// `--tun-nocsum` / `--tun-csum` / `--tun-remcsum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelCsum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
}

/// A tunnelling destination's encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelSpec {
    pub kind: TunnelType,
    /// `--tun-port` (GUE only; 0 otherwise).
    pub port: u16,
    pub csum: TunnelCsum,
}

/// The persistence netmask: a dotted IPv4 mask or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netmask {
    V4(u32),
    V6(u8),
}

impl Netmask {
    /// The default for the family: /32 or /128.
    pub fn host(ipv6: bool) -> Netmask {
        if ipv6 {
            Netmask::V6(128)
        } else {
            Netmask::V4(u32::MAX)
        }
    }

    pub fn is_host(&self) -> bool {
        matches!(self, Netmask::V4(u32::MAX) | Netmask::V6(128))
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Netmask::V4(mask) => write!(f, "{}", std::net::Ipv4Addr::from(mask)),
            Netmask::V6(plen) => write!(f, "{plen}"),
        }
    }
}

/// What `ipvsadm -A/-E` configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub key: ServiceKey,
    /// The scheduler's name (`wlc`, `rr`, ... or `none`).
    pub sched: String,
    /// `flags::*` bits.
    pub flags: u32,
    /// Persistence timeout in seconds (meaningful when `flags::PERSISTENT` is set).
    pub timeout: u32,
    pub netmask: Netmask,
    /// Persistence engine (`--pe sip`).
    pub pe: Option<String>,
}

impl ServiceConfig {
    pub fn is_persistent(&self) -> bool {
        self.flags & flags::PERSISTENT != 0
    }
}

/// What `ipvsadm -a/-e` configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestConfig {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: Forward,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun: TunnelSpec,
}

/// Packet, byte and connection counters (`ipvsadm -L --stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// Rates as `ipvsadm -L --rate` prints them (already rounded as the kernel reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// Index of a destination in its table's arena. Deleted destinations keep their slot while
/// anything still refers to them (the kernel's trash), so an id stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DestId(pub u32);

/// A destination: its configuration plus the state the kernel keeps for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub config: DestConfig,
    /// The last non-zero weight ever configured (set on add even if 0); only mh reads it.
    pub last_weight: i32,
    /// Cleared when the destination is deleted.
    pub available: bool,
    /// The threshold flag (§2.2 of ipvs-schedulers.md).
    pub overload: bool,
    pub activeconns: u32,
    pub inactconns: u32,
    pub persistconns: u32,
}

impl Dest {
    /// A freshly added destination.
    pub fn new(config: DestConfig) -> Dest {
        Dest {
            last_weight: config.weight,
            config,
            available: true,
            overload: false,
            activeconns: 0,
            inactconns: 0,
            persistconns: 0,
        }
    }

    pub fn weight(&self) -> i32 {
        self.config.weight
    }

    /// `ip_vs_dest_conn_overhead`: an active connection weighs 256 inactive ones.
    pub fn overhead(&self) -> u64 {
        ((self.activeconns as u64) << 8) + self.inactconns as u64
    }
}
