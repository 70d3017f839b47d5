//! Lab files: the TOML scenario (LANs, hosts, NICs, setup scripts, a timeline and
//! expectations), the shell subset and commands it is written in, and running it.

pub mod commands;
pub mod expect;
pub mod library;
pub mod load;
pub mod run;
pub mod shell;
pub mod source;

use std::net::Ipv4Addr;

use commands::ScriptCommand;
use source::{Source, Span};

use crate::sim::SimTime;
use crate::stack::lan::LanKind;
use crate::wire::MacAddr;

/// A loaded, checked lab.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub source: Source,
    pub title: String,
    pub about: String,
    pub seed: u64,
    pub until: Option<SimTime>,
    pub lans: Vec<LanSpec>,
    pub hosts: Vec<HostSpec>,
    pub timeline: Vec<AtSpec>,
    pub expects: Vec<expect::Expectation>,
}

#[derive(Debug, Clone)]
pub struct LanSpec {
    pub name: String,
    pub kind: LanKind,
    pub latency: u64,
    pub bandwidth: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct NicSpec {
    pub name: String,
    pub lan: usize,
    pub mac: MacAddr,
    pub latency: u64,
    /// Addresses of the NIC's ifcfg file: configured at start and re-applied by `ifup`.
    pub addrs: Vec<(Ipv4Addr, u8)>,
}

#[derive(Debug, Clone)]
pub struct HostSpec {
    pub name: String,
    pub nics: Vec<NicSpec>,
    pub setup: Vec<ScriptCommand>,
    /// Ports from the host's `nginx` config (`listen PORT;`).
    pub web_ports: Option<Vec<u16>>,
    /// The host's /etc/keepalived/keepalived.conf, read when the daemon starts.
    pub keepalived: Option<KeepalivedText>,
}

/// A `keepalived = """..."""` value: the text and where it sits in the scenario file, so
/// keepalived's `(FILE: Line N)` diagnostics can name `SCENARIO.toml:host.NAME.keepalived`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedText {
    pub text: String,
    /// `SCENARIO.toml:host.NAME.keepalived`.
    pub file: String,
}

/// One `[[at]]` entry.
#[derive(Debug, Clone)]
pub struct AtSpec {
    pub time: SimTime,
    pub action: AtAction,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum AtAction {
    Run {
        host: usize,
        commands: Vec<ScriptCommand>,
    },
    Partition {
        lan: usize,
        groups: Vec<Vec<usize>>,
    },
    Heal {
        lan: usize,
    },
}
