//! TCP: three-way handshake, data with retransmission, FIN and RST, TIME_WAIT; Linux's
//! option layout and `tcp_v4_send_reset`; forward progress confirms the neighbour entry
//! (`sk_dst_confirm`) as in the kernel. The window is fixed (no congestion control).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use rustc_hash::FxHashMap;

use super::ctx::Ctx;
use super::host::{Host, HostEvent, RouteFailure};
use super::iface::IfIndex;
use super::sysctl::Global;
use crate::explain;
use crate::sim::{SimRng, SimTime};
use crate::wire::icmp::{self, IcmpMessage};
use crate::wire::ipv4::{Ipv4Info, Ipv4Meta, PROTO_TCP};
use crate::wire::tcp::{self, ACK, FIN, PSH, RST, SYN, TcpOptions, TcpRepr, TcpSegment};

pub type SocketId = usize;

const MS: u64 = 1_000_000;
const INITIAL_RTO: u64 = 1_000 * MS;
const MIN_RTO: u64 = 200 * MS;
const MAX_RTO: u64 = 120_000 * MS;
/// `TCP_TIMEWAIT_LEN`.
pub(super) const TIME_WAIT_LEN: u64 = 60_000 * MS;
/// Window advertised in a SYN (Linux's 64240), and afterwards 502 << 7 = 64256.
const SYN_WINDOW: u16 = 64240;
const WINDOW_SHIFT: u8 = 7;
pub(super) const WINDOW: u16 = 502;

/// The states of a full socket; TIME_WAIT is a compact record (`time_wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
}

/// Who reads a socket: a program, or the web server of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    App(usize),
    WebServer,
    /// A keepalived health checker (its index among the daemon's checks).
    Checker(usize),
}

/// What a socket tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpEvent {
    Connected,
    Accepted,
    Data(Vec<u8>),
    PeerClosed,
    Error(&'static str),
}

pub struct TcpSocket {
    pub state: TcpState,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub owner: Owner,
    iss: u32,
    snd_una: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    /// Bytes from `snd_una` on: sent-but-unacked, then unsent.
    send_buf: VecDeque<u8>,
    close_requested: bool,
    fin_seq: Option<u32>,
    peer_window: u32,
    send_mss: usize,
    timestamps: bool,
    ts_recent: u32,
    ts_offset: u32,
    window_scale: Option<u8>,
    rto: u64,
    retries: u32,
    /// When the retransmission (or FIN_WAIT2) timer runs out.
    timer: Option<SimTime>,
    /// When the pending timer event fires: re-arming later needs no new event (the pending
    /// one re-checks), re-arming earlier schedules one.
    scheduled: Option<SimTime>,
    srtt: Option<u64>,
    rttvar: u64,
    rtt_probe: Option<(u32, SimTime)>,
    /// Forward progress seen: confirm the neighbour at the next transmit.
    pending_confirm: bool,
    ack_pending: bool,
    ip_id: u16,
}

impl TcpSocket {
    fn unsent_offset(&self) -> usize {
        let in_flight = self.snd_nxt.wrapping_sub(self.snd_una) as usize;
        in_flight - self.syn_in_flight() as usize
    }

    fn syn_in_flight(&self) -> bool {
        self.snd_una == self.iss
    }

    /// Linux's options: the SYN offers MSS, SACK, timestamps (if `tcp_timestamps`) and
    /// window scaling; later segments carry timestamps when both sides agreed to them.
    fn options(&self, now: SimTime, syn: bool) -> TcpOptions {
        let timestamp = self
            .timestamps
            .then(|| (ts_clock(now, self.ts_offset), self.ts_recent));
        if syn {
            TcpOptions {
                mss: Some(1460),
                sack_permitted: true,
                timestamp,
                window_scale: Some(WINDOW_SHIFT),
            }
        } else {
            TcpOptions {
                timestamp,
                ..TcpOptions::default()
            }
        }
    }

    fn window_field(&self) -> u16 {
        if self.window_scale.is_some() {
            WINDOW
        } else {
            SYN_WINDOW
        }
    }
}

/// Milliseconds since boot plus the connection's random offset (Linux's TS clock).
pub(super) fn ts_clock(now: SimTime, offset: u32) -> u32 {
    ((now.ns() / MS) as u32).wrapping_add(offset)
}

fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `after(a, b)`: `a` is later than `b` in sequence space.
pub(super) fn seq_after(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

fn seq_le(a: u32, b: u32) -> bool {
    !seq_lt(b, a)
}

/// The sockets of one host.
pub struct TcpStack {
    sockets: Vec<Option<TcpSocket>>,
    /// Free socket slots, and per slot the generation of its live timer event (kept across
    /// reuse, so a closed socket's pending event never fires for its successor).
    free: Vec<SocketId>,
    generations: Vec<u64>,
    conns: FxHashMap<(SocketAddrV4, SocketAddrV4), SocketId>,
    /// Connections in TIME_WAIT, as compact records (`inet_timewait_sock`).
    pub(crate) time_wait: super::time_wait::TimeWaitTable,
    listeners: FxHashMap<u16, Owner>,
    next_port: u16,
    rng: SimRng,
    pub(crate) events: VecDeque<(SocketId, Owner, TcpEvent)>,
    pending_acks: Vec<SocketId>,
}

impl TcpStack {
    pub fn new(seed: u64, host: &str) -> TcpStack {
        let mut rng = SimRng::stream(seed, &format!("{host}/tcp"));
        let next_port = (32768 + rng.range_inclusive(0, 28230) as u16) & !1;
        TcpStack {
            sockets: Vec::new(),
            free: Vec::new(),
            generations: Vec::new(),
            conns: FxHashMap::default(),
            time_wait: Default::default(),
            listeners: FxHashMap::default(),
            next_port,
            rng,
            events: VecDeque::new(),
            pending_acks: Vec::new(),
        }
    }

    pub fn socket(&self, id: SocketId) -> Option<&TcpSocket> {
        self.sockets.get(id).and_then(Option::as_ref)
    }

    fn socket_mut(&mut self, id: SocketId) -> Option<&mut TcpSocket> {
        self.sockets.get_mut(id).and_then(Option::as_mut)
    }

    pub fn listen(&mut self, port: u16, owner: Owner) {
        self.listeners.insert(port, owner);
    }

    pub fn unlisten(&mut self, port: u16) {
        self.listeners.remove(&port);
    }

    /// How many connections wait in TIME_WAIT.
    pub fn time_wait_count(&self) -> usize {
        self.time_wait.len()
    }

    /// Open connections, for reports: (state, local, remote).
    pub fn connections(&self) -> impl Iterator<Item = &TcpSocket> {
        self.sockets.iter().flatten()
    }

    fn insert(&mut self, socket: TcpSocket) -> SocketId {
        let key = (socket.local, socket.remote);
        let id = match self.free.pop() {
            Some(free) => {
                self.sockets[free] = Some(socket);
                free
            }
            None => {
                self.sockets.push(Some(socket));
                self.generations.push(0);
                self.sockets.len() - 1
            }
        };
        self.conns.insert(key, id);
        id
    }

    fn remove(&mut self, id: SocketId) -> Option<TcpSocket> {
        let socket = self.sockets.get_mut(id).and_then(Option::take)?;
        self.conns.remove(&(socket.local, socket.remote));
        self.generations[id] += 1;
        self.free.push(id);
        Some(socket)
    }

    /// A new generation for the slot's timer event (older events become stale).
    fn next_generation(&mut self, id: SocketId) -> u64 {
        self.generations[id] += 1;
        self.generations[id]
    }

    /// An ephemeral port in `ip_local_port_range` (even, as Linux prefers for connect)
    /// unused towards `remote`.
    fn pick_port(&mut self, local: Ipv4Addr, remote: SocketAddrV4, range: (u16, u16)) -> u16 {
        let (low, high) = (range.0 & !1, range.1.max(range.0));
        for _ in 0..=(high - low) / 2 {
            if !(low..=high).contains(&self.next_port) {
                self.next_port = low;
            }
            let port = self.next_port;
            self.next_port = if port >= high.saturating_sub(1) {
                low
            } else {
                port + 2
            };
            let key = (SocketAddrV4::new(local, port), remote);
            if !self.conns.contains_key(&key) && !self.time_wait.contains(&key) {
                return port;
            }
        }
        self.next_port
    }

    fn new_socket(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        owner: Owner,
        state: TcpState,
    ) -> TcpSocket {
        let iss = self.rng.next_u32();
        TcpSocket {
            state,
            local,
            remote,
            owner,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            rcv_nxt: 0,
            send_buf: VecDeque::new(),
            close_requested: false,
            fin_seq: None,
            peer_window: SYN_WINDOW as u32,
            send_mss: 1448,
            timestamps: true,
            ts_recent: 0,
            ts_offset: self.rng.next_u32(),
            window_scale: None,
            rto: INITIAL_RTO,
            retries: 0,
            timer: None,
            scheduled: None,
            srtt: None,
            rttvar: 0,
            rtt_probe: None,
            pending_confirm: false,
            ack_pending: false,
            ip_id: self.rng.next_u16(),
        }
    }
}

/// The errno text of an ICMP error that aborts a connection attempt (`icmp_err_convert`).
fn icmp_errno(message: &IcmpMessage) -> &'static str {
    match message {
        IcmpMessage::DestUnreachable {
            code: icmp::CODE_NET_UNREACH,
            ..
        } => "Network is unreachable",
        IcmpMessage::DestUnreachable {
            code: icmp::CODE_PROTO_UNREACH,
            ..
        } => "Protocol not available",
        IcmpMessage::DestUnreachable {
            code: icmp::CODE_PORT_UNREACH,
            ..
        } => "Connection refused",
        _ => "No route to host",
    }
}

