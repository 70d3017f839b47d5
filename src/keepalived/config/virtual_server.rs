//! `virtual_server_group`, `virtual_server` and `real_server` (check/check_parser.c, and the
//! checks of check_data.c validate_check_config; `reference/keepalived.md` §4).

use std::net::Ipv4Addr;

use super::checkers::{self, CheckTimings, CheckerDraft};
use super::model::{
    Config, GroupMember, Method, Protocol, RealServer, SECOND_US, ServiceKey, TunnelType,
    VirtualServer, VirtualServerGroup,
};
use super::parse::{Block, Draft, Keyword, Parser};

/// The schedulers keepalived 2.2.7 accepts (`lvs_sched`).
const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];
const DEFAULT_DELAY_LOOP_US: u64 = 60 * SECOND_US;
const DEFAULT_PERSISTENCE_S: u32 = 360;
const PERSISTENCE_MAX_S: u32 = 2_678_400;
const WEIGHT_MAX: u32 = i32::MAX as u32;

/// A virtual_server block before keepalived's defaults and checks.
#[derive(Debug)]
pub(super) struct ServerDraft {
    pub server: VirtualServer,
    pub scheduler: Option<String>,
    pub method: Option<Method>,
    pub protocol: Option<Protocol>,
    /// delay_loop and the checker timings given here for every checker.
    pub timings: CheckTimings,
    pub rs_weight: Option<u32>,
    pub inhibit_on_failure: bool,
    pub real_servers: Vec<RealDraft>,
}

/// A real_server block before its port and method are settled.
#[derive(Debug)]
pub(super) struct RealDraft {
    pub real: RealServer,
    pub port: Option<u16>,
    pub method: Option<Method>,
    pub weight: Option<u32>,
    pub inhibit_on_failure: Option<bool>,
    pub timings: CheckTimings,
    pub checkers: Vec<CheckerDraft>,
}

// ----- virtual_server_group -----

pub(super) fn server_group(p: &mut Parser, words: &[String]) {
    let Some(name) = p.arg(words, 1) else { return };
    p.draft.server_groups.push(VirtualServerGroup {
        name: name.to_string(),
        members: Vec::new(),
    });
    p.value_lines(|p, entry| {
        if let Some(member) = group_member(p, entry) {
            let group = p.draft.server_groups.last_mut().expect("just pushed");
            group.members.push(member);
        }
    });
}

/// `IP PORT`, `a.b.c.d-e PORT` or `fwmark N`.
fn group_member(p: &mut Parser, entry: &[String]) -> Option<GroupMember> {
    if entry[0] == "fwmark" {
        let word = p.arg(entry, 1)?;
        return fwmark(p, word).map(GroupMember::Fwmark);
    }
    let port_word = entry.get(1).map(String::as_str).unwrap_or("0");
    let (first, last) = address_range(&entry[0]).unzip();
    let port = port_word.parse::<u16>().ok();
    match (first, last, port) {
        (Some(first), Some(last), Some(port)) => Some(GroupMember::Range(first, last, port)),
        _ => {
            p.report(format!(
                "Invalid virtual server group IP address {} /port/{port_word} - skipping",
                entry[0]
            ));
            None
        }
    }
}

/// `a.b.c.d` or `a.b.c.d-e` as first and last address.
fn address_range(text: &str) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let (addr, end) = match text.split_once('-') {
        Some((addr, end)) => (addr, Some(end)),
        None => (text, None),
    };
    let first = Parser::ipv4(addr)?;
    let Some(end) = end else {
        return Some((first, first));
    };
    let end: u8 = end.parse().ok()?;
    let [a, b, c, d] = first.octets();
    (end >= d).then(|| (first, Ipv4Addr::new(a, b, c, end)))
}

fn fwmark(p: &mut Parser, word: &str) -> Option<u32> {
    let mark = word.parse::<u32>().ok();
    if mark.is_none() {
        p.report(format!(
            "virtual server fwmark '{word}' must be in [0, {}] - ignoring",
            u32::MAX
        ));
    }
    mark
}

