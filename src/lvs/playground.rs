//! The scheduler playground (`lvsim sched FILE`): an IPVS table driven by a script instead of
//! packets — `ipvsadm` lines, synthetic connections (`conn`), segments through the state
//! table (`fin`, `rst`, `pkt`), expiry (`close`, `tick`), twos' seed and `net.ipv4.vs`
//! sysctls. Each line yields one step that says what IPVS decided and why.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::admin::{self, AdminError};
use super::conn::ConnId;
use super::ipvsadm;
use super::service::{Protocol, ServiceKey};
use super::table::{InVerdict, Ipvs, PacketMeta, ServiceId, TcpFlags, addr_port};
use crate::sim::time::{human_duration, parse_duration};

/// What one script line did: the text `lvsim sched` prints and the JSON object of `--json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub line: usize,
    /// For an ipvsadm line: exactly what ipvsadm prints (maybe nothing); otherwise one line.
    pub text: String,
    pub json: Value,
}

/// Why the script stops at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaygroundError {
    /// ipvsadm refused the line: its stderr (first line) and exit status.
    Ipvsadm {
        line: usize,
        message: String,
        exit: i32,
    },
    /// Anything else the script got wrong.
    Script { line: usize, message: String },
}

/// A connection the script opened: the entry it maps to and its client-side tuple.
struct ConnRef {
    /// None when IPVS made no entry for it.
    id: Option<ConnId>,
    service: ServiceId,
    packet: PacketMeta,
}

/// An IPVS table, a clock and the script's connections.
pub struct Playground {
    ipvs: Ipvs,
    now: u64,
    conns: Vec<ConnRef>,
}

const USAGE: &str = "commands: ipvsadm ..., conn CLIENT_IP:PORT [to DADDR:PORT] [udp] [syn], fin N, rst N, pkt N FLAGS in|out, close N, tick DURATION, seed N, sysctl -w net.ipv4.vs.KEY=VALUE";

impl Default for Playground {
    fn default() -> Playground {
        Playground {
            ipvs: Ipvs::new(1),
            now: 0,
            conns: Vec::new(),
        }
    }
}

/// The script's lines without comments: (1-based line number, words).
fn script_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let code = match line.find('#') {
            Some(at) if at == 0 || line[..at].ends_with(char::is_whitespace) => &line[..at],
            _ => line,
        };
        let words: Vec<&str> = code.split_whitespace().collect();
        (!words.is_empty()).then_some((i + 1, words))
    })
}

impl Playground {
    /// Runs a whole script; stops at the first bad line.
    pub fn run_script(&mut self, text: &str) -> Result<Vec<Step>, (Vec<Step>, PlaygroundError)> {
        let mut steps = Vec::new();
        for (line, words) in script_lines(text) {
            match self.step(line, &words) {
                Ok(step) => steps.push(step),
                Err(e) => return Err((steps, e)),
            }
        }
        Ok(steps)
    }

    fn step(&mut self, line: usize, words: &[&str]) -> Result<Step, PlaygroundError> {
        let fail = |message: String| PlaygroundError::Script { line, message };
        let (json, text) = match words {
            [program, ..] if program.ends_with("ipvsadm") => return self.ipvsadm(line, words),
            ["conn", rest @ ..] => self.conn(rest).map_err(fail)?,
            ["fin", n] => self.segment(n, "F", "in").map_err(fail)?,
            ["rst", n] => self.segment(n, "R", "in").map_err(fail)?,
            ["pkt", n, flags, dir] => self.segment(n, flags, dir).map_err(fail)?,
            ["close", n] => self.close(n).map_err(fail)?,
            ["tick", duration] => self.tick(duration).map_err(fail)?,
            ["seed", n] => self.seed(n).map_err(fail)?,
            ["sysctl", "-w", setting] | ["sysctl", setting] => {
                self.sysctl(setting).map_err(fail)?
            }
            [other, ..] => return Err(fail(format!("unknown command `{other}`; {USAGE}"))),
            [] => unreachable!("blank lines are skipped"),
        };
        let mut json = json;
        json["line"] = json!(line);
        Ok(Step { line, text, json })
    }

