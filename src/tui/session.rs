//! A lab being simulated for the TUI: the world stepped in chunks between key presses, so the
//! first events show at once while the rest of a long run is still being computed, and after
//! every event the log and the history are brought up to date.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::history::History;
use super::hostview::HostView;
use super::log::{Feed, Log};
use crate::scenario::Scenario;
use crate::scenario::run::{self, DEFAULT_MAX_EVENTS};
use crate::scenario::source::Diagnostic;
use crate::sim::SimTime;
use crate::sim::world::{Handled, World};
use crate::trace::{HostId, Record};

/// What the help pane shows about the lab.
#[derive(Debug, Clone, Default)]
pub struct LabInfo {
    pub name: String,
    pub title: String,
    pub about: String,
}

pub struct Session {
    world: World,
    until: Option<SimTime>,
    feed: Rc<RefCell<Vec<Record>>>,
    pub lab: LabInfo,
    pub log: Log,
    pub history: History,
    /// No event is left (or `until` was reached).
    pub finished: bool,
}

impl Session {
    /// Builds the lab and runs its setup scripts; nothing of the timeline has run yet.
    pub fn open(scenario: &Scenario, seed: Option<u64>) -> Result<Session, Diagnostic> {
        let feed = Rc::new(RefCell::new(Vec::new()));
        let sinks: Vec<Box<dyn crate::trace::Sink>> = vec![Box::new(Feed(feed.clone()))];
        let world = run::prepare(scenario, seed.unwrap_or(scenario.seed), sinks)?;
        let names = world.hosts.iter().map(|h| h.name.clone()).collect();
        let mut session = Session {
            until: scenario.until,
            feed,
            lab: LabInfo {
                name: scenario.source.name.clone(),
                title: scenario.title.clone(),
                about: scenario.about.clone(),
            },
            log: Log::new(names),
            history: History::new(world.hosts.len()),
            finished: false,
            world,
        };
        session.absorb(Handled::Action);
        Ok(session)
    }

    /// Simulates up to `max_events` more events; returns how many ran.
    pub fn advance(&mut self, max_events: u64) -> u64 {
        let mut done = 0;
        while done < max_events && !self.finished {
            match self.world.step(self.until, DEFAULT_MAX_EVENTS) {
                Ok(handled) => {
                    self.absorb(handled);
                    done += 1;
                }
                Err(_) => self.finished = true,
            }
        }
        done
    }

    /// Simulates for about `budget` of wall time (in chunks, so the clock is read rarely).
    pub fn advance_for(&mut self, budget: Duration) {
        const CHUNK: u64 = 256;
        let started = Instant::now();
        while !self.finished && started.elapsed() < budget {
            self.advance(CHUNK);
        }
    }

    /// Runs the lab to its end.
    pub fn finish(&mut self) {
        while !self.finished {
            self.advance(u64::MAX);
        }
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.world.stats.events
    }

    /// Moves the records of the event just processed into the log and records the state of
    /// the hosts it may have changed.
    fn absorb(&mut self, handled: Handled) {
        let event = self.world.stats.events;
        for record in self.feed.borrow_mut().drain(..) {
            self.log.push(record, event);
        }
        match handled {
            Handled::Host(host) => self.record_view(host, event),
            Handled::Action => {
                for host in 0..self.world.hosts.len() {
                    self.record_view(host, event);
                }
            }
            Handled::Switch => {}
        }
    }

    fn record_view(&mut self, host: HostId, event: u64) {
        let now = self.world.now();
        let view = HostView::capture(&self.world.hosts[host], now, self.history.latest(host));
        self.history.record(host, event, view);
    }
}
