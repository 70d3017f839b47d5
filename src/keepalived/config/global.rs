//! `global_defs { ... }` (core/global_parser.c; `reference/keepalived.md` §2).

use super::model::{LvsTimeouts, SECOND_US, SyncDaemon};
use super::parse::{Block, Keyword, Parser};

/// Upper bound keepalived accepts for the GARP delays and refresh (seconds).
const GARP_DELAY_MAX_S: u32 = 86_400;

pub(super) static GLOBAL_DEFS: Block = Block {
    keywords: &[&[
        Keyword::new("router_id", |p, w| {
            if let Some(id) = p.arg(w, 1) {
                p.draft.global.router_id = Some(id.to_string());
            }
        }),
        Keyword::new("vrrp_version", |p, w| {
            match p.arg(w, 1).map(|v| v.parse::<u8>()) {
                Some(Ok(v @ (2 | 3))) => p.draft.global.vrrp_version = v,
                Some(_) => p.report("VRRP Error: Version must be either 2 or 3"),
                None => {}
            }
        }),
        Keyword::new("vrrp_mcast_group4", |p, w| {
            if let Some(addr) = p.arg(w, 1) {
                match Parser::ipv4(addr).filter(|a| a.is_multicast()) {
                    Some(a) => p.draft.global.mcast_group4 = a,
                    None => p.report(format!(
                        "vrrp_mcast_group4 [{addr}] is not multicast. Skipping"
                    )),
                }
            }
        }),
        Keyword::new("vrrp_garp_master_delay", |p, w| {
            if let Some(us) = garp_seconds(p, w, "") {
                p.draft.global.garp.master_delay_us = us;
            }
        }),
        Keyword::new("vrrp_garp_master_repeat", |p, w| {
            if let Some(n) = garp_repeat(p, w, "") {
                p.draft.global.garp.master_repeat = n;
            }
        }),
        Keyword::new("vrrp_garp_master_refresh", |p, w| {
            if let Some(us) = garp_seconds(p, w, "") {
                p.draft.global.garp.master_refresh_us = us;
            }
        }),
        Keyword::new("vrrp_garp_master_refresh_repeat", |p, w| {
            if let Some(n) = garp_repeat(p, w, "") {
                p.draft.global.garp.master_refresh_repeat = n;
            }
        }),
        Keyword::new("vrrp_garp_lower_prio_delay", |p, w| {
            if let Some(us) = garp_seconds(p, w, "") {
                p.draft.global.garp.lower_prio_delay_us = us;
            }
        }),
        Keyword::new("vrrp_garp_lower_prio_repeat", |p, w| {
            if let Some(n) = garp_repeat(p, w, "") {
                p.draft.global.garp.lower_prio_repeat = n;
            }
        }),
        Keyword::new("vrrp_garp_interval", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match p.timer(word, 0, super::parse::TIMER_MAXIMUM) {
                Some(us) => p.draft.global.garp.interval_us = us,
                None => p.report(format!("vrrp_garp_interval '{word}' is invalid")),
            }
        }),
        Keyword::new("vrrp_min_garp", |p, w| {
            if p.flag(w) == Some(true) {
                let garp = &mut p.draft.global.garp;
                garp.master_repeat = 1;
                garp.master_delay_us = 0;
                garp.lower_prio_repeat = 1;
                garp.lower_prio_delay_us = 0;
            }
        }),
        Keyword::new("vrrp_lower_prio_no_advert", |p, w| {
            if let Some(on) = p.flag(w) {
                p.draft.global.lower_prio_no_advert = on;
            }
        }),
        Keyword::new("vrrp_higher_prio_send_advert", |p, w| {
            if let Some(on) = p.flag(w) {
                p.draft.global.higher_prio_send_advert = on;
            }
        }),
        Keyword::new("vrrp_skip_check_adv_addr", |p, w| {
            if let Some(on) = p.flag(w) {
                p.draft.global.skip_check_adv_addr = on;
            }
        }),
        Keyword::new("vrrp_strict", |p, _| p.draft.global.strict = true),
        Keyword::new("vrrp_down_timer_adverts", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match word.parse::<u32>() {
                Ok(n @ 1..=100) => p.draft.global.down_timer_adverts = n,
                _ => p.report(format!("Invalid vrrp_down_timer_adverts [1:100] '{word}'")),
            }
        }),
        Keyword::new("lvs_sync_daemon", lvs_sync_daemon),
        Keyword::new("lvs_timeouts", lvs_timeouts),
        Keyword::new("lvs_flush", |p, _| p.draft.global.lvs_flush = true),
        Keyword::new("lvs_flush_on_stop", |p, _| {
            p.draft.global.lvs_flush_on_stop = true
        }),
        Keyword::new("enable_script_security", |p, _| {
            p.draft.script_security = true
        }),
        Keyword::ignored("script_user"),
        Keyword::ignored_values("notification_email"),
        Keyword::ignored("notification_email_from"),
        Keyword::ignored("smtp_server"),
        Keyword::ignored("smtp_helo_name"),
        Keyword::ignored("smtp_connect_timeout"),
        Keyword::ignored("vrrp_mcast_group6"),
        Keyword::ignored("vrrp_gna_interval"),
        Keyword::ignored("vrrp_garp_extra_if"),
        Keyword::ignored("vrrp_iptables"),
        Keyword::ignored("dynamic_interfaces"),
        Keyword::ignored("max_auto_priority"),
        Keyword::ignored("checker_log_all_failures"),
    ]],
    close: None,
};

