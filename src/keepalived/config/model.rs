//! keepalived.conf as the daemon understands it after parsing: the subset of keywords in
//! `reference/keepalived.md` §2-§4, with keepalived's defaults already applied, so the VRRP
//! and checker code never has to know which keyword was absent.
//!
//! Times are microseconds, keepalived's own unit (TIMER_HZ = 1 000 000).

use std::net::Ipv4Addr;

/// One second in keepalived's timer unit.
pub const SECOND_US: u64 = 1_000_000;

/// A whole keepalived.conf.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub global: GlobalDefs,
    pub scripts: Vec<VrrpScript>,
    pub sync_groups: Vec<SyncGroup>,
    pub instances: Vec<VrrpInstance>,
    pub server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
}

/// GARP settings: global values (`vrrp_garp_*`) that an instance may override (`garp_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garp {
    pub master_delay_us: u64,
    pub master_repeat: u32,
    pub master_refresh_us: u64,
    pub master_refresh_repeat: u32,
    pub lower_prio_delay_us: u64,
    pub lower_prio_repeat: u32,
    /// Spacing between the GARPs of one burst (`vrrp_garp_interval`; 0 = back to back).
    pub interval_us: u64,
}

impl Default for Garp {
    fn default() -> Garp {
        Garp {
            master_delay_us: 5 * SECOND_US,
            master_repeat: 5,
            master_refresh_us: 0,
            master_refresh_repeat: 1,
            lower_prio_delay_us: 5 * SECOND_US,
            lower_prio_repeat: 5,
            interval_us: 0,
        }
    }
}

/// `global_defs { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    pub vrrp_version: u8,
    pub mcast_group4: Ipv4Addr,
    pub garp: Garp,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub skip_check_adv_addr: bool,
    pub strict: bool,
    /// `vrrp_down_timer_adverts`: the "3" of 3·I + skew.
    pub down_timer_adverts: u32,
    pub lvs_sync_daemon: Option<SyncDaemon>,
    pub lvs_timeouts: LvsTimeouts,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: bool,
}

impl Default for GlobalDefs {
    fn default() -> GlobalDefs {
        GlobalDefs {
            router_id: None,
            vrrp_version: 2,
            mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            garp: Garp::default(),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            skip_check_adv_addr: false,
            strict: false,
            down_timer_adverts: 3,
            lvs_sync_daemon: None,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: false,
        }
    }
}

/// `lvs_sync_daemon IF VRRP_INSTANCE [id N]`: the IPVS sync daemon follows that instance
/// (master while it is MASTER, backup otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDaemon {
    pub interface: String,
    pub instance: String,
    pub sync_id: u8,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`, like `ipvsadm --set` (None = unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcp_fin: Option<u32>,
    pub udp: Option<u32>,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpScript {
    pub name: String,
    /// The command line of `script "..."`, run by lvsim's interpreter.
    pub script: String,
    pub interval_us: u64,
    pub timeout_us: u64,
    pub weight: i32,
    /// `weight W reverse`: the adjustment applies while the script fails.
    pub reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
}

/// `vrrp_sync_group NAME { group { INSTANCE ... } notify_* }`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncGroup {
    pub name: String,
    pub members: Vec<String>,
    pub notify: Notify,
}

/// The state an instance is configured to want (`state MASTER|BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WantedState {
    Master,
    Backup,
}

/// `auth_type PASS|AH` with the password (truncated to 8 bytes, zero padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Pass([u8; 8]),
    Ah([u8; 8]),
}

/// One address of `virtual_ipaddress { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    pub addr: Ipv4Addr,
    /// /32 unless given.
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// The device; None = the instance's interface.
    pub dev: Option<String>,
    pub scope: Option<String>,
    pub label: Option<String>,
}

/// Notify scripts (commands recorded in the timeline when they would run).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
    pub stop: Option<String>,
    /// `notify SCRIPT`: run on every transition with TYPE NAME STATE PRIORITY.
    pub any: Option<String>,
}

