//! What keepalived does to the IPVS table (`ipwrapper.c`, `ipvswrapper.c`;
//! `reference/keepalived.md` §5): a virtual server becomes one or more IPVS services, a
//! checker's verdict adds, removes or quiesces a real server, quorum brings the sorry server
//! in and out. Every change goes through the host's IPVS like an `ipvsadm` line and is
//! logged with its cause.

use std::net::{IpAddr, Ipv4Addr};

use super::checkers::Checkers;
use super::config::{Method, Protocol as KaProtocol, RealServer, ServiceKey as KaKey, TunnelType};
use crate::lvs::admin::AdminError;
use crate::lvs::ipvsadm::command::Command;
use crate::lvs::service::{
    DestConfig, Forward, Netmask, Protocol, ServiceConfig, ServiceKey, TunnelCsum, TunnelSpec,
    TunnelType as LvsTunnel, flags,
};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

impl Checkers {
    /// The IPVS services a virtual server stands for (a group stands for several).
    pub(super) fn service_keys(&self, vs: usize) -> Vec<ServiceKey> {
        let s = &self.servers[vs];
        let proto = match s.protocol {
            KaProtocol::Tcp => Protocol::Tcp,
            KaProtocol::Udp => Protocol::Udp,
            KaProtocol::Sctp => Protocol::Sctp,
        };
        let addr = |ip: Ipv4Addr, port: u16| ServiceKey::Addr {
            proto,
            addr: IpAddr::V4(ip),
            port,
        };
        match &s.key {
            KaKey::Addr(ip, port) => vec![addr(*ip, *port)],
            KaKey::Fwmark(mark) => vec![ServiceKey::Fwmark {
                mark: *mark,
                ipv6: false,
            }],
            KaKey::Group(name) => self
                .groups
                .iter()
                .filter(|g| &g.name == name)
                .flat_map(|g| g.members.iter())
                .flat_map(|m| match *m {
                    super::config::GroupMember::Range(first, last, port) => (u32::from(first)
                        ..=u32::from(last))
                        .map(|a| addr(Ipv4Addr::from(a), port))
                        .collect::<Vec<_>>(),
                    super::config::GroupMember::Fwmark(mark) => {
                        vec![ServiceKey::Fwmark { mark, ipv6: false }]
                    }
                })
                .collect(),
        }
    }

    pub(super) fn service_config(&self, vs: usize, key: ServiceKey) -> ServiceConfig {
        let s = &self.servers[vs];
        let mut bits = 0;
        for flag in &s.sched_flags {
            bits |= match flag.as_str() {
                "sh-fallback" | "mh-fallback" | "flag-1" => flags::SCHED1,
                "sh-port" | "mh-port" | "flag-2" => flags::SCHED2,
                "flag-3" => flags::SCHED3,
                _ => 0,
            };
        }
        if s.ops {
            bits |= flags::ONEPACKET;
        }
        if s.persistence_timeout.is_some() {
            bits |= flags::PERSISTENT;
        }
        ServiceConfig {
            key,
            sched: s.scheduler.clone(),
            flags: bits,
            timeout: s.persistence_timeout.unwrap_or(0),
            netmask: s
                .persistence_granularity
                .map_or(Netmask::host(false), |m| Netmask::V4(u32::from(m))),
            pe: s.persistence_engine.clone(),
        }
    }
}

impl Host {
    /// An IPVS change keepalived makes, logged with its cause.
    pub(super) fn ka_ipvs(&mut self, ctx: &mut Ctx, command: Command, log: String) {
        self.checker_say(ctx, log);
        if let Err(e) = self.ipvs_execute(ctx, "keepalived", &command) {
            let text = match e {
                AdminError::Ipvsadm(e) => e.message,
                AdminError::NotSimulated(why) => why,
            };
            self.checker_say(ctx, format!("IPVS: {text}"));
        }
    }

    /// Adds (`Some(weight)`, edits if present) or removes (`None`) a real server in every
    /// service of the virtual server.
    pub(super) fn set_dest(
        &mut self,
        ctx: &mut Ctx,
        vs: usize,
        rs: usize,
        weight: Option<u32>,
        why: &str,
    ) {
        let real = self.checkers_ref().servers[vs].real_servers[rs].clone();
        let rs_name = self.checkers_ref().rs_name(vs, rs);
        self.put_dest(ctx, vs, &real, weight, (&rs_name, why));
    }

