//! The inbound rate limiter of `rate_limit.*`: in this process (governor) or shared in Redis.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arcana_adapter_grpc::GrpcLimits;
use arcana_adapter_redis::RedisRateLimiter;
use arcana_adapter_resilience::{GovernorRateLimiter, Guard, ResilientRateLimiter};
use arcana_ports::ratelimit::RateLimiter;
use prometheus::{IntCounterVec, Opts};

use crate::config::{Settings, ThrottleBackend};

/// How often the in-process limiter forgets clients whose buckets are full again: the key set
/// then holds the clients of the last few seconds, however many came and went before.
const EVICT_EVERY: Duration = Duration::from_secs(10);

/// `None` when `rate_limit.enabled` is false. A limiter in Redis goes behind `redis_guard`, the
/// process's one guard of Redis. Must run inside the tokio runtime.
pub(crate) fn limiter(
    settings: &Settings,
    redis_guard: Option<&Arc<Guard>>,
) -> anyhow::Result<Option<Arc<dyn RateLimiter>>> {
    let limits = &settings.rate_limit;
    if !limits.enabled {
        return Ok(None);
    }
    let (per_ip, per_user, auth) = (
        limits.per_ip.quota(),
        limits.per_user.quota(),
        limits.auth.quota(),
    );
    Ok(Some(match limits.store {
        ThrottleBackend::Memory => {
            let limiter = Arc::new(GovernorRateLimiter::new(per_ip, per_user, auth));
            // The task holds the limiter weakly and ends with it.
            drop(limiter.evict_every(EVICT_EVERY));
            limiter
        }
        ThrottleBackend::Redis => {
            let redis = crate::state::redis_connection(settings)?
                .context("rate_limit.store = redis needs redis.url")?;
            let limiter: Arc<dyn RateLimiter> = Arc::new(
                RedisRateLimiter::new(redis, per_ip, per_user, auth).with_lease(limits.redis_lease),
            );
            match redis_guard {
                Some(guard) => Arc::new(ResilientRateLimiter::new(limiter, guard.clone())),
                None => limiter,
            }
        }
    }))
}

/// The gRPC side of the same limiter, with its rejection counter registered.
pub(crate) fn grpc(
    limiter: Option<Arc<dyn RateLimiter>>,
    registry: &prometheus::Registry,
) -> anyhow::Result<Option<GrpcLimits>> {
    let Some(limiter) = limiter else {
        return Ok(None);
    };
    let refused = IntCounterVec::new(
        Opts::new(
            "grpc_rate_limited_total",
            "gRPC calls refused with RESOURCE_EXHAUSTED by an inbound rate limit, by class.",
        ),
        &["class"],
    )?;
    registry.register(Box::new(refused.clone()))?;
    Ok(Some(GrpcLimits {
        limiter,
        limited: refused,
    }))
}
