//! vrrp_script (`vrrp_track.c`, `reference/keepalived.md` §3): a command run every
//! `interval`; after `rise` consecutive successes it is good, after `fall` consecutive
//! failures bad. Instances tracking it move their priority by its weight, or go to FAULT
//! while a weight-0 script is bad.

use super::config::VrrpScript;
use super::daemon::TimerKind;
use super::external::{ExitWait, Launch};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

/// A tracked script while the daemon runs.
#[derive(Debug, Clone)]
pub struct ScriptRun {
    pub conf: VrrpScript,
    pub good: bool,
    ok_streak: u32,
    fail_streak: u32,
    attempt: u64,
    /// The app slot of a run still going.
    program: Option<usize>,
}

impl ScriptRun {
    /// A script starts good, or bad with `init_fail`.
    pub fn new(conf: VrrpScript) -> ScriptRun {
        ScriptRun {
            good: !conf.init_fail,
            conf,
            ok_streak: 0,
            fail_streak: 0,
            attempt: 0,
            program: None,
        }
    }

    /// Counts one result; true when the script's state flips (rise/fall reached).
    fn count(&mut self, ok: bool) -> bool {
        if ok {
            self.ok_streak += 1;
            self.fail_streak = 0;
        } else {
            self.fail_streak += 1;
            self.ok_streak = 0;
        }
        let flips = if self.good {
            !ok && self.fail_streak >= self.conf.fall.max(1)
        } else {
            ok && self.ok_streak >= self.conf.rise.max(1)
        };
        if flips {
            self.good = ok;
        }
        flips
    }
}

impl Host {
    /// The daemon started: every tracked script runs now, then every `interval`.
    pub(crate) fn scripts_start(&mut self, ctx: &mut Ctx) {
        for script in 0..self.keepalived.scripts().len() {
            self.run_script(ctx, script);
        }
    }

    /// A script's timer: the next run, or a run that outlived its `timeout`.
    pub(crate) fn script_timer(&mut self, ctx: &mut Ctx, kind: TimerKind) {
        match kind {
            TimerKind::Script { script } => self.run_script(ctx, script),
            TimerKind::ScriptTimeout { script, attempt } => {
                let run = &mut self.keepalived.scripts_mut()[script];
                if run.attempt != attempt {
                    return;
                }
                if let Some(slot) = run.program.take() {
                    self.abandon(ctx, slot);
                    self.script_result(ctx, script, false, "timed out");
                }
            }
            _ => {}
        }
    }

    fn run_script(&mut self, ctx: &mut Ctx, script: usize) {
        let daemon = self.keepalived.run_id();
        let run = &mut self.keepalived.scripts_mut()[script];
        run.attempt += 1;
        let (attempt, conf) = (run.attempt, run.conf.clone());
        self.keepalived
            .arm(ctx, conf.interval_us, TimerKind::Script { script });
        let wait = ExitWait::Script {
            daemon,
            script,
            attempt,
        };
        match self.launch(ctx, "vrrp_script", &conf.script, wait) {
            Launch::Done(Ok(())) => self.script_result(ctx, script, true, "exited with status 0"),
            Launch::Done(Err(why)) => self.script_result(ctx, script, false, &why),
            Launch::Running(slot) => {
                self.keepalived.scripts_mut()[script].program = Some(slot);
                let timeout = TimerKind::ScriptTimeout { script, attempt };
                self.keepalived.arm(ctx, conf.timeout_us, timeout);
            }
        }
    }

    /// The program of a script run exited.
    pub(crate) fn vrrp_script_exited(
        &mut self,
        ctx: &mut Ctx,
        (daemon, script, attempt): (u64, usize, u64),
        ok: bool,
    ) {
        if self.keepalived.run_id() != daemon {
            return;
        }
        let Some(run) = self.keepalived.scripts_mut().get_mut(script) else {
            return;
        };
        if run.attempt != attempt {
            return;
        }
        run.program = None;
        let why = if ok {
            "exited with status 0"
        } else {
            "exited with status 1"
        };
        self.script_result(ctx, script, ok, why);
    }

    /// One result: when the script flips, every instance tracking it reacts.
    fn script_result(&mut self, ctx: &mut Ctx, script: usize, ok: bool, why: &str) {
        let run = &mut self.keepalived.scripts_mut()[script];
        if !run.count(ok) {
            return;
        }
        let name = run.conf.name.clone();
        let pid = self.keepalived.pid() + 1;
        let verdict = if ok {
            "succeeded".to_owned()
        } else {
            format!("failed ({why})")
        };
        ctx.output(format!(
            "Keepalived_vrrp[{pid}]: VRRP_Script({name}) {verdict}"
        ));
        self.keepalived_script_changed(ctx, &name, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(rise: u32, fall: u32) -> ScriptRun {
        ScriptRun::new(VrrpScript {
            name: "chk".into(),
            script: "true".into(),
            interval_us: 1_000_000,
            timeout_us: 1_000_000,
            weight: 0,
            reverse: false,
            rise,
            fall,
            init_fail: false,
        })
    }

    /// §3 vrrp_script: bad after `fall` consecutive failures, good again after `rise`
    /// consecutive successes; a success resets the failure count.
    #[test]
    fn rise_and_fall_count_consecutive_results() {
        let mut s = script(2, 3);
        assert!(!s.count(false) && !s.count(false));
        assert!(!s.count(true), "a success in between resets the count");
        assert!(!s.count(false) && !s.count(false));
        assert!(s.count(false) && !s.good);
        assert!(!s.count(true));
        assert!(s.count(true) && s.good);
    }
}
