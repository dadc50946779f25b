//! `JobQueue` and `Scheduler` contract cases, run against the in-process and Redis adapters.
//! Every case passes its own `now`, so time-dependent steps (delays, leases, retries) are
//! exercised without waiting.

use std::collections::HashMap;
use std::sync::Arc;

use arcana_adapter_memory::{InMemoryJobQueue, InMemoryScheduler};
use arcana_adapter_redis::{RedisJobQueue, RedisScheduler};
use arcana_domain::jobs::{
    JobName, JobSpec, JobState, Priority, QueueName, RetryPolicy, UniqueKey,
};
use arcana_ports::jobs::{JobFilter, JobQueue, QueueError, RateLimit, Retention, Scheduler};
use arcana_tests::redis::TestRedis;
use chrono::{DateTime, TimeDelta, Utc};

use crate::fixtures::now;
use crate::harness::{CaseFuture, redis_connection};

pub(crate) const LEASE: TimeDelta = TimeDelta::seconds(30);
pub(crate) const DEAD_MAX_LEN: u64 = 3;

#[derive(Debug, Clone, Copy)]
pub enum QueueKind {
    Memory,
    Redis,
}

pub struct Queues {
    pub(crate) jobs: Arc<dyn JobQueue>,
    pub(crate) schedules: Arc<dyn Scheduler>,
    _redis: Option<TestRedis>,
}

impl QueueKind {
    fn provision(self) -> Option<Queues> {
        let retention = Retention {
            dead_max_len: DEAD_MAX_LEN,
            ..Retention::default()
        };
        let limits: HashMap<String, RateLimit> = [(
            "limited".to_owned(),
            RateLimit {
                limit: 2,
                period: TimeDelta::minutes(1),
            },
        )]
        .into();
        Some(match self {
            Self::Memory => Queues {
                jobs: Arc::new(InMemoryJobQueue::new(retention).with_rate_limits(limits)),
                schedules: Arc::new(InMemoryScheduler::new()),
                _redis: None,
            },
            Self::Redis => {
                let redis = TestRedis::create()?;
                let connection = redis_connection(&redis);
                Queues {
                    jobs: Arc::new(
                        RedisJobQueue::new(connection.clone(), retention).with_rate_limits(limits),
                    ),
                    schedules: Arc::new(RedisScheduler::new(connection)),
                    _redis: Some(redis),
                }
            }
        })
    }
}

pub(crate) fn spec(name: &str, queue: &str) -> JobSpec {
    let payload = format!(r#"{{"job":"{name}"}}"#).into_bytes();
    JobSpec::new(JobName::parse(name).unwrap(), payload)
        .with_queue(QueueName::parse(queue).unwrap())
        .with_timeout(TimeDelta::seconds(60))
        .with_tags(vec!["conformance".to_owned()])
        .with_correlation_id(Some("corr-1".to_owned()))
        .with_trace_context(Some(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        ))
}

pub(crate) fn queues(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

pub(crate) async fn claim_name(
    q: &dyn JobQueue,
    from: &[&str],
    at: DateTime<Utc>,
) -> Option<String> {
    let lease = q.claim(&queues(from), "w1", LEASE, at).await.unwrap()?;
    Some(lease.job.spec.name().to_string())
}

async fn pending_jobs_are_taken_by_priority_then_arrival(q: Queues) {
    let (q, at) = (q.jobs, now());
    for (name, priority) in [
        ("low", Priority::Low),
        ("normal-1", Priority::Normal),
        ("critical", Priority::Critical),
        ("normal-2", Priority::Normal),
        ("high", Priority::High),
    ] {
        q.enqueue(spec(name, "default").with_priority(priority), at)
            .await
            .unwrap();
    }
    q.enqueue(spec("other-queue", "mail"), at).await.unwrap();
    let mut order = Vec::new();
    while let Some(name) = claim_name(&*q, &["default"], at).await {
        order.push(name);
    }
    assert_eq!(order, ["critical", "high", "normal-1", "normal-2", "low"]);
    assert_eq!(
        claim_name(&*q, &["nothing", "mail"], at).await.as_deref(),
        Some("other-queue")
    );
}

async fn a_claimed_job_carries_its_whole_spec_and_counts_the_attempt(q: Queues) {
    let (q, at) = (q.jobs, now());
    let original = spec("full", "default")
        .with_unique(Some(UniqueKey {
            key: "k".into(),
            window: TimeDelta::minutes(5),
        }))
        .with_tags(vec!["a".into(), "b".into()]);
    let id = q.enqueue(original.clone(), at).await.unwrap().id;
    let lease = q
        .claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.job.id, &lease.job.spec), (id, &original));
    assert_eq!((lease.job.state, lease.job.attempt), (JobState::Active, 1));
    assert_eq!(lease.expires_at, at + LEASE);
    q.complete(&lease, at).await.unwrap();
    let done = q.get(id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.spec.payload()),
        (JobState::Completed, original.payload())
    );
}

