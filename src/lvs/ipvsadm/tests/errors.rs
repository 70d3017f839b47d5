//! ipvsadm.md §1–§3: the lines ipvsadm refuses, with its exact message and exit status, and
//! §1's `ipvs_strerror` table.

use super::*;
use crate::lvs::ipvsadm::{Errno, kernel_error, parse};
use crate::lvs::service::DestConfig;

/// Every line must be refused with exactly this message and exit status.
fn assert_refused(cases: &[(&str, &str, i32)]) {
    for &(line, message, exit) in cases {
        let err = refused(line);
        assert_eq!((err.message.as_str(), err.exit), (message, exit), "{line}");
    }
}

const TRY: &str = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

// ipvsadm.md §1 "First option must be a command": the "Try ..." text, exit 255, argv[0]
// as invoked; a popt error on the first option says the same.
#[test]
fn first_option_must_be_a_command() {
    assert_refused(&[
        ("ipvsadm -n -L", TRY, 255),
        ("ipvsadm -t 1.2.3.4:80", TRY, 255),
        ("ipvsadm -nL", TRY, 255),
        ("ipvsadm foo", TRY, 255),
        ("ipvsadm --bogus -L", TRY, 255),
        ("ipvsadm -q", TRY, 255),
        ("ipvsadm --start-daemon", TRY, 255),
        ("ipvsadm --list=1", TRY, 255),
        ("ipvsadm # comment", TRY, 255),
    ]);
    let err = parse(&["/sbin/ipvsadm", "-w", "1"]).unwrap_err();
    assert_eq!(
        err.message,
        "Try `/sbin/ipvsadm -h' or '/sbin/ipvsadm --help' for more information."
    );
}

// ipvsadm.md §1 "Second command": rejected by the option loop as an invalid option, naming
// the last word read (a cluster, or an option's argument).
#[test]
fn second_command_is_an_invalid_option() {
    assert_refused(&[
        ("ipvsadm -L -A", "invalid option `-A'", 2),
        ("ipvsadm -L -h", "invalid option `-h'", 2),
        ("ipvsadm -Lh", "invalid option `-Lh'", 2),
        ("ipvsadm -C --version", "invalid option `--version'", 2),
        (
            "ipvsadm -L --start-daemon master",
            "invalid option `master'",
            2,
        ),
        ("ipvsadm -A -t 1.2.3.4:80 -G", "invalid option `-G'", 2),
    ]);
}

// ipvsadm.md §1 "Repeated option".
#[test]
fn repeated_options() {
    assert_refused(&[
        (
            "ipvsadm -A -t 1.2.3.4:80 -t 1.2.3.4:81",
            "multiple 'service-address' options specified",
            2,
        ),
        (
            "ipvsadm -A -f 1 -t 1.2.3.4:80",
            "multiple 'service-address' options specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -g -m",
            "multiple 'forwarding-method' options specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 --fullnat -i",
            "multiple 'forwarding-method' options specified",
            2,
        ),
        (
            "ipvsadm -L -n -n",
            "multiple 'numeric' options specified",
            2,
        ),
        ("ipvsadm -Lnn", "multiple 'numeric' options specified", 2),
        (
            "ipvsadm -A -t 1.2.3.4:80 -p -p 5",
            "multiple 'persistent' options specified",
            2,
        ),
    ]);
}

// ipvsadm.md §1 "Trailing operand", and §2 `--set`'s three values.
#[test]
fn trailing_operands_and_set_arity() {
    assert_refused(&[
        ("ipvsadm -L foo", "unexpected argument foo", 2),
        ("ipvsadm bar -L", "unexpected argument bar", 2),
        ("ipvsadm -C -- -n", "unexpected argument -n", 2),
        ("ipvsadm -A -t 1.2.3.4:80 # web", "unexpected argument #", 2),
        (
            "ipvsadm --set 30 5",
            "--set option requires 3 timeout values",
            2,
        ),
        ("ipvsadm --set", "--set option requires 3 timeout values", 2),
        ("ipvsadm --set 1 2 3 4", "unexpected argument 4", 2),
        (
            "ipvsadm --set 30 5 abc",
            "invalid timeout value `abc' specified",
            2,
        ),
        (
            "ipvsadm --set 2678401 0 0",
            "invalid timeout value `2678401' specified",
            2,
        ),
        ("ipvsadm --set 30 -5 60", "-5: unknown option", 255),
    ]);
}

