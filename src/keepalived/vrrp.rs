//! One VRRP instance's state machine as keepalived 2.2.7 runs it (`vrrp.c`,
//! `vrrp_scheduler.c`; `reference/keepalived.md` §7 and the §9 measurements).
//!
//! Pure, like `stack::neigh`: the instance changes its state and deadline and returns what
//! must happen (send an advert, add or remove the VIPs, GARP bursts, a transition to record).
//! The daemon performs the actions and keeps the timer event in step with `deadline`.

use std::net::Ipv4Addr;

use super::config::{Garp, VrrpInstance, WantedState};
use crate::sim::SimTime;
use crate::wire::vrrp::{Advert, AdvertAuth, TTL};

/// Instance states with keepalived's names (the JSON report and the logs use them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpState {
    Init,
    Backup,
    Master,
    Fault,
    Stop,
}

impl VrrpState {
    pub fn name(self) -> &'static str {
        match self {
            VrrpState::Init => "INIT",
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
        }
    }
}

/// Something the daemon must do for the instance, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority (0 = "I am leaving").
    SendAdvert {
        priority: u8,
    },
    AddVips,
    RemoveVips,
    /// `repeat` gratuitous ARPs per VIP, now.
    Garp {
        repeat: u32,
    },
    /// Another burst of `repeat` GARPs after `delay_us`, if the instance is still MASTER.
    LaterGarp {
        delay_us: u64,
        repeat: u32,
    },
    /// Periodic GARPs every `every_us` while MASTER (`garp_master_refresh`).
    RefreshGarp {
        every_us: u64,
        repeat: u32,
    },
    /// The state changed (recorded in the report, logged, notify scripts run).
    Transition {
        from: VrrpState,
        to: VrrpState,
        reason: String,
    },
    /// A line keepalived would log.
    Log(String),
}

/// A vrrp_script an instance tracks: `track_script { NAME [weight W] }` over the script's
/// own `weight W [reverse]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedScript {
    pub name: String,
    pub weight: i32,
    /// The weight applies the other way round (`weight W reverse`).
    pub reverse: bool,
}

/// A running instance.
#[derive(Debug, Clone)]
pub struct Instance {
    pub conf: VrrpInstance,
    pub garp: Garp,
    pub down_timer_adverts: u32,
    pub lower_prio_no_advert: bool,
    pub state: VrrpState,
    /// The priority adverts carry: the base one adjusted by tracked interfaces.
    pub effective_priority: u8,
    /// The current master's advert interval (v3 backups adopt the master's).
    pub master_adver_int_us: u64,
    /// When the state's timer fires: master-down (BACKUP) or the next advert (MASTER).
    pub deadline: Option<SimTime>,
    /// `preempt_delay`: lower-priority adverts still reset the timer until this instant.
    pub preempt_until: Option<SimTime>,
    /// Interfaces (tracked, own one included) that are down.
    pub down_interfaces: Vec<String>,
    /// The vrrp_scripts the instance tracks, with their effective weights.
    pub scripts: Vec<TrackedScript>,
    /// Tracked scripts currently in their bad state.
    pub failed_scripts: Vec<String>,
    /// When the current mastership began (GARP timers of an older one are stale).
    pub master_since: Option<SimTime>,
    /// A BACKUP's timer shortened by a priority-0 advert: who left (the takeover's cause).
    pub leaving_master: Option<Ipv4Addr>,
}

