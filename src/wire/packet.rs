//! A byte buffer with headroom, like the kernel's skb: the IP layer builds a datagram, and the
//! link layer later prepends its header in place instead of copying the payload.

/// In a rewrite note, stands for the destination MAC of the frame that finally carries the
/// packet (known only once the neighbour layer has resolved the next hop).
pub const DST_MAC: &str = "{dst-mac}";

/// Bytes of a packet starting at `start` inside `buf`.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    buf: Vec<u8>,
    start: usize,
    /// Why a node rewrote this packet; the NIC that sends it attaches it to its capture.
    note: Option<Box<str>>,
}

impl Packet {
    /// Room left in front of freshly built packets: Ethernet (14) plus an outer IPv4 header
    /// (20) for tunnelling, plus spare.
    pub const HEADROOM: usize = 64;

    /// The smallest payload of an Ethernet frame: shorter ones are padded to it on the wire.
    const MIN_PAYLOAD: usize = 46;

    /// A zeroed packet of `len` bytes with the standard headroom, and room to pad it to the
    /// Ethernet minimum without reallocating.
    pub fn zeroed(len: usize) -> Packet {
        let mut buf = Vec::with_capacity(Self::HEADROOM + len.max(Self::MIN_PAYLOAD));
        buf.resize(Self::HEADROOM + len, 0);
        Packet {
            buf,
            start: Self::HEADROOM,
            note: None,
        }
    }

    /// Wraps received bytes (no headroom: they already carry their link header).
    pub fn from_bytes(buf: Vec<u8>) -> Packet {
        Packet {
            buf,
            start: 0,
            note: None,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }

    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Prepends `n` bytes (uninitialised content: the caller writes them) and returns them.
    pub fn push_front(&mut self, n: usize) -> &mut [u8] {
        if self.start < n {
            let extra = n - self.start + Self::HEADROOM;
            let mut grown = Vec::with_capacity(self.buf.len() + extra);
            grown.resize(extra, 0);
            grown.extend_from_slice(&self.buf);
            self.buf = grown;
            self.start += extra;
        }
        self.start -= n;
        &mut self.buf[self.start..self.start + n]
    }

    /// Drops the first `n` bytes (a header that has been consumed).
    pub fn pull_front(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
    }

    /// Records why the packet was rewritten (shown on the frame that carries it out).
    pub fn annotate(&mut self, note: String) {
        self.note = Some(note.into_boxed_str());
    }

    /// Takes the rewrite explanation, if any.
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take().map(String::from)
    }

    /// Inserts `bytes` at offset `at` of the data (a TCP option pushed between headers).
    pub fn insert(&mut self, at: usize, bytes: &[u8]) {
        let at = self.start + at;
        self.buf.splice(at..at, bytes.iter().copied());
    }

    /// Removes `len` bytes at offset `at` (an encapsulation header between headers).
    pub fn remove(&mut self, at: usize, len: usize) {
        let at = self.start + at;
        self.buf.drain(at..at + len);
    }

    /// Cuts the packet to `len` bytes (removes Ethernet padding after the IP datagram).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(self.start + len);
    }

    /// Pads with zeros up to `len` bytes, as a NIC pads short frames to the Ethernet minimum.
    pub fn pad_to(&mut self, len: usize) {
        if self.len() < len {
            self.buf.resize(self.start + len, 0);
        }
    }
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packet({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_front_uses_headroom_then_grows() {
        let mut p = Packet::zeroed(4);
        p.data_mut().copy_from_slice(&[1, 2, 3, 4]);
        p.push_front(14).fill(9);
        assert_eq!(p.len(), 18);
        assert_eq!(&p.data()[14..], &[1, 2, 3, 4]);
        p.push_front(100).fill(7);
        assert_eq!(p.len(), 118);
        assert_eq!(&p.data()[114..], &[1, 2, 3, 4]);
    }

    #[test]
    fn pull_truncate_and_pad() {
        let mut p = Packet::from_bytes(vec![1, 2, 3, 4, 5, 6]);
        p.pull_front(2);
        assert_eq!(p.data(), &[3, 4, 5, 6]);
        p.truncate(2);
        assert_eq!(p.data(), &[3, 4]);
        p.pad_to(5);
        assert_eq!(p.data(), &[3, 4, 0, 0, 0]);
    }
}
