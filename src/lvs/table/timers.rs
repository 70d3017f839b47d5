//! Connection states, timeouts and expiry (ip_vs_conn.c, ip_vs_proto_tcp.c set_tcp_state),
//! and the destination trash emptied by the same timer.

use crate::lvs::conn::ConnId;
use crate::lvs::service::DestId;

use super::{Ipvs, TEMPLATE_RETRY_S, TRASH_PERIOD};

impl Ipvs {
    /// When the director next needs `run_timers`.
    pub fn next_timer(&self) -> Option<u64> {
        [self.conns.next_timer(), self.trash_tick]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs everything due by `now`: entry expiry (`ip_vs_conn_expire`) and the trash.
    /// Returns the number of entries removed.
    pub fn run_timers(&mut self, now: u64) -> usize {
        let mut removed = 0;
        while let Some(id) = self.conns.pop_expired(now) {
            removed += self.expire(id, now) as usize;
        }
        if self.trash_tick.is_some_and(|t| t <= now) {
            self.empty_trash(now);
        }
        removed
    }

    /// An entry's timer ran out: a template still controlling connections waits 60 s more;
    /// anything else is unlinked and unbound.
    pub(super) fn expire(&mut self, id: ConnId, now: u64) -> bool {
        let conn = self.conns.get(id);
        if conn.n_control > 0 {
            self.conns.get_mut(id).timeout_s = TEMPLATE_RETRY_S;
            self.put(id, now);
            return false;
        }
        let conn = self.conns.remove(id);
        if let Some(template) = conn.control
            && let Some(t) = self.conns.try_get_mut(template)
        {
            t.n_control -= 1;
        }
        if let Some(f) = &conn.fullnat {
            let svc = self.service_of(conn.dest);
            if let Some(Some(s)) = self.services.get_mut(svc.0 as usize)
                && let Some(l) = s.laddrs.iter_mut().find(|l| l.addr == f.laddr)
            {
                l.conns = l.conns.saturating_sub(1);
            }
        }
        self.unbind(&conn);
        true
    }

    /// `ip_vs_dest_trash_expire`, every half period: a deleted destination nothing refers to
    /// any more is marked idle at the first tick that sees it so, and freed at the first tick
    /// a full period later.
    fn empty_trash(&mut self, now: u64) {
        let trashed: Vec<DestId> = (0..self.dests.len())
            .map(|i| DestId(i as u32))
            .filter(|d| {
                let m = &self.meta[d.0 as usize];
                m.trash.is_some() && !m.gone
            })
            .collect();
        for dest in &trashed {
            if self.referenced(*dest, now) {
                continue;
            }
            let meta = &mut self.meta[dest.0 as usize];
            match meta.trash {
                Some(Some(idle)) if now >= idle + TRASH_PERIOD => meta.gone = true,
                Some(None) => meta.trash = Some(Some(now)),
                _ => {}
            }
        }
        let waiting = trashed.iter().any(|d| !self.meta[d.0 as usize].gone);
        self.trash_tick = waiting.then_some(now + TRASH_PERIOD / 2);
    }

    /// Connections, templates or the service's scheduler still refer to the destination.
    fn referenced(&mut self, dest: DestId, now: u64) -> bool {
        if self.meta[dest.0 as usize].refs > 0 {
            return true;
        }
        let svc = self.meta[dest.0 as usize].service;
        let live = self
            .services
            .get(svc.0 as usize)
            .is_some_and(Option::is_some);
        live && self
            .with_scheduler(svc, now, |s, _| s.references(dest))
            .unwrap_or(false)
    }
}