impl Host {
    /// `connect()`: a SYN to `remote`, from `src` if bound.
    pub fn tcp_connect(
        &mut self,
        ctx: &mut Ctx,
        owner: Owner,
        remote: SocketAddrV4,
        src: Option<Ipv4Addr>,
    ) -> Result<SocketId, RouteFailure> {
        let route = self.route_output_at(*remote.ip(), None, src, Some(ctx.now))?;
        let (low, high) = self.sysctl.range(Global::IpLocalPortRange);
        let range = (low.clamp(1, 65535) as u16, high.clamp(1, 65535) as u16);
        let port = self.tcp.pick_port(route.src, remote, range);
        let local = SocketAddrV4::new(route.src, port);
        let mut socket = self.tcp.new_socket(local, remote, owner, TcpState::SynSent);
        socket.timestamps = self.sysctl.int(Global::TcpTimestamps) != 0;
        socket.snd_nxt = socket.iss.wrapping_add(1);
        socket.rtt_probe = Some((socket.iss, ctx.now));
        let id = self.tcp.insert(socket);
        self.tcp_send_control(ctx, id, SYN);
        self.tcp_arm_retransmit(ctx, id);
        Ok(id)
    }

    /// Queues `data` on a connected socket and sends what the window allows.
    pub fn tcp_write(&mut self, ctx: &mut Ctx, id: SocketId, data: &[u8]) {
        if let Some(socket) = self.tcp.socket_mut(id) {
            socket.send_buf.extend(data);
        }
        self.tcp_output(ctx, id);
    }

    /// `close()`: FIN after the queued data (or forget a connection still in SYN_SENT).
    pub fn tcp_close(&mut self, ctx: &mut Ctx, id: SocketId) {
        let Some(socket) = self.tcp.socket_mut(id) else {
            return;
        };
        match socket.state {
            TcpState::SynSent => {
                self.tcp.remove(id);
            }
            TcpState::SynRecv | TcpState::Established | TcpState::CloseWait => {
                socket.close_requested = true;
                self.tcp_output(ctx, id);
            }
            _ => {}
        }
    }

    /// `tcp_v4_rcv`.
    pub(crate) fn tcp_receive(
        &mut self,
        ctx: &mut Ctx,
        dev: IfIndex,
        info: &Ipv4Info,
        packet: &crate::wire::Packet,
    ) {
        let l4 = &packet.data()[info.header_len..info.total_len];
        let seg = match tcp::parse(l4, info.src, info.dst) {
            Ok(seg) => seg,
            Err(why) => {
                let name = self.ifaces[dev].name.clone();
                ctx.drop_packet(&name, format!("checksum: {why}"));
                return;
            }
        };
        let local = SocketAddrV4::new(info.dst, seg.repr.dst_port);
        let remote = SocketAddrV4::new(info.src, seg.repr.src_port);
        if let Some(&id) = self.tcp.conns.get(&(local, remote)) {
            self.count_reply(info.src);
            self.tcp_segment(ctx, id, &seg);
            return;
        }
        let mut isn = None;
        if self.tcp.time_wait.contains(&(local, remote)) {
            match self.time_wait_segment(ctx, (local, remote), &seg) {
                Some(new_isn) => isn = Some(new_isn),
                None => return,
            }
        }
        let listener = self.tcp.listeners.get(&seg.repr.dst_port).copied();
        match listener {
            Some(owner) if seg.repr.flags & (SYN | ACK | RST) == SYN => {
                self.count_reply(info.src);
                self.tcp_accept_syn(ctx, owner, (local, remote), &seg, isn);
            }
            Some(_) if seg.repr.has(RST) => {}
            _ => {
                if !seg.repr.has(RST) {
                    let name = self.ifaces[dev].name.clone();
                    ctx.drop_packet(
                        &name,
                        format!("no-socket: nothing listens on {local} (answered with RST)"),
                    );
                    self.tcp_send_reset(ctx, info, &seg);
                } else {
                    explain!(
                        ctx,
                        "{} ignores an RST for a connection it does not have",
                        self.name
                    );
                }
            }
        }
    }

