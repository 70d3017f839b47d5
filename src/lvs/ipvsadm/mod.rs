//! `ipvsadm` 1.31: its command line and its output, byte for byte (ipvsadm.md), with lvsim's
//! FULLNAT extension (design.md: `--fullnat` on `-a/-e`, `-P|-Q|-G -t VIP:PORT -z LIP`).
//!
//! The caller runs the commands against its IPVS tables; this module only turns words into a
//! [`Command`] (or ipvsadm's error) and snapshots into ipvsadm's text:
//! - [`parse`] / [`parse_restore_line`]: a command line / a line of `-R` input (from
//!   [`restore_lines`]), where `-R` itself is refused as ipvsadm refuses it;
//! - [`kernel_error`]: ipvsadm's message when the kernel refuses a command;
//! - [`list`], [`save`], [`list_laddrs`], [`help`], [`version`]: what ipvsadm prints.

mod addr;
pub mod command;
mod errors;
mod help;
mod laddr;
mod list;
mod names;
mod numbers;
mod options;
mod parse;
mod popt;
mod restore;
mod save;
mod services;
mod sort;
#[cfg(test)]
mod tests;

pub use command::{Command, DaemonConfig, DaemonState, Errno, IpvsadmError, ListOptions};
pub use errors::kernel_error;
pub use help::{help, version};
pub use laddr::list_laddrs;
pub use list::list;
pub use restore::restore_lines;
pub use save::save;
pub use sort::{dests_in_order, services_in_order};

/// One ipvsadm invocation: `argv[0]` is the program as invoked (it appears in the "Try ..."
/// message). No arguments at all is `-L`.
pub fn parse(argv: &[&str]) -> Result<Command, IpvsadmError> {
    parse::parse_argv(argv, false)
}

/// One line of `ipvsadm -R` input, `argv[0]` being the program that reads it: as [`parse`],
/// but `-R` is refused with the "Try ..." message (`restore_table` guards against recursion).
pub fn parse_restore_line(argv: &[&str]) -> Result<Command, IpvsadmError> {
    parse::parse_argv(argv, true)
}
