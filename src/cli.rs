//! What the `lvsim` subcommands do (the binary only parses arguments). Each returns the
//! process exit code: 0 ok, 1 an expectation failed (or lint found problems), 2 bad input.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crate::lvs::playground::{Playground, PlaygroundError, Step};
use crate::output::json;
use crate::output::pcap::{PcapDir, PcapNg};
use crate::output::timeline::Timeline;
use crate::scenario::Scenario;
use crate::scenario::library::{self, DEFAULT_LAB};
use crate::scenario::load::load;
use crate::scenario::run::{self, RunOptions, RunResult};
use crate::scenario::source::Diagnostic;
use crate::sim::SimTime;
use crate::sim::time::parse_duration;
use crate::trace::Sink;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

/// Options of `lvsim run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// A scenario file, or the name of a shipped lab (see `lvsim list`)
    pub scenario: Option<String>,
    /// Write a pcapng capture with one interface per host NIC
    #[arg(long, value_name = "FILE.pcapng")]
    pub pcap: Option<PathBuf>,
    /// Write one classic pcap per NIC into DIR
    #[arg(long, value_name = "DIR")]
    pub pcap_dir: Option<PathBuf>,
    /// Write the JSON report to FILE (`-` for standard output)
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
    /// Seed for the random choices (default: the scenario's `seed`, else 1)
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop at exactly this simulated time (e.g. 10s), overriding the scenario's `until`
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Stop a run-away scenario after this many events
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Do not print the timeline
    #[arg(long)]
    pub quiet: bool,
    /// Print frames, events, wall time and frames per second
    #[arg(long)]
    pub stats: bool,
}

/// Options of `lvsim tui`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiArgs {
    /// A scenario file, or the name of a shipped lab (see `lvsim list`)
    pub scenario: Option<String>,
    /// Seed for the random choices (default: the scenario's `seed`, else 1)
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `lvsim tui`: the same scenario resolution and errors as `lvsim run`, then the terminal UI.
pub fn tui(args: &TuiArgs) -> i32 {
    let arg = args.scenario.as_deref().unwrap_or(DEFAULT_LAB);
    let session =
        load_scenario(arg).and_then(|s| crate::tui::session::Session::open(&s, args.seed));
    let mut session = match session {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    match crate::tui::terminal::run(&mut session) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("lvsim tui: the terminal failed: {e}");
            EXIT_FAILED
        }
    }
}

/// Loads a scenario named on the command line (a path or a shipped lab).
pub fn load_scenario(arg: &str) -> Result<Scenario, Diagnostic> {
    let (name, text) = library::resolve(arg)?;
    load(&name, &text)
}

fn report_error(e: &Diagnostic) -> i32 {
    eprint!("{e}");
    EXIT_BAD_INPUT
}

/// Every NIC of the lab as (host id, host, interface), for the pcap interface list.
fn interfaces(scenario: &Scenario) -> Vec<(usize, String, String)> {
    let hosts = scenario.hosts.iter().enumerate();
    hosts
        .flat_map(|(id, h)| {
            h.nics
                .iter()
                .map(move |n| (id, h.name.clone(), n.name.clone()))
        })
        .collect()
}

fn sinks(args: &RunArgs, scenario: &Scenario) -> io::Result<Vec<Box<dyn Sink>>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let json_to_stdout = args.json.as_deref() == Some("-");
    if !args.quiet && !json_to_stdout {
        sinks.push(Box::new(Timeline::new(BufWriter::new(io::stdout()))));
    }
    if let Some(path) = &args.pcap {
        sinks.push(Box::new(PcapNg::create(path, &interfaces(scenario))?));
    }
    if let Some(dir) = &args.pcap_dir {
        sinks.push(Box::new(PcapDir::create(dir, &interfaces(scenario))?));
    }
    Ok(sinks)
}