// ----- virtual_server -----

pub(super) fn open_server(p: &mut Parser, words: &[String]) {
    let Some(key) = service_key(p, words) else {
        return p.skip_block();
    };
    let server = VirtualServer {
        key,
        line: p.line(),
        delay_loop_us: DEFAULT_DELAY_LOOP_US,
        scheduler: String::new(),
        sched_flags: Vec::new(),
        ops: false,
        method: Method::Nat,
        persistence_timeout: None,
        persistence_granularity: None,
        persistence_engine: None,
        protocol: Protocol::Udp,
        ha_suspend: false,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        sorry_server_method: None,
        sorry_server_inhibit: false,
        real_servers: Vec::new(),
    };
    p.draft.servers.push(ServerDraft {
        server,
        scheduler: None,
        method: None,
        protocol: None,
        timings: CheckTimings::default(),
        rs_weight: None,
        inhibit_on_failure: false,
        real_servers: Vec::new(),
    });
}

/// `IP [PORT]`, `fwmark N` or `group NAME`.
fn service_key(p: &mut Parser, words: &[String]) -> Option<ServiceKey> {
    let first = p.arg(words, 1)?;
    match first {
        "fwmark" => {
            let word = p.arg(words, 2)?;
            fwmark(p, word).map(ServiceKey::Fwmark)
        }
        "group" => p
            .arg(words, 2)
            .map(|name| ServiceKey::Group(name.to_string())),
        addr => {
            let port = match words.get(2) {
                Some(word) => p.port(word),
                None => Some(0),
            };
            match (Parser::ipv4(addr), port) {
                (Some(ip), Some(port)) => Some(ServiceKey::Addr(ip, port)),
                _ => {
                    let port_word = words.get(2).map(String::as_str).unwrap_or("0");
                    p.report(format!(
                        "Invalid virtual server IP address/port {addr}/{port_word} - skipping"
                    ));
                    None
                }
            }
        }
    }
}

pub(super) fn server(p: &mut Parser) -> &mut ServerDraft {
    p.draft
        .servers
        .last_mut()
        .expect("inside a virtual_server block")
}

pub(super) fn real(p: &mut Parser) -> &mut RealDraft {
    server(p)
        .real_servers
        .last_mut()
        .expect("inside a real_server block")
}

