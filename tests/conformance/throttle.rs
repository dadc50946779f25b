//! `ThrottleStore` contract cases, run against the in-process and Redis counters.

use std::sync::Arc;

use arcana_adapter_memory::InMemoryThrottleStore;
use arcana_adapter_redis::RedisThrottleStore;
use arcana_ports::throttle::ThrottleStore;
use arcana_tests::redis::TestRedis;
use chrono::TimeDelta;

use crate::fixtures::now;
use crate::harness::{CaseFuture, redis_connection};

const WINDOW: TimeDelta = TimeDelta::minutes(15);

#[derive(Debug, Clone, Copy)]
pub enum ThrottleKind {
    Memory,
    Redis,
}

impl ThrottleKind {
    fn provision(self) -> Option<(Arc<dyn ThrottleStore>, Option<TestRedis>)> {
        Some(match self {
            Self::Memory => (Arc::new(InMemoryThrottleStore::new()), None),
            Self::Redis => {
                let redis = TestRedis::create()?;
                let store = RedisThrottleStore::new(redis_connection(&redis));
                (Arc::new(store), Some(redis))
            }
        })
    }
}

async fn failures_count_within_a_window_and_start_afresh_after_it(s: Arc<dyn ThrottleStore>) {
    let at = now();
    assert_eq!(s.get("alice", at).await.unwrap(), None);
    for expected in 1..=3 {
        let attempts = s.record_failure("alice", WINDOW, at).await.unwrap();
        assert_eq!((attempts.failures, attempts.window_started), (expected, at));
    }
    let seen = s
        .get("alice", at + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((seen.failures, seen.locked_until), (3, None));
    assert_eq!(
        s.get("bob", at).await.unwrap(),
        None,
        "keys are independent"
    );

    let later = at + WINDOW;
    assert_eq!(
        s.get("alice", later).await.unwrap(),
        None,
        "the window is over"
    );
    let fresh = s.record_failure("alice", WINDOW, later).await.unwrap();
    assert_eq!((fresh.failures, fresh.window_started), (1, later));
}

async fn a_lockout_outlives_the_window_and_ends_by_itself(s: Arc<dyn ThrottleStore>) {
    let at = now();
    s.record_failure("alice", WINDOW, at).await.unwrap();
    let until = at + WINDOW + TimeDelta::minutes(5);
    s.lock("alice", until).await.unwrap();
    let counted = s.record_failure("alice", WINDOW, at).await.unwrap();
    assert_eq!(
        counted.locked_until,
        Some(until),
        "a failure keeps the lockout"
    );
    let during = s.get("alice", at + WINDOW).await.unwrap().unwrap();
    assert_eq!(during.locked_until, Some(until));
    assert_eq!(s.get("alice", until).await.unwrap(), None, "over by itself");

    s.lock("10.0.0.1", until).await.unwrap();
    let fresh = s.get("10.0.0.1", at).await.unwrap().unwrap();
    assert_eq!((fresh.failures, fresh.locked_until), (0, Some(until)));
}

async fn clearing_forgets_failures_and_lockouts(s: Arc<dyn ThrottleStore>) {
    let at = now();
    s.record_failure("alice", WINDOW, at).await.unwrap();
    s.lock("alice", at + WINDOW).await.unwrap();
    s.clear("alice").await.unwrap();
    assert_eq!(s.get("alice", at).await.unwrap(), None);
    s.clear("never-seen").await.unwrap();
}

async fn concurrent_failures_are_each_counted_once(s: Arc<dyn ThrottleStore>) {
    let at = now();
    let tasks = (0..16).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.record_failure("alice", WINDOW, at).await.unwrap() })
    });
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap().failures);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=16).collect::<Vec<_>>(),
        "each failure sees its own count"
    );
}

/// Runs every case on a fresh store of `kind` (stopping at the first failure) and prints the
/// count.
pub async fn run(kind: ThrottleKind) {
    let cases: [fn(Arc<dyn ThrottleStore>) -> CaseFuture; 4] = [
        |s| Box::pin(failures_count_within_a_window_and_start_afresh_after_it(s)),
        |s| Box::pin(a_lockout_outlives_the_window_and_ends_by_itself(s)),
        |s| Box::pin(clearing_forgets_failures_and_lockouts(s)),
        |s| Box::pin(concurrent_failures_are_each_counted_once(s)),
    ];
    let total = cases.len();
    for case in cases {
        let Some((store, _redis)) = kind.provision() else {
            println!("conformance[throttle/{kind:?}]: skipped (service not configured)");
            return;
        };
        case(store).await;
    }
    println!("conformance[throttle/{kind:?}]: {total} of {total} cases passed");
}
