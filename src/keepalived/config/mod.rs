//! keepalived.conf: lexer (lib/parser.c's rules) → keyword tables per block → the data model
//! with keepalived's defaults applied, and keepalived's own diagnostics on the way.

mod checkers;
mod global;
mod lexer;
mod model;
mod parse;
mod virtual_server;
mod vrrp;

pub use model::*;
pub use parse::{ConfigDiagnostic, Parsed, parse};

#[cfg(test)]
mod tests;