    /// A SYN for a listening port: a new connection in SYN_RECV, answered with SYN-ACK.
    /// `isn`: the initial sequence a SYN that reopened a TIME_WAIT connection gets.
    fn tcp_accept_syn(
        &mut self,
        ctx: &mut Ctx,
        owner: Owner,
        (local, remote): (SocketAddrV4, SocketAddrV4),
        seg: &TcpSegment,
        isn: Option<u32>,
    ) {
        let mut socket = self.tcp.new_socket(local, remote, owner, TcpState::SynRecv);
        if let Some(isn) = isn {
            socket.iss = isn;
            socket.snd_una = isn;
        }
        socket.rcv_nxt = seg.repr.seq.wrapping_add(1);
        self.learn_peer_options(&mut socket, &seg.repr);
        socket.snd_nxt = socket.iss.wrapping_add(1);
        socket.rtt_probe = Some((socket.iss, ctx.now));
        let id = self.tcp.insert(socket);
        self.tcp_send_control(ctx, id, SYN | ACK);
        self.tcp_arm_retransmit(ctx, id);
    }

    fn learn_peer_options(&self, socket: &mut TcpSocket, syn: &TcpRepr) {
        let peer_mss = syn.options.mss.unwrap_or(536) as usize;
        socket.timestamps =
            self.sysctl.int(Global::TcpTimestamps) != 0 && syn.options.timestamp.is_some();
        if let Some((val, _)) = syn.options.timestamp {
            socket.ts_recent = val;
        }
        socket.window_scale = syn.options.window_scale;
        socket.send_mss = peer_mss.min(1460) - if socket.timestamps { 12 } else { 0 };
        socket.peer_window = syn.window as u32;
    }

    /// The segment-arrives processing for an existing connection.
    fn tcp_segment(&mut self, ctx: &mut Ctx, id: SocketId, seg: &TcpSegment) {
        let r = seg.repr;
        let state = self.tcp.socket(id).expect("looked up").state;
        if state == TcpState::SynSent {
            self.tcp_synsent(ctx, id, seg);
            return;
        }
        let socket = self.tcp.socket_mut(id).expect("looked up");
        if r.has(RST) {
            if seq_le(socket.rcv_nxt, r.seq) && seq_lt(r.seq, socket.rcv_nxt.wrapping_add(65535)) {
                let owner = socket.owner;
                let established = state != TcpState::SynRecv;
                self.tcp.remove(id);
                explain!(ctx, "{}: connection reset by the peer", self.name);
                if established {
                    self.tcp.events.push_back((
                        id,
                        owner,
                        TcpEvent::Error("Connection reset by peer"),
                    ));
                }
            }
            return;
        }
        if r.has(SYN) || !r.has(ACK) {
            socket.ack_pending = true;
            self.tcp.pending_acks.push(id);
            return;
        }
        if let Some((val, _)) = r.options.timestamp {
            socket.ts_recent = val;
        }
        if state == TcpState::SynRecv {
            if r.ack != socket.snd_nxt {
                self.tcp_send_reset_for(ctx, id, r.ack);
                return;
            }
            socket.state = TcpState::Established;
            let owner = socket.owner;
            self.tcp.events.push_back((id, owner, TcpEvent::Accepted));
        }
        self.tcp_ack(ctx, id, seg);
        self.tcp_data_and_fin(ctx, id, seg);
        self.tcp_output(ctx, id);
    }

    /// SYN_SENT: the answer to our SYN.
    fn tcp_synsent(&mut self, ctx: &mut Ctx, id: SocketId, seg: &TcpSegment) {
        let r = seg.repr;
        let socket = self.tcp.socket_mut(id).expect("looked up");
        let expected = socket.iss.wrapping_add(1);
        if r.has(ACK) && r.ack != expected {
            if !r.has(RST) {
                self.tcp_send_reset_for(ctx, id, r.ack);
            }
            return;
        }
        if r.has(RST) {
            if r.has(ACK) {
                let owner = socket.owner;
                self.tcp.remove(id);
                explain!(
                    ctx,
                    "{}: connection refused (RST in answer to SYN)",
                    self.name
                );
                self.tcp
                    .events
                    .push_back((id, owner, TcpEvent::Error("Connection refused")));
            }
            return;
        }
        if !r.has(SYN) || !r.has(ACK) {
            return;
        }
        let mut socket = self.tcp.sockets[id].take().expect("looked up");
        socket.rcv_nxt = r.seq.wrapping_add(1);
        self.learn_peer_options(&mut socket, &r);
        socket.state = TcpState::Established;
        let owner = socket.owner;
        self.tcp.sockets[id] = Some(socket);
        self.tcp_ack(ctx, id, seg);
        // tcp_rcv_synsent_state_process: nothing is waiting to be written yet (the program
        // only now learns that it is connected), so the handshake ACK leaves at once rather
        // than riding on the request.
        self.tcp_send_control(ctx, id, ACK);
        self.tcp.events.push_back((id, owner, TcpEvent::Connected));
    }