// ipvsadm.md §3 "Command × option legality": x (illegal).
#[test]
fn illegal_options_for_a_command() {
    assert_refused(&[
        (
            "ipvsadm -A -t 1.2.3.4:80 -r 1.1.1.1",
            "Illegal 'real-server' option with the 'add-service' command",
            2,
        ),
        (
            "ipvsadm -E -t 1.2.3.4:80 -n",
            "Illegal 'numeric' option with the 'edit-service' command",
            2,
        ),
        (
            "ipvsadm -D -t 1.2.3.4:80 -s rr",
            "Illegal 'scheduler' option with the 'delete-service' command",
            2,
        ),
        (
            "ipvsadm -C -n",
            "Illegal 'numeric' option with the 'flush' command",
            2,
        ),
        (
            "ipvsadm -R -n",
            "Illegal 'numeric' option with the 'restore' command",
            2,
        ),
        (
            "ipvsadm -S -c",
            "Illegal 'connection' option with the 'save' command",
            2,
        ),
        (
            "ipvsadm --set 1 2 3 -n",
            "Illegal 'numeric' option with the 'set' command",
            2,
        ),
        (
            "ipvsadm -Z -n",
            "Illegal 'numeric' option with the 'zero' command",
            2,
        ),
        (
            "ipvsadm -L -s rr",
            "Illegal 'scheduler' option with the 'list' command",
            2,
        ),
        (
            "ipvsadm -L -o",
            "Illegal 'ops' option with the 'list' command",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -p",
            "Illegal 'persistent' option with the 'add-server' command",
            2,
        ),
        (
            "ipvsadm -d -t 1.2.3.4:80 -r 1.1.1.1 -w 2",
            "Illegal 'weight' option with the 'delete-server' command",
            2,
        ),
        (
            "ipvsadm -e -t 1.2.3.4:80 -r 1.1.1.1 --tun-info",
            "Illegal 'tun-info' option with the 'edit-server' command",
            2,
        ),
        (
            "ipvsadm --start-daemon master -n",
            "Illegal 'numeric' option with the 'start-daemon' command",
            2,
        ),
        (
            "ipvsadm --stop-daemon master --mcast-interface eth0",
            "Illegal 'mcast-interface' option with the 'stop-daemon' command",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -z 10.0.1.1",
            "Illegal 'local-address' option with the 'add-service' command",
            2,
        ),
        (
            "ipvsadm -P -t 1.2.3.4:80 -z 10.0.1.1 -n",
            "Illegal 'numeric' option with the 'add-laddr' command",
            2,
        ),
        (
            "ipvsadm -G -z 10.0.1.1",
            "Illegal 'local-address' option with the 'get-laddr' command",
            2,
        ),
    ]);
}

// ipvsadm.md §3 "Command × option legality": + (required), checked in column order.
#[test]
fn missing_required_options() {
    assert_refused(&[
        (
            "ipvsadm -A",
            "You need to supply the 'service-address' option for the 'add-service' command",
            2,
        ),
        (
            "ipvsadm -D -s rr",
            "You need to supply the 'service-address' option for the 'delete-service' command",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80",
            "You need to supply the 'real-server' option for the 'add-server' command",
            2,
        ),
        (
            "ipvsadm -d -r 1.1.1.1",
            "You need to supply the 'service-address' option for the 'delete-server' command",
            2,
        ),
        (
            "ipvsadm -P -t 1.2.3.4:80",
            "You need to supply the 'local-address' option for the 'add-laddr' command",
            2,
        ),
        (
            "ipvsadm -Q -z 10.0.1.1",
            "You need to supply the 'service-address' option for the 'del-laddr' command",
            2,
        ),
        // Column order: numeric (illegal) comes before real-server (missing).
        (
            "ipvsadm -a -n",
            "Illegal 'numeric' option with the 'add-server' command",
            2,
        ),
    ]);
}

