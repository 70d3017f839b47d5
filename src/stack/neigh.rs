//! Neighbour entries and their state machine, ported from net/core/neighbour.c
//! (`__neigh_event_send`, `__neigh_update`, `neigh_timer_handler`).
//!
//! This module is pure: it changes an entry and says what must happen next (send a probe,
//! release or fail the queued packets, arm the timer). The host performs those actions, so
//! the kernel's rules can be tested here without a network.

use std::collections::VecDeque;

use crate::sim::SimTime;
use crate::wire::{MacAddr, Packet};

/// `HZ/100` of the measured kernel (HZ=250: two jiffies): the shortest neighbour timer. A
/// timer that fires exactly at `confirmed + reachable_time` finds the entry still alive and
/// re-checks this much later — part of the slack linux-arp.md §5 observed.
const HZ_100: u64 = 8_000_000;

/// Neighbour states with the kernel's names (`ip neigh` shows them in capitals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NudState {
    None,
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
    Noarp,
    Permanent,
}

impl NudState {
    /// `NUD_VALID`: the entry has a usable link-layer address.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            NudState::Reachable
                | NudState::Stale
                | NudState::Delay
                | NudState::Probe
                | NudState::Noarp
                | NudState::Permanent
        )
    }

    /// `NUD_CONNECTED`: packets go out without any neighbour processing (the fast path).
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            NudState::Reachable | NudState::Noarp | NudState::Permanent
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            NudState::None => "NONE",
            NudState::Incomplete => "INCOMPLETE",
            NudState::Reachable => "REACHABLE",
            NudState::Stale => "STALE",
            NudState::Delay => "DELAY",
            NudState::Probe => "PROBE",
            NudState::Failed => "FAILED",
            NudState::Noarp => "NOARP",
            NudState::Permanent => "PERMANENT",
        }
    }

    pub fn parse(text: &str) -> Option<NudState> {
        [
            NudState::None,
            NudState::Incomplete,
            NudState::Reachable,
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Failed,
            NudState::Noarp,
            NudState::Permanent,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for NudState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The parameters of the entry's device, in nanoseconds and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parms {
    pub reachable_time: u64,
    pub delay_probe_time: u64,
    pub retrans_time: u64,
    pub locktime: u64,
    pub ucast_probes: u32,
    pub mcast_probes: u32,
    pub mcast_reprobes: u32,
    pub app_probes: u32,
    pub queue_len: usize,
}

/// One neighbour entry (`struct neighbour`).
#[derive(Debug, Clone)]
pub struct NeighEntry {
    pub state: NudState,
    pub mac: Option<MacAddr>,
    /// Last change of state or address: the locktime window counts from here.
    pub updated: SimTime,
    /// Last confirmation of reachability (None: long ago, as the kernel's
    /// `jiffies - 2 * base_reachable_time`).
    pub confirmed: Option<SimTime>,
    /// Last time a packet went through the slow path.
    pub used: SimTime,
    pub probes: u32,
    pub queue: VecDeque<Packet>,
    /// The pending timer, if any; `timer_gen` tells a live timer event from a stale one.
    pub timer: Option<SimTime>,
    pub timer_gen: u64,
    /// The timer was (re)armed and no event carries it yet.
    pub timer_unscheduled: bool,
}

/// What the host must do after an entry changed.
#[derive(Debug, Default)]
pub struct Actions {
    /// Send a solicitation now: to this MAC (unicast probe) or broadcast (None).
    pub solicit: Option<Option<MacAddr>>,
    /// Transmit these queued packets to the entry's (new) address.
    pub release: Vec<Packet>,
    /// Report these queued packets as undeliverable (ICMP host unreachable).
    pub fail: Vec<Packet>,
    /// Dropped because the queue was full.
    pub overflow: Vec<Packet>,
    /// (old, new) when the state changed.
    pub transition: Option<(NudState, NudState)>,
}

/// Flags of `neigh_update`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateFlags {
    pub override_: bool,
    pub admin: bool,
}

/// The result of `neigh_update`.
#[derive(Debug, Default)]
pub struct Update {
    /// The frame changed nothing (different address inside locktime, or a static entry).
    pub ignored: bool,
    pub mac_changed: Option<(Option<MacAddr>, MacAddr)>,
    pub actions: Actions,
}

