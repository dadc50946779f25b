//! The circuit breaker: `failsafe`'s state machine, observed through its instrument callbacks
//! (it has no public state getter), with a gate that lets a single probe through in half-open
//! (failsafe itself lets every concurrent call through in that state).

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arcana_ports::resilience::{BreakerState, CircuitOpen};
use failsafe::backoff::{self, EqualJittered};
use failsafe::failure_policy::{self, ConsecutiveFailures};
use failsafe::{Config, Instrument, StateMachine};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::ResilienceMetrics;

/// How long a caller refused during a running probe should wait: the probe answers within the
/// call timeout, usually far sooner.
const PROBE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What the instrument callbacks and the backoff write, and the guard reads.
pub(crate) struct Observed {
    dependency: &'static str,
    state: AtomicU8,
    /// The open period failsafe drew last from the backoff, in milliseconds: failsafe keeps it
    /// private, and `Retry-After` needs it.
    last_delay_ms: AtomicU64,
    /// When the current open period ends.
    open_until: Mutex<Option<Instant>>,
    metrics: ResilienceMetrics,
}

impl Observed {
    fn state(&self) -> BreakerState {
        match self.state.load(Ordering::Acquire) {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    fn enter(&self, state: BreakerState) {
        let code = match state {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        let previous = self.state.swap(code, Ordering::AcqRel);
        if previous != code {
            tracing::warn!(
                dependency = self.dependency,
                state = state.as_str(),
                "circuit breaker changed state"
            );
            self.metrics.transition(self.dependency, state);
        }
    }

    fn open_until(&self) -> Option<Instant> {
        *self
            .open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// failsafe's instrument: the only way to learn its state.
#[derive(Clone)]
pub(crate) struct Observer(Arc<Observed>);

impl Instrument for Observer {
    fn on_call_rejected(&self) {
        self.0
            .metrics
            .rejections
            .with_label_values(&[self.0.dependency])
            .inc();
    }

    fn on_open(&self) {
        let delay = Duration::from_millis(self.0.last_delay_ms.load(Ordering::Acquire));
        *self
            .0
            .open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + delay);
        self.0.enter(BreakerState::Open);
    }

    fn on_half_open(&self) {
        self.0.enter(BreakerState::HalfOpen);
    }

    fn on_closed(&self) {
        self.0.enter(BreakerState::Closed);
    }
}

/// failsafe's jittered exponential backoff, remembering each open period it hands out.
#[derive(Clone)]
pub(crate) struct ObservedBackoff {
    inner: EqualJittered,
    observed: Arc<Observed>,
}

impl Iterator for ObservedBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.inner.next()?;
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.observed.last_delay_ms.store(millis, Ordering::Release);
        Some(delay)
    }
}

pub(crate) type Machine = StateMachine<ConsecutiveFailures<ObservedBackoff>, Observer>;

/// One dependency's breaker.
pub(crate) struct Breaker {
    pub(crate) machine: Machine,
    observed: Arc<Observed>,
    /// One permit: the single call allowed through once the open period has ended.
    probe: Arc<Semaphore>,
}

impl Breaker {
    /// Opens after `failures` consecutive dependency failures, for `open` at first, growing
    /// (jittered) up to `max_open` while probes keep failing. Both are at least one second
    /// (failsafe's backoff refuses less).
    pub(crate) fn new(
        dependency: &'static str,
        failures: u32,
        (open, max_open): (Duration, Duration),
        metrics: ResilienceMetrics,
    ) -> Self {
        let observed = Arc::new(Observed {
            dependency,
            state: AtomicU8::new(0),
            last_delay_ms: AtomicU64::new(0),
            open_until: Mutex::new(None),
            metrics,
        });
        observed.metrics.set_state(dependency, BreakerState::Closed);
        let backoff = ObservedBackoff {
            inner: backoff::equal_jittered(open, max_open.max(open)),
            observed: observed.clone(),
        };
        let machine = Config::new()
            .failure_policy(failure_policy::consecutive_failures(failures, backoff))
            .instrument(Observer(observed.clone()))
            .build();
        Self {
            machine,
            observed,
            probe: Arc::new(Semaphore::new(1)),
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        self.observed.state()
    }

    /// Whether a call may go to the dependency now. `Ok(Some(permit))` is the half-open probe:
    /// hold it until the call is recorded. Refusals carry when to come back.
    pub(crate) fn admit(&self) -> Result<Option<OwnedSemaphorePermit>, CircuitOpen> {
        let open_until = match self.state() {
            BreakerState::Closed => return Ok(None),
            BreakerState::Open => self.observed.open_until(),
            BreakerState::HalfOpen => None,
        };
        let now = Instant::now();
        if let Some(until) = open_until.filter(|until| *until > now) {
            // failsafe refuses it too (and counts the rejection); refusing here avoids
            // building the call at all.
            return Err(self.refuse(until - now));
        }
        // Whoever takes the permit is the probe; everyone else waits for its outcome.
        if let Ok(permit) = self.probe.clone().try_acquire_owned() {
            Ok(Some(permit))
        } else {
            Err(self.refuse(PROBE_RETRY_AFTER))
        }
    }

    fn refuse(&self, left: Duration) -> CircuitOpen {
        self.observed
            .metrics
            .rejections
            .with_label_values(&[self.observed.dependency])
            .inc();
        self.refusal(left)
    }

    /// The refusal of a call failsafe rejected itself.
    pub(crate) fn rejected(&self) -> CircuitOpen {
        let left = self
            .observed
            .open_until()
            .map_or(PROBE_RETRY_AFTER, |until| {
                until.saturating_duration_since(Instant::now())
            });
        self.refusal(left)
    }

    fn refusal(&self, left: Duration) -> CircuitOpen {
        CircuitOpen {
            dependency: self.observed.dependency,
            // Whole seconds for `Retry-After`, never zero.
            retry_after: Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0))
                .max(Duration::from_secs(1)),
        }
    }
}
