//! keepalived's health checkers (`check_tcp.c`, `check_http.c`, `check_api.c`;
//! `reference/keepalived.md` §4): real TCP connections and HTTP requests from the director
//! to each real server, MISC_CHECK commands, and the retry rules of `tcp_epilog`. What a
//! verdict does to the IPVS table is in `table.rs`.

use std::net::SocketAddrV4;

use super::config::{
    CheckKind, Protocol as KaProtocol, ServiceKey as KaKey, VirtualServer, VirtualServerGroup,
};
use super::external::{ExitWait, Launch};
use crate::lvs::ipvsadm::command::Command;
use crate::lvs::service::ServiceKey;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::tcp::{Owner, SocketId, TcpEvent};

/// One health check result as the JSON report's `checkers[]` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    pub t: SimTime,
    /// `IP:PORT` of the real server.
    pub rs: String,
    /// `up`, `down`, or `failed` (a failure still inside the retries).
    pub result: String,
    /// What keepalived did to the IPVS table (`added`, `removed`, `weight 0`, `retry`, ...).
    pub action: String,
}

/// One checker of one real server, and where it stands.
#[derive(Debug, Clone)]
pub(super) struct CheckRun {
    vs: usize,
    rs: usize,
    checker: usize,
    up: bool,
    has_run: bool,
    retry_it: u32,
    /// Identifies the attempt in progress (timeouts of older attempts are stale).
    attempt: u64,
    socket: Option<SocketId>,
    /// The program slot of a MISC_CHECK attempt in progress.
    program: Option<usize>,
    /// HTTP_GET: which url of the attempt is being fetched.
    url: usize,
    response: Vec<u8>,
}

/// The checkers of a running daemon and the state of every virtual server they feed.
#[derive(Debug, Clone, Default)]
pub struct Checkers {
    pub(super) servers: Vec<VirtualServer>,
    pub(super) groups: Vec<VirtualServerGroup>,
    pub(super) runs: Vec<CheckRun>,
    /// Per VS, per RS: all of its checkers are up.
    pub(super) alive: Vec<Vec<bool>>,
    pub(super) quorum_up: Vec<bool>,
    pub(super) sorry_active: Vec<bool>,
    /// Bumped by a reload: timers of the previous checkers are stale.
    pub(super) generation: u64,
}

/// What a checker's timer is for; `generation` names the set of checkers it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckTimer {
    /// Start the next attempt.
    Start { generation: u64, run: usize },
    /// The attempt `attempt` ran out of `connect_timeout`.
    Timeout {
        generation: u64,
        run: usize,
        attempt: u64,
    },
}

fn proto_name(p: KaProtocol) -> &'static str {
    match p {
        KaProtocol::Tcp => "tcp",
        KaProtocol::Udp => "udp",
        KaProtocol::Sctp => "sctp",
    }
}

impl Checkers {
    pub fn new(servers: Vec<VirtualServer>, groups: Vec<VirtualServerGroup>) -> Checkers {
        let mut runs = Vec::new();
        for (vs, server) in servers.iter().enumerate() {
            for (rs, real) in server.real_servers.iter().enumerate() {
                for (checker, c) in real.checkers.iter().enumerate() {
                    runs.push(CheckRun {
                        vs,
                        rs,
                        checker,
                        up: !(c.alpha || server.alpha),
                        has_run: false,
                        retry_it: c.retry,
                        attempt: 0,
                        socket: None,
                        program: None,
                        url: 0,
                        response: Vec::new(),
                    });
                }
            }
        }
        let alive = servers
            .iter()
            .map(|s| vec![!s.alpha; s.real_servers.len()])
            .collect();
        Checkers {
            quorum_up: vec![true; servers.len()],
            sorry_active: vec![false; servers.len()],
            servers,
            groups,
            runs,
            alive,
            generation: 0,
        }
    }

    /// The checkers of a reloaded configuration: real servers that were already known keep
    /// their state (and their checkers' verdicts), so a reload does not flap the table.
    pub fn reloaded(
        &self,
        servers: Vec<VirtualServer>,
        groups: Vec<VirtualServerGroup>,
    ) -> Checkers {
        let mut next = Checkers::new(servers, groups);
        next.generation = self.generation + 1;
        for run in &mut next.runs {
            let key = next.servers[run.vs].key.clone();
            let real = &next.servers[run.vs].real_servers[run.rs];
            if let Some(old) = self.runs.iter().find(|o| {
                let r = &self.servers[o.vs].real_servers[o.rs];
                self.servers[o.vs].key == key && (r.addr, r.port) == (real.addr, real.port)
            }) {
                run.up = old.up;
                run.has_run = old.has_run;
                run.retry_it = old.retry_it;
            }
        }
        for vs in 0..next.servers.len() {
            for rs in 0..next.servers[vs].real_servers.len() {
                next.alive[vs][rs] = next.checks_up(vs, rs);
            }
        }
        next
    }

