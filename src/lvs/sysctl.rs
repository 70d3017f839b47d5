//! `net.ipv4.vs.*`: the IPVS sysctls of Linux 6.1 (ip_vs_ctl.c vs_vars, ip_vs_lblc.c,
//! ip_vs_lblcr.c) with their defaults, plus the FULLNAT fork's `fullnat_*` keys
//! (alibaba/LVS ip_vs_ctl.c). lvsim's modules are always loaded, so the directory always exists.

use crate::stack::sysctl::SysctlValues;

/// The keys the simulation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vs {
    AmDroprate,
    Amemthresh,
    BackupOnly,
    CacheBypass,
    ConnReuseMode,
    Conntrack,
    DropEntry,
    DropPacket,
    ExpireNodestConn,
    ExpireQuiescentTemplate,
    FullnatConnReusedEntry,
    FullnatLportMax,
    FullnatLportMin,
    FullnatLportTries,
    FullnatMssAdjustEntry,
    FullnatTimestampRemoveEntry,
    FullnatToaEntry,
    IgnoreTunneled,
    LblcExpiration,
    LblcrExpiration,
    NatIcmpSend,
    PmtuDisc,
    RunEstimation,
    ScheduleIcmp,
    SecureTcp,
    SloppySctp,
    SloppyTcp,
    SnatReroute,
    SyncPersistMode,
    SyncPorts,
    SyncQlenMax,
    SyncRefreshPeriod,
    SyncRetries,
    SyncSockSize,
    SyncThreshold,
    SyncVersion,
}

impl From<Vs> for usize {
    fn from(key: Vs) -> usize {
        key as usize
    }
}

/// (key, name under net.ipv4.vs, default as /proc/sys shows it), in `Vs` order (alphabetical,
/// as `sysctl -a` lists them). `sync_qlen_max` depends on the machine's memory (free buffer
/// pages / 32); the value is that of a 2 GiB guest.
const VS_KEYS: [(Vs, &str, &str); 36] = [
    (Vs::AmDroprate, "am_droprate", "10"),
    (Vs::Amemthresh, "amemthresh", "1024"),
    (Vs::BackupOnly, "backup_only", "0"),
    (Vs::CacheBypass, "cache_bypass", "0"),
    (Vs::ConnReuseMode, "conn_reuse_mode", "1"),
    (Vs::Conntrack, "conntrack", "0"),
    (Vs::DropEntry, "drop_entry", "0"),
    (Vs::DropPacket, "drop_packet", "0"),
    (Vs::ExpireNodestConn, "expire_nodest_conn", "0"),
    (
        Vs::ExpireQuiescentTemplate,
        "expire_quiescent_template",
        "0",
    ),
    (Vs::FullnatConnReusedEntry, "fullnat_conn_reused_entry", "1"),
    (Vs::FullnatLportMax, "fullnat_lport_max", "65535"),
    (Vs::FullnatLportMin, "fullnat_lport_min", "5000"),
    (Vs::FullnatLportTries, "fullnat_lport_tries", "10000"),
    (Vs::FullnatMssAdjustEntry, "fullnat_mss_adjust_entry", "1"),
    (
        Vs::FullnatTimestampRemoveEntry,
        "fullnat_timestamp_remove_entry",
        "1",
    ),
    (Vs::FullnatToaEntry, "fullnat_toa_entry", "1"),
    (Vs::IgnoreTunneled, "ignore_tunneled", "0"),
    (Vs::LblcExpiration, "lblc_expiration", "86400"),
    (Vs::LblcrExpiration, "lblcr_expiration", "86400"),
    (Vs::NatIcmpSend, "nat_icmp_send", "0"),
    (Vs::PmtuDisc, "pmtu_disc", "1"),
    (Vs::RunEstimation, "run_estimation", "1"),
    (Vs::ScheduleIcmp, "schedule_icmp", "0"),
    (Vs::SecureTcp, "secure_tcp", "0"),
    (Vs::SloppySctp, "sloppy_sctp", "0"),
    (Vs::SloppyTcp, "sloppy_tcp", "0"),
    (Vs::SnatReroute, "snat_reroute", "1"),
    (Vs::SyncPersistMode, "sync_persist_mode", "0"),
    (Vs::SyncPorts, "sync_ports", "1"),
    (Vs::SyncQlenMax, "sync_qlen_max", "15464"),
    (Vs::SyncRefreshPeriod, "sync_refresh_period", "0"),
    (Vs::SyncRetries, "sync_retries", "0"),
    (Vs::SyncSockSize, "sync_sock_size", "0"),
    (Vs::SyncThreshold, "sync_threshold", "3\t50"),
    (Vs::SyncVersion, "sync_version", "1"),
];

/// The `net.ipv4.vs` directory of one host.
pub type VsSysctls = SysctlValues<Vs, 36>;

/// Every key at its default.
pub fn defaults() -> VsSysctls {
    SysctlValues::new(&VS_KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_enum_order_and_alphabetical() {
        for (i, (key, _, _)) in VS_KEYS.iter().enumerate() {
            assert_eq!(usize::from(*key), i);
        }
        assert!(VS_KEYS.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn defaults_follow_ipvs_sysctl_rst() {
        let vs = defaults();
        assert_eq!(vs.int(Vs::ConnReuseMode), 1);
        assert_eq!(vs.int(Vs::PmtuDisc), 1);
        assert_eq!(vs.int(Vs::ExpireNodestConn), 0);
        assert_eq!(vs.range(Vs::SyncThreshold), (3, 50));
        assert_eq!(vs.get("lblc_expiration"), Some("86400"));
    }
}
