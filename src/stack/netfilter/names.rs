//! Protocol and service names as Debian 11's /etc/protocols and /etc/services (netbase) and
//! libxtables know them.

use super::L4;

/// Debian 11's /etc/protocols (netbase): the names getprotobyname/getprotobynumber know.
const PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

/// libxtables' xtables_chain_protos: the names iptables knows without /etc/protocols.
pub(super) const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("all", 0),
];

/// getprotobynumber.
pub fn protocol_name(number: u8) -> Option<&'static str> {
    PROTOCOLS
        .iter()
        .find(|(_, n)| *n == number)
        .map(|(name, _)| *name)
}

/// xtables_parse_protocol's name lookups: `all`, /etc/protocols, then xtables_chain_protos.
pub fn protocol_by_name(name: &str) -> Option<u8> {
    if name == "all" {
        return Some(0);
    }
    PROTOCOLS
        .iter()
        .chain(CHAIN_PROTOS)
        .find(|(n, _)| *n == name)
        .map(|(_, number)| *number)
}

const TCP: u8 = 1;
const UDP: u8 = 2;
const BOTH: u8 = TCP | UDP;

/// Debian 11's /etc/services (netbase), the well-known part: name, port, protocols,
/// aliases.
const SERVICES: &[(&str, u16, u8, &[&str])] = &[
    ("tcpmux", 1, TCP, &[]),
    ("echo", 7, BOTH, &[]),
    ("discard", 9, BOTH, &["sink", "null"]),
    ("systat", 11, TCP, &["users"]),
    ("daytime", 13, BOTH, &[]),
    ("netstat", 15, TCP, &[]),
    ("qotd", 17, TCP, &["quote"]),
    ("chargen", 19, BOTH, &["ttytst", "source"]),
    ("ftp-data", 20, TCP, &[]),
    ("ftp", 21, TCP, &[]),
    ("fsp", 21, UDP, &["fspd"]),
    ("ssh", 22, TCP, &[]),
    ("telnet", 23, TCP, &[]),
    ("smtp", 25, TCP, &["mail"]),
    ("time", 37, BOTH, &["timserver"]),
    ("whois", 43, TCP, &["nicname"]),
    ("tacacs", 49, BOTH, &[]),
    ("domain", 53, BOTH, &[]),
    ("bootps", 67, UDP, &[]),
    ("bootpc", 68, UDP, &[]),
    ("tftp", 69, UDP, &[]),
    ("gopher", 70, TCP, &[]),
    ("finger", 79, TCP, &[]),
    ("http", 80, TCP, &["www"]),
    ("kerberos", 88, BOTH, &["kerberos5", "krb5", "kerberos-sec"]),
    ("pop3", 110, TCP, &["pop-3"]),
    ("sunrpc", 111, BOTH, &["portmapper"]),
    ("auth", 113, TCP, &["authentication", "tap", "ident"]),
    ("nntp", 119, TCP, &["readnews", "untp"]),
    ("ntp", 123, UDP, &[]),
    ("epmap", 135, TCP, &["loc-srv"]),
    ("netbios-ns", 137, UDP, &[]),
    ("netbios-dgm", 138, UDP, &[]),
    ("netbios-ssn", 139, TCP, &[]),
    ("imap2", 143, TCP, &["imap"]),
    ("snmp", 161, BOTH, &[]),
    ("snmp-trap", 162, BOTH, &["snmptrap"]),
    ("bgp", 179, TCP, &[]),
    ("ldap", 389, BOTH, &[]),
    ("https", 443, BOTH, &[]),
    ("microsoft-ds", 445, TCP, &[]),
    ("submissions", 465, TCP, &["ssmtp", "smtps", "urd"]),
    ("isakmp", 500, UDP, &[]),
    ("exec", 512, TCP, &[]),
    ("biff", 512, UDP, &["comsat"]),
    ("login", 513, TCP, &[]),
    ("who", 513, UDP, &["whod"]),
    ("shell", 514, TCP, &["cmd"]),
    ("syslog", 514, UDP, &[]),
    ("printer", 515, TCP, &["spooler"]),
    ("route", 520, UDP, &["router", "routed"]),
    ("submission", 587, TCP, &[]),
    ("ldaps", 636, BOTH, &[]),
    ("rsync", 873, TCP, &[]),
    ("imaps", 993, TCP, &[]),
    ("pop3s", 995, TCP, &[]),
    ("socks", 1080, TCP, &[]),
    ("openvpn", 1194, BOTH, &[]),
    ("ms-sql-s", 1433, TCP, &[]),
    ("radius", 1812, BOTH, &[]),
    ("nfs", 2049, BOTH, &[]),
    ("mysql", 3306, TCP, &[]),
    ("ms-wbt-server", 3389, TCP, &[]),
    ("sip", 5060, BOTH, &[]),
    ("postgresql", 5432, TCP, &["postgres"]),
    ("x11", 6000, TCP, &["x11-0"]),
    ("http-alt", 8080, TCP, &["webcache"]),
];

fn serves(protocols: u8, l4: L4) -> bool {
    protocols
        & match l4 {
            L4::Tcp => TCP,
            L4::Udp => UDP,
        }
        != 0
}

/// getservbyport(port, "tcp"|"udp").
pub fn service_name(port: u16, l4: L4) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(_, p, protocols, _)| *p == port && serves(*protocols, l4))
        .map(|(name, ..)| *name)
}

/// getservbyname: a name or alias, for one protocol or (`None`, as getaddrinfo looks a
/// service up) any.
pub fn service_port(name: &str, l4: Option<L4>) -> Option<u16> {
    SERVICES
        .iter()
        .filter(|(_, _, protocols, _)| l4.is_none_or(|l4| serves(*protocols, l4)))
        .find(|(n, _, _, aliases)| *n == name || aliases.contains(&name))
        .map(|(_, port, ..)| *port)
}
