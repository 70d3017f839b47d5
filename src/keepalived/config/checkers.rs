//! TCP_CHECK, HTTP_GET / SSL_GET and MISC_CHECK (check_api.c, check_tcp.c, check_http.c,
//! check_misc.c), and the checker timings that cascade virtual server → real server →
//! checker (`reference/keepalived.md` §4 "Checkers").

use std::net::Ipv4Addr;

use super::model::{CheckKind, Checker, RealServer, SECOND_US, Url};
use super::parse::{Block, Keyword, Parser, TIMER_MAXIMUM};
use super::virtual_server::{real, server};

const DEFAULT_CONNECT_TIMEOUT_US: u64 = 5 * SECOND_US;

/// Checker timings given at one level; None = inherited from the level above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct CheckTimings {
    pub connect_timeout_us: Option<u64>,
    pub retry: Option<u32>,
    pub delay_before_retry_us: Option<u64>,
    pub delay_loop_us: Option<u64>,
    pub warmup_us: Option<u64>,
}

impl CheckTimings {
    /// These timings where given, the parent's elsewhere.
    pub fn or(&self, parent: &CheckTimings) -> CheckTimings {
        CheckTimings {
            connect_timeout_us: self.connect_timeout_us.or(parent.connect_timeout_us),
            retry: self.retry.or(parent.retry),
            delay_before_retry_us: self.delay_before_retry_us.or(parent.delay_before_retry_us),
            delay_loop_us: self.delay_loop_us.or(parent.delay_loop_us),
            warmup_us: self.warmup_us.or(parent.warmup_us),
        }
    }
}

/// Which block a timing keyword is in: keepalived words its messages differently.
#[derive(Debug, Clone, Copy)]
enum Level {
    Server,
    Real,
    Checker,
}

#[derive(Debug, Clone, Copy)]
enum Timing {
    ConnectTimeout,
    Retry,
    DelayBeforeRetry,
    DelayLoop,
    Warmup,
}

impl Timing {
    /// keepalived's message (after the number reader's own) for a rejected value `{}`.
    fn invalid(self, level: Level) -> &'static str {
        use Level::*;
        use Timing::*;
        match (level, self) {
            (Server, ConnectTimeout) => "virtual server connect_timeout {} invalid - ignoring",
            (Server, DelayBeforeRetry) => {
                "virtual server delay before retry '{}' invalid - ignoring"
            }
            (Server, DelayLoop) => "virtual server delay loop '{}' invalid - ignoring",
            (Server, Warmup) => "virtual server warmup '{}' invalid - ignoring",
            (Real, ConnectTimeout) => "real server connect_timeout {} invalid - ignoring",
            (Real, DelayBeforeRetry) => "real server delay_before_retry '{}' invalid - ignoring",
            (Real, DelayLoop) => "real server delay_loop '{}' invalid - ignoring",
            (Real, Warmup) => "real server warmup '{}' invalid - ignoring",
            (Server | Real, Retry) => "retry value invalid - {}",
            (Checker, ConnectTimeout) => "connect_timeout {} invalid - ignoring",
            (Checker, Retry) => "Invalid retry connection value '{}'",
            (Checker, DelayBeforeRetry) => "Invalid delay_before_retry connection value '{}'",
            (Checker, DelayLoop) => "delay_loop '{}' is invalid - ignoring",
            (Checker, Warmup) => "Invalid warmup connection value '{}'",
        }
    }
}

fn timings(p: &mut Parser, level: Level) -> &mut CheckTimings {
    match level {
        Level::Server => &mut server(p).timings,
        Level::Real => &mut real(p).timings,
        Level::Checker => &mut checker(p).timings,
    }
}

/// One timing keyword at one level.
fn timing(p: &mut Parser, words: &[String], level: Level, which: Timing) {
    let Some(word) = p.arg(words, 1) else { return };
    let value = match which {
        Timing::Retry => p.unsigned(word, 0, u32::MAX).map(u64::from),
        Timing::ConnectTimeout | Timing::DelayLoop => p.timer(word, 1, TIMER_MAXIMUM),
        Timing::DelayBeforeRetry | Timing::Warmup => p.timer(word, 0, TIMER_MAXIMUM),
    };
    let Some(value) = value else {
        return p.report(which.invalid(level).replace("{}", word));
    };
    let slot = timings(p, level);
    match which {
        Timing::ConnectTimeout => slot.connect_timeout_us = Some(value),
        Timing::Retry => slot.retry = Some(value as u32),
        Timing::DelayBeforeRetry => slot.delay_before_retry_us = Some(value),
        Timing::DelayLoop => slot.delay_loop_us = Some(value),
        Timing::Warmup => slot.warmup_us = Some(value),
    }
}