/// `lvsim run`.
pub fn run(args: &RunArgs) -> i32 {
    let arg = args.scenario.as_deref().unwrap_or(DEFAULT_LAB);
    let scenario = match load_scenario(arg) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    let until = match args.until.as_deref().map(parse_duration).transpose() {
        Ok(u) => u.map(SimTime),
        Err(m) => return report_error(&Diagnostic::file("--until", m)),
    };
    let sinks = match sinks(args, &scenario) {
        Ok(s) => s,
        Err(e) => {
            return report_error(&Diagnostic::file(
                "output",
                format!("cannot create the output files: {e}"),
            ));
        }
    };
    let max_events = args.max_events.unwrap_or(run::DEFAULT_MAX_EVENTS);
    let options = RunOptions {
        seed: args.seed,
        until,
        max_events,
        sinks,
    };
    let result = match run::run(&scenario, options) {
        Ok(r) => r,
        Err(e) => return report_error(&e),
    };
    if let Some(target) = &args.json {
        let report = json::report(&scenario.source.name, &scenario.title, &result);
        let text = serde_json::to_string_pretty(&report).expect("a JSON value serialises") + "\n";
        let written = if target == "-" {
            io::stdout().write_all(text.as_bytes())
        } else {
            std::fs::write(target, text)
        };
        if let Err(e) = written {
            return report_error(&Diagnostic::file(
                target,
                format!("cannot write the report: {e}"),
            ));
        }
    }
    if args.stats {
        print_stats(&result);
    }
    match result.runaway_message(max_events) {
        Some(message) => {
            eprintln!("{}: {message}", scenario.source.name);
            EXIT_FAILED
        }
        None => EXIT_OK,
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), in KiB.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn print_stats(result: &RunResult) {
    let secs = result.wall.as_secs_f64();
    let frames = result.world.stats.frames;
    println!("frames on the wire: {frames}");
    println!("events processed:   {}", result.world.stats.events);
    println!("simulated time:     {}s", result.end);
    println!("wall seconds:       {secs:.3}");
    println!("frames per second:  {:.0}", frames as f64 / secs.max(1e-9));
    if let Some(kib) = peak_memory_kib() {
        println!("peak memory:        {:.1} MiB (VmHWM)", kib as f64 / 1024.0);
    }
}

/// Runs `f` on each scenario named on the command line. The exit code is the worst of:
/// 2 if one does not load (or `f` reports bad input), 1 if `f` says it found a problem.
fn for_each_scenario(
    args: &[String],
    mut f: impl FnMut(&Scenario) -> Result<bool, Diagnostic>,
) -> i32 {
    let mut code = EXIT_OK;
    for arg in args {
        match load_scenario(arg).and_then(|s| f(&s)) {
            Ok(true) => {}
            Ok(false) => code = code.max(EXIT_FAILED),
            Err(e) => code = code.max(report_error(&e)),
        }
    }
    code
}

/// `lvsim check`: runs each scenario and prints PASS/FAIL per expectation.
pub fn check(scenarios: &[String]) -> i32 {
    for_each_scenario(scenarios, |scenario| {
        let result = run::run(scenario, RunOptions::default())?;
        let name = &scenario.source.name;
        for o in &result.outcomes {
            let verdict = if o.passed { "PASS" } else { "FAIL" };
            println!(
                "{verdict} {name} #{}: {} ({})",
                o.index + 1,
                o.text,
                o.detail
            );
        }
        let failed = result.outcomes.iter().filter(|o| !o.passed).count();
        println!(
            "{name}: {} passed, {failed} failed",
            result.outcomes.len() - failed
        );
        let runaway = result.runaway_message(run::DEFAULT_MAX_EVENTS);
        if let Some(message) = &runaway {
            eprintln!("{name}: {message}");
        }
        Ok(failed == 0 && runaway.is_none())
    })
}

/// `lvsim lint`: static diagnosis of each lab's configuration, then keepalived's messages
/// about each host's keepalived.conf (already naming the scenario file).
pub fn lint(scenarios: &[String]) -> i32 {
    for_each_scenario(scenarios, |scenario| {
        let findings = crate::lint::lint(scenario)?;
        for f in &findings {
            println!("{}: {f}", scenario.source.name);
        }
        let keepalived = crate::lint::keepalived(scenario);
        for message in &keepalived {
            println!("{message}");
        }
        Ok(findings.is_empty() && keepalived.is_empty())
    })
}

/// `lvsim list`: the shipped labs with their titles.
pub fn list() -> i32 {
    let width = library::SHIPPED
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for lab in library::SHIPPED {
        let title = load(lab.path, lab.text)
            .map(|s| s.title)
            .unwrap_or_else(|e| format!("(does not load: {})", e.headline()));
        println!("{:<width$}  {title}", lab.name);
    }
    EXIT_OK
}

/// `lvsim sched FILE [--json]`: runs a playground script; exit 2 at the first bad line
/// (design.md "lvsim sched output rules").
pub fn sched(path: &std::path::Path, json: bool) -> i32 {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{name}: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut playground = Playground::default();
    let (steps, error) = match playground.run_script(&text) {
        Ok(steps) => (steps, None),
        Err((steps, e)) => (steps, Some(e)),
    };
    for step in &steps {
        print_step(step, json);
    }
    let Some(error) = error else {
        return EXIT_OK;
    };
    match error {
        PlaygroundError::Ipvsadm {
            line,
            message,
            exit,
        } => {
            let first = message.lines().next().unwrap_or("");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "line": line, "op": "ipvsadm", "error": first, "exit": exit })
                );
            } else {
                eprintln!("{name}:{line}: ipvsadm: {first}");
            }
        }
        PlaygroundError::Script { line, message } => eprintln!("{name}:{line}: {message}"),
    }
    EXIT_BAD_INPUT
}

fn print_step(step: &Step, json: bool) {
    if json {
        println!("{}", step.json);
    } else if step.json["op"] == "ipvsadm" {
        print!("{}", step.text);
    } else {
        println!("{}", step.text);
    }
}