    /// `set_dest` for any server (a configured one or the sorry server); `log` names it and
    /// gives the cause.
    pub(super) fn put_dest(
        &mut self,
        ctx: &mut Ctx,
        vs: usize,
        real: &RealServer,
        weight: Option<u32>,
        (name, why): (&str, &str),
    ) {
        let vs_name = self.checkers_ref().vs_name(vs);
        for service in self.checkers_ref().service_keys(vs) {
            let present = self
                .ipvs
                .has_dest(&service, IpAddr::V4(real.addr), real.port);
            let command = match (weight, present) {
                (Some(w), false) => Command::AddDest {
                    service,
                    dest: dest_config(real, w),
                },
                (Some(w), true) => Command::EditDest {
                    service,
                    dest: dest_config(real, w),
                },
                (None, true) => Command::DeleteDest {
                    service,
                    addr: IpAddr::V4(real.addr),
                    port: real.port,
                },
                (None, false) => continue,
            };
            let log = dest_log(&command, name, &vs_name, why);
            self.ka_ipvs(ctx, command, log);
        }
    }

    /// §5 "RS check fails / RS recovers": the table changes unless the sorry server stands
    /// in for the whole virtual server (then only the state is recorded).
    pub(super) fn apply_rs_state(
        &mut self,
        ctx: &mut Ctx,
        vs: usize,
        rs: usize,
        alive: bool,
    ) -> String {
        if self.checkers_ref().sorry_active[vs] {
            return "none (sorry server active)".into();
        }
        let real = self.checkers_ref().servers[vs].real_servers[rs].clone();
        match (alive, real.inhibit_on_failure) {
            (true, _) => {
                self.set_dest(ctx, vs, rs, Some(real.weight), "check succeeded");
                format!("added (weight {})", real.weight)
            }
            (false, true) => {
                self.set_dest(
                    ctx,
                    vs,
                    rs,
                    Some(0),
                    "check failed; inhibit_on_failure keeps it with weight 0",
                );
                "weight 0".into()
            }
            (false, false) => {
                self.set_dest(ctx, vs, rs, None, "check failed");
                "removed".into()
            }
        }
    }

    /// Quorum: Σ weights of alive real servers against `quorum ± hysteresis`; losing it
    /// brings the sorry server in, regaining it takes it out (§5).
    pub(super) fn update_quorum(&mut self, ctx: &mut Ctx, vs: usize) {
        let s = &self.checkers_ref().servers[vs];
        let weight: u64 = s
            .real_servers
            .iter()
            .zip(&self.checkers_ref().alive[vs])
            .filter(|(_, alive)| **alive)
            .map(|(r, _)| r.weight as u64)
            .sum();
        let (quorum, hysteresis) = (s.quorum as u64, s.hysteresis as u64);
        let was_up = self.checkers_ref().quorum_up[vs];
        let now_up = if was_up {
            !(weight == 0 || weight + hysteresis < quorum)
        } else {
            weight > 0 && weight >= quorum + hysteresis
        };
        if was_up == now_up {
            return;
        }
        self.checkers().quorum_up[vs] = now_up;
        let name = self.checkers_ref().vs_name(vs);
        let word = if now_up { "Gained" } else { "Lost" };
        self.checker_say(
            ctx,
            format!(
                "{word} quorum {quorum}-{hysteresis}={} for VS {name}",
                quorum.saturating_sub(hysteresis)
            ),
        );
        let s = &self.checkers_ref().servers[vs];
        let script = if now_up { &s.quorum_up } else { &s.quorum_down };
        if let Some(script) = script.clone() {
            self.checker_say(ctx, format!("(VS {name}) runs quorum script: {script}"));
        }
        if self.checkers_ref().servers[vs].sorry_server.is_some() {
            self.switch_sorry_server(ctx, vs, !now_up);
        }
    }

