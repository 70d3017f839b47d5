//! The keepalived daemon on a host: started, stopped and killed by the lab's commands, it
//! runs the VRRP instances of its configuration (`vrrp.rs`) and performs what they decide
//! (adverts: `adverts.rs`; VIPs and gratuitous ARP: `vips.rs`; groups and the sync daemon:
//! `groups.rs`), with the process-level facts §9 measured: IP IDs from 1 per process, VIPs
//! left on the interface by SIGKILL and removed by the next start.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::checkers::{CheckRecord, CheckTimer, Checkers};
use super::config::{self, Config};
use super::scripts::ScriptRun;
use super::vrrp::{Action, Instance, TrackedScript, VrrpState};
use crate::scenario::KeepalivedText;
use crate::sim::SimTime;
use crate::stack::ctx::Ctx;
use crate::stack::host::{Host, HostEvent};
use crate::stack::iface::IfIndex;

/// A keepalived timer; `run` names the daemon process it belongs to, so timers of a
/// stopped or killed daemon are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub run: u64,
    pub kind: TimerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// A VRRP instance's state timer, armed for this deadline.
    State { instance: usize, at: SimTime },
    /// A GARP burst of `repeat`, due while the mastership that began at `term` lasts.
    Garp {
        instance: usize,
        term: SimTime,
        repeat: u32,
    },
    /// `garp_master_refresh`: a burst, then the next one after `every_us`.
    Refresh {
        instance: usize,
        term: SimTime,
        every_us: u64,
        repeat: u32,
    },
    /// A health checker's timer.
    Check(CheckTimer),
    /// A vrrp_script's next run.
    Script { script: usize },
    /// A vrrp_script run that may have outlived its timeout.
    ScriptTimeout { script: usize, attempt: u64 },
}

/// One state change, as the JSON report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub t: SimTime,
    pub from: VrrpState,
    pub to: VrrpState,
    pub reason: String,
}

/// An instance's life over the whole run (it outlives daemon restarts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub state: VrrpState,
    pub priority: u8,
    pub transitions: Vec<Transition>,
}

/// A running daemon process.
pub(super) struct Daemon {
    pub(super) run: u64,
    pub(super) pid: u32,
    pub(super) instances: Vec<Instance>,
    /// The IP ID of the next advert: from 1 for the life of the process (§9).
    pub(super) next_ip_id: u16,
    /// Per instance, the deadline its pending state-timer event was scheduled for.
    pub(super) armed: Vec<Option<SimTime>>,
    /// `lvs_sync_daemon`: the IPVS sync daemon follows this instance's state.
    pub(super) lvs_sync: Option<config::SyncDaemon>,
    /// The vrrp_scripts some instance tracks.
    pub(super) scripts: Vec<ScriptRun>,
    /// Where adverts go (`vrrp_mcast_group4`, 224.0.0.18 by default).
    pub(super) mcast_group: Ipv4Addr,
    /// `vrrp_sync_group`s: members move together; the state each group last announced.
    pub(super) sync_groups: Vec<(config::SyncGroup, VrrpState)>,
    pub(super) checkers: Checkers,
}

/// keepalived on one host: the configuration file and, while it runs, the daemon.
#[derive(Default)]
pub struct Keepalived {
    /// /etc/keepalived/keepalived.conf (the host's `keepalived` text).
    pub conf: Option<KeepalivedText>,
    pub(super) daemon: Option<Daemon>,
    runs: u64,
    /// Every instance that ever ran, by name.
    pub records: BTreeMap<String, InstanceRecord>,
    /// Every health-check verdict that changed something, in order.
    pub check_records: Vec<CheckRecord>,
}

impl Keepalived {
    pub fn is_running(&self) -> bool {
        self.daemon.is_some()
    }

