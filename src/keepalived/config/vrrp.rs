//! `vrrp_script`, `vrrp_sync_group` and `vrrp_instance` (vrrp/vrrp_parser.c, and the checks of
//! vrrp_data.c / vrrp.c vrrp_complete_instance; `reference/keepalived.md` §3).

use std::net::Ipv4Addr;

use super::global::{garp_repeat, garp_seconds};
use super::model::{
    Auth, Config, Garp, Notify, SECOND_US, SyncGroup, Track, VirtualAddress, VrrpInstance,
    VrrpScript, WantedState,
};
use super::parse::{Block, Draft, Keyword, Parser, TIMER_MAXIMUM};

/// What a `vrrp_instance` block said, before the defaults that depend on other keywords.
#[derive(Debug)]
pub(super) struct InstanceDraft {
    pub instance: VrrpInstance,
    pub state: Option<WantedState>,
    pub vrid: Option<u8>,
    pub priority: Option<u8>,
    pub advert_int_us: Option<u64>,
    pub version: Option<u8>,
    pub auth_type: Option<AuthType>,
    pub auth_pass: [u8; 8],
    pub garp: GarpOverrides,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum AuthType {
    Pass,
    Ah,
}

/// An instance's `garp_*` keywords; the rest comes from global_defs.
#[derive(Debug, Default)]
pub(super) struct GarpOverrides {
    master_delay_us: Option<u64>,
    master_repeat: Option<u32>,
    master_refresh_us: Option<u64>,
    master_refresh_repeat: Option<u32>,
    lower_prio_delay_us: Option<u64>,
    lower_prio_repeat: Option<u32>,
}

impl GarpOverrides {
    fn over(&self, global: Garp) -> Garp {
        Garp {
            master_delay_us: self.master_delay_us.unwrap_or(global.master_delay_us),
            master_repeat: self.master_repeat.unwrap_or(global.master_repeat),
            master_refresh_us: self.master_refresh_us.unwrap_or(global.master_refresh_us),
            master_refresh_repeat: self
                .master_refresh_repeat
                .unwrap_or(global.master_refresh_repeat),
            lower_prio_delay_us: self
                .lower_prio_delay_us
                .unwrap_or(global.lower_prio_delay_us),
            lower_prio_repeat: self.lower_prio_repeat.unwrap_or(global.lower_prio_repeat),
            interval_us: global.interval_us,
        }
    }
}

/// A `vrrp_script` with `timeout` still unset (it defaults to the interval).
#[derive(Debug)]
pub(super) struct ScriptDraft {
    pub script: VrrpScript,
    pub timeout_us: Option<u64>,
}

// ----- vrrp_script -----

pub(super) fn open_script(p: &mut Parser, words: &[String]) {
    let Some(name) = p.arg(words, 1) else {
        return p.skip_block();
    };
    let script = VrrpScript {
        name: name.to_string(),
        script: String::new(),
        interval_us: SECOND_US,
        timeout_us: 0,
        weight: 0,
        reverse: false,
        rise: 1,
        fall: 1,
        init_fail: false,
    };
    p.draft.scripts.push(ScriptDraft {
        script,
        timeout_us: None,
    });
}

fn script(p: &mut Parser) -> &mut ScriptDraft {
    p.draft
        .scripts
        .last_mut()
        .expect("inside a vrrp_script block")
}

pub(super) static VRRP_SCRIPT: Block = Block {
    keywords: &[&[
        Keyword::new("script", |p, w| {
            let command = w[1..].join(" ");
            script(p).script.script = command;
        }),
        Keyword::new("interval", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            let name = script(p).script.name.clone();
            match p.timer(word, 0, TIMER_MAXIMUM) {
                Some(0) => {
                    p.report(format!(
                        "({name}): vrrp script interval must be greater than 0, setting to 1"
                    ));
                    script(p).script.interval_us = SECOND_US;
                }
                Some(us) => script(p).script.interval_us = us,
                None => p.report(format!(
                    "({name}): vrrp script interval '{word}' must be between 1 and {} - ignoring",
                    TIMER_MAXIMUM / SECOND_US
                )),
            }
        }),
        Keyword::new("timeout", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            let name = script(p).script.name.clone();
            match p.timer(word, 0, TIMER_MAXIMUM) {
                Some(0) => {
                    p.report(format!(
                        "({name}): vrrp script timeout must be greater than 0, setting to 1"
                    ));
                    script(p).timeout_us = Some(SECOND_US);
                }
                Some(us) => script(p).timeout_us = Some(us),
                None => p.report(format!(
                    "({name}): vrrp script timeout '{word}' invalid - ignoring"
                )),
            }
        }),
        Keyword::new("weight", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            let name = script(p).script.name.clone();
            match p.int(word, -253, 253) {
                Some(weight) => script(p).script.weight = weight,
                None => p.report(format!(
                    "vrrp_script {name} weight {word} must be in [-253, 253]"
                )),
            }
            match w.get(2).map(String::as_str) {
                Some("reverse") => script(p).script.reverse = true,
                Some(other) => {
                    p.report(format!("vrrp_script {name} unknown weight option {other}"))
                }
                None => {}
            }
        }),
        Keyword::new("rise", |p, w| script_count(p, w, "rise")),
        Keyword::new("fall", |p, w| script_count(p, w, "fall")),
        Keyword::new("init_fail", |p, _| script(p).script.init_fail = true),
        Keyword::ignored("user"),
    ]],
    close: None,
};