    /// ACK processing: advance `snd_una`, RTT, FIN acknowledged, neighbour confirmation.
    fn tcp_ack(&mut self, ctx: &mut Ctx, id: SocketId, seg: &TcpSegment) {
        let r = seg.repr;
        let now = ctx.now;
        let socket = self.tcp.socket_mut(id).expect("looked up");
        let scale = socket
            .window_scale
            .map_or(0, |_| WINDOW_SHIFT.min(14) as u32);
        let peer_shift = if r.has(SYN) { 0 } else { scale };
        let new_window = (r.window as u32) << peer_shift;
        if seq_lt(socket.snd_nxt, r.ack) {
            socket.ack_pending = true;
            self.tcp.pending_acks.push(id);
            return;
        }
        let window_update = new_window != socket.peer_window;
        socket.peer_window = new_window;
        if !seq_lt(socket.snd_una, r.ack) {
            if seg.payload.is_empty() && !r.has(FIN) && !window_update {
                socket.pending_confirm = true;
            }
            return;
        }
        let mut acked = r.ack.wrapping_sub(socket.snd_una) as usize;
        if socket.syn_in_flight() {
            acked -= 1;
        }
        let fin_acked = socket.fin_seq.is_some_and(|f| seq_lt(f, r.ack));
        if fin_acked {
            acked = acked.saturating_sub(1);
        }
        socket.send_buf.drain(..acked.min(socket.send_buf.len()));
        socket.snd_una = r.ack;
        socket.retries = 0;
        socket.pending_confirm = true;
        if let Some((probe_seq, sent)) = socket.rtt_probe
            && seq_lt(probe_seq, r.ack)
        {
            update_rtt(socket, now.since(sent));
            socket.rtt_probe = None;
        }
        if fin_acked {
            match socket.state {
                TcpState::FinWait1 => socket.state = TcpState::FinWait2,
                TcpState::Closing => {
                    self.tcp_enter_time_wait(ctx, id);
                    return;
                }
                TcpState::LastAck => {
                    self.tcp.remove(id);
                    return;
                }
                _ => {}
            }
        }
        let socket = self.tcp.socket_mut(id).expect("still open");
        if socket.snd_una == socket.snd_nxt {
            socket.timer = None;
        } else {
            self.tcp_rearm(ctx, id);
        }
        if fin_acked
            && self
                .tcp
                .socket(id)
                .is_some_and(|s| s.state == TcpState::FinWait2)
        {
            self.tcp_arm_fin_timeout(ctx, id);
        }
    }

    /// In-order data goes to the owner; a FIN closes the receive direction.
    fn tcp_data_and_fin(&mut self, ctx: &mut Ctx, id: SocketId, seg: &TcpSegment) {
        let r = seg.repr;
        let Some(socket) = self.tcp.socket_mut(id) else {
            return;
        };
        let accepts_data = matches!(
            socket.state,
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
        );
        let owner = socket.owner;
        if !seg.payload.is_empty() {
            socket.ack_pending = true;
            self.tcp.pending_acks.push(id);
            let socket = self.tcp.socket_mut(id).expect("open");
            if r.seq == socket.rcv_nxt && accepts_data {
                socket.rcv_nxt = socket.rcv_nxt.wrapping_add(seg.payload.len() as u32);
                self.tcp
                    .events
                    .push_back((id, owner, TcpEvent::Data(seg.payload.to_vec())));
            }
        }
        let socket = self.tcp.socket_mut(id).expect("open");
        let fin_seq = r.seq.wrapping_add(seg.payload.len() as u32);
        if !r.has(FIN) || fin_seq != socket.rcv_nxt {
            return;
        }
        socket.rcv_nxt = socket.rcv_nxt.wrapping_add(1);
        socket.ack_pending = true;
        self.tcp.pending_acks.push(id);
        let socket = self.tcp.socket_mut(id).expect("open");
        match socket.state {
            TcpState::Established | TcpState::SynRecv => {
                socket.state = TcpState::CloseWait;
                self.tcp.events.push_back((id, owner, TcpEvent::PeerClosed));
            }
            TcpState::FinWait1 => socket.state = TcpState::Closing,
            TcpState::FinWait2 => {
                self.tcp_enter_time_wait(ctx, id);
                self.tcp.events.push_back((id, owner, TcpEvent::PeerClosed));
            }
            _ => {}
        }
    }

    /// An orphaned FIN_WAIT2 socket waits `tcp_fin_timeout` for the peer's FIN.
    fn tcp_arm_fin_timeout(&mut self, ctx: &mut Ctx, id: SocketId) {
        let timeout = self.sysctl.int(Global::TcpFinTimeout).max(1) as u64 * 1_000_000_000;
        self.tcp_arm_timer(ctx, id, timeout);
    }

