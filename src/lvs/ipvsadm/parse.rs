//! ipvsadm's command line: `parse_options` (the first option must be a command; every later
//! option is handled the moment popt returns it, so the first bad value wins) and the checks of
//! `process_options` that run before anything reaches the kernel.

use std::net::IpAddr;

use super::addr::{parse_netmask, parse_service};
use super::command::{Command, DaemonConfig, DaemonState, IpvsadmError, ListOptions};
use super::errors::{fail, popt_error, try_help};
use super::numbers::{atoi, fwmark, string_to_number};
use super::options::{Cmd, Col, OptSet, Tag, generic_opt_check, tunnel_opt_check};
use super::popt::Popt;
use crate::lvs::service::{
    DestConfig, Forward, Netmask, Protocol, ServiceConfig, ServiceKey, TunnelCsum, TunnelSpec,
    TunnelType, flags,
};

/// What ipvsadm's zeroed structures hold for an address not given.
const UNSPECIFIED: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
/// `MAX_TIMEOUT`: 31 days.
const MAX_TIMEOUT: i64 = 86400 * 31;
/// `IPVS_SVC_PERSISTENT_TIMEOUT`: what a bare `-p` means.
const DEFAULT_PERSISTENT_TIMEOUT: u32 = 6 * 60;
/// The largest `-w`: Debian's 1:1.31 build accepts INT_MAX (ipvsadm.md §3; the upstream
/// source says 65535).
const MAX_WEIGHT: i64 = i32::MAX as i64;
/// `DEF_SCHED`.
pub(super) const DEFAULT_SCHEDULER: &str = "wlc";
/// `DEF_MCAST_IFN`.
const DEFAULT_MCAST_INTERFACE: &str = "eth0";
/// `IP_VS_SCHEDNAME_MAXLEN - 1`, `IP_VS_PENAME_MAXLEN`, `IP_VS_IFNAME_MAXLEN - 1`: the
/// `strncpy` limits, and the 128-byte `sched_flags_arg` buffer.
const SCHED_NAME_MAX: usize = 15;
const PE_NAME_MAX: usize = 16;
const IFNAME_MAX: usize = 15;
const SCHED_FLAGS_MAX: usize = 127;
/// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM` and `_REMCSUM` (`--tun-nocsum` is 0).
const TUN_FLAG_CSUM: u32 = 1;
const TUN_FLAG_REMCSUM: u32 = 2;

/// One invocation: `parse_options`, then `process_options` up to the kernel call. With
/// `in_restore` (a line of `-R` input) `-R` itself is refused, as `restore_table` does when
/// `reading_stdin` is set.
pub(super) fn parse_argv(argv: &[&str], in_restore: bool) -> Result<Command, IpvsadmError> {
    if argv.len() <= 1 {
        return Ok(Command::List(ListOptions::default()));
    }
    let argv0 = argv[0];
    let mut popt = Popt::new(argv);
    let first = match popt.next_opt() {
        Ok(Some(found)) => found,
        _ => return Err(try_help(argv0)),
    };
    let mut entry = match first_command(first.tag, first.arg, argv0)? {
        First::Command(cmd, daemon_state) => Entry::new(cmd, daemon_state),
        First::Done(command) => return Ok(command),
    };
    loop {
        match popt.next_opt() {
            Ok(Some(found)) => entry.option(found.tag, found.arg, popt.bad_option())?,
            Ok(None) => break,
            Err(e) => return Err(popt_error(popt.bad_option(), e.text())),
        }
    }
    entry.finish_parse(popt.leftovers())?;
    let command = entry.process()?;
    if in_restore && command == Command::Restore {
        return Err(try_help(argv0));
    }
    Ok(command)
}

/// What the first option decides: the command (with the state word of the daemon commands).
enum First {
    Command(Cmd, DaemonState),
    /// `-h` and `-v` print and exit before anything else is read.
    Done(Command),
}