    /// The running instances (for listings and the TUI).
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.daemon.iter().flat_map(|d| d.instances.iter())
    }

    /// The running process's id (0 when not running).
    pub fn pid(&self) -> u32 {
        self.daemon.as_ref().map_or(0, |d| d.pid)
    }

    pub(crate) fn checkers(&self) -> Option<&Checkers> {
        self.daemon.as_ref().map(|d| &d.checkers)
    }

    pub(crate) fn checkers_mut(&mut self) -> Option<&mut Checkers> {
        self.daemon.as_mut().map(|d| &mut d.checkers)
    }

    /// The group the running daemon's adverts go to (and its sockets joined).
    pub fn mcast_group(&self) -> Ipv4Addr {
        self.daemon
            .as_ref()
            .map_or(crate::wire::vrrp::MCAST_GROUP, |d| d.mcast_group)
    }

    /// Which daemon process is running (bumped by every start).
    pub(crate) fn run_id(&self) -> u64 {
        self.runs
    }

    pub(crate) fn scripts(&self) -> &[ScriptRun] {
        self.daemon.as_ref().map_or(&[], |d| &d.scripts)
    }

    pub(crate) fn scripts_mut(&mut self) -> &mut [ScriptRun] {
        self.daemon.as_mut().map_or(&mut [], |d| &mut d.scripts)
    }

    pub(crate) fn arm(&self, ctx: &mut Ctx, delay_us: u64, kind: TimerKind) {
        let run = self.runs;
        ctx.after(delay_us * 1_000, HostEvent::Keepalived(Timer { run, kind }));
    }

    pub(crate) fn arm_checker(&self, ctx: &mut Ctx, delay_us: u64, timer: CheckTimer) {
        self.arm(ctx, delay_us, TimerKind::Check(timer));
    }
}

/// The VRRP child's log prefix (the child is the daemon's pid + 1).
pub(super) fn log_prefix(pid: u32) -> String {
    format!("Keepalived_vrrp[{}]:", pid + 1)
}

impl Host {
    /// `systemctl start keepalived` with the parsed configuration: a fresh process removes
    /// VIPs a previous process left behind and starts every instance in BACKUP.
    pub fn keepalived_start(&mut self, ctx: &mut Ctx, config: Config) {
        if self.keepalived.is_running() {
            return;
        }
        self.keepalived.runs += 1;
        let pid = self.next_pid;
        self.next_pid += 3;
        let daemon = self.new_daemon(config, pid);
        self.keepalived.daemon = Some(daemon);
        ctx.output(format!("Keepalived[{pid}]: Starting Keepalived v2.2.7"));
        self.vrrp_memberships(ctx, true);
        for index in 0..self.vrrp_count() {
            self.remove_vips(ctx, index);
            let actions = self.with_instance(index, |i| i.start(ctx.now));
            self.perform(ctx, index, actions);
        }
        self.checkers_start(ctx);
        self.scripts_start(ctx);
    }

    fn new_daemon(&mut self, config: Config, pid: u32) -> Daemon {
        let global = &config.global;
        let scripts: Vec<ScriptRun> = config
            .scripts
            .iter()
            .filter(|s| {
                config
                    .instances
                    .iter()
                    .any(|i| i.track_scripts.iter().any(|t| t.name == s.name))
            })
            .map(|s| ScriptRun::new(s.clone()))
            .collect();
        let instances: Vec<Instance> = config
            .instances
            .iter()
            .map(|conf| super::groups::grouped_tracks_unweighted(conf, &config.sync_groups))
            .map(|conf| {
                let scripts_tracked = tracked_scripts(&conf, &scripts);
                let mut instance = Instance::new(
                    conf.clone(),
                    conf.garp,
                    global.down_timer_adverts,
                    global.lower_prio_no_advert,
                );
                instance.down_interfaces = self.down_interfaces();
                instance.scripts = scripts_tracked;
                instance.failed_scripts = scripts
                    .iter()
                    .filter(|s| !s.good)
                    .map(|s| s.conf.name.clone())
                    .collect();
                instance
            })
            .collect();
        Daemon {
            run: self.keepalived.runs,
            pid,
            armed: vec![None; instances.len()],
            instances,
            next_ip_id: 1,
            lvs_sync: config.global.lvs_sync_daemon.clone(),
            scripts,
            mcast_group: global.mcast_group4,
            sync_groups: config
                .sync_groups
                .iter()
                .map(|g| (g.clone(), VrrpState::Init))
                .collect(),
            checkers: Checkers::new(config.virtual_servers, config.server_groups),
        }
    }

