//! `[[expect]]` blocks: what a lab asserts about the run, checked at the end or at a given
//! time (after every event due at or before it), with the observed value for the report.

use std::net::Ipv4Addr;

use serde_json::{Value as Json, json};
use toml::de::DeValue;

use super::load::{Loader, Value, host_index};
use super::source::Diagnostic;
use crate::lvs::ipvsadm::{Command as IpvsadmCommand, ListOptions};
use crate::sim::SimTime;
use crate::sim::world::World;
use crate::stack::neigh::NudState;
use crate::wire::MacAddr;

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Neigh {
        ip: Ipv4Addr,
        mac: Option<MacAddr>,
        state: Option<NudState>,
        absent: bool,
    },
    RepliesFrom {
        ip: Ipv4Addr,
        min: u64,
        max: Option<u64>,
    },
    App {
        cmd: String,
        ok: Option<u64>,
        failed: Option<u64>,
    },
    Warning {
        kind: String,
        present: bool,
    },
    /// Requests a host served, over the programs of `host` (if given) that ran `cmd` (if
    /// given).
    Served {
        by: String,
        cmd: Option<String>,
        min: u64,
        max: Option<u64>,
    },
    /// The set of hosts that sent an ARP reply claiming `ip`.
    ArpRepliers {
        ip: Ipv4Addr,
        hosts: Vec<usize>,
    },
    /// The host sent who-has `target` with this sender address.
    ArpRequest {
        target: Ipv4Addr,
        sender: Ipv4Addr,
    },
    /// What an `ipvsadm` listing prints on the host (compared line by line without trailing
    /// blanks, which editors strip).
    Ipvsadm {
        args: String,
        options: ListOptions,
        output: String,
    },
    /// A keepalived VRRP instance's state (and effective priority) on the host.
    Vrrp {
        instance: String,
        state: String,
        priority: Option<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub index: usize,
    pub time: Option<SimTime>,
    pub host: Option<usize>,
    pub check: Check,
    pub text: String,
}

/// The result of checking one expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub index: usize,
    pub time_ns: u64,
    pub text: String,
    pub passed: bool,
    pub detail: String,
    pub got: Json,
}

const KEYS: [&str; 12] = [
    "time",
    "host",
    "neigh",
    "replies_from",
    "app",
    "warning",
    "no_warning",
    "served",
    "arp_repliers",
    "arp_request",
    "ipvsadm",
    "vrrp",
];
const CHECKS: &str = "neigh, replies_from, app, warning, no_warning, served, arp_repliers, arp_request, ipvsadm, vrrp";
const VRRP_STATES: [&str; 5] = ["INIT", "BACKUP", "MASTER", "FAULT", "STOP"];

pub fn parse(
    loader: &Loader,
    value: &Value,
    index: usize,
    hosts: &[&str],
) -> Result<Expectation, Diagnostic> {
    let table = loader.table(value, "[[expect]]")?;
    loader.check_keys(table, &KEYS, "[[expect]]")?;
    let time = loader
        .get(table, "time")
        .map(|v| loader.duration(v, "time").map(SimTime))
        .transpose()?;
    let host = loader
        .get(table, "host")
        .map(|v| host_index(loader, v, hosts))
        .transpose()?;
    let checks: Vec<_> = table
        .iter()
        .filter(|(k, _)| !matches!(k.get_ref().as_ref(), "time" | "host"))
        .collect();
    let [(key, check_value)] = checks.as_slice() else {
        return Err(loader
            .error(value.span(), "an [[expect]] needs exactly one check")
            .with_help(format!("checks: {CHECKS}")));
    };
    let name = key.get_ref().to_string();
    let needs_host =
        |what: &str| host.ok_or_else(|| loader.error(key.span(), format!("`{what}` needs `host`")));
    let check = match name.as_str() {
        "neigh" => {
            needs_host("neigh")?;
            parse_neigh(loader, check_value)?
        }
        "replies_from" => {
            needs_host("replies_from")?;
            parse_replies_from(loader, check_value)?
        }
        "app" => parse_app(loader, check_value)?,
        "warning" | "no_warning" => Check::Warning {
            kind: loader.string(check_value, &name)?,
            present: name == "warning",
        },
        "served" => parse_served(loader, check_value)?,
        "arp_repliers" => parse_arp_repliers(loader, check_value, hosts)?,
        "arp_request" => {
            needs_host("arp_request")?;
            let t = loader.table(check_value, "arp_request")?;
            loader.check_keys(t, &["target", "sender"], "arp_request")?;
            Check::ArpRequest {
                target: loader.ipv4(
                    loader.require(t, "target", check_value.span(), "arp_request")?,
                    "target",
                )?,
                sender: loader.ipv4(
                    loader.require(t, "sender", check_value.span(), "arp_request")?,
                    "sender",
                )?,
            }
        }
        "ipvsadm" => {
            needs_host("ipvsadm")?;
            parse_ipvsadm(loader, check_value)?
        }
        "vrrp" => {
            needs_host("vrrp")?;
            parse_vrrp(loader, check_value)?
        }
        other => {
            return Err(loader
                .error(key.span(), format!("unknown check `{other}`"))
                .with_help(format!("checks: {CHECKS}")));
        }
    };
    let text = describe(&check, host.map(|h| hosts[h]), time, hosts);
    Ok(Expectation {
        index,
        time,
        host,
        check,
        text,
    })
}

