//! The in-process limiter through the `RateLimiter` port.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use arcana_adapter_resilience::GovernorRateLimiter;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};

fn address(n: u32) -> Subject {
    Subject::Address(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)))
}

#[tokio::test]
async fn a_burst_is_served_then_refused_with_the_wait_until_the_next_unit() {
    let quota = Quota {
        per_second: 1,
        burst: 3,
    };
    let limiter = GovernorRateLimiter::new(quota, quota, quota);
    let mut verdicts = Vec::new();
    for _ in 0..4 {
        verdicts.push(limiter.check(LimitClass::Auth, &address(1)).await.unwrap());
    }
    assert_eq!(verdicts[0], Verdict::Allowed { remaining: 2 });
    assert_eq!(verdicts[2], Verdict::Allowed { remaining: 0 });
    let Verdict::Limited { retry_after } = verdicts[3] else {
        panic!("the fourth request is refused: {verdicts:?}");
    };
    assert!(retry_after <= Duration::from_secs(1));
    // Another class and another subject have buckets of their own.
    let other = limiter.check(LimitClass::PerIp, &address(1)).await.unwrap();
    assert_eq!(other, Verdict::Allowed { remaining: 2 });
}

#[tokio::test]
async fn a_hundred_thousand_addresses_leave_no_state_once_their_buckets_refill() {
    let quota = Quota {
        per_second: 1000,
        burst: 10,
    };
    let limiter = GovernorRateLimiter::new(quota, quota, quota);
    for n in 0..100_000 {
        let verdict = limiter.check(LimitClass::PerIp, &address(n)).await.unwrap();
        assert!(matches!(verdict, Verdict::Allowed { .. }));
    }
    assert!(
        limiter.tracked() >= 100_000,
        "each address has a bucket while it is in use"
    );
    // A bucket is forgettable once it is full again (1 ms at this rate); evict until the state
    // is gone, bounded.
    for _ in 0..100 {
        limiter.evict();
        if limiter.tracked() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} buckets still kept", limiter.tracked());
}