// ipvsadm.md §3: the exclusive list group, and the extra list conflicts.
#[test]
fn conflicting_options() {
    assert_refused(&[
        (
            "ipvsadm -L -c -t 1.2.3.4:80",
            "The option 'service-address' conflicts with the 'connection' option in the 'list' command",
            2,
        ),
        (
            "ipvsadm -L --daemon --timeout",
            "The option 'daemon' conflicts with the 'timeout' option in the 'list' command",
            2,
        ),
        (
            "ipvsadm -L -c --timeout --daemon",
            "The option 'timeout' conflicts with the 'connection' option in the 'list' command",
            2,
        ),
        (
            "ipvsadm -L -c --stats",
            "options conflicts in the list command",
            2,
        ),
        (
            "ipvsadm -L --timeout --rate",
            "options conflicts in the list command",
            2,
        ),
        (
            "ipvsadm -L --daemon --thresholds",
            "options conflicts in the list command",
            2,
        ),
        (
            "ipvsadm -L --timeout --persistent-conn",
            "options conflicts in the list command",
            2,
        ),
    ]);
    // -c with --persistent-conn is a listing of its own, not a conflict.
    assert!(parse_line("ipvsadm -L -c --persistent-conn").is_ok());
}

// ipvsadm.md §3: bad addresses and ports (a host name fails as an unresolvable one).
#[test]
fn bad_addresses() {
    let bad_vs = "illegal virtual server address[:port] specified";
    let bad_rs = "illegal real server address[:port] specified";
    assert_refused(&[
        ("ipvsadm -A -t 1.2.3.4.5:80", bad_vs, 2),
        ("ipvsadm -A -t web1:80", bad_vs, 2),
        ("ipvsadm -A -t 80", bad_vs, 2),
        ("ipvsadm -A -t 1.2.3.4:99999", bad_vs, 2),
        ("ipvsadm -A -t 1.2.3.4:nosuchservice", bad_vs, 2),
        ("ipvsadm -A -u 1.2.3.4:ssh", bad_vs, 2),
        ("ipvsadm -A -t [2001:db8::1]80", bad_vs, 2),
        ("ipvsadm -A -t 256.0.0.1:80", bad_vs, 2),
        ("ipvsadm -a -t 1.2.3.4:80 -r web2", bad_rs, 2),
        ("ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1:", bad_rs, 2),
        ("ipvsadm -a -r 1.1.1.1:http -t 1.2.3.4:80", bad_rs, 2),
        (
            "ipvsadm -P -t 1.2.3.4:80 -z web3",
            "illegal local address",
            2,
        ),
        // The first bad value wins over the legality matrix.
        ("ipvsadm -A -x 5 -t web1:80", bad_vs, 2),
    ]);
}

// ipvsadm.md §3: fwmark, weight, thresholds, timeout, netmask ranges.
#[test]
fn bad_numbers() {
    assert_refused(&[
        ("ipvsadm -A -f 0", "invalid fwmark value `0' specified", 2),
        (
            "ipvsadm -A -f 4294967296",
            "invalid fwmark value `4294967296' specified",
            2,
        ),
        (
            "ipvsadm -A -f 0x10",
            "invalid fwmark value `0x10' specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -w -1",
            "illegal weight specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -w 2147483648",
            "illegal weight specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -x abc",
            "illegal u_threshold specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -y -5",
            "illegal l_threshold specified",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -p 0",
            "invalid timeout value `0' specified",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -p 2678401",
            "invalid timeout value `2678401' specified",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -p10m",
            "invalid timeout value `10m' specified",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -M 255.255.255.256",
            "illegal virtual server persistent mask specified",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -M netmask",
            "illegal virtual server persistent mask specified",
            2,
        ),
        (
            "ipvsadm -A -t [::1]:80 -M 129",
            "illegal ipv6 netmask specified",
            2,
        ),
        (
            "ipvsadm -A -f 5 -6 -M abc",
            "illegal ipv6 netmask specified",
            2,
        ),
        (
            "ipvsadm -A -f 5 -6 -M 255.255.255.0",
            "illegal ipv6 netmask specified",
            2,
        ),
    ]);
}

// ipvsadm.md §3 `-b`: checked against the scheduler (wlc when none) after every option.
#[test]
fn scheduler_flags() {
    assert_refused(&[
        (
            "ipvsadm -A -t 1.2.3.4:80 -b sh-port",
            "incompatible scheduler flag `sh-port'",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -b sh-fallback -s mh",
            "incompatible scheduler flag `sh-fallback'",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -s sh -b mh-port",
            "incompatible scheduler flag `mh-port'",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4:80 -s sh -b sh-port,bogus",
            "invalid scheduler flag `bogus'",
            2,
        ),
        // Checked before the legality matrix and before the service checks.
        ("ipvsadm -L -b foo", "invalid scheduler flag `foo'", 2),
        (
            "ipvsadm -L -b flag-1",
            "Illegal 'sched-flags' option with the 'list' command",
            2,
        ),
        // strtok finds nothing in "," and ipvsadm dereferences NULL.
        ("ipvsadm -A -t 1.2.3.4:80 -b ,", "Segmentation fault", 139),
    ]);
}

