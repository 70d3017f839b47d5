//! TIME_WAIT (net/ipv4/tcp_minisocks.c): a connection this host closed first lingers 60 s as
//! a small record (`inet_timewait_sock`) instead of a full socket — enough to re-acknowledge a
//! retransmitted FIN, to die on a reset and to let a newer SYN reopen the connection.

use std::collections::VecDeque;
use std::net::SocketAddrV4;

use rustc_hash::FxHashMap;

use super::ctx::Ctx;
use super::host::{Host, HostEvent};
use super::tcp::{TIME_WAIT_LEN, WINDOW, seq_after, ts_clock};
use crate::explain;
use crate::sim::SimTime;
use crate::wire::tcp::{ACK, RST, SYN, TcpOptions, TcpRepr, TcpSegment};

/// (local, remote) of a connection.
pub type ConnKey = (SocketAddrV4, SocketAddrV4);

/// What TIME_WAIT keeps of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWait {
    pub rcv_nxt: u32,
    pub snd_nxt: u32,
    /// (timestamp offset, last timestamp seen) when the connection used timestamps.
    pub ts: Option<(u32, u32)>,
    pub expires: SimTime,
}

/// A host's TIME_WAIT records. Every record lives exactly 60 s from its last (re)start, so
/// the queue of (expiry, connection) stays in time order and one timer event serves all.
#[derive(Default)]
pub struct TimeWaitTable {
    records: FxHashMap<ConnKey, TimeWait>,
    queue: VecDeque<(SimTime, ConnKey)>,
    scheduled: Option<SimTime>,
}