    /// `tcp_time_wait`: an ACK still owed leaves first (as `tcp_fin` sends it), then the
    /// socket becomes a compact TIME_WAIT record for 60 s.
    fn tcp_enter_time_wait(&mut self, ctx: &mut Ctx, id: SocketId) {
        if self.tcp.socket(id).is_some_and(|s| s.ack_pending) {
            self.tcp_send_control(ctx, id, ACK);
        }
        let Some(socket) = self.tcp.remove(id) else {
            return;
        };
        let record = super::time_wait::TimeWait {
            rcv_nxt: socket.rcv_nxt,
            snd_nxt: socket.snd_nxt,
            ts: socket
                .timestamps
                .then_some((socket.ts_offset, socket.ts_recent)),
            expires: ctx.now + TIME_WAIT_LEN,
        };
        self.time_wait_insert(ctx, (socket.local, socket.remote), record);
    }

    /// Sets the socket's timer; a new event only when none is pending at or before it.
    fn tcp_arm_timer(&mut self, ctx: &mut Ctx, id: SocketId, after_ns: u64) {
        let at = ctx.now + after_ns;
        let socket = self.tcp.socket_mut(id).expect("open");
        socket.timer = Some(at);
        if socket.scheduled.is_some_and(|pending| pending <= at) {
            return;
        }
        socket.scheduled = Some(at);
        let generation = self.tcp.next_generation(id);
        ctx.at(
            at,
            HostEvent::TcpTimer {
                socket: id,
                generation,
            },
        );
    }

    /// Sends queued data within the peer's window, then the FIN once all data is out.
    fn tcp_output(&mut self, ctx: &mut Ctx, id: SocketId) {
        loop {
            let Some(socket) = self.tcp.socket(id) else {
                return;
            };
            if !matches!(
                socket.state,
                TcpState::Established
                    | TcpState::CloseWait
                    | TcpState::FinWait1
                    | TcpState::LastAck
                    | TcpState::Closing
            ) || socket.fin_seq.is_some() && socket.unsent_offset() >= socket.send_buf.len()
            {
                break;
            }
            let offset = socket.unsent_offset();
            let in_flight = offset;
            let window_left = (socket.peer_window as usize).saturating_sub(in_flight);
            let remaining = socket.send_buf.len().saturating_sub(offset);
            if remaining == 0 || window_left == 0 {
                break;
            }
            let len = remaining.min(socket.send_mss).min(window_left);
            let flags = ACK | if len == remaining { PSH } else { 0 };
            let payload: Vec<u8> = socket
                .send_buf
                .range(offset..offset + len)
                .copied()
                .collect();
            let seq = socket.snd_nxt;
            self.tcp_transmit(ctx, id, flags, seq, &payload);
            let socket = self.tcp.socket_mut(id).expect("open");
            socket.snd_nxt = socket.snd_nxt.wrapping_add(len as u32);
            if socket.rtt_probe.is_none() && socket.retries == 0 {
                socket.rtt_probe = Some((seq, ctx.now));
            }
        }
        self.tcp_maybe_send_fin(ctx, id);
        if let Some(socket) = self.tcp.socket(id)
            && socket.snd_una != socket.snd_nxt
            && socket.timer.is_none()
        {
            self.tcp_arm_retransmit(ctx, id);
        }
    }

    fn tcp_maybe_send_fin(&mut self, ctx: &mut Ctx, id: SocketId) {
        let Some(socket) = self.tcp.socket(id) else {
            return;
        };
        let all_sent = socket.unsent_offset() >= socket.send_buf.len();
        if !socket.close_requested || socket.fin_seq.is_some() || !all_sent {
            return;
        }
        if !matches!(
            socket.state,
            TcpState::Established | TcpState::CloseWait | TcpState::SynRecv
        ) {
            return;
        }
        let seq = socket.snd_nxt;
        self.tcp_transmit(ctx, id, FIN | ACK, seq, &[]);
        let socket = self.tcp.socket_mut(id).expect("open");
        socket.fin_seq = Some(seq);
        socket.snd_nxt = seq.wrapping_add(1);
        socket.state = match socket.state {
            TcpState::CloseWait => TcpState::LastAck,
            _ => TcpState::FinWait1,
        };
    }

    /// SYN, SYN-ACK or a pure ACK at `snd_nxt` (SYN flags use the initial sequence number).
    fn tcp_send_control(&mut self, ctx: &mut Ctx, id: SocketId, flags: u8) {
        let Some(socket) = self.tcp.socket(id) else {
            return;
        };
        let seq = if flags & SYN != 0 {
            socket.iss
        } else {
            socket.snd_nxt
        };
        self.tcp_transmit(ctx, id, flags, seq, &[]);
    }

