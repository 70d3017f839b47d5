//! ipvsadm.md §8 (`-R` input) and §9 / §1 (`-h`, `-v`).

use crate::lvs::ipvsadm::{help, parse_restore_line, restore_lines, version};

/// `restore_lines` with each line's words joined by one space, for comparing with literals.
fn lines(text: &str) -> Vec<(usize, String)> {
    restore_lines(text)
        .into_iter()
        .map(|(n, words)| (n, words.join(" ")))
        .collect()
}

fn expected(rows: &[(usize, &str)]) -> Vec<(usize, String)> {
    rows.iter().map(|&(n, w)| (n, w.to_string())).collect()
}

// ipvsadm.md §8: words split on space/tab/CR, `ipvsadm` dropped, blank lines skipped, `#`
// not a comment; line numbers count every line.
#[test]
fn restore_tokenisation() {
    let text = "ipvsadm -A -t 10.0.0.1:80 -s rr\n\n   \t\n-a\t-t 10.0.0.1:80  -r 10.1.1.1 -g\r\n# saved\nipvsadm\n-C # ipvsadm\n";
    assert_eq!(
        lines(text),
        expected(&[
            (1, "-A -t 10.0.0.1:80 -s rr"),
            (4, "-a -t 10.0.0.1:80 -r 10.1.1.1 -g"),
            (5, "# saved"),
            (7, "-C #"),
        ])
    );
    assert_eq!(restore_lines("-a\t-t  x\r\n")[0].1, ["-a", "-t", "x"]);
    // `#` lines reach the parser, which refuses them as ipvsadm does.
    let err = parse_restore_line(&["ipvsadm", "#", "saved"]).unwrap_err();
    assert_eq!(err.exit, 255);
}

// config_stream_read: an unterminated last line is kept, unless two or more blanks follow
// its last word (the blank-skipping loop then meets end of file and drops the line).
#[test]
fn restore_last_line_without_newline() {
    assert_eq!(lines("-C\n-Z"), expected(&[(1, "-C"), (2, "-Z")]));
    assert_eq!(lines("-C\n-Z "), expected(&[(1, "-C"), (2, "-Z")]));
    assert_eq!(lines("-C\n-Z  "), expected(&[(1, "-C")]));
    assert_eq!(lines(""), expected(&[]));
}

// ipvsadm.md §1: `-v`.
#[test]
fn version_line() {
    assert_eq!(
        version(),
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

// ipvsadm.md §9: `-h` is usage_exit() of 1.31, byte for byte, with argv[0] as invoked.
#[test]
fn help_text() {
    let expected = r"ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)
Usage:
  /sbin/ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  /sbin/ipvsadm -D virtual-service
  /sbin/ipvsadm -C
  /sbin/ipvsadm -R
  /sbin/ipvsadm -S [-n]
  /sbin/ipvsadm -a|e virtual-service -r server-address [options]
  /sbin/ipvsadm -d virtual-service -r server-address
  /sbin/ipvsadm -L|l [virtual-service] [options]
  /sbin/ipvsadm -Z [virtual-service]
  /sbin/ipvsadm --set tcp tcpfin udp
  /sbin/ipvsadm --start-daemon {master|backup} [daemon-options]
  /sbin/ipvsadm --stop-daemon {master|backup}
  /sbin/ipvsadm -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
";
    assert_eq!(help("/sbin/ipvsadm"), expected);
    assert!(help("ipvsadm").contains("\n  ipvsadm -h\n\n"));
}
