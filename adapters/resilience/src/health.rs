//! A dependency's readiness check that also reports its breaker.

use std::sync::Arc;

use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::resilience::BreakerState;
use async_trait::async_trait;

use crate::guard::Guard;

/// The check itself goes straight to the dependency, not through the breaker: it is how an
/// operator sees whether the dependency is back while the breaker is still open.
pub struct GuardedHealth {
    inner: Arc<dyn HealthCheck>,
    guard: Arc<Guard>,
}

impl GuardedHealth {
    pub fn new(inner: Arc<dyn HealthCheck>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl HealthCheck for GuardedHealth {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn required(&self) -> bool {
        self.inner.required()
    }

    async fn check(&self) -> Health {
        self.inner.check().await
    }

    fn breaker(&self) -> Option<BreakerState> {
        self.guard.breaker_state()
    }
}