/// `rise N` / `fall N`: 1.. with keepalived's "defaulting to 1".
fn script_count(p: &mut Parser, words: &[String], which: &str) {
    let Some(word) = p.arg(words, 1) else { return };
    let name = script(p).script.name.clone();
    let value = p.unsigned(word, 1, i32::MAX as u32).unwrap_or_else(|| {
        p.report(format!(
            "({name}): vrrp script {which} value '{word}' invalid, defaulting to 1"
        ));
        1
    });
    let script = &mut script(p).script;
    if which == "rise" {
        script.rise = value;
    } else {
        script.fall = value;
    }
}

// ----- vrrp_sync_group -----

pub(super) fn open_sync_group(p: &mut Parser, words: &[String]) {
    let Some(name) = p.arg(words, 1) else {
        return p.skip_block();
    };
    p.draft.sync_groups.push(SyncGroup {
        name: name.to_string(),
        ..SyncGroup::default()
    });
}

fn sync_group(p: &mut Parser) -> &mut SyncGroup {
    p.draft
        .sync_groups
        .last_mut()
        .expect("inside a vrrp_sync_group block")
}

pub(super) static SYNC_GROUP: Block = Block {
    keywords: &[&[
        Keyword::new("group", |p, w| {
            p.value_block(w, |p, members| {
                sync_group(p).members.extend(members.iter().cloned());
            });
        }),
        Keyword::new("notify_master", |p, w| {
            sync_group(p).notify.master = command(w)
        }),
        Keyword::new("notify_backup", |p, w| {
            sync_group(p).notify.backup = command(w)
        }),
        Keyword::new("notify_fault", |p, w| {
            sync_group(p).notify.fault = command(w)
        }),
        Keyword::new("notify_stop", |p, w| sync_group(p).notify.stop = command(w)),
        Keyword::new("notify", |p, w| sync_group(p).notify.any = command(w)),
        Keyword::ignored("smtp_alert"),
        Keyword::ignored("global_tracking"),
    ]],
    close: None,
};

/// A notify script's command line (keepalived keeps the quoted string as one word).
fn command(words: &[String]) -> Option<String> {
    (words.len() > 1).then(|| words[1..].join(" "))
}

// ----- vrrp_instance -----