/// The switch on the first option of `parse_options`.
fn first_command(tag: Tag, arg: Option<&str>, argv0: &str) -> Result<First, IpvsadmError> {
    let cmd = match tag {
        Tag::AddService => Cmd::Add,
        Tag::EditService => Cmd::Edit,
        Tag::DeleteService => Cmd::Del,
        Tag::AddServer => Cmd::AddDest,
        Tag::EditServer => Cmd::EditDest,
        Tag::DeleteServer => Cmd::DelDest,
        Tag::Clear => Cmd::Flush,
        Tag::List => Cmd::List,
        Tag::Zero => Cmd::Zero,
        Tag::Set => Cmd::Timeout,
        Tag::Restore => Cmd::Restore,
        Tag::Save => Cmd::Save,
        Tag::AddLaddr => Cmd::AddLaddr,
        Tag::DelLaddr => Cmd::DelLaddr,
        Tag::GetLaddr => Cmd::GetLaddr,
        Tag::StartDaemon => {
            let state = daemon_state(arg, "illegal start-daemon parameter specified")?;
            return Ok(First::Command(Cmd::StartDaemon, state));
        }
        Tag::StopDaemon => {
            let state = daemon_state(arg, "illegal start_daemon specified")?;
            return Ok(First::Command(Cmd::StopDaemon, state));
        }
        Tag::Help => return Ok(First::Done(Command::Help)),
        Tag::Version => return Ok(First::Done(Command::Version)),
        _ => return Err(try_help(argv0)),
    };
    Ok(First::Command(cmd, DaemonState::Master))
}

fn daemon_state(arg: Option<&str>, error: &str) -> Result<DaemonState, IpvsadmError> {
    match arg {
        Some("master") => Ok(DaemonState::Master),
        Some("backup") => Ok(DaemonState::Backup),
        _ => Err(fail(error)),
    }
}

/// An address family as `ipvs_service_t.af` holds it (zero until something sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Family {
    #[default]
    Unspec,
    Inet,
    Inet6,
}

fn family_of(addr: Option<IpAddr>) -> Family {
    match addr {
        None => Family::Unspec,
        Some(IpAddr::V4(_)) => Family::Inet,
        Some(IpAddr::V6(_)) => Family::Inet6,
    }
}

/// `ce.svc` while the line is read.
#[derive(Debug)]
struct Svc {
    af: Family,
    protocol: Option<Protocol>,
    addr: Option<IpAddr>,
    port: u16,
    fwmark: u32,
    sched: String,
    flags: u32,
    timeout: u32,
    netmask: Netmask,
    pe: String,
}

impl Default for Svc {
    fn default() -> Svc {
        Svc {
            af: Family::Unspec,
            protocol: None,
            addr: None,
            port: 0,
            fwmark: 0,
            sched: String::new(),
            flags: 0,
            timeout: 0,
            netmask: Netmask::V4(u32::MAX),
            pe: String::new(),
        }
    }
}

/// `ce.dest` while the line is read.
#[derive(Debug)]
struct Dest {
    addr: Option<IpAddr>,
    port: u16,
    fwd: Forward,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: TunnelType,
    tun_port: u16,
    tun_flags: u32,
}

impl Default for Dest {
    fn default() -> Dest {
        Dest {
            addr: None,
            port: 0,
            fwd: Forward::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
        }
    }
}

/// `ce.daemon` while the line is read.
#[derive(Debug)]
struct Daemon {
    state: DaemonState,
    mcast_ifn: String,
    syncid: u8,
    group: Option<IpAddr>,
    port: Option<u16>,
    ttl: Option<u8>,
    maxlen: Option<u16>,
}

impl Daemon {
    fn new(state: DaemonState) -> Daemon {
        Daemon {
            state,
            mcast_ifn: String::new(),
            syncid: 0,
            group: None,
            port: None,
            ttl: None,
            maxlen: None,
        }
    }
}

/// `struct ipvs_command_entry` plus the option set and the deferred `-b` text.
#[derive(Debug)]
struct Entry {
    cmd: Cmd,
    options: OptSet,
    svc: Svc,
    dest: Dest,
    daemon: Daemon,
    timeouts: (u32, u32, u32),
    laddr: Option<IpAddr>,
    sched_flags_arg: String,
}

impl Entry {
    /// The entry `process_options` zeroes before parsing: weight 1, `-g`, a /32 mask.
    fn new(cmd: Cmd, daemon_state: DaemonState) -> Entry {
        Entry {
            cmd,
            options: OptSet::default(),
            svc: Svc::default(),
            dest: Dest::default(),
            daemon: Daemon::new(daemon_state),
            timeouts: (0, 0, 0),
            laddr: None,
            sched_flags_arg: String::new(),
        }
    }
}