/// `ipvsadm = "..."` (the text of `ipvsadm -L -n`) or `ipvsadm = { args = "-L -n --stats",
/// output = "..." }` for any listing form.
fn parse_ipvsadm(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    let (args, output, args_span) = match value.get_ref() {
        DeValue::String(_) => (
            "-L -n".to_owned(),
            loader.string(value, "ipvsadm")?,
            value.span(),
        ),
        _ => {
            let t = loader.table(value, "ipvsadm")?;
            loader.check_keys(t, &["args", "output"], "ipvsadm")?;
            let args_value = loader.require(t, "args", value.span(), "ipvsadm")?;
            let output = loader.require(t, "output", value.span(), "ipvsadm")?;
            (
                loader.string(args_value, "args")?,
                loader.string(output, "output")?,
                args_value.span(),
            )
        }
    };
    let mut argv = vec!["ipvsadm"];
    argv.extend(args.split_whitespace());
    let options = match crate::lvs::ipvsadm::parse(&argv) {
        Ok(IpvsadmCommand::List(options)) => options,
        Ok(_) => {
            return Err(loader
                .error(args_span, "an ipvsadm expectation compares a listing")
                .with_help("args: -L/-l with its options, e.g. \"-L -n --stats\""));
        }
        Err(e) => {
            return Err(loader.error(args_span, format!("ipvsadm: {}", e.message)));
        }
    };
    Ok(Check::Ipvsadm {
        args,
        options,
        output,
    })
}

/// Text compared line by line without trailing blanks, and without blank lines at either end.
fn listing_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |e| e + 1);
    lines[start..end].to_vec()
}

/// `vrrp = { instance = "VI_1", state = "MASTER", priority = 150 }`.
fn parse_vrrp(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    let t = loader.table(value, "vrrp")?;
    loader.check_keys(t, &["instance", "state", "priority"], "vrrp")?;
    let instance = loader.string(
        loader.require(t, "instance", value.span(), "vrrp")?,
        "instance",
    )?;
    let state_value = loader.require(t, "state", value.span(), "vrrp")?;
    let state = loader.string(state_value, "state")?;
    if !VRRP_STATES.contains(&state.as_str()) {
        return Err(loader
            .error(state_value.span(), format!("unknown VRRP state `{state}`"))
            .with_help(format!("accepted: {}", VRRP_STATES.join(", "))));
    }
    let priority = match loader.get(t, "priority") {
        Some(v) => {
            let p = loader.integer(v, "priority")?;
            Some(u8::try_from(p).map_err(|_| loader.error(v.span(), "priority is 0..255"))?)
        }
        None => None,
    };
    Ok(Check::Vrrp {
        instance,
        state,
        priority,
    })
}