pub(super) fn open_instance(p: &mut Parser, words: &[String]) {
    let Some(name) = p.arg(words, 1) else {
        return p.skip_block();
    };
    let instance = VrrpInstance {
        name: name.to_string(),
        line: p.line(),
        wanted: WantedState::Backup,
        interface: String::new(),
        vrid: 0,
        priority: 100,
        advert_int_us: SECOND_US,
        version: 2,
        auth: None,
        vips: Vec::new(),
        excluded_vips: Vec::new(),
        nopreempt: false,
        preempt_delay_us: 0,
        garp: Garp::default(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        notify: Notify::default(),
        mcast_src_ip: None,
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
        dont_track_primary: false,
    };
    p.draft.instances.push(InstanceDraft {
        instance,
        state: None,
        vrid: None,
        priority: None,
        advert_int_us: None,
        version: None,
        auth_type: None,
        auth_pass: [0; 8],
        garp: GarpOverrides::default(),
    });
}

fn instance(p: &mut Parser) -> &mut InstanceDraft {
    p.draft
        .instances
        .last_mut()
        .expect("inside a vrrp_instance block")
}

fn instance_name(p: &mut Parser) -> String {
    instance(p).instance.name.clone()
}

pub(super) static VRRP_INSTANCE: Block = Block {
    keywords: &[&[
        Keyword::new("state", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            let state = match word {
                "MASTER" => WantedState::Master,
                "BACKUP" => WantedState::Backup,
                other => {
                    let name = instance_name(p);
                    p.report(format!(
                        "({name}) unknown state '{other}', defaulting to BACKUP"
                    ));
                    WantedState::Backup
                }
            };
            instance(p).state = Some(state);
        }),
        Keyword::new("interface", |p, w| {
            if let Some(name) = p.arg(w, 1) {
                instance(p).instance.interface = name.to_string();
            }
        }),
        Keyword::new("virtual_router_id", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match p.unsigned(word, 1, 255) {
                Some(vrid) => instance(p).vrid = Some(vrid as u8),
                None => {
                    let name = instance_name(p);
                    p.report(format!(
                        "({name}): VRID '{word}' not valid - must be between 1 & 255"
                    ));
                }
            }
        }),
        Keyword::new("priority", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match p.unsigned(word, 1, 255) {
                Some(priority) => instance(p).priority = Some(priority as u8),
                None => {
                    let name = instance_name(p);
                    p.report(format!(
                        "({name}) Priority not valid! must be between 1 & 255. Using default 100"
                    ));
                    instance(p).priority = Some(100);
                }
            }
        }),
        Keyword::new("advert_int", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match p.timer(word, SECOND_US / 100, 255 * SECOND_US) {
                Some(us) => instance(p).advert_int_us = Some(us),
                None => {
                    let name = instance_name(p);
                    p.report(format!(
                        "({name}) Advert interval ({word}) not valid! Must be > 0 - ignoring"
                    ));
                }
            }
        }),
        Keyword::new("version", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match word.parse::<u8>() {
                Ok(v @ (2 | 3)) => instance(p).version = Some(v),
                _ => p.report("VRRP Error: Version must be either 2 or 3"),
            }
        }),
        Keyword::block("authentication", |_, _| {}, &AUTHENTICATION),
        Keyword::new("virtual_ipaddress", |p, w| {
            p.value_block(w, |p, words| {
                if let Some(vip) = virtual_address(p, words) {
                    instance(p).instance.vips.push(vip);
                }
            });
        }),
        Keyword::new("virtual_ipaddress_excluded", |p, w| {
            p.value_block(w, |p, words| {
                if let Some(vip) = virtual_address(p, words) {
                    instance(p).instance.excluded_vips.push(vip);
                }
            });
        }),
        Keyword::new("nopreempt", |p, _| instance(p).instance.nopreempt = true),
        Keyword::new("preempt", |p, _| instance(p).instance.nopreempt = false),
        Keyword::new("preempt_delay", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            if let Some(us) = p.timer(word, 0, TIMER_MAXIMUM) {
                instance(p).instance.preempt_delay_us = us;
            }
        }),
        Keyword::new("garp_master_delay", |p, w| {
            instance(p).garp.master_delay_us =
                instance_garp(p, w, garp_seconds).or(instance(p).garp.master_delay_us);
        }),
        Keyword::new("garp_master_refresh", |p, w| {
            instance(p).garp.master_refresh_us =
                instance_garp(p, w, garp_seconds).or(instance(p).garp.master_refresh_us);
        }),
        Keyword::new("garp_lower_prio_delay", |p, w| {
            instance(p).garp.lower_prio_delay_us =
                instance_garp(p, w, garp_seconds).or(instance(p).garp.lower_prio_delay_us);
        }),
        Keyword::new("garp_master_repeat", |p, w| {
            instance(p).garp.master_repeat =
                instance_garp(p, w, garp_repeat).or(instance(p).garp.master_repeat);
        }),
        Keyword::new("garp_master_refresh_repeat", |p, w| {
            instance(p).garp.master_refresh_repeat =
                instance_garp(p, w, garp_repeat).or(instance(p).garp.master_refresh_repeat);
        }),
        Keyword::new("garp_lower_prio_repeat", |p, w| {
            instance(p).garp.lower_prio_repeat =
                instance_garp(p, w, garp_repeat).or(instance(p).garp.lower_prio_repeat);
        }),
        Keyword::new("track_interface", |p, w| {
            p.value_block(w, |p, words| {
                if let Some(track) = track(p, words, "tracked interface") {
                    instance(p).instance.track_interfaces.push(track);
                }
            });
        }),
        Keyword::new("track_script", |p, w| {
            p.value_block(w, |p, words| {
                let Some(track) = track(p, words, "track script") else {
                    return;
                };
                if p.draft.scripts.iter().any(|s| s.script.name == track.name) {
                    instance(p).instance.track_scripts.push(track);
                } else {
                    let name = instance_name(p);
                    p.report(format!(
                        "({name}) track script {} not found, ignoring...",
                        track.name
                    ));
                }
            });
        }),
        Keyword::new("notify_master", |p, w| {
            instance(p).instance.notify.master = command(w)
        }),
        Keyword::new("notify_backup", |p, w| {
            instance(p).instance.notify.backup = command(w)
        }),
        Keyword::new("notify_fault", |p, w| {
            instance(p).instance.notify.fault = command(w)
        }),
        Keyword::new("notify_stop", |p, w| {
            instance(p).instance.notify.stop = command(w)
        }),
        Keyword::new("notify", |p, w| {
            instance(p).instance.notify.any = command(w)
        }),
        Keyword::new("mcast_src_ip", |p, w| {
            instance(p).instance.mcast_src_ip = source_address(p, w);
        }),
        Keyword::new("unicast_src_ip", |p, w| {
            instance(p).instance.unicast_src_ip = source_address(p, w);
        }),
        Keyword::new("unicast_peer", |p, w| {
            p.value_block(w, |p, words| match Parser::ipv4(&words[0]) {
                Some(peer) => instance(p).instance.unicast_peers.push(peer),
                None => p.report(format!(
                    "VRRP parsed invalid IP {}. skipping IP...",
                    words[0]
                )),
            });
        }),
        Keyword::new("dont_track_primary", |p, _| {
            instance(p).instance.dont_track_primary = true
        }),
        Keyword::ignored("use_vmac"),
        Keyword::ignored("vmac_xmit_base"),
        Keyword::ignored("accept"),
        Keyword::ignored("no_accept"),
        Keyword::ignored("strict_mode"),
        Keyword::ignored("debug"),
        Keyword::ignored("smtp_alert"),
        Keyword::ignored("skip_check_adv_addr"),
        Keyword::ignored("promote_secondaries"),
        Keyword::ignored("lvs_sync_daemon_interface"),
        Keyword::ignored("unicast_ttl"),
        Keyword::ignored_values("virtual_routes"),
        Keyword::ignored_values("virtual_rules"),
    ]],
    close: None,
};

