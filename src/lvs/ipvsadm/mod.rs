//! `ipvsadm` 1.31: its command line and its output, byte for byte (ipvsadm.md).

pub mod command;