/// How a packet handed to the neighbour layer proceeds.
#[derive(Debug)]
pub enum Output {
    /// Send now to this address.
    Send(MacAddr, Packet),
    /// Held until resolution completes.
    Queued,
    /// Resolution is impossible (no probes configured): the packet is dropped.
    Dropped(Packet),
}

impl NeighEntry {
    pub fn new(now: SimTime) -> NeighEntry {
        NeighEntry {
            state: NudState::None,
            mac: None,
            updated: now,
            confirmed: None,
            used: now,
            probes: 0,
            queue: VecDeque::new(),
            timer: None,
            timer_gen: 0,
            timer_unscheduled: false,
        }
    }

    /// A static entry (`arp -s`, `ip neigh add ... nud permanent`).
    pub fn permanent(mac: MacAddr, now: SimTime) -> NeighEntry {
        NeighEntry {
            state: NudState::Permanent,
            mac: Some(mac),
            ..NeighEntry::new(now)
        }
    }

    fn arm(&mut self, at: SimTime) {
        self.timer = Some(at);
        self.timer_gen += 1;
        self.timer_unscheduled = true;
    }

    fn disarm(&mut self) {
        self.timer = None;
        self.timer_gen += 1;
    }

    fn set_state(&mut self, new: NudState, now: SimTime, actions: &mut Actions) {
        let old = self.state;
        self.state = new;
        self.updated = now;
        if old != new {
            actions.transition = Some((actions.transition.map_or(old, |(first, _)| first), new));
        }
    }

    fn max_probes(&self, p: &Parms) -> u32 {
        let multicast = if self.state == NudState::Probe {
            p.mcast_reprobes
        } else {
            p.mcast_probes
        };
        p.ucast_probes + p.app_probes + multicast
    }

    /// `neigh_probe` → `arp_solicit`: unicast to the cached address while fewer than
    /// `ucast_solicit` probes have gone, then `app_solicit` user-space probes (no frame),
    /// then broadcasts.
    fn probe(&mut self, p: &Parms, actions: &mut Actions) {
        if self.probes < p.ucast_probes {
            actions.solicit = Some(self.mac);
        } else if self.probes >= p.ucast_probes + p.app_probes {
            actions.solicit = Some(None);
        }
        self.probes += 1;
    }

    /// A packet leaves through this entry (`neigh_resolve_output` / `neigh_event_send`).
    pub fn output(
        &mut self,
        packet: Packet,
        now: SimTime,
        p: &Parms,
        actions: &mut Actions,
    ) -> Output {
        if self.state.is_connected() {
            return Output::Send(self.mac.expect("connected entries have an address"), packet);
        }
        self.used = now;
        match self.state {
            NudState::Delay | NudState::Probe => {
                Output::Send(self.mac.expect("valid entries have an address"), packet)
            }
            NudState::Stale => {
                self.enter_delay(now, p, actions);
                Output::Send(self.mac.expect("valid entries have an address"), packet)
            }
            NudState::Incomplete => {
                self.enqueue(packet, p, actions);
                Output::Queued
            }
            _ => {
                if !self.enter_incomplete(now, p, actions) {
                    return Output::Dropped(packet);
                }
                self.enqueue(packet, p, actions);
                self.probe(p, actions);
                Output::Queued
            }
        }
    }

    /// `neigh_event_send(n, NULL)`: start resolving without a packet to send.
    pub fn start_resolution(&mut self, now: SimTime, p: &Parms, actions: &mut Actions) {
        let unresolved = matches!(self.state, NudState::None | NudState::Failed);
        if self.state == NudState::Stale {
            self.enter_delay(now, p, actions);
        } else if unresolved && self.enter_incomplete(now, p, actions) {
            self.probe(p, actions);
        }
    }

    fn enter_delay(&mut self, now: SimTime, p: &Parms, actions: &mut Actions) {
        self.set_state(NudState::Delay, now, actions);
        self.arm(now + p.delay_probe_time);
    }

