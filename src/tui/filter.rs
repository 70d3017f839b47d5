//! Display filters in the spirit of Wireshark's: protocol names, `host == NAME`,
//! `ip.addr == A`, `warning`, `drop`, combined with `and`/`&&`, `or`/`||`, `not`/`!` and
//! parentheses. A filter that does not parse says where and why, so the status line can
//! show it in red as Wireshark colours a bad filter.

use std::net::Ipv4Addr;

use super::log::{Entry, Kind, Proto};
use crate::trace::{HostId, Link, Record};
use crate::wire::ethernet::{ETH_HEADER_LEN, ETHERTYPE_IPV4};
use crate::wire::ipv4::{self, PROTO_IPIP};

/// The words a filter may use, listed in error messages and in the help pane.
pub const VOCABULARY: &str = "arp tcp udp icmp vrrp ip tunnel http rst frame warning drop note command, host == NAME, ip.addr == A.B.C.D";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Proto(Proto),
    /// Any IPv4 frame.
    Ip,
    Tunnel,
    Http,
    Rst,
    Kind(KindClass),
    Drop,
    Host(HostId),
    Addr(Ipv4Addr),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindClass {
    Frame,
    Warning,
    Note,
    Command,
}

impl Filter {
    /// Parses `text` against the lab's host names.
    pub fn parse(text: &str, hosts: &[String]) -> Result<Filter, String> {
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Err("empty filter".into());
        }
        let mut parser = Parser {
            tokens,
            at: 0,
            hosts,
        };
        let filter = parser.or()?;
        match parser.peek() {
            None => Ok(filter),
            Some(extra) => Err(format!("unexpected `{extra}`")),
        }
    }

    pub fn matches(&self, entry: &Entry) -> bool {
        let f = &entry.facts;
        match self {
            Filter::Proto(p) => *p == f.proto,
            Filter::Ip => {
                matches!(f.kind, Kind::Frame(_)) && !matches!(f.proto, Proto::Arp | Proto::None)
            }
            Filter::Tunnel => f.tunnel,
            Filter::Http => f.http,
            Filter::Rst => f.tcp_rst,
            Filter::Kind(k) => match k {
                KindClass::Frame => matches!(f.kind, Kind::Frame(_)),
                KindClass::Warning => f.kind == Kind::Warning,
                KindClass::Note => f.kind == Kind::Note,
                KindClass::Command => matches!(f.kind, Kind::Command | Kind::Output),
            },
            Filter::Drop => f.dropped,
            Filter::Host(h) => f.host == Some(*h),
            Filter::Addr(a) => carries_address(&entry.record, *a),
            Filter::Not(inner) => !inner.matches(entry),
            Filter::And(a, b) => a.matches(entry) && b.matches(entry),
            Filter::Or(a, b) => a.matches(entry) || b.matches(entry),
        }
    }
}

/// Whether a captured frame has `addr` as source or destination of any IPv4 header.
fn carries_address(record: &Record, addr: Ipv4Addr) -> bool {
    let Record::Capture(c) = record else {
        return false;
    };
    let mut data = match c.link {
        Link::RawIp => &c.frame[..],
        Link::Ethernet if c.frame.len() > ETH_HEADER_LEN => {
            if u16::from_be_bytes([c.frame[12], c.frame[13]]) != ETHERTYPE_IPV4 {
                return false;
            }
            &c.frame[ETH_HEADER_LEN..]
        }
        Link::Ethernet => return false,
    };
    while let Ok(info) = ipv4::parse(data) {
        if info.src == addr || info.dst == addr {
            return true;
        }
        if info.proto != PROTO_IPIP {
            break;
        }
        data = &data[info.header_len..info.total_len];
    }
    false
}

fn tokenize(text: &str) -> Vec<String> {
    let spaced = text
        .replace("&&", " && ")
        .replace("||", " || ")
        .replace("==", " == ")
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('!', " ! ");
    spaced.split_whitespace().map(str::to_owned).collect()
}

