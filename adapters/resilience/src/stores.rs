//! The ports of shared state behind a [`Guard`]: login-throttling counters and the shared rate
//! limiter (Redis), and plugins' key-value state (the database or the repository tier). Guarded
//! like the account stores, so that a Redis that stops answering costs the first calls its
//! timeout and every later one nothing until it answers again.

use std::sync::Arc;

use arcana_domain::plugin::{PluginKey, PluginName};
use arcana_ports::StoreError;
use arcana_ports::plugins::PluginKv;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use arcana_ports::throttle::{Attempts, ThrottleStore};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::failure::Safety::{Idempotent, Once};
use crate::guard::Guard;

pub struct ResilientThrottleStore {
    inner: Arc<dyn ThrottleStore>,
    guard: Arc<Guard>,
}

impl ResilientThrottleStore {
    pub fn new(inner: Arc<dyn ThrottleStore>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl ThrottleStore for ResilientThrottleStore {
    async fn get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Attempts>, StoreError> {
        let get = || self.inner.get(key, now);
        self.guard.call("throttle.get", Idempotent, get).await
    }

    /// A count: repeated, it would count the failure twice.
    async fn record_failure(
        &self,
        key: &str,
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Attempts, StoreError> {
        let record = || self.inner.record_failure(key, window, now);
        self.guard
            .call("throttle.record_failure", Once, record)
            .await
    }

    async fn lock(&self, key: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        let lock = || self.inner.lock(key, until);
        self.guard.call("throttle.lock", Idempotent, lock).await
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let clear = || self.inner.clear(key);
        self.guard.call("throttle.clear", Idempotent, clear).await
    }
}

/// The shared limiter behind the guard: while its breaker is open a check fails at once, and
/// the caller lets the request through as it does for any limiter outage.
pub struct ResilientRateLimiter {
    inner: Arc<dyn RateLimiter>,
    guard: Arc<Guard>,
}

impl ResilientRateLimiter {
    pub fn new(inner: Arc<dyn RateLimiter>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl RateLimiter for ResilientRateLimiter {
    fn quota(&self, class: LimitClass) -> Quota {
        self.inner.quota(class)
    }

    /// Spends a token: never repeated.
    async fn check(&self, class: LimitClass, subject: &Subject) -> Result<Verdict, StoreError> {
        let check = || self.inner.check(class, subject);
        self.guard.call("ratelimit.check", Once, check).await
    }
}

pub struct ResilientPluginKv {
    inner: Arc<dyn PluginKv>,
    guard: Arc<Guard>,
}

impl ResilientPluginKv {
    pub fn new(inner: Arc<dyn PluginKv>, guard: Arc<Guard>) -> Self {
        Self { inner, guard }
    }
}

#[async_trait]
impl PluginKv for ResilientPluginKv {
    async fn get(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let get = || self.inner.get(plugin, key);
        self.guard.call("plugin_kv.get", Idempotent, get).await
    }

    async fn put(
        &self,
        plugin: &PluginName,
        key: &PluginKey,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let put = || self.inner.put(plugin, key, value);
        self.guard.call("plugin_kv.put", Idempotent, put).await
    }

    /// Its answer says whether the key existed: a repeat would answer `false`.
    async fn delete(&self, plugin: &PluginName, key: &PluginKey) -> Result<bool, StoreError> {
        let delete = || self.inner.delete(plugin, key);
        self.guard.call("plugin_kv.delete", Once, delete).await
    }

    async fn keys(
        &self,
        plugin: &PluginName,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PluginKey>, StoreError> {
        let keys = || self.inner.keys(plugin, prefix, limit);
        self.guard.call("plugin_kv.keys", Idempotent, keys).await
    }
}
