//! `ipvsadm` lines in lab scripts: parsed as ipvsadm 1.31 parses them, run against the
//! host's IPVS tables. ipvsadm's own errors surface when the line runs (a setup script then
//! stops at the line; a timeline command prints the message and the run goes on).

use std::net::IpAddr;

use super::args::Args;
use crate::lvs::admin::{self, AdminError};
use crate::lvs::ipvsadm::{self, command::Command, command::IpvsadmError};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

/// A parsed `ipvsadm` line; a line ipvsadm would reject keeps ipvsadm's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsadmLine {
    pub argv0: String,
    pub parsed: Result<Command, IpvsadmError>,
}

pub fn parse(args: &mut Args) -> IpvsadmLine {
    let argv0 = args.source_word(0);
    let mut argv = vec![argv0.clone()];
    while let Some(word) = args.take() {
        argv.push(word.text.clone());
    }
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    IpvsadmLine {
        argv0,
        parsed: ipvsadm::parse(&refs),
    }
}

/// `inet_addr_type` is RTN_UNICAST or RTN_LOCAL: not 0.0.0.0, a broadcast or a multicast
/// address.
fn unicast_or_local(host: &Host, addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !a.is_multicast() && !a.is_unspecified() && !host.is_broadcast(a),
        IpAddr::V6(a) => !a.is_multicast() && !a.is_unspecified(),
    }
}

/// Runs the line; the error text is `ipvsadm: <ipvsadm's message>`.
pub fn run(host: &mut Host, ctx: &mut Ctx, line: &IpvsadmLine) -> Result<Vec<String>, String> {
    let command = line
        .parsed
        .as_ref()
        .map_err(|e| format!("ipvsadm: {}", e.message))?;
    let real_server_ok = match command {
        Command::AddDest { dest, .. } => unicast_or_local(host, dest.addr),
        _ => true,
    };
    let now = ctx.now.ns();
    let result = admin::execute(&mut host.ipvs, &line.argv0, command, now, &|_| {
        real_server_ok
    });
    host.arm_ipvs_timer(ctx);
    host.register_director(ctx);
    match result {
        Ok(stdout) => Ok(stdout.lines().map(str::to_owned).collect()),
        Err(AdminError::Ipvsadm(e)) => Err(format!("ipvsadm: {}", e.message)),
        Err(AdminError::NotSimulated(why)) => Err(format!("ipvsadm: {why}")),
    }
}
