//! Per-service and per-destination statistics with the kernel's rate estimator
//! (ip_vs_est.c): every 2 s since boot each rate moves a quarter of the way towards the
//! last 2 s's rate, kept scaled (packets and connections ×2^10, bytes ×2^5).

use super::service::{Counters, Rates};

const TICK_NS: u64 = 2_000_000_000;
/// After this many idle ticks every average has decayed to 0 (3/4 per tick from 2^64).
const TICKS_TO_ZERO: u64 = 200;

/// The scaled averages of one estimator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Averages {
    cps: i64,
    inpps: i64,
    outpps: i64,
    inbps: i64,
    outbps: i64,
}

/// Counters and rates of a service or a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Everything counted since the object was created (`kstats`).
    total: Counters,
    /// The counters at the last `ipvsadm -Z` (`kstats0`).
    zero: Counters,
    /// The counters at the last estimator tick.
    last: Counters,
    avg: Averages,
    next_tick_ns: u64,
}

impl Stats {
    /// Statistics starting at `now_ns`; the estimator ticks on the 2 s grid since boot.
    pub fn new(now_ns: u64) -> Stats {
        Stats {
            total: Counters::default(),
            zero: Counters::default(),
            last: Counters::default(),
            avg: Averages::default(),
            next_tick_ns: (now_ns / TICK_NS + 1) * TICK_NS,
        }
    }

    /// Runs the estimator ticks due by `now_ns` (`estimation_timer`); called before every
    /// change and every read, so each tick sees the counters as they were at its instant.
    pub fn catch_up(&mut self, now_ns: u64, running: bool) {
        if now_ns < self.next_tick_ns {
            return;
        }
        let due = (now_ns - self.next_tick_ns) / TICK_NS + 1;
        self.next_tick_ns += due * TICK_NS;
        if !running {
            return;
        }
        for _ in 0..due.min(TICKS_TO_ZERO) {
            self.tick();
        }
        if due > TICKS_TO_ZERO {
            self.avg = Averages::default();
        }
    }

    fn tick(&mut self) {
        let t = self.total;
        let l = self.last;
        // Rates per 2 s scaled by 2^10 (<< 9) and bytes by 2^5 (<< 4).
        step(&mut self.avg.cps, (t.conns - l.conns) << 9);
        step(&mut self.avg.inpps, (t.inpkts - l.inpkts) << 9);
        step(&mut self.avg.outpps, (t.outpkts - l.outpkts) << 9);
        step(&mut self.avg.inbps, (t.inbytes - l.inbytes) << 4);
        step(&mut self.avg.outbps, (t.outbytes - l.outbytes) << 4);
        self.last = t;
    }

    pub fn add_conn(&mut self) {
        self.total.conns += 1;
    }

    /// A packet from the client side (`ip_vs_in_stats`): its IP total length before mangling.
    pub fn add_in(&mut self, bytes: u64) {
        self.total.inpkts += 1;
        self.total.inbytes += bytes;
    }

    /// A packet on the return path (`ip_vs_out_stats`).
    pub fn add_out(&mut self, bytes: u64) {
        self.total.outpkts += 1;
        self.total.outbytes += bytes;
    }

    /// The counters as ipvsadm shows them: since creation or the last `-Z`.
    pub fn counters(&self) -> Counters {
        let (t, z) = (self.total, self.zero);
        Counters {
            conns: t.conns - z.conns,
            inpkts: t.inpkts - z.inpkts,
            outpkts: t.outpkts - z.outpkts,
            inbytes: t.inbytes - z.inbytes,
            outbytes: t.outbytes - z.outbytes,
        }
    }

    /// The rates rounded as `ip_vs_read_estimator` reports them.
    pub fn rates(&self) -> Rates {
        let packets = |v: i64| ((v + 0x1FF) >> 10).max(0) as u64;
        let bytes = |v: i64| ((v + 0xF) >> 5).max(0) as u64;
        Rates {
            cps: packets(self.avg.cps),
            inpps: packets(self.avg.inpps),
            outpps: packets(self.avg.outpps),
            inbps: bytes(self.avg.inbps),
            outbps: bytes(self.avg.outbps),
        }
    }

    /// `ipvsadm -Z`: the counters restart from here and the rates from 0
    /// (`ip_vs_zero_stats`, `ip_vs_zero_estimator`).
    pub fn zero(&mut self) {
        self.zero = self.total;
        self.last = self.total;
        self.avg = Averages::default();
    }
}

/// `avg += (rate - avg) >> 2`, with the arithmetic shift of a signed difference.
fn step(avg: &mut i64, rate: u64) {
    *avg += (rate as i64 - *avg) >> 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ipvsadm.md §5.5: one new connection per 2 s gives cps → 0.5 per second; the average
    /// climbs a quarter of the way per tick: 128, 224, 296 (×2^-10) ... rounded up from 0x1FF.
    #[test]
    fn estimator_moves_a_quarter_of_the_way_per_tick() {
        let mut s = Stats::new(0);
        let mut cps = Vec::new();
        for tick in 1..=4u64 {
            s.add_conn();
            s.catch_up(tick * TICK_NS, true);
            cps.push(s.avg.cps);
        }
        assert_eq!(cps, [128, 224, 296, 350]);
        assert_eq!(s.rates().cps, 0, "350/1024 rounds to 0 (0x1FF bias)");
        for _ in 0..20 {
            s.add_conn();
            s.add_conn();
            let next = s.next_tick_ns;
            s.catch_up(next, true);
        }
        assert_eq!(s.rates().cps, 1, "two per 2 s → 1 per second");
    }

    #[test]
    fn bytes_are_scaled_by_32_and_idle_time_decays_to_zero() {
        let mut s = Stats::new(0);
        for _ in 0..40 {
            s.add_in(1000);
            let next = s.next_tick_ns;
            s.catch_up(next, true);
        }
        assert_eq!(s.rates().inbps, 500);
        assert_eq!(s.rates().inpps, 0, "0.5 packets per second rounds down");
        s.catch_up(10_000 * TICK_NS, true);
        assert_eq!(s.rates(), Rates::default());
    }

    #[test]
    fn zero_restarts_counters_and_rates() {
        let mut s = Stats::new(0);
        s.add_conn();
        s.add_in(60);
        s.catch_up(2 * TICK_NS, true);
        s.zero();
        assert_eq!(s.counters(), Counters::default());
        assert_eq!(s.rates(), Rates::default());
        s.add_in(40);
        assert_eq!(s.counters().inbytes, 40);
    }

    #[test]
    fn the_grid_is_anchored_at_boot() {
        let mut s = Stats::new(3_500_000_000);
        assert_eq!(s.next_tick_ns, 4 * TICK_NS / 2);
        s.catch_up(3_999_999_999, true);
        assert_eq!(s.next_tick_ns, 4_000_000_000);
        s.catch_up(9_000_000_000, true);
        assert_eq!(s.next_tick_ns, 10_000_000_000);
    }
}