/// The timing keywords of one level, as a keyword table.
macro_rules! timing_keywords {
    ($level:expr) => {
        [
            Keyword::new("connect_timeout", |p, w| {
                timing(p, w, $level, Timing::ConnectTimeout)
            }),
            Keyword::new("retry", |p, w| timing(p, w, $level, Timing::Retry)),
            Keyword::new("delay_before_retry", |p, w| {
                timing(p, w, $level, Timing::DelayBeforeRetry)
            }),
            Keyword::new("delay_loop", |p, w| timing(p, w, $level, Timing::DelayLoop)),
            Keyword::new("warmup", |p, w| timing(p, w, $level, Timing::Warmup)),
        ]
    };
}

pub(super) static SERVER_TIMINGS: [Keyword; 5] = timing_keywords!(Level::Server);
pub(super) static REAL_TIMINGS: [Keyword; 5] = timing_keywords!(Level::Real);
static CHECKER_TIMINGS: [Keyword; 5] = timing_keywords!(Level::Checker);

/// A checker block before the cascade and the real server's address fill it in.
#[derive(Debug)]
pub(super) struct CheckerDraft {
    kind: CheckKind,
    line: usize,
    connect_ip: Option<Ipv4Addr>,
    connect_port: Option<u16>,
    bindto: Option<Ipv4Addr>,
    timings: CheckTimings,
    alpha: bool,
    misc_timeout_us: Option<u64>,
}

fn open(p: &mut Parser, kind: CheckKind) {
    let line = p.line();
    real(p).checkers.push(CheckerDraft {
        kind,
        line,
        connect_ip: None,
        connect_port: None,
        bindto: None,
        timings: CheckTimings::default(),
        alpha: false,
        misc_timeout_us: None,
    });
}

pub(super) fn open_tcp(p: &mut Parser, _: &[String]) {
    open(p, CheckKind::Tcp);
}

pub(super) fn open_http(p: &mut Parser, _: &[String]) {
    open(
        p,
        CheckKind::Http {
            urls: Vec::new(),
            ssl: false,
        },
    );
}

pub(super) fn open_ssl(p: &mut Parser, _: &[String]) {
    open(
        p,
        CheckKind::Http {
            urls: Vec::new(),
            ssl: true,
        },
    );
}

pub(super) fn open_misc(p: &mut Parser, _: &[String]) {
    let kind = CheckKind::Misc {
        path: String::new(),
        timeout_us: 0,
        dynamic: false,
    };
    open(p, kind);
}

fn checker(p: &mut Parser) -> &mut CheckerDraft {
    real(p).checkers.last_mut().expect("inside a checker block")
}

static COMMON: [Keyword; 8] = [
    Keyword::new("connect_ip", |p, w| {
        let Some(word) = p.arg(w, 1) else { return };
        match Parser::ipv4(word) {
            Some(ip) => checker(p).connect_ip = Some(ip),
            None => p.report(format!("Invalid connect_ip address {word} - ignoring")),
        }
    }),
    Keyword::new("connect_port", |p, w| {
        let Some(word) = p.arg(w, 1) else { return };
        match word.parse::<u16>() {
            Ok(port) => checker(p).connect_port = Some(port),
            Err(_) => p.report(format!("Invalid checker connect_port '{word}'")),
        }
    }),
    Keyword::new("bindto", |p, w| {
        let Some(word) = p.arg(w, 1) else { return };
        match Parser::ipv4(word) {
            Some(ip) => checker(p).bindto = Some(ip),
            None => p.report(format!("Invalid bindto address {word} - ignoring")),
        }
    }),
    Keyword::new("alpha", |p, _| checker(p).alpha = true),
    Keyword::ignored("bind_port"),
    Keyword::ignored("bind_if"),
    Keyword::ignored("fwmark"),
    Keyword::ignored("log_all_failures"),
];

pub(super) static TCP_CHECK: Block = Block {
    keywords: &[&COMMON, &CHECKER_TIMINGS],
    close: None,
};

/// At its `}`, keepalived drops an HTTP checker without urls and a MISC checker without a
/// path (reported on that line).
fn close_checker(p: &mut Parser) {
    let message = match &checker(p).kind {
        CheckKind::Http { urls, .. } if urls.is_empty() => {
            "HTTP/SSL_GET checker has no urls specified - ignoring"
        }
        CheckKind::Misc { path, .. } if path.is_empty() => {
            "No script path has been specified for MISC_CHECKER - skipping"
        }
        _ => return,
    };
    real(p).checkers.pop();
    p.report(message);
}

pub(super) static HTTP_GET: Block = Block {
    keywords: &[
        &COMMON,
        &CHECKER_TIMINGS,
        &[
            Keyword::block("url", open_url, &URL),
            Keyword::new("nb_get_retry", |p, w| {
                timing(p, w, Level::Checker, Timing::Retry)
            }),
            Keyword::ignored("http_protocol"),
            Keyword::ignored("virtualhost"),
            Keyword::ignored("enable_sni"),
            Keyword::ignored("fast_recovery"),
        ],
    ],
    close: Some(close_checker),
};

