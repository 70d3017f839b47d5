//! Programs a lab starts: `ping`, `curl`, `ab`, `arping`, `arpspoof`, parsed with each
//! tool's own options and started on the host.

use std::net::Ipv4Addr;

use super::args::{Args, Opt, OptionSpec, parse_ipv4};
use crate::scenario::shell::Word;
use crate::scenario::source::Diagnostic;
use crate::sim::time::parse_decimal_seconds;
use crate::stack::apps::Program;
use crate::stack::apps::arping::{Arping, ArpingMode, ArpingOptions};
use crate::stack::apps::arpspoof::{Arpspoof, ArpspoofOptions};
use crate::stack::apps::http_client::{HttpClient, HttpMode, Url};
use crate::stack::apps::ping::{Ping, PingOptions};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSpec {
    Ping(PingOptions),
    Http(HttpMode, Url),
    Arping(ArpingOptions),
    Arpspoof(ArpspoofOptions),
}

impl ProgramSpec {
    pub(crate) fn build(&self) -> Box<dyn Program> {
        match self {
            ProgramSpec::Ping(o) => Box::new(Ping::new(o.clone())),
            ProgramSpec::Http(mode, url) => Box::new(HttpClient::new(mode.clone(), url.clone())),
            ProgramSpec::Arping(o) => Box::new(Arping::new(o.clone())),
            ProgramSpec::Arpspoof(o) => Box::new(Arpspoof::new(o.clone())),
        }
    }
}

/// Starts the program; `cmd` is the command line for the report.
pub fn run(host: &mut Host, ctx: &mut Ctx, spec: &ProgramSpec, cmd: &str) {
    host.start_program(ctx, cmd, spec.build());
}

/// An option the real tool has but lvsim does not model.
fn not_simulated(args: &Args, opt: &Opt, program: &str, usage: &str) -> Diagnostic {
    args.error_at(
        opt.word,
        format!("{program}: -{} is not simulated", opt.letter),
    )
    .with_help(format!("accepted: {usage}"))
}

fn seconds(args: &Args, opt: &Opt, program: &str) -> Result<u64, Diagnostic> {
    let value = opt.value.as_deref().unwrap_or("");
    parse_decimal_seconds(value)
        .ok_or_else(|| args.error_at(opt.word, format!("{program}: invalid argument: '{value}'")))
}

fn count(args: &Args, opt: &Opt, program: &str) -> Result<u32, Diagnostic> {
    let value = opt.value.as_deref().unwrap_or("");
    value
        .parse::<u32>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| args.error_at(opt.word, format!("{program}: invalid argument: '{value}'")))
}

/// The single operand (destination) of a command.
fn one_operand<'a>(
    args: &Args,
    operands: &[&'a Word],
    what: &str,
    usage: &str,
) -> Result<&'a Word, Diagnostic> {
    match operands {
        [one] => Ok(one),
        [] => Err(args.missing(what).with_help(format!("usage: {usage}"))),
        [_, extra, ..] => Err(args
            .error_at(extra, format!("unexpected argument `{}`", extra.text))
            .with_help(format!("usage: {usage}"))),
    }
}

const PING_USAGE: &str =
    "ping [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-s SIZE] [-I IFACE|ADDR] [-q] [-n] DESTINATION";

pub fn parse_ping(args: &mut Args) -> Result<ProgramSpec, Diagnostic> {
    let spec = OptionSpec {
        program: "ping",
        with_value: "ciWsIwt",
        flags: "qnv4",
        long: &[],
        accepted: PING_USAGE,
    };
    let (options, operands) = spec.parse(args)?;
    let dst_word = one_operand(
        args,
        &operands,
        "the destination (ping: usage error: Destination address required)",
        PING_USAGE,
    )?;
    let dst = parse_ipv4(dst_word).map_err(|_| {
        args.error_at(
            dst_word,
            format!(
                "ping: {}: Name or service not known (lvsim has no DNS)",
                dst_word.text
            ),
        )
    })?;
    let mut opts = PingOptions {
        dst,
        count: None,
        interval_ns: 1_000_000_000,
        size: 56,
        wait_ns: None,
        iface: None,
        source: None,
        quiet: false,
    };
    for opt in &options {
        match opt.letter {
            'q' => opts.quiet = true,
            'c' => opts.count = Some(count(args, opt, "ping")?),
            'i' => opts.interval_ns = seconds(args, opt, "ping")?,
            'W' | 'w' => opts.wait_ns = Some(seconds(args, opt, "ping")?),
            's' => {
                let value = opt.value.as_deref().unwrap_or("");
                opts.size = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n <= 65507)
                    .ok_or_else(|| args.error_at(opt.word, format!("ping: invalid argument: '{value}': out of range: 0 <= value <= 65507")))?;
            }
            'I' => {
                let value = opt.value.clone().unwrap_or_default();
                match value.parse::<Ipv4Addr>() {
                    Ok(ip) => opts.source = Some(ip),
                    Err(_) => opts.iface = Some(value),
                }
            }
            't' | 'v' => return Err(not_simulated(args, opt, "ping", PING_USAGE)),
            // -n (numeric output) and -4 (IPv4) are what lvsim always does.
            _ => {}
        }
    }
    Ok(ProgramSpec::Ping(opts))
}