    /// A tracked script became good or bad: every instance tracking it reacts.
    pub(crate) fn keepalived_script_changed(&mut self, ctx: &mut Ctx, script: &str, good: bool) {
        for index in 0..self.vrrp_count() {
            let actions = self.with_instance(index, |i| i.on_script(ctx.now, script, good));
            self.perform(ctx, index, actions);
        }
    }

    fn down_interfaces(&self) -> Vec<String> {
        self.ifaces
            .iter()
            .filter(|i| !i.admin_up)
            .map(|i| i.name.to_string())
            .collect()
    }

    pub(super) fn vrrp_count(&self) -> usize {
        self.keepalived
            .daemon
            .as_ref()
            .map_or(0, |d| d.instances.len())
    }

    pub(super) fn with_instance<R>(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut Instance) -> R,
    ) -> R {
        let daemon = self.keepalived.daemon.as_mut().expect("daemon running");
        f(&mut daemon.instances[index])
    }

    /// `systemctl stop keepalived` (SIGTERM): masters send a priority-0 advert and remove
    /// their VIPs, then the process ends.
    pub fn keepalived_stop(&mut self, ctx: &mut Ctx) {
        for index in 0..self.vrrp_count() {
            let actions = self.with_instance(index, |i| i.stop());
            self.perform(ctx, index, actions);
        }
        if self.keepalived.is_running() {
            self.checkers_stop(ctx);
            self.vrrp_memberships(ctx, false);
        }
        if let Some(d) = self.keepalived.daemon.take() {
            ctx.output(format!("Keepalived[{}]: Stopped Keepalived v2.2.7", d.pid));
        }
    }

    /// The VRRP sockets join the advert group on each interface an instance advertises on
    /// by multicast, and leave it when the process ends (the kernel closes them even after
    /// SIGKILL): IGMPv3 reports (§9).
    fn vrrp_memberships(&mut self, ctx: &mut Ctx, join: bool) {
        let group = self.keepalived.mcast_group();
        let mut devices: Vec<IfIndex> = self
            .keepalived
            .instances()
            .filter(|i| i.conf.unicast_peers.is_empty())
            .filter_map(|i| self.iface_index(&i.conf.interface))
            .collect();
        devices.sort_unstable();
        devices.dedup();
        for dev in devices {
            self.igmp_change(ctx, dev, group, join);
        }
    }

    /// SIGHUP (`systemctl reload keepalived`): the configuration is read again. Instances
    /// that keep their name keep their state and take the new settings, new ones start in
    /// BACKUP, removed ones stop; the checkers restart from the new configuration.
    pub fn keepalived_reload(&mut self, ctx: &mut Ctx, config: Config) {
        let names: Vec<&str> = config.instances.iter().map(|i| i.name.as_str()).collect();
        for index in 0..self.vrrp_count() {
            let gone = self.with_instance(index, |i| !names.contains(&i.conf.name.as_str()));
            if gone {
                let actions = self.with_instance(index, |i| i.stop());
                self.perform(ctx, index, actions);
            }
        }
        let down = self.down_interfaces();
        let global = config.global.clone();
        let daemon = self
            .keepalived
            .daemon
            .as_mut()
            .expect("reload needs a running daemon");
        let old = std::mem::take(&mut daemon.instances);
        let mut fresh = Vec::new();
        for conf in &config.instances {
            let instance = match old.iter().find(|i| i.conf.name == conf.name) {
                Some(kept) => kept.reconfigured(conf.clone()),
                None => {
                    fresh.push(daemon.instances.len());
                    let mut i = Instance::new(
                        conf.clone(),
                        conf.garp,
                        global.down_timer_adverts,
                        global.lower_prio_no_advert,
                    );
                    i.down_interfaces = down.clone();
                    i
                }
            };
            daemon.instances.push(instance);
        }
        let next = daemon
            .checkers
            .reloaded(config.virtual_servers, config.server_groups);
        daemon.armed = vec![None; daemon.instances.len()];
        for index in 0..self.vrrp_count() {
            self.sync_state_timer(ctx, index);
        }
        for index in fresh {
            let actions = self.with_instance(index, |i| i.start(ctx.now));
            self.perform(ctx, index, actions);
        }
        self.checkers_reload(ctx, next);
    }

    /// SIGKILL (or a power cut): the process vanishes, sending nothing; its VIPs stay on
    /// the interfaces (§9 split brain).
    pub fn keepalived_kill(&mut self, ctx: &mut Ctx, reason: &str) {
        if !self.powered_off && self.keepalived.is_running() {
            self.vrrp_memberships(ctx, false);
        }
        let Some(daemon) = self.keepalived.daemon.take() else {
            return;
        };
        for instance in &daemon.instances {
            let vips: Vec<String> = instance
                .conf
                .vips
                .iter()
                .filter(|v| self.has_vip(instance, v))
                .map(|v| v.addr.to_string())
                .collect();
            let left = if vips.is_empty() {
                String::new()
            } else {
                format!("; {} stays on the interface", vips.join(", "))
            };
            self.record(
                ctx,
                &instance.conf.name,
                (instance.state, VrrpState::Stop),
                format!("{reason}: no priority-0 advert{left}"),
                instance.effective_priority,
            );
        }
    }

    /// Netlink tells the daemon a link changed.
    pub(crate) fn keepalived_link_change(&mut self, ctx: &mut Ctx, dev: IfIndex, up: bool) {
        let name = self.ifaces[dev].name.to_string();
        for index in 0..self.vrrp_count() {
            let actions = self.with_instance(index, |i| i.on_interface(ctx.now, &name, up));
            self.perform(ctx, index, actions);
        }
    }

    /// A keepalived timer fired.
    pub(crate) fn keepalived_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let Some(daemon) = &self.keepalived.daemon else {
            return;
        };
        if daemon.run != timer.run {
            return;
        }
        let current =
            |instance: usize, term: SimTime| daemon.instances[instance].master_since == Some(term);
        match timer.kind {
            TimerKind::State { instance, at }
                if daemon.instances[instance].deadline == Some(at) =>
            {
                let actions = self.with_instance(instance, |i| i.on_timer(ctx.now));
                self.perform(ctx, instance, actions);
            }
            TimerKind::Garp {
                instance,
                term,
                repeat,
            } if current(instance, term) => self.send_garps(ctx, instance, repeat),
            TimerKind::Refresh {
                instance,
                term,
                every_us,
                repeat,
            } if current(instance, term) => {
                self.send_garps(ctx, instance, repeat);
                self.keepalived.arm(ctx, every_us, timer.kind);
            }
            TimerKind::Check(check) => self.checker_timer(ctx, check),
            TimerKind::Script { .. } | TimerKind::ScriptTimeout { .. } => {
                self.script_timer(ctx, timer.kind)
            }
            _ => {}
        }
    }

    /// Carries out what an instance decided, then keeps its timer event in step.
    pub(super) fn perform(&mut self, ctx: &mut Ctx, index: usize, actions: Vec<Action>) {
        for action in actions {
            self.perform_one(ctx, index, action);
        }
        self.sync_state_timer(ctx, index);
    }

    /// Schedules an event for the instance's deadline unless one is already pending for it.
    fn sync_state_timer(&mut self, ctx: &mut Ctx, instance: usize) {
        let Some(daemon) = self.keepalived.daemon.as_mut() else {
            return;
        };
        let deadline = daemon.instances[instance].deadline;
        if deadline == daemon.armed[instance] {
            return;
        }
        daemon.armed[instance] = deadline;
        if let Some(at) = deadline {
            let run = daemon.run;
            let kind = TimerKind::State { instance, at };
            ctx.at(at, HostEvent::Keepalived(Timer { run, kind }));
        }
    }

    fn perform_one(&mut self, ctx: &mut Ctx, index: usize, action: Action) {
        let pid = self.keepalived.daemon.as_ref().map_or(0, |d| d.pid);
        match action {
            Action::SendAdvert { priority } => self.send_advert(ctx, index, priority),
            Action::AddVips => self.add_vips(ctx, index),
            Action::RemoveVips => self.remove_vips(ctx, index),
            Action::Garp { repeat } => self.send_garps(ctx, index, repeat),
            Action::LaterGarp { delay_us, repeat } => {
                if let Some(term) = self.term(index) {
                    let kind = TimerKind::Garp {
                        instance: index,
                        term,
                        repeat,
                    };
                    self.keepalived.arm(ctx, delay_us, kind);
                }
            }
            Action::RefreshGarp { every_us, repeat } => {
                if let Some(term) = self.term(index) {
                    let kind = TimerKind::Refresh {
                        instance: index,
                        term,
                        every_us,
                        repeat,
                    };
                    self.keepalived.arm(ctx, every_us, kind);
                }
            }
            Action::Transition { from, to, reason } => {
                self.transition(ctx, index, from, to, reason)
            }
            Action::Log(line) => ctx.output(format!("{} {line}", log_prefix(pid))),
        }
    }

    fn term(&self, index: usize) -> Option<SimTime> {
        self.keepalived.daemon.as_ref()?.instances[index].master_since
    }

    fn transition(
        &mut self,
        ctx: &mut Ctx,
        index: usize,
        from: VrrpState,
        to: VrrpState,
        reason: String,
    ) {
        let (name, priority, notify) = self.with_instance(index, |i| {
            (
                i.conf.name.clone(),
                i.effective_priority,
                i.conf.notify.clone(),
            )
        });
        self.record(ctx, &name, (from, to), reason, priority);
        self.follow_sync_daemon(ctx, index, to);
        self.move_sync_group(ctx, &name, to);
        let script = match to {
            VrrpState::Master => notify.master,
            VrrpState::Backup => notify.backup,
            VrrpState::Fault => notify.fault,
            VrrpState::Stop => notify.stop,
            VrrpState::Init => None,
        };
        let pid = self.keepalived.daemon.as_ref().map_or(0, |d| d.pid);
        if let Some(script) = script {
            ctx.output(format!(
                "{} ({name}) runs notify script: {script}",
                log_prefix(pid)
            ));
        }
        if let Some(script) = notify.any {
            ctx.output(format!(
                "{} ({name}) runs notify script: {script} INSTANCE {name} {} {priority}",
                log_prefix(pid),
                to.name()
            ));
        }
    }

    /// Keeps a transition for the report and explains it in the timeline.
    fn record(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        (from, to): (VrrpState, VrrpState),
        reason: String,
        priority: u8,
    ) {
        crate::explain!(
            ctx,
            "{}: keepalived ({name}) {} → {}: {reason}",
            self.name,
            from.name(),
            to.name()
        );
        let t = ctx.now;
        let record = self
            .keepalived
            .records
            .entry(name.to_owned())
            .or_insert(InstanceRecord {
                state: VrrpState::Init,
                priority,
                transitions: Vec::new(),
            });
        record.state = to;
        record.priority = priority;
        record.transitions.push(Transition {
            t,
            from,
            to,
            reason,
        });
    }
}

/// The scripts an instance tracks, with `track_script`'s weight over the script's own.
fn tracked_scripts(conf: &config::VrrpInstance, scripts: &[ScriptRun]) -> Vec<TrackedScript> {
    conf.track_scripts
        .iter()
        .filter_map(|t| {
            let script = scripts.iter().find(|s| s.conf.name == t.name)?;
            Some(TrackedScript {
                name: t.name.clone(),
                weight: t.weight.unwrap_or(script.conf.weight),
                reverse: script.conf.reverse,
            })
        })
        .collect()
}
