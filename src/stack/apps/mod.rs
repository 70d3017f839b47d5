//! Programs running on a host (`ping`, `curl`, `ab`, `arping`, `arpspoof`) and the web
//! server started by `systemctl start nginx|httpd`. Programs talk to the stack only through
//! the calls a real program makes: sockets, raw ICMP, packet sockets.

pub mod arping;
pub mod arpspoof;
pub mod http_client;
pub mod ping;
pub mod web_server;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::ctx::Ctx;
use super::host::Host;
use super::iface::IfIndex;
use super::tcp::{Owner, SocketId, TcpEvent};
use crate::trace::AppReport;
use crate::wire::arp::ArpRepr;
use crate::wire::ethernet::EthHeader;
use crate::wire::icmp::IcmpMessage;

/// The lines of an HTTP head: exactly `text.split("\r\n")`, without the general substring
/// searcher (HTTP heads are short and parsed for every request and response).
pub(crate) fn crlf_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.as_bytes().windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                rest = Some(&t[i + 2..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

/// The value of header `name` on `line`: exactly what follows the first `:` when the text
/// before it is `name` in any case (`name` holds no `:`), without a character search.
pub(crate) fn header_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let value = line.get(name.len()..)?.strip_prefix(':')?;
    line[..name.len()]
        .eq_ignore_ascii_case(name)
        .then_some(value)
}

/// Where `needle` first occurs in `bytes`: a plain scan, cheaper for the short texts of
/// HTTP than setting up the general substring searcher.
pub(crate) fn find_bytes<const N: usize>(bytes: &[u8], needle: &[u8; N]) -> Option<usize> {
    bytes.windows(N).position(|w| w == needle)
}

/// Identifies a running program: its slot on the host and its line in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppRef {
    pub slot: usize,
    pub report: usize,
}

/// An ICMP echo reply as ping's raw socket sees it.
#[derive(Debug, Clone, Copy)]
pub struct EchoReply {
    pub from: Ipv4Addr,
    pub id: u16,
    pub seq: u16,
    pub ttl: u8,
    pub bytes: usize,
}

/// An ICMP error about an echo request, as ping's raw socket sees it.
#[derive(Debug, Clone, Copy)]
pub struct EchoError {
    pub from: Ipv4Addr,
    pub id: u16,
    pub seq: u16,
    pub message: IcmpMessage,
}

/// How a program fared: what the report's `apps[]` entry shows once it has ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub ok: u64,
    pub failed: u64,
    /// Which host served each successful HTTP request.
    pub served_by: BTreeMap<String, u64>,
}

/// The raw sockets a program opens: only programs with one see every ARP frame (a packet
/// socket, arping) or every echo reply and ICMP error (a raw ICMP socket, ping).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawSockets {
    pub arp: bool,
    pub icmp: bool,
}

/// A program. Every hook but `start` and `tally` has a do-nothing default.
pub trait Program {
    /// The command name (`ping`), for `pkill`.
    fn name(&self) -> &'static str;
    /// The counts so far (written to the report when the program ends).
    fn tally(&self) -> Tally;
    /// The raw sockets it reads (none by default).
    fn raw_sockets(&self) -> RawSockets {
        RawSockets::default()
    }
    fn start(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef);
    fn timer(&mut self, _host: &mut Host, _ctx: &mut Ctx, _me: AppRef, _token: u64) {}
    fn tcp(
        &mut self,
        _host: &mut Host,
        _ctx: &mut Ctx,
        _me: AppRef,
        _socket: SocketId,
        _event: TcpEvent,
    ) {
    }
    /// An echo reply; true if it belongs to this program.
    fn echo_reply(
        &mut self,
        _host: &mut Host,
        _ctx: &mut Ctx,
        _me: AppRef,
        _reply: EchoReply,
    ) -> bool {
        false
    }
    /// An ICMP error quoting one of this program's echo requests; true if it is ours.
    fn echo_error(
        &mut self,
        _host: &mut Host,
        _ctx: &mut Ctx,
        _me: AppRef,
        _error: EchoError,
    ) -> bool {
        false
    }
    /// An ARP frame received on `dev` (packet socket).
    fn arp(
        &mut self,
        _host: &mut Host,
        _ctx: &mut Ctx,
        _me: AppRef,
        _dev: IfIndex,
        _eth: &EthHeader,
        _arp: &ArpRepr,
    ) {
    }
    /// SIGTERM (`pkill NAME`); the default ends the program at once.
    fn terminate(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        host.finish_program(ctx, me, self.tally());
    }
}

