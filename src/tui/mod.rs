//! `lvsim tui`: step through a lab frame by frame, forwards and backwards.
//!
//! - `session`: the world simulated in chunks; `log` the records it produced, `history` the
//!   hosts' state at every event (`hostview` is what is kept of a host).
//! - `state` the UI's own state, `input` the pure `update` every key goes through, `filter`
//!   the display filters.
//! - `detail`, `trail`, `explain`: what the panes say (decoded headers and rewrites, a
//!   packet's hops, the reason text); `render/` draws them, one function per region.
//! - `terminal`: the real terminal loop.

pub mod detail;
pub mod explain;
pub mod filter;
pub mod history;
pub mod hostview;
pub mod input;
pub mod log;
pub mod render;
pub mod session;
pub mod state;
pub mod terminal;
pub mod trail;
