//! Wire formats: frames as real bytes, built and parsed with etherparse.
//!
//! Nothing here knows about hosts or state; the stack (`crate::stack`) decides what to send and
//! these modules turn decisions into bytes and bytes back into typed views.

pub mod arp;
pub mod ethernet;
pub mod gre;
pub mod gue;
pub mod icmp;
pub mod igmp;
pub mod ipv4;
pub mod ipvs_sync;
pub mod mac;
pub mod mangle;
pub mod packet;
pub mod summary;
pub mod tcp;
pub mod udp;
pub mod vrrp;

pub use mac::MacAddr;
pub use packet::Packet;
