//! `RateLimiter` in this process, with `governor`'s keyed GCRA limiters: one per class, state
//! per subject, evicted once it is indistinguishable from a fresh one so that the key set stays
//! bounded by the clients of the last moments, not of the process's lifetime.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::StoreError;
use arcana_ports::ratelimit::{LimitClass, Quota, RateLimiter, Subject, Verdict};
use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

type Keyed = governor::RateLimiter<
    Subject,
    DefaultKeyedStateStore<Subject>,
    DefaultClock,
    StateInformationMiddleware,
>;

struct Limiter {
    quota: Quota,
    keyed: Keyed,
}

impl Limiter {
    fn new(quota: Quota) -> Self {
        let one = NonZeroU32::MIN;
        let rate = governor::Quota::per_second(NonZeroU32::new(quota.per_second).unwrap_or(one))
            .allow_burst(NonZeroU32::new(quota.burst).unwrap_or(one));
        Self {
            quota,
            keyed: governor::RateLimiter::keyed(rate).with_middleware(),
        }
    }

    fn check(&self, subject: &Subject) -> Verdict {
        match self.keyed.check_key(subject) {
            Ok(snapshot) => Verdict::Allowed {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Verdict::Limited {
                retry_after: not_until.wait_time_from(self.keyed.clock().now()),
            },
        }
    }
}

/// The limits of one process: with several replicas, each enforces them on its own (use the
/// Redis limiter to share them).
pub struct GovernorRateLimiter {
    per_ip: Limiter,
    per_user: Limiter,
    auth: Limiter,
}

impl GovernorRateLimiter {
    pub fn new(per_ip: Quota, per_user: Quota, auth: Quota) -> Self {
        Self {
            per_ip: Limiter::new(per_ip),
            per_user: Limiter::new(per_user),
            auth: Limiter::new(auth),
        }
    }

    fn limiter(&self, class: LimitClass) -> &Limiter {
        match class {
            LimitClass::PerIp => &self.per_ip,
            LimitClass::PerUser => &self.per_user,
            LimitClass::Auth => &self.auth,
        }
    }

    fn all(&self) -> [&Limiter; 3] {
        [&self.per_ip, &self.per_user, &self.auth]
    }

    /// Forgets every subject whose state is the same as a fresh one (governor's key set only
    /// grows otherwise).
    pub fn evict(&self) {
        for limiter in self.all() {
            limiter.keyed.retain_recent();
            limiter.keyed.shrink_to_fit();
        }
    }

    /// Subjects with state, over every class.
    pub fn tracked(&self) -> usize {
        self.all().iter().map(|limiter| limiter.keyed.len()).sum()
    }

    /// Evicts every `interval` until the returned task is aborted.
    pub fn evict_every(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let limiter = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                limiter.evict();
            }
        })
    }
}

#[async_trait]
impl RateLimiter for GovernorRateLimiter {
    fn quota(&self, class: LimitClass) -> Quota {
        self.limiter(class).quota
    }

    async fn check(&self, class: LimitClass, subject: &Subject) -> Result<Verdict, StoreError> {
        Ok(self.limiter(class).check(subject))
    }
}
