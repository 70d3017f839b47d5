//! The `lvsim` command line (argument parsing only; the work is in `lvsim::cli`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lvsim::cli;

#[derive(Parser)]
#[command(
    name = "lvsim",
    version,
    about = "Packet-level simulator and teaching tool for Linux Virtual Server (LVS) labs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a lab and print its timeline (default: the shipped DR lab)
    Run {
        /// A scenario file, or the name of a shipped lab (see `lvsim list`)
        scenario: Option<String>,
        /// Write a pcapng capture with one interface per host NIC
        #[arg(long, value_name = "FILE.pcapng")]
        pcap: Option<PathBuf>,
        /// Write one classic pcap per NIC into DIR
        #[arg(long, value_name = "DIR")]
        pcap_dir: Option<PathBuf>,
        /// Write the JSON report to FILE (`-` for standard output)
        #[arg(long, value_name = "FILE|-")]
        json: Option<String>,
        /// Seed for the random choices (default: the scenario's `seed`, else 1)
        #[arg(long)]
        seed: Option<u64>,
        /// Stop at exactly this simulated time (e.g. 10s), overriding the scenario's `until`
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Stop a run-away scenario after this many events
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
        /// Do not print the timeline
        #[arg(long)]
        quiet: bool,
        /// Print frames, events, wall time and frames per second
        #[arg(long)]
        stats: bool,
    },
    /// Run scenarios and check their [[expect]] blocks (exit 1 if any fails)
    Check {
        #[arg(required = true)]
        scenarios: Vec<String>,
    },
    /// Diagnose a lab's configuration without running it
    Lint {
        #[arg(required = true)]
        scenarios: Vec<String>,
    },
    /// List the shipped labs
    List,
}

fn main() -> ExitCode {
    let code = match Cli::parse().command {
        Command::Run {
            scenario,
            pcap,
            pcap_dir,
            json,
            seed,
            until,
            max_events,
            quiet,
            stats,
        } => cli::run(&cli::RunArgs {
            scenario,
            pcap,
            pcap_dir,
            json,
            seed,
            until,
            max_events,
            quiet,
            stats,
        }),
        Command::Check { scenarios } => cli::check(&scenarios),
        Command::Lint { scenarios } => cli::lint(&scenarios),
        Command::List => cli::list(),
    };
    ExitCode::from(code as u8)
}
