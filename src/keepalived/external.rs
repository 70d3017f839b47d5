//! Commands keepalived runs (MISC_CHECK's `misc_path`, a vrrp_script's `script`): lvsim's
//! own interpreter runs them on the host, never a real shell. A command that finishes at
//! once (`ipvsadm`, `killall -0 nginx`, ...) gives its exit status now; a program (`curl`,
//! `ping`, `arping`) reports it when it exits.

use crate::scenario::commands::{self, Command};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

/// Who waits for a program's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitWait {
    /// A MISC_CHECK attempt (the checkers' generation, the check, the attempt).
    Check {
        generation: u64,
        run: usize,
        attempt: u64,
    },
    /// A vrrp_script run (the daemon process, the script, the attempt).
    Script {
        daemon: u64,
        script: usize,
        attempt: u64,
    },
}

/// How a command started.
pub enum Launch {
    /// It finished: exit status 0 (Ok) or not (Err with why).
    Done(Result<(), String>),
    /// A program runs in this app slot; its exit is reported to the waiter.
    Running(usize),
}

impl Host {
    /// Runs `text` (one command line; `what` names it in errors) for `wait`.
    pub(crate) fn launch(
        &mut self,
        ctx: &mut Ctx,
        what: &str,
        text: &str,
        wait: ExitWait,
    ) -> Launch {
        let file = format!("{}:{what}", self.name);
        let parsed = match commands::parse_text(&file, text) {
            Ok(c) if c.len() == 1 => c,
            Ok(_) => return Launch::Done(Err(format!("{what} `{text}` must be one command"))),
            Err(e) => return Launch::Done(Err(format!("{what} `{text}`: {}", e.message))),
        };
        let command = &parsed[0];
        match &command.command {
            Command::Program(spec) => {
                let line = command.line.display();
                ctx.trace.command(ctx.now, ctx.host, line.clone());
                let me = self.start_program_for(ctx, &line, spec.build(), Some(wait));
                Launch::Running(me.slot)
            }
            _ => Launch::Done(commands::run(self, ctx, command).map(|_| ())),
        }
    }

    /// Ends a program whose waiter gave up on it (a timeout): it reports to no one.
    pub(crate) fn abandon(&mut self, ctx: &mut Ctx, slot: usize) {
        self.apps[slot].waiter = None;
        self.kill_program(ctx, slot);
    }

    /// A program keepalived waited for exited.
    pub(crate) fn external_exited(&mut self, ctx: &mut Ctx, wait: ExitWait, succeeded: bool) {
        match wait {
            ExitWait::Check {
                generation,
                run,
                attempt,
            } => self.misc_check_exited(ctx, (generation, run, attempt), succeeded),
            ExitWait::Script {
                daemon,
                script,
                attempt,
            } => self.vrrp_script_exited(ctx, (daemon, script, attempt), succeeded),
        }
    }
}