    /// An ipvsadm line: ipvsadm's own parse, the table's answer, ipvsadm's output.
    fn ipvsadm(&mut self, line: usize, words: &[&str]) -> Result<Step, PlaygroundError> {
        let refused = |e: ipvsadm::IpvsadmError| PlaygroundError::Ipvsadm {
            line,
            message: e.message,
            exit: e.exit,
        };
        let command = ipvsadm::parse(words).map_err(refused)?;
        let unicast =
            |addr: IpAddr| !addr.is_multicast() && !addr.is_unspecified() && !is_broadcast(addr);
        let output = admin::execute(&mut self.ipvs, words[0], &command, self.now, &unicast)
            .map_err(|e| match e {
                AdminError::Ipvsadm(e) => refused(e),
                AdminError::NotSimulated(why) => PlaygroundError::Script {
                    line,
                    message: format!("ipvsadm: {why}"),
                },
            })?;
        let json = json!({ "line": line, "op": "ipvsadm", "output": output });
        Ok(Step {
            line,
            text: output,
            json,
        })
    }

    /// `conn CLIENT_IP:PORT [to DADDR:PORT] [udp] [syn]`: a SYN (and the handshake ACK unless
    /// `syn`), or one UDP datagram.
    fn conn(&mut self, args: &[&str]) -> Result<(Value, String), String> {
        let (client, to, udp, syn_only) = parse_conn_args(args)?;
        let proto = if udp { Protocol::Udp } else { Protocol::Tcp };
        let (service, key) = self.pick_service(proto, to)?;
        let (daddr, dport) = match (to, key) {
            (Some(to), _) => to,
            (None, ServiceKey::Addr { addr, port, .. }) => (addr, port),
            (None, ServiceKey::Fwmark { .. }) => {
                return Err("a fwmark service has no address: give `to DADDR:PORT`".to_owned());
            }
        };
        let fwmark = match key {
            ServiceKey::Fwmark { mark, .. } => mark,
            ServiceKey::Addr { .. } => 0,
        };
        let flags = (!udp).then_some(TcpFlags {
            syn: true,
            ..TcpFlags::default()
        });
        let packet = PacketMeta {
            proto,
            saddr: client.0,
            sport: client.1,
            daddr,
            dport,
            tcp: flags,
            len: 60,
            fwmark,
        };
        let before = self.ipvs.conns.lookup_in(proto, client, (daddr, dport));
        let number = self.conns.len() + 1;
        let head = format!("conn #{number} {}", addr_port(client.0, client.1));
        let verdict = self
            .ipvs
            .process_in_for(Some(service), &packet, self.now, true);
        let InVerdict::Forward { conn, why } = verdict else {
            let why = verdict_reason(&verdict);
            let json =
                json!({ "op": "conn", "conn": number, "dest": null, "reused": false, "why": why });
            self.conns.push(ConnRef {
                id: None,
                service,
                packet,
            });
            return Ok((json, format!("{head}: no connection — {why}")));
        };
        let reused = before == Some(conn);
        if !udp && !syn_only {
            let ack = PacketMeta {
                tcp: Some(TcpFlags {
                    ack: true,
                    ..TcpFlags::default()
                }),
                ..packet
            };
            self.ipvs
                .process_in_for(Some(service), &ack, self.now, false);
        }
        self.conns.push(ConnRef {
            id: Some(conn),
            service,
            packet,
        });
        let dest = self.dest_of(conn);
        let why = if reused {
            format!("the existing entry ({})", self.state_of(conn))
        } else {
            why
        };
        let json =
            json!({ "op": "conn", "conn": number, "dest": dest, "reused": reused, "why": why });
        Ok((json, format!("{head} → {dest} {why}")))
    }

