//! `RateLimiter` contract cases, run against the in-process limiter (governor) and the Redis
//! one, exact and leasing; and what leasing may and may not bend.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_redis::RedisRateLimiter;
use arcana_adapter_resilience::GovernorRateLimiter;
use arcana_domain::UserId;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use arcana_tests::redis::TestRedis;

use crate::harness::{CaseFuture, redis_connection};

/// Three at once, one more a second: small enough that no limiter leases from it.
const SMALL: Quota = Quota {
    per_second: 1,
    burst: 3,
};
/// One unit each 50 ms, so that a case can wait for a refill.
const QUICK: Quota = Quota {
    per_second: 20,
    burst: 2,
};

#[derive(Debug, Clone, Copy)]
pub enum LimiterKind {
    Memory,
    Redis,
    /// Redis, taking up to 16 units per round trip where the bucket allows it.
    RedisLeasing,
}

impl LimiterKind {
    fn provision(self, quotas: [Quota; 3]) -> Option<(Arc<dyn RateLimiter>, Option<TestRedis>)> {
        let [per_ip, per_user, auth] = quotas;
        Some(match self {
            Self::Memory => (
                Arc::new(GovernorRateLimiter::new(per_ip, per_user, auth)),
                None,
            ),
            Self::Redis | Self::RedisLeasing => {
                let redis = TestRedis::create()?;
                let lease = if matches!(self, Self::Redis) { 1 } else { 16 };
                let limiter =
                    RedisRateLimiter::new(redis_connection(&redis), per_ip, per_user, auth)
                        .with_lease(lease);
                (Arc::new(limiter), Some(redis))
            }
        })
    }
}

fn address(last: u8) -> Subject {
    Subject::Address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
}

async fn allowed(limiter: &dyn RateLimiter, class: LimitClass, subject: &Subject) -> Option<u32> {
    match limiter.check(class, subject).await.unwrap() {
        Verdict::Allowed { remaining } => Some(remaining),
        Verdict::Limited { .. } => None,
    }
}

async fn a_burst_is_let_through_then_refused_with_the_wait(limiter: Arc<dyn RateLimiter>) {
    let client = address(1);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        remaining.push(allowed(&*limiter, LimitClass::PerIp, &client).await);
    }
    assert_eq!(
        remaining,
        [Some(2), Some(1), Some(0)],
        "the burst, counted down"
    );
    match limiter.check(LimitClass::PerIp, &client).await.unwrap() {
        Verdict::Limited { retry_after } => assert!(
            retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1),
            "one unit a second: {retry_after:?}"
        ),
        allowed @ Verdict::Allowed { .. } => panic!("past the burst: {allowed:?}"),
    }
}

async fn a_refused_request_is_not_counted(limiter: Arc<dyn RateLimiter>) {
    let client = address(2);
    for _ in 0..2 {
        assert!(
            allowed(&*limiter, LimitClass::Auth, &client)
                .await
                .is_some()
        );
    }
    let Verdict::Limited { retry_after } = limiter.check(LimitClass::Auth, &client).await.unwrap()
    else {
        panic!("past the burst");
    };
    tokio::time::sleep(retry_after + Duration::from_millis(10)).await;
    assert!(
        allowed(&*limiter, LimitClass::Auth, &client)
            .await
            .is_some(),
        "let through after the wait it was told: refusals cost nothing"
    );
}

async fn classes_and_subjects_have_their_own_buckets(limiter: Arc<dyn RateLimiter>) {
    let client = address(3);
    while allowed(&*limiter, LimitClass::PerIp, &client)
        .await
        .is_some()
    {}
    assert!(
        allowed(&*limiter, LimitClass::PerIp, &address(4))
            .await
            .is_some()
    );
    assert!(
        allowed(&*limiter, LimitClass::Auth, &client)
            .await
            .is_some()
    );
    let user = Subject::User(UserId::generate());
    assert_eq!(
        allowed(&*limiter, LimitClass::PerUser, &user).await,
        Some(2)
    );
}