    /// `update_svr_checker_state`'s rule: a real server is alive when all its checkers are up.
    fn checks_up(&self, vs: usize, rs: usize) -> bool {
        self.runs
            .iter()
            .filter(|r| r.vs == vs && r.rs == rs)
            .all(|r| r.up)
    }

    /// The sockets of checks in progress (closed when the checkers are replaced).
    fn open_sockets(&self) -> Vec<SocketId> {
        self.runs.iter().filter_map(|r| r.socket).collect()
    }

    /// The run whose TCP socket this is.
    fn run_of_socket(&self, socket: SocketId) -> Option<usize> {
        self.runs.iter().position(|r| r.socket == Some(socket))
    }

    /// `[IP]:tcp:PORT` as keepalived names a server in its logs.
    pub(super) fn rs_name(&self, vs: usize, rs: usize) -> String {
        let s = &self.servers[vs];
        let r = &s.real_servers[rs];
        format!("[{}]:{}:{}", r.addr, proto_name(s.protocol), r.port)
    }

    pub(super) fn vs_name(&self, vs: usize) -> String {
        let s = &self.servers[vs];
        match &s.key {
            KaKey::Addr(ip, port) => format!("[{ip}]:{}:{port}", proto_name(s.protocol)),
            KaKey::Fwmark(mark) => format!("FWM {mark}"),
            KaKey::Group(name) => format!("group {name}"),
        }
    }
}

impl Host {
    /// A line the healthcheckers child logs.
    pub(super) fn checker_say(&self, ctx: &mut Ctx, text: String) {
        let pid = self.keepalived.pid() + 2;
        ctx.output(format!("Keepalived_healthcheckers[{pid}]: {text}"));
    }

    pub(super) fn checkers(&mut self) -> &mut Checkers {
        self.keepalived.checkers_mut().expect("daemon running")
    }

    pub(super) fn checkers_ref(&self) -> &Checkers {
        self.keepalived.checkers().expect("daemon running")
    }

    /// Start (§5): every virtual server added; its real servers too unless `alpha` (then
    /// only `inhibit_on_failure` ones, with weight 0); first checks after a random warmup.
    pub(crate) fn checkers_start(&mut self, ctx: &mut Ctx) {
        let count = self.checkers_ref().servers.len();
        for vs in 0..count {
            for key in self.checkers_ref().service_keys(vs) {
                let config = self.checkers_ref().service_config(vs, key);
                let name = self.checkers_ref().vs_name(vs);
                let command = if self.ipvs.find_service_by_key(&key).is_some() {
                    Command::EditService(config)
                } else {
                    Command::AddService(config)
                };
                self.ka_ipvs(ctx, command, format!("Adding VS {name}"));
            }
            let reals = self.checkers_ref().servers[vs].real_servers.len();
            for rs in 0..reals {
                let real = self.checkers_ref().servers[vs].real_servers[rs].clone();
                if self.checkers_ref().alive[vs][rs] {
                    self.set_dest(ctx, vs, rs, Some(real.weight), "start");
                } else if real.inhibit_on_failure {
                    self.set_dest(
                        ctx,
                        vs,
                        rs,
                        Some(0),
                        "alpha: down until its first good check",
                    );
                }
            }
            self.update_quorum(ctx, vs);
        }
        self.say_unchecked_digests(ctx);
        for run in 0..self.checkers_ref().runs.len() {
            let warmup = self.checker_conf(run).warmup_us;
            let delay = self.rng.range_inclusive(0, warmup);
            let generation = self.checkers_ref().generation;
            self.arm_check(ctx, delay, CheckTimer::Start { generation, run });
        }
    }

    /// HTTP_GET `digest`: lvsim compares the status code only, and says so.
    fn say_unchecked_digests(&self, ctx: &mut Ctx) {
        let paths: Vec<String> = (0..self.checkers_ref().runs.len())
            .filter_map(|run| match &self.checker_conf(run).kind {
                CheckKind::Http { urls, .. } => Some(urls.clone()),
                _ => None,
            })
            .flatten()
            .filter(|u| u.digest.is_some())
            .map(|u| u.path)
            .collect();
        for path in paths {
            self.checker_say(
                ctx,
                format!(
                    "HTTP_GET url {path}: the digest is not checked by lvsim (only the status code)"
                ),
            );
        }
    }