// ipvsadm.md §3: -o, zero port, -6 before -f.
#[test]
fn service_checks() {
    assert_refused(&[
        (
            "ipvsadm -A -t 1.2.3.4:80 -o",
            "One-Packet Scheduling is only for UDP virtual services",
            2,
        ),
        (
            "ipvsadm -E --sctp-service 1.2.3.4:80 -o",
            "One-Packet Scheduling is only for UDP virtual services",
            2,
        ),
        (
            "ipvsadm -A -t 1.2.3.4 -s rr",
            "Zero port specified for non-persistent service",
            2,
        ),
        (
            "ipvsadm -A -u 1.2.3.4:0 -o",
            "Zero port specified for non-persistent service",
            2,
        ),
        ("ipvsadm -A -6 -f 5", "-6 used before -f\n", 2),
        ("ipvsadm -A -t 1.2.3.4:80 -6", "-6 used before -f\n", 2),
    ]);
}

// ipvsadm.md §3: address families and tunnel options of -a/-e.
#[test]
fn destination_checks() {
    assert_refused(&[
        (
            "ipvsadm -a -t 1.2.3.4:80 -r [2001:db8::1]:80 -m",
            "Different address family is allowed only for tunneling servers",
            2,
        ),
        (
            "ipvsadm -a -f 1 -6 -r 1.1.1.1",
            "Different address family is allowed only for tunneling servers",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -m --tun-type gue",
            "Tunnel options conflict with forward method",
            2,
        ),
        (
            "ipvsadm -e -t 1.2.3.4:80 -r 1.1.1.1 --tun-nocsum",
            "Tunnel options conflict with forward method",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue",
            "You need to supply the 'tun-port' option for the 'gue' tunnel type",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-port 5",
            "Illegal 'tun-port' option with the 'ipip' tunnel type",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue --tun-port 5 --tun-nocsum --tun-csum",
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gre --tun-remcsum",
            "Illegal 'tun-remcsum' option with the 'gre' tunnel type",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type vxlan",
            "illegal tunnel type specified",
            2,
        ),
        (
            "ipvsadm -a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue --tun-port 0",
            "illegal tunnel port specified",
            2,
        ),
    ]);
}

// ipvsadm.md §2/§3: the daemon words and options.
#[test]
fn daemon_errors() {
    assert_refused(&[
        (
            "ipvsadm --start-daemon primary",
            "illegal start-daemon parameter specified",
            2,
        ),
        (
            "ipvsadm --stop-daemon x",
            "illegal start_daemon specified",
            2,
        ),
        (
            "ipvsadm --start-daemon master --syncid 256",
            "illegal syncid specified",
            2,
        ),
        (
            "ipvsadm --start-daemon master --mcast-group 10.0.0.1",
            "invalid IPv4 mcast-group `10.0.0.1'",
            2,
        ),
        (
            "ipvsadm --start-daemon master --mcast-group ::1",
            "invalid IPv6 mcast-group `::1'",
            2,
        ),
        (
            "ipvsadm --start-daemon master --mcast-port 0",
            "illegal mcast-port specified",
            2,
        ),
        (
            "ipvsadm --start-daemon master --mcast-ttl 256",
            "illegal mcast-ttl specified",
            2,
        ),
        (
            "ipvsadm --start-daemon master --sync-maxlen 65508",
            "illegal sync-maxlen specified",
            2,
        ),
    ]);
}

// ipvsadm.md §1 "popt error after the command": `<word>: <popt text>`, exit 255.
#[test]
fn popt_errors() {
    assert_refused(&[
        ("ipvsadm -L --bogus", "--bogus: unknown option", 255),
        ("ipvsadm -A -t 1.2.3.4:80 -s", "-s: missing argument", 255),
        ("ipvsadm -A -t", "-t: missing argument", 255),
        ("ipvsadm -As", "-As: missing argument", 255),
        ("ipvsadm -L -q", "-q: unknown option", 255),
        ("ipvsadm -Lnq", "-Lnq: unknown option", 255),
        (
            "ipvsadm -L --numeric=yes",
            "--numeric=yes: option does not take an argument",
            255,
        ),
        ("ipvsadm -L --list", "invalid option `--list'", 2),
        ("ipvsadm -L -list", "invalid option `-list'", 2),
        // An earlier bad value wins over a later popt error.
        (
            "ipvsadm -A -t web:80 --bogus",
            "illegal virtual server address[:port] specified",
            2,
        ),
    ]);
}

