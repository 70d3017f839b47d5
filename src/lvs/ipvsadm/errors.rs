//! ipvsadm's ways of failing: `fail()` (exit 2), `tryhelp_exit()` and popt errors (exit 255),
//! failed listings (exit 1), and `ipvs_strerror`'s table for what the kernel refused.

use super::command::{Command, Errno, IpvsadmError};

/// `fail(2, ...)`: every parse or validation error.
pub(super) fn fail(message: impl Into<String>) -> IpvsadmError {
    IpvsadmError {
        message: message.into(),
        exit: 2,
    }
}

/// `tryhelp_exit(argv[0], -1)`: the first option is not a command (and `-R` inside `-R`).
pub(super) fn try_help(argv0: &str) -> IpvsadmError {
    IpvsadmError {
        message: format!("Try `{argv0} -h' or '{argv0} --help' for more information."),
        exit: 255,
    }
}

/// A popt error after the command: `<bad option>: <poptStrerror>`, and `main` returns -1.
pub(super) fn popt_error(bad_option: &str, text: &str) -> IpvsadmError {
    IpvsadmError {
        message: format!("{bad_option}: {text}"),
        exit: 255,
    }
}

/// A listing that could not get what it lists (`list_service` prints and exits 1).
pub(super) fn listing_failed(message: &str) -> IpvsadmError {
    IpvsadmError {
        message: message.to_string(),
        exit: 1,
    }
}

/// The libipvs call behind a command: `ipvs_strerror` matches on it before the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IpvsFunc {
    AddService,
    UpdateService,
    DelService,
    ZeroService,
    AddDest,
    UpdateDest,
    DelDest,
    StartDaemon,
    StopDaemon,
    GetService,
    AddLaddr,
    DelLaddr,
    GetLaddrs,
    Other,
}

fn ipvs_func(cmd: &Command) -> IpvsFunc {
    match cmd {
        Command::AddService(_) => IpvsFunc::AddService,
        Command::EditService(_) => IpvsFunc::UpdateService,
        Command::DeleteService(_) => IpvsFunc::DelService,
        Command::Zero(_) => IpvsFunc::ZeroService,
        Command::AddDest { .. } => IpvsFunc::AddDest,
        Command::EditDest { .. } => IpvsFunc::UpdateDest,
        Command::DeleteDest { .. } => IpvsFunc::DelDest,
        Command::StartDaemon(_) => IpvsFunc::StartDaemon,
        Command::StopDaemon { .. } => IpvsFunc::StopDaemon,
        Command::List(_) => IpvsFunc::GetService,
        Command::AddLaddr { .. } => IpvsFunc::AddLaddr,
        Command::DelLaddr { .. } => IpvsFunc::DelLaddr,
        Command::ListLaddrs { .. } => IpvsFunc::GetLaddrs,
        _ => IpvsFunc::Other,
    }
}

/// `ipvs_strerror`'s table (libipvs.c), plus the FULLNAT rows of alibaba/LVS's libipvs; None
/// as the function means "any". The first matching row wins.
const STRERROR_TABLE: &[(Option<IpvsFunc>, Errno, &str)] = &[
    (
        Some(IpvsFunc::AddService),
        Errno::Eexist,
        "Service already exists",
    ),
    (
        Some(IpvsFunc::AddService),
        Errno::Enoent,
        "Scheduler or persistence engine not found",
    ),
    (
        Some(IpvsFunc::UpdateService),
        Errno::Esrch,
        "No such service",
    ),
    (
        Some(IpvsFunc::UpdateService),
        Errno::Enoent,
        "Scheduler or persistence engine not found",
    ),
    (Some(IpvsFunc::DelService), Errno::Esrch, "No such service"),
    (Some(IpvsFunc::ZeroService), Errno::Esrch, "No such service"),
    (Some(IpvsFunc::AddDest), Errno::Esrch, "Service not defined"),
    (
        Some(IpvsFunc::AddDest),
        Errno::Eexist,
        "Destination already exists",
    ),
    (
        Some(IpvsFunc::UpdateDest),
        Errno::Esrch,
        "Service not defined",
    ),
    (
        Some(IpvsFunc::UpdateDest),
        Errno::Enoent,
        "No such destination",
    ),
    (Some(IpvsFunc::DelDest), Errno::Esrch, "Service not defined"),
    (
        Some(IpvsFunc::DelDest),
        Errno::Enoent,
        "No such destination",
    ),
    (
        Some(IpvsFunc::StartDaemon),
        Errno::Eexist,
        "Daemon has already run",
    ),
    (
        Some(IpvsFunc::StopDaemon),
        Errno::Esrch,
        "No daemon is running",
    ),
    (Some(IpvsFunc::GetService), Errno::Esrch, "No such service"),
    (
        Some(IpvsFunc::AddLaddr),
        Errno::Esrch,
        "Service not defined",
    ),
    (
        Some(IpvsFunc::AddLaddr),
        Errno::Eexist,
        "Local address already exists",
    ),
    (
        Some(IpvsFunc::DelLaddr),
        Errno::Esrch,
        "Service not defined",
    ),
    (
        Some(IpvsFunc::DelLaddr),
        Errno::Enoent,
        "No such Local address",
    ),
    (
        Some(IpvsFunc::GetLaddrs),
        Errno::Esrch,
        "Service not defined",
    ),
    (None, Errno::Eperm, "Permission denied (you must be root)"),
    (
        None,
        Errno::Einval,
        "Invalid operation.  Possibly wrong module version, address not unicast, ...",
    ),
    (None, Errno::Enoprotoopt, "Protocol not available"),
    (None, Errno::Enomem, "Memory allocation problem"),
    (None, Errno::Eopnotsupp, "Operation not supported with IPv6"),
    (
        None,
        Errno::Eafnosupport,
        "Operation not supported with specified address family",
    ),
    (None, Errno::Emsgsize, "Module is wrong version"),
];

/// glibc's `strerror` for the errnos the table leaves to it.
fn strerror(errno: Errno) -> &'static str {
    match errno {
        Errno::Eexist => "File exists",
        Errno::Enoent => "No such file or directory",
        Errno::Esrch => "No such process",
        Errno::Einval => "Invalid argument",
        Errno::Erange => "Numerical result out of range",
        Errno::Eperm => "Operation not permitted",
        Errno::Enoprotoopt => "Protocol not available",
        Errno::Enomem => "Cannot allocate memory",
        Errno::Eopnotsupp => "Operation not supported",
        Errno::Eafnosupport => "Address family not supported by protocol",
        Errno::Emsgsize => "Message too long",
    }
}

/// `ipvs_strerror(errno)` for the call behind `cmd`. A set command then exits 255
/// (`process_options` returns -1); a listing (`-L -t`) exits 1.
pub fn kernel_error(cmd: &Command, errno: Errno) -> IpvsadmError {
    let func = ipvs_func(cmd);
    let message = STRERROR_TABLE
        .iter()
        .find(|(f, e, _)| *e == errno && f.is_none_or(|f| f == func))
        .map_or_else(|| strerror(errno), |(_, _, text)| text);
    let exit = if func == IpvsFunc::GetService { 1 } else { 255 };
    IpvsadmError {
        message: message.to_string(),
        exit,
    }
}
