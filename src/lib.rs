//! lvsim: a packet-level simulator of Linux networking and LVS load balancing.

pub mod diagnosis;
pub mod sim;
pub mod stack;
pub mod trace;
pub mod wire;
