//! The discrete-event core: simulated time, the event queue, seeded randomness and the world
//! loop.

pub mod queue;
pub mod rng;
pub mod time;
pub mod world;

pub use queue::EventQueue;
pub use rng::SimRng;
pub use time::SimTime;