/// A program's place on its host.
pub struct AppSlot {
    pub program: Option<Box<dyn Program>>,
    pub me: AppRef,
    pub running: bool,
    /// keepalived waiting for this program's exit status (MISC_CHECK, vrrp_script).
    pub waiter: Option<crate::keepalived::external::ExitWait>,
}

/// Writes a line of program output when the timeline is being recorded.
#[macro_export]
macro_rules! say {
    ($ctx:expr, $($arg:tt)*) => {
        if $ctx.trace.wants_output() {
            let text = format!($($arg)*);
            $ctx.output(text);
        }
    };
}

impl Host {
    /// Starts `program` for the command line `cmd`; it is listed in the report at once.
    pub fn start_program(&mut self, ctx: &mut Ctx, cmd: &str, program: Box<dyn Program>) -> AppRef {
        self.start_program_for(ctx, cmd, program, None)
    }

    /// `start_program` for a health checker that waits for the program's exit.
    pub(crate) fn start_program_for(
        &mut self,
        ctx: &mut Ctx,
        cmd: &str,
        program: Box<dyn Program>,
        waiter: Option<crate::keepalived::external::ExitWait>,
    ) -> AppRef {
        let report = ctx.trace.apps.len();
        ctx.trace.apps.push(AppReport {
            host: self.name.clone(),
            cmd: cmd.to_owned(),
            ..AppReport::default()
        });
        let me = AppRef {
            slot: self.apps.len(),
            report,
        };
        let raw = program.raw_sockets();
        if raw.arp {
            self.arp_readers.push(me.slot);
        }
        if raw.icmp {
            self.icmp_readers.push(me.slot);
        }
        self.apps.push(AppSlot {
            program: Some(program),
            me,
            running: true,
            waiter,
        });
        self.with_program(me.slot, |program, host| program.start(host, ctx, me));
        me
    }

    /// Runs `f` on a program with the host borrowed mutably beside it.
    fn with_program<R: Default>(
        &mut self,
        slot: usize,
        f: impl FnOnce(&mut dyn Program, &mut Host) -> R,
    ) -> R {
        if !self.apps.get(slot).is_some_and(|s| s.running) {
            return R::default();
        }
        let Some(mut program) = self.apps[slot].program.take() else {
            return R::default();
        };
        let result = f(program.as_mut(), self);
        self.apps[slot].program = Some(program);
        result
    }

    /// A program ends: its counts go to the report (a program still running at the end of
    /// the run reports ok = failed = 0, as design.md specifies).
    pub fn finish_program(&mut self, ctx: &mut Ctx, me: AppRef, tally: Tally) {
        let mut waiting = None;
        if let Some(slot) = self.apps.get_mut(me.slot) {
            slot.running = false;
            waiting = slot.waiter.take();
        }
        let succeeded = tally.ok > 0 && tally.failed == 0;
        let report = &mut ctx.trace.apps[me.report];
        report.ok = tally.ok;
        report.failed = tally.failed;
        report.served_by = tally.served_by;
        report.finished = Some(ctx.now);
        if let Some(wait) = waiting {
            self.external_exited(ctx, wait, succeeded);
        }
    }

    /// Ends a program at once with its counts so far (SIGKILL, power off).
    pub(crate) fn kill_program(&mut self, ctx: &mut Ctx, slot: usize) {
        let me = self.apps[slot].me;
        self.with_program(slot, |program, host| {
            let tally = program.tally();
            host.finish_program(ctx, me, tally);
        });
    }

    pub(crate) fn app_timer(&mut self, ctx: &mut Ctx, slot: usize, token: u64) {
        let me = self.apps[slot].me;
        self.with_program(slot, |program, host| program.timer(host, ctx, me, token));
    }

    /// The slots of the running programs called `name`.
    fn program_slots(&self, name: &str) -> Vec<usize> {
        (0..self.apps.len())
            .filter(|&i| {
                self.apps[i].running
                    && self.apps[i]
                        .program
                        .as_ref()
                        .is_some_and(|p| p.name() == name)
            })
            .collect()
    }

    /// How many running programs are called `name`.
    pub fn count_programs(&self, name: &str) -> usize {
        self.program_slots(name).len()
    }