    /// The service a `conn` is for: the one `to` names, else the only one.
    fn pick_service(
        &self,
        proto: Protocol,
        to: Option<(IpAddr, u16)>,
    ) -> Result<(ServiceId, ServiceKey), String> {
        let services = self.ipvs.services();
        let named = to.and_then(|(addr, port)| {
            services
                .iter()
                .find(|(_, k)| *k == ServiceKey::Addr { proto, addr, port })
        });
        let (id, key) = match (named, services.as_slice()) {
            (Some(found), _) => *found,
            (None, [only]) => *only,
            (None, []) => return Err("there is no virtual service yet (ipvsadm -A ...)".to_owned()),
            (None, _) => {
                return Err(format!(
                    "{} virtual services: name one with `to VIP:PORT`",
                    services.len()
                ));
            }
        };
        if let ServiceKey::Addr { proto: p, .. } = key
            && p != proto
        {
            let hint = if p == Protocol::Udp {
                "add `udp`"
            } else {
                "drop `udp`"
            };
            return Err(format!("the service is {}: {hint}", p.name()));
        }
        Ok((id, key))
    }

    /// `fin N`, `rst N`, `pkt N FLAGS in|out`: one segment of connection N.
    fn segment(&mut self, n: &str, flags: &str, dir: &str) -> Result<(Value, String), String> {
        let number = self.conn_number(n)?;
        let tcp = parse_flags(flags)?;
        let conn = &self.conns[number - 1];
        if conn.packet.proto != Protocol::Tcp {
            return Err(format!("conn #{number} is UDP: it has no TCP segments"));
        }
        let (service, id) = (conn.service, conn.id.expect("a live connection"));
        let packet = PacketMeta {
            tcp: Some(tcp),
            ..conn.packet
        };
        let verdict_text = match dir {
            "in" => {
                let verdict = self
                    .ipvs
                    .process_in_for(Some(service), &packet, self.now, true);
                match verdict {
                    InVerdict::Forward { conn, .. } => {
                        self.conns[number - 1].id = Some(conn);
                        None
                    }
                    other => Some(verdict_reason(&other)),
                }
            }
            "out" => {
                self.ipvs.conn_output(id, Some(tcp), 52, self.now);
                None
            }
            other => return Err(format!("`{other}`: the direction is `in` or `out`")),
        };
        let id = self.conns[number - 1].id.expect("a live connection");
        let state = self.state_of(id);
        let dest = self.dest_of(id);
        let json = json!({ "op": "pkt", "conn": number, "flags": flags, "dir": dir, "state": state, "dest": dest });
        let text = match verdict_text {
            Some(why) => format!("conn #{number}: {flags} {dir} — {why}"),
            None => format!("conn #{number}: {flags} {dir} → {state} ({dest})"),
        };
        Ok((json, text))
    }

    /// `close N`: the entry expires now.
    fn close(&mut self, n: &str) -> Result<(Value, String), String> {
        let number = self.conn_number(n)?;
        let id = self.conns[number - 1].id.expect("a live connection");
        let closed = self.ipvs.close(id, self.now);
        let json = json!({ "op": "close", "conn": number, "closed": closed });
        Ok((json, format!("conn #{number} expired")))
    }

    /// `tick DURATION`: time moves on; every timer due fires at its own instant, in order.
    fn tick(&mut self, duration: &str) -> Result<(Value, String), String> {
        let ns = parse_duration(duration)?;
        let target = self.now + ns;
        while let Some(due) = self.ipvs.next_timer().filter(|&t| t <= target) {
            self.now = self.now.max(due);
            self.ipvs.run_timers(self.now);
        }
        self.now = target;
        let expired: Vec<usize> = (1..=self.conns.len())
            .filter(|&n| self.conn_gone(n))
            .collect();
        let list: Vec<String> = expired.iter().map(|n| format!("#{n}")).collect();
        let json = json!({ "op": "tick", "now_ns": self.now, "expired": expired });
        let text = format!(
            "tick {duration} → t={}; gone: {}",
            human_duration(self.now),
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        );
        Ok((json, text))
    }

    fn seed(&mut self, n: &str) -> Result<(Value, String), String> {
        let seed: u64 = n
            .parse()
            .map_err(|_| format!("`{n}` is not a seed (a whole number)"))?;
        self.ipvs.reseed_twos(seed, self.now);
        Ok((
            json!({ "op": "seed", "seed": seed }),
            format!("seed {seed}"),
        ))
    }

