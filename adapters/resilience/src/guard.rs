//! One dependency's protection: retry (safe operations only) around bulkhead, breaker and
//! timeout.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::resilience::BreakerState;
use backon::{ExponentialBuilder, Retryable as _};
use failsafe::futures::CircuitBreaker as _;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::breaker::Breaker;
use crate::failure::{BulkheadFull, Failure, Safety};
use crate::metrics::ResilienceMetrics;

/// What to do around one dependency's calls; each part can be switched off on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Each call (one attempt) must answer within this; `None` leaves it to the adapter.
    pub timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    pub breaker: Option<BreakerPolicy>,
    /// At most this many calls in flight; a call waits for a slot at most `timeout` (or
    /// fails at once without one). `None`: no bound.
    pub max_concurrent: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: usize,
    /// Delay before the first retry; each next one doubles, jittered, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive dependency failures that open the breaker.
    pub failures: u32,
    /// First open period (at least one second), growing up to `max_open` while probes fail.
    pub open: Duration,
    pub max_open: Duration,
}

/// The protection of one dependency, shared by every decorator in front of it (one breaker
/// per dependency, whatever port reaches it).
pub struct Guard {
    dependency: &'static str,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    breaker: Option<Breaker>,
    bulkhead: Option<Arc<Semaphore>>,
    metrics: ResilienceMetrics,
}

impl Guard {
    pub fn new(dependency: &'static str, policy: &Policy, metrics: &ResilienceMetrics) -> Self {
        let breaker = policy.breaker.as_ref().map(|breaker| {
            Breaker::new(
                dependency,
                breaker.failures.max(1),
                (breaker.open, breaker.max_open),
                metrics.clone(),
            )
        });
        Self {
            dependency,
            timeout: policy.timeout,
            retry: policy.retry.clone().filter(|retry| retry.max_retries > 0),
            breaker,
            bulkhead: policy
                .max_concurrent
                .map(|n| Arc::new(Semaphore::new(n.max(1)))),
            metrics: metrics.clone(),
        }
    }

    pub fn dependency(&self) -> &'static str {
        self.dependency
    }

    /// The breaker's state, `None` when the breaker is switched off.
    pub fn breaker_state(&self) -> Option<BreakerState> {
        self.breaker.as_ref().map(Breaker::state)
    }

    /// Runs `op` (which starts one attempt each time it is called) under the policy. Only
    /// [`Safety::Idempotent`] operations are retried, only after a dependency failure, and
    /// never after the guard itself refused the call.
    ///
    /// The whole call, retries included, is one `dependency_call` span (debug level, fields
    /// `dependency` and `operation`, e.g. `users.find_by_id`): exported with the request's
    /// trace when trace export is on, and otherwise a disabled span that costs a load.
    ///
    /// # Errors
    /// The operation's own error, a timeout as [`Failure::timed_out`], or a refusal.
    pub async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        safety: Safety,
        op: F,
    ) -> Result<T, E>
    where
        E: Failure,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let span = tracing::debug_span!("dependency_call", dependency = self.dependency, operation);
        self.attempts(safety, op).instrument(span).await
    }

    async fn attempts<T, E, F, Fut>(&self, safety: Safety, op: F) -> Result<T, E>
    where
        E: Failure,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let (Some(retry), Safety::Idempotent) = (&self.retry, safety) else {
            return self.once(op()).await;
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(retry.base_delay)
            .with_max_delay(retry.max_delay)
            .with_max_times(retry.max_retries)
            .with_jitter();
        (|| self.once(op()))
            .retry(backoff)
            .when(|err: &E| err.is_dependency_failure() && !err.is_refusal())
            .notify(|_, delay| {
                self.metrics
                    .retries
                    .with_label_values(&[self.dependency])
                    .inc();
                tracing::debug!(dependency = self.dependency, ?delay, "retrying a safe call");
            })
            .await
    }

    /// One attempt: a bulkhead slot, the breaker's permission, the call within the timeout.
    async fn once<T, E: Failure>(&self, call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        let _slot = match &self.bulkhead {
            Some(bulkhead) => Some(self.slot(bulkhead).await?),
            None => None,
        };
        let Some(breaker) = &self.breaker else {
            return self.timed(call).await;
        };
        let _probe = breaker
            .admit()
            .map_err(|open| E::refused(anyhow::Error::new(open)))?;
        // The timeout runs inside the breaker's future: failsafe records an outcome only when
        // its future completes, so a call dropped by an outer timeout would count as nothing.
        let counted = |err: &E| err.is_dependency_failure();
        match breaker.machine.call_with(counted, self.timed(call)).await {
            Ok(value) => Ok(value),
            Err(failsafe::Error::Inner(err)) => Err(err),
            Err(failsafe::Error::Rejected) => {
                Err(E::refused(anyhow::Error::new(breaker.rejected())))
            }
        }
    }

    async fn slot<E: Failure>(
        &self,
        bulkhead: &Arc<Semaphore>,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, E> {
        let acquire = bulkhead.clone().acquire_owned();
        let permit = match self.timeout {
            Some(timeout) => tokio::time::timeout(timeout, acquire).await.ok(),
            None => Some(acquire.await),
        };
        if let Some(Ok(permit)) = permit {
            return Ok(permit);
        }
        self.metrics
            .bulkhead_rejections
            .with_label_values(&[self.dependency])
            .inc();
        Err(E::refused(anyhow::Error::new(BulkheadFull {
            dependency: self.dependency,
        })))
    }

    async fn timed<T, E: Failure>(&self, call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        let Some(timeout) = self.timeout else {
            return call.await;
        };
        if let Ok(outcome) = tokio::time::timeout(timeout, call).await {
            outcome
        } else {
            self.metrics
                .timeouts
                .with_label_values(&[self.dependency])
                .inc();
            Err(E::timed_out(self.dependency, timeout))
        }
    }
}
