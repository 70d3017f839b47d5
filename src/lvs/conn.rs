//! The connection table (ip_vs_conn.c): entries for client connections and persistence
//! templates, found by the client side of a packet ("in"), by the real-server side of a reply
//! ("out", NAT and FULLNAT only) or, for templates, by client network and service. Each entry
//! carries its own expiry; one heap orders them so the director needs a single timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use super::service::{DestId, Forward, Protocol};
use super::state::TcpState;

/// A slot in the connection table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// FULLNAT's extra state: the local address and port the director uses towards the real
/// server, and the sequence-number shift of the client → server direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullNat {
    pub laddr: IpAddr,
    pub lport: u16,
    /// Added to client sequence numbers, subtracted from acknowledgements going back.
    pub seq_delta: u32,
    /// The real server's initial sequence number once its SYN-ACK passed (TOA goes on client
    /// segments acknowledging exactly `rs_isn + 1`).
    pub rs_isn: Option<u32>,
}

/// Entry flags (`IP_VS_CONN_F_*` that matter here).
pub mod conn_flags {
    /// A persistence template, not a connection.
    pub const TEMPLATE: u8 = 0x01;
    /// No output packet seen yet on a DR/TUN/local connection: the input-only table applies.
    pub const NOOUTPUT: u8 = 0x02;
    /// Counted in inactconns (cleared while counted in activeconns).
    pub const INACTIVE: u8 = 0x04;
    /// Out of the lookup indexes: a template re-keyed so it never matches again, or an entry
    /// told to expire now whose tuple a new connection takes over.
    pub const UNHASHED: u8 = 0x08;
}

/// One connection entry or persistence template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    /// None for fwmark templates (`IP` in `ipvsadm -L -c`).
    pub proto: Option<Protocol>,
    pub state: TcpState,
    pub flags: u8,
    pub fwd: Forward,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub dest: DestId,
    /// The template controlling this connection.
    pub control: Option<ConnId>,
    /// For templates: how many connections it controls.
    pub n_control: u32,
    /// The current timeout in seconds (re-armed on every packet).
    pub timeout_s: u32,
    pub expires_ns: u64,
    pub fullnat: Option<Box<FullNat>>,
    /// The time of this entry's live heap entry (u64::MAX: none).
    heap_at: u64,
    /// Input packets seen while a master sync daemon runs (`cp->in_pkts`).
    pub in_pkts: u32,
    /// The state last synced (`cp->old_state`): a change is sent at once.
    pub old_state: TcpState,
}

impl Conn {
    /// A new entry (not yet armed).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        proto: Option<Protocol>,
        flags: u8,
        fwd: Forward,
        client: (IpAddr, u16),
        virt: (IpAddr, u16),
        real: (IpAddr, u16),
        dest: DestId,
    ) -> Conn {
        Conn {
            proto,
            state: TcpState::None,
            flags,
            fwd,
            caddr: client.0,
            cport: client.1,
            vaddr: virt.0,
            vport: virt.1,
            daddr: real.0,
            dport: real.1,
            dest,
            control: None,
            n_control: 0,
            timeout_s: 3,
            expires_ns: 0,
            fullnat: None,
            heap_at: u64::MAX,
            in_pkts: 0,
            old_state: TcpState::None,
        }
    }

    pub fn is_template(&self) -> bool {
        self.flags & conn_flags::TEMPLATE != 0
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The key the "in" index uses: the packet as the client sends it.
    fn in_key(&self) -> Key {
        Key::new(self.proto, self.caddr, self.cport, self.vaddr, self.vport)
    }

    /// The key the "out" index uses: a reply as the real server sends it.
    fn out_key(&self) -> Option<Key> {
        match (self.fwd, &self.fullnat) {
            (Forward::FullNat, Some(f)) => Some(Key::new(
                self.proto, self.daddr, self.dport, f.laddr, f.lport,
            )),
            (Forward::Masq, _) => Some(Key::new(
                self.proto, self.daddr, self.dport, self.caddr, self.cport,
            )),
            _ => None,
        }
    }
}

