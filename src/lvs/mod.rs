//! Linux Virtual Server: the IPVS tables, schedulers, forwarding methods and `ipvsadm`.

pub mod ipvsadm;
pub mod listing;
pub mod sched;
pub mod service;