impl TimeWaitTable {
    pub fn contains(&self, key: &ConnKey) -> bool {
        self.records.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl Host {
    /// A connection enters TIME_WAIT.
    pub(crate) fn time_wait_insert(&mut self, ctx: &mut Ctx, key: ConnKey, record: TimeWait) {
        let tw = &mut self.tcp.time_wait;
        tw.queue.push_back((record.expires, key));
        tw.records.insert(key, record);
        self.schedule_time_wait(ctx);
    }

    fn schedule_time_wait(&mut self, ctx: &mut Ctx) {
        let tw = &mut self.tcp.time_wait;
        if tw.scheduled.is_some() {
            return;
        }
        if let Some(&(at, _)) = tw.queue.front() {
            tw.scheduled = Some(at);
            ctx.at(at, HostEvent::TimeWaitTimer);
        }
    }

    /// The TIME_WAIT timer: records whose 60 s ran out are forgotten.
    pub(crate) fn time_wait_timer(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let tw = &mut self.tcp.time_wait;
        tw.scheduled = None;
        while let Some(&(at, key)) = tw.queue.front() {
            if at > now {
                break;
            }
            tw.queue.pop_front();
            if tw.records.get(&key).is_some_and(|r| r.expires <= now) {
                tw.records.remove(&key);
            }
        }
        self.schedule_time_wait(ctx);
    }

    /// `tcp_timewait_state_process`: an in-window RST kills the record, an in-window bare ACK
    /// restarts it, a newer SYN reopens the connection (returns the ISN the new one gets:
    /// `tw_snd_nxt + 65535 + 2`), anything else out of window is acknowledged again.
    pub(crate) fn time_wait_segment(
        &mut self,
        ctx: &mut Ctx,
        key: ConnKey,
        seg: &TcpSegment,
    ) -> Option<u32> {
        let r = seg.repr;
        let record = *self.tcp.time_wait.records.get(&key).expect("checked");
        let end = r.seq.wrapping_add(seg.seq_len());
        let in_window = r.seq == record.rcv_nxt && (r.seq == end || r.has(RST));
        if in_window {
            if r.has(RST) {
                self.tcp.time_wait.records.remove(&key);
                explain!(ctx, "{}: an RST ends the TIME_WAIT of {}", self.name, key.1);
            } else {
                self.time_wait_restart(ctx, key);
            }
            return None;
        }
        if r.has(SYN) && !r.has(RST) && !r.has(ACK) && seq_after(r.seq, record.rcv_nxt) {
            self.tcp.time_wait.records.remove(&key);
            explain!(
                ctx,
                "{}: a new SYN from {} reopens the connection in TIME_WAIT",
                self.name,
                key.1
            );
            let isn = record.snd_nxt.wrapping_add(65535 + 2);
            return Some(if isn == 0 { 1 } else { isn });
        }
        if !r.has(RST) {
            if r.has(ACK) {
                self.time_wait_restart(ctx, key);
            }
            self.time_wait_ack(ctx, key, &record);
        }
        None
    }

    fn time_wait_restart(&mut self, ctx: &mut Ctx, key: ConnKey) {
        let expires = ctx.now + TIME_WAIT_LEN;
        if let Some(record) = self.tcp.time_wait.records.get_mut(&key) {
            record.expires = expires;
            self.tcp.time_wait.queue.push_back((expires, key));
        }
    }

    /// The ACK a TIME_WAIT record sends (`tcp_v4_timewait_ack`).
    fn time_wait_ack(&mut self, ctx: &mut Ctx, (local, remote): ConnKey, record: &TimeWait) {
        let timestamp = record
            .ts
            .map(|(offset, recent)| (ts_clock(ctx.now, offset), recent));
        let repr = TcpRepr {
            src_port: local.port(),
            dst_port: remote.port(),
            seq: record.snd_nxt,
            ack: record.rcv_nxt,
            flags: ACK,
            window: WINDOW,
            options: TcpOptions {
                timestamp,
                ..TcpOptions::default()
            },
        };
        self.tcp_send_unowned(ctx, (*local.ip(), *remote.ip()), &repr, true);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::sim::EventQueue;
    use crate::sim::world::Event;
    use crate::stack::addr::IfAddr;
    use crate::stack::ctx::TxFrame;
    use crate::stack::iface::Attachment;
    use crate::trace::Tracer;
    use crate::wire::MacAddr;
    use crate::wire::tcp::FIN;

    const LOCAL: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
    const REMOTE: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 40000);

    /// A host with 10.0.0.1/24, a TIME_WAIT record for LOCAL ↔ REMOTE (rcv_nxt 1000), and
    /// the context to run `f` in; returns what it sent (frame count).
    fn with_record(f: impl FnOnce(&mut Host, &mut Ctx)) -> (Host, usize) {
        let mut host = Host::new(0, "h", 1);
        let mac: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        let dev = host.add_nic("eth0", mac, Attachment { lan: 0, port: 0 });
        host.ifaces[dev].admin_up = true;
        host.add_address(dev, IfAddr::with_broadcast(*LOCAL.ip(), 24, "eth0"))
            .unwrap();
        let mut queue: EventQueue<Event> = EventQueue::default();
        let mut trace = Tracer::new(vec!["h".into()]);
        let mut tx: Vec<TxFrame> = Vec::new();
        let mut ctx = Ctx {
            now: SimTime(1_000_000_000),
            host: 0,
            queue: &mut queue,
            trace: &mut trace,
            tx: &mut tx,
        };
        let record = TimeWait {
            rcv_nxt: 1000,
            snd_nxt: 5000,
            ts: None,
            expires: ctx.now + TIME_WAIT_LEN,
        };
        host.time_wait_insert(&mut ctx, (LOCAL, REMOTE), record);
        f(&mut host, &mut ctx);
        let sent = ctx.tx.len();
        (host, sent)
    }

    fn segment(seq: u32, flags: u8) -> TcpSegment<'static> {
        TcpSegment {
            repr: TcpRepr {
                src_port: REMOTE.port(),
                dst_port: LOCAL.port(),
                seq,
                ack: 5000,
                flags,
                window: 502,
                options: TcpOptions::default(),
            },
            payload: &[],
        }
    }

    /// tcp_timewait_state_process: an in-window RST ends TIME_WAIT (tcp_rfc1337 = 0).
    #[test]
    fn an_in_window_reset_kills_the_record() {
        let (host, sent) = with_record(|h, ctx| {
            assert_eq!(
                h.time_wait_segment(ctx, (LOCAL, REMOTE), &segment(1000, RST)),
                None
            );
        });
        assert_eq!(host.tcp.time_wait.len(), 0);
        assert_eq!(sent, 0);
    }

    /// A retransmitted FIN (out of window: seq below rcv_nxt) is acknowledged again and the
    /// record lives on.
    #[test]
    fn a_retransmitted_fin_is_acknowledged_again() {
        let (host, sent) = with_record(|h, ctx| {
            let fin = segment(999, FIN | ACK);
            assert_eq!(h.time_wait_segment(ctx, (LOCAL, REMOTE), &fin), None);
        });
        assert_eq!(host.tcp.time_wait.len(), 1);
        assert_eq!(sent, 1, "the ACK (behind an ARP request for the peer)");
    }

    /// A SYN with a sequence above rcv_nxt reopens the connection with ISN snd_nxt + 65537.
    #[test]
    fn a_newer_syn_reopens_the_connection() {
        let (host, _) = with_record(|h, ctx| {
            let syn = segment(2000, SYN);
            assert_eq!(
                h.time_wait_segment(ctx, (LOCAL, REMOTE), &syn),
                Some(5000 + 65537)
            );
        });
        assert_eq!(host.tcp.time_wait.len(), 0);
    }

    /// An old SYN (below rcv_nxt) does not reopen it: it is answered with an ACK.
    #[test]
    fn an_old_syn_gets_an_ack() {
        let (host, sent) = with_record(|h, ctx| {
            assert_eq!(
                h.time_wait_segment(ctx, (LOCAL, REMOTE), &segment(10, SYN)),
                None
            );
        });
        assert_eq!(host.tcp.time_wait.len(), 1);
        assert_eq!(sent, 1);
    }
}