    pub(super) fn checker_conf(&self, run: usize) -> &super::config::Checker {
        let c = self.checkers_ref();
        let r = &c.runs[run];
        &c.servers[r.vs].real_servers[r.rs].checkers[r.checker]
    }

    fn arm_check(&mut self, ctx: &mut Ctx, delay_us: u64, timer: CheckTimer) {
        self.keepalived.arm_checker(ctx, delay_us, timer);
    }

    /// A checker's timer fired.
    pub(crate) fn checker_timer(&mut self, ctx: &mut Ctx, timer: CheckTimer) {
        let current = self.checkers_ref().generation;
        match timer {
            CheckTimer::Start { generation, run } if generation == current => {
                self.start_check(ctx, run)
            }
            CheckTimer::Timeout {
                generation,
                run,
                attempt,
            } if generation == current => {
                let current = &self.checkers_ref().runs[run];
                if current.attempt != attempt {
                    return;
                }
                if let Some(socket) = self.checkers().runs[run].socket.take() {
                    self.tcp_close(ctx, socket);
                    self.check_done(ctx, run, Err("timeout".into()));
                } else if let Some(slot) = self.checkers().runs[run].program.take() {
                    self.abandon(ctx, slot);
                    self.check_done(ctx, run, Err("misc_timeout: killed".into()));
                }
            }
            _ => {}
        }
    }

    /// One attempt: a TCP connection to connect_ip:connect_port (from `bindto`).
    fn start_check(&mut self, ctx: &mut Ctx, run: usize) {
        let c = self.checker_conf(run).clone();
        if self.suspended(run) {
            crate::explain!(
                ctx,
                "{}: ha_suspend: the VIP is not on this director, check skipped",
                self.name
            );
            let generation = self.checkers_ref().generation;
            self.arm_check(ctx, c.delay_loop_us, CheckTimer::Start { generation, run });
            return;
        }
        if let CheckKind::Misc {
            path, timeout_us, ..
        } = &c.kind
        {
            self.start_misc_check(ctx, run, path, *timeout_us);
            return;
        }
        let attempt = {
            let r = &mut self.checkers().runs[run];
            r.attempt += 1;
            r.url = 0;
            r.attempt
        };
        self.connect_check(ctx, run, attempt);
    }

    /// One connection of an attempt (HTTP_GET opens one per url, in order), under
    /// `connect_timeout`.
    fn connect_check(&mut self, ctx: &mut Ctx, run: usize, attempt: u64) {
        let c = self.checker_conf(run).clone();
        let remote = SocketAddrV4::new(c.connect_ip, c.connect_port);
        self.checkers().runs[run].response.clear();
        match self.tcp_connect(ctx, Owner::Checker(run), remote, c.bindto) {
            Ok(socket) => {
                self.checkers().runs[run].socket = Some(socket);
                let generation = self.checkers_ref().generation;
                let timeout = CheckTimer::Timeout {
                    generation,
                    run,
                    attempt,
                };
                self.arm_check(ctx, c.connect_timeout_us, timeout);
            }
            Err(failure) => self.check_done(ctx, run, Err(failure.errno_text().into())),
        }
    }

    /// `ha_suspend`: a virtual server's checkers idle while its address is not local.
    fn suspended(&self, run: usize) -> bool {
        let s = &self.checkers_ref().servers[self.checkers_ref().runs[run].vs];
        match s.key {
            KaKey::Addr(ip, _) => s.ha_suspend && !self.is_local(ip),
            _ => false,
        }
    }

    /// MISC_CHECK: `misc_path` is run by lvsim's interpreter on the director (a program
    /// such as curl or ping, or any command a lab script may use); exit status 0 is up. A
    /// program still running after `misc_timeout` is killed and counts as a failure.
    fn start_misc_check(&mut self, ctx: &mut Ctx, run: usize, path: &str, timeout_us: u64) {
        let attempt = {
            let r = &mut self.checkers().runs[run];
            r.attempt += 1;
            r.attempt
        };
        let generation = self.checkers_ref().generation;
        let wait = ExitWait::Check {
            generation,
            run,
            attempt,
        };
        match self.launch(ctx, "misc_path", path, wait) {
            Launch::Done(result) => self.check_done(ctx, run, result),
            Launch::Running(slot) => {
                self.checkers().runs[run].program = Some(slot);
                let timeout = CheckTimer::Timeout {
                    generation,
                    run,
                    attempt,
                };
                self.arm_check(ctx, timeout_us, timeout);
            }
        }
    }

