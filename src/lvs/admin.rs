//! Carrying out an `ipvsadm` command on a host's IPVS tables: what the kernel does with each
//! request (`do_ip_vs_set_ctl`, `ip_vs_genl_set_cmd`) and what ipvsadm prints back.

use std::net::IpAddr;

use super::ipvsadm::{self, command::Command, command::IpvsadmError};
use super::table::Ipvs;

/// Why a command produced no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// ipvsadm itself fails (its message and exit status).
    Ipvsadm(IpvsadmError),
    /// A part of IPVS lvsim does not simulate (yet); the text says what and what to do.
    NotSimulated(String),
}

impl From<IpvsadmError> for AdminError {
    fn from(e: IpvsadmError) -> AdminError {
        AdminError::Ipvsadm(e)
    }
}

/// Runs `cmd` at `now_ns`; returns what ipvsadm writes to standard output.
/// `unicast_or_local` tells whether the host's routing sees an address as a unicast or local
/// one (the kernel refuses real servers that are neither).
pub fn execute(
    ipvs: &mut Ipvs,
    argv0: &str,
    cmd: &Command,
    now_ns: u64,
    unicast_or_local: &dyn Fn(IpAddr) -> bool,
) -> Result<String, AdminError> {
    let refused = |errno| AdminError::Ipvsadm(ipvsadm::kernel_error(cmd, errno));
    match cmd {
        Command::AddService(config) => ipvs.add_service(config.clone(), now_ns).map(|_| ()),
        Command::EditService(config) => ipvs.edit_service(config.clone(), now_ns),
        Command::DeleteService(key) => ipvs.del_service(key, now_ns),
        Command::Clear => {
            ipvs.flush(now_ns);
            Ok(())
        }
        Command::AddDest { service, dest } => ipvs
            .add_dest(service, dest.clone(), unicast_or_local(dest.addr), now_ns)
            .map(|_| ()),
        Command::EditDest { service, dest } => {
            ipvs.edit_dest(service, dest.clone(), now_ns).map(|_| ())
        }
        Command::DeleteDest {
            service,
            addr,
            port,
        } => ipvs.del_dest(service, *addr, *port, now_ns),
        Command::Zero(key) => ipvs.zero(key.as_ref(), now_ns),
        Command::SetTimeouts { tcp, tcpfin, udp } => {
            ipvs.timeouts.set(*tcp, *tcpfin, *udp);
            Ok(())
        }
        Command::AddLaddr { service, addr } => ipvs.add_laddr(service, *addr),
        Command::DelLaddr { service, addr } => ipvs.del_laddr(service, *addr),
        Command::List(options) => return Ok(ipvsadm::list(options, &ipvs.snapshot(now_ns))?),
        Command::Save { numeric } => return Ok(ipvsadm::save(*numeric, &ipvs.snapshot(now_ns))),
        Command::ListLaddrs { service } => {
            let snapshot = ipvs.snapshot(now_ns);
            return Ok(ipvsadm::list_laddrs(service.as_ref(), &snapshot)?);
        }
        Command::Help => return Ok(ipvsadm::help(argv0)),
        Command::Version => return Ok(ipvsadm::version()),
        Command::StartDaemon(config) => ipvs.start_daemon(config.clone()),
        Command::StopDaemon { state } => ipvs.stop_daemon(*state),
        Command::Restore => {
            return Err(AdminError::NotSimulated(
                "ipvsadm -R reads rules from standard input, which lvsim scripts do not have: write each rule as its own ipvsadm line".to_owned(),
            ));
        }
    }
    .map_err(refused)?;
    Ok(String::new())
}