    /// Brings the sorry server in (every alive RS out) or out (alive RSs back in).
    pub(super) fn switch_sorry_server(&mut self, ctx: &mut Ctx, vs: usize, active: bool) {
        let s = self.checkers_ref().servers[vs].clone();
        let Some((addr, port)) = s.sorry_server else {
            return;
        };
        let method = s.sorry_server_method.unwrap_or(s.method);
        let sorry = RealServer {
            inhibit_on_failure: s.sorry_server_inhibit,
            ..RealServer::new(addr, port, s.line, method)
        };
        let name = format!("sorry server [{addr}]:{port}");
        let alive: Vec<usize> = (0..s.real_servers.len())
            .filter(|&rs| self.checkers_ref().alive[vs][rs])
            .collect();
        self.checkers().sorry_active[vs] = active;
        if active {
            for &rs in &alive {
                let weight = s.real_servers[rs].inhibit_on_failure.then_some(0);
                self.set_dest(
                    ctx,
                    vs,
                    rs,
                    weight,
                    "quorum lost: the sorry server takes over",
                );
            }
            self.put_dest(ctx, vs, &sorry, Some(1), (&name, "quorum lost"));
        } else {
            let weight = s.sorry_server_inhibit.then_some(0);
            self.put_dest(ctx, vs, &sorry, weight, (&name, "quorum regained"));
            for &rs in &alive {
                let weight = Some(s.real_servers[rs].weight);
                self.set_dest(ctx, vs, rs, weight, "quorum regained");
            }
        }
    }

    /// `omega`: at shutdown the down notifies of the servers still up, and quorum_down.
    pub(super) fn omega_notifies(&mut self, ctx: &mut Ctx, vs: usize) {
        let s = self.checkers_ref().servers[vs].clone();
        for (rs, real) in s.real_servers.iter().enumerate() {
            if let Some(script) = real
                .notify_down
                .as_ref()
                .filter(|_| self.checkers_ref().alive[vs][rs])
            {
                let name = self.checkers_ref().rs_name(vs, rs);
                self.checker_say(
                    ctx,
                    format!("(RS {name}) runs notify script: {script} (omega: shutdown)"),
                );
            }
        }
        if let Some(script) = s.quorum_down.filter(|_| self.checkers_ref().quorum_up[vs]) {
            let name = self.checkers_ref().vs_name(vs);
            self.checker_say(
                ctx,
                format!("(VS {name}) runs quorum script: {script} (omega: shutdown)"),
            );
        }
    }
}

/// The IPVS destination for a real server with `weight`.
fn dest_config(real: &RealServer, weight: u32) -> DestConfig {
    let (fwd, tun) = match real.method {
        Method::Nat => (Forward::Masq, TunnelSpec::default()),
        Method::Dr => (Forward::Route, TunnelSpec::default()),
        Method::Tun(t) => (Forward::Tunnel, tunnel_spec(t)),
    };
    DestConfig {
        addr: IpAddr::V4(real.addr),
        port: real.port,
        fwd,
        weight: weight.min(i32::MAX as u32) as i32,
        u_threshold: real.upper_threshold,
        l_threshold: real.lower_threshold,
        tun,
    }
}

fn tunnel_spec(t: TunnelType) -> TunnelSpec {
    let csum = |on: bool| {
        if on {
            TunnelCsum::Csum
        } else {
            TunnelCsum::NoCsum
        }
    };
    match t {
        TunnelType::Ipip => TunnelSpec::default(),
        TunnelType::Gue { port, csum: c } => TunnelSpec {
            kind: LvsTunnel::Gue,
            port,
            csum: csum(c),
        },
        TunnelType::Gre { csum: c } => TunnelSpec {
            kind: LvsTunnel::Gre,
            port: 0,
            csum: csum(c),
        },
    }
}

/// keepalived's log line for a destination change, with its cause.
fn dest_log(command: &Command, rs: &str, vs: &str, why: &str) -> String {
    match command {
        Command::AddDest { dest, .. } => {
            format!(
                "Adding service {rs} to VS {vs} (weight {}; {why})",
                dest.weight
            )
        }
        Command::EditDest { dest, .. } => {
            format!(
                "Setting weight {} for service {rs} of VS {vs} ({why})",
                dest.weight
            )
        }
        _ => format!("Removing service {rs} from VS {vs} ({why})"),
    }
}