    /// The program of a MISC_CHECK attempt exited.
    pub(crate) fn misc_check_exited(
        &mut self,
        ctx: &mut Ctx,
        (generation, run, attempt): (u64, usize, u64),
        succeeded: bool,
    ) {
        let Some(checkers) = self.keepalived.checkers() else {
            return;
        };
        let current = checkers.runs.get(run);
        if checkers.generation != generation || current.is_none_or(|r| r.attempt != attempt) {
            return;
        }
        self.checkers().runs[run].program = None;
        let result = if succeeded {
            Ok(())
        } else {
            Err("exit status 1".to_owned())
        };
        self.check_done(ctx, run, result);
    }

    /// What the checker's connection reports.
    pub(crate) fn checker_tcp(&mut self, ctx: &mut Ctx, socket: SocketId, event: TcpEvent) {
        let Some(run) = self
            .keepalived
            .checkers()
            .and_then(|c| c.run_of_socket(socket))
        else {
            return;
        };
        let kind = self.checker_conf(run).kind.clone();
        match (event, &kind) {
            (TcpEvent::Connected, CheckKind::Tcp) => {
                self.checkers().runs[run].socket = None;
                self.tcp_close(ctx, socket);
                self.check_done(ctx, run, Ok(()));
            }
            (TcpEvent::Connected, CheckKind::Http { urls, .. }) => {
                let c = self.checker_conf(run);
                let url = urls.get(self.checkers_ref().runs[run].url);
                let host = url
                    .and_then(|u| u.virtualhost.clone())
                    .unwrap_or_else(|| format!("{}:{}", c.connect_ip, c.connect_port));
                let path = url.map_or("/".to_owned(), |u| u.path.clone());
                let request = format!(
                    "GET {path} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {host}\r\n\r\n"
                );
                self.tcp_write(ctx, socket, request.as_bytes());
            }
            (TcpEvent::Data(bytes), _) => self.checkers().runs[run].response.extend(bytes),
            (TcpEvent::PeerClosed, CheckKind::Http { urls, .. }) => {
                self.checkers().runs[run].socket = None;
                self.tcp_close(ctx, socket);
                let response = std::mem::take(&mut self.checkers().runs[run].response);
                let index = self.checkers_ref().runs[run].url;
                let verdict = http_verdict(&response, urls.get(index));
                if verdict.is_ok() && index + 1 < urls.len() {
                    self.checkers().runs[run].url += 1;
                    let attempt = self.checkers_ref().runs[run].attempt;
                    self.connect_check(ctx, run, attempt);
                } else {
                    self.check_done(ctx, run, verdict);
                }
            }
            (TcpEvent::Error(errno), _) => {
                self.checkers().runs[run].socket = None;
                self.check_done(ctx, run, Err(errno.to_owned()));
            }
            _ => {}
        }
    }

    /// `tcp_epilog` / `http_epilog`: act on one attempt's result and schedule the next.
    fn check_done(&mut self, ctx: &mut Ctx, run: usize, result: Result<(), String>) {
        let c = self.checker_conf(run).clone();
        let (vs, rs) = {
            let r = &self.checkers_ref().runs[run];
            (r.vs, r.rs)
        };
        let rs_name = self.checkers_ref().rs_name(vs, rs);
        let kind = match c.kind {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http { ssl: true, .. } => "SSL_GET",
            CheckKind::Http { .. } => "HTTP_GET",
            CheckKind::Misc { .. } => "MISC_CHECK",
        };
        let r = self.checkers_ref().runs[run].clone();
        let mut delay = c.delay_loop_us;
        let success = result.is_ok();
        if success || ((r.up || !r.has_run) && r.retry_it >= c.retry) {
            self.checkers().runs[run].retry_it = 0;
            if success && (!r.up || !r.has_run) {
                self.checker_say(ctx, format!("{kind} on service {rs_name} success."));
                self.checker_state(ctx, run, true);
            } else if !success && (r.up || !r.has_run) {
                let retries = if c.retry > 0 && r.has_run {
                    format!(" after {} retries", c.retry)
                } else {
                    String::new()
                };
                let why = result.clone().err().unwrap_or_default();
                self.checker_say(
                    ctx,
                    format!("{kind} on service {rs_name} failed{retries} ({why})."),
                );
                self.checker_state(ctx, run, false);
            }
        } else if r.up {
            delay = c.delay_before_retry_us;
            self.checkers().runs[run].retry_it += 1;
            let why = result.clone().err().unwrap_or_default();
            self.record_check(
                ctx,
                vs,
                rs,
                "failed",
                format!(
                    "retry {}/{} in {} s ({why})",
                    r.retry_it + 1,
                    c.retry,
                    delay as f64 / 1e6
                ),
            );
        }
        self.checkers().runs[run].has_run = true;
        let generation = self.checkers_ref().generation;
        self.arm_check(ctx, delay, CheckTimer::Start { generation, run });
    }

