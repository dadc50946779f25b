//! Redis adapters: the shared [`RedisCache`] and the two-tier [`TieredCache`] (moka in front,
//! kept coherent across processes by pub/sub), the [`RedisSessionStore`], the cluster-wide
//! login counters ([`RedisThrottleStore`]), the job queue and cron schedules
//! ([`RedisJobQueue`], [`RedisScheduler`]) and the [`RedisLeaderLock`] with fencing tokens.
//!
//! Every multi-step change is one Lua script, so it is atomic on the server. Scripts touch keys
//! derived from their arguments, which a single Redis (or a Sentinel-managed primary) allows;
//! Redis Cluster is not supported. All keys start with the configured prefix, so several
//! deployments (or test runs) can share one server.

mod cache;
mod connection;
mod health;
mod jobs;
mod lock;
mod ratelimit;
mod sessions;
mod throttle;
mod tiered;

pub use cache::RedisCache;
pub use connection::{RedisConnection, RedisSettings};
pub use health::RedisHealth;
pub use jobs::{RedisJobQueue, RedisScheduler};
pub use lock::RedisLeaderLock;
pub use ratelimit::RedisRateLimiter;
pub use sessions::RedisSessionStore;
pub use throttle::RedisThrottleStore;
pub use tiered::TieredCache;
