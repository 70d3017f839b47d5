//! Kernel parameters: `sysctl [-w] [-q] KEY[=VALUE]...`, `sysctl -a`,
//! `echo V > /proc/sys/...` and `cat /proc/sys/...`, with the tools' own error wording.

use super::args::Args;
use crate::scenario::shell::CommandLine;
use crate::scenario::source::Diagnostic;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;
use crate::stack::sysctl::SysctlError;

/// The options that change what `sysctl` prints and how it treats unknown keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SysctlFlags {
    /// `-q`: print nothing after a write.
    pub quiet: bool,
    /// `-n`: print values without `key = `.
    pub values_only: bool,
    /// `-e`: skip unknown keys without an error.
    pub ignore_unknown: bool,
}

impl SysctlFlags {
    fn line(&self, key: &str, value: &str) -> String {
        if self.values_only {
            value.to_owned()
        } else {
            format!("{key} = {value}")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysctlCommand {
    /// `sysctl -w k=v ...` (printing `k = v` unless quiet).
    Write {
        pairs: Vec<(String, String)>,
        flags: SysctlFlags,
    },
    Read {
        keys: Vec<String>,
        flags: SysctlFlags,
    },
    All {
        flags: SysctlFlags,
    },
    /// `echo V > /proc/sys/...`
    EchoToProc {
        key: String,
        value: String,
    },
    /// `echo TEXT` to the terminal (or /dev/null).
    Echo {
        text: Option<String>,
    },
    /// `cat /proc/sys/...`
    Cat {
        key: String,
    },
}

const ACCEPTED: &str =
    "sysctl [-w] [-q] [-n] [-e] KEY=VALUE..., sysctl [-n] [-e] KEY..., sysctl [-n] -a";

/// `/proc/sys/net/ipv4/ip_forward` → `net.ipv4.ip_forward`.
fn proc_key(path: &str) -> Option<String> {
    path.strip_prefix("/proc/sys/").map(|k| k.replace('/', "."))
}

pub fn parse_sysctl(args: &mut Args) -> Result<SysctlCommand, Diagnostic> {
    let mut write = false;
    let mut all = false;
    let mut flags = SysctlFlags::default();
    let mut words = Vec::new();
    while let Some(word) = args.take() {
        match word.text.as_str() {
            "-w" => write = true,
            "-q" => flags.quiet = true,
            "-n" => flags.values_only = true,
            "-e" => flags.ignore_unknown = true,
            "-a" | "-A" => all = true,
            "-p" | "--load" | "--system" => {
                return Err(args
                    .error_at(word, "sysctl: lvsim has no /etc/sysctl.conf")
                    .with_help("write each setting as sysctl -w KEY=VALUE"));
            }
            flag if flag.starts_with('-') => {
                return Err(args
                    .error_at(word, format!("sysctl: unknown option `{flag}`"))
                    .with_help(format!("accepted: {ACCEPTED}")));
            }
            _ => words.push(word),
        }
    }
    if all {
        return match words.first() {
            None => Ok(SysctlCommand::All { flags }),
            Some(word) => Err(args
                .error_at(word, "sysctl: -a lists every key; drop the key or the -a")
                .with_help(format!("accepted: {ACCEPTED}"))),
        };
    }
    if words.is_empty() {
        return Err(args.missing("the key (e.g. net.ipv4.ip_forward=1)"));
    }
    let with_values = words.iter().filter(|w| w.text.contains('=')).count();
    if write || with_values > 0 {
        let mut pairs = Vec::new();
        for word in words {
            let (key, value) = word.text.split_once('=').ok_or_else(|| {
                args.error_at(
                    word,
                    format!("sysctl: \"{}\" must be of the form name=value", word.text),
                )
            })?;
            pairs.push((key.trim().replace('/', "."), value.trim().to_owned()));
        }
        return Ok(SysctlCommand::Write { pairs, flags });
    }
    Ok(SysctlCommand::Read {
        keys: words.iter().map(|w| w.text.replace('/', ".")).collect(),
        flags,
    })
}

/// `echo TEXT [> FILE]`: only /proc/sys files and /dev/null can be written.
pub fn parse_echo(args: &mut Args, line: &CommandLine) -> Result<SysctlCommand, Diagnostic> {
    let mut words: Vec<&str> = args.rest().iter().map(|w| w.text.as_str()).collect();
    if words.first() == Some(&"-n") || words.first() == Some(&"-e") {
        words.remove(0);
    }
    let text = words.join(" ");
    let Some(redirect) = &line.stdout else {
        return Ok(SysctlCommand::Echo { text: Some(text) });
    };
    let target = &redirect.target;
    if target.text == "/dev/null" {
        return Ok(SysctlCommand::Echo { text: None });
    }
    match proc_key(&target.text) {
        Some(key) => Ok(SysctlCommand::EchoToProc { key, value: text }),
        None => Err(args.error_at(
            target,
            format!(
                "`{}`: lvsim simulates writes to /proc/sys/... and /dev/null only",
                target.text
            ),
        )),
    }
}

pub fn parse_cat(args: &mut Args) -> Result<SysctlCommand, Diagnostic> {
    let word = args.expect("the file to read")?;
    let key = proc_key(&word.text).ok_or_else(|| {
        args.error_at(
            word,
            format!(
                "cat: `{}`: lvsim can only read /proc/sys/... files",
                word.text
            ),
        )
    })?;
    args.finish("cat", "cat /proc/sys/...")?;
    Ok(SysctlCommand::Cat { key })
}

/// procps' wording for a key with no /proc/sys file.
fn cannot_stat(key: &str) -> String {
    format!(
        "sysctl: cannot stat {}: No such file or directory",
        proc_path(key)
    )
}

fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

pub fn run(host: &mut Host, ctx: &mut Ctx, command: &SysctlCommand) -> Result<Vec<String>, String> {
    let now = ctx.now;
    match command {
        SysctlCommand::Write { pairs, flags } => {
            let mut out = Vec::new();
            for (key, value) in pairs {
                match host.sysctl_write(key, value, now) {
                    Ok(()) if !flags.quiet => out.push(flags.line(key, value)),
                    Ok(()) => {}
                    Err(SysctlError::NoSuchKey) if flags.ignore_unknown => {}
                    Err(SysctlError::NoSuchKey) => return Err(cannot_stat(key)),
                    Err(SysctlError::InvalidValue) => {
                        return Err(format!("sysctl: setting key \"{key}\": Invalid argument"));
                    }
                }
            }
            Ok(out)
        }
        SysctlCommand::Read { keys, flags } => {
            let mut out = Vec::new();
            for key in keys {
                match host.sysctl_read(key) {
                    Ok(value) => out.push(flags.line(key, &value)),
                    Err(_) if flags.ignore_unknown => {}
                    Err(_) => return Err(cannot_stat(key)),
                }
            }
            Ok(out)
        }
        SysctlCommand::All { flags } => Ok(host
            .sysctl_snapshot()
            .into_iter()
            .map(|(k, v)| flags.line(&k, &v))
            .collect()),
        SysctlCommand::EchoToProc { key, value } => {
            host.sysctl_write(key, value, now).map_err(|e| match e {
                SysctlError::NoSuchKey => {
                    format!("bash: {}: No such file or directory", proc_path(key))
                }
                SysctlError::InvalidValue => "bash: echo: write error: Invalid argument".to_owned(),
            })?;
            Ok(Vec::new())
        }
        SysctlCommand::Echo { text } => Ok(text.iter().cloned().collect()),
        SysctlCommand::Cat { key } => host
            .sysctl_read(key)
            .map(|v| vec![v])
            .map_err(|_| format!("cat: {}: No such file or directory", proc_path(key))),
    }
}
