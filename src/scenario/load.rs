//! Loading a scenario file: TOML with spans, checked key by key so that every mistake is
//! reported at its position with what is accepted.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::commands::{self, ScriptCommand};
use super::expect;
use super::shell::parse_script;
use super::source::{Diagnostic, MappedText, Source, Span};
use super::{AtAction, AtSpec, HostSpec, KeepalivedText, LanSpec, NicSpec, Scenario};
use crate::sim::SimTime;
use crate::sim::time::parse_duration;
use crate::stack::lan::LanKind;
use crate::wire::MacAddr;

/// Default per-hop latency and bandwidth of a LAN.
pub const DEFAULT_LATENCY: u64 = 5_000;
pub const DEFAULT_BANDWIDTH: u64 = 1_000_000_000;

/// Typed access to spanned TOML values with positioned errors.
pub struct Loader<'a> {
    pub source: &'a Source,
}

pub type Value<'i> = Spanned<DeValue<'i>>;

impl<'a> Loader<'a> {
    pub fn error(&self, range: Range<usize>, message: impl Into<String>) -> Diagnostic {
        self.source
            .error(Span::new(range.start, range.end), message)
    }

    pub fn table<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        what: &str,
    ) -> Result<&'v DeTable<'i>, Diagnostic> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.error(
                value.span(),
                format!("{what} must be a table, not a {}", other.type_str()),
            )),
        }
    }

    pub fn string(&self, value: &Value, what: &str) -> Result<String, Diagnostic> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(self.error(
                value.span(),
                format!("{what} must be a string, not a {}", other.type_str()),
            )),
        }
    }

    pub fn integer(&self, value: &Value, what: &str) -> Result<i64, Diagnostic> {
        match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map_err(|_| self.error(value.span(), format!("{what} is out of range"))),
            other => Err(self.error(
                value.span(),
                format!("{what} must be an integer, not a {}", other.type_str()),
            )),
        }
    }

    pub fn boolean(&self, value: &Value, what: &str) -> Result<bool, Diagnostic> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.error(
                value.span(),
                format!("{what} must be true or false, not a {}", other.type_str()),
            )),
        }
    }

    pub fn duration(&self, value: &Value, what: &str) -> Result<u64, Diagnostic> {
        let text = self.string(value, what)?;
        parse_duration(&text).map_err(|m| self.error(value.span(), format!("{what}: {m}")))
    }

    pub fn ipv4(&self, value: &Value, what: &str) -> Result<Ipv4Addr, Diagnostic> {
        let text = self.string(value, what)?;
        text.parse().map_err(|_| {
            self.error(
                value.span(),
                format!("{what}: `{text}` is not an IPv4 address"),
            )
        })
    }

    pub fn array<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        what: &str,
    ) -> Result<&'v [Value<'i>], Diagnostic> {
        match value.get_ref() {
            DeValue::Array(a) => Ok(a),
            other => Err(self.error(
                value.span(),
                format!("{what} must be an array, not a {}", other.type_str()),
            )),
        }
    }

    /// Rejects keys outside `allowed`.
    pub fn check_keys(
        &self,
        table: &DeTable,
        allowed: &[&str],
        context: &str,
    ) -> Result<(), Diagnostic> {
        for (key, _) in table.iter() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                return Err(self
                    .error(
                        key.span(),
                        format!("unknown key `{}` in {context}", key.get_ref()),
                    )
                    .with_help(format!("accepted: {}", allowed.join(", "))));
            }
        }
        Ok(())
    }

    pub fn get<'v, 'i>(&self, table: &'v DeTable<'i>, key: &str) -> Option<&'v Value<'i>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    pub fn require<'v, 'i>(
        &self,
        table: &'v DeTable<'i>,
        key: &str,
        at: Range<usize>,
        context: &str,
    ) -> Result<&'v Value<'i>, Diagnostic> {
        self.get(table, key)
            .ok_or_else(|| self.error(at, format!("{context} needs `{key}`")))
    }

    /// A string value with positions for each character, for scripts.
    pub fn script_text(&self, value: &Value, what: &str) -> Result<MappedText, Diagnostic> {
        let text = self.string(value, what)?;
        let range = value.span();
        Ok(MappedText::from_token(
            &self.source.text[range.clone()],
            range.start,
            &text,
        ))
    }

    /// Parses a shell script value into commands.
    pub fn script(&self, value: &Value, what: &str) -> Result<Vec<ScriptCommand>, Diagnostic> {
        let mapped = self.script_text(value, what)?;
        let mut vars = BTreeMap::new();
        parse_script(&mapped, self.source, &mut vars)?
            .into_iter()
            .map(|line| commands::parse(line, self.source))
            .collect()
    }
}