pub(super) static VIRTUAL_SERVER: Block = Block {
    keywords: &[
        &[
            Keyword::new("lb_algo", scheduler),
            Keyword::new("lvs_sched", scheduler),
            Keyword::new("lb_kind", |p, w| {
                if let Some(method) = method(p, w, "virtual") {
                    server(p).method = Some(method);
                }
            }),
            Keyword::new("lvs_method", |p, w| {
                if let Some(method) = method(p, w, "virtual") {
                    server(p).method = Some(method);
                }
            }),
            Keyword::new("persistence_timeout", |p, w| {
                let timeout = match w.get(1) {
                    None => Some(DEFAULT_PERSISTENCE_S),
                    Some(word) => p.unsigned(word, 1, PERSISTENCE_MAX_S),
                };
                match timeout {
                    Some(t) => server(p).server.persistence_timeout = Some(t),
                    None => p.report("persistence_timeout invalid"),
                }
            }),
            Keyword::new("persistence_granularity", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                match Parser::ipv4(word) {
                    Some(mask) => server(p).server.persistence_granularity = Some(mask),
                    None => p.report(format!(
                        "Invalid IPv4 persistence_granularity specified - {word}"
                    )),
                }
            }),
            Keyword::new("persistence_engine", |p, w| {
                if let Some(engine) = p.arg(w, 1) {
                    server(p).server.persistence_engine = Some(engine.to_string());
                }
            }),
            Keyword::new("protocol", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                let protocol = match word {
                    "TCP" | "tcp" => Protocol::Tcp,
                    "UDP" | "udp" => Protocol::Udp,
                    "SCTP" | "sctp" => Protocol::Sctp,
                    other => {
                        return p.report(format!("Unknown protocol {other} - ignoring"));
                    }
                };
                server(p).protocol = Some(protocol);
            }),
            Keyword::new("ops", |p, _| server(p).server.ops = true),
            Keyword::new("sh-port", sched_flag),
            Keyword::new("sh-fallback", sched_flag),
            Keyword::new("mh-port", sched_flag),
            Keyword::new("mh-fallback", sched_flag),
            Keyword::new("flag-1", sched_flag),
            Keyword::new("flag-2", sched_flag),
            Keyword::new("flag-3", sched_flag),
            Keyword::new("ha_suspend", |p, _| server(p).server.ha_suspend = true),
            Keyword::new("alpha", |p, _| server(p).server.alpha = true),
            Keyword::new("omega", |p, _| server(p).server.omega = true),
            Keyword::new("quorum", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                let quorum = word.parse::<u32>().ok().filter(|&q| q >= 1);
                if quorum.is_none() {
                    p.report(format!(
                        "Quorum {word} must be in [1, {}]. Setting to 1.",
                        u32::MAX
                    ));
                }
                server(p).server.quorum = quorum.unwrap_or(1);
            }),
            Keyword::new("hysteresis", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                match word.parse::<u32>() {
                    Ok(h) => server(p).server.hysteresis = h,
                    Err(_) => p.report(format!(
                        "Hysteresis {word} must be in [0, {}] - ignoring",
                        u32::MAX
                    )),
                }
            }),
            Keyword::new("quorum_up", |p, w| server(p).server.quorum_up = command(w)),
            Keyword::new("quorum_down", |p, w| {
                server(p).server.quorum_down = command(w)
            }),
            Keyword::new("sorry_server", sorry_server),
            Keyword::new("sorry_server_inhibit", |p, _| {
                if server(p).server.sorry_server.is_some() {
                    server(p).server.sorry_server_inhibit = true;
                } else {
                    p.report("Ignoring sorry_server inhibit used before or without sorry_server");
                }
            }),
            Keyword::new("sorry_server_lvs_method", |p, w| {
                if let Some(method) = method(p, w, "sorry") {
                    server(p).server.sorry_server_method = Some(method);
                }
            }),
            Keyword::new("inhibit_on_failure", |p, w| {
                if let Some(on) = inhibit_flag(p, w) {
                    server(p).inhibit_on_failure = on;
                }
            }),
            Keyword::new("weight", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                match word
                    .parse::<u32>()
                    .ok()
                    .filter(|w| (1..=WEIGHT_MAX).contains(w))
                {
                    Some(weight) => server(p).rs_weight = Some(weight),
                    None => p.report(format!(
                        "Virtual server weight {word} is outside range 1-{WEIGHT_MAX}"
                    )),
                }
            }),
            Keyword::block("real_server", open_real, &REAL_SERVER),
            Keyword::ignored("ip_family"),
            Keyword::ignored("hashed"),
            Keyword::ignored("smtp_alert"),
            Keyword::ignored("virtualhost"),
        ],
        &checkers::SERVER_TIMINGS,
    ],
    close: None,
};

fn scheduler(p: &mut Parser, words: &[String]) {
    let Some(word) = p.arg(words, 1) else { return };
    if SCHEDULERS.contains(&word) {
        server(p).scheduler = Some(word.to_string());
    } else {
        p.report(format!("Invalid lvs_scheduler '{word}' - ignoring"));
    }
}

fn sched_flag(p: &mut Parser, words: &[String]) {
    let flag = words[0].clone();
    let flags = &mut server(p).server.sched_flags;
    if !flags.contains(&flag) {
        flags.push(flag);
    }
}

/// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`; `whose` is "virtual",
/// "real" or "sorry" as keepalived names the server in its messages.
pub(super) fn method(p: &mut Parser, words: &[String], whose: &str) -> Option<Method> {
    let kind = p.arg(words, 1)?;
    match kind {
        "NAT" => Some(Method::Nat),
        "DR" => Some(Method::Dr),
        "TUN" => tunnel(p, &words[2..], whose).map(Method::Tun),
        other => {
            p.report(format!(
                "PARSER : unknown [{other}] routing method for {whose} server."
            ));
            None
        }
    }
}

fn tunnel(p: &mut Parser, options: &[String], whose: &str) -> Option<TunnelType> {
    let mut tunnel = TunnelType::Ipip;
    let mut words = options.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "type" => {
                let kind = words.next().map(String::as_str).unwrap_or("");
                tunnel = match kind {
                    "ipip" => TunnelType::Ipip,
                    "gre" => TunnelType::Gre { csum: false },
                    "gue" => TunnelType::Gue {
                        port: 0,
                        csum: false,
                    },
                    other => {
                        p.report(format!("Unknown tunnel type {other} for {whose} server."));
                        return None;
                    }
                };
            }
            "port" => {
                let word = words.next().map(String::as_str).unwrap_or("");
                match (&mut tunnel, word.parse::<u16>()) {
                    (TunnelType::Gue { port, .. }, Ok(n)) if n > 0 => *port = n,
                    _ => {
                        p.report(format!(
                            "Invalid gue tunnel port {word} for {whose} server."
                        ));
                        return None;
                    }
                }
            }
            "csum" | "remcsum" => match &mut tunnel {
                TunnelType::Gue { csum, .. } | TunnelType::Gre { csum } => *csum = true,
                TunnelType::Ipip => {}
            },
            "nocsum" => {}
            other => {
                p.report(format!("Invalid tunnel option {other} for {whose} server."));
                return None;
            }
        }
    }
    Some(tunnel)
}

fn inhibit_flag(p: &mut Parser, words: &[String]) -> Option<bool> {
    match words.get(1).map(String::as_str) {
        None | Some("true" | "on" | "yes") => Some(true),
        Some("false" | "off" | "no") => Some(false),
        Some(other) => {
            p.report(format!("Invalid inhibit_on_failure parameter {other}"));
            None
        }
    }
}

fn command(words: &[String]) -> Option<String> {
    (words.len() > 1).then(|| words[1..].join(" "))
}

fn sorry_server(p: &mut Parser, words: &[String]) {
    let Some(addr) = p.arg(words, 1) else { return };
    let port = match words.get(2) {
        Some(word) => word.parse::<u16>().ok(),
        None => Some(0),
    };
    match (Parser::ipv4(addr), port) {
        (Some(ip), Some(port)) => server(p).server.sorry_server = Some((ip, port)),
        _ => p.report(format!("Invalid sorry server IP address {addr} - skipping")),
    }
}

// ----- real_server -----

fn open_real(p: &mut Parser, words: &[String]) {
    let Some(addr) = p.arg(words, 1) else {
        return p.skip_block();
    };
    let port = match words.get(2) {
        Some(word) => p.port(word).map(Some),
        None => Some(None),
    };
    let (Some(ip), Some(port)) = (Parser::ipv4(addr), port) else {
        let port_word = words.get(2).map(String::as_str).unwrap_or("");
        p.report(format!(
            "Invalid real server ip address/port {addr}/{port_word} - skipping"
        ));
        return p.skip_block();
    };
    let real = RealServer::new(ip, 0, p.line(), Method::Nat);
    server(p).real_servers.push(RealDraft {
        real,
        port,
        method: None,
        weight: None,
        inhibit_on_failure: None,
        timings: CheckTimings::default(),
        checkers: Vec::new(),
    });
}

