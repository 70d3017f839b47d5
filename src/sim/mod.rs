//! The discrete-event core: simulated time, the event queue, seeded randomness and the world
//! loop.

pub mod queue;
pub mod rng;
pub mod time;
pub mod world;

pub use queue::EventQueue;
pub use rng::SimRng;
pub use time::SimTime;

/// Asks the CPU to start loading the cache line at `p`: the next event's frame, read one event
/// later, is then in cache instead of a memory stall. A hint only: it never faults and has no
/// effect on what the program computes.
#[inline(always)]
pub fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 does not access memory architecturally and cannot fault, whatever
    // the address; `p` comes from a live slice anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
