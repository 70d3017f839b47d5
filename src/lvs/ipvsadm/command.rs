//! What one `ipvsadm` invocation asks for, once parsed.

use std::net::IpAddr;

use crate::lvs::service::{DestConfig, ServiceConfig, ServiceKey};

/// One parsed `ipvsadm` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-A`
    AddService(ServiceConfig),
    /// `-E` (a full spec: what the line leaves out is reset, e.g. no `-s` → wlc).
    EditService(ServiceConfig),
    /// `-D`
    DeleteService(ServiceKey),
    /// `-C`
    Clear,
    /// `-a` (a full spec: defaults `-g -w 1`).
    AddDest {
        service: ServiceKey,
        dest: DestConfig,
    },
    /// `-e` (a full spec: omitted `-w` → 1, omitted method → `-g`, thresholds → 0).
    EditDest {
        service: ServiceKey,
        dest: DestConfig,
    },
    /// `-d`
    DeleteDest {
        service: ServiceKey,
        addr: IpAddr,
        port: u16,
    },
    /// `-L`/`-l` and bare `ipvsadm`.
    List(ListOptions),
    /// `-Z [service]`
    Zero(Option<ServiceKey>),
    /// `--set tcp tcpfin udp` (0 leaves a value unchanged).
    SetTimeouts { tcp: u32, tcpfin: u32, udp: u32 },
    /// `--start-daemon master|backup`
    StartDaemon(DaemonConfig),
    /// `--stop-daemon master|backup`
    StopDaemon { state: DaemonState },
    /// `-S [-n]`
    Save { numeric: bool },
    /// `-R`: one invocation per line of standard input.
    Restore,
    /// `-h`
    Help,
    /// `-v`
    Version,
    /// FULLNAT `-P -t VIP:PORT -z LIP`: add a local address.
    AddLaddr { service: ServiceKey, addr: IpAddr },
    /// FULLNAT `-Q -t VIP:PORT -z LIP`: delete a local address.
    DelLaddr { service: ServiceKey, addr: IpAddr },
    /// FULLNAT `-G [-t VIP:PORT]`: list local addresses (always numeric, `-n` or not).
    ListLaddrs { service: Option<ServiceKey> },
}

/// The listing variants and modifiers of `-L`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListOptions {
    /// `-n`
    pub numeric: bool,
    /// `-L -t VIP:PORT`: one service (no version header).
    pub service: Option<ServiceKey>,
    /// `-c`
    pub connections: bool,
    /// `--timeout`
    pub timeout: bool,
    /// `--daemon`
    pub daemon: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub tun_info: bool,
    pub nosort: bool,
    /// `-X`/`--exact`
    pub exact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    pub fn name(self) -> &'static str {
        match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        }
    }
}

/// `--start-daemon` and its options; None = the kernel's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    pub state: DaemonState,
    /// `--mcast-interface` (ipvsadm's default `eth0`).
    pub mcast_ifn: String,
    pub syncid: u8,
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub maxlen: Option<u16>,
}

impl DaemonConfig {
    /// The IPv4 group the daemon sends to or listens on (224.0.0.81 unless `--mcast-group`
    /// names an IPv4 one; the packet path is IPv4).
    pub fn group_v4(&self) -> std::net::Ipv4Addr {
        match self.group {
            Some(IpAddr::V4(g)) => g,
            _ => crate::wire::ipvs_sync::MCAST_GROUP,
        }
    }
}

/// Why the kernel refused a command (the errno `ipvs_strerror` maps to ipvsadm's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    Eexist,
    Enoent,
    Esrch,
    Einval,
    Erange,
    Eperm,
    Enoprotoopt,
    Enomem,
    Eopnotsupp,
    Eafnosupport,
    Emsgsize,
}

/// A line ipvsadm refuses: the message it prints on stderr (without the final newline) and
/// its exit status (2 parse/validation, 255 refused by the kernel or usage, 1 failed listing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsadmError {
    pub message: String,
    pub exit: i32,
}
