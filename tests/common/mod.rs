//! Helpers shared by the integration tests: run a lab from TOML text, read the outcome
//! (neighbour entries, who sent which ARP), build the linux-arp.md measurement topology, and
//! check pcaps with tshark.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use lvsim::output::pcap::PcapNg;
use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions, RunResult};
use lvsim::trace::Sink;

/// Loads and runs a lab; panics with the diagnostic if it does not load or set up.
pub fn run_lab(toml: &str) -> RunResult {
    let scenario = load("test.toml", toml).unwrap_or_else(|e| panic!("{e}"));
    run::run(&scenario, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a lab writing a pcapng into the test's own temporary directory, and checks it with
/// tshark.
pub fn run_lab_with_pcap(toml: &str, dir: &Path) -> (RunResult, PathBuf) {
    let scenario = load("test.toml", toml).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("lab.pcapng");
    let interfaces = scenario
        .hosts
        .iter()
        .enumerate()
        .flat_map(|(id, h)| {
            h.nics
                .iter()
                .map(move |n| (id, h.name.clone(), n.name.clone()))
        })
        .collect();
    let sink: Box<dyn Sink> = Box::new(PcapNg::create(&path, &interfaces).expect("create pcap"));
    let options = RunOptions {
        sinks: vec![sink],
        ..RunOptions::default()
    };
    let result = run::run(&scenario, options).unwrap_or_else(|e| panic!("{e}"));
    // Every capture a test writes must be one Wireshark reads without complaint.
    assert_tshark_clean(&path);
    (result, path)
}

/// The host's neighbour entry for `ip` as (mac, state); the MAC is None when the entry has
/// no valid address (INCOMPLETE, FAILED).
pub fn neigh(result: &RunResult, host: &str, ip: &str) -> Option<(Option<String>, String)> {
    let ip: Ipv4Addr = ip.parse().unwrap();
    let h = result
        .world
        .hosts
        .iter()
        .find(|h| h.name == host)
        .expect("host exists");
    h.neigh.iter().find(|((_, i), _)| *i == ip).map(|(_, e)| {
        (
            e.mac.filter(|_| e.state.is_valid()).map(|m| m.to_string()),
            e.state.name().to_owned(),
        )
    })
}

/// Names of the hosts that sent an ARP reply claiming `ip`, sorted by name (which reply
/// arrived first is read from the requester's neighbour entry instead).
pub fn arp_repliers(result: &RunResult, ip: &str) -> Vec<String> {
    let ip: Ipv4Addr = ip.parse().unwrap();
    let mut names: Vec<String> = result
        .world
        .trace
        .arp_repliers(ip, result.end)
        .into_iter()
        .map(|h| result.world.hosts[h].name.clone())
        .collect();
    names.sort();
    names
}

/// The sender addresses `host` used in its who-has `target` requests.
pub fn request_senders(result: &RunResult, host: &str, target: &str) -> Vec<String> {
    let target: Ipv4Addr = target.parse().unwrap();
    let id = result.world.host_id(host).expect("host exists");
    result
        .world
        .trace
        .arp_sent
        .iter()
        .filter(|s| s.host == id && s.arp.is_request() && s.arp.tpa == target)
        .map(|s| s.arp.spa.to_string())
        .collect()
}

/// The (ok, failed) tally of the program started by command line `cmd`.
pub fn app(result: &RunResult, cmd: &str) -> (u64, u64) {
    let a = result
        .world
        .trace
        .apps
        .iter()
        .find(|a| a.cmd == cmd)
        .unwrap_or_else(|| panic!("{cmd} ran"));
    (a.ok, a.failed)
}

/// Warnings of a kind raised during the run: (host, detail).
pub fn warnings(result: &RunResult, kind: &str) -> Vec<(String, String)> {
    result
        .world
        .trace
        .warnings
        .iter()
        .filter(|w| w.kind == kind)
        .map(|w| (w.host.clone(), w.detail.clone()))
        .collect()
}

pub const CLIENT_MAC: &str = "00:0c:29:f3:1f:de";
pub const DIR_MAC: &str = "00:0c:29:50:d5:63";
pub const RS1_MAC: &str = "00:0c:29:e4:4d:1f";
pub const RS2_MAC: &str = "00:0c:29:2c:a5:a0";
pub const VIP: &str = "192.168.188.120";

/// The topology of linux-arp.md's measurements: client .111, dir .108 with the VIP /32 on
/// eth0 (label eth0:2), rs1 .107 and rs2 .110 with the VIP /32 on lo (label lo:0), every
/// eth0 on one LAN. NIC latencies make replies reach the client in the order the measured
/// bridge delivered them (rs2, rs1, dir).
pub struct ArpLab {
    pub rs_setup: String,
    pub client_setup: String,
    pub dir_setup: String,
    pub extra: String,
    pub until: String,
}

impl ArpLab {
    /// The real servers run `rs_setup` after their addresses are in place.
    pub fn new(rs_setup: &str) -> ArpLab {
        ArpLab {
            rs_setup: rs_setup.to_owned(),
            client_setup: String::new(),
            dir_setup: String::new(),
            extra: String::new(),
            until: "5s".to_owned(),
        }
    }

    pub fn client(mut self, setup: &str) -> ArpLab {
        self.client_setup = setup.to_owned();
        self
    }

    pub fn dir(mut self, setup: &str) -> ArpLab {
        self.dir_setup = setup.to_owned();
        self
    }

    pub fn until(mut self, until: &str) -> ArpLab {
        self.until = until.to_owned();
        self
    }

    /// Appends TOML (usually `[[at]]` entries).
    pub fn with(mut self, toml: &str) -> ArpLab {
        self.extra.push_str(toml);
        self.extra.push('\n');
        self
    }

    /// Adds `[[at]] time host run`.
    pub fn at(self, time: &str, host: &str, run: &str) -> ArpLab {
        let entry = format!("[[at]]\ntime = \"{time}\"\nhost = \"{host}\"\nrun = '''{run}'''\n");
        self.with(&entry)
    }

    pub fn toml(&self) -> String {
        format!(
            r#"title = "linux-arp.md topology"
seed = 1
until = "{until}"

[lan.lan0]
latency = "20us"

[host.client]
nic.eth0 = {{ lan = "lan0", mac = "{CLIENT_MAC}", addr = "192.168.188.111/24" }}
setup = '''
{client}
'''

[host.dir]
nic.eth0 = {{ lan = "lan0", mac = "{DIR_MAC}", addr = "192.168.188.108/24", latency = "10us" }}
setup = '''
ip addr add {VIP}/32 dev eth0 label eth0:2
{dir}
'''

[host.rs1]
nic.eth0 = {{ lan = "lan0", mac = "{RS1_MAC}", addr = "192.168.188.107/24", latency = "5us" }}
setup = '''
ip addr add {VIP}/32 dev lo label lo:0
{rs}
'''

[host.rs2]
nic.eth0 = {{ lan = "lan0", mac = "{RS2_MAC}", addr = "192.168.188.110/24" }}
setup = '''
ip addr add {VIP}/32 dev lo label lo:0
{rs}
'''

{extra}
"#,
            until = self.until,
            client = self.client_setup,
            dir = self.dir_setup,
            rs = self.rs_setup,
            extra = self.extra,
        )
    }

    pub fn run(&self) -> RunResult {
        run_lab(&self.toml())
    }
}

/// tshark, if installed (CI installs it; see .ci/run).
pub fn tshark() -> Command {
    let mut command = Command::new("tshark");
    command.env("LC_ALL", "C");
    command
}

/// Asserts that tshark reads the capture with no malformed packet, no checksum error and no
/// expert error. The one exception is the transport checksum of a datagram quoted in an ICMP
/// error that IPVS rewrote: the kernel leaves it stale (forwarding.md §7), so Wireshark flags
/// it on real captures too.
pub fn assert_tshark_clean(path: &Path) {
    let output = tshark()
        .args(["-r"])
        .arg(path)
        .args([
            "-o", "tcp.check_checksum:TRUE",
            "-o", "ip.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE",
            "-Y", "_ws.malformed || ip.checksum.status == 0 || icmp.checksum.status == 0 || vrrp.checksum.status == 0 || ((_ws.expert.severity >= 8388608 || tcp.checksum.status == 0 || udp.checksum.status == 0) && !icmp)",
        ])
        .output()
        .expect("tshark runs (install it: apt-get install -y tshark)");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bad = String::from_utf8_lossy(&output.stdout);
    assert!(
        bad.trim().is_empty(),
        "tshark flags packets in {}:\n{bad}",
        path.display()
    );
}

/// tshark's field values, one row per packet.
pub fn tshark_fields(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut command = tshark();
    command.arg("-r").arg(path).args([
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
    ]);
    for f in fields {
        command.args(["-e", f]);
    }
    let output = command.output().expect("tshark runs");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}
