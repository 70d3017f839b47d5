//! Linux Virtual Server: the IPVS tables, schedulers, forwarding methods and `ipvsadm`.

pub mod admin;
pub mod conn;
pub mod director;
pub mod ipvsadm;
pub mod listing;
pub mod playground;
pub mod sched;
pub mod service;
pub mod state;
pub mod stats;
pub mod sync_daemon;
pub mod sysctl;
pub mod table;
pub mod tunnel;
