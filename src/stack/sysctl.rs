//! A host's sysctl tree under `net.ipv4`: per-device `conf` values with the kernel's rules for
//! combining `all` with the device, neighbour parameters with their file units, and the
//! global keys the labs touch.

/// Per-device `net.ipv4.conf.*` keys lvsim models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfKey {
    Forwarding,
    ArpIgnore,
    ArpAnnounce,
    ArpAccept,
    ArpFilter,
    ArpNotify,
    RpFilter,
    AcceptLocal,
    SendRedirects,
    AcceptRedirects,
    SharedMedia,
    LogMartians,
    DropGratuitousArp,
    RouteLocalnet,
    ProxyArp,
}

/// How the effective value is formed from `conf.all` and `conf.<dev>` (include/linux/inetdevice.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// `IN_DEV_MAXCONF`: the larger of the two.
    Max,
    /// `IN_DEV_ORCONF`: either one set.
    Or,
    /// `IN_DEV_CONF_GET`: the device's own value only.
    DeviceOnly,
}

struct ConfInfo {
    key: ConfKey,
    name: &'static str,
    default: i32,
    combine: Combine,
}

const CONF_INFO: [ConfInfo; 15] = [
    ConfInfo {
        key: ConfKey::Forwarding,
        name: "forwarding",
        default: 0,
        combine: Combine::DeviceOnly,
    },
    ConfInfo {
        key: ConfKey::ArpIgnore,
        name: "arp_ignore",
        default: 0,
        combine: Combine::Max,
    },
    ConfInfo {
        key: ConfKey::ArpAnnounce,
        name: "arp_announce",
        default: 0,
        combine: Combine::Max,
    },
    ConfInfo {
        key: ConfKey::ArpAccept,
        name: "arp_accept",
        default: 0,
        combine: Combine::Max,
    },
    ConfInfo {
        key: ConfKey::ArpFilter,
        name: "arp_filter",
        default: 0,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::ArpNotify,
        name: "arp_notify",
        default: 0,
        combine: Combine::Max,
    },
    ConfInfo {
        key: ConfKey::RpFilter,
        name: "rp_filter",
        default: 0,
        combine: Combine::Max,
    },
    ConfInfo {
        key: ConfKey::AcceptLocal,
        name: "accept_local",
        default: 0,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::SendRedirects,
        name: "send_redirects",
        default: 1,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::AcceptRedirects,
        name: "accept_redirects",
        default: 1,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::SharedMedia,
        name: "shared_media",
        default: 1,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::LogMartians,
        name: "log_martians",
        default: 0,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::DropGratuitousArp,
        name: "drop_gratuitous_arp",
        default: 0,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::RouteLocalnet,
        name: "route_localnet",
        default: 0,
        combine: Combine::Or,
    },
    ConfInfo {
        key: ConfKey::ProxyArp,
        name: "proxy_arp",
        default: 0,
        combine: Combine::Or,
    },
];

impl ConfKey {
    fn info(self) -> &'static ConfInfo {
        &CONF_INFO[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn combine(self) -> Combine {
        self.info().combine
    }

    pub fn from_name(name: &str) -> Option<ConfKey> {
        CONF_INFO.iter().find(|i| i.name == name).map(|i| i.key)
    }

    pub fn all() -> impl Iterator<Item = ConfKey> {
        CONF_INFO.iter().map(|i| i.key)
    }
}

/// The values of one `conf` directory (`all`, `default` or a device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevConf([i32; 15]);

impl Default for DevConf {
    fn default() -> Self {
        let mut values = [0; 15];
        for info in &CONF_INFO {
            values[info.key as usize] = info.default;
        }
        DevConf(values)
    }
}

impl DevConf {
    pub fn get(&self, key: ConfKey) -> i32 {
        self.0[key as usize]
    }

    pub fn set(&mut self, key: ConfKey, value: i32) {
        self.0[key as usize] = value;
    }
}

/// An effective value with the two inputs it came from, so explanations can say
/// "arp_ignore=1 (all=1, eth0=0)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub key: ConfKey,
    pub value: i32,
    pub all: i32,
    pub dev: i32,
}

impl Effective {
    pub fn combine(key: ConfKey, all: &DevConf, dev: &DevConf) -> Effective {
        let (a, d) = (all.get(key), dev.get(key));
        let value = match key.combine() {
            Combine::Max => a.max(d),
            Combine::Or => (a != 0 || d != 0) as i32,
            Combine::DeviceOnly => d,
        };
        Effective {
            key,
            value,
            all: a,
            dev: d,
        }
    }

