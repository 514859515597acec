//! Where time comes from: the watcher's debouncing and rescans, the writer's
//! checkpoint pacing and its backoff after a failed write. The product uses
//! [`SystemClock`]; tests pass a [`ManualClock`] and move it by hand, so
//! timing rules are tested without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where time comes from (a fake one in tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told (tests).
pub struct ManualClock(Mutex<Instant>);

impl ManualClock {
    /// Starts at the real time now.
    pub fn new() -> ManualClock {
        ManualClock(Mutex::new(Instant::now()))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
