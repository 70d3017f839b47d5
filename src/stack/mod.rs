//! The simulated Linux network stack: links, hosts, ARP, IP, ICMP, TCP, UDP and programs.

pub mod addr;
pub mod apps;
pub mod arp;
pub mod ctx;
pub mod fou;
pub mod hooks;
pub mod host;
pub mod icmp;
pub mod iface;
pub mod igmp;
pub mod ip;
pub mod lan;
pub mod link;
pub mod neigh;
pub mod netfilter;
pub mod route;
pub mod sysctl;
pub mod tcp;
pub mod time_wait;
pub mod udp;

pub use host::{Host, HostEvent};
