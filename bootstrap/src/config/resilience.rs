//! `resilience.*`: the decorators around each outbound dependency (docs/RESILIENCE.md).

use std::time::Duration;

use arcana_adapter_resilience::{BreakerPolicy, Policy, RetryPolicy};
use serde::{Deserialize, Serialize};

/// One table per dependency, each complete in `config/default.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResilienceSettings {
    /// The SQL database (monolith, repository tier, worker).
    pub(crate) database: DependencyResilience,
    /// Redis as the session store.
    pub(crate) redis: DependencyResilience,
    /// The repository tier, as the service tier and the worker reach it.
    pub(crate) repository: DependencyResilience,
    /// The service tier, as the controller reaches it.
    pub(crate) service: DependencyResilience,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DependencyResilience {
    pub(crate) enabled: bool,
    pub(crate) timeout_ms: u64,
    pub(crate) retries: usize,
    pub(crate) retry_base_delay_ms: u64,
    pub(crate) retry_max_delay_ms: u64,
    pub(crate) breaker_enabled: bool,
    pub(crate) breaker_failures: u32,
    pub(crate) breaker_open_secs: u64,
    pub(crate) breaker_max_open_secs: u64,
    pub(crate) max_concurrent: usize,
}

impl DependencyResilience {
    /// The decorators' policy; `None` when the whole table is switched off.
    pub(crate) fn policy(&self) -> Option<Policy> {
        if !self.enabled {
            return None;
        }
        let positive = |value: u64| (value > 0).then_some(value);
        Some(Policy {
            timeout: positive(self.timeout_ms).map(Duration::from_millis),
            retry: (self.retries > 0).then(|| RetryPolicy {
                max_retries: self.retries,
                base_delay: Duration::from_millis(self.retry_base_delay_ms),
                max_delay: Duration::from_millis(self.retry_max_delay_ms),
            }),
            breaker: self.breaker_enabled.then(|| BreakerPolicy {
                failures: self.breaker_failures,
                open: Duration::from_secs(self.breaker_open_secs),
                max_open: Duration::from_secs(self.breaker_max_open_secs),
            }),
            max_concurrent: (self.max_concurrent > 0).then_some(self.max_concurrent),
        })
    }
}

/// Reports every inconsistent value of every table.
pub(super) fn check(settings: &ResilienceSettings, errors: &mut Vec<String>) {
    let tables = [
        ("database", &settings.database),
        ("redis", &settings.redis),
        ("repository", &settings.repository),
        ("service", &settings.service),
    ];
    for (name, table) in tables {
        if !table.breaker_enabled {
            continue;
        }
        if table.breaker_failures == 0 {
            errors.push(format!(
                "resilience.{name}.breaker_failures must be at least 1"
            ));
        }
        // failsafe's jittered backoff works in whole seconds and refuses zero.
        if table.breaker_open_secs == 0 || table.breaker_max_open_secs < table.breaker_open_secs {
            errors.push(format!(
                "resilience.{name}: breaker_open_secs must be at least 1 and at most \
                 breaker_max_open_secs"
            ));
        }
        if table.retry_max_delay_ms < table.retry_base_delay_ms {
            errors.push(format!(
                "resilience.{name}.retry_max_delay_ms must be at least retry_base_delay_ms"
            ));
        }
    }
}
