//! Exact stepping back: the state of every host at every event, stored as versions.
//!
//! The world cannot be cloned or rewound (programs and actions are boxed closures), so the
//! session records, after each event, the view of the one host the event touched (all hosts
//! after a scenario action). A host's history is the list of versions that differed from the
//! one before, each tagged with the event that produced it; the view at event N is the last
//! version at or before N (a binary search), so stepping either way costs the same and shows
//! exactly what the simulation held then.

use std::rc::Rc;

use super::hostview::HostView;
use crate::trace::HostId;

#[derive(Debug, Default)]
pub struct History {
    per_host: Vec<Vec<(u64, Rc<HostView>)>>,
}

impl History {
    pub fn new(hosts: usize) -> History {
        History {
            per_host: vec![Vec::new(); hosts],
        }
    }

    /// The latest view of `host`, to share unchanged parts with.
    pub fn latest(&self, host: HostId) -> Option<&HostView> {
        self.per_host[host].last().map(|(_, v)| v.as_ref())
    }

    /// Records `view` as `host`'s state after `event`, unless nothing changed.
    pub fn record(&mut self, host: HostId, event: u64, view: HostView) {
        let versions = &mut self.per_host[host];
        if versions.last().is_some_and(|(_, last)| **last == view) {
            return;
        }
        versions.push((event, Rc::new(view)));
    }

    /// `host`'s state after `event` (None before its first record).
    pub fn view_at(&self, host: HostId, event: u64) -> Option<&Rc<HostView>> {
        let versions = &self.per_host[host];
        let after = versions.partition_point(|(e, _)| *e <= event);
        after.checked_sub(1).map(|i| &versions[i].1)
    }

    /// Versions kept over all hosts (for the benchmark's memory figures).
    pub fn versions(&self) -> usize {
        self.per_host.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(forward: i32) -> HostView {
        HostView {
            neigh: Rc::from(vec![]),
            addrs: Rc::from(vec![]),
            routes: Rc::from(vec![]),
            ip_forward: forward,
            sysctls: Rc::from(vec![]),
            ipvs: None,
            vrrp: Rc::from(vec![]),
        }
    }

    #[test]
    fn the_view_at_an_event_is_the_last_version_at_or_before_it() {
        let mut history = History::new(1);
        history.record(0, 0, view(0));
        history.record(0, 5, view(0));
        history.record(0, 7, view(1));
        assert_eq!(history.versions(), 2, "an unchanged view adds no version");
        assert_eq!(history.view_at(0, 6).unwrap().ip_forward, 0);
        assert_eq!(history.view_at(0, 7).unwrap().ip_forward, 1);
        assert_eq!(history.view_at(0, 1000).unwrap().ip_forward, 1);
    }
}