    /// `arp_ignore=1 (max of all=1, eth0=0)`.
    pub fn describe(&self, dev_name: &str) -> String {
        let how = match self.key.combine() {
            Combine::Max => "max of ",
            Combine::Or => "either of ",
            Combine::DeviceOnly => "",
        };
        format!(
            "{}={} ({how}all={}, {dev_name}={})",
            self.key.name(),
            self.value,
            self.all,
            self.dev
        )
    }
}

/// `net.ipv4.neigh.<dev>.*` parameters, stored in milliseconds or counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeighKey {
    BaseReachableTime,
    RetransTime,
    DelayFirstProbeTime,
    GcStaleTime,
    Locktime,
    UcastSolicit,
    McastSolicit,
    McastResolicit,
    AppSolicit,
    UnresQlen,
    UnresQlenBytes,
    ProxyQlen,
    ProxyDelay,
    AnycastDelay,
    IntervalProbeTime,
}

/// The unit a sysctl file shows a neighbour value in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileUnit {
    Count,
    Millis,
    /// USER_HZ: hundredths of a second (`locktime 100` = 1 s).
    UserHz,
    Seconds,
}

impl FileUnit {
    fn to_file(self, stored: u64) -> u64 {
        match self {
            FileUnit::Count | FileUnit::Millis => stored,
            FileUnit::UserHz => stored / 10,
            FileUnit::Seconds => stored / 1000,
        }
    }

    fn to_stored(self, value: u64) -> u64 {
        match self {
            FileUnit::Count | FileUnit::Millis => value,
            FileUnit::UserHz => value * 10,
            FileUnit::Seconds => value * 1000,
        }
    }
}

/// Files under `neigh/<dev>/`: (file name, parameter, unit). Several files show one value.
const NEIGH_FILES: [(&str, NeighKey, FileUnit); 17] = [
    ("anycast_delay", NeighKey::AnycastDelay, FileUnit::UserHz),
    ("app_solicit", NeighKey::AppSolicit, FileUnit::Count),
    (
        "base_reachable_time",
        NeighKey::BaseReachableTime,
        FileUnit::Seconds,
    ),
    (
        "base_reachable_time_ms",
        NeighKey::BaseReachableTime,
        FileUnit::Millis,
    ),
    (
        "delay_first_probe_time",
        NeighKey::DelayFirstProbeTime,
        FileUnit::Seconds,
    ),
    ("gc_stale_time", NeighKey::GcStaleTime, FileUnit::Seconds),
    (
        "interval_probe_time_ms",
        NeighKey::IntervalProbeTime,
        FileUnit::Millis,
    ),
    ("locktime", NeighKey::Locktime, FileUnit::UserHz),
    ("mcast_resolicit", NeighKey::McastResolicit, FileUnit::Count),
    ("mcast_solicit", NeighKey::McastSolicit, FileUnit::Count),
    ("proxy_delay", NeighKey::ProxyDelay, FileUnit::UserHz),
    ("proxy_qlen", NeighKey::ProxyQlen, FileUnit::Count),
    ("retrans_time", NeighKey::RetransTime, FileUnit::UserHz),
    ("retrans_time_ms", NeighKey::RetransTime, FileUnit::Millis),
    ("ucast_solicit", NeighKey::UcastSolicit, FileUnit::Count),
    ("unres_qlen", NeighKey::UnresQlen, FileUnit::Count),
    (
        "unres_qlen_bytes",
        NeighKey::UnresQlenBytes,
        FileUnit::Count,
    ),
];

/// Neighbour parameters of one device, with the kernel defaults measured in linux-arp.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighParms([u64; 15]);

impl Default for NeighParms {
    fn default() -> Self {
        let mut v = [0u64; 15];
        v[NeighKey::BaseReachableTime as usize] = 30_000;
        v[NeighKey::RetransTime as usize] = 1_000;
        v[NeighKey::DelayFirstProbeTime as usize] = 5_000;
        v[NeighKey::GcStaleTime as usize] = 60_000;
        v[NeighKey::Locktime as usize] = 1_000;
        v[NeighKey::UcastSolicit as usize] = 3;
        v[NeighKey::McastSolicit as usize] = 3;
        v[NeighKey::McastResolicit as usize] = 0;
        v[NeighKey::AppSolicit as usize] = 0;
        v[NeighKey::UnresQlen as usize] = 101;
        v[NeighKey::UnresQlenBytes as usize] = 212_992;
        v[NeighKey::ProxyQlen as usize] = 64;
        v[NeighKey::ProxyDelay as usize] = 800;
        v[NeighKey::AnycastDelay as usize] = 1_000;
        v[NeighKey::IntervalProbeTime as usize] = 5_000;
        NeighParms(v)
    }
}