fn parse_neigh(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    let t = loader.table(value, "neigh")?;
    loader.check_keys(t, &["ip", "mac", "state", "absent"], "neigh")?;
    let ip = loader.ipv4(loader.require(t, "ip", value.span(), "neigh")?, "ip")?;
    let mac = match loader.get(t, "mac") {
        Some(v) => Some(
            loader
                .string(v, "mac")?
                .parse()
                .map_err(|m: String| loader.error(v.span(), m))?,
        ),
        None => None,
    };
    let state = match loader.get(t, "state") {
        Some(v) => {
            let text = loader.string(v, "state")?;
            Some(NudState::parse(&text).ok_or_else(|| loader.error(v.span(), format!("unknown state `{text}`")).with_help("accepted: REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP"))?)
        }
        None => None,
    };
    let absent = loader
        .get(t, "absent")
        .map(|v| loader.boolean(v, "absent"))
        .transpose()?
        .unwrap_or(false);
    Ok(Check::Neigh {
        ip,
        mac,
        state,
        absent,
    })
}

fn bounds(
    loader: &Loader,
    t: &toml::de::DeTable,
    default_min: u64,
) -> Result<(u64, Option<u64>), Diagnostic> {
    let get = |k: &str| -> Result<Option<u64>, Diagnostic> {
        loader
            .get(t, k)
            .map(|v| {
                loader.integer(v, k).and_then(|n| {
                    u64::try_from(n)
                        .map_err(|_| loader.error(v.span(), format!("{k} must not be negative")))
                })
            })
            .transpose()
    };
    Ok((get("min")?.unwrap_or(default_min), get("max")?))
}

fn parse_replies_from(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    if let DeValue::String(_) = value.get_ref() {
        return Ok(Check::RepliesFrom {
            ip: loader.ipv4(value, "replies_from")?,
            min: 1,
            max: None,
        });
    }
    let t = loader.table(value, "replies_from")?;
    loader.check_keys(t, &["ip", "min", "max"], "replies_from")?;
    let ip = loader.ipv4(loader.require(t, "ip", value.span(), "replies_from")?, "ip")?;
    let (min, max) = bounds(loader, t, 1)?;
    Ok(Check::RepliesFrom { ip, min, max })
}

fn parse_app(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    let t = loader.table(value, "app")?;
    loader.check_keys(t, &["cmd", "ok", "failed"], "app")?;
    let cmd = loader.string(loader.require(t, "cmd", value.span(), "app")?, "cmd")?;
    let count = |k: &str| -> Result<Option<u64>, Diagnostic> {
        loader
            .get(t, k)
            .map(|v| loader.integer(v, k).map(|n| n.max(0) as u64))
            .transpose()
    };
    Ok(Check::App {
        cmd: normalise(&cmd),
        ok: count("ok")?,
        failed: count("failed")?,
    })
}

fn parse_served(loader: &Loader, value: &Value) -> Result<Check, Diagnostic> {
    let t = loader.table(value, "served")?;
    loader.check_keys(t, &["by", "cmd", "min", "max"], "served")?;
    let by = loader.string(loader.require(t, "by", value.span(), "served")?, "by")?;
    let cmd = loader
        .get(t, "cmd")
        .map(|v| loader.string(v, "cmd").map(|c| normalise(&c)))
        .transpose()?;
    let (min, max) = bounds(loader, t, 1)?;
    Ok(Check::Served { by, cmd, min, max })
}

fn parse_arp_repliers(loader: &Loader, value: &Value, hosts: &[&str]) -> Result<Check, Diagnostic> {
    let t = loader.table(value, "arp_repliers")?;
    loader.check_keys(t, &["ip", "hosts"], "arp_repliers")?;
    let ip = loader.ipv4(loader.require(t, "ip", value.span(), "arp_repliers")?, "ip")?;
    let list = loader.require(t, "hosts", value.span(), "arp_repliers")?;
    let mut ids: Vec<usize> = loader
        .array(list, "hosts")?
        .iter()
        .map(|h| host_index(loader, h, hosts))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(Check::ArpRepliers { ip, hosts: ids })
}

/// Command lines compare with runs of blanks folded.
fn normalise(cmd: &str) -> String {
    cmd.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn range_text(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) if m == min => format!("exactly {min}"),
        Some(m) => format!("{min}..{m}"),
        None => format!("at least {min}"),
    }
}

