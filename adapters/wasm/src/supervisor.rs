//! The failure budget: a plugin that traps or times out repeatedly is quarantined with growing
//! backoff, then put on probation, where its first failure sends it back.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureBudget {
    /// Failures within `window` that quarantine a plugin.
    pub max_failures: usize,
    pub window: Duration,
    /// First quarantine; each further one doubles it, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for FailureBudget {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_mins(1),
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_mins(15),
        }
    }
}

/// What the supervisor decided after an event; the host logs, counts and audits transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Quarantined {
        until: DateTime<Utc>,
        backoff: Duration,
    },
    Restored,
}

#[derive(Debug)]
pub struct Supervisor {
    budget: FailureBudget,
    failures: VecDeque<Instant>,
    quarantined_until: Option<(Instant, DateTime<Utc>)>,
    /// How many quarantines in a row (without a success on probation in between).
    level: u32,
    probation: bool,
}

impl Supervisor {
    pub fn new(budget: FailureBudget) -> Self {
        Self {
            budget,
            failures: VecDeque::new(),
            quarantined_until: None,
            level: 0,
            probation: false,
        }
    }

    /// Whether the plugin may be called now; a quarantine whose time is up turns into probation.
    pub fn admit(&mut self, now: Instant) -> (bool, Transition) {
        match self.quarantined_until {
            Some((until, _)) if now < until => (false, Transition::None),
            Some(_) => {
                self.quarantined_until = None;
                self.probation = true;
                self.failures.clear();
                (true, Transition::Restored)
            }
            None => (true, Transition::None),
        }
    }

    pub fn success(&mut self) {
        if self.probation {
            self.probation = false;
            self.level = 0;
        }
    }

    pub fn failure(&mut self, now: Instant) -> Transition {
        if self.quarantined_until.is_some() {
            // A call that started before the quarantine; already accounted for.
            return Transition::None;
        }
        self.failures.push_back(now);
        while self
            .failures
            .front()
            .is_some_and(|at| now.duration_since(*at) > self.budget.window)
        {
            self.failures.pop_front();
        }
        if !self.probation && self.failures.len() < self.budget.max_failures {
            return Transition::None;
        }
        let factor = 2u32.saturating_pow(self.level.min(16));
        let backoff = self
            .budget
            .backoff
            .saturating_mul(factor)
            .min(self.budget.max_backoff);
        self.level += 1;
        self.probation = false;
        self.failures.clear();
        let until = Utc::now() + chrono::Duration::from_std(backoff).unwrap_or_default();
        self.quarantined_until = Some((now + backoff, until));
        Transition::Quarantined { until, backoff }
    }

    /// An operator enabled the plugin: the quarantine and its history are forgotten.
    pub fn clear(&mut self) {
        *self = Self::new(self.budget);
    }

    pub fn quarantined_until(&self) -> Option<DateTime<Utc>> {
        self.quarantined_until.map(|(_, at)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> FailureBudget {
        FailureBudget {
            max_failures: 3,
            window: Duration::from_mins(1),
            backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(25),
        }
    }

    #[test]
    fn the_nth_failure_in_the_window_quarantines_then_probation_requarantines_longer() {
        let mut supervisor = Supervisor::new(budget());
        let t0 = Instant::now();
        assert_eq!(supervisor.failure(t0), Transition::None);
        assert_eq!(supervisor.failure(t0), Transition::None);
        let Transition::Quarantined { backoff, .. } = supervisor.failure(t0) else {
            panic!("third failure must quarantine")
        };
        assert_eq!(backoff, Duration::from_secs(10));
        assert_eq!(
            supervisor.admit(t0 + Duration::from_secs(5)),
            (false, Transition::None)
        );
        assert_eq!(
            supervisor.admit(t0 + Duration::from_secs(11)),
            (true, Transition::Restored)
        );
        // On probation the first failure is enough, and the backoff doubles (capped).
        let Transition::Quarantined { backoff, .. } =
            supervisor.failure(t0 + Duration::from_secs(12))
        else {
            panic!("a failure on probation must quarantine")
        };
        assert_eq!(backoff, Duration::from_secs(20));
        let t1 = t0 + Duration::from_secs(40);
        assert!(supervisor.admit(t1).0);
        let Transition::Quarantined { backoff, .. } = supervisor.failure(t1) else {
            panic!()
        };
        assert_eq!(backoff, Duration::from_secs(25), "capped at max_backoff");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten_and_success_ends_probation() {
        let mut supervisor = Supervisor::new(budget());
        let t0 = Instant::now();
        supervisor.failure(t0);
        supervisor.failure(t0);
        assert_eq!(
            supervisor.failure(t0 + Duration::from_secs(61)),
            Transition::None
        );
        supervisor.failure(t0 + Duration::from_secs(62));
        assert!(matches!(
            supervisor.failure(t0 + Duration::from_secs(62)),
            Transition::Quarantined { .. }
        ));
        assert!(supervisor.admit(t0 + Duration::from_secs(80)).0);
        supervisor.success();
        assert_eq!(
            supervisor.failure(t0 + Duration::from_secs(81)),
            Transition::None,
            "probation over"
        );
    }
}
