//! Port conformance: one set of contract cases per driven port, run unchanged against every
//! adapter of that port — memory, SQLite, PostgreSQL, MySQL/MariaDB, Redis, the caching
//! decorators, and the repository tier's remote clients over internal gRPC — plus the `Cache`,
//! `LeaderLock`, `ThrottleStore`, `RateLimiter` and `JobQueue`/`Scheduler` suites (`cache.rs`,
//! `locks.rs`, `throttle.rs`, `ratelimit.rs`, `jobs.rs`).
//!
//! Each backend is one test that runs every case on a fresh store (its own database or file),
//! so no case depends on another or on test order, reports every failing case by name, and
//! prints how many cases ran.

mod audit;
mod cache;
mod fixtures;
mod harness;
mod jobs;
mod jobs_admin;
mod jobs_batch;
mod locks;
mod plugin_kv;
mod ratelimit;
mod remote;
mod sessions;
mod throttle;
mod users;

use harness::{Backend, run_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_adapters_honour_every_port_contract() {
    run_all(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_adapters_honour_every_port_contract() {
    run_all(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_adapters_honour_every_port_contract() {
    run_all(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_adapters_honour_every_port_contract() {
    run_all(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_session_store_honours_the_session_contract() {
    run_all(Backend::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_aside_decorators_over_the_tiered_cache_keep_the_store_contracts() {
    run_all(Backend::Tiered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_aside_decorators_over_the_moka_cache_keep_the_store_contracts() {
    run_all(Backend::MokaCached).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_tier_over_internal_grpc_honours_every_storage_contract() {
    run_all(Backend::RepositoryTier).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_tier_over_internal_http_honours_every_storage_contract() {
    run_all(Backend::RepositoryTierHttp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moka_cache_honours_the_cache_contract() {
    cache::run(cache::CacheKind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cache_honours_the_cache_contract() {
    cache::run(cache::CacheKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiered_cache_honours_the_cache_contract() {
    cache::run(cache::CacheKind::Tiered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_lock_honours_the_lock_contract() {
    locks::run(locks::LockKind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lock_honours_the_lock_contract() {
    locks::run(locks::LockKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_login_counters_honour_the_throttle_contract() {
    throttle::run(throttle::ThrottleKind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_login_counters_honour_the_throttle_contract() {
    throttle::run(throttle::ThrottleKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_rate_limiter_honours_the_rate_limit_contract() {
    ratelimit::run(ratelimit::LimiterKind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rate_limiter_honours_the_rate_limit_contract() {
    ratelimit::run(ratelimit::LimiterKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leasing_redis_rate_limiter_honours_the_rate_limit_contract() {
    ratelimit::run(ratelimit::LimiterKind::RedisLeasing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leased_rate_limit_units_come_out_of_the_shared_bucket() {
    ratelimit::leased_units_come_out_of_the_shared_bucket().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rate_limit_checks_share_each_lease() {
    ratelimit::concurrent_requests_share_each_lease().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_job_queue_honours_the_queue_contract() {
    jobs::run(jobs::QueueKind::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_job_queue_honours_the_queue_contract() {
    jobs::run(jobs::QueueKind::Redis).await;
}