/// A `strncpy` into a fixed field: at most `max` bytes, cut on a character boundary.
fn truncated(text: &str, max: usize) -> String {
    let end = (0..=max.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[..end].to_string()
}

/// `parse_timeout`: a missing value (bare `-p`) is the default persistence timeout.
fn parse_timeout(arg: Option<&str>, min: i64) -> Result<u32, IpvsadmError> {
    let Some(text) = arg else {
        return Ok(DEFAULT_PERSISTENT_TIMEOUT);
    };
    string_to_number(text, min, MAX_TIMEOUT)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| fail(format!("invalid timeout value `{text}' specified")))
}

/// A numeric option value in `min..=max`, else `fail(message)`.
fn number<T: TryFrom<i64>>(
    arg: &str,
    min: i64,
    max: i64,
    message: &str,
) -> Result<T, IpvsadmError> {
    string_to_number(arg, min, max)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| fail(message))
}

impl Entry {
    /// One option of the `parse_options` loop.
    fn option(
        &mut self,
        tag: Tag,
        arg: Option<&str>,
        bad_option: &str,
    ) -> Result<(), IpvsadmError> {
        let text = arg.unwrap_or("");
        match tag {
            Tag::TcpService => self.service(Protocol::Tcp, text),
            Tag::UdpService => self.service(Protocol::Udp, text),
            Tag::SctpService => self.service(Protocol::Sctp, text),
            Tag::FwmarkService => self.fwmark_service(text),
            Tag::Scheduler => {
                self.options.set(Col::Scheduler)?;
                self.svc.sched = truncated(text, SCHED_NAME_MAX);
                Ok(())
            }
            Tag::Persistent => {
                self.options.set(Col::Persistent)?;
                self.svc.flags |= flags::PERSISTENT;
                self.svc.timeout = parse_timeout(arg, 1)?;
                Ok(())
            }
            Tag::Netmask => self.netmask(text),
            Tag::RealServer => self.real_server(text),
            Tag::Ipip => self.forward(Forward::Tunnel),
            Tag::Gatewaying => self.forward(Forward::Route),
            Tag::Masquerading => self.forward(Forward::Masq),
            Tag::FullNat => self.forward(Forward::FullNat),
            Tag::Ipv6 => self.ipv6(),
            Tag::Ops => {
                self.options.set(Col::OnePacket)?;
                self.svc.flags |= flags::ONEPACKET;
                Ok(())
            }
            Tag::Pe => {
                self.options.set(Col::PersistenceEngine)?;
                self.svc.pe = truncated(text, PE_NAME_MAX);
                Ok(())
            }
            Tag::SchedFlags => {
                self.options.set(Col::SchedFlags)?;
                self.sched_flags_arg = truncated(text, SCHED_FLAGS_MAX);
                Ok(())
            }
            Tag::Laddr => self.local_address(text),
            Tag::Sort => Ok(()),
            _ => match flag_column(tag) {
                Some(col) => self.options.set(col),
                None => self.value_option(tag, text, bad_option),
            },
        }
    }