static REAL_SERVER: Block = Block {
    keywords: &[
        &[
            Keyword::new("weight", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                match p.unsigned(word, 0, WEIGHT_MAX) {
                    Some(weight) => real(p).weight = Some(weight),
                    None => p.report(format!(
                        "Real server weight {word} is outside range 0-{WEIGHT_MAX}"
                    )),
                }
            }),
            Keyword::new("lb_kind", real_method),
            Keyword::new("lvs_method", real_method),
            Keyword::new("inhibit_on_failure", |p, w| {
                if let Some(on) = inhibit_flag(p, w) {
                    real(p).inhibit_on_failure = Some(on);
                }
            }),
            Keyword::new("notify_up", |p, w| real(p).real.notify_up = command(w)),
            Keyword::new("notify_down", |p, w| real(p).real.notify_down = command(w)),
            Keyword::new("uthreshold", |p, w| threshold(p, w, "uthreshold")),
            Keyword::new("lthreshold", |p, w| threshold(p, w, "lthreshold")),
            Keyword::new("alpha", |p, _| real(p).real.alpha = true),
            Keyword::block("TCP_CHECK", checkers::open_tcp, &checkers::TCP_CHECK),
            Keyword::block("HTTP_GET", checkers::open_http, &checkers::HTTP_GET),
            Keyword::block("SSL_GET", checkers::open_ssl, &checkers::HTTP_GET),
            Keyword::block("MISC_CHECK", checkers::open_misc, &checkers::MISC_CHECK),
            Keyword::ignored("smtp_alert"),
            Keyword::ignored("virtualhost"),
        ],
        &checkers::REAL_TIMINGS,
    ],
    close: None,
};

fn real_method(p: &mut Parser, words: &[String]) {
    if let Some(method) = method(p, words, "real") {
        real(p).method = Some(method);
    }
}

fn threshold(p: &mut Parser, words: &[String], which: &str) {
    let Some(word) = p.arg(words, 1) else { return };
    let Ok(value) = word.parse::<u32>() else {
        return p.report(format!("Invalid real_server {which} '{word}' - ignoring"));
    };
    let real = &mut real(p).real;
    if which == "uthreshold" {
        real.upper_threshold = value;
    } else {
        real.lower_threshold = value;
    }
}

// ----- after the whole file (check_data.c validate_check_config) -----

pub(super) fn finish(p: &mut Parser, draft: &mut Draft, config: &mut Config) {
    config.server_groups = std::mem::take(&mut draft.server_groups);
    for server in std::mem::take(&mut draft.servers) {
        if let Some(done) = finish_server(p, server, &config.server_groups) {
            config.virtual_servers.push(done);
        }
    }
    let uses_scripts = config.virtual_servers.iter().any(|vs| {
        vs.quorum_up.is_some()
            || vs.quorum_down.is_some()
            || vs.real_servers.iter().any(|rs| {
                rs.notify_up.is_some()
                    || rs.notify_down.is_some()
                    || rs
                        .checkers
                        .iter()
                        .any(|c| matches!(c.kind, super::model::CheckKind::Misc { .. }))
            })
    });
    if uses_scripts && !draft.script_security {
        p.report_file(
            "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.",
        );
    }
}

/// How keepalived names a service in its messages: `[IP]:tcp:PORT`, `FWM N`, `[GROUP]:0`.
fn service_name(key: &ServiceKey, protocol: Option<Protocol>) -> String {
    match key {
        ServiceKey::Addr(ip, port) => format!("[{ip}]:{}:{port}", protocol_name(protocol)),
        ServiceKey::Fwmark(mark) => format!("FWM {mark}"),
        ServiceKey::Group(name) => format!("[{name}]:0"),
    }
}

fn protocol_name(protocol: Option<Protocol>) -> &'static str {
    match protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "none",
    }
}

