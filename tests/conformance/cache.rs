//! `Cache` contract cases, run against the moka, Redis and two-tier caches. The shared caches
//! also run the cross-process cases with a second instance standing for another process.

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_cache::MokaCache;
use arcana_adapter_redis::{RedisCache, TieredCache};
use arcana_ports::cache::{Cache, Lookup};
use arcana_tests::redis::TestRedis;

use crate::harness::redis_connection;

const TTL: Duration = Duration::from_mins(1);

#[derive(Debug, Clone, Copy)]
pub enum CacheKind {
    Memory,
    Redis,
    Tiered,
}

/// One cache, and for shared kinds a second instance on the same Redis namespace.
pub struct Caches {
    pub this: Arc<dyn Cache>,
    pub other: Option<Arc<dyn Cache>>,
    _redis: Option<TestRedis>,
}

impl CacheKind {
    async fn provision(self) -> Option<Caches> {
        Some(match self {
            Self::Memory => Caches {
                this: Arc::new(MokaCache::new(1_000)),
                other: None,
                _redis: None,
            },
            Self::Redis => {
                let redis = TestRedis::create()?;
                let connection = redis_connection(&redis);
                Caches {
                    this: Arc::new(RedisCache::new(connection.clone())),
                    other: Some(Arc::new(RedisCache::new(connection))),
                    _redis: Some(redis),
                }
            }
            Self::Tiered => {
                let redis = TestRedis::create()?;
                let connection = redis_connection(&redis);
                let this = Arc::new(TieredCache::new(&connection, 1_000, TTL));
                let other = Arc::new(TieredCache::new(&connection, 1_000, TTL));
                for cache in [&this, &other] {
                    poll(
                        || async { cache.local_tier_active() },
                        "the invalidation feed",
                    )
                    .await;
                }
                Caches {
                    this,
                    other: Some(other),
                    _redis: Some(redis),
                }
            }
        })
    }
}

/// Polls `check` until it holds, failing after five seconds.
async fn poll<F, Fut>(check: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn miss(cache: &dyn Cache, key: &str) -> arcana_ports::cache::FillTicket {
    match cache.get(key).await.expect("cache reachable") {
        Lookup::Miss(ticket) => ticket,
        Lookup::Hit(value) => panic!("expected a miss for {key}, got {value:?}"),
    }
}

async fn hit(cache: &dyn Cache, key: &str) -> Vec<u8> {
    match cache.get(key).await.expect("cache reachable") {
        Lookup::Hit(value) => value,
        Lookup::Miss(_) => panic!("expected a hit for {key}"),
    }
}

async fn a_miss_then_a_fill_then_a_hit(c: &Caches) {
    let ticket = miss(&*c.this, "user:1").await;
    assert!(c.this.fill("user:1", b"alice", TTL, ticket).await.unwrap());
    assert_eq!(hit(&*c.this, "user:1").await, b"alice");
    assert!(matches!(
        c.this.get("user:2").await.unwrap(),
        Lookup::Miss(_)
    ));
}

async fn an_invalidated_entry_is_gone(c: &Caches) {
    let ticket = miss(&*c.this, "k").await;
    c.this.fill("k", b"v", TTL, ticket).await.unwrap();
    c.this.invalidate("k").await.unwrap();
    miss(&*c.this, "k").await;
    c.this.invalidate("never-stored").await.unwrap();
}

async fn a_fill_from_before_an_invalidation_stores_nothing(c: &Caches) {
    let stale = miss(&*c.this, "k").await;
    c.this.invalidate("k").await.unwrap();
    assert!(
        !c.this.fill("k", b"stale", TTL, stale).await.unwrap(),
        "a value read before the write must not be cached after it"
    );
    miss(&*c.this, "k").await;
}

async fn entries_expire_after_their_ttl(c: &Caches) {
    let ticket = miss(&*c.this, "short").await;
    let ttl = Duration::from_millis(200);
    assert!(c.this.fill("short", b"v", ttl, ticket).await.unwrap());
    poll(
        || async { matches!(c.this.get("short").await, Ok(Lookup::Miss(_))) },
        "expiry",
    )
    .await;
}

/// Shared caches: a fill is seen by the other process, and so is an invalidation — including
/// in its local tier, which the other process filled by reading.
async fn other_processes_see_fills_and_invalidations(c: &Caches) {
    let Some(other) = &c.other else { return };
    let ticket = miss(&*c.this, "user:7").await;
    c.this.fill("user:7", b"v1", TTL, ticket).await.unwrap();
    assert_eq!(hit(&**other, "user:7").await, b"v1");
    assert_eq!(hit(&**other, "user:7").await, b"v1");
    c.this.invalidate("user:7").await.unwrap();
    poll(
        || async { matches!(other.get("user:7").await, Ok(Lookup::Miss(_))) },
        "the other process's invalidation",
    )
    .await;
}

/// A process that read before another process's write cannot cache what it read.
async fn a_stale_fill_from_another_process_stores_nothing(c: &Caches) {
    let Some(other) = &c.other else { return };
    let stale = miss(&**other, "user:8").await;
    c.this.invalidate("user:8").await.unwrap();
    assert!(!other.fill("user:8", b"stale", TTL, stale).await.unwrap());
    miss(&*c.this, "user:8").await;
}

/// Runs every case on fresh caches of `kind` (stopping at the first failure) and prints the
/// count.
pub async fn run(kind: CacheKind) {
    macro_rules! run_cases {
        ($($case:ident),*) => {{
            let mut total = 0;
            $(
                let Some(caches) = kind.provision().await else {
                    println!("conformance[cache/{kind:?}]: skipped (service not configured)");
                    return;
                };
                $case(&caches).await;
                total += 1;
            )*
            total
        }};
    }
    let total = run_cases!(
        a_miss_then_a_fill_then_a_hit,
        an_invalidated_entry_is_gone,
        a_fill_from_before_an_invalidation_stores_nothing,
        entries_expire_after_their_ttl,
        other_processes_see_fills_and_invalidations,
        a_stale_fill_from_another_process_stores_nothing
    );
    println!("conformance[cache/{kind:?}]: {total} of {total} cases passed");
}