const CURL_USAGE: &str = "curl [-s] [-S] [-I] [-o /dev/null] [-m SECONDS] [--connect-timeout SECONDS] http://ADDR[:PORT][/PATH]";

pub fn parse_curl(args: &mut Args) -> Result<ProgramSpec, Diagnostic> {
    let spec = OptionSpec {
        program: "curl",
        with_value: "omC",
        flags: "sIvSLkf",
        long: &[
            ("silent", 's'),
            ("head", 'I'),
            ("output", 'o'),
            ("max-time", 'm'),
            ("connect-timeout", 'C'),
            ("verbose", 'v'),
            ("show-error", 'S'),
            ("location", 'L'),
            ("fail", 'f'),
        ],
        accepted: CURL_USAGE,
    };
    let (options, operands) = spec.parse(args)?;
    let url_word = one_operand(
        args,
        &operands,
        "the URL (curl: no URL specified)",
        CURL_USAGE,
    )?;
    let url =
        Url::parse(&url_word.text).map_err(|m| args.error_at(url_word, format!("curl: {m}")))?;
    let mut head = false;
    let mut max_time_ns = None;
    let mut connect_timeout_ns = None;
    let mut silent = false;
    let mut show_error = false;
    for opt in &options {
        match opt.letter {
            's' => silent = true,
            'S' => show_error = true,
            'I' => head = true,
            'm' => max_time_ns = Some(seconds(args, opt, "curl")?),
            'C' => connect_timeout_ns = Some(seconds(args, opt, "curl")?),
            'o' if opt.value.as_deref() != Some("/dev/null") => {
                return Err(args.error_at(
                    opt.word,
                    "curl: -o: lvsim can only write output to /dev/null",
                ));
            }
            'L' | 'k' | 'f' | 'v' => return Err(not_simulated(args, opt, "curl", CURL_USAGE)),
            // -o /dev/null: the body is discarded, which is what the check above allows.
            _ => {}
        }
    }
    Ok(ProgramSpec::Http(
        HttpMode::Curl {
            head,
            max_time_ns,
            connect_timeout_ns,
            show_errors: !silent || show_error,
        },
        url,
    ))
}

const AB_USAGE: &str = "ab -n REQUESTS -c CONCURRENCY [-k] [-B LOCAL_ADDR] http://ADDR[:PORT]/PATH";

pub fn parse_ab(args: &mut Args) -> Result<ProgramSpec, Diagnostic> {
    let spec = OptionSpec {
        program: "ab",
        with_value: "ncB",
        flags: "qdk",
        long: &[],
        accepted: AB_USAGE,
    };
    let (options, operands) = spec.parse(args)?;
    let url_word = one_operand(args, &operands, "the URL", AB_USAGE)?;
    if !url_word.text.trim_start_matches("http://").contains('/') {
        return Err(args
            .error_at(url_word, "ab: invalid URL")
            .with_help(format!(
                "usage: {AB_USAGE} (the URL needs a path, e.g. http://10.0.0.1/)"
            )));
    }
    let url =
        Url::parse(&url_word.text).map_err(|m| args.error_at(url_word, format!("ab: {m}")))?;
    let mut requests = 1;
    let mut concurrency = 1;
    let mut bind = None;
    let mut keepalive = false;
    for opt in &options {
        match opt.letter {
            'k' => keepalive = true,
            'n' => requests = count(args, opt, "ab")?,
            'c' => concurrency = count(args, opt, "ab")?,
            'B' => {
                let value = opt.value.as_deref().unwrap_or("");
                bind = Some(value.parse().map_err(|_| {
                    args.error_at(opt.word, format!("ab: could not resolve address {value}"))
                })?);
            }
            _ => {}
        }
    }
    if concurrency > requests {
        return Err(args.error_whole(
            "ab: Cannot use concurrency level greater than total number of requests",
        ));
    }
    Ok(ProgramSpec::Http(
        HttpMode::Ab {
            requests,
            concurrency,
            bind,
            keepalive,
        },
        url,
    ))
}