fn finish_server(
    p: &mut Parser,
    draft: ServerDraft,
    groups: &[VirtualServerGroup],
) -> Option<VirtualServer> {
    let is_fwmark = matches!(draft.server.key, ServiceKey::Fwmark(_));
    let mut protocol = draft.protocol;
    if protocol.is_none() && !is_fwmark {
        let name = service_name(&draft.server.key, None);
        p.report_file(format!(
            "Virtual server {name}: no protocol set - defaulting to UDP"
        ));
        protocol = Some(Protocol::Udp);
    }
    let name = service_name(&draft.server.key, protocol);
    let mut vs = draft.server;
    vs.protocol = protocol.unwrap_or(Protocol::Tcp);
    if vs.ops && vs.protocol != Protocol::Udp {
        p.report_file(format!(
            "Virtual server {name}: one packet scheduling requires UDP - resetting"
        ));
        vs.ops = false;
    }
    vs.scheduler = draft.scheduler.unwrap_or_else(|| {
        p.report_file(format!(
            "Virtual server {name}: no scheduler set, setting default 'wlc'"
        ));
        "wlc".to_string()
    });
    vs.method = draft.method.unwrap_or_else(|| {
        p.report_file(format!(
            "Virtual server {name}: no forwarding method set, setting default NAT"
        ));
        Method::Nat
    });
    if matches!(vs.key, ServiceKey::Addr(_, 0)) && vs.persistence_timeout.is_none() {
        p.report_file(format!(
            "Virtual server {name}: zero port only valid for persistent services - setting"
        ));
        vs.persistence_timeout = Some(DEFAULT_PERSISTENCE_S);
    }
    if vs.persistence_granularity.is_some() && vs.persistence_timeout.is_none() {
        vs.persistence_timeout = Some(DEFAULT_PERSISTENCE_S);
    }
    vs.delay_loop_us = draft.timings.delay_loop_us.unwrap_or(DEFAULT_DELAY_LOOP_US);
    if draft.real_servers.is_empty() {
        p.report_file(format!(
            "Virtual server {name} has no real servers - ignoring"
        ));
        return None;
    }
    let defaults = RealDefaults {
        weight: draft.rs_weight.unwrap_or(1),
        inhibit_on_failure: draft.inhibit_on_failure,
        timings: CheckTimings {
            delay_loop_us: Some(vs.delay_loop_us),
            ..draft.timings
        },
    };
    let reals = unique_reals(p, &vs, &name, draft.real_servers, &defaults);
    check_quorum(p, &mut vs, &name, &reals);
    let service = Service {
        fwmark_group: has_fwmark_members(&vs.key, groups),
        vs: &vs,
        name: &name,
    };
    let reals = reals
        .into_iter()
        .map(|real| service.finish_real(p, real, &defaults))
        .collect();
    vs.real_servers = reals;
    Some(vs)
}

struct RealDefaults {
    weight: u32,
    inhibit_on_failure: bool,
    timings: CheckTimings,
}

fn real_name(real: &RealServer, protocol: Protocol, fwmark: bool) -> String {
    let protocol = if fwmark { None } else { Some(protocol) };
    format!("[{}]:{}:{}", real.addr, protocol_name(protocol), real.port)
}

/// A real server with weight, method and port as written (the VS port when none), and what
/// its checkers still need.
type RealWithCheckers = (RealServer, CheckTimings, Vec<CheckerDraft>);