pub(super) static MISC_CHECK: Block = Block {
    keywords: &[
        &COMMON,
        &CHECKER_TIMINGS,
        &[
            Keyword::new("misc_path", |p, w| {
                if let CheckKind::Misc { path, .. } = &mut checker(p).kind {
                    *path = w[1..].join(" ");
                }
            }),
            Keyword::new("misc_timeout", |p, w| {
                let Some(word) = p.arg(w, 1) else { return };
                match word.parse::<u32>() {
                    Ok(s) => checker(p).misc_timeout_us = Some(u64::from(s) * SECOND_US),
                    Err(_) => p.report(format!("Invalid misc_timeout value '{word}'")),
                }
            }),
            Keyword::new("misc_dynamic", |p, _| {
                if let CheckKind::Misc { dynamic, .. } = &mut checker(p).kind {
                    *dynamic = true;
                }
            }),
            Keyword::ignored("user"),
        ],
    ],
    close: Some(close_checker),
};

// ----- url { ... } of HTTP_GET / SSL_GET -----

fn urls(p: &mut Parser) -> &mut Vec<Url> {
    match &mut checker(p).kind {
        CheckKind::Http { urls, .. } => urls,
        _ => unreachable!("url is only a keyword of HTTP_GET and SSL_GET"),
    }
}

fn url(p: &mut Parser) -> &mut Url {
    urls(p).last_mut().expect("inside a url block")
}

fn open_url(p: &mut Parser, _: &[String]) {
    urls(p).push(Url {
        path: String::new(),
        status_codes: Vec::new(),
        digest: None,
        virtualhost: None,
    });
}

static URL: Block = Block {
    keywords: &[&[
        Keyword::new("path", |p, w| {
            if let Some(path) = p.arg(w, 1) {
                url(p).path = path.to_string();
            }
        }),
        Keyword::new("status_code", |p, w| {
            for word in &w[1..] {
                match status_range(word) {
                    Some(range) => url(p).status_codes.push(range),
                    None => p.report(format!("Invalid HTTP_GET status code '{word}'")),
                }
            }
        }),
        Keyword::new("digest", |p, w| {
            if let Some(digest) = p.arg(w, 1) {
                url(p).digest = Some(digest.to_string());
            }
        }),
        Keyword::new("virtualhost", |p, w| {
            if let Some(host) = p.arg(w, 1) {
                url(p).virtualhost = Some(host.to_string());
            }
        }),
        Keyword::ignored("regex"),
        Keyword::ignored("regex_no_match"),
    ]],
    close: Some(close_url),
};

/// A url without a path is dropped; no status_code means 200-299.
fn close_url(p: &mut Parser) {
    let url = url(p);
    if url.status_codes.is_empty() {
        url.status_codes.push((200, 299));
    }
    if url.path.is_empty() {
        urls(p).pop();
        p.report("HTTP/SSL_GET checker url has no path - ignoring");
    }
}

/// `N` or `N-M`, each a code in 100..=999.
fn status_range(word: &str) -> Option<(u16, u16)> {
    let code = |s: &str| s.parse::<u16>().ok().filter(|c| (100..=999).contains(c));
    match word.split_once('-') {
        Some((low, high)) => code(low).zip(code(high)).filter(|(l, h)| l <= h),
        None => code(word).map(|c| (c, c)),
    }
}

// ----- after the whole file -----

impl CheckerDraft {
    /// The checker with every timing resolved (`inherited`: the real server's timings over
    /// the virtual server's, delay_loop always set).
    pub(super) fn finish(self, real: &RealServer, inherited: &CheckTimings) -> Checker {
        let t = self.timings.or(inherited);
        let (retry, delay_before_retry_us) = match &self.kind {
            CheckKind::Tcp => (1, SECOND_US),
            CheckKind::Http { .. } => (1, 3 * SECOND_US),
            CheckKind::Misc { .. } => (0, SECOND_US),
        };
        let delay_loop_us = t.delay_loop_us.unwrap_or(60 * SECOND_US);
        let kind = match self.kind {
            CheckKind::Misc { path, dynamic, .. } => CheckKind::Misc {
                path,
                dynamic,
                timeout_us: self.misc_timeout_us.unwrap_or(delay_loop_us),
            },
            other => other,
        };
        Checker {
            kind,
            line: self.line,
            connect_ip: self.connect_ip.unwrap_or(real.addr),
            connect_port: self.connect_port.unwrap_or(real.port),
            bindto: self.bindto,
            connect_timeout_us: t.connect_timeout_us.unwrap_or(DEFAULT_CONNECT_TIMEOUT_US),
            retry: t.retry.unwrap_or(retry),
            delay_before_retry_us: t.delay_before_retry_us.unwrap_or(delay_before_retry_us),
            delay_loop_us,
            warmup_us: t.warmup_us.unwrap_or(delay_loop_us),
            alpha: self.alpha,
        }
    }
}