fn secs(us: u64) -> String {
    let s = format!("{:.6}", us as f64 / 1e6);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Instance {
    pub fn new(
        conf: VrrpInstance,
        garp: Garp,
        down_timer_adverts: u32,
        lower_prio_no_advert: bool,
    ) -> Instance {
        Instance {
            effective_priority: conf.priority,
            master_adver_int_us: conf.advert_int_us,
            garp,
            down_timer_adverts,
            lower_prio_no_advert,
            state: VrrpState::Init,
            deadline: None,
            preempt_until: None,
            down_interfaces: Vec::new(),
            scripts: Vec::new(),
            failed_scripts: Vec::new(),
            master_since: None,
            leaving_master: None,
            conf,
        }
    }

    /// The same instance after a reload: its state, timers and tracked interfaces stay,
    /// its settings (priority, VIPs, timers' lengths from now on) are the new ones.
    pub fn reconfigured(&self, conf: VrrpInstance) -> Instance {
        let mut next = self.clone();
        next.garp = conf.garp;
        next.conf = conf;
        next.effective_priority = next.conf.priority;
        next.recompute_priority();
        next
    }

    fn log(&self, text: impl AsRef<str>) -> Action {
        Action::Log(format!("({}) {}", self.conf.name, text.as_ref()))
    }

    /// `VRRP_TIMER_SKEW`: (256 − priority) × Master_Adver_Interval / 256, in µs, for v2 and
    /// v3 alike (keepalived does not round v3's to centiseconds: §9).
    pub fn skew_us(&self) -> u64 {
        (256 - self.effective_priority as u64) * self.master_adver_int_us / 256
    }

    /// `VRRP_MS_DOWN_TIMER`: down_timer_adverts × Master_Adver_Interval + skew.
    pub fn master_down_us(&self) -> u64 {
        self.down_timer_adverts as u64 * self.master_adver_int_us + self.skew_us()
    }

    fn transition(&mut self, to: VrrpState, reason: String) -> Action {
        let from = self.state;
        self.state = to;
        if to != VrrpState::Master {
            self.master_since = None;
        }
        Action::Transition { from, to, reason }
    }

    /// The daemon starts (`vrrp_init_state`): BACKUP with a full master-down timer, FAULT if
    /// a tracked interface is down, MASTER at once only for the address owner (priority 255
    /// with `state MASTER`).
    pub fn start(&mut self, now: SimTime) -> Vec<Action> {
        self.state = VrrpState::Init;
        self.recompute_priority();
        self.preempt_until = None;
        self.master_adver_int_us = self.conf.advert_int_us;
        if self.is_faulty() {
            self.deadline = None;
            let why = self.fault_reason();
            return vec![
                self.log(format!("Entering FAULT STATE (init): {why}")),
                self.transition(VrrpState::Fault, format!("started with {why}")),
            ];
        }
        if self.conf.priority == 255 && self.conf.wanted == WantedState::Master {
            self.deadline = Some(now + 1_000);
            return vec![
                self.log("Entering BACKUP STATE (init)"),
                self.transition(
                    VrrpState::Backup,
                    "keepalived started; priority 255: address owner, master in 1 µs".into(),
                ),
            ];
        }
        let down = self.master_down_us();
        self.deadline = Some(now + down * 1_000);
        vec![
            self.log("Entering BACKUP STATE (init)"),
            self.transition(
                VrrpState::Backup,
                format!(
                    "keepalived started: every instance starts as BACKUP and waits Master_Down_Interval {} s (3 × {} s + skew {} s)",
                    secs(down),
                    secs(self.master_adver_int_us),
                    secs(self.skew_us())
                ),
            ),
        ]
    }

    /// The instance's timer fired: a BACKUP heard no advert for Master_Down_Interval and
    /// takes over; a MASTER sends its periodic advert.
    pub fn on_timer(&mut self, now: SimTime) -> Vec<Action> {
        self.deadline = None;
        match self.state {
            VrrpState::Backup => {
                let why = match self.leaving_master.take() {
                    Some(master) => format!(
                        "{master} left with a priority-0 advert; skew time {} s over",
                        secs(self.skew_us())
                    ),
                    None => format!(
                        "no advert for Master_Down_Interval {} s: master-down timer expired",
                        secs(self.master_down_us())
                    ),
                };
                self.become_master(now, why)
            }
            VrrpState::Master => {
                self.deadline = Some(now + self.conf.advert_int_us * 1_000);
                vec![Action::SendAdvert {
                    priority: self.effective_priority,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// `vrrp_state_goto_master` + `vrrp_state_become_master`: advert, VIPs, GARP bursts.
    fn become_master(&mut self, now: SimTime, reason: String) -> Vec<Action> {
        self.deadline = Some(now + self.conf.advert_int_us * 1_000);
        self.preempt_until = None;
        self.master_since = Some(now);
        self.master_adver_int_us = self.conf.advert_int_us;
        let mut actions = vec![
            self.log("Entering MASTER STATE"),
            Action::SendAdvert {
                priority: self.effective_priority,
            },
            Action::AddVips,
            Action::Garp {
                repeat: self.garp.master_repeat,
            },
        ];
        if self.garp.master_delay_us > 0 {
            actions.push(Action::LaterGarp {
                delay_us: self.garp.master_delay_us,
                repeat: self.garp.master_repeat,
            });
        }
        if self.garp.master_refresh_us > 0 {
            actions.push(Action::RefreshGarp {
                every_us: self.garp.master_refresh_us,
                repeat: self.garp.master_refresh_repeat,
            });
        }
        actions.push(self.transition(VrrpState::Master, reason));
        actions
    }

    /// `vrrp_check_packet`: whether an advert that reached this instance is valid for it.
    pub fn check_advert(&self, ttl: u8, advert: &Advert) -> Result<(), String> {
        if ttl != TTL {
            return Err(format!(
                "invalid TTL {ttl} (a VRRP advert must arrive with 255)"
            ));
        }
        if advert.version != self.conf.version {
            return Err(format!(
                "wrong VRRP version {} (ours is {})",
                advert.version, self.conf.version
            ));
        }
        if advert.version == 2 {
            self.check_v2_fields(advert)?;
        }
        if advert.addrs != self.advert(0).addrs {
            return Err(format!(
                "ip address associated with VRID {} not present in MASTER advert",
                self.conf.vrid
            ));
        }
        Ok(())
    }

    /// The advert this instance sends with `priority` (the receive checks compare with it):
    /// the interval in whole seconds (v2) or centiseconds (v3), authentication for v2 only.
    pub fn advert(&self, priority: u8) -> Advert {
        let conf = &self.conf;
        let v2 = conf.version == 2;
        let auth = match conf.auth {
            Some(super::config::Auth::Pass(p)) if v2 => AdvertAuth::Pass(p),
            Some(super::config::Auth::Ah(p)) if v2 => AdvertAuth::Ah(p),
            _ => AdvertAuth::None,
        };
        let unit = if v2 { 1_000_000 } else { 10_000 };
        Advert {
            version: conf.version,
            vrid: conf.vrid,
            priority,
            interval: (conf.advert_int_us / unit) as u16,
            addrs: conf.vips.iter().map(|v| v.addr).collect(),
            auth,
        }
    }

    fn check_v2_fields(&self, advert: &Advert) -> Result<(), String> {
        let ours = self.advert(0);
        if std::mem::discriminant(&ours.auth) != std::mem::discriminant(&advert.auth) {
            return Err("received an advert with a different authentication type".into());
        }
        if ours.auth != advert.auth {
            return Err("received an invalid passwd".into());
        }
        let mine = ours.interval;
        if advert.interval != mine {
            return Err(format!(
                "advertisement interval mismatch mine={mine} rcv={}",
                advert.interval
            ));
        }
        Ok(())
    }

    /// A valid advert from `src` (the sender's primary address); `own` is the address this
    /// instance sends from (the tie-breaker between masters of equal priority).
    pub fn on_advert(
        &mut self,
        now: SimTime,
        src: Ipv4Addr,
        own: Ipv4Addr,
        advert: &Advert,
    ) -> Vec<Action> {
        match self.state {
            VrrpState::Backup => self.backup_receives(now, src, advert),
            VrrpState::Master => self.master_receives(now, src, own, advert),
            _ => Vec::new(),
        }
    }

    /// `vrrp_state_backup`.
    fn backup_receives(&mut self, now: SimTime, src: Ipv4Addr, advert: &Advert) -> Vec<Action> {
        self.leaving_master = None;
        if advert.priority == 0 {
            self.deadline = Some(now + self.skew_us() * 1_000);
            self.leaving_master = Some(src);
            return vec![self.log(format!(
                "Backup received priority 0 advertisement from {src}: taking over after the skew time {} s",
                secs(self.skew_us())
            ))];
        }
        let delaying =
            self.conf.preempt_delay_us > 0 && self.preempt_until.is_none_or(|until| until > now);
        if self.conf.nopreempt || advert.priority >= self.effective_priority || delaying {
            if self.conf.version == 3 {
                self.master_adver_int_us = advert.interval_us();
            }
            if self.conf.preempt_delay_us > 0 {
                if advert.priority > self.effective_priority {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + self.conf.preempt_delay_us * 1_000);
                }
            }
            self.deadline = Some(now + self.master_down_us() * 1_000);
            return Vec::new();
        }
        vec![self.log(format!(
            "received lower priority ({}) advert from {src} - discarding",
            advert.priority
        ))]
    }

    /// `vrrp_state_master_rx`.
    fn master_receives(
        &mut self,
        now: SimTime,
        src: Ipv4Addr,
        own: Ipv4Addr,
        advert: &Advert,
    ) -> Vec<Action> {
        let ours = self.effective_priority;
        if advert.priority == 0 {
            self.deadline = Some(now + self.conf.advert_int_us * 1_000);
            return vec![
                self.log(format!(
                    "Master received priority 0 advert from {src}: sending an advert now"
                )),
                Action::SendAdvert { priority: ours },
            ];
        }
        let lower = advert.priority < ours || (advert.priority == ours && src < own);
        if lower {
            return self.answer_lower_priority(now, src, advert.priority);
        }
        if self.conf.version == 3 {
            self.master_adver_int_us = advert.interval_us();
        }
        self.deadline = Some(now + self.master_down_us() * 1_000);
        let why = if advert.priority > ours {
            format!(
                "higher priority advert from {src} ({} > {ours})",
                advert.priority
            )
        } else {
            format!("advert from {src} with equal priority {ours} and a higher address than {own}")
        };
        vec![
            self.log(format!("Master received {why}")),
            Action::RemoveVips,
            self.transition(VrrpState::Backup, why),
        ]
    }

    /// A MASTER hears a lower-priority master: it re-asserts itself with an advert (its
    /// advert timer restarts from it) and a GARP burst, and another burst later.
    fn answer_lower_priority(&mut self, now: SimTime, src: Ipv4Addr, theirs: u8) -> Vec<Action> {
        let mut actions = vec![self.log(format!(
            "Received advert from {src} with lower priority {theirs}, ours {}, forcing new election",
            self.effective_priority
        ))];
        if !self.lower_prio_no_advert {
            self.deadline = Some(now + self.conf.advert_int_us * 1_000);
            actions.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
        }
        actions.push(Action::Garp {
            repeat: self.garp.lower_prio_repeat,
        });
        if self.garp.lower_prio_delay_us > 0 {
            actions.push(Action::LaterGarp {
                delay_us: self.garp.lower_prio_delay_us,
                repeat: self.garp.lower_prio_repeat,
            });
        }
        actions
    }

    /// The interfaces the instance tracks with their weights: its own (weight 0: down means
    /// FAULT) unless `dont_track_primary`, then `track_interface`.
    fn tracked_interfaces(&self) -> impl Iterator<Item = (&str, i32)> {
        let own = (!self.conf.dont_track_primary).then_some((self.conf.interface.as_str(), 0));
        let listed = self
            .conf
            .track_interfaces
            .iter()
            .map(|t| (t.name.as_str(), t.weight.unwrap_or(0)));
        own.into_iter().chain(listed)
    }

    fn tracked_weight(&self, iface: &str) -> Option<i32> {
        self.tracked_interfaces()
            .find(|(name, _)| *name == iface)
            .map(|(_, weight)| weight)
    }

    /// Every tracked object with its weight and whether it is failing now.
    fn tracked(&self) -> Vec<(String, i32, bool)> {
        let interfaces = self.tracked_interfaces().map(|(name, weight)| {
            let down = self.down_interfaces.iter().any(|d| d == name);
            (format!("interface {name}"), weight, down)
        });
        let scripts = self.scripts.iter().map(|t| {
            let failing = self.failed_scripts.contains(&t.name) != t.reverse;
            (format!("script {}", t.name), t.weight, failing)
        });
        interfaces.chain(scripts).collect()
    }

    fn faults(&self) -> Vec<String> {
        self.tracked()
            .into_iter()
            .filter(|(_, weight, failing)| *weight == 0 && *failing)
            .map(|(name, _, _)| name)
            .collect()
    }

    fn is_faulty(&self) -> bool {
        !self.faults().is_empty()
    }

    fn fault_reason(&self) -> String {
        format!("{} down", self.faults().join(", "))
    }

    /// Base priority plus the tracked objects' weights — a positive weight while the object
    /// is up, a negative one while it is down — clamped to 1..254
    /// (`vrrp_set_effective_priority`); the owner's 255 never changes.
    fn recompute_priority(&mut self) {
        if self.conf.priority == 255 {
            return;
        }
        let delta: i32 = self
            .tracked()
            .into_iter()
            .map(|(_, weight, failing)| match (weight > 0, failing) {
                (true, false) => weight,
                (false, true) => weight,
                _ => 0,
            })
            .sum();
        self.effective_priority = (self.conf.priority as i32 + delta).clamp(1, 254) as u8;
    }

    /// Netlink reports a link change of a tracked interface.
    pub fn on_interface(&mut self, now: SimTime, iface: &str, up: bool) -> Vec<Action> {
        if self.tracked_weight(iface).is_none() {
            return Vec::new();
        }
        self.down_interfaces.retain(|i| i != iface);
        if !up {
            self.down_interfaces.push(iface.to_owned());
        }
        let what = format!("interface {iface} {}", if up { "up again" } else { "down" });
        self.reassess(now, what, "Netlink reports")
    }

    /// A tracked vrrp_script changed between good and bad (after its rise/fall count).
    pub fn on_script(&mut self, now: SimTime, script: &str, good: bool) -> Vec<Action> {
        if !self.scripts.iter().any(|t| t.name == script) {
            return Vec::new();
        }
        self.failed_scripts.retain(|s| s != script);
        if !good {
            self.failed_scripts.push(script.to_owned());
        }
        let what = format!(
            "script {script} {}",
            if good { "succeeded" } else { "failed" }
        );
        self.reassess(now, what, "VRRP_Script")
    }

    /// After a tracked object changed: the new priority, and FAULT entered or left. A
    /// MASTER entering FAULT first sends a priority-0 advert and removes its VIPs; leaving
    /// FAULT the instance is BACKUP with a full master-down timer.
    fn reassess(&mut self, now: SimTime, what: String, source: &str) -> Vec<Action> {
        if self.state == VrrpState::Stop {
            return Vec::new();
        }
        let before = self.effective_priority;
        self.recompute_priority();
        let mut actions = Vec::new();
        if self.effective_priority != before {
            actions.push(self.log(format!(
                "{what}: effective priority {before} → {}",
                self.effective_priority
            )));
        }
        match (self.state, self.is_faulty()) {
            (VrrpState::Fault, false) => {
                self.master_adver_int_us = self.conf.advert_int_us;
                self.deadline = Some(now + self.master_down_us() * 1_000);
                actions.push(self.log("Entering BACKUP STATE"));
                actions.push(self.transition(VrrpState::Backup, what));
            }
            (VrrpState::Fault, true) | (_, false) => {}
            (was, true) => {
                self.deadline = None;
                actions.push(self.log(format!("{source} {what}; Entering FAULT STATE")));
                if was == VrrpState::Master {
                    actions.push(Action::SendAdvert { priority: 0 });
                    actions.push(Action::RemoveVips);
                }
                actions.push(self.transition(VrrpState::Fault, what));
            }
        }
        actions
    }

    /// A vrrp_sync_group partner moved to `to`: this member follows (`vrrp_sync.c`): to
    /// MASTER from BACKUP, to BACKUP from MASTER (VIPs removed), to FAULT from either.
    pub fn follow_group(&mut self, now: SimTime, to: VrrpState, why: String) -> Vec<Action> {
        match (to, self.state) {
            (VrrpState::Master, VrrpState::Backup) => self.become_master(now, why),
            (VrrpState::Backup, VrrpState::Master) => {
                self.deadline = Some(now + self.master_down_us() * 1_000);
                vec![
                    self.log("Entering BACKUP STATE"),
                    Action::RemoveVips,
                    self.transition(VrrpState::Backup, why),
                ]
            }
            (VrrpState::Fault, VrrpState::Master | VrrpState::Backup) => {
                let was_master = self.state == VrrpState::Master;
                self.deadline = None;
                let mut actions = vec![self.log("Entering FAULT STATE")];
                if was_master {
                    actions.push(Action::SendAdvert { priority: 0 });
                    actions.push(Action::RemoveVips);
                }
                actions.push(self.transition(VrrpState::Fault, why));
                actions
            }
            _ => Vec::new(),
        }
    }

    /// SIGTERM: a MASTER says goodbye with a priority-0 advert and removes its VIPs.
    pub fn stop(&mut self) -> Vec<Action> {
        self.deadline = None;
        let mut actions = Vec::new();
        if self.state == VrrpState::Master {
            actions.push(Action::SendAdvert { priority: 0 });
            actions.push(Action::RemoveVips);
        }
        actions.push(self.transition(VrrpState::Stop, "keepalived stopped (SIGTERM)".into()));
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keepalived::config::{Notify, VirtualAddress};

    const MS: u64 = 1_000_000;

    fn conf(priority: u8, version: u8) -> VrrpInstance {
        VrrpInstance {
            name: "VI_1".into(),
            line: 1,
            wanted: WantedState::Backup,
            interface: "eth0".into(),
            vrid: 51,
            priority,
            advert_int_us: 1_000_000,
            version,
            auth: None,
            vips: vec![VirtualAddress {
                addr: Ipv4Addr::new(192, 168, 188, 120),
                prefix_len: 24,
                broadcast: None,
                dev: None,
                scope: None,
                label: Some("eth0:2".into()),
            }],
            excluded_vips: Vec::new(),
            nopreempt: false,
            preempt_delay_us: 0,
            garp: Garp::default(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            notify: Notify::default(),
            mcast_src_ip: None,
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            dont_track_primary: false,
        }
    }

    fn instance(priority: u8) -> Instance {
        Instance::new(conf(priority, 2), Garp::default(), 3, false)
    }

    fn advert(priority: u8) -> Advert {
        Advert {
            version: 2,
            vrid: 51,
            priority,
            interval: 1,
            addrs: vec![Ipv4Addr::new(192, 168, 188, 120)],
            auth: AdvertAuth::None,
        }
    }

    const D1: Ipv4Addr = Ipv4Addr::new(192, 168, 188, 108);
    const D2: Ipv4Addr = Ipv4Addr::new(192, 168, 188, 109);

    /// §9 Master_Down_Interval table: the unrounded formula in µs for v2 and v3.
    #[test]
    fn master_down_interval_is_the_unrounded_formula() {
        assert_eq!(instance(100).master_down_us(), 3_609_375);
        assert_eq!(instance(150).master_down_us(), 3_414_062);
        assert_eq!(instance(10).master_down_us(), 3_960_937);
        let mut v3 = Instance::new(conf(100, 3), Garp::default(), 3, false);
        v3.conf.advert_int_us = 500_000;
        v3.start(SimTime::ZERO);
        assert_eq!(v3.master_down_us(), 1_804_687);
        assert_eq!(instance(100).skew_us(), 609_375);
    }

    /// §7 Startup + §9 "keepalived start → own first advert": BACKUP, then MASTER when the
    /// own master-down timer expires, with one advert, the VIPs and 5 GARPs (+5 after 5 s).
    #[test]
    fn an_instance_starts_as_backup_and_takes_over_after_master_down() {
        let mut i = instance(100);
        i.conf.wanted = WantedState::Master;
        let actions = i.start(SimTime::ZERO);
        assert!(matches!(
            actions.last(),
            Some(Action::Transition {
                to: VrrpState::Backup,
                ..
            })
        ));
        assert_eq!(i.deadline, Some(SimTime(3_609_375_000)));
        let actions = i.on_timer(SimTime(3_609_375_000));
        assert_eq!(
            &actions[1..5],
            &[
                Action::SendAdvert { priority: 100 },
                Action::AddVips,
                Action::Garp { repeat: 5 },
                Action::LaterGarp {
                    delay_us: 5_000_000,
                    repeat: 5
                }
            ]
        );
        assert_eq!(i.state, VrrpState::Master);
        assert_eq!(i.deadline, Some(SimTime(4_609_375_000)));
        assert_eq!(
            i.on_timer(SimTime(4_609_375_000)),
            vec![Action::SendAdvert { priority: 100 }]
        );
    }

    /// §7 "priority 255 with state MASTER ⇒ MASTER after 1 µs".
    #[test]
    fn the_address_owner_becomes_master_at_once() {
        let mut i = instance(255);
        i.conf.wanted = WantedState::Master;
        i.start(SimTime::ZERO);
        assert_eq!(i.deadline, Some(SimTime(1_000)));
    }

    /// §9 "d2 started first, d1 2 s later": a backup discards lower-priority adverts, so its
    /// timer keeps running; higher or equal priority resets it.
    #[test]
    fn a_backup_discards_lower_priority_adverts_and_resets_on_higher() {
        let mut d1 = instance(150);
        d1.start(SimTime::ZERO);
        let deadline = d1.deadline;
        let actions = d1.on_advert(SimTime(500 * MS), D2, D1, &advert(100));
        assert!(
            matches!(&actions[0], Action::Log(l) if l.contains("lower priority (100) advert from 192.168.188.109 - discarding"))
        );
        assert_eq!(d1.deadline, deadline);
        d1.on_advert(SimTime(600 * MS), D2, D1, &advert(150));
        assert_eq!(d1.deadline, Some(SimTime(600 * MS + 3_414_062_000)));
    }

    /// §9 SIGTERM row: a backup hearing priority 0 takes over after the skew time.
    #[test]
    fn priority_zero_makes_the_backup_take_over_after_the_skew() {
        let mut d2 = instance(100);
        d2.start(SimTime::ZERO);
        d2.on_advert(SimTime(10 * MS), D1, D2, &advert(0));
        assert_eq!(d2.deadline, Some(SimTime(10 * MS + 609_375_000)));
    }

    /// §7: a MASTER hearing a higher priority goes BACKUP without a priority-0 advert; one
    /// hearing a lower priority answers with an advert and GARPs, and its timer restarts.
    #[test]
    fn master_yields_to_higher_and_answers_lower_priority() {
        let mut d2 = instance(100);
        d2.start(SimTime::ZERO);
        d2.on_timer(d2.deadline.unwrap());
        let actions = d2.on_advert(SimTime(5_000 * MS), D1, D2, &advert(150));
        assert!(!actions.contains(&Action::SendAdvert { priority: 0 }));
        assert!(actions.contains(&Action::RemoveVips));
        assert_eq!(d2.state, VrrpState::Backup);

        let mut d1 = instance(150);
        d1.start(SimTime::ZERO);
        d1.on_timer(d1.deadline.unwrap());
        let actions = d1.on_advert(SimTime(5_000 * MS), D2, D1, &advert(100));
        assert_eq!(
            &actions[1..],
            &[
                Action::SendAdvert { priority: 150 },
                Action::Garp { repeat: 5 },
                Action::LaterGarp {
                    delay_us: 5_000_000,
                    repeat: 5
                }
            ]
        );
        assert_eq!(d1.deadline, Some(SimTime(6_000 * MS)));
    }

    /// §7: equal priority: the master with the higher address wins; a backup never preempts
    /// on address.
    #[test]
    fn equal_priority_is_decided_by_address_only_for_masters() {
        let mut low = instance(100);
        low.start(SimTime::ZERO);
        low.on_timer(low.deadline.unwrap());
        low.on_advert(SimTime(5_000 * MS), D2, D1, &advert(100));
        assert_eq!(low.state, VrrpState::Backup);
        let mut backup = instance(100);
        backup.start(SimTime::ZERO);
        backup.on_advert(SimTime(1_000 * MS), D1, D2, &advert(100));
        assert_eq!(backup.deadline, Some(SimTime(1_000 * MS + 3_609_375_000)));
    }

    /// §9 preempt_delay 5: lower-priority adverts keep resetting the timer until 5 s after
    /// the first one; one arriving exactly then no longer does.
    #[test]
    fn preempt_delay_holds_the_backup_for_its_duration() {
        let mut d1 = instance(150);
        d1.conf.preempt_delay_us = 5_000_000;
        d1.start(SimTime::ZERO);
        for k in 1..=5u64 {
            d1.on_advert(SimTime(k * 1_000 * MS), D2, D1, &advert(100));
        }
        assert_eq!(d1.deadline, Some(SimTime(5_000 * MS + 3_414_062_000)));
        d1.on_advert(SimTime(6_000 * MS), D2, D1, &advert(100));
        assert_eq!(d1.deadline, Some(SimTime(5_000 * MS + 3_414_062_000)));
    }

    /// §9 nopreempt: every advert resets the timer, whatever its priority.
    #[test]
    fn nopreempt_backup_never_takes_over_from_a_live_master() {
        let mut d1 = instance(150);
        d1.conf.nopreempt = true;
        d1.start(SimTime::ZERO);
        d1.on_advert(SimTime(3_000 * MS), D2, D1, &advert(100));
        assert_eq!(d1.deadline, Some(SimTime(3_000 * MS + 3_414_062_000)));
    }

    /// §9 link down / link up rows and §7 track failure.
    #[test]
    fn link_down_faults_and_link_up_restarts_the_down_timer() {
        let mut d1 = instance(150);
        d1.start(SimTime::ZERO);
        d1.on_timer(d1.deadline.unwrap());
        let actions = d1.on_interface(SimTime(10_000 * MS), "eth0", false);
        assert!(actions.contains(&Action::SendAdvert { priority: 0 }));
        assert!(actions.contains(&Action::RemoveVips));
        assert_eq!((d1.state, d1.deadline), (VrrpState::Fault, None));
        d1.on_interface(SimTime(20_000 * MS), "eth0", true);
        assert_eq!(d1.state, VrrpState::Backup);
        assert_eq!(d1.deadline, Some(SimTime(20_000 * MS + 3_414_062_000)));
        assert!(d1.on_interface(SimTime(0), "eth1", false).is_empty());
    }

    #[test]
    fn track_interface_weights_lower_the_priority() {
        let mut i = instance(150);
        i.conf
            .track_interfaces
            .push(crate::keepalived::config::Track {
                name: "eth1".into(),
                weight: Some(-60),
            });
        i.start(SimTime::ZERO);
        i.on_interface(SimTime(MS), "eth1", false);
        assert_eq!((i.state, i.effective_priority), (VrrpState::Backup, 90));
        i.on_interface(SimTime(2 * MS), "eth1", true);
        assert_eq!(i.effective_priority, 150);
    }

    /// §6 receive checks.
    #[test]
    fn adverts_are_checked_before_they_count() {
        let i = instance(100);
        assert!(i.check_advert(255, &advert(150)).is_ok());
        assert!(
            i.check_advert(254, &advert(150))
                .unwrap_err()
                .contains("TTL")
        );
        let mut other = advert(150);
        other.interval = 2;
        assert!(
            i.check_advert(255, &other)
                .unwrap_err()
                .contains("mismatch mine=1 rcv=2")
        );
        other = advert(150);
        other.auth = AdvertAuth::Pass(*b"x\0\0\0\0\0\0\0");
        assert!(i.check_advert(255, &other).is_err());
        other = advert(150);
        other.addrs.clear();
        assert!(
            i.check_advert(255, &other)
                .unwrap_err()
                .contains("not present")
        );
    }

    #[test]
    fn sigterm_sends_priority_zero_only_from_a_master() {
        let mut i = instance(100);
        i.start(SimTime::ZERO);
        assert_eq!(i.stop().len(), 1);
        i.start(SimTime::ZERO);
        i.on_timer(i.deadline.unwrap());
        assert_eq!(i.stop()[0], Action::SendAdvert { priority: 0 });
        assert_eq!(i.state, VrrpState::Stop);
    }
}