impl NeighParms {
    /// Milliseconds for times, a count otherwise.
    pub fn get(&self, key: NeighKey) -> u64 {
        self.0[key as usize]
    }

    pub fn set(&mut self, key: NeighKey, value: u64) {
        self.0[key as usize] = value;
    }

    /// Nanoseconds of a time parameter.
    pub fn ns(&self, key: NeighKey) -> u64 {
        self.get(key) * 1_000_000
    }

    pub fn read_file(&self, file: &str) -> Option<u64> {
        let (_, key, unit) = NEIGH_FILES.iter().find(|(name, ..)| *name == file)?;
        Some(unit.to_file(self.get(*key)))
    }

    pub fn write_file(&mut self, file: &str, value: u64) -> Option<()> {
        let (_, key, unit) = NEIGH_FILES.iter().find(|(name, ..)| *name == file)?;
        self.set(*key, unit.to_stored(value));
        Some(())
    }

    pub fn files() -> impl Iterator<Item = &'static str> {
        NEIGH_FILES.iter().map(|(name, ..)| *name)
    }
}

/// Host-wide `net.ipv4.*` keys (not per device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    IcmpEchoIgnoreAll,
    IcmpEchoIgnoreBroadcasts,
    IcmpRatelimit,
    IcmpRatemask,
    IpDefaultTtl,
    IpLocalPortRange,
    IpNonlocalBind,
    IpfragTime,
    NeighGcInterval,
    NeighGcThresh1,
    NeighGcThresh2,
    NeighGcThresh3,
    TcpFinTimeout,
    TcpRetries2,
    TcpSynRetries,
    TcpSynackRetries,
    TcpTimestamps,
}

impl From<Global> for usize {
    fn from(key: Global) -> usize {
        key as usize
    }
}

/// (key, name under net.ipv4, default as /proc/sys shows it), in `Global` order.
const GLOBALS: [(Global, &str, &str); 17] = [
    (Global::IcmpEchoIgnoreAll, "icmp_echo_ignore_all", "0"),
    (
        Global::IcmpEchoIgnoreBroadcasts,
        "icmp_echo_ignore_broadcasts",
        "1",
    ),
    (Global::IcmpRatelimit, "icmp_ratelimit", "1000"),
    (Global::IcmpRatemask, "icmp_ratemask", "6168"),
    (Global::IpDefaultTtl, "ip_default_ttl", "64"),
    (
        Global::IpLocalPortRange,
        "ip_local_port_range",
        "32768\t60999",
    ),
    (Global::IpNonlocalBind, "ip_nonlocal_bind", "0"),
    (Global::IpfragTime, "ipfrag_time", "30"),
    (Global::NeighGcInterval, "neigh.default.gc_interval", "30"),
    (Global::NeighGcThresh1, "neigh.default.gc_thresh1", "128"),
    (Global::NeighGcThresh2, "neigh.default.gc_thresh2", "512"),
    (Global::NeighGcThresh3, "neigh.default.gc_thresh3", "1024"),
    (Global::TcpFinTimeout, "tcp_fin_timeout", "60"),
    (Global::TcpRetries2, "tcp_retries2", "15"),
    (Global::TcpSynRetries, "tcp_syn_retries", "6"),
    (Global::TcpSynackRetries, "tcp_synack_retries", "5"),
    (Global::TcpTimestamps, "tcp_timestamps", "1"),
];

/// A fixed set of keys with their defaults: the text `/proc/sys` shows, and the first number
/// of each for the packet paths (read per packet, so kept parsed). `K` indexes the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlValues<K: 'static, const N: usize> {
    table: &'static [(K, &'static str, &'static str); N],
    text: [String; N],
    numbers: [i64; N],
    /// The two numbers of each range key (every connect reads `ip_local_port_range`).
    ranges: [(i64, i64); N],
}

/// Host-wide `net.ipv4.*` keys.
pub type GlobalSysctls = SysctlValues<Global, 17>;