/// (proto, source address, source port, destination address, destination port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    proto: Option<Protocol>,
    saddr: IpAddr,
    sport: u16,
    daddr: IpAddr,
    dport: u16,
}

impl Key {
    fn new(proto: Option<Protocol>, saddr: IpAddr, sport: u16, daddr: IpAddr, dport: u16) -> Key {
        Key {
            proto,
            saddr,
            sport,
            daddr,
            dport,
        }
    }

    fn hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        Hash::hash(self, &mut hasher);
        hasher.finish()
    }
}

/// The entries of one director.
#[derive(Default)]
pub struct ConnTable {
    slots: Vec<Option<Conn>>,
    /// Per slot, the generation of its live heap entry; it survives slot reuse so a removed
    /// entry's stale timers never match the next occupant.
    generations: Vec<u32>,
    free: Vec<u32>,
    by_in: HashTable<u32>,
    by_out: HashTable<u32>,
    templates: HashTable<u32>,
    /// (expiry, slot, generation), earliest first.
    timers: BinaryHeap<Reverse<(u64, u32, u32)>>,
    len: usize,
}

impl ConnTable {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, id: ConnId) -> &Conn {
        self.slots[id.0 as usize].as_ref().expect("live entry")
    }

    /// The entry in a slot, if it is still there.
    pub fn try_get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.slots.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    pub fn get_mut(&mut self, id: ConnId) -> &mut Conn {
        self.slots[id.0 as usize].as_mut().expect("live entry")
    }

    /// Bytes the table holds for its entries: slots, indexes, timer heap and FULLNAT boxes
    /// (hashbrown keeps one control byte per bucket and ⅛ of the buckets free).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let index = |t: &HashTable<u32>| {
            let buckets = (t.capacity() * 8 / 7 + 1).next_power_of_two();
            buckets * (size_of::<u32>() + 1)
        };
        let fullnat =
            self.iter().filter(|(_, c)| c.fullnat.is_some()).count() * size_of::<FullNat>();
        self.slots.capacity() * size_of::<Option<Conn>>()
            + self.generations.capacity() * size_of::<u32>()
            + self.free.capacity() * size_of::<u32>()
            + index(&self.by_in)
            + index(&self.by_out)
            + index(&self.templates)
            + self.timers.capacity() * size_of::<Reverse<(u64, u32, u32)>>()
            + fullnat
    }

    /// Live entries in slot order (the listing's "hash-table order").
    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (ConnId(i as u32), c)))
    }

    /// Adds an entry and indexes it; arm it with `arm`.
    pub fn insert(&mut self, conn: Conn) -> ConnId {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        self.index(slot, &conn);
        self.slots[slot as usize] = Some(conn);
        self.len += 1;
        ConnId(slot)
    }

    fn index(&mut self, slot: u32, conn: &Conn) {
        let slots = &self.slots;
        let rehash_in = |&s: &u32| slot_in_key(slots, s).hash();
        if conn.is_template() {
            let key = conn.in_key();
            self.templates.insert_unique(key.hash(), slot, rehash_in);
            return;
        }
        self.by_in
            .insert_unique(conn.in_key().hash(), slot, rehash_in);
        if let Some(key) = conn.out_key() {
            let rehash_out = |&s: &u32| slot_out_key(slots, s).hash();
            self.by_out.insert_unique(key.hash(), slot, rehash_out);
        }
    }

    fn unindex(&mut self, slot: u32) {
        let conn = self.slots[slot as usize].as_ref().expect("live entry");
        let table = if conn.is_template() {
            &mut self.templates
        } else {
            &mut self.by_in
        };
        if let Ok(entry) = table.find_entry(conn.in_key().hash(), |&s| s == slot) {
            entry.remove();
        }
        if let Some(key) = conn.out_key()
            && let Ok(entry) = self.by_out.find_entry(key.hash(), |&s| s == slot)
        {
            entry.remove();
        }
    }

    /// Removes an entry (its pending timer is forgotten).
    pub fn remove(&mut self, id: ConnId) -> Conn {
        self.unhash(id);
        let conn = self.slots[id.0 as usize].take().expect("live entry");
        let generation = &mut self.generations[id.0 as usize];
        *generation = generation.wrapping_add(1);
        self.free.push(id.0);
        self.len -= 1;
        conn
    }

    /// The connection a client packet belongs to (`ip_vs_conn_in_get`).
    pub fn lookup_in(
        &self,
        proto: Protocol,
        client: (IpAddr, u16),
        virt: (IpAddr, u16),
    ) -> Option<ConnId> {
        let key = Key::new(Some(proto), client.0, client.1, virt.0, virt.1);
        self.find(&self.by_in, key, slot_in_key)
    }

    /// The NAT/FULLNAT connection a real server's reply belongs to (`ip_vs_conn_out_get`).
    pub fn lookup_out(
        &self,
        proto: Protocol,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
    ) -> Option<ConnId> {
        let key = Key::new(Some(proto), src.0, src.1, dst.0, dst.1);
        self.find(&self.by_out, key, slot_out_key)
    }

    /// The template for a client network and service (`ip_vs_ct_in_get`); `proto` None for
    /// fwmark services, whose `vaddr` is the mark.
    pub fn lookup_template(
        &self,
        proto: Option<Protocol>,
        snet: IpAddr,
        vaddr: IpAddr,
        vport: u16,
    ) -> Option<ConnId> {
        let key = Key::new(proto, snet, 0, vaddr, vport);
        self.find(&self.templates, key, slot_in_key)
    }

    fn find(
        &self,
        table: &HashTable<u32>,
        key: Key,
        key_of: fn(&[Option<Conn>], u32) -> Key,
    ) -> Option<ConnId> {
        table
            .find(key.hash(), |&s| key_of(&self.slots, s) == key)
            .map(|&s| ConnId(s))
    }

    /// `ip_vs_check_template` failing: the template is re-keyed (ports 65535, client port 0)
    /// so no packet matches it again; it keeps its timer and its controlled connections.
    pub fn invalidate_template(&mut self, id: ConnId) {
        self.unhash(id);
        let conn = self.get_mut(id);
        conn.vport = 0xffff;
        conn.dport = 0xffff;
        conn.cport = 0;
    }

    /// Takes an entry out of the lookup indexes; it stays until its timer removes it.
    pub fn unhash(&mut self, id: ConnId) {
        if self.get(id).has(conn_flags::UNHASHED) {
            return;
        }
        self.unindex(id.0);
        self.get_mut(id).flags |= conn_flags::UNHASHED;
    }

    /// Sets when the entry expires (`mod_timer`).
    pub fn arm(&mut self, id: ConnId, expires_ns: u64) {
        let conn = self.get_mut(id);
        conn.expires_ns = expires_ns;
        if expires_ns >= conn.heap_at {
            return; // the pending heap entry fires first and re-checks
        }
        conn.heap_at = expires_ns;
        let generation = &mut self.generations[id.0 as usize];
        *generation = generation.wrapping_add(1);
        self.timers.push(Reverse((expires_ns, id.0, *generation)));
    }

    /// When the earliest pending timer fires.
    pub fn next_timer(&self) -> Option<u64> {
        self.timers.peek().map(|Reverse((at, ..))| *at)
    }

    /// The next entry whose timer has run out by `now_ns`, if any. Timers found early (the
    /// entry was re-armed later) are re-queued at the entry's current expiry.
    pub fn pop_expired(&mut self, now_ns: u64) -> Option<ConnId> {
        while let Some(&Reverse((at, slot, generation))) = self.timers.peek() {
            if at > now_ns {
                return None;
            }
            self.timers.pop();
            if self.generations[slot as usize] != generation {
                continue;
            }
            let Some(conn) = self.slots[slot as usize].as_mut() else {
                continue;
            };
            conn.heap_at = u64::MAX;
            if conn.expires_ns <= now_ns {
                return Some(ConnId(slot));
            }
            let expires = conn.expires_ns;
            self.arm(ConnId(slot), expires);
        }
        None
    }
}