const TOP_KEYS: [&str; 8] = [
    "title", "about", "seed", "until", "lan", "host", "at", "expect",
];
const LAN_KEYS: [&str; 3] = ["latency", "bandwidth", "kind"];
const HOST_KEYS: [&str; 4] = ["nic", "setup", "nginx", "keepalived"];
const NIC_KEYS: [&str; 4] = ["lan", "mac", "latency", "addr"];
const AT_KEYS: [&str; 5] = ["time", "host", "run", "partition", "heal"];

/// Parses and checks a scenario. `name` is how errors name the file.
pub fn load(name: &str, text: &str) -> Result<Scenario, Diagnostic> {
    let source = Source::new(name, text);
    let loader = Loader { source: &source };
    let root = DeTable::parse(text).map_err(|e| {
        let range = e.span().unwrap_or(0..0);
        loader.error(range, format!("invalid TOML: {}", e.message().trim()))
    })?;
    let root = root.get_ref();
    loader.check_keys(root, &TOP_KEYS, "the scenario")?;
    let title = loader
        .get(root, "title")
        .map(|v| loader.string(v, "title"))
        .transpose()?
        .unwrap_or_default();
    let about = loader
        .get(root, "about")
        .map(|v| loader.string(v, "about"))
        .transpose()?
        .unwrap_or_default();
    let seed = match loader.get(root, "seed") {
        Some(v) => u64::try_from(loader.integer(v, "seed")?)
            .map_err(|_| loader.error(v.span(), "seed must not be negative"))?,
        None => 1,
    };
    let until = loader
        .get(root, "until")
        .map(|v| loader.duration(v, "until").map(SimTime))
        .transpose()?;
    let lans = load_lans(&loader, root)?;
    let hosts = load_hosts(&loader, root, &lans)?;
    let timeline = load_timeline(&loader, root, &lans, &hosts)?;
    let host_names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    let expects = match loader.get(root, "expect") {
        Some(v) => loader
            .array(v, "[[expect]]")?
            .iter()
            .enumerate()
            .map(|(i, e)| expect::parse(&loader, e, i, &host_names))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(Scenario {
        source: source.clone(),
        title,
        about,
        seed,
        until,
        lans,
        hosts,
        timeline,
        expects,
    })
}

fn load_lans(loader: &Loader, root: &DeTable) -> Result<Vec<LanSpec>, Diagnostic> {
    let Some(value) = loader.get(root, "lan") else {
        return Ok(Vec::new());
    };
    let mut lans = Vec::new();
    for (key, lan) in loader.table(value, "[lan]")?.iter() {
        let name = key.get_ref().to_string();
        check_name(loader, &name, key.span(), "LAN")?;
        let table = loader.table(lan, &format!("[lan.{name}]"))?;
        loader.check_keys(table, &LAN_KEYS, &format!("[lan.{name}]"))?;
        let latency = loader
            .get(table, "latency")
            .map(|v| loader.duration(v, "latency"))
            .transpose()?
            .unwrap_or(DEFAULT_LATENCY);
        let bandwidth = loader
            .get(table, "bandwidth")
            .map(|v| bandwidth(loader, v))
            .transpose()?
            .unwrap_or(DEFAULT_BANDWIDTH);
        let kind = match loader.get(table, "kind") {
            None => LanKind::Switch,
            Some(v) => match loader.string(v, "kind")?.as_str() {
                "switch" => LanKind::Switch,
                "hub" => LanKind::Hub,
                other => {
                    return Err(loader
                        .error(v.span(), format!("unknown LAN kind `{other}`"))
                        .with_help("accepted: switch, hub"));
                }
            },
        };
        lans.push(LanSpec {
            name,
            kind,
            latency,
            bandwidth: Some(bandwidth),
        });
    }
    Ok(lans)
}

/// `"1Gbit"`, `"100Mbit"`, `"10kbit"`, `"9600bit"`: bits per second.
fn bandwidth(loader: &Loader, value: &Value) -> Result<u64, Diagnostic> {
    let text = loader.string(value, "bandwidth")?;
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale = match unit {
        "Gbit" => 1_000_000_000,
        "Mbit" => 1_000_000,
        "kbit" | "Kbit" => 1_000,
        "bit" => 1,
        _ => {
            return Err(loader
                .error(value.span(), format!("bandwidth `{text}` has no unit"))
                .with_help("accepted units: bit, kbit, Mbit, Gbit (e.g. \"100Mbit\")"));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| {
            loader.error(
                value.span(),
                format!("bandwidth `{text}` is not a positive number of bits per second"),
            )
        })
}

fn check_name(
    loader: &Loader,
    name: &str,
    span: Range<usize>,
    what: &str,
) -> Result<(), Diagnostic> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(loader.error(
            span,
            format!("{what} name `{name}` may only use letters, digits, `-` and `_`"),
        ))
    }
}