    /// NONE or FAILED → INCOMPLETE, counting the unicast probes as spent so the first
    /// solicitation is a broadcast. False (and FAILED) when no probes are configured.
    fn enter_incomplete(&mut self, now: SimTime, p: &Parms, actions: &mut Actions) -> bool {
        if p.mcast_probes + p.app_probes == 0 {
            self.set_state(NudState::Failed, now, actions);
            return false;
        }
        self.probes = p.ucast_probes;
        self.disarm();
        self.set_state(NudState::Incomplete, now, actions);
        self.arm(now + p.retrans_time.max(HZ_100));
        true
    }

    fn enqueue(&mut self, packet: Packet, p: &Parms, actions: &mut Actions) {
        while self.queue.len() >= p.queue_len.max(1) {
            match self.queue.pop_front() {
                Some(old) => actions.overflow.push(old),
                None => break,
            }
        }
        self.queue.push_back(packet);
    }

    /// `__neigh_update`: a new address and/or state from ARP or an administrator.
    pub fn update(
        &mut self,
        lladdr: Option<MacAddr>,
        mut new: NudState,
        flags: UpdateFlags,
        now: SimTime,
        p: &Parms,
    ) -> Update {
        let mut out = Update::default();
        let old = self.state;
        if !flags.admin && matches!(old, NudState::Noarp | NudState::Permanent) {
            out.ignored = true;
            return out;
        }
        if !new.is_valid() {
            self.disarm();
            self.state = new;
            if old != new {
                out.actions.transition = Some((old, new));
            }
            if matches!(old, NudState::Incomplete | NudState::Probe) && new == NudState::Failed {
                self.updated = now;
                out.actions.fail.extend(self.queue.drain(..));
            }
            return out;
        }
        let lladdr = match lladdr {
            Some(mac) => mac,
            None if old.is_valid() => self.mac.expect("valid entries have an address"),
            None => {
                out.ignored = true;
                return out;
            }
        };
        if new.is_connected() {
            self.confirmed = Some(now);
        }
        // The kernel compares addresses only for a valid entry; otherwise it always copies.
        let address_changes = !old.is_valid() || self.mac != Some(lladdr);
        if old.is_valid() {
            if address_changes && !flags.override_ {
                out.ignored = true;
                return out;
            }
            if !address_changes && new == NudState::Stale && !flags.admin {
                new = old;
            }
        }
        if new != old || address_changes {
            self.updated = now;
        }
        if new != old {
            self.disarm();
            if new == NudState::Probe {
                self.probes = 0;
            }
            match new {
                NudState::Reachable => self.arm(now + p.reachable_time),
                NudState::Delay | NudState::Probe | NudState::Incomplete => self.arm(now),
                _ => {}
            }
            out.actions.transition = Some((old, new));
            self.state = new;
        }
        if address_changes {
            if self.mac != Some(lladdr) {
                out.mac_changed = Some((self.mac, lladdr));
            }
            self.mac = Some(lladdr);
            if !new.is_connected() {
                self.confirmed = None;
            }
        }
        if new != old && !old.is_valid() {
            out.actions.release.extend(self.queue.drain(..));
        }
        out
    }

    /// `neigh_confirm`: TCP saw forward progress through this neighbour.
    pub fn confirm(&mut self, now: SimTime) {
        self.confirmed = Some(now);
    }