    /// The destination and daemon options that carry a checked value.
    fn value_option(&mut self, tag: Tag, text: &str, bad_option: &str) -> Result<(), IpvsadmError> {
        match tag {
            Tag::Weight => {
                self.options.set(Col::Weight)?;
                self.dest.weight = number(text, 0, MAX_WEIGHT, "illegal weight specified")?;
            }
            Tag::UThreshold => {
                self.options.set(Col::UThreshold)?;
                self.dest.u_threshold =
                    number(text, 0, i32::MAX.into(), "illegal u_threshold specified")?;
            }
            Tag::LThreshold => {
                self.options.set(Col::LThreshold)?;
                self.dest.l_threshold =
                    number(text, 0, i32::MAX.into(), "illegal l_threshold specified")?;
            }
            Tag::TunType => {
                self.options.set(Col::TunType)?;
                self.dest.tun_type = tunnel_type(text)?;
            }
            Tag::TunPort => {
                self.options.set(Col::TunPort)?;
                self.dest.tun_port = number(text, 1, 65535, "illegal tunnel port specified")?;
            }
            Tag::TunNocsum | Tag::TunCsum | Tag::TunRemcsum => self.tunnel_csum(tag)?,
            Tag::McastInterface => {
                self.options.set(Col::Mcast)?;
                self.daemon.mcast_ifn = truncated(text, IFNAME_MAX);
            }
            Tag::Syncid => {
                self.options.set(Col::Syncid)?;
                self.daemon.syncid = number(text, 0, 255, "illegal syncid specified")?;
            }
            Tag::McastGroup => {
                self.options.set(Col::McastGroup)?;
                self.daemon.group = Some(mcast_group(text)?);
            }
            Tag::McastPort => {
                self.options.set(Col::McastPort)?;
                self.daemon.port = Some(number(text, 1, 65535, "illegal mcast-port specified")?);
            }
            Tag::McastTtl => {
                self.options.set(Col::McastTtl)?;
                self.daemon.ttl = Some(number(text, 1, 255, "illegal mcast-ttl specified")?);
            }
            Tag::SyncMaxlen => {
                self.options.set(Col::SyncMaxlen)?;
                let max = 65535 - 20 - 8;
                self.daemon.maxlen = Some(number(text, 1, max, "illegal sync-maxlen specified")?);
            }
            // A second command, `-h` or `-v` after the command: the loop's default case.
            _ => return Err(fail(format!("invalid option `{bad_option}'"))),
        }
        Ok(())
    }

    /// `-t`, `-u`, `--sctp-service`.
    fn service(&mut self, proto: Protocol, text: &str) -> Result<(), IpvsadmError> {
        self.options.set(Col::Service)?;
        self.svc.protocol = Some(proto);
        let parsed = parse_service(text, Some(proto))
            .ok_or_else(|| fail("illegal virtual server address[:port] specified"))?;
        self.svc.addr = Some(parsed.addr);
        self.svc.af = family_of(Some(parsed.addr));
        if parsed.addr.is_ipv6() {
            self.svc.netmask = Netmask::V6(128);
        }
        if let Some(port) = parsed.port {
            self.svc.port = port;
        }
        Ok(())
    }

    /// `-f`: the protocol is set to TCP "to a sane value", the family to IPv4.
    fn fwmark_service(&mut self, text: &str) -> Result<(), IpvsadmError> {
        self.options.set(Col::Service)?;
        self.svc.af = Family::Inet;
        self.svc.protocol = Some(Protocol::Tcp);
        self.svc.fwmark =
            fwmark(text).ok_or_else(|| fail(format!("invalid fwmark value `{text}' specified")))?;
        Ok(())
    }

    /// `-M`: read for the family known at this point of the line.
    fn netmask(&mut self, text: &str) -> Result<(), IpvsadmError> {
        self.options.set(Col::Netmask)?;
        self.svc.netmask = if self.svc.af == Family::Inet6 {
            let plen = atoi(text);
            let plen = u8::try_from(plen)
                .ok()
                .filter(|p| (1..=128).contains(p))
                .ok_or_else(|| fail("illegal ipv6 netmask specified"))?;
            Netmask::V6(plen)
        } else {
            let mask = parse_netmask(text)
                .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?;
            Netmask::V4(mask)
        };
        Ok(())
    }

    /// `-r`: a missing port copies the service port as known now.
    fn real_server(&mut self, text: &str) -> Result<(), IpvsadmError> {
        self.options.set(Col::Server)?;
        let parsed = parse_service(text, self.svc.protocol)
            .ok_or_else(|| fail("illegal real server address[:port] specified"))?;
        self.dest.addr = Some(parsed.addr);
        self.dest.port = parsed.port.unwrap_or(self.svc.port);
        Ok(())
    }

    fn forward(&mut self, fwd: Forward) -> Result<(), IpvsadmError> {
        self.options.set(Col::Forward)?;
        self.dest.fwd = fwd;
        Ok(())
    }

    /// `-6` is not an option of the table: it only flips an fwmark service to IPv6.
    fn ipv6(&mut self) -> Result<(), IpvsadmError> {
        if self.svc.fwmark == 0 {
            return Err(fail("-6 used before -f\n"));
        }
        self.svc.af = Family::Inet6;
        self.svc.netmask = Netmask::V6(128);
        Ok(())
    }

