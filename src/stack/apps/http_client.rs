//! HTTP clients: `curl URL` (one request; `-s`, `-I`, `-m`, `--connect-timeout`) and
//! `ab -n N -c C URL` (ApacheBench: HTTP/1.0, C connections at a time).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use rustc_hash::FxHashMap;

use super::web_server::served_by;
use super::{AppRef, Program, Tally, crlf_lines, find_bytes, header_value};
use crate::say;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::tcp::{Owner, SocketId, TcpEvent};

/// `http://IP[:PORT][/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub ip: Ipv4Addr,
    pub port: u16,
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text.strip_prefix("http://").unwrap_or(text);
        if rest.contains("://") {
            return Err(format!("`{text}`: only http:// URLs are simulated"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port number"))?,
            ),
            None => (authority, 80),
        };
        let ip = host.parse::<Ipv4Addr>().map_err(|_| {
            format!("`{host}` is not an IPv4 address (lvsim has no DNS: write URLs as http://A.B.C.D[:PORT][/PATH])")
        })?;
        Ok(Url { ip, port, path })
    }

    fn host_header(&self) -> String {
        if self.port == 80 {
            self.ip.to_string()
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpMode {
    Curl {
        head: bool,
        max_time_ns: Option<u64>,
        connect_timeout_ns: Option<u64>,
        /// False under `-s` without `-S`: curl then fails without a message.
        show_errors: bool,
    },
    Ab {
        requests: u32,
        concurrency: u32,
        /// `-B`: the local address connections are made from.
        bind: Option<Ipv4Addr>,
        /// `-k`: HTTP keep-alive, the next request on the same connection.
        keepalive: bool,
    },
}

struct Exchange {
    response: Vec<u8>,
    connected: bool,
}

/// An HTTP response read in place from the bytes received.
struct Response<'a> {
    status: u16,
    headers: Cow<'a, str>,
    body: &'a [u8],
}

impl<'a> Response<'a> {
    /// Status, head and body of `bytes`, once the head has arrived.
    fn parse(bytes: &'a [u8]) -> Option<Response<'a>> {
        let end = find_bytes(bytes, b"\r\n\r\n")?;
        // Borrowed, not copied, when valid UTF-8 (as responses are).
        let headers = String::from_utf8_lossy(&bytes[..end]);
        let status = headers.split_whitespace().nth(1)?.parse().ok()?;
        Some(Response {
            status,
            headers,
            body: &bytes[end + 4..],
        })
    }

    fn content_length(&self) -> Option<usize> {
        crlf_lines(&self.headers)
            .find_map(|l| header_value(l, "content-length"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Whether the server said it keeps the connection open.
    fn keeps_alive(&self) -> bool {
        crlf_lines(&self.headers)
            .filter_map(|l| header_value(l, "connection"))
            .any(|v| v.trim().eq_ignore_ascii_case("keep-alive"))
    }
}

const TIMER_MAX_TIME: u64 = 1;
const TIMER_CONNECT: u64 = 2;

pub struct HttpClient {
    mode: HttpMode,
    url: Url,
    /// The request every connection sends (mode and URL never change): formatted once, not
    /// once per connection of an `ab` run.
    request: String,
    exchanges: FxHashMap<SocketId, Exchange>,
    started: u32,
    completed: u32,
    failed: u32,
    begin: SimTime,
    server_software: Option<String>,
    non_2xx: u32,
    /// Requests sent on a connection kept alive (ab's "Keep-Alive requests").
    kept_alive: u32,
    served: BTreeMap<String, u64>,
    aborted: bool,
    done: bool,
}

/// The request curl or ab sends for `url`.
fn request_text(mode: &HttpMode, url: &Url) -> String {
    match mode {
        HttpMode::Curl { head, .. } => format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.76.1\r\nAccept: */*\r\n\r\n",
            if *head { "HEAD" } else { "GET" },
            url.path,
            url.host_header()
        ),
        HttpMode::Ab { keepalive, .. } => format!(
            "GET {} HTTP/1.0\r\n{}Host: {}\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
            url.path,
            if *keepalive {
                "Connection: Keep-Alive\r\n"
            } else {
                ""
            },
            url.host_header()
        ),
    }
}

impl HttpClient {
    pub fn new(mode: HttpMode, url: Url) -> HttpClient {
        HttpClient {
            request: request_text(&mode, &url),
            mode,
            url,
            exchanges: FxHashMap::default(),
            started: 0,
            completed: 0,
            failed: 0,
            begin: SimTime::ZERO,
            server_software: None,
            non_2xx: 0,
            kept_alive: 0,
            served: BTreeMap::new(),
            aborted: false,
            done: false,
        }
    }

    fn is_curl(&self) -> bool {
        matches!(self.mode, HttpMode::Curl { .. })
    }

    /// Prints a `curl: (N) ...` line unless `-s` silenced errors.
    fn curl_error(&self, ctx: &mut Ctx, message: String) {
        if matches!(
            self.mode,
            HttpMode::Curl {
                show_errors: true,
                ..
            }
        ) {
            say!(ctx, "{message}");
        }
    }

    fn total(&self) -> u32 {
        match self.mode {
            HttpMode::Curl { .. } => 1,
            HttpMode::Ab { requests, .. } => requests,
        }
    }

    fn open(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.started += 1;
        let remote = SocketAddrV4::new(self.url.ip, self.url.port);
        let bind = match self.mode {
            HttpMode::Ab { bind, .. } => bind,
            HttpMode::Curl { .. } => None,
        };
        match host.tcp_connect(ctx, Owner::App(me.slot), remote, bind) {
            Ok(socket) => {
                self.exchanges.insert(
                    socket,
                    Exchange {
                        response: Vec::new(),
                        connected: false,
                    },
                );
            }
            Err(failure) => self.connect_failed(host, ctx, me, failure.errno_text()),
        }
    }

    /// Whether `response` is complete (Content-Length reached, or headers only for HEAD);
    /// `closed` says the server closed the connection.
    fn is_complete(&self, response: &Response, closed: bool) -> bool {
        let length = response.content_length();
        let head = matches!(self.mode, HttpMode::Curl { head: true, .. });
        head || length.is_some_and(|n| response.body.len() >= n) || (closed && length.is_none())
    }

    /// Finishes the exchange on `socket` if its response is complete (`closed`: the server
    /// closed the connection); returns whether it did. The exchange leaves the table while
    /// its response is read, so the bytes are read in place.
    fn response_arrived(
        &mut self,
        host: &mut Host,
        ctx: &mut Ctx,
        me: AppRef,
        socket: SocketId,
        closed: bool,
    ) -> bool {
        let exchange = self.exchanges.remove(&socket).expect("checked");
        match Response::parse(&exchange.response).filter(|r| self.is_complete(r, closed)) {
            Some(response) => {
                self.finished_exchange(host, ctx, me, socket, &response);
                true
            }
            None => {
                self.exchanges.insert(socket, exchange);
                false
            }
        }
    }

    /// ab -k sends its next request on the same connection when the server kept it open.
    fn keep_alive_reuses(&self, response: &Response) -> bool {
        let asked = matches!(
            self.mode,
            HttpMode::Ab {
                keepalive: true,
                ..
            }
        );
        asked && self.started < self.total() && response.keeps_alive()
    }

    /// Counts a request `server` answered.
    fn count_served(&mut self, server: &str) {
        match self.served.get_mut(server) {
            Some(count) => *count += 1,
            None => {
                self.served.insert(server.to_owned(), 1);
            }
        }
    }

    /// A complete response on `socket`, whose exchange has left the table.
    fn finished_exchange(
        &mut self,
        host: &mut Host,
        ctx: &mut Ctx,
        me: AppRef,
        socket: SocketId,
        response: &Response,
    ) {
        self.completed += 1;
        if !(200..300).contains(&response.status) {
            self.non_2xx += 1;
        }
        if self.server_software.is_none() {
            self.server_software = crlf_lines(&response.headers)
                .find_map(|l| l.strip_prefix("Server: ").map(str::to_owned));
        }
        if let Some(server) = served_by(response.body) {
            self.count_served(server);
        }
        if self.keep_alive_reuses(response) {
            self.kept_alive += 1;
            self.started += 1;
            let exchange = Exchange {
                response: Vec::new(),
                connected: true,
            };
            self.exchanges.insert(socket, exchange);
            host.tcp_write(ctx, socket, self.request.as_bytes());
            return;
        }
        host.tcp_close(ctx, socket);
        match self.mode {
            HttpMode::Curl { head, .. } => {
                if ctx.trace.wants_output() {
                    let text = if head {
                        format!("{}\r\n", response.headers)
                    } else {
                        String::from_utf8_lossy(response.body).into_owned()
                    };
                    for line in text.lines() {
                        ctx.output(line.trim_end_matches('\r').to_owned());
                    }
                }
                self.finish(host, ctx, me);
            }
            HttpMode::Ab { concurrency, .. } => self.next_or_finish(host, ctx, me, concurrency),
        }
    }

    fn next_or_finish(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, concurrency: u32) {
        while self.started < self.total() && (self.exchanges.len() as u32) < concurrency {
            self.open(host, ctx, me);
            if self.done {
                return;
            }
        }
        if self.completed + self.failed >= self.total() {
            self.finish(host, ctx, me);
        }
    }

    fn connect_failed(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, errno: &str) {
        self.failed += 1;
        let elapsed = ctx.now.since(self.begin) / 1_000_000;
        if self.is_curl() {
            self.curl_error(
                ctx,
                format!(
                    "curl: (7) Failed to connect to {} port {} after {elapsed} ms: {errno}",
                    self.url.ip, self.url.port
                ),
            );
        } else {
            say!(
                ctx,
                "apr_socket_connect(): {errno} ({})",
                errno_number(errno)
            );
            // ab gives up on the first failed connect: the requests it never made fail too.
            self.aborted = true;
        }
        self.finish(host, ctx, me);
    }

    fn finish(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        if self.done {
            return;
        }
        self.done = true;
        let open: Vec<SocketId> = self.exchanges.drain().map(|(s, _)| s).collect();
        for socket in open {
            host.tcp_close(ctx, socket);
        }
        if let HttpMode::Ab { concurrency, .. } = self.mode
            && ctx.trace.wants_output()
        {
            for line in self.ab_summary(ctx.now, concurrency) {
                ctx.output(line);
            }
        }
        host.finish_program(ctx, me, self.tally());
    }

    fn ab_summary(&self, now: SimTime, concurrency: u32) -> Vec<String> {
        let secs = now.since(self.begin) as f64 / 1e9;
        let rate = if secs > 0.0 {
            self.completed as f64 / secs
        } else {
            0.0
        };
        let mut lines = vec![
            format!(
                "Server Software:        {}",
                self.server_software.as_deref().unwrap_or("")
            ),
            format!("Server Hostname:        {}", self.url.ip),
            format!("Server Port:            {}", self.url.port),
            format!("Document Path:          {}", self.url.path),
            format!("Concurrency Level:      {concurrency}"),
            format!("Time taken for tests:   {secs:.3} seconds"),
            format!("Complete requests:      {}", self.completed),
            format!("Failed requests:        {}", self.failed),
        ];
        if self.non_2xx > 0 {
            lines.push(format!("Non-2xx responses:      {}", self.non_2xx));
        }
        if matches!(
            self.mode,
            HttpMode::Ab {
                keepalive: true,
                ..
            }
        ) {
            lines.push(format!("Keep-Alive requests:    {}", self.kept_alive));
        }
        lines.push(format!("Requests per second:    {rate:.2} [#/sec] (mean)"));
        lines
    }
}

/// The errno numbers ab prints after APR's message.
fn errno_number(errno: &str) -> u32 {
    match errno {
        "Connection refused" => 111,
        "Connection timed out" => 110,
        "No route to host" => 113,
        "Network is unreachable" => 101,
        "Connection reset by peer" => 104,
        _ => 22,
    }
}

impl Program for HttpClient {
    fn tally(&self) -> Tally {
        let failed = if self.aborted {
            self.total() - self.completed
        } else {
            self.failed
        };
        Tally {
            ok: self.completed as u64,
            failed: failed as u64,
            served_by: self.served.clone(),
        }
    }

    fn name(&self) -> &'static str {
        if self.is_curl() { "curl" } else { "ab" }
    }

    fn start(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.begin = ctx.now;
        match self.mode.clone() {
            HttpMode::Curl {
                max_time_ns,
                connect_timeout_ns,
                ..
            } => {
                if let Some(t) = max_time_ns {
                    host.program_timer(ctx, me, t, TIMER_MAX_TIME);
                }
                if let Some(t) = connect_timeout_ns {
                    host.program_timer(ctx, me, t, TIMER_CONNECT);
                }
                self.open(host, ctx, me);
            }
            HttpMode::Ab { concurrency, .. } => {
                say!(ctx, "Benchmarking {} (be patient).....", self.url.ip);
                self.next_or_finish(host, ctx, me, concurrency);
            }
        }
    }

    fn timer(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef, token: u64) {
        if self.done {
            return;
        }
        let connecting = self.exchanges.values().any(|e| !e.connected);
        let elapsed = ctx.now.since(self.begin) / 1_000_000;
        let message = match token {
            TIMER_CONNECT if connecting => {
                format!("curl: (28) Connection timed out after {elapsed} milliseconds")
            }
            TIMER_MAX_TIME => {
                let received: usize = self.exchanges.values().map(|e| e.response.len()).sum();
                format!(
                    "curl: (28) Operation timed out after {elapsed} milliseconds with {received} bytes received"
                )
            }
            _ => return,
        };
        self.curl_error(ctx, message);
        self.failed += 1;
        self.finish(host, ctx, me);
    }

    fn tcp(
        &mut self,
        host: &mut Host,
        ctx: &mut Ctx,
        me: AppRef,
        socket: SocketId,
        event: TcpEvent,
    ) {
        if self.done || !self.exchanges.contains_key(&socket) {
            return;
        }
        match event {
            TcpEvent::Connected => {
                self.exchanges.get_mut(&socket).expect("checked").connected = true;
                host.tcp_write(ctx, socket, self.request.as_bytes());
            }
            TcpEvent::Data(bytes) => {
                let received = &mut self.exchanges.get_mut(&socket).expect("checked").response;
                if received.is_empty() {
                    *received = bytes;
                } else {
                    received.extend_from_slice(&bytes);
                }
                self.response_arrived(host, ctx, me, socket, false);
            }
            TcpEvent::PeerClosed => {
                if !self.response_arrived(host, ctx, me, socket, true) {
                    self.receive_failed(
                        host,
                        ctx,
                        me,
                        socket,
                        "Connection closed before the response was complete",
                    );
                }
            }
            TcpEvent::Error(errno) => {
                let connected = self.exchanges[&socket].connected;
                self.exchanges.remove(&socket);
                if connected {
                    self.receive_failed(host, ctx, me, socket, errno);
                } else {
                    self.connect_failed(host, ctx, me, errno);
                }
            }
            TcpEvent::Accepted => {}
        }
    }

    fn terminate(&mut self, host: &mut Host, ctx: &mut Ctx, me: AppRef) {
        self.finish(host, ctx, me);
    }
}

impl HttpClient {
    fn receive_failed(
        &mut self,
        host: &mut Host,
        ctx: &mut Ctx,
        me: AppRef,
        socket: SocketId,
        why: &str,
    ) {
        self.exchanges.remove(&socket);
        self.failed += 1;
        match self.mode {
            HttpMode::Curl { .. } => {
                self.curl_error(ctx, format!("curl: (56) Recv failure: {why}"));
                self.finish(host, ctx, me);
            }
            HttpMode::Ab { concurrency, .. } => self.next_or_finish(host, ctx, me, concurrency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_an_ip_and_may_carry_a_port() {
        let url = Url::parse("http://192.168.188.120/").unwrap();
        assert_eq!(
            (url.ip.to_string(), url.port, url.path.as_str()),
            ("192.168.188.120".into(), 80, "/")
        );
        let url = Url::parse("http://10.0.0.1:8000/index.html").unwrap();
        assert_eq!((url.port, url.path.as_str()), (8000, "/index.html"));
        assert_eq!(Url::parse("10.0.0.1").unwrap().path, "/");
        assert!(
            Url::parse("http://www.example.com/")
                .unwrap_err()
                .contains("no DNS")
        );
        assert!(Url::parse("https://10.0.0.1/").is_err());
        assert!(Url::parse("http://10.0.0.1:99999/").is_err());
    }
}
