//! The web server `systemctl start nginx|httpd` runs: HTTP/1.x on TCP 80 (or the ports of the
//! host's `nginx` config), answering `/` with a page that names the host.

use std::borrow::Cow;
use std::fmt::Write as _;

use rustc_hash::FxHashMap;

use super::{crlf_lines, find_bytes, header_value};
use crate::explain;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::tcp::{Owner, SocketId, TcpEvent};

/// Which server runs and its open connections' unparsed request bytes.
#[derive(Default)]
pub struct WebServer {
    /// `nginx` or `httpd` while running.
    pub running: Option<&'static str>,
    pub ports: Vec<u16>,
    requests: FxHashMap<SocketId, Vec<u8>>,
    pub served: u64,
    /// The last `Date:` value, for its simulated second: a busy server answers many
    /// requests within one second.
    date: Memo<u64>,
    /// The page for `/`, for the server that formatted it.
    page: Memo<&'static str>,
}

/// A text formatted once and reused while its key stays the same.
#[derive(Default)]
struct Memo<K>(Option<(K, String)>);

impl<K: PartialEq> Memo<K> {
    fn get(&mut self, key: K, make: impl FnOnce() -> String) -> &str {
        if self.0.as_ref().is_none_or(|(k, _)| *k != key) {
            self.0 = Some((key, make()));
        }
        &self.0.as_ref().expect("just set").1
    }
}

impl WebServer {
    pub fn new() -> WebServer {
        WebServer {
            ports: vec![80],
            ..WebServer::default()
        }
    }
}

/// The page a host serves: its name in the title and heading, so clients can tell who
/// answered.
pub fn page(host: &str, server: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>{host}</title></head>\n<body><h1>{host}</h1><p>served by {server} on {host}</p></body></html>\n"
    )
}

/// The host named by a page (`<h1>rs1</h1>`), for counting who served a request.
pub fn served_by(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = find_bytes(body, b"<h1>")? + 4;
    let end = find_bytes(&body[start..], b"</h1>")? + start;
    Some(&text[start..end])
}

/// An HTTP date for simulated time (t = 0 is the Unix epoch, as in the pcaps).
pub fn http_date(now: SimTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.ns() / 1_000_000_000;
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rem = secs % 86_400;
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + (month <= 2) as i64;
    (year, month, day)
}

struct Request {
    method: String,
    path: String,
    keep_alive: bool,
}

/// Room for a response's status line and headers, so that the body is appended in place.
const RESPONSE_HEAD_ROOM: usize = 192;

fn parse_request(bytes: &[u8]) -> Option<Request> {
    let end = find_bytes(bytes, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = crlf_lines(head);
    let mut words = lines.next()?.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let version = words.next().unwrap_or("HTTP/1.0");
    let connection = lines.find_map(|l| header_value(l, "connection"));
    let keep_alive = match connection.map(str::trim) {
        Some(c) if c.eq_ignore_ascii_case("close") => false,
        Some(c) if c.eq_ignore_ascii_case("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    Some(Request {
        method,
        path,
        keep_alive,
    })
}

impl Host {
    /// `systemctl start nginx|httpd`: listen on the configured ports.
    pub fn web_server_start(&mut self, name: &'static str) {
        if self.web.running.is_some() {
            return;
        }
        self.web.running = Some(name);
        for &port in &self.web.ports {
            self.tcp.listen(port, Owner::WebServer);
        }
    }

    /// `systemctl stop nginx|httpd`: stop listening and close open connections.
    pub fn web_server_stop(&mut self, ctx: &mut Ctx) {
        if self.web.running.take().is_none() {
            return;
        }
        for &port in &self.web.ports {
            self.tcp.unlisten(port);
        }
        let open: Vec<SocketId> = self.web.requests.drain().map(|(id, _)| id).collect();
        for id in open {
            self.tcp_close(ctx, id);
        }
    }

    pub(crate) fn web_server_event(&mut self, ctx: &mut Ctx, socket: SocketId, event: TcpEvent) {
        match event {
            TcpEvent::Accepted => {
                self.web.requests.insert(socket, Vec::new());
            }
            TcpEvent::Data(bytes) => {
                let buffer = self.web.requests.entry(socket).or_default();
                buffer.extend_from_slice(&bytes);
                if let Some(request) = parse_request(buffer) {
                    buffer.clear();
                    self.answer(ctx, socket, &request);
                }
            }
            TcpEvent::PeerClosed => {
                self.web.requests.remove(&socket);
                self.tcp_close(ctx, socket);
            }
            TcpEvent::Error(_) | TcpEvent::Connected => {
                self.web.requests.remove(&socket);
            }
        }
    }

    fn answer(&mut self, ctx: &mut Ctx, socket: SocketId, request: &Request) {
        let server = self.web.running.unwrap_or("nginx");
        let software = if server == "httpd" {
            "Apache/2.4.6 (CentOS)"
        } else {
            "nginx/1.20.1"
        };
        let found = request.path == "/" || request.path == "/index.html";
        let body: Cow<str> = if found {
            Cow::Borrowed(self.web.page.get(server, || page(&self.name, server)))
        } else {
            Cow::Owned(format!(
                "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>{software}</center>\r\n</body>\r\n</html>\r\n"
            ))
        };
        let status = if found { "200 OK" } else { "404 Not Found" };
        let connection = if request.keep_alive {
            "keep-alive"
        } else {
            "close"
        };
        let now = ctx.now;
        let date = self
            .web
            .date
            .get(now.ns() / 1_000_000_000, || http_date(now));
        let mut response = String::with_capacity(RESPONSE_HEAD_ROOM + body.len());
        let _ = write!(
            response,
            "HTTP/1.1 {status}\r\nServer: {software}\r\nDate: {date}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
            body.len()
        );
        if request.method != "HEAD" {
            response.push_str(&body);
        }
        self.web.served += 1;
        explain!(
            ctx,
            "{} ({server}) answers {} {} with {status}",
            self.name,
            request.method,
            request.path
        );
        self.tcp_write(ctx, socket, response.as_bytes());
        if !request.keep_alive {
            self.web.requests.remove(&socket);
            self.tcp_close(ctx, socket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_its_host_and_can_be_read_back() {
        assert_eq!(served_by(page("rs1", "nginx").as_bytes()), Some("rs1"));
        assert_eq!(served_by(b"no heading"), None);
    }

    #[test]
    fn http_dates_start_at_the_epoch() {
        assert_eq!(
            http_date(SimTime::from_secs(1)),
            "Thu, 01 Jan 1970 00:00:01 GMT"
        );
        assert_eq!(
            http_date(SimTime::from_secs(86_400 * 31 + 3661)),
            "Sun, 01 Feb 1970 01:01:01 GMT"
        );
    }

    #[test]
    fn requests_parse_with_their_keep_alive_default() {
        let r = parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(r.keep_alive && r.method == "GET" && r.path == "/");
        let r = parse_request(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        assert!(parse_request(b"GET / HTTP/1.1\r\n").is_none());
    }
}