fn first_number(text: &str) -> i64 {
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The first two numbers of `text`; the second defaults to the first.
fn two_numbers(text: &str) -> (i64, i64) {
    let mut numbers = text.split_whitespace().filter_map(|v| v.parse().ok());
    let low = numbers.next().unwrap_or(0);
    (low, numbers.next().unwrap_or(low))
}

impl Default for GlobalSysctls {
    fn default() -> Self {
        SysctlValues::new(&GLOBALS)
    }
}

impl<K: Copy + Into<usize>, const N: usize> SysctlValues<K, N> {
    /// Every key at its default.
    pub fn new(table: &'static [(K, &'static str, &'static str); N]) -> Self {
        let text: [String; N] = std::array::from_fn(|i| table[i].2.to_owned());
        let numbers = std::array::from_fn(|i| first_number(&text[i]));
        let ranges = std::array::from_fn(|i| two_numbers(&text[i]));
        SysctlValues {
            table,
            text,
            numbers,
            ranges,
        }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.table.iter().position(|(_, n, _)| *n == name)
    }

    /// The value as `/proc/sys` shows it, by name relative to the table's directory.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.index(name).map(|i| self.text[i].as_str())
    }

    /// An integer key (the first number for multi-valued keys).
    pub fn int(&self, key: K) -> i64 {
        self.numbers[key.into()]
    }

    /// The two numbers of a range key (`ip_local_port_range`).
    pub fn range(&self, key: K) -> (i64, i64) {
        self.ranges[key.into()]
    }

    /// Stores `value` if the key exists and the value has the right shape.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SysctlError> {
        let i = self.index(name).ok_or(SysctlError::NoSuchKey)?;
        let words: Vec<&str> = value.split_whitespace().collect();
        let expected = self.text[i].split_whitespace().count();
        if words.len() != expected || words.iter().any(|w| w.parse::<i64>().is_err()) {
            return Err(SysctlError::InvalidValue);
        }
        self.text[i] = words.join("\t");
        self.numbers[i] = first_number(&self.text[i]);
        self.ranges[i] = two_numbers(&self.text[i]);
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.table
            .iter()
            .zip(&self.text)
            .map(|((_, name, _), v)| (*name, v.as_str()))
    }
}

/// Why a sysctl read or write failed, worded as the real tools word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysctlError {
    NoSuchKey,
    InvalidValue,
}

/// Parses an integer value for a `conf` key (the kernel accepts any int there).
pub fn parse_conf_value(text: &str) -> Result<i32, SysctlError> {
    text.trim().parse().map_err(|_| SysctlError::InvalidValue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_a_fresh_kernel() {
        let conf = DevConf::default();
        assert_eq!(conf.get(ConfKey::ArpIgnore), 0);
        assert_eq!(conf.get(ConfKey::SendRedirects), 1);
        let parms = NeighParms::default();
        assert_eq!(parms.read_file("locktime"), Some(100));
        assert_eq!(parms.read_file("base_reachable_time_ms"), Some(30_000));
        assert_eq!(parms.read_file("base_reachable_time"), Some(30));
        assert_eq!(parms.read_file("retrans_time"), Some(100));
        assert_eq!(parms.read_file("delay_first_probe_time"), Some(5));
        assert_eq!(parms.read_file("unres_qlen"), Some(101));
    }

    #[test]
    fn max_keys_take_the_larger_of_all_and_device() {
        // linux-arp.md difference 1: effective = max(conf.all, conf.<dev>).
        let mut all = DevConf::default();
        let mut eth0 = DevConf::default();
        all.set(ConfKey::ArpIgnore, 1);
        let eff = Effective::combine(ConfKey::ArpIgnore, &all, &eth0);
        assert_eq!((eff.value, eff.all, eff.dev), (1, 1, 0));
        eth0.set(ConfKey::ArpIgnore, 2);
        assert_eq!(Effective::combine(ConfKey::ArpIgnore, &all, &eth0).value, 2);
        assert_eq!(
            Effective::combine(ConfKey::ArpIgnore, &all, &eth0).describe("eth0"),
            "arp_ignore=2 (max of all=1, eth0=2)"
        );
    }

    #[test]
    fn forwarding_is_per_device() {
        let mut all = DevConf::default();
        all.set(ConfKey::Forwarding, 1);
        assert_eq!(
            Effective::combine(ConfKey::Forwarding, &all, &DevConf::default()).value,
            0
        );
    }

    #[test]
    fn neighbour_files_convert_units() {
        let mut parms = NeighParms::default();
        parms.write_file("locktime", 0).unwrap();
        assert_eq!(parms.get(NeighKey::Locktime), 0);
        parms.write_file("base_reachable_time", 10).unwrap();
        assert_eq!(parms.read_file("base_reachable_time_ms"), Some(10_000));
        assert!(parms.write_file("no_such_file", 1).is_none());
    }

    #[test]
    fn global_keys_validate_their_shape() {
        let mut g = GlobalSysctls::default();
        g.set("ip_default_ttl", "32").unwrap();
        assert_eq!(g.int(Global::IpDefaultTtl), 32);
        assert_eq!(g.set("ip_default_ttl", "x"), Err(SysctlError::InvalidValue));
        assert_eq!(g.set("nope", "1"), Err(SysctlError::NoSuchKey));
        g.set("ip_local_port_range", "1024 65000").unwrap();
        assert_eq!(g.get("ip_local_port_range"), Some("1024\t65000"));
    }
}