    fn tunnel_csum(&mut self, tag: Tag) -> Result<(), IpvsadmError> {
        let (col, bit) = match tag {
            Tag::TunCsum => (Col::TunCsum, TUN_FLAG_CSUM),
            Tag::TunRemcsum => (Col::TunRemcsum, TUN_FLAG_REMCSUM),
            _ => (Col::TunNocsum, 0),
        };
        self.options.set(col)?;
        self.dest.tun_flags |= bit;
        Ok(())
    }

    /// FULLNAT `-z LIP` (alibaba/LVS: `parse_service`, then "illegal local address").
    fn local_address(&mut self, text: &str) -> Result<(), IpvsadmError> {
        self.options.set(Col::LocalAddress)?;
        let parsed = parse_service(text, None).ok_or_else(|| fail("illegal local address"))?;
        self.laddr = Some(parsed.addr);
        Ok(())
    }

    /// The end of `parse_options`: `--set`'s three values, a trailing operand, then `-b`
    /// (checked against the scheduler, `wlc` when none was given).
    fn finish_parse(&mut self, leftovers: &[&str]) -> Result<(), IpvsadmError> {
        let mut leftovers = leftovers.iter();
        if self.cmd == Cmd::Timeout {
            let [tcp, tcpfin, udp] = [leftovers.next(), leftovers.next(), leftovers.next()];
            let (Some(tcp), Some(tcpfin), Some(udp)) = (tcp, tcpfin, udp) else {
                return Err(fail("--set option requires 3 timeout values"));
            };
            let zero_ok = |t: &str| parse_timeout(Some(t), 0);
            self.timeouts = (zero_ok(tcp)?, zero_ok(tcpfin)?, zero_ok(udp)?);
        }
        if let Some(extra) = leftovers.next() {
            return Err(fail(format!("unexpected argument {extra}")));
        }
        if !self.sched_flags_arg.is_empty() {
            let sched_bits = flags::SCHED1 | flags::SCHED2 | flags::SCHED3;
            self.svc.flags &= !sched_bits;
            self.svc.flags |= parse_sched_flags(&self.svc.sched, &self.sched_flags_arg)?;
        }
        Ok(())
    }

    /// `process_options` up to the kernel call: the legality matrix, then the checks of
    /// each command, then the command itself.
    fn process(mut self) -> Result<Command, IpvsadmError> {
        generic_opt_check(self.cmd, self.options)?;
        match self.cmd {
            Cmd::Add | Cmd::Edit => self.check_service()?,
            Cmd::AddDest | Cmd::EditDest => self.check_dest()?,
            Cmd::List => self.check_list()?,
            _ => {}
        }
        Ok(self.command())
    }

