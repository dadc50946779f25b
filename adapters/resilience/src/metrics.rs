//! Prometheus collectors of every guard in the process, labelled by dependency.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

use arcana_ports::resilience::BreakerState;

/// Registered once per process; each [`Guard`](crate::Guard) writes under its dependency's
/// label.
#[derive(Clone)]
pub struct ResilienceMetrics {
    /// 0 closed, 1 open, 2 half-open.
    pub(crate) state: IntGaugeVec,
    /// Transitions by target state (`closed`, `open`, `half_open`).
    pub(crate) transitions: IntCounterVec,
    /// Calls refused by an open breaker (or while its one probe runs).
    pub(crate) rejections: IntCounterVec,
    /// Calls refused because the bulkhead stayed full for the whole call timeout.
    pub(crate) bulkhead_rejections: IntCounterVec,
    /// Calls cut short by the timeout.
    pub(crate) timeouts: IntCounterVec,
    /// Extra attempts of operations safe to retry.
    pub(crate) retries: IntCounterVec,
}

impl ResilienceMetrics {
    /// # Errors
    /// The names are already registered in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self::unregistered()?;
        registry.register(Box::new(metrics.state.clone()))?;
        registry.register(Box::new(metrics.transitions.clone()))?;
        registry.register(Box::new(metrics.rejections.clone()))?;
        registry.register(Box::new(metrics.bulkhead_rejections.clone()))?;
        registry.register(Box::new(metrics.timeouts.clone()))?;
        registry.register(Box::new(metrics.retries.clone()))?;
        Ok(metrics)
    }

    /// Collectors nobody scrapes, for processes without a metrics endpoint.
    ///
    /// # Errors
    /// Never with these constant names; the signature follows `prometheus`.
    pub fn unregistered() -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        Ok(Self {
            state: IntGaugeVec::new(
                Opts::new(
                    "arcana_circuit_breaker_state",
                    "Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open.",
                ),
                &["dependency"],
            )?,
            transitions: counter(
                "arcana_circuit_breaker_transitions_total",
                "Circuit breaker transitions, by dependency and state entered.",
                &["dependency", "to"],
            )?,
            rejections: counter(
                "arcana_circuit_breaker_rejections_total",
                "Calls refused at once by an open circuit breaker.",
                &["dependency"],
            )?,
            bulkhead_rejections: counter(
                "arcana_bulkhead_rejections_total",
                "Calls refused because too many calls to the dependency were in flight.",
                &["dependency"],
            )?,
            timeouts: counter(
                "arcana_dependency_timeouts_total",
                "Calls to a dependency cut short by the resilience timeout.",
                &["dependency"],
            )?,
            retries: counter(
                "arcana_dependency_retries_total",
                "Extra attempts of calls that are safe to retry.",
                &["dependency"],
            )?,
        })
    }

    pub(crate) fn set_state(&self, dependency: &str, state: BreakerState) {
        let value = match state {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        self.state.with_label_values(&[dependency]).set(value);
    }

    pub(crate) fn transition(&self, dependency: &str, state: BreakerState) {
        self.set_state(dependency, state);
        self.transitions
            .with_label_values(&[dependency, state.as_str()])
            .inc();
    }
}
