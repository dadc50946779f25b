//! `LeaderLock` contract cases, run against the in-process and Redis locks.

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_memory::InMemoryLeaderLock;
use arcana_adapter_redis::RedisLeaderLock;
use arcana_ports::locks::LeaderLock;
use arcana_tests::redis::TestRedis;

use crate::harness::redis_connection;

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy)]
pub enum LockKind {
    Memory,
    Redis,
}

impl LockKind {
    fn provision(self) -> Option<(Arc<dyn LeaderLock>, Option<TestRedis>)> {
        Some(match self {
            Self::Memory => (Arc::new(InMemoryLeaderLock::new()), None),
            Self::Redis => {
                let redis = TestRedis::create()?;
                let lock = RedisLeaderLock::new(redis_connection(&redis));
                (Arc::new(lock), Some(redis))
            }
        })
    }
}

/// Tries to take `name` for `holder` until it succeeds, failing after five seconds.
async fn take_when_free(
    lock: &dyn LeaderLock,
    name: &str,
    holder: &str,
) -> arcana_ports::locks::FencingToken {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(token) = lock.acquire(name, holder, LONG).await.unwrap() {
            return token;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn only_one_of_many_contenders_acquires(lock: Arc<dyn LeaderLock>) {
    let contenders = (0..8).map(|i| {
        let lock = lock.clone();
        tokio::spawn(async move { lock.acquire("cron", &format!("node-{i}"), LONG).await })
    });
    let mut winners = 0;
    for contender in contenders {
        if contender.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn a_lease_expires_when_its_holder_stops_renewing(lock: Arc<dyn LeaderLock>) {
    lock.acquire("cron", "dead", SHORT).await.unwrap().unwrap();
    assert!(lock.acquire("cron", "next", LONG).await.unwrap().is_none());
    take_when_free(&*lock, "cron", "next").await;
}

async fn a_stale_holder_can_neither_renew_nor_release(lock: Arc<dyn LeaderLock>) {
    let stale = lock.acquire("cron", "a", SHORT).await.unwrap().unwrap();
    let current = take_when_free(&*lock, "cron", "b").await;
    assert!(!lock.renew("cron", "a", stale, LONG).await.unwrap());
    assert!(!lock.release("cron", "a", stale).await.unwrap());
    assert!(lock.renew("cron", "b", current, LONG).await.unwrap());
    assert!(lock.release("cron", "b", current).await.unwrap());
    assert!(
        !lock.release("cron", "b", current).await.unwrap(),
        "released once"
    );
}

async fn renewal_keeps_the_lease_beyond_its_first_ttl(lock: Arc<dyn LeaderLock>) {
    let token = lock.acquire("cron", "a", SHORT).await.unwrap().unwrap();
    assert!(lock.renew("cron", "a", token, LONG).await.unwrap());
    // Watch for well past the first TTL: nobody else may take it meanwhile.
    for _ in 0..20 {
        assert!(lock.acquire("cron", "b", LONG).await.unwrap().is_none());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn fencing_tokens_increase_with_every_acquisition(lock: Arc<dyn LeaderLock>) {
    let mut tokens = Vec::new();
    for holder in ["a", "b", "c"] {
        let token = lock.acquire("cron", holder, LONG).await.unwrap().unwrap();
        assert!(lock.release("cron", holder, token).await.unwrap());
        tokens.push(token);
    }
    lock.acquire("cron", "d", SHORT).await.unwrap().unwrap();
    tokens.push(take_when_free(&*lock, "cron", "e").await);
    assert!(tokens.windows(2).all(|w| w[0] < w[1]), "{tokens:?}");
    assert!(
        lock.acquire("other", "a", LONG).await.unwrap().is_some(),
        "locks are independent by name"
    );
}

/// Runs every case on a fresh lock of `kind` (stopping at the first failure) and prints the
/// count.
pub async fn run(kind: LockKind) {
    let cases: [fn(Arc<dyn LeaderLock>) -> crate::harness::CaseFuture; 5] = [
        |l| Box::pin(only_one_of_many_contenders_acquires(l)),
        |l| Box::pin(a_lease_expires_when_its_holder_stops_renewing(l)),
        |l| Box::pin(a_stale_holder_can_neither_renew_nor_release(l)),
        |l| Box::pin(renewal_keeps_the_lease_beyond_its_first_ttl(l)),
        |l| Box::pin(fencing_tokens_increase_with_every_acquisition(l)),
    ];
    let total = cases.len();
    for case in cases {
        let Some((lock, _redis)) = kind.provision() else {
            println!("conformance[lock/{kind:?}]: skipped (service not configured)");
            return;
        };
        case(lock).await;
    }
    println!("conformance[lock/{kind:?}]: {total} of {total} cases passed");
}