async fn a_delayed_job_waits_for_promotion_at_its_time(q: Queues) {
    let (q, at) = (q.jobs, now());
    let later = at + TimeDelta::minutes(5);
    let id = q
        .enqueue(spec("later", "default").with_run_at(Some(later)), at)
        .await
        .unwrap()
        .id;
    assert_eq!(q.get(id).await.unwrap().unwrap().state, JobState::Scheduled);
    assert_eq!(q.promote_due(at + TimeDelta::minutes(4)).await.unwrap(), 0);
    assert_eq!(
        claim_name(&*q, &["default"], later).await,
        None,
        "not before promotion"
    );
    assert_eq!(q.promote_due(later).await.unwrap(), 1);
    assert_eq!(
        claim_name(&*q, &["default"], later).await.as_deref(),
        Some("later")
    );
}

async fn a_lapsed_lease_is_reaped_and_the_stale_holder_is_refused(q: Queues) {
    let (q, at) = (q.jobs, now());
    let id = q.enqueue(spec("crashy", "default"), at).await.unwrap().id;
    let first = q
        .claim(&queues(&["default"]), "dead-worker", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    let renewed = q
        .heartbeat(&first, LEASE, at + TimeDelta::seconds(20))
        .await
        .unwrap();
    assert_eq!(renewed, at + TimeDelta::seconds(50));
    assert_eq!(
        q.reap_expired(at + TimeDelta::seconds(40)).await.unwrap(),
        0,
        "renewed"
    );
    let after = at + TimeDelta::seconds(51);
    assert_eq!(q.reap_expired(after).await.unwrap(), 1);
    let second = q
        .claim(&queues(&["default"]), "w2", LEASE, after)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.job.id, second.job.attempt), (id, 2));
    assert!(matches!(
        q.complete(&first, after).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.heartbeat(&first, LEASE, after).await,
        Err(QueueError::LeaseLost)
    ));
    q.complete(&second, after).await.unwrap();
    assert!(
        matches!(q.complete(&second, after).await, Err(QueueError::LeaseLost)),
        "once"
    );
}

async fn a_lease_reaped_after_the_last_attempt_dead_letters_the_job(q: Queues) {
    let (q, at) = (q.jobs, now());
    let retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let id = q
        .enqueue(spec("poison", "default").with_retry(retry), at)
        .await
        .unwrap()
        .id;
    q.claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.reap_expired(at + LEASE).await.unwrap(), 1);
    let dead = q.get(id).await.unwrap().unwrap();
    assert_eq!(
        (dead.state, dead.last_error.as_deref()),
        (JobState::DeadLettered, Some("lease expired"))
    );
}