/// `track_interface { IF [weight W] }` / `track_script { NAME [weight W] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub name: String,
    /// None = the script's own weight (scripts) or 0 (interfaces: down ⇒ FAULT).
    pub weight: Option<i32>,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpInstance {
    pub name: String,
    /// Line of the `vrrp_instance` keyword inside the config text (1-based).
    pub line: usize,
    pub wanted: WantedState,
    pub interface: String,
    pub vrid: u8,
    /// Base priority: 255 when `state MASTER` had no `priority`, else 100 unless given.
    pub priority: u8,
    pub advert_int_us: u64,
    pub version: u8,
    pub auth: Option<Auth>,
    pub vips: Vec<VirtualAddress>,
    pub excluded_vips: Vec<VirtualAddress>,
    pub nopreempt: bool,
    pub preempt_delay_us: u64,
    pub garp: Garp,
    pub track_interfaces: Vec<Track>,
    pub track_scripts: Vec<Track>,
    pub notify: Notify,
    pub mcast_src_ip: Option<Ipv4Addr>,
    pub unicast_src_ip: Option<Ipv4Addr>,
    pub unicast_peers: Vec<Ipv4Addr>,
    pub dont_track_primary: bool,
}

/// How a virtual server is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceKey {
    /// `virtual_server IP PORT` (port omitted only for persistent services: 0).
    Addr(Ipv4Addr, u16),
    Fwmark(u32),
    Group(String),
}

/// One entry of `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMember {
    /// `IP PORT` or `a.b.c.d-e PORT` (first and last address of the range).
    Range(Ipv4Addr, Ipv4Addr, u16),
    Fwmark(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VirtualServerGroup {
    pub name: String,
    pub members: Vec<GroupMember>,
}

/// `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Nat,
    Dr,
    Tun(TunnelType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelType {
    Ipip,
    Gue { port: u16, csum: bool },
    Gre { csum: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// `virtual_server ... { ... }` with keepalived's defaults applied (NAT, wlc, UDP when no
/// `protocol` — each with the warning keepalived logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    pub key: ServiceKey,
    pub line: usize,
    pub delay_loop_us: u64,
    pub scheduler: String,
    /// Scheduler flags as `ipvsadm -b` spells them (`sh-port`, `mh-fallback`, `flag-1`, ...).
    pub sched_flags: Vec<String>,
    pub ops: bool,
    pub method: Method,
    /// Seconds; None = not persistent.
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<Ipv4Addr>,
    pub persistence_engine: Option<String>,
    pub protocol: Protocol,
    pub ha_suspend: bool,
    pub alpha: bool,
    pub omega: bool,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<String>,
    pub quorum_down: Option<String>,
    pub sorry_server: Option<(Ipv4Addr, u16)>,
    pub sorry_server_method: Option<Method>,
    pub sorry_server_inhibit: bool,
    pub real_servers: Vec<RealServer>,
}

/// `real_server IP [PORT] { ... }`; checker settings cascade VS → RS → checker at parse time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    pub addr: Ipv4Addr,
    pub port: u16,
    pub line: usize,
    pub weight: u32,
    pub method: Method,
    pub inhibit_on_failure: bool,
    pub alpha: bool,
    pub notify_up: Option<String>,
    pub notify_down: Option<String>,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    pub checkers: Vec<Checker>,
}

impl RealServer {
    /// A server with keepalived's defaults (weight 1, no thresholds, notifies or checkers).
    pub fn new(addr: Ipv4Addr, port: u16, line: usize, method: Method) -> RealServer {
        RealServer {
            addr,
            port,
            line,
            weight: 1,
            method,
            inhibit_on_failure: false,
            alpha: false,
            notify_up: None,
            notify_down: None,
            upper_threshold: 0,
            lower_threshold: 0,
            checkers: Vec::new(),
        }
    }
}

/// One health checker of a real server, every timing resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checker {
    pub kind: CheckKind,
    pub line: usize,
    pub connect_ip: Ipv4Addr,
    pub connect_port: u16,
    pub bindto: Option<Ipv4Addr>,
    pub connect_timeout_us: u64,
    /// Extra consecutive failures before an UP checker is declared DOWN.
    pub retry: u32,
    pub delay_before_retry_us: u64,
    pub delay_loop_us: u64,
    /// First check after a random delay in [0, warmup].
    pub warmup_us: u64,
    pub alpha: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    Tcp,
    /// HTTP_GET, or SSL_GET (`ssl`: checked like HTTP_GET over TCP; no TLS is simulated).
    Http {
        urls: Vec<Url>,
        ssl: bool,
    },
    /// MISC_CHECK: `misc_path` run by lvsim's interpreter; exit 0 = up.
    Misc {
        path: String,
        timeout_us: u64,
        dynamic: bool,
    },
}

/// `url { path P; status_code LIST; digest HEX; virtualhost H }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub path: String,
    /// Accepted status codes as inclusive ranges (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    pub digest: Option<String>,
    pub virtualhost: Option<String>,
}