fn describe(check: &Check, host: Option<&str>, time: Option<SimTime>, hosts: &[&str]) -> String {
    let who = host.map(|h| format!("{h}: ")).unwrap_or_default();
    let body = match check {
        Check::Neigh {
            ip, absent: true, ..
        } => format!("neigh {ip} absent"),
        Check::Neigh { ip, mac, state, .. } => {
            let mut s = format!("neigh {ip}");
            if let Some(m) = mac {
                s.push_str(&format!(" mac={m}"));
            }
            if let Some(st) = state {
                s.push_str(&format!(" state={st}"));
            }
            s
        }
        Check::RepliesFrom { ip, min, max } => {
            format!("replies from {ip}: {}", range_text(*min, *max))
        }
        Check::App { cmd, ok, failed } => {
            let mut s = format!("app `{cmd}`");
            if let Some(o) = ok {
                s.push_str(&format!(" ok={o}"));
            }
            if let Some(f) = failed {
                s.push_str(&format!(" failed={f}"));
            }
            s
        }
        Check::Warning {
            kind,
            present: true,
        } => format!("warning {kind}"),
        Check::Warning {
            kind,
            present: false,
        } => format!("no warning {kind}"),
        Check::Served { by, cmd, min, max } => {
            let of = cmd
                .as_ref()
                .map(|c| format!(" for `{c}`"))
                .unwrap_or_default();
            format!("served by {by}{of}: {}", range_text(*min, *max))
        }
        Check::ArpRepliers { ip, hosts: ids } => {
            let names: Vec<&str> = ids.iter().map(|&i| hosts[i]).collect();
            format!("ARP replies for {ip} from [{}]", names.join(", "))
        }
        Check::ArpRequest { target, sender } => {
            format!("who-has {target} sent with sender {sender}")
        }
        Check::Ipvsadm { args, .. } => format!("ipvsadm {args} prints the expected listing"),
        Check::Vrrp {
            instance,
            state,
            priority,
        } => {
            let p = priority
                .map(|p| format!(" priority {p}"))
                .unwrap_or_default();
            format!("VRRP {instance} is {state}{p}")
        }
    };
    let at = time
        .map(|t| format!(" at {}", crate::sim::time::human_duration(t.ns())))
        .unwrap_or_default();
    format!("{who}{body}{at}")
}

fn within(n: u64, min: u64, max: Option<u64>) -> bool {
    n >= min && max.is_none_or(|m| n <= m)
}

