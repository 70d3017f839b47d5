//! The capture formats as Wireshark sees them: pcapng interfaces named `host/nic` with
//! nanosecond resolution and direction flags, packet comments, classic per-NIC pcaps — and the
//! tshark check itself catches a corrupted checksum.

mod common;

use std::borrow::Cow;
use std::fs::File;

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};

use common::{assert_tshark_clean, run_lab_with_pcap, tshark_fields};

const LAB: &str = r#"
title = "two hosts"
until = "2s"
[lan.lan0]
[host.a]
nic.eth0 = { lan = "lan0", addr = "10.0.0.1/24" }
[host.b]
nic.eth0 = { lan = "lan0", addr = "10.0.0.2/24" }
nic.eth1 = { lan = "lan0" }
[[at]]
time = "1s"
host = "a"
run = "ping -c 1 10.0.0.2"
"#;

#[test]
fn pcapng_has_one_named_nanosecond_interface_per_nic_and_direction_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = run_lab_with_pcap(LAB, dir.path());
    let mut reader = PcapNgReader::new(File::open(&path).unwrap()).unwrap();
    let mut names = Vec::new();
    let mut flags = Vec::new();
    let mut timestamps = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.unwrap() {
            Block::InterfaceDescription(idb) => {
                assert!(
                    idb.options
                        .contains(&InterfaceDescriptionOption::IfTsResol(9)),
                    "nanosecond if_tsresol"
                );
                for o in &idb.options {
                    if let InterfaceDescriptionOption::IfName(n) = o {
                        names.push(n.to_string());
                    }
                }
            }
            Block::EnhancedPacket(epb) => {
                timestamps.push(epb.timestamp.as_nanos());
                for o in &epb.options {
                    if let EnhancedPacketOption::Flags(f) = o {
                        flags.push(*f);
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(names, ["a/eth0", "b/eth0", "b/eth1"]);
    assert!(
        flags.contains(&1) && flags.contains(&2),
        "inbound and outbound flags: {flags:?}"
    );
    assert_eq!(
        timestamps[0], 1_000_000_000,
        "simulated time 0 is the epoch; the first frame leaves at 1 s"
    );
    assert_tshark_clean(&path);
}

#[test]
fn tshark_shows_interface_names_and_explanations() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = run_lab_with_pcap(LAB, dir.path());
    let rows = tshark_fields(
        &path,
        &["frame.interface_name", "frame.comment", "eth.type"],
    );
    assert_eq!(rows[0][0], "a/eth0");
    let learned = rows
        .iter()
        .find(|r| r[1].contains("learns 10.0.0.1 is-at"))
        .expect("b's learning is a packet comment");
    assert_eq!(learned[0], "b/eth0");
}

#[test]
fn the_tshark_check_catches_a_bad_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = run_lab_with_pcap(LAB, dir.path());
    let mut reader = PcapNgReader::new(File::open(&path).unwrap()).unwrap();
    let broken_path = dir.path().join("broken.pcapng");
    let mut writer =
        pcap_file::pcapng::PcapNgWriter::new(File::create(&broken_path).unwrap()).unwrap();
    while let Some(block) = reader.next_block() {
        let mut block = block.unwrap().into_owned();
        if let Block::EnhancedPacket(epb) = &mut block {
            let mut data = epb.data.to_vec();
            if data.len() > 30 && data[12..14] == [0x08, 0x00] {
                data[24] ^= 0xff; // the IPv4 header checksum
            }
            epb.data = Cow::Owned(data);
        }
        writer.write_block(&block).unwrap();
    }
    drop(writer);
    let caught = std::panic::catch_unwind(|| assert_tshark_clean(&broken_path));
    assert!(
        caught.is_err(),
        "a corrupted IPv4 checksum must be reported"
    );
}

#[test]
fn pcap_dir_writes_one_classic_nanosecond_pcap_per_nic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("caps");
    let scenario_path = dir.path().join("lab.toml");
    std::fs::write(&scenario_path, LAB).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .args(["run", "--quiet", "--pcap-dir"])
        .arg(&out)
        .arg(&scenario_path)
        .status()
        .unwrap();
    assert!(status.success());
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["a-eth0.pcap", "b-eth0.pcap", "b-eth1.pcap"]);
    let bytes = std::fs::read(out.join("a-eth0.pcap")).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0x4d, 0x3c, 0xb2, 0xa1],
        "nanosecond little-endian pcap magic"
    );
    assert_tshark_clean(&out.join("a-eth0.pcap"));
    assert_eq!(
        tshark_fields(&out.join("b-eth0.pcap"), &["frame.number"]).len(),
        4,
        "b/eth0: who-has, reply, echo, echo reply"
    );
    // b/eth1 has no address and was never brought up: like tcpdump on a down NIC, it captures nothing.
    assert_eq!(
        tshark_fields(&out.join("b-eth1.pcap"), &["frame.number"]).len(),
        0
    );
}