fn load_hosts(
    loader: &Loader,
    root: &DeTable,
    lans: &[LanSpec],
) -> Result<Vec<HostSpec>, Diagnostic> {
    let Some(value) = loader.get(root, "host") else {
        return Err(loader
            .error(0..0, "the scenario defines no host")
            .with_help("add [host.NAME] tables with nic.eth0 = { lan = \"lan0\" }"));
    };
    let mut hosts = Vec::new();
    let mut macs: HashMap<MacAddr, String> = HashMap::new();
    for (key, host) in loader.table(value, "[host]")?.iter() {
        let name = key.get_ref().to_string();
        check_name(loader, &name, key.span(), "host")?;
        let table = loader.table(host, &format!("[host.{name}]"))?;
        loader.check_keys(table, &HOST_KEYS, &format!("[host.{name}]"))?;
        let nics = match loader.get(table, "nic") {
            Some(v) => load_nics(loader, v, &name, lans, &mut macs)?,
            None => Vec::new(),
        };
        let setup = loader
            .get(table, "setup")
            .map(|v| loader.script(v, "setup"))
            .transpose()?
            .unwrap_or_default();
        let web_ports = loader
            .get(table, "nginx")
            .map(|v| nginx_ports(loader, v))
            .transpose()?;
        let keepalived = loader
            .get(table, "keepalived")
            .map(|v| loader.string(v, "keepalived"))
            .transpose()?
            .map(|text| KeepalivedText {
                text,
                file: format!("{}:host.{name}.keepalived", loader.source.name),
            });
        hosts.push(HostSpec {
            name,
            nics,
            setup,
            web_ports,
            keepalived,
        });
    }
    Ok(hosts)
}