/// `KEYWORD S` of a GARP delay or refresh: whole seconds, as µs. `prefix` is "" in
/// global_defs and "(INSTANCE): " in a vrrp_instance, as keepalived words it.
pub(super) fn garp_seconds(p: &mut Parser, words: &[String], prefix: &str) -> Option<u64> {
    let word = p.arg(words, 1)?;
    let keyword = &words[0];
    match p.unsigned(word, 0, GARP_DELAY_MAX_S) {
        Some(s) => Some(u64::from(s) * SECOND_US),
        None if keyword.ends_with("refresh") => {
            p.report(format!("{prefix}Invalid {keyword} '{word}' - ignoring"));
            None
        }
        None => {
            p.report(format!("{prefix}{keyword} '{word}' invalid - ignoring"));
            None
        }
    }
}

/// `KEYWORD N` of a GARP repeat count: 0 is raised to 1 with keepalived's warning.
pub(super) fn garp_repeat(p: &mut Parser, words: &[String], prefix: &str) -> Option<u32> {
    let word = p.arg(words, 1)?;
    let keyword = &words[0];
    match p.unsigned(word, 0, u32::MAX) {
        Some(0) => {
            p.report(format!(
                "{prefix}{keyword} must be greater than 0, setting to 1"
            ));
            Some(1)
        }
        Some(n) => Some(n),
        None if keyword == "vrrp_garp_lower_prio_repeat" => {
            p.report(format!("Invalid {keyword} '{word}'"));
            None
        }
        None => {
            p.report(format!("{prefix}{keyword} '{word}' invalid - ignoring"));
            None
        }
    }
}

/// `lvs_sync_daemon IF VRRP_INSTANCE [id N]`.
fn lvs_sync_daemon(p: &mut Parser, words: &[String]) {
    let (Some(interface), Some(instance)) = (p.arg(words, 1), p.arg(words, 2)) else {
        return;
    };
    let mut daemon = SyncDaemon {
        interface: interface.to_string(),
        instance: instance.to_string(),
        sync_id: 0,
    };
    let mut options = words[3..].iter();
    while let Some(option) = options.next() {
        match (option.as_str(), options.next()) {
            ("id", Some(id)) => match id.parse::<u8>() {
                Ok(id) => daemon.sync_id = id,
                Err(_) => p.report(format!("Invalid syncid ({id}) - defaulting to vrid")),
            },
            ("id", None) => {
                p.report("No value specified for lvs_sync_daemon id, defaulting to vrid")
            }
            ("maxlen" | "port" | "ttl" | "group", _) => {}
            (other, _) => p.report(format!(
                "Unknown option {other} specified for lvs_sync_daemon"
            )),
        }
    }
    p.draft.global.lvs_sync_daemon = Some(daemon);
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
fn lvs_timeouts(p: &mut Parser, words: &[String]) {
    if words.len() < 2 {
        p.report("lvs_timeouts requires at least one option");
        return;
    }
    let mut timeouts = LvsTimeouts::default();
    let mut options = words[1..].iter();
    while let Some(option) = options.next() {
        let slot = match option.as_str() {
            "tcp" => &mut timeouts.tcp,
            "tcpfin" => &mut timeouts.tcp_fin,
            "udp" => &mut timeouts.udp,
            other => {
                p.report(format!("Unknown option {other} specified for lvs_timeouts"));
                continue;
            }
        };
        match options.next().map(|v| (v, v.parse::<u32>())) {
            Some((_, Ok(seconds))) => *slot = Some(seconds),
            Some((value, Err(_))) => {
                p.report(format!("Invalid lvs_timeout {option} ({value}) - ignoring"))
            }
            None => p.report(format!(
                "No value specified for lvs_timeout {option} - ignoring"
            )),
        }
    }
    p.draft.global.lvs_timeouts = timeouts;
}