    /// Builds and sends one segment of a connection.
    fn tcp_transmit(&mut self, ctx: &mut Ctx, id: SocketId, flags: u8, seq: u32, payload: &[u8]) {
        let now = ctx.now;
        let socket = self.tcp.socket_mut(id).expect("open");
        let syn = flags & SYN != 0;
        let repr = TcpRepr {
            src_port: socket.local.port(),
            dst_port: socket.remote.port(),
            seq,
            ack: if flags & ACK != 0 { socket.rcv_nxt } else { 0 },
            flags,
            window: if syn {
                SYN_WINDOW
            } else {
                socket.window_field()
            },
            options: socket.options(now, syn),
        };
        if flags & ACK != 0 {
            socket.ack_pending = false;
        }
        let ip_id = if syn && flags & ACK != 0 {
            0
        } else {
            socket.ip_id = socket.ip_id.wrapping_add(1);
            socket.ip_id
        };
        let (local, remote, confirm) = (
            *socket.local.ip(),
            *socket.remote.ip(),
            socket.pending_confirm,
        );
        socket.pending_confirm = false;
        let ttl = self.default_ttl();
        let route = match self.route_output_at(remote, None, Some(local), Some(now)) {
            Ok(route) => route,
            Err(failure) => {
                explain!(
                    ctx,
                    "{} cannot send to {remote}: {}",
                    self.name,
                    failure.errno_text()
                );
                return;
            }
        };
        if confirm && !route.local {
            self.confirm_neighbour(route.dev, route.next_hop, now);
        }
        let meta = Ipv4Meta {
            src: local,
            dst: remote,
            proto: PROTO_TCP,
            ttl,
            tos: 0,
            id: ip_id,
            dont_fragment: true,
        };
        let packet = tcp::build(&meta, &repr, payload);
        self.ip_send(ctx, &route, packet);
    }

    /// `tcp_v4_send_reset`: answer a segment that has no connection.
    pub(crate) fn tcp_send_reset(&mut self, ctx: &mut Ctx, info: &Ipv4Info, seg: &TcpSegment) {
        let r = seg.repr;
        let (seq, ack, flags) = if r.has(ACK) {
            (r.ack, 0, RST)
        } else {
            (0, r.seq.wrapping_add(seg.seq_len()), RST | ACK)
        };
        let repr = TcpRepr {
            src_port: r.dst_port,
            dst_port: r.src_port,
            seq,
            ack,
            flags,
            window: 0,
            options: TcpOptions::default(),
        };
        self.tcp_send_unowned(ctx, (info.dst, info.src), &repr, false);
    }

    /// Sends a segment no socket owns (a reset, a TIME_WAIT record's ACK) from `src` to
    /// `dst`, routed like the kernel's `ip_send_unicast_reply`.
    pub(crate) fn tcp_send_unowned(
        &mut self,
        ctx: &mut Ctx,
        (src, dst): (Ipv4Addr, Ipv4Addr),
        repr: &TcpRepr,
        dont_fragment: bool,
    ) {
        let _ = self.route_and_send(ctx, dst, None, Some(src), |host, _| {
            let meta = Ipv4Meta {
                src,
                dst,
                proto: PROTO_TCP,
                ttl: host.default_ttl(),
                tos: 0,
                id: host.next_ip_id(),
                dont_fragment,
            };
            tcp::build(&meta, repr, &[])
        });
    }

    /// An RST from an existing socket (for an unacceptable ACK), sequence `seq`.
    fn tcp_send_reset_for(&mut self, ctx: &mut Ctx, id: SocketId, seq: u32) {
        self.tcp_transmit(ctx, id, RST, seq, &[]);
    }

    fn tcp_arm_retransmit(&mut self, ctx: &mut Ctx, id: SocketId) {
        let rto = self.tcp.socket(id).expect("open").rto;
        self.tcp_arm_timer(ctx, id, rto);
    }

    fn tcp_rearm(&mut self, ctx: &mut Ctx, id: SocketId) {
        self.tcp_arm_retransmit(ctx, id);
    }