fn load_nics(
    loader: &Loader,
    value: &Value,
    host: &str,
    lans: &[LanSpec],
    macs: &mut HashMap<MacAddr, String>,
) -> Result<Vec<NicSpec>, Diagnostic> {
    let mut nics = Vec::new();
    for (key, nic) in loader.table(value, "nic")?.iter() {
        let name = key.get_ref().to_string();
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name != "lo"
            && name != "tunl0";
        if !valid {
            return Err(loader
                .error(key.span(), format!("NIC name `{name}` is not allowed"))
                .with_help("use a name like eth0 or eno16777736 (not lo or tunl0)"));
        }
        let context = format!("nic.{name} of host {host}");
        let table = loader.table(nic, &context)?;
        loader.check_keys(table, &NIC_KEYS, &context)?;
        let lan_value = loader.require(table, "lan", nic.span(), &context)?;
        let lan_name = loader.string(lan_value, "lan")?;
        let lan = lans
            .iter()
            .position(|l| l.name == lan_name)
            .ok_or_else(|| {
                let known: Vec<&str> = lans.iter().map(|l| l.name.as_str()).collect();
                loader
                    .error(lan_value.span(), format!("unknown LAN `{lan_name}`"))
                    .with_help(format!(
                        "LANs defined: {}",
                        if known.is_empty() {
                            "none (add a [lan.NAME] table)".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ))
            })?;
        let mac = match loader.get(table, "mac") {
            Some(v) => {
                let text = loader.string(v, "mac")?;
                let mac: MacAddr = text
                    .parse()
                    .map_err(|m: String| loader.error(v.span(), m))?;
                if mac.is_multicast() {
                    return Err(loader.error(
                        v.span(),
                        format!("{mac} is a group address; a NIC needs a unicast MAC"),
                    ));
                }
                if let Some(owner) = macs.get(&mac) {
                    return Err(loader.error(
                        v.span(),
                        format!("duplicate MAC {mac}: already used by {owner}"),
                    ));
                }
                mac
            }
            None => MacAddr::generated(host, &name),
        };
        macs.insert(mac, format!("{host}/{name}"));
        let latency = loader
            .get(table, "latency")
            .map(|v| loader.duration(v, "latency"))
            .transpose()?
            .unwrap_or(0);
        let addrs = match loader.get(table, "addr") {
            None => Vec::new(),
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .map(|i| cidr(loader, i))
                    .collect::<Result<_, _>>()?,
                _ => vec![cidr(loader, v)?],
            },
        };
        nics.push(NicSpec {
            name,
            lan,
            mac,
            latency,
            addrs,
        });
    }
    Ok(nics)
}

fn cidr(loader: &Loader, value: &Value) -> Result<(Ipv4Addr, u8), Diagnostic> {
    let text = loader.string(value, "addr")?;
    let (ip, len) = text.split_once('/').ok_or_else(|| {
        loader.error(
            value.span(),
            format!("addr `{text}` needs a prefix length (e.g. 192.168.188.107/24)"),
        )
    })?;
    let ip = ip
        .parse()
        .map_err(|_| loader.error(value.span(), format!("`{ip}` is not an IPv4 address")))?;
    let len = len.parse::<u8>().ok().filter(|&l| l <= 32).ok_or_else(|| {
        loader.error(
            value.span(),
            format!("`{len}` is not a prefix length (0-32)"),
        )
    })?;
    Ok((ip, len))
}

/// The host's nginx config: only `listen` directives are read (`listen 8000;`,
/// `listen 10.0.0.1:8000 default_server;`), however the statements are laid out on lines.
fn nginx_ports(loader: &Loader, value: &Value) -> Result<Vec<u16>, Diagnostic> {
    let mapped = loader.script_text(value, "nginx")?;
    let mut ports = Vec::new();
    for (start, statement) in statement_offsets(&mapped.text) {
        let mut words = statement.split_whitespace();
        if words.next() != Some("listen") {
            continue;
        }
        let address = words.next().unwrap_or("");
        let port = address.rsplit(':').next().unwrap_or(address);
        let lead = statement.len() - statement.trim_start().len();
        let span = mapped.span(start + lead, start + statement.trim_end().len());
        ports.push(port.parse::<u16>().map_err(|_| {
            loader
                .source
                .error(
                    span,
                    format!("nginx: invalid port in \"{}\"", statement.trim()),
                )
                .with_help("write `listen PORT;`")
        })?);
    }
    if ports.is_empty() {
        return Err(loader.error(value.span(), "the nginx config has no `listen PORT;` line"));
    }
    Ok(ports)
}