    /// `sysctl -w net.ipv4.vs.KEY=VALUE`, echoed as sysctl does.
    fn sysctl(&mut self, setting: &str) -> Result<(Value, String), String> {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("sysctl: \"{setting}\" must be of the form name=value"))?;
        let name = key
            .strip_prefix("net.ipv4.vs.")
            .ok_or_else(|| format!("`{key}`: the playground has only net.ipv4.vs.* keys"))?;
        self.ipvs
            .sysctl
            .set(name, value)
            .map_err(|_| format!("sysctl: cannot set {key} to {value}"))?;
        let json = json!({ "op": "sysctl", "key": key, "value": value });
        Ok((json, format!("{key} = {value}")))
    }

    fn conn_number(&self, n: &str) -> Result<usize, String> {
        let number: usize = n
            .parse()
            .map_err(|_| format!("`{n}` is not a connection number"))?;
        if number == 0 || number > self.conns.len() {
            return Err(format!(
                "there is no conn #{number} (conns so far: {})",
                self.conns.len()
            ));
        }
        if self.conn_gone(number) {
            return Err(format!(
                "conn #{number} has no entry any more (it expired or was never made)"
            ));
        }
        Ok(number)
    }

    /// The connection's entry has gone (expired, replaced, or never made).
    fn conn_gone(&self, number: usize) -> bool {
        let c = &self.conns[number - 1];
        let p = &c.packet;
        let found = self
            .ipvs
            .conns
            .lookup_in(p.proto, (p.saddr, p.sport), (p.daddr, p.dport));
        c.id.is_none() || found != c.id
    }

    fn dest_of(&self, id: ConnId) -> String {
        let c = self.ipvs.conns.get(id);
        addr_port(c.daddr, c.dport)
    }

    fn state_of(&self, id: ConnId) -> String {
        let c = self.ipvs.conns.get(id);
        match c.proto {
            Some(Protocol::Udp) => "UDP".to_owned(),
            _ => c.state.name().to_owned(),
        }
    }
}

fn verdict_reason(verdict: &InVerdict) -> String {
    match verdict {
        InVerdict::Accept(why) | InVerdict::Drop(why) | InVerdict::Unreachable(why) => why.clone(),
        InVerdict::Forward { why, .. } => why.clone(),
    }
}

fn is_broadcast(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V4(a) if a.is_broadcast())
}

/// `ADDR:PORT` or `[IPV6]:PORT`.
fn parse_endpoint(text: &str) -> Result<(IpAddr, u16), String> {
    let bad = || format!("`{text}` is not ADDR:PORT (IPv6 as [ADDR]:PORT)");
    let (addr, port) = match text.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").ok_or_else(bad)?,
        None => text.rsplit_once(':').ok_or_else(bad)?,
    };
    Ok((
        addr.parse().map_err(|_| bad())?,
        port.parse().map_err(|_| bad())?,
    ))
}

type ConnArgs = ((IpAddr, u16), Option<(IpAddr, u16)>, bool, bool);

fn parse_conn_args(args: &[&str]) -> Result<ConnArgs, String> {
    let usage = "conn CLIENT_IP:PORT [to DADDR:PORT] [udp] [syn]";
    let (first, rest) = args
        .split_first()
        .ok_or_else(|| format!("the client is missing: {usage}"))?;
    let client = parse_endpoint(first)?;
    let (mut to, mut udp, mut syn) = (None, false, false);
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        match *word {
            "to" => {
                let target = words
                    .next()
                    .ok_or_else(|| format!("`to` needs DADDR:PORT: {usage}"))?;
                to = Some(parse_endpoint(target)?);
            }
            "udp" => udp = true,
            "syn" => syn = true,
            other => return Err(format!("unexpected `{other}`: {usage}")),
        }
    }
    Ok((client, to, udp, syn))
}

/// Flags from the letters S, F, A, R.
fn parse_flags(text: &str) -> Result<TcpFlags, String> {
    let mut flags = TcpFlags::default();
    for c in text.chars() {
        match c {
            'S' => flags.syn = true,
            'F' => flags.fin = true,
            'A' => flags.ack = true,
            'R' => flags.rst = true,
            other => return Err(format!("`{other}` is not a TCP flag (S, F, A, R)")),
        }
    }
    Ok(flags)
}