    /// `pkill [-9] NAME`: SIGTERM (the program may clean up) or SIGKILL (it ends at once) to
    /// every running program of that name. Returns how many got the signal.
    pub fn signal_programs(&mut self, ctx: &mut Ctx, name: &str, kill: bool) -> usize {
        let slots = self.program_slots(name);
        for &slot in &slots {
            let me = self.apps[slot].me;
            if kill {
                self.kill_program(ctx, slot);
            } else {
                self.with_program(slot, |program, host| program.terminate(host, ctx, me));
            }
        }
        slots.len()
    }

    /// Hands socket events to their owners, then sends the ACKs nobody piggybacked.
    pub(crate) fn dispatch_tcp_events(&mut self, ctx: &mut Ctx) {
        while let Some((socket, owner, event)) = self.tcp.events.pop_front() {
            match owner {
                Owner::WebServer => self.web_server_event(ctx, socket, event),
                Owner::Checker(_) => self.checker_tcp(ctx, socket, event),
                Owner::App(slot) => {
                    let me = self.apps[slot].me;
                    self.with_program(slot, |program, host| {
                        program.tcp(host, ctx, me, socket, event)
                    });
                }
            }
        }
        self.tcp_flush_acks(ctx);
    }

    /// Offers an echo reply to the running programs with a raw ICMP socket (each sees every
    /// one).
    pub(crate) fn deliver_echo_reply(
        &mut self,
        ctx: &mut Ctx,
        info: &crate::wire::ipv4::Ipv4Info,
        id: u16,
        seq: u16,
        data_len: usize,
    ) -> bool {
        let reply = EchoReply {
            from: info.src,
            id,
            seq,
            ttl: info.ttl,
            bytes: data_len + 8,
        };
        self.icmp_readers.clone().into_iter().any(|slot| {
            let me = self.apps[slot].me;
            self.with_program(slot, |program, host| {
                program.echo_reply(host, ctx, me, reply)
            })
        })
    }

    pub(crate) fn deliver_echo_error(&mut self, ctx: &mut Ctx, error: EchoError) -> bool {
        self.icmp_readers.clone().into_iter().any(|slot| {
            let me = self.apps[slot].me;
            self.with_program(slot, |program, host| {
                program.echo_error(host, ctx, me, error)
            })
        })
    }

    /// Copies an ARP frame to every running program with a packet socket (ETH_P_ARP).
    pub(crate) fn deliver_arp_to_programs(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        eth: &EthHeader,
        arp: &ArpRepr,
    ) {
        for slot in self.arp_readers.clone() {
            let me = self.apps[slot].me;
            self.with_program(slot, |program, host| {
                program.arp(host, ctx, me, dev, eth, arp)
            });
        }
    }

    /// A process id for a new program (ping uses it as its ICMP identifier).
    pub(crate) fn next_pid(&mut self) -> u32 {
        self.next_pid += 1;
        self.next_pid
    }

    /// Schedules a program's timer.
    pub(crate) fn program_timer(&self, ctx: &mut Ctx, me: AppRef, delay_ns: u64, token: u64) {
        ctx.after(
            delay_ns,
            super::host::HostEvent::AppTimer {
                app: me.slot,
                token,
            },
        );
    }
}

/// `00:0C:29:50:D5:63`: iputils prints hardware addresses in capitals.
pub fn upper_mac(mac: crate::wire::MacAddr) -> String {
    mac.to_string().to_uppercase()
}

/// Milliseconds with three decimals, as ping and arping print round-trip times.
pub fn millis(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000, (ns % 1_000_000) / 1_000)
}

#[cfg(test)]
mod tests {
    use super::{crlf_lines, header_value};

    #[test]
    fn crlf_lines_split_like_str_split() {
        for text in [
            "",
            "\r\n",
            "a",
            "GET / HTTP/1.0\r\nHost: x\r\n",
            "a\r\r\nb\n\rc\r\n\r\nd",
            "\r\n\r\n\r",
            "é\r\nü",
        ] {
            let ours: Vec<&str> = crlf_lines(text).collect();
            let std: Vec<&str> = text.split("\r\n").collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn header_value_reads_like_split_once() {
        for line in [
            "Content-Length: 12",
            "content-LENGTH:7",
            "Content-Length : 3",
            "Content-Lengthy: 3",
            "X-Content-Length: 3",
            "Content-Length",
            "Contént-Length: 1",
            "",
        ] {
            let std = line
                .split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v);
            assert_eq!(header_value(line, "content-length"), std, "{line:?}");
        }
    }
}