static AUTHENTICATION: Block = Block {
    keywords: &[&[
        Keyword::new("auth_type", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            match word {
                "PASS" => instance(p).auth_type = Some(AuthType::Pass),
                "AH" => instance(p).auth_type = Some(AuthType::Ah),
                other => {
                    let name = instance_name(p);
                    p.report(format!("({name}) unknown authentication type '{other}'"));
                }
            }
        }),
        Keyword::new("auth_pass", |p, w| {
            let Some(word) = p.arg(w, 1) else { return };
            let bytes = word.as_bytes();
            if bytes.len() > 8 {
                p.report("Truncating auth_pass to 8 characters");
            }
            let mut pass = [0u8; 8];
            let kept = bytes.len().min(8);
            pass[..kept].copy_from_slice(&bytes[..kept]);
            instance(p).auth_pass = pass;
        }),
    ]],
    close: None,
};

/// A `garp_*` keyword of an instance, with the instance named in the messages.
fn instance_garp<T>(
    p: &mut Parser,
    words: &[String],
    read: fn(&mut Parser, &[String], &str) -> Option<T>,
) -> Option<T> {
    let prefix = format!("({}): ", instance_name(p));
    read(p, words, &prefix)
}

fn source_address(p: &mut Parser, words: &[String]) -> Option<Ipv4Addr> {
    let word = p.arg(words, 1)?;
    let addr = Parser::ipv4(word);
    if addr.is_none() {
        p.report(format!("VRRP parsed invalid IP {word}. skipping IP..."));
    }
    addr
}

