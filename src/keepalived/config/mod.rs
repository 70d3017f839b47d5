//! keepalived.conf: the data model the daemon runs from.

mod model;

pub use model::*;