    /// The retransmission or FIN_WAIT2 timer. A timer pushed back since the event was
    /// scheduled is re-scheduled; a cancelled one is ignored.
    pub(crate) fn tcp_timer(&mut self, ctx: &mut Ctx, id: SocketId, generation: u64) {
        if self.tcp.generations.get(id) != Some(&generation) {
            return;
        }
        let Some(socket) = self.tcp.socket_mut(id) else {
            return;
        };
        socket.scheduled = None;
        match socket.timer {
            None => return,
            Some(at) if at > ctx.now => {
                self.tcp_arm_timer(ctx, id, at.since(ctx.now));
                return;
            }
            Some(_) => socket.timer = None,
        }
        if socket.state == TcpState::FinWait2 {
            self.tcp.remove(id);
            return;
        }
        if socket.snd_una == socket.snd_nxt {
            return;
        }
        let limit = match socket.state {
            TcpState::SynSent => self.sysctl.int(Global::TcpSynRetries),
            TcpState::SynRecv => self.sysctl.int(Global::TcpSynackRetries),
            _ => self.sysctl.int(Global::TcpRetries2),
        } as u32;
        let socket = self.tcp.socket_mut(id).expect("open");
        socket.retries += 1;
        if socket.retries > limit {
            let owner = socket.owner;
            let remote = socket.remote;
            self.tcp.remove(id);
            explain!(
                ctx,
                "{}: connection to {remote} timed out after {limit} retransmissions",
                self.name
            );
            self.tcp
                .events
                .push_back((id, owner, TcpEvent::Error("Connection timed out")));
            return;
        }
        socket.rto = (socket.rto * 2).min(MAX_RTO);
        socket.rtt_probe = None;
        let state = socket.state;
        let retries = socket.retries;
        explain!(
            ctx,
            "{}: TCP retransmission #{retries} (no ACK within the RTO)",
            self.name
        );
        match state {
            TcpState::SynSent => self.tcp_send_control(ctx, id, SYN),
            TcpState::SynRecv => self.tcp_send_control(ctx, id, SYN | ACK),
            _ => self.tcp_retransmit_first(ctx, id),
        }
        self.tcp_arm_retransmit(ctx, id);
    }

    fn tcp_retransmit_first(&mut self, ctx: &mut Ctx, id: SocketId) {
        let socket = self.tcp.socket(id).expect("open");
        let seq = socket.snd_una;
        let unacked_data = socket.unsent_offset().min(socket.send_buf.len());
        if unacked_data > 0 {
            let len = unacked_data.min(socket.send_mss);
            let payload: Vec<u8> = socket.send_buf.range(..len).copied().collect();
            self.tcp_transmit(ctx, id, ACK | PSH, seq, &payload);
        } else if let Some(fin) = socket.fin_seq {
            self.tcp_transmit(ctx, id, FIN | ACK, fin, &[]);
        }
    }

    /// `tcp_v4_err`: an ICMP error about one of our segments. Returns whether a socket took it.
    pub(crate) fn tcp_icmp_error(
        &mut self,
        ctx: &mut Ctx,
        quoted: &Ipv4Info,
        sport: u16,
        dport: u16,
        message: IcmpMessage,
    ) -> bool {
        let key = (
            SocketAddrV4::new(quoted.src, sport),
            SocketAddrV4::new(quoted.dst, dport),
        );
        let Some(&id) = self.tcp.conns.get(&key) else {
            return false;
        };
        let socket = self.tcp.socket(id).expect("indexed");
        if matches!(socket.state, TcpState::SynSent | TcpState::SynRecv) {
            let owner = socket.owner;
            let errno = icmp_errno(&message);
            self.tcp.remove(id);
            explain!(
                ctx,
                "{}: connect to {} fails: {errno} (ICMP error)",
                self.name,
                quoted.dst
            );
            if owner != Owner::WebServer {
                self.tcp
                    .events
                    .push_back((id, owner, TcpEvent::Error(errno)));
            }
        } else {
            explain!(
                ctx,
                "{}: ICMP error on an established connection is a soft error (ignored)",
                self.name
            );
        }
        true
    }

    /// Sends the ACKs still owed after the owners reacted (a reply carries the ACK instead).
    pub(crate) fn tcp_flush_acks(&mut self, ctx: &mut Ctx) {
        let mut pending = std::mem::take(&mut self.tcp.pending_acks);
        for &id in &pending {
            if self.tcp.socket(id).is_some_and(|s| s.ack_pending) {
                self.tcp_send_control(ctx, id, ACK);
            }
        }
        // The list keeps its allocation for the next event.
        pending.clear();
        pending.append(&mut self.tcp.pending_acks);
        self.tcp.pending_acks = pending;
    }
}

/// RFC 6298 smoothing with Linux's 200 ms floor.
fn update_rtt(socket: &mut TcpSocket, sample: u64) {
    match socket.srtt {
        None => {
            socket.srtt = Some(sample);
            socket.rttvar = sample / 2;
        }
        Some(srtt) => {
            let delta = srtt.abs_diff(sample);
            socket.rttvar = (3 * socket.rttvar + delta) / 4;
            socket.srtt = Some((7 * srtt + sample) / 8);
        }
    }
    let srtt = socket.srtt.expect("set above");
    socket.rto = (srtt + (4 * socket.rttvar).max(MIN_RTO)).clamp(MIN_RTO, MAX_RTO);
}