/// `ADDR[/LEN] [brd IP] [dev IF] [scope S] [label L]` of a virtual_ipaddress block.
fn virtual_address(p: &mut Parser, words: &[String]) -> Option<VirtualAddress> {
    let (addr, prefix) = words[0].split_once('/').unwrap_or((&words[0], "32"));
    let parsed = Parser::ipv4(addr).zip(prefix.parse::<u8>().ok().filter(|&l| l <= 32));
    let Some((addr, prefix_len)) = parsed else {
        p.report(format!(
            "VRRP parsed invalid IP {}. skipping IP...",
            words[0]
        ));
        return None;
    };
    let mut vip = VirtualAddress {
        addr,
        prefix_len,
        broadcast: None,
        dev: None,
        scope: None,
        label: None,
    };
    let mut options = words[1..].iter();
    while let Some(option) = options.next() {
        let value = options.next().cloned();
        match option.as_str() {
            "brd" | "broadcast" => vip.broadcast = value.as_deref().and_then(Parser::ipv4),
            "dev" => vip.dev = value,
            "scope" => vip.scope = value,
            "label" => vip.label = value,
            other => p.report(format!(
                "Unknown configuration entry '{other}' for ip address - ignoring"
            )),
        }
    }
    Some(vip)
}

/// `NAME [weight W]` of track_interface / track_script.
fn track(p: &mut Parser, words: &[String], what: &str) -> Option<Track> {
    let name = words[0].clone();
    let weight = match (words.get(1).map(String::as_str), words.get(2)) {
        (None, _) => None,
        (Some("weight"), Some(word)) => match word.parse::<i32>() {
            Ok(w) if (-253..=253).contains(&w) => Some(w),
            _ => {
                let instance = instance_name(p);
                p.report(format!(
                    "({instance}) weight {word} for {name} must be between [-253..253] inclusive. Ignoring..."
                ));
                return None;
            }
        },
        (Some("weight"), None) => {
            let instance = instance_name(p);
            p.report(format!(
                "({instance}) weight without value specified for {what} {name} - ignoring"
            ));
            return None;
        }
        (Some(other), _) => {
            let instance = instance_name(p);
            p.report(format!(
                "({instance}) unknown {what} option {other} - ignoring"
            ));
            return None;
        }
    };
    Some(Track { name, weight })
}

// ----- after the whole file (vrrp_complete_instance, vrrp_sync.c) -----

pub(super) fn finish(p: &mut Parser, draft: &mut Draft, config: &mut Config) {
    config.scripts = finish_scripts(p, std::mem::take(&mut draft.scripts));
    for instance in std::mem::take(&mut draft.instances) {
        if let Some(done) = finish_instance(
            p,
            instance,
            &draft.global.garp,
            draft.global.vrrp_version,
            &config.scripts,
        ) {
            config.instances.push(done);
        }
    }
    let uses_scripts = !config.scripts.is_empty()
        || config.instances.iter().any(|i| has_notify(&i.notify))
        || draft.sync_groups.iter().any(|g| has_notify(&g.notify));
    if uses_scripts && !draft.script_security {
        p.report_file(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
        );
    }
    config.sync_groups = finish_sync_groups(
        p,
        std::mem::take(&mut draft.sync_groups),
        &mut config.instances,
        &config.scripts,
    );
}

fn has_notify(notify: &Notify) -> bool {
    notify != &Notify::default()
}

fn finish_scripts(p: &mut Parser, scripts: Vec<ScriptDraft>) -> Vec<VrrpScript> {
    let mut done = Vec::new();
    for ScriptDraft {
        mut script,
        timeout_us,
        ..
    } in scripts
    {
        if script.script.is_empty() {
            p.report_file(format!(
                "No script set for vrrp_script {} - removing",
                script.name
            ));
            continue;
        }
        script.timeout_us = timeout_us.unwrap_or(script.interval_us);
        done.push(script);
    }
    done
}

fn finish_instance(
    p: &mut Parser,
    draft: InstanceDraft,
    global_garp: &Garp,
    global_version: u8,
    scripts: &[VrrpScript],
) -> Option<VrrpInstance> {
    let mut instance = draft.instance;
    let name = instance.name.clone();
    let Some(vrid) = draft.vrid else {
        p.report_file(format!("({name}) the virtual router id must be set"));
        return None;
    };
    instance.vrid = vrid;
    instance.wanted = draft.state.unwrap_or(WantedState::Backup);
    instance.priority = match (draft.priority, instance.wanted) {
        (Some(priority), _) => priority,
        (None, WantedState::Master) => 255,
        (None, WantedState::Backup) => 100,
    };
    if draft.priority.is_some() && draft.state.is_none() && instance.priority == 255 {
        instance.wanted = WantedState::Master;
    }
    instance.version = draft.version.unwrap_or(global_version);
    instance.advert_int_us =
        rounded_advert_int(draft.advert_int_us.unwrap_or(SECOND_US), instance.version);
    instance.garp = draft.garp.over(*global_garp);
    instance.auth = authentication(p, &name, draft.auth_type, draft.auth_pass, instance.version);
    check_preemption(p, &mut instance);
    if instance.vips.is_empty() {
        p.report_file(format!(
            "({name}) No VIP specified; at least one is sensible"
        ));
    }
    instance
        .track_scripts
        .retain(|track| scripts.iter().any(|s| s.name == track.name));
    Some(instance)
}

