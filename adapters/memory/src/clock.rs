//! Clocks: the system clock, and a manual one for tests of time-dependent rules.

use std::sync::Mutex;

use arcana_ports::clock::Clock;
use chrono::{DateTime, SubsecRound as _, TimeDelta, Utc};

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// Microsecond precision: what every storage backend keeps, so that a value returned by a
/// write is the value a later read returns.
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
