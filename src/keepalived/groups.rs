//! Instances that move together (`vrrp_sync_group`) and the IPVS sync daemon that follows
//! an instance (`lvs_sync_daemon`).

use super::config;
use super::daemon::log_prefix;
use super::vrrp::VrrpState;
use crate::lvs::ipvsadm::command::{Command, DaemonConfig, DaemonState};
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

impl Host {
    /// vrrp_sync_group: the other members follow an instance's move, except that none is
    /// pulled to MASTER while a member is in FAULT.
    pub(super) fn move_sync_group(&mut self, ctx: &mut Ctx, name: &str, to: VrrpState) {
        let Some(daemon) = self.keepalived.daemon.as_ref() else {
            return;
        };
        let Some(position) = daemon
            .sync_groups
            .iter()
            .position(|(g, _)| g.members.iter().any(|m| m == name))
        else {
            return;
        };
        let (group, announced) = daemon.sync_groups[position].clone();
        let members: Vec<usize> = (0..daemon.instances.len())
            .filter(|&i| group.members.contains(&daemon.instances[i].conf.name))
            .collect();
        let faulty = members
            .iter()
            .any(|&i| daemon.instances[i].state == VrrpState::Fault);
        if to == VrrpState::Master && faulty {
            return;
        }
        if announced != to {
            if let Some(d) = self.keepalived.daemon.as_mut() {
                d.sync_groups[position].1 = to;
            }
            self.group_notify(ctx, &group, to);
        }
        for index in members {
            let why = format!("sync group {}: {name} became {}", group.name, to.name());
            let actions = self.with_instance(index, |i| i.follow_group(ctx.now, to, why));
            self.perform(ctx, index, actions);
        }
    }

    /// A sync group's own notify scripts, recorded in the timeline.
    pub(super) fn group_notify(&self, ctx: &mut Ctx, group: &config::SyncGroup, to: VrrpState) {
        let script = match to {
            VrrpState::Master => group.notify.master.as_ref(),
            VrrpState::Backup => group.notify.backup.as_ref(),
            VrrpState::Fault => group.notify.fault.as_ref(),
            _ => None,
        };
        let pid = self.keepalived.pid();
        if let Some(script) = script {
            ctx.output(format!(
                "{} ({}) runs notify script: {script}",
                log_prefix(pid),
                group.name
            ));
        }
    }

    /// `lvs_sync_daemon`: the instance it names runs the IPVS sync daemon as master while
    /// MASTER and as backup otherwise (keepalived's `ipvs_syncd_master`/`_backup`); a stop
    /// ends both.
    pub(super) fn follow_sync_daemon(&mut self, ctx: &mut Ctx, index: usize, to: VrrpState) {
        let Some(daemon) = self.keepalived.daemon.as_ref() else {
            return;
        };
        let instance = &daemon.instances[index].conf;
        let Some(sync) = daemon
            .lvs_sync
            .as_ref()
            .filter(|s| s.instance == instance.name)
        else {
            return;
        };
        let syncid = if sync.sync_id == 0 {
            instance.vrid
        } else {
            sync.sync_id
        };
        let wanted = match to {
            VrrpState::Master => Some(DaemonState::Master),
            VrrpState::Backup | VrrpState::Fault => Some(DaemonState::Backup),
            VrrpState::Init | VrrpState::Stop => None,
        };
        let config = |state| DaemonConfig {
            state,
            mcast_ifn: sync.interface.clone(),
            syncid,
            group: None,
            port: None,
            ttl: None,
            maxlen: None,
        };
        let mut commands = Vec::new();
        for state in [DaemonState::Master, DaemonState::Backup] {
            let running = self.ipvs.sync.is_running(state);
            let name = state.name();
            if running && wanted != Some(state) {
                let what = format!("Stopping IPVS sync daemon in {name} state");
                commands.push((Command::StopDaemon { state }, what));
            }
            if !running && wanted == Some(state) {
                let what = format!("Starting IPVS sync daemon in {name} state (syncid {syncid})");
                commands.push((Command::StartDaemon(config(state)), what));
            }
        }
        for (command, what) in commands {
            ctx.output(format!("Keepalived[{}]: {what}", self.keepalived.pid()));
            let _ = self.ipvs_execute(ctx, "keepalived", &command);
        }
    }
}

/// In a vrrp_sync_group, tracking only faults a member: its track weights count as 0.
pub(super) fn grouped_tracks_unweighted(
    conf: &config::VrrpInstance,
    groups: &[config::SyncGroup],
) -> config::VrrpInstance {
    let mut conf = conf.clone();
    if groups.iter().any(|g| g.members.contains(&conf.name)) {
        for track in conf
            .track_interfaces
            .iter_mut()
            .chain(conf.track_scripts.iter_mut())
        {
            track.weight = Some(0);
        }
    }
    conf
}