    /// `neigh_timer_handler`: the entry's timer expired at `now`.
    pub fn timer_fired(&mut self, now: SimTime, p: &Parms) -> Actions {
        let mut actions = Actions::default();
        self.timer = None;
        let mut next = now + 1_000_000_000;
        match self.state {
            NudState::Reachable => {
                if let Some(alive_until) = self
                    .confirmed
                    .map(|c| c + p.reachable_time)
                    .filter(|&u| now <= u)
                {
                    next = alive_until;
                } else if now <= self.used + p.delay_probe_time {
                    self.set_state(NudState::Delay, now, &mut actions);
                    next = now + p.delay_probe_time;
                } else {
                    self.set_state(NudState::Stale, now, &mut actions);
                }
            }
            NudState::Delay => {
                if let Some(confirmed) = self.confirmed.filter(|&c| now <= c + p.delay_probe_time) {
                    self.set_state(NudState::Reachable, now, &mut actions);
                    next = confirmed + p.reachable_time;
                } else {
                    self.set_state(NudState::Probe, now, &mut actions);
                    self.probes = 0;
                    next = now + p.retrans_time.max(HZ_100);
                }
            }
            NudState::Probe | NudState::Incomplete => {
                next = now + p.retrans_time.max(HZ_100);
            }
            _ => return actions,
        }
        if matches!(self.state, NudState::Incomplete | NudState::Probe)
            && self.probes >= self.max_probes(p)
        {
            self.set_state(NudState::Failed, now, &mut actions);
            actions.fail.extend(self.queue.drain(..));
            return actions;
        }
        if matches!(
            self.state,
            NudState::Incomplete | NudState::Reachable | NudState::Delay | NudState::Probe
        ) {
            self.arm(next.max(now + HZ_100));
        }
        if matches!(self.state, NudState::Incomplete | NudState::Probe) {
            self.probe(p, &mut actions);
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn parms() -> Parms {
        Parms {
            reachable_time: 30 * S,
            delay_probe_time: 5 * S,
            retrans_time: S,
            locktime: S,
            ucast_probes: 3,
            mcast_probes: 3,
            mcast_reprobes: 0,
            app_probes: 0,
            queue_len: 101,
        }
    }

    fn mac(last: u8) -> MacAddr {
        MacAddr([0, 0x0c, 0x29, 0, 0, last])
    }

    fn t(secs: f64) -> SimTime {
        SimTime((secs * S as f64) as u64)
    }

    /// Drives an entry's timer to completion, collecting (time, state, solicit) steps.
    fn run_timers(
        entry: &mut NeighEntry,
        p: &Parms,
        until: SimTime,
    ) -> Vec<(SimTime, NudState, Option<Option<MacAddr>>)> {
        let mut steps = Vec::new();
        while let Some(at) = entry.timer {
            if at > until {
                break;
            }
            let actions = entry.timer_fired(at, p);
            steps.push((at, entry.state, actions.solicit));
        }
        steps
    }

    #[test]
    fn unresolved_entry_broadcasts_three_times_then_fails_after_three_seconds() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        let mut actions = Actions::default();
        assert!(matches!(
            e.output(Packet::zeroed(20), t(0.0), &p, &mut actions),
            Output::Queued
        ));
        assert_eq!(e.state, NudState::Incomplete);
        assert_eq!(actions.solicit, Some(None), "first probe is a broadcast");
        let steps = run_timers(&mut e, &p, t(10.0));
        assert_eq!(steps[0], (t(1.0), NudState::Incomplete, Some(None)));
        assert_eq!(steps[1], (t(2.0), NudState::Incomplete, Some(None)));
        assert_eq!(steps[2].0, t(3.0));
        assert_eq!(e.state, NudState::Failed);
    }

    #[test]
    fn failure_hands_back_the_queued_packets() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        let mut actions = Actions::default();
        e.output(Packet::zeroed(20), t(0.0), &p, &mut actions);
        e.output(Packet::zeroed(20), t(0.5), &p, &mut actions);
        let mut failed = 0;
        while let Some(at) = e.timer {
            failed += e.timer_fired(at, &p).fail.len();
        }
        assert_eq!(failed, 2);
    }