const ARPING_USAGE: &str =
    "arping [-c COUNT] [-w DEADLINE] [-I IFACE] [-s SOURCE] [-U|-A|-D] [-b] [-f] [-q] TARGET";

pub fn parse_arping(args: &mut Args) -> Result<ProgramSpec, Diagnostic> {
    let spec = OptionSpec {
        program: "arping",
        with_value: "cwIs",
        flags: "UADbfq",
        long: &[],
        accepted: ARPING_USAGE,
    };
    let (options, operands) = spec.parse(args)?;
    let target_word = one_operand(args, &operands, "the target address", ARPING_USAGE)?;
    let target = parse_ipv4(target_word).map_err(|_| {
        args.error_at(
            target_word,
            format!(
                "arping: {}: Name or service not known (lvsim has no DNS)",
                target_word.text
            ),
        )
    })?;
    let mut opts = ArpingOptions {
        target,
        mode: ArpingMode::Probe,
        count: None,
        deadline_ns: None,
        iface: None,
        source: None,
        broadcast_only: false,
        quit_on_reply: false,
        quiet: false,
    };
    for opt in &options {
        match opt.letter {
            'c' => opts.count = Some(count(args, opt, "arping")?),
            'w' => opts.deadline_ns = Some(seconds(args, opt, "arping")?),
            'I' => opts.iface = opt.value.clone(),
            's' => {
                let value = opt.value.as_deref().unwrap_or("");
                opts.source = Some(value.parse().map_err(|_| {
                    args.error_at(opt.word, format!("arping: invalid source {value}"))
                })?);
            }
            'U' => opts.mode = ArpingMode::Unsolicited,
            'A' => opts.mode = ArpingMode::Advert,
            'D' => {
                opts.mode = ArpingMode::Dad;
                opts.quit_on_reply = true;
            }
            'b' => opts.broadcast_only = true,
            'f' => opts.quit_on_reply = true,
            'q' => opts.quiet = true,
            _ => {}
        }
    }
    Ok(ProgramSpec::Arping(opts))
}

const ARPSPOOF_USAGE: &str = "arpspoof [-i INTERFACE] [-t TARGET] [-r] HOST";

pub fn parse_arpspoof(args: &mut Args) -> Result<ProgramSpec, Diagnostic> {
    let spec = OptionSpec {
        program: "arpspoof",
        with_value: "it",
        flags: "r",
        long: &[],
        accepted: ARPSPOOF_USAGE,
    };
    let (options, operands) = spec.parse(args)?;
    let host_word = one_operand(args, &operands, "the host to impersonate", ARPSPOOF_USAGE)?;
    let host =
        parse_ipv4(host_word).map_err(|m| args.error_at(host_word, format!("arpspoof: {m}")))?;
    let mut opts = ArpspoofOptions {
        iface: None,
        target: None,
        host,
        reverse: false,
    };
    for opt in &options {
        match opt.letter {
            'i' => opts.iface = opt.value.clone(),
            't' => {
                let value = opt.value.as_deref().unwrap_or("");
                opts.target = Some(value.parse().map_err(|_| {
                    args.error_at(opt.word, format!("arpspoof: can't resolve {value}"))
                })?);
            }
            'r' => opts.reverse = true,
            _ => {}
        }
    }
    if opts.reverse && opts.target.is_none() {
        return Err(args
            .error_whole("arpspoof: -r needs a target (-t)")
            .with_help(format!("usage: {ARPSPOOF_USAGE}")));
    }
    Ok(ProgramSpec::Arpspoof(opts))
}