    pub(super) fn record_check(
        &mut self,
        ctx: &mut Ctx,
        vs: usize,
        rs: usize,
        result: &str,
        action: String,
    ) {
        let real = &self.checkers_ref().servers[vs].real_servers[rs];
        let rs = format!("{}:{}", real.addr, real.port);
        self.keepalived.check_records.push(CheckRecord {
            t: ctx.now,
            rs,
            result: result.to_owned(),
            action,
        });
    }

    /// `update_svr_checker_state`: a real server is alive when all its checkers are up.
    fn checker_state(&mut self, ctx: &mut Ctx, run: usize, up: bool) {
        let (vs, rs) = {
            let r = &mut self.checkers().runs[run];
            r.up = up;
            (r.vs, r.rs)
        };
        let alive = self.checkers_ref().checks_up(vs, rs);
        if alive == self.checkers_ref().alive[vs][rs] {
            return;
        }
        self.checkers().alive[vs][rs] = alive;
        let action = self.apply_rs_state(ctx, vs, rs, alive);
        self.record_check(ctx, vs, rs, if alive { "up" } else { "down" }, action);
        let real = &self.checkers_ref().servers[vs].real_servers[rs];
        let script = if alive {
            &real.notify_up
        } else {
            &real.notify_down
        };
        if let Some(script) = script.clone() {
            let name = self.checkers_ref().rs_name(vs, rs);
            self.checker_say(ctx, format!("(RS {name}) runs notify script: {script}"));
        }
        self.update_quorum(ctx, vs);
    }

    /// A reload: services no longer configured are removed, then the new checkers start
    /// like a fresh daemon's (existing entries are edited in place, known servers keep their
    /// state).
    pub(crate) fn checkers_reload(&mut self, ctx: &mut Ctx, next: Checkers) {
        for socket in self.checkers_ref().open_sockets() {
            self.tcp_close(ctx, socket);
        }
        let old = std::mem::replace(self.checkers(), next);
        let kept: Vec<ServiceKey> = (0..self.checkers_ref().servers.len())
            .flat_map(|vs| self.checkers_ref().service_keys(vs))
            .collect();
        for vs in 0..old.servers.len() {
            for key in old.service_keys(vs) {
                if !kept.contains(&key) {
                    let name = old.vs_name(vs);
                    self.ka_ipvs(
                        ctx,
                        Command::DeleteService(key),
                        format!("Removing VS {name} (no longer configured)"),
                    );
                }
            }
        }
        self.checkers_start(ctx);
    }

    /// SIGTERM (§5 "Shutdown"): every real server removed, then every virtual server.
    pub(crate) fn checkers_stop(&mut self, ctx: &mut Ctx) {
        let count = self.checkers_ref().servers.len();
        for vs in 0..count {
            if self.checkers_ref().servers[vs].omega {
                self.omega_notifies(ctx, vs);
            }
            for rs in 0..self.checkers_ref().servers[vs].real_servers.len() {
                self.set_dest(ctx, vs, rs, None, "shutdown");
            }
            for key in self.checkers_ref().service_keys(vs) {
                let name = self.checkers_ref().vs_name(vs);
                self.ka_ipvs(
                    ctx,
                    Command::DeleteService(key),
                    format!("Removing VS {name}"),
                );
            }
        }
    }
}

/// HTTP_GET's verdict on a whole response: the status code must be in the url's set.
fn http_verdict(response: &[u8], url: Option<&super::config::Url>) -> Result<(), String> {
    let text = String::from_utf8_lossy(response);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP response")?;
    let accepted = url.map_or(vec![(200, 299)], |u| u.status_codes.clone());
    if accepted.iter().any(|&(lo, hi)| (lo..=hi).contains(&status)) {
        Ok(())
    } else {
        Err(format!("HTTP status code error {status}"))
    }
}
