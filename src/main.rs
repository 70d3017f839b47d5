//! The `lvsim` command line (argument parsing only; the work is in `lvsim::cli`).

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
    Run(cli::RunArgs),
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
    /// Step through a lab in the terminal, frame by frame (default: the shipped DR lab)
    Tui(cli::TuiArgs),
    /// List the shipped labs
    List,
    /// The scheduler playground: ipvsadm lines and synthetic connections, no packets
    Sched {
        /// A script: ipvsadm lines, conn, fin, rst, pkt, close, tick, seed, sysctl -w
        file: std::path::PathBuf,
        /// One JSON object per line instead of text
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let code = match Cli::parse().command {
        Command::Run(args) => cli::run(&args),
        Command::Check { scenarios } => cli::check(&scenarios),
        Command::Lint { scenarios } => cli::lint(&scenarios),
        Command::Tui(args) => cli::tui(&args),
        Command::List => cli::list(),
        Command::Sched { file, json } => cli::sched(&file, json),
    };
    ExitCode::from(code as u8)
}
