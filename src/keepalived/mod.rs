//! keepalived: its configuration file, the VRRP daemon that moves VIPs between directors,
//! and the health checkers that edit the IPVS table (`reference/keepalived.md`).

pub mod config;
pub mod daemon;
pub mod vrrp;