    fn check_service(&mut self) -> Result<(), IpvsadmError> {
        let svc = &self.svc;
        if svc.fwmark == 0 && svc.port == 0 && svc.flags & flags::PERSISTENT == 0 {
            return Err(fail("Zero port specified for non-persistent service"));
        }
        let udp = svc.protocol == Some(Protocol::Udp);
        if svc.flags & flags::ONEPACKET != 0 && svc.fwmark == 0 && !udp {
            return Err(fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if self.svc.sched.is_empty() {
            self.svc.sched = DEFAULT_SCHEDULER.to_string();
        }
        Ok(())
    }

    fn check_dest(&mut self) -> Result<(), IpvsadmError> {
        let fwd = self.dest.fwd;
        if self.svc.fwmark == 0 && matches!(fwd, Forward::Tunnel | Forward::Route) {
            self.dest.port = self.svc.port;
        }
        if family_of(self.dest.addr) != self.svc.af && fwd != Forward::Tunnel {
            return Err(fail(
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tunnel_cols = [
            Col::TunType,
            Col::TunPort,
            Col::TunNocsum,
            Col::TunCsum,
            Col::TunRemcsum,
        ];
        if tunnel_cols.iter().any(|&c| self.options.has(c)) && fwd != Forward::Tunnel {
            return Err(fail("Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(self.dest.tun_type, self.options)
    }

    fn check_list(&self) -> Result<(), IpvsadmError> {
        let has = |col| self.options.has(col);
        let table = has(Col::Connection) || has(Col::Timeout) || has(Col::Daemon);
        let counters = has(Col::Stats) || has(Col::Rate) || has(Col::Thresholds);
        let timeout_or_daemon = has(Col::Timeout) || has(Col::Daemon);
        if (table && counters) || (timeout_or_daemon && has(Col::PersistentConn)) {
            return Err(fail("options conflicts in the list command"));
        }
        Ok(())
    }

    /// The service the line names. The fields start zeroed, as ipvsadm's `memset` leaves
    /// them; the legality matrix has already demanded a service wherever one is read.
    fn service_key(&self) -> ServiceKey {
        if self.svc.fwmark != 0 {
            return ServiceKey::Fwmark {
                mark: self.svc.fwmark,
                ipv6: self.svc.af == Family::Inet6,
            };
        }
        ServiceKey::Addr {
            proto: self.svc.protocol.unwrap_or(Protocol::Tcp),
            addr: self.svc.addr.unwrap_or(UNSPECIFIED),
            port: self.svc.port,
        }
    }

    fn optional_service_key(&self) -> Option<ServiceKey> {
        self.options.has(Col::Service).then(|| self.service_key())
    }

    fn service_config(&self) -> ServiceConfig {
        ServiceConfig {
            key: self.service_key(),
            sched: self.svc.sched.clone(),
            flags: self.svc.flags,
            timeout: self.svc.timeout,
            netmask: self.svc.netmask,
            pe: (!self.svc.pe.is_empty()).then(|| self.svc.pe.clone()),
        }
    }

    fn dest_config(&self) -> DestConfig {
        let csum = match self.dest.tun_flags {
            f if f & TUN_FLAG_REMCSUM != 0 => TunnelCsum::RemCsum,
            f if f & TUN_FLAG_CSUM != 0 => TunnelCsum::Csum,
            _ => TunnelCsum::NoCsum,
        };
        DestConfig {
            addr: self.dest_addr(),
            port: self.dest.port,
            fwd: self.dest.fwd,
            weight: self.dest.weight,
            u_threshold: self.dest.u_threshold,
            l_threshold: self.dest.l_threshold,
            tun: TunnelSpec {
                kind: self.dest.tun_type,
                port: self.dest.tun_port,
                csum,
            },
        }
    }

    /// The `-r` address (zeroed until given; the matrix demands it where it is read).
    fn dest_addr(&self) -> IpAddr {
        self.dest.addr.unwrap_or(UNSPECIFIED)
    }

    fn list_options(&self) -> ListOptions {
        let has = |col| self.options.has(col);
        ListOptions {
            numeric: has(Col::Numeric),
            service: self.optional_service_key(),
            connections: has(Col::Connection),
            timeout: has(Col::Timeout),
            daemon: has(Col::Daemon),
            stats: has(Col::Stats),
            rate: has(Col::Rate),
            thresholds: has(Col::Thresholds),
            persistent_conn: has(Col::PersistentConn),
            tun_info: has(Col::TunInfo),
            nosort: has(Col::NoSort),
            exact: has(Col::Exact),
        }
    }

    fn daemon_config(&self) -> DaemonConfig {
        let d = &self.daemon;
        let mcast_ifn = if d.mcast_ifn.is_empty() {
            DEFAULT_MCAST_INTERFACE.to_string()
        } else {
            d.mcast_ifn.clone()
        };
        DaemonConfig {
            state: d.state,
            mcast_ifn,
            syncid: d.syncid,
            group: d.group,
            port: d.port,
            ttl: d.ttl,
            maxlen: d.maxlen,
        }
    }

    fn command(&self) -> Command {
        let (tcp, tcpfin, udp) = self.timeouts;
        let laddr = self.laddr.unwrap_or(UNSPECIFIED);
        match self.cmd {
            Cmd::Add => Command::AddService(self.service_config()),
            Cmd::Edit => Command::EditService(self.service_config()),
            Cmd::Del => Command::DeleteService(self.service_key()),
            Cmd::Flush => Command::Clear,
            Cmd::List => Command::List(self.list_options()),
            Cmd::AddDest => Command::AddDest {
                service: self.service_key(),
                dest: self.dest_config(),
            },
            Cmd::EditDest => Command::EditDest {
                service: self.service_key(),
                dest: self.dest_config(),
            },
            Cmd::DelDest => Command::DeleteDest {
                service: self.service_key(),
                addr: self.dest_addr(),
                port: self.dest.port,
            },
            Cmd::Timeout => Command::SetTimeouts { tcp, tcpfin, udp },
            Cmd::StartDaemon => Command::StartDaemon(self.daemon_config()),
            Cmd::StopDaemon => Command::StopDaemon {
                state: self.daemon.state,
            },
            Cmd::Restore => Command::Restore,
            Cmd::Save => Command::Save {
                numeric: self.options.has(Col::Numeric),
            },
            Cmd::Zero => Command::Zero(self.optional_service_key()),
            Cmd::AddLaddr => Command::AddLaddr {
                service: self.service_key(),
                addr: laddr,
            },
            Cmd::DelLaddr => Command::DelLaddr {
                service: self.service_key(),
                addr: laddr,
            },
            Cmd::GetLaddr => Command::ListLaddrs {
                service: self.optional_service_key(),
            },
        }
    }
}

/// The options that only mark themselves as given.
fn flag_column(tag: Tag) -> Option<Col> {
    Some(match tag {
        Tag::Numeric => Col::Numeric,
        Tag::Connection => Col::Connection,
        Tag::Timeout => Col::Timeout,
        Tag::Daemon => Col::Daemon,
        Tag::Stats => Col::Stats,
        Tag::Rate => Col::Rate,
        Tag::Thresholds => Col::Thresholds,
        Tag::PersistentConn => Col::PersistentConn,
        Tag::NoSort => Col::NoSort,
        Tag::Exact => Col::Exact,
        Tag::TunInfo => Col::TunInfo,
        _ => return None,
    })
}

/// `parse_tun_type`.
fn tunnel_type(text: &str) -> Result<TunnelType, IpvsadmError> {
    match text {
        "ipip" => Ok(TunnelType::Ipip),
        "gue" => Ok(TunnelType::Gue),
        "gre" => Ok(TunnelType::Gre),
        _ => Err(fail("illegal tunnel type specified")),
    }
}

/// `--mcast-group`: IPv6 when the text has a colon; either way it must be multicast.
fn mcast_group(text: &str) -> Result<IpAddr, IpvsadmError> {
    if text.contains(':') {
        text.parse::<std::net::Ipv6Addr>()
            .ok()
            .filter(|a| a.is_multicast())
            .map(IpAddr::V6)
            .ok_or_else(|| fail(format!("invalid IPv6 mcast-group `{text}'")))
    } else {
        text.parse::<std::net::Ipv4Addr>()
            .ok()
            .filter(|a| a.is_multicast())
            .map(IpAddr::V4)
            .ok_or_else(|| fail(format!("invalid IPv4 mcast-group `{text}'")))
    }
}

/// `parse_sched_flags`: comma-separated (empty items skipped, as `strtok` skips them); the
/// `sh-*`/`mh-*` names only with their scheduler.
fn parse_sched_flags(sched: &str, text: &str) -> Result<u32, IpvsadmError> {
    let sched = if sched.is_empty() {
        DEFAULT_SCHEDULER
    } else {
        sched
    };
    let mut names = text.split(',').filter(|name| !name.is_empty()).peekable();
    if names.peek().is_none() {
        // strtok finds no token and ipvsadm hands NULL to strcmp: the process dies.
        return Err(IpvsadmError {
            message: "Segmentation fault".to_string(),
            exit: 139,
        });
    }
    names.try_fold(0, |bits, name| {
        let (bit, needs) =
            sched_flag(name).ok_or_else(|| fail(format!("invalid scheduler flag `{name}'")))?;
        if needs.is_some_and(|s| s != sched) {
            return Err(fail(format!("incompatible scheduler flag `{name}'")));
        }
        Ok(bits | bit)
    })
}

/// A scheduler flag's bit and the scheduler it belongs to (None: any).
fn sched_flag(name: &str) -> Option<(u32, Option<&'static str>)> {
    Some(match name {
        "flag-1" => (flags::SCHED1, None),
        "flag-2" => (flags::SCHED2, None),
        "flag-3" => (flags::SCHED3, None),
        "sh-fallback" => (flags::SCHED1, Some("sh")),
        "sh-port" => (flags::SCHED2, Some("sh")),
        "mh-fallback" => (flags::SCHED1, Some("mh")),
        "mh-port" => (flags::SCHED2, Some("mh")),
        _ => return None,
    })
}