/// The `;`-terminated statements of a config text with their byte offsets.
fn statement_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split(';').map(move |statement| {
        let at = start;
        start += statement.len() + 1;
        (at, statement)
    })
}

/// A host named in `[[at]]`/`[[expect]]`.
pub fn host_index(loader: &Loader, value: &Value, hosts: &[&str]) -> Result<usize, Diagnostic> {
    let name = loader.string(value, "host")?;
    hosts.iter().position(|h| *h == name).ok_or_else(|| {
        loader
            .error(value.span(), format!("unknown host `{name}`"))
            .with_help(format!("hosts defined: {}", hosts.join(", ")))
    })
}

fn load_timeline(
    loader: &Loader,
    root: &DeTable,
    lans: &[LanSpec],
    hosts: &[HostSpec],
) -> Result<Vec<AtSpec>, Diagnostic> {
    let Some(value) = loader.get(root, "at") else {
        return Ok(Vec::new());
    };
    let host_names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    let mut timeline = Vec::new();
    for entry in loader.array(value, "[[at]]")? {
        let table = loader.table(entry, "[[at]]")?;
        loader.check_keys(table, &AT_KEYS, "[[at]]")?;
        let time = SimTime(loader.duration(
            loader.require(table, "time", entry.span(), "[[at]]")?,
            "time",
        )?);
        let action = if let Some(run) = loader.get(table, "run") {
            let host = host_index(
                loader,
                loader.require(table, "host", entry.span(), "an [[at]] with `run`")?,
                &host_names,
            )?;
            AtAction::Run {
                host,
                commands: loader.script(run, "run")?,
            }
        } else if let Some(p) = loader.get(table, "partition") {
            partition(loader, p, lans, &host_names)?
        } else if let Some(h) = loader.get(table, "heal") {
            let t = loader.table(h, "heal")?;
            loader.check_keys(t, &["lan"], "heal")?;
            AtAction::Heal {
                lan: lan_index(loader, loader.require(t, "lan", h.span(), "heal")?, lans)?,
            }
        } else {
            return Err(loader.error(
                entry.span(),
                "an [[at]] entry needs `run`, `partition` or `heal`",
            ));
        };
        timeline.push(AtSpec {
            time,
            action,
            span: Span::new(entry.span().start, entry.span().end),
        });
    }
    Ok(timeline)
}

fn lan_index(loader: &Loader, value: &Value, lans: &[LanSpec]) -> Result<usize, Diagnostic> {
    let name = loader.string(value, "lan")?;
    lans.iter()
        .position(|l| l.name == name)
        .ok_or_else(|| loader.error(value.span(), format!("unknown LAN `{name}`")))
}

/// `partition = { lan = "lan0", groups = [["d1"], ["client", "d2"]] }`: every host on the
/// LAN in exactly one group.
fn partition(
    loader: &Loader,
    value: &Value,
    lans: &[LanSpec],
    hosts: &[&str],
) -> Result<AtAction, Diagnostic> {
    let table = loader.table(value, "partition")?;
    loader.check_keys(table, &["lan", "groups"], "partition")?;
    let lan = lan_index(
        loader,
        loader.require(table, "lan", value.span(), "partition")?,
        lans,
    )?;
    let groups_value = loader.require(table, "groups", value.span(), "partition")?;
    let mut groups = Vec::new();
    let mut seen = Vec::new();
    for group in loader.array(groups_value, "groups")? {
        let mut members = Vec::new();
        for member in loader.array(group, "a group")? {
            let h = host_index(loader, member, hosts)?;
            if seen.contains(&h) {
                return Err(loader.error(
                    member.span(),
                    format!("host `{}` is in two groups", hosts[h]),
                ));
            }
            seen.push(h);
            members.push(h);
        }
        groups.push(members);
    }
    Ok(AtAction::Partition { lan, groups })
}