/// v2 adverts carry whole seconds (1..255); v3 centiseconds (0.01..40.95 s).
fn rounded_advert_int(us: u64, version: u8) -> u64 {
    if version == 2 {
        (us + SECOND_US / 2) / SECOND_US * SECOND_US
    } else {
        let centis = (us + 5_000) / 10_000;
        centis.clamp(1, 4095) * 10_000
    }
    .max(if version == 2 { SECOND_US } else { 10_000 })
}

fn authentication(
    p: &mut Parser,
    name: &str,
    kind: Option<AuthType>,
    pass: [u8; 8],
    version: u8,
) -> Option<Auth> {
    let kind = kind?;
    if version == 3 {
        p.report_file(format!(
            "({name}) VRRP version 3 does not support authentication. Ignoring."
        ));
        return None;
    }
    Some(match kind {
        AuthType::Pass => Auth::Pass(pass),
        AuthType::Ah => Auth::Ah(pass),
    })
}

/// nopreempt and preempt_delay need an initial BACKUP state (vrrp_complete_instance).
fn check_preemption(p: &mut Parser, instance: &mut VrrpInstance) {
    let name = instance.name.clone();
    if instance.nopreempt {
        if instance.priority == 255 {
            p.report_file(format!(
                "({name}) nopreempt is incompatible with priority 255. resetting nopreempt"
            ));
            instance.nopreempt = false;
        } else if instance.wanted == WantedState::Master {
            p.report_file(format!(
                "({name}) Warning - nopreempt will not work with initial state MASTER - clearing"
            ));
            instance.nopreempt = false;
        }
    }
    if instance.preempt_delay_us > 0 {
        if instance.wanted == WantedState::Master {
            p.report_file(format!("({name}) Warning - preempt delay will not work with initial state MASTER - clearing"));
            instance.preempt_delay_us = 0;
        } else if instance.nopreempt {
            p.report_file(format!(
                "({name}) preempt_delay is incompatible with nopreempt mode - resetting"
            ));
            instance.preempt_delay_us = 0;
        }
    }
}

fn finish_sync_groups(
    p: &mut Parser,
    groups: Vec<SyncGroup>,
    instances: &mut [VrrpInstance],
    scripts: &[VrrpScript],
) -> Vec<SyncGroup> {
    let mut done = Vec::new();
    for mut group in groups {
        group.members.retain(|member| {
            let exists = instances.iter().any(|i| &i.name == member);
            if !exists {
                p.report_file(format!(
                    "Virtual router {member} specified in sync group {} doesn't exist - ignoring",
                    group.name
                ));
            }
            exists
        });
        match group.members.len() {
            0 => {
                p.report_file(format!(
                    "Sync group {} has no virtual router(s). removing",
                    group.name
                ));
                continue;
            }
            1 => p.report_file(format!(
                "Sync group {} has only 1 virtual router(s) - this probably isn't what you want",
                group.name
            )),
            _ => {}
        }
        for instance in instances
            .iter_mut()
            .filter(|i| group.members.contains(&i.name))
        {
            ignore_weighted_tracks(p, instance, scripts);
        }
        done.push(group);
    }
    done
}

/// Members of a sync group move together: their track weights are dropped (vrrp_sync.c).
fn ignore_weighted_tracks(p: &mut Parser, instance: &mut VrrpInstance, scripts: &[VrrpScript]) {
    let script_weight = |name: &str| {
        scripts
            .iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.weight)
    };
    let weighted = |t: &Track| t.weight.unwrap_or_else(|| script_weight(&t.name)) != 0;
    for track in instance.track_scripts.iter_mut().filter(|t| weighted(t)) {
        p.report_file(format!(
            "({}) ignoring tracked script {} with weights due to SYNC group",
            instance.name, track.name
        ));
        track.weight = Some(0);
    }
}
