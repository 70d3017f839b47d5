//! `ipvsadm` lines in lab scripts: parsed as ipvsadm 1.31 parses them, run against the
//! host's IPVS tables. ipvsadm's own errors surface when the line runs (a setup script then
//! stops at the line; a timeline command prints the message and the run goes on).

use super::args::Args;
use crate::lvs::admin::AdminError;
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

/// Runs the line; the error text is `ipvsadm: <ipvsadm's message>`.
pub fn run(host: &mut Host, ctx: &mut Ctx, line: &IpvsadmLine) -> Result<Vec<String>, String> {
    let command = line
        .parsed
        .as_ref()
        .map_err(|e| format!("ipvsadm: {}", e.message))?;
    match host.ipvs_execute(ctx, &line.argv0, command) {
        Ok(stdout) => Ok(stdout.lines().map(str::to_owned).collect()),
        Err(AdminError::Ipvsadm(e)) => Err(format!("ipvsadm: {}", e.message)),
        Err(AdminError::NotSimulated(why)) => Err(format!("ipvsadm: {why}")),
    }
}
