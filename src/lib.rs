//! lvsim: a packet-level simulator of Linux networking and LVS load balancing.

pub mod cli;
pub mod diagnosis;
pub mod keepalived;
pub mod lint;
pub mod lvs;
pub mod output;
pub mod scenario;
pub mod sim;
pub mod stack;
pub mod trace;
pub mod tui;
pub mod wire;