/// The real servers with their settings resolved, the second of two with the same address
/// and port removed.
fn unique_reals(
    p: &mut Parser,
    vs: &VirtualServer,
    vs_name: &str,
    drafts: Vec<RealDraft>,
    defaults: &RealDefaults,
) -> Vec<RealWithCheckers> {
    let is_fwmark = matches!(vs.key, ServiceKey::Fwmark(_));
    let vs_port = match vs.key {
        ServiceKey::Addr(_, port) => port,
        _ => 0,
    };
    let mut reals: Vec<RealWithCheckers> = Vec::new();
    for draft in drafts {
        let mut real = draft.real;
        real.weight = draft.weight.unwrap_or(defaults.weight);
        real.method = draft.method.unwrap_or(vs.method);
        real.inhibit_on_failure = draft
            .inhibit_on_failure
            .unwrap_or(defaults.inhibit_on_failure);
        real.port = draft.port.unwrap_or(vs_port);
        if reals
            .iter()
            .any(|(r, ..)| r.addr == real.addr && r.port == real.port)
        {
            p.report_file(format!(
                "VS {vs_name}: real server {} is duplicated - removing second rs",
                real_name(&real, vs.protocol, is_fwmark)
            ));
            continue;
        }
        reals.push((real, draft.timings, draft.checkers));
    }
    reals
}

fn has_fwmark_members(key: &ServiceKey, groups: &[VirtualServerGroup]) -> bool {
    let ServiceKey::Group(name) = key else {
        return false;
    };
    groups.iter().filter(|g| &g.name == name).any(|g| {
        g.members
            .iter()
            .any(|m| matches!(m, GroupMember::Fwmark(_)))
    })
}

/// A virtual server being finished, as its real servers see it.
struct Service<'a> {
    vs: &'a VirtualServer,
    name: &'a str,
    /// `virtual_server group G` where G has `fwmark` entries.
    fwmark_group: bool,
}

impl Service<'_> {
    /// The port fixed for the forwarding method, then the checkers with their timings.
    fn finish_real(
        &self,
        p: &mut Parser,
        (mut real, timings, checkers): RealWithCheckers,
        defaults: &RealDefaults,
    ) -> RealServer {
        real.port = self.real_port(p, &real);
        let timings = timings.or(&defaults.timings);
        real.checkers = checkers
            .into_iter()
            .map(|checker| checker.finish(&real, &timings))
            .collect();
        real
    }

    /// DR/TUN cannot change the port: a different one is reset to the VS port; fwmark
    /// services forward to port 0.
    fn real_port(&self, p: &mut Parser, real: &RealServer) -> u16 {
        let (vs, vs_name) = (self.vs, self.name);
        if real.method == Method::Nat || real.port == 0 {
            return real.port;
        }
        match vs.key {
            ServiceKey::Fwmark(_) => {
                p.report_file(format!(
                    "WARNING - fwmark virtual server {vs_name}, real server {} has port specified - clearing",
                    real_name(real, vs.protocol, true)
                ));
                0
            }
            ServiceKey::Addr(_, vs_port) if real.port != vs_port => {
                p.report_file(format!(
                    "WARNING - virtual server {vs_name} and real server {} ports don't match - resetting",
                    real_name(real, vs.protocol, false)
                ));
                vs_port
            }
            ServiceKey::Group(_) if self.fwmark_group => {
                p.report_file(format!(
                    "WARNING - fwmark virtual server {vs_name}, real server {} has port specified - port will be ignored",
                    real_name(real, vs.protocol, false)
                ));
                real.port
            }
            _ => real.port,
        }
    }
}

/// quorum ≤ Σ weights, hysteresis < quorum (check_data.c).
fn check_quorum(p: &mut Parser, vs: &mut VirtualServer, name: &str, reals: &[RealWithCheckers]) {
    let total = reals
        .iter()
        .fold(0u32, |sum, (rs, ..)| sum.saturating_add(rs.weight));
    if vs.quorum > total {
        p.report_file(format!(
            "Warning - quorum {} for {name} exceeds total weight of real servers {total}, reducing quorum to {}",
            vs.quorum,
            total.max(1)
        ));
        vs.quorum = total.max(1);
    }
    if vs.hysteresis >= vs.quorum {
        let clipped = vs.quorum - 1;
        p.report_file(format!(
            "Virtual server {name}: hysteresis {} >= quorum {}; setting hysteresis to {clipped}",
            vs.hysteresis, vs.quorum
        ));
        vs.hysteresis = clipped;
    }
}