/// Runs every case on a fresh limiter of `kind` and prints the count.
pub async fn run(kind: LimiterKind) {
    let cases: [fn(Arc<dyn RateLimiter>) -> CaseFuture; 3] = [
        |l| Box::pin(a_burst_is_let_through_then_refused_with_the_wait(l)),
        |l| Box::pin(a_refused_request_is_not_counted(l)),
        |l| Box::pin(classes_and_subjects_have_their_own_buckets(l)),
    ];
    let total = cases.len();
    for case in cases {
        let Some((limiter, _redis)) = kind.provision([SMALL, SMALL, QUICK]) else {
            println!("conformance[ratelimit/{kind:?}]: skipped (service not configured)");
            return;
        };
        case(limiter).await;
    }
    println!("conformance[ratelimit/{kind:?}]: {total} of {total} cases passed");
}

/// Two processes' limiters on one Redis, each leasing 4 units per round trip from a bucket of
/// 64: the units one leases are gone from the bucket for the other, and spendable only by the
/// one holding them, so together they let exactly the burst through.
pub async fn leased_units_come_out_of_the_shared_bucket() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let quota = Quota {
        per_second: 1,
        burst: 64,
    };
    let limiter =
        || RedisRateLimiter::new(redis_connection(&redis), quota, quota, quota).with_lease(16);
    let (first, second) = (limiter(), limiter());
    assert_eq!(first.lease(LimitClass::PerIp), 4, "burst / 16");
    assert_eq!(
        first.lease(LimitClass::Auth),
        1,
        "sign-ins are never leased"
    );
    let client = address(9);

    assert_eq!(
        allowed(&first, LimitClass::PerIp, &client).await,
        Some(63),
        "one spent, three held, sixty in the bucket"
    );
    let mut by_second = 0;
    while allowed(&second, LimitClass::PerIp, &client).await.is_some() {
        by_second += 1;
    }
    assert!(
        (60..=61).contains(&by_second),
        "the other process gets what the bucket holds (one may refill meanwhile): {by_second}"
    );
    for held in (0..3).rev() {
        assert!(
            allowed(&first, LimitClass::PerIp, &client).await.is_some(),
            "a held unit is spent with the bucket empty ({held} left)"
        );
    }
    assert_eq!(
        allowed(&first, LimitClass::PerIp, &client).await,
        None,
        "nothing held, nothing in the bucket: together they let the burst through, no more"
    );
}

/// Requests arriving together on one bucket of a leasing limiter: one of them fetches a lease at
/// a time and the others spend what it brought, so nothing taken from the bucket is thrown away
/// and the client gets its whole burst; past it, the refusals name the bucket's wait.
pub async fn concurrent_requests_share_each_lease() {
    let Some(redis) = TestRedis::create() else {
        return;
    };
    let quota = Quota {
        per_second: 1,
        burst: 64,
    };
    let limiter = Arc::new(
        RedisRateLimiter::new(redis_connection(&redis), quota, quota, quota).with_lease(16),
    );
    assert_eq!(limiter.lease(LimitClass::PerIp), 4, "burst / 16");
    let client = address(10);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..96 {
        let limiter = limiter.clone();
        requests.spawn(async move { limiter.check(LimitClass::PerIp, &client).await.unwrap() });
    }
    let (mut allowed, mut refused) = (0, 0);
    while let Some(verdict) = requests.join_next().await {
        match verdict.unwrap() {
            Verdict::Allowed { .. } => allowed += 1,
            Verdict::Limited { retry_after } => {
                assert!(
                    retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1),
                    "one unit a second: {retry_after:?}"
                );
                refused += 1;
            }
        }
    }
    assert!(
        (64..=65).contains(&allowed),
        "the whole burst (one may refill meanwhile), none of it lost to concurrent leases: \
         {allowed} allowed, {refused} refused"
    );
    assert_eq!(allowed + refused, 96);
}