/// Checks `exp` against the world as it is at `at`.
pub fn evaluate(exp: &Expectation, world: &World, at: SimTime) -> Outcome {
    let (passed, got, detail) = match &exp.check {
        Check::Neigh {
            ip,
            mac,
            state,
            absent,
        } => {
            let host = &world.hosts[exp.host.expect("checked at load")];
            let mut entries: Vec<_> = host.neigh.iter().filter(|((_, i), _)| i == ip).collect();
            entries.sort_by_key(|((d, _), _)| *d);
            match entries.first() {
                None => (
                    *absent,
                    Json::Null,
                    format!("{} has no entry for {ip}", host.name),
                ),
                Some(((_, _), e)) => {
                    let shown_mac = e.mac.filter(|_| e.state.is_valid());
                    let got =
                        json!({ "mac": shown_mac.map(|m| m.to_string()), "state": e.state.name() });
                    let ok = !absent
                        && mac.is_none_or(|m| shown_mac == Some(m))
                        && state.is_none_or(|s| s == e.state);
                    let detail = format!(
                        "{} has {ip} {} {}",
                        host.name,
                        shown_mac.map_or("(no address)".to_owned(), |m| m.to_string()),
                        e.state
                    );
                    (ok, got, detail)
                }
            }
        }
        Check::RepliesFrom { ip, min, max } => {
            let host = &world.hosts[exp.host.expect("checked at load")];
            let n = host.replies_from.get(ip).copied().unwrap_or(0);
            (
                within(n, *min, *max),
                json!(n),
                format!("{} received {n} replies from {ip}", host.name),
            )
        }
        Check::App { cmd, ok, failed } => {
            let host_name = exp.host.map(|h| world.hosts[h].name.as_str());
            let apps: Vec<_> = world
                .trace
                .apps
                .iter()
                .filter(|a| normalise(&a.cmd) == *cmd && host_name.is_none_or(|h| a.host == h))
                .collect();
            if apps.is_empty() {
                (false, Json::Null, format!("no command `{cmd}` ran"))
            } else {
                let total_ok: u64 = apps.iter().map(|a| a.ok).sum();
                let total_failed: u64 = apps.iter().map(|a| a.failed).sum();
                let passed =
                    ok.is_none_or(|o| o == total_ok) && failed.is_none_or(|f| f == total_failed);
                (
                    passed,
                    json!({ "ok": total_ok, "failed": total_failed }),
                    format!("ok={total_ok} failed={total_failed}"),
                )
            }
        }
        Check::Warning { kind, present } => {
            let host_name = exp.host.map(|h| world.hosts[h].name.as_str());
            let found: Vec<_> = world
                .trace
                .warnings
                .iter()
                .filter(|w| w.t <= at && w.kind == *kind && host_name.is_none_or(|h| w.host == h))
                .collect();
            let detail = found
                .first()
                .map_or(format!("no {kind} warning"), |w| w.detail.clone());
            (found.is_empty() != *present, json!(found.len()), detail)
        }
        Check::Served { by, cmd, min, max } => {
            let host_name = exp.host.map(|h| world.hosts[h].name.as_str());
            let n: u64 = world
                .trace
                .apps
                .iter()
                .filter(|a| host_name.is_none_or(|h| a.host == h))
                .filter(|a| cmd.as_ref().is_none_or(|c| normalise(&a.cmd) == *c))
                .filter_map(|a| a.served_by.get(by))
                .sum();
            (
                within(n, *min, *max),
                json!(n),
                format!("{by} served {n} requests"),
            )
        }
        Check::ArpRepliers { ip, hosts } => {
            let mut repliers = world.trace.arp_repliers(*ip, at);
            let names: Vec<String> = repliers
                .iter()
                .map(|&h| world.hosts[h].name.clone())
                .collect();
            repliers.sort_unstable();
            (
                repliers == *hosts,
                json!(names),
                format!("ARP replies for {ip} came from [{}]", names.join(", ")),
            )
        }
        Check::ArpRequest { target, sender } => {
            let host = exp.host.expect("checked at load");
            let senders: Vec<String> = world
                .trace
                .arp_sent
                .iter()
                .filter(|s| {
                    s.host == host && s.t <= at && s.arp.is_request() && s.arp.tpa == *target
                })
                .map(|s| s.arp.spa.to_string())
                .collect();
            let passed = senders.iter().any(|s| *s == sender.to_string());
            let detail = if senders.is_empty() {
                format!("no who-has {target} was sent")
            } else {
                format!("who-has {target} sent with sender {}", senders.join(", "))
            };
            (passed, json!(senders), detail)
        }
        Check::Ipvsadm {
            options, output, ..
        } => {
            let host = &world.hosts[exp.host.expect("checked at load")];
            let printed = crate::lvs::ipvsadm::list(options, &host.ipvs.snapshot(at.ns()))
                .unwrap_or_else(|e| format!("{}\n", e.message));
            let got = listing_lines(&printed);
            let want = listing_lines(output);
            let detail = match got.iter().zip(&want).position(|(g, w)| g != w) {
                Some(i) => format!("line {}: got `{}`, expected `{}`", i + 1, got[i], want[i]),
                None if got.len() != want.len() => {
                    format!("got {} lines, expected {}", got.len(), want.len())
                }
                None => "the listing matches".to_owned(),
            };
            (got == want, json!(printed), detail)
        }
        Check::Vrrp {
            instance,
            state,
            priority,
        } => {
            let host = &world.hosts[exp.host.expect("checked at load")];
            match host.keepalived.records.get(instance) {
                None => (
                    false,
                    Json::Null,
                    format!("{} never ran a VRRP instance {instance}", host.name),
                ),
                Some(r) => {
                    let passed =
                        r.state.name() == state && priority.is_none_or(|p| p == r.priority);
                    let got = json!({ "state": r.state.name(), "priority": r.priority });
                    let detail = format!(
                        "{instance} is {} with priority {}",
                        r.state.name(),
                        r.priority
                    );
                    (passed, got, detail)
                }
            }
        }
    };
    Outcome {
        index: exp.index,
        time_ns: at.ns(),
        text: exp.text.clone(),
        passed,
        detail,
        got,
    }
}
