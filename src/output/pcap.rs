//! Packet captures that open in Wireshark: one pcapng file with an interface per host NIC
//! (named `host/eth0`, nanosecond timestamps, direction flags, explanations as packet
//! comments), or one classic pcap per NIC. Simulated time 0 is the Unix epoch, so the files
//! are the same byte for byte on every run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::trace::{Capture, Direction, HostId, Link, Record, Sink};

const SNAPLEN: u32 = 262_144;

/// The pcap link type of a capture: Ethernet for NICs, raw IP for `tunl0`.
fn datalink(link: Link) -> DataLink {
    match link {
        Link::Ethernet => DataLink::ETHERNET,
        Link::RawIp => DataLink::RAW,
    }
}

fn to_io(e: pcap_file::PcapError) -> io::Error {
    io::Error::other(e.to_string())
}

/// (host id, host name, interface name) of every NIC known when the run starts, in
/// declaration order.
pub type Interfaces = Vec<(HostId, String, String)>;

/// Interface ids by host, then name (looked up per packet, so without allocating).
#[derive(Default)]
struct InterfaceIds {
    by_host: Vec<Vec<(Rc<str>, u32)>>,
    count: u32,
}

impl InterfaceIds {
    fn get(&self, host: HostId, iface: &str) -> Option<u32> {
        self.by_host
            .get(host)?
            .iter()
            .find(|(n, _)| &**n == iface)
            .map(|(_, id)| *id)
    }

    fn insert(&mut self, host: HostId, iface: &str) -> u32 {
        if self.by_host.len() <= host {
            self.by_host.resize_with(host + 1, Vec::new);
        }
        let id = self.count;
        self.by_host[host].push((Rc::from(iface), id));
        self.count += 1;
        id
    }
}

pub struct PcapNg {
    writer: PcapNgWriter<BufWriter<File>>,
    ids: InterfaceIds,
}

impl PcapNg {
    pub fn create(path: &Path, interfaces: &Interfaces) -> io::Result<PcapNg> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let section = SectionHeaderBlock {
            endianness: Endianness::Little,
            options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                concat!("lvsim ", env!("CARGO_PKG_VERSION")),
            ))],
            ..Default::default()
        };
        let writer = PcapNgWriter::with_section_header(file, section).map_err(to_io)?;
        let mut pcap = PcapNg {
            writer,
            ids: InterfaceIds::default(),
        };
        for (id, host, iface) in interfaces {
            pcap.interface_id(*id, host, iface, Link::Ethernet)?;
        }
        Ok(pcap)
    }

    /// The interface id of `host/iface`, writing its Interface Description Block first.
    fn interface_id(
        &mut self,
        host_id: HostId,
        host: &str,
        iface: &str,
        link: Link,
    ) -> io::Result<u32> {
        if let Some(id) = self.ids.get(host_id, iface) {
            return Ok(id);
        }
        let block = InterfaceDescriptionBlock {
            linktype: datalink(link),
            snaplen: SNAPLEN,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(format!("{host}/{iface}"))),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        self.writer.write_pcapng_block(block).map_err(to_io)?;
        Ok(self.ids.insert(host_id, iface))
    }

    fn packet(&mut self, capture: &Capture, host: &str) -> io::Result<()> {
        let id = self.interface_id(capture.host, host, &capture.iface, capture.link)?;
        let flags = match capture.dir {
            Direction::In => 1,
            Direction::Out => 2,
        };
        let mut options = vec![EnhancedPacketOption::Flags(flags)];
        options.extend(
            capture
                .notes
                .iter()
                .map(|n| EnhancedPacketOption::Comment(Cow::Borrowed(n.as_str()))),
        );
        let block = EnhancedPacketBlock {
            interface_id: id,
            timestamp: Duration::from_nanos(capture.t.ns()),
            original_len: capture.frame.len() as u32,
            data: Cow::Borrowed(&capture.frame),
            options,
        };
        self.writer.write_pcapng_block(block).map_err(to_io)?;
        Ok(())
    }
}

impl Sink for PcapNg {
    fn wants_output(&self) -> bool {
        false
    }

    fn record(&mut self, record: &Record, hosts: &[String]) -> io::Result<()> {
        match record {
            Record::Capture(c) => self.packet(c, &hosts[c.host]),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.writer.get_mut().flush()
    }
}

/// One classic pcap (nanosecond) per NIC: `DIR/host-eth0.pcap`.
pub struct PcapDir {
    dir: PathBuf,
    writers: BTreeMap<(String, String), PcapWriter<BufWriter<File>>>,
}

impl PcapDir {
    pub fn create(dir: &Path, interfaces: &Interfaces) -> io::Result<PcapDir> {
        std::fs::create_dir_all(dir)?;
        let mut pcaps = PcapDir {
            dir: dir.to_owned(),
            writers: BTreeMap::new(),
        };
        for (_, host, iface) in interfaces {
            pcaps.writer(host, iface, Link::Ethernet)?;
        }
        Ok(pcaps)
    }

    fn writer(
        &mut self,
        host: &str,
        iface: &str,
        link: Link,
    ) -> io::Result<&mut PcapWriter<BufWriter<File>>> {
        let key = (host.to_owned(), iface.to_owned());
        if !self.writers.contains_key(&key) {
            let file = BufWriter::new(File::create(self.dir.join(format!("{host}-{iface}.pcap")))?);
            let header = PcapHeader {
                datalink: datalink(link),
                ts_resolution: TsResolution::NanoSecond,
                endianness: Endianness::Little,
                snaplen: SNAPLEN,
                ..Default::default()
            };
            self.writers.insert(
                key.clone(),
                PcapWriter::with_header(file, header).map_err(to_io)?,
            );
        }
        Ok(self.writers.get_mut(&key).expect("inserted"))
    }
}

impl Sink for PcapDir {
    fn wants_output(&self) -> bool {
        false
    }

    fn record(&mut self, record: &Record, hosts: &[String]) -> io::Result<()> {
        let Record::Capture(c) = record else {
            return Ok(());
        };
        let writer = self.writer(&hosts[c.host], &c.iface, c.link)?;
        let packet = PcapPacket::new(
            Duration::from_nanos(c.t.ns()),
            c.frame.len() as u32,
            &c.frame,
        );
        writer.write_packet(&packet).map_err(to_io)?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        for (_, writer) in std::mem::take(&mut self.writers) {
            writer.into_writer().flush()?;
        }
        Ok(())
    }
}