async fn a_failure_reschedules_then_dead_letters_and_replay_keeps_the_payload(q: Queues) {
    let (q, at) = (q.jobs, now());
    let original = spec("flaky", "default");
    let id = q.enqueue(original.clone(), at).await.unwrap().id;
    let lease = q
        .claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    let retry_at = at + TimeDelta::seconds(10);
    assert_eq!(
        q.fail(&lease, "boom", Some(retry_at), at).await.unwrap(),
        JobState::Scheduled
    );
    assert!(
        q.claim(&queues(&["default"]), "w1", LEASE, at)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(q.promote_due(retry_at).await.unwrap(), 1);
    let lease = q
        .claim(&queues(&["default"]), "w1", LEASE, retry_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (lease.job.attempt, lease.job.last_error.as_deref()),
        (2, Some("boom"))
    );
    assert_eq!(
        q.fail(&lease, "boom again", None, retry_at).await.unwrap(),
        JobState::DeadLettered
    );
    let dead = q
        .search(&JobFilter {
            state: Some(JobState::DeadLettered),
            limit: 10,
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);

    assert!(q.replay_dead(id, retry_at).await.unwrap());
    assert!(
        !q.replay_dead(id, retry_at).await.unwrap(),
        "no longer dead"
    );
    let again = q
        .claim(&queues(&["default"]), "w1", LEASE, retry_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.job.id, again.job.attempt), (id, 1));
    assert_eq!(again.job.spec.payload(), original.payload());
    assert!(matches!(
        q.replay_dead(arcana_domain::ids::JobId::generate(), at)
            .await,
        Err(QueueError::NotFound)
    ));
}

async fn a_unique_key_admits_one_job_per_window_even_concurrently(q: Queues) {
    let (q, at) = (q.jobs, now());
    let unique = Some(UniqueKey {
        key: "report:42".into(),
        window: TimeDelta::minutes(1),
    });
    let tasks = (0..16).map(|_| {
        let (q, unique) = (q.clone(), unique.clone());
        tokio::spawn(async move {
            q.enqueue(spec("report", "default").with_unique(unique), at)
                .await
                .unwrap()
        })
    });
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let fresh: Vec<_> = outcomes.iter().filter(|o| !o.deduplicated).collect();
    assert_eq!(fresh.len(), 1);
    assert!(outcomes.iter().all(|o| o.id == fresh[0].id));
    let stats = q.stats().await.unwrap();
    assert_eq!(stats[0].pending, 1);
}

/// Runs every case on a fresh queue of `kind` (stopping at the first failure) and prints the
/// count.
pub async fn run(kind: QueueKind) {
    let cases: [fn(Queues) -> CaseFuture; 18] = [
        |q| Box::pin(crate::jobs_admin::workers_are_listed_while_their_reports_last(q)),
        |q| {
            Box::pin(crate::jobs_admin::a_rate_limited_queue_starts_at_most_its_limit_per_window(q))
        },
        |q| Box::pin(pending_jobs_are_taken_by_priority_then_arrival(q)),
        |q| {
            Box::pin(a_claimed_job_carries_its_whole_spec_and_counts_the_attempt(
                q,
            ))
        },
        |q| Box::pin(a_delayed_job_waits_for_promotion_at_its_time(q)),
        |q| Box::pin(a_lapsed_lease_is_reaped_and_the_stale_holder_is_refused(q)),
        |q| {
            Box::pin(a_lease_reaped_after_the_last_attempt_dead_letters_the_job(
                q,
            ))
        },
        |q| Box::pin(a_failure_reschedules_then_dead_letters_and_replay_keeps_the_payload(q)),
        |q| Box::pin(crate::jobs_admin::dead_letters_are_bounded_and_purged_per_queue(q)),
        |q| Box::pin(a_unique_key_admits_one_job_per_window_even_concurrently(q)),
        |q| {
            Box::pin(crate::jobs_admin::only_waiting_jobs_can_be_cancelled_and_release_gives_the_attempt_back(q))
        },
        |q| {
            Box::pin(crate::jobs_admin::search_filters_by_state_queue_name_and_tag_and_stats_count_each_state(q))
        },
        |q| {
            Box::pin(
                crate::jobs_admin::schedules_keep_their_pause_and_fire_time_across_redefinition(q),
            )
        },
        |q| {
            Box::pin(
                crate::jobs_batch::a_batch_enqueue_keeps_order_and_folds_a_repeated_unique_key(q),
            )
        },
        |q| {
            Box::pin(
                crate::jobs_batch::a_batch_claim_hands_out_distinct_jobs_each_under_a_valid_lease(
                    q,
                ),
            )
        },
        |q| {
            Box::pin(
                crate::jobs_batch::jobs_completed_while_claiming_the_next_are_never_delivered_again(
                    q,
                ),
            )
        },
        |q| {
            Box::pin(crate::jobs_batch::a_crashed_batch_is_delivered_again_and_its_stale_leases_are_refused(q))
        },
        |q| Box::pin(crate::jobs_batch::a_batch_claim_counts_every_job_against_the_rate_limit(q)),
    ];
    let total = cases.len();
    for case in cases {
        let Some(queues) = kind.provision() else {
            println!("conformance[jobs/{kind:?}]: skipped (service not configured)");
            return;
        };
        case(queues).await;
    }
    println!("conformance[jobs/{kind:?}]: {total} of {total} cases passed");
}