    #[test]
    fn a_reply_resolves_and_releases_the_queue() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        let mut actions = Actions::default();
        e.output(Packet::zeroed(20), t(0.0), &p, &mut actions);
        let up = e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.0001),
            &p,
        );
        assert!(!up.ignored);
        assert_eq!(up.actions.release.len(), 1);
        assert_eq!(e.state, NudState::Reachable);
        assert_eq!(e.timer, Some(t(0.0001) + 30 * S));
    }

    /// linux-arp.md §3: "unicast reply from A less than 1 s after the client's own
    /// resolution: ignored, dir kept: first reply wins" — without override a different
    /// address never replaces a valid one.
    #[test]
    fn different_address_without_override_is_ignored() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.0),
            &p,
        );
        let up = e.update(
            Some(mac(2)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.3),
            &p,
        );
        assert!(up.ignored);
        assert_eq!(
            (e.mac, e.state, e.updated),
            (Some(mac(1)), NudState::Reachable, t(0.0))
        );
    }

    #[test]
    fn override_with_request_semantics_leaves_the_entry_stale() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.0),
            &p,
        );
        let flags = UpdateFlags {
            override_: true,
            admin: false,
        };
        let up = e.update(Some(mac(2)), NudState::Stale, flags, t(1.5), &p);
        assert_eq!(up.mac_changed, Some((Some(mac(1)), mac(2))));
        assert_eq!((e.mac, e.state), (Some(mac(2)), NudState::Stale));
    }

    #[test]
    fn same_address_as_stale_update_keeps_reachable() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.0),
            &p,
        );
        let flags = UpdateFlags {
            override_: true,
            admin: false,
        };
        e.update(Some(mac(1)), NudState::Stale, flags, t(2.0), &p);
        assert_eq!(e.state, NudState::Reachable);
    }

    /// linux-arp.md §5: REACHABLE → STALE at reachable_time (traffic does not extend it),
    /// DELAY at the next packet, PROBE 5 s later with 3 unicast probes 1 s apart to the old
    /// address, FAILED 1 s after the last.
    #[test]
    fn stale_delay_probe_failed_sequence() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags::default(),
            t(0.0),
            &p,
        );
        let steps = run_timers(&mut e, &p, t(100.0));
        assert_eq!(
            steps,
            vec![
                (t(30.0), NudState::Reachable, None),
                (t(30.008), NudState::Stale, None)
            ]
        );
        let mut actions = Actions::default();
        assert!(
            matches!(e.output(Packet::zeroed(20), t(30.6), &p, &mut actions), Output::Send(m, _) if m == mac(1))
        );
        assert_eq!(e.state, NudState::Delay);
        let steps = run_timers(&mut e, &p, t(100.0));
        let probe_times: Vec<_> = steps
            .iter()
            .filter(|s| s.2.is_some())
            .map(|s| (s.0, s.2.unwrap()))
            .collect();
        assert_eq!(
            probe_times,
            vec![
                (t(35.6), Some(mac(1))),
                (t(36.6), Some(mac(1))),
                (t(37.6), Some(mac(1)))
            ]
        );
        assert_eq!(steps.last().unwrap().0, t(38.6));
        assert_eq!(e.state, NudState::Failed);
    }

    #[test]
    fn confirmation_during_delay_returns_to_reachable() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        e.update(
            Some(mac(1)),
            NudState::Stale,
            UpdateFlags {
                override_: true,
                admin: false,
            },
            t(0.0),
            &p,
        );
        let mut actions = Actions::default();
        e.output(Packet::zeroed(20), t(1.0), &p, &mut actions);
        assert_eq!(e.state, NudState::Delay);
        e.confirm(t(3.0));
        let actions = e.timer_fired(t(6.0), &p);
        assert_eq!(
            actions.transition,
            Some((NudState::Delay, NudState::Reachable))
        );
        assert_eq!(e.timer, Some(t(33.0)));
    }

    #[test]
    fn static_entries_ignore_arp() {
        let p = parms();
        let mut e = NeighEntry::permanent(mac(9), t(0.0));
        let up = e.update(
            Some(mac(1)),
            NudState::Reachable,
            UpdateFlags {
                override_: true,
                admin: false,
            },
            t(5.0),
            &p,
        );
        assert!(up.ignored);
        assert_eq!(e.mac, Some(mac(9)));
    }

    #[test]
    fn failed_entry_restarts_resolution_on_the_next_packet() {
        let p = parms();
        let mut e = NeighEntry::new(t(0.0));
        let mut actions = Actions::default();
        e.output(Packet::zeroed(20), t(0.0), &p, &mut actions);
        while let Some(at) = e.timer {
            e.timer_fired(at, &p);
        }
        assert_eq!(e.state, NudState::Failed);
        let mut actions = Actions::default();
        e.output(Packet::zeroed(20), t(10.0), &p, &mut actions);
        assert_eq!(e.state, NudState::Incomplete);
        assert_eq!(actions.solicit, Some(None));
    }
}