fn some_dest() -> DestConfig {
    dest_config("10.1.1.1", 80, Forward::Route, 1)
}

// ipvsadm.md §1 "Kernel error → message table": per command, then generic, then strerror.
#[test]
fn kernel_errors() {
    let key = tcp("10.0.0.1", 80);
    let svc = config(key, "wlc");
    let add_dest = Command::AddDest {
        service: key,
        dest: some_dest(),
    };
    let edit_dest = Command::EditDest {
        service: key,
        dest: some_dest(),
    };
    let del_dest = Command::DeleteDest {
        service: key,
        addr: ip("10.1.1.1"),
        port: 80,
    };
    let start = parsed("ipvsadm --start-daemon master");
    let stop = parsed("ipvsadm --stop-daemon master");
    let laddr = Command::AddLaddr {
        service: key,
        addr: ip("10.0.1.1"),
    };
    let del_laddr = Command::DelLaddr {
        service: key,
        addr: ip("10.0.1.1"),
    };
    let cases: Vec<(Command, Errno, &str, i32)> = vec![
        (
            Command::AddService(svc.clone()),
            Errno::Eexist,
            "Service already exists",
            255,
        ),
        (
            Command::AddService(svc.clone()),
            Errno::Enoent,
            "Scheduler or persistence engine not found",
            255,
        ),
        (
            Command::EditService(svc.clone()),
            Errno::Enoent,
            "Scheduler or persistence engine not found",
            255,
        ),
        (
            Command::EditService(svc.clone()),
            Errno::Esrch,
            "No such service",
            255,
        ),
        (
            Command::DeleteService(key),
            Errno::Esrch,
            "No such service",
            255,
        ),
        (
            Command::Zero(Some(key)),
            Errno::Esrch,
            "No such service",
            255,
        ),
        (add_dest.clone(), Errno::Esrch, "Service not defined", 255),
        (
            add_dest.clone(),
            Errno::Eexist,
            "Destination already exists",
            255,
        ),
        (edit_dest.clone(), Errno::Esrch, "Service not defined", 255),
        (edit_dest, Errno::Enoent, "No such destination", 255),
        (del_dest.clone(), Errno::Esrch, "Service not defined", 255),
        (del_dest, Errno::Enoent, "No such destination", 255),
        (start.clone(), Errno::Eexist, "Daemon has already run", 255),
        (stop, Errno::Esrch, "No daemon is running", 255),
        (
            Command::List(crate::lvs::ipvsadm::ListOptions::default()),
            Errno::Esrch,
            "No such service",
            1,
        ),
        (
            laddr.clone(),
            Errno::Eexist,
            "Local address already exists",
            255,
        ),
        (del_laddr, Errno::Enoent, "No such Local address", 255),
        (
            Command::Clear,
            Errno::Eperm,
            "Permission denied (you must be root)",
            255,
        ),
        (
            add_dest.clone(),
            Errno::Einval,
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
            255,
        ),
        (
            add_dest.clone(),
            Errno::Erange,
            "Numerical result out of range",
            255,
        ),
        (start, Errno::Enoprotoopt, "Protocol not available", 255),
        (laddr, Errno::Enomem, "Memory allocation problem", 255),
        (
            add_dest.clone(),
            Errno::Eopnotsupp,
            "Operation not supported with IPv6",
            255,
        ),
        (
            add_dest,
            Errno::Eafnosupport,
            "Operation not supported with specified address family",
            255,
        ),
        (
            Command::Clear,
            Errno::Emsgsize,
            "Module is wrong version",
            255,
        ),
        (
            Command::AddService(svc),
            Errno::Esrch,
            "No such process",
            255,
        ),
        (Command::Clear, Errno::Eexist, "File exists", 255),
        (
            Command::DeleteService(key),
            Errno::Enoent,
            "No such file or directory",
            255,
        ),
    ];
    for (command, errno, message, exit) in cases {
        let err = kernel_error(&command, errno);
        assert_eq!(
            (err.message.as_str(), err.exit),
            (message, exit),
            "{command:?} {errno:?}"
        );
    }
}