fn slot_in_key(slots: &[Option<Conn>], slot: u32) -> Key {
    slots[slot as usize].as_ref().expect("indexed").in_key()
}

fn slot_out_key(slots: &[Option<Conn>], slot: u32) -> Key {
    slots[slot as usize]
        .as_ref()
        .and_then(Conn::out_key)
        .expect("out-indexed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    fn nat_conn(cport: u16) -> Conn {
        Conn::new(
            Some(Protocol::Tcp),
            conn_flags::INACTIVE,
            Forward::Masq,
            (ip(1), cport),
            (ip(100), 80),
            (ip(7), 8000),
            DestId(0),
        )
    }

    #[test]
    fn in_and_out_lookups_find_a_nat_entry() {
        let mut table = ConnTable::default();
        let id = table.insert(nat_conn(40000));
        let tcp = Protocol::Tcp;
        assert_eq!(
            table.lookup_in(tcp, (ip(1), 40000), (ip(100), 80)),
            Some(id)
        );
        assert_eq!(
            table.lookup_out(tcp, (ip(7), 8000), (ip(1), 40000)),
            Some(id)
        );
        assert_eq!(table.lookup_in(tcp, (ip(1), 40001), (ip(100), 80)), None);
        table.remove(id);
        assert_eq!(table.lookup_in(tcp, (ip(1), 40000), (ip(100), 80)), None);
        assert!(table.is_empty());
    }

    #[test]
    fn dr_entries_have_no_out_index() {
        let mut table = ConnTable::default();
        let mut conn = nat_conn(1);
        conn.fwd = Forward::Route;
        table.insert(conn);
        assert_eq!(
            table.lookup_out(Protocol::Tcp, (ip(7), 8000), (ip(1), 1)),
            None
        );
    }

    #[test]
    fn timers_fire_in_order_and_follow_re_arming() {
        let mut table = ConnTable::default();
        let a = table.insert(nat_conn(1));
        let b = table.insert(nat_conn(2));
        table.arm(a, 100);
        table.arm(b, 50);
        table.arm(a, 300); // pushed later: the old heap entry re-queues
        table.arm(b, 20); // pulled earlier: a new heap entry
        assert_eq!(table.pop_expired(19), None);
        assert_eq!(table.pop_expired(20), Some(b));
        table.remove(b);
        assert_eq!(table.pop_expired(299), None);
        assert_eq!(table.next_timer(), Some(300));
        assert_eq!(table.pop_expired(300), Some(a));
    }

    #[test]
    fn invalidated_templates_no_longer_match() {
        let mut table = ConnTable::default();
        let mut t = nat_conn(0);
        t.flags = conn_flags::TEMPLATE;
        let id = table.insert(t);
        assert_eq!(
            table.lookup_template(Some(Protocol::Tcp), ip(1), ip(100), 80),
            Some(id)
        );
        table.invalidate_template(id);
        assert_eq!(
            table.lookup_template(Some(Protocol::Tcp), ip(1), ip(100), 80),
            None
        );
        assert_eq!(table.get(id).vport, 0xffff);
        table.remove(id);
        assert!(table.is_empty());
    }

    #[test]
    fn a_reused_slot_ignores_the_timers_of_its_previous_entry() {
        let mut table = ConnTable::default();
        let a = table.insert(nat_conn(1));
        table.arm(a, 10);
        table.remove(a);
        let b = table.insert(nat_conn(2));
        assert_eq!(a, b);
        assert_eq!(table.pop_expired(50), None, "b is not armed yet");
        table.arm(b, 100);
        assert_eq!(table.pop_expired(50), None);
        assert_eq!(table.pop_expired(100), Some(b));
    }

    #[test]
    fn slots_are_reused() {
        let mut table = ConnTable::default();
        let a = table.insert(nat_conn(1));
        table.remove(a);
        let b = table.insert(nat_conn(2));
        assert_eq!(a, b);
        assert_eq!(table.len(), 1);
    }
}
