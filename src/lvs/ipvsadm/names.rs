//! Names for ports and addresses (`service_to_port`, `port_to_service`, `addrport_to_anyname`).
//! Ports come from the embedded `/etc/services`; lvsim has no DNS, so an address is never
//! turned into a host name: ipvsadm prints the number when the reverse lookup fails.

use std::net::IpAddr;

use super::addr::ntop;
use super::services::SERVICES;
use crate::lvs::service::Protocol;

/// `getservbyname(name, proto)`: the first line whose name or alias matches.
pub(super) fn service_to_port(name: &str, proto: Protocol) -> Option<u16> {
    SERVICES
        .iter()
        .find(|s| s.proto == proto && (s.name == name || s.aliases.contains(&name)))
        .map(|s| s.port)
}

/// `getservbyport(port, proto)`: the name of the first line for that port.
pub(super) fn port_to_service(port: u16, proto: Protocol) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|s| s.proto == proto && s.port == port)
        .map(|s| s.name)
}

/// The protocol a `/proc/net/ip_vs_conn` word names (`print_conn`); `IP` templates have none.
pub(super) fn protocol_from_word(word: &str) -> Option<Protocol> {
    [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
        .into_iter()
        .find(|p| p.name() == word)
}

/// `addrport_to_anyname`: `a.b.c.d:port` or `[v6]:port`; without `-n` the port becomes its
/// services name for `proto` when it has one. The C buffer is 60 bytes (`snprintf`), so the
/// text is cut at 59.
pub(super) fn addrport_to_anyname(
    addr: &IpAddr,
    port: u16,
    proto: Option<Protocol>,
    numeric: bool,
) -> String {
    let host = match addr {
        IpAddr::V4(_) => ntop(addr),
        IpAddr::V6(_) => format!("[{}]", ntop(addr)),
    };
    let port_name = (!numeric)
        .then(|| proto.and_then(|p| port_to_service(port, p)))
        .flatten();
    let mut text = match port_name {
        Some(name) => format!("{host}:{name}"),
        None => format!("{host}:{port}"),
    };
    text.truncate(59);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipvsadm.md §3 `-t`: ports may be /etc/services names for the protocol.
    #[test]
    fn services_lookups_follow_the_protocol() {
        assert_eq!(service_to_port("http", Protocol::Tcp), Some(80));
        assert_eq!(service_to_port("www", Protocol::Tcp), Some(80));
        assert_eq!(service_to_port("domain", Protocol::Udp), Some(53));
        assert_eq!(service_to_port("ssh", Protocol::Udp), None);
        assert_eq!(service_to_port("http", Protocol::Sctp), None);
        assert_eq!(port_to_service(443, Protocol::Tcp), Some("https"));
        assert_eq!(port_to_service(5060, Protocol::Udp), Some("sip"));
        assert_eq!(port_to_service(8080, Protocol::Tcp), Some("http-alt"));
        assert_eq!(port_to_service(0, Protocol::Tcp), None);
    }

    // ipvsadm.md §5.1: name/address rendering.
    #[test]
    fn addrport_rendering() {
        let v4: IpAddr = "192.168.188.120".parse().unwrap();
        let v6: IpAddr = "2001:db8::80".parse().unwrap();
        let tcp = Some(Protocol::Tcp);
        assert_eq!(
            addrport_to_anyname(&v4, 80, tcp, true),
            "192.168.188.120:80"
        );
        assert_eq!(
            addrport_to_anyname(&v4, 80, tcp, false),
            "192.168.188.120:http"
        );
        assert_eq!(
            addrport_to_anyname(&v4, 81, tcp, false),
            "192.168.188.120:81"
        );
        assert_eq!(
            addrport_to_anyname(&v4, 80, None, false),
            "192.168.188.120:80"
        );
        assert_eq!(
            addrport_to_anyname(&v6, 443, tcp, false),
            "[2001:db8::80]:https"
        );
    }
}