struct Parser<'a> {
    tokens: Vec<String>,
    at: usize,
    hosts: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, words: &[&str]) -> bool {
        let found = self.peek().is_some_and(|t| words.contains(&t));
        if found {
            self.at += 1;
        }
        found
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.eat(&["or", "||"]) {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.eat(&["and", "&&"]) {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.eat(&["not", "!"]) {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.eat(&["("]) {
            let inner = self.or()?;
            return match self.next().as_deref() {
                Some(")") => Ok(inner),
                _ => Err("missing `)`".into()),
            };
        }
        self.term()
    }

    fn term(&mut self) -> Result<Filter, String> {
        let word = self.next().ok_or("the filter ends too early")?;
        let simple = match word.as_str() {
            "arp" => Some(Filter::Proto(Proto::Arp)),
            "tcp" => Some(Filter::Proto(Proto::Tcp)),
            "udp" => Some(Filter::Proto(Proto::Udp)),
            "icmp" => Some(Filter::Or(
                Box::new(Filter::Proto(Proto::Icmp)),
                Box::new(Filter::Proto(Proto::IcmpError)),
            )),
            "vrrp" => Some(Filter::Proto(Proto::Vrrp)),
            "ip" => Some(Filter::Ip),
            "tunnel" | "ipip" | "gre" => Some(Filter::Tunnel),
            "http" => Some(Filter::Http),
            "rst" => Some(Filter::Rst),
            "frame" | "frames" => Some(Filter::Kind(KindClass::Frame)),
            "warning" | "warnings" => Some(Filter::Kind(KindClass::Warning)),
            "note" | "notes" => Some(Filter::Kind(KindClass::Note)),
            "command" | "commands" => Some(Filter::Kind(KindClass::Command)),
            "drop" | "drops" => Some(Filter::Drop),
            _ => None,
        };
        if let Some(filter) = simple {
            return Ok(filter);
        }
        match word.as_str() {
            "host" => self.host(),
            "ip.addr" => self.address(),
            other => Err(format!("unknown word `{other}` (use: {VOCABULARY})")),
        }
    }

    /// `host == NAME` or `host NAME`.
    fn host(&mut self) -> Result<Filter, String> {
        self.eat(&["=="]);
        let name = self.next().ok_or("`host` needs a host name")?;
        match self.hosts.iter().position(|h| *h == name) {
            Some(id) => Ok(Filter::Host(id)),
            None => Err(format!(
                "no host `{name}` in this lab (hosts: {})",
                self.hosts.join(", ")
            )),
        }
    }

    /// `ip.addr == A.B.C.D`.
    fn address(&mut self) -> Result<Filter, String> {
        self.eat(&["=="]);
        let text = self.next().ok_or("`ip.addr` needs an address")?;
        text.parse()
            .map(Filter::Addr)
            .map_err(|_| format!("`{text}` is not an IPv4 address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["client".into(), "lvs".into()]
    }

    #[test]
    fn operators_bind_as_in_wireshark() {
        let f = Filter::parse("arp or tcp && host == lvs", &hosts()).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(Filter::Proto(Proto::Arp)),
                Box::new(Filter::And(
                    Box::new(Filter::Proto(Proto::Tcp)),
                    Box::new(Filter::Host(1))
                ))
            )
        );
        let g = Filter::parse("!(warning)", &hosts()).unwrap();
        assert_eq!(g, Filter::Not(Box::new(Filter::Kind(KindClass::Warning))));
    }

    #[test]
    fn bad_filters_say_why() {
        let err = |t| Filter::parse(t, &hosts()).unwrap_err();
        assert!(err("tpc").starts_with("unknown word `tpc`"));
        assert!(err("host == rs9").contains("hosts: client, lvs"));
        assert_eq!(err("arp and"), "the filter ends too early");
        assert_eq!(err("(arp"), "missing `)`");
        assert_eq!(err("ip.addr == 1.2.3"), "`1.2.3` is not an IPv4 address");
        assert_eq!(err(""), "empty filter");
    }
}
