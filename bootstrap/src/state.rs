//! Where shared state lives: the session store (SQL, Redis or memory), the login-throttling
//! counters (memory or Redis) and the cache in front of user and session reads (none, moka,
//! Redis or both tiers).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_cache::{CachedSessionStore, CachedUserRepository, MeteredCache, MokaCache};
use arcana_adapter_memory::{InMemorySessionStore, InMemoryThrottleStore};
use arcana_adapter_redis::{
    RedisCache, RedisConnection, RedisHealth, RedisSessionStore, RedisSettings, RedisThrottleStore,
    TieredCache,
};
use arcana_adapter_resilience::{Guard, ResilientThrottleStore};
use arcana_ports::cache::Cache;
use arcana_ports::health::HealthCheck;
use arcana_ports::sessions::SessionStore;
use arcana_ports::throttle::ThrottleStore;
use arcana_ports::users::UserRepository;

use crate::config::{CacheBackend, SessionBackend, Settings, ThrottleBackend};
use crate::resilience;
use crate::storage::Storage;

/// The stores the application uses, decorated with the configured cache.
pub(crate) struct SharedState {
    pub(crate) users: Arc<dyn UserRepository>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) throttle: Arc<dyn ThrottleStore>,
    /// Readiness checks of Redis, in each role it plays.
    pub(crate) health: Vec<Arc<dyn HealthCheck>>,
}

/// Must run inside the tokio runtime when Redis is configured (the Redis cache starts its
/// background tasks).
pub(crate) fn build(
    settings: &Settings,
    storage: &Storage,
    registry: &prometheus::Registry,
    redis_guard: Option<&Arc<Guard>>,
) -> anyhow::Result<SharedState> {
    let redis = redis_connection(settings)?;
    let mut health: Vec<Arc<dyn HealthCheck>> = Vec::new();
    let sessions = session_store(settings, storage, redis.as_ref(), &mut health, redis_guard)?;
    let throttle = throttle_store(settings, redis.as_ref(), redis_guard)?;
    let Some(store) = cache_store(settings, storage, redis, &mut health)? else {
        return Ok(SharedState {
            users: storage.users.clone(),
            sessions,
            throttle,
            health,
        });
    };
    let metered: Arc<dyn Cache> =
        Arc::new(MeteredCache::new(store, registry).context("registering the cache metrics")?);
    let ttl = Duration::from_secs(settings.cache.ttl_secs);
    Ok(SharedState {
        users: Arc::new(CachedUserRepository::new(
            storage.users.clone(),
            metered.clone(),
            ttl,
        )),
        sessions: Arc::new(CachedSessionStore::new(sessions, metered, ttl)),
        throttle,
        health,
    })
}

/// The store of `sessions.backend`; Redis-held sessions are a required dependency.
fn session_store(
    settings: &Settings,
    storage: &Storage,
    redis: Option<&RedisConnection>,
    health: &mut Vec<Arc<dyn HealthCheck>>,
    redis_guard: Option<&Arc<Guard>>,
) -> anyhow::Result<Arc<dyn SessionStore>> {
    Ok(match settings.sessions.backend {
        SessionBackend::Sql => storage.sessions.clone(),
        SessionBackend::Memory => Arc::new(InMemorySessionStore::new()),
        SessionBackend::Redis => {
            let redis = redis
                .cloned()
                .context("sessions.backend = redis needs redis.url")?;
            let (store, check) = resilience::sessions(
                Arc::new(RedisSessionStore::new(redis.clone())),
                Arc::new(RedisHealth::new(redis, "sessions", true)),
                redis_guard.cloned(),
            );
            health.push(check);
            store
        }
    })
}

/// The login-throttling counters of `rate_limit.store`; in Redis, behind its guard.
fn throttle_store(
    settings: &Settings,
    redis: Option<&RedisConnection>,
    redis_guard: Option<&Arc<Guard>>,
) -> anyhow::Result<Arc<dyn ThrottleStore>> {
    Ok(match settings.rate_limit.store {
        ThrottleBackend::Memory => Arc::new(InMemoryThrottleStore::new()),
        ThrottleBackend::Redis => {
            let redis = redis
                .cloned()
                .context("rate_limit.store = redis needs redis.url")?;
            let store: Arc<dyn ThrottleStore> = Arc::new(RedisThrottleStore::new(redis));
            match redis_guard {
                Some(guard) => Arc::new(ResilientThrottleStore::new(store, guard.clone())),
                None => store,
            }
        }
    })
}

/// The cache of `cache.backend`, if any; a Redis-backed cache is an optional dependency.
fn cache_store(
    settings: &Settings,
    storage: &Storage,
    redis: Option<RedisConnection>,
    health: &mut Vec<Arc<dyn HealthCheck>>,
) -> anyhow::Result<Option<Arc<dyn Cache>>> {
    let cache = &settings.cache;
    Ok(match cache.backend {
        CacheBackend::None => None,
        CacheBackend::Memory => {
            if storage.shared {
                tracing::warn!(
                    "cache.backend = memory with a shared database: other processes' writes \
                     reach this process's cache only at expiry; use tiered for several processes"
                );
            }
            Some(Arc::new(MokaCache::new(cache.max_entries)))
        }
        CacheBackend::Redis | CacheBackend::Tiered => {
            let redis = redis.context("cache.backend = redis | tiered needs redis.url")?;
            health.push(Arc::new(RedisHealth::new(redis.clone(), "cache", false)));
            Some(if cache.backend == CacheBackend::Redis {
                Arc::new(RedisCache::new(redis))
            } else {
                let local_ttl = Duration::from_secs(cache.local_ttl_secs);
                Arc::new(TieredCache::new(&redis, cache.max_entries, local_ttl))
            })
        }
    })
}

pub(crate) fn redis_connection(settings: &Settings) -> anyhow::Result<Option<RedisConnection>> {
    let Some(url) = &settings.redis.url else {
        return Ok(None);
    };
    let connection = RedisConnection::connect_lazy(&RedisSettings {
        url: url.expose().to_owned(),
        key_prefix: settings.redis.key_prefix.clone(),
        timeout: Duration::from_millis(settings.redis.timeout_ms),
    })?;
    Ok(Some(connection))
}
