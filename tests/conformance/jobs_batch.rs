//! `JobQueue` contract cases for the batched steps workers and bulk producers use:
//! `enqueue_many`, `claim_many` and `complete_and_claim`. They must keep every guarantee of the
//! one-job steps: distinct deliveries under valid leases, no redelivery of completed jobs,
//! redelivery of a crashed batch after its leases lapse, and fencing of stale holders.
//! Run from [`crate::jobs::run`].

use std::collections::BTreeSet;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobState, Priority, UniqueKey};
use arcana_ports::jobs::{JobQueue, Lease, QueueError};
use chrono::{DateTime, TimeDelta, Utc};

use crate::fixtures::now;
use crate::jobs::{LEASE, Queues, queues, spec};

fn names(leases: &[Lease]) -> Vec<String> {
    leases
        .iter()
        .map(|l| l.job.spec.name().to_string())
        .collect()
}

fn ids(leases: &[Lease]) -> BTreeSet<JobId> {
    leases.iter().map(|l| l.job.id).collect()
}

async fn enqueue_named(q: &dyn JobQueue, names: &[&str], at: DateTime<Utc>) -> Vec<JobId> {
    let specs = names.iter().map(|n| spec(n, "default")).collect();
    let enqueued = q.enqueue_many(specs, at).await.unwrap();
    assert!(enqueued.iter().all(|e| !e.deduplicated));
    enqueued.into_iter().map(|e| e.id).collect()
}

pub(crate) async fn a_batch_enqueue_keeps_order_and_folds_a_repeated_unique_key(q: Queues) {
    let (q, at) = (q.jobs, now());
    let unique = Some(UniqueKey {
        key: "batch:1".into(),
        window: TimeDelta::minutes(1),
    });
    let specs = vec![
        spec("first", "default").with_unique(unique.clone()),
        spec("urgent", "default").with_priority(Priority::High),
        spec("again", "default").with_unique(unique),
        spec("later", "default").with_run_at(Some(at + LEASE)),
        spec("last", "default"),
    ];
    let enqueued = q.enqueue_many(specs, at).await.unwrap();
    assert_eq!(
        enqueued.iter().map(|e| e.deduplicated).collect::<Vec<_>>(),
        [false, false, true, false, false]
    );
    assert_eq!(enqueued[2].id, enqueued[0].id, "folded into the first");
    assert_eq!(
        q.get(enqueued[3].id).await.unwrap().unwrap().state,
        JobState::Scheduled
    );
    let claimed = q
        .claim_many(&queues(&["default"]), "w1", LEASE, 10, at)
        .await
        .unwrap();
    assert_eq!(names(&claimed), ["urgent", "first", "last"]);
    assert!(q.enqueue_many(Vec::new(), at).await.unwrap().is_empty());
}

pub(crate) async fn a_batch_claim_hands_out_distinct_jobs_each_under_a_valid_lease(q: Queues) {
    let (q, at) = (q.jobs, now());
    let all = enqueue_named(&*q, &["a", "b", "c", "d", "e"], at).await;
    let default = queues(&["default"]);
    let first = q.claim_many(&default, "w1", LEASE, 3, at).await.unwrap();
    assert_eq!(
        names(&first),
        ["a", "b", "c"],
        "in the order claim takes them"
    );
    let tokens: BTreeSet<&str> = first.iter().map(|l| l.token.as_str()).collect();
    assert_eq!(tokens.len(), 3, "one delivery each");
    for lease in &first {
        assert_eq!(
            (lease.job.state, lease.job.attempt, lease.expires_at),
            (JobState::Active, 1, at + LEASE)
        );
        let later = at + TimeDelta::seconds(10);
        assert_eq!(
            q.heartbeat(lease, LEASE, later).await.unwrap(),
            later + LEASE
        );
    }
    let rest = q.claim_many(&default, "w2", LEASE, 10, at).await.unwrap();
    assert_eq!(names(&rest), ["d", "e"], "fewer when the queue runs dry");
    assert!(ids(&first).is_disjoint(&ids(&rest)));
    assert_eq!(
        ids(&first).union(&ids(&rest)).copied().collect::<Vec<_>>(),
        all.iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(
        q.claim_many(&default, "w1", LEASE, 10, at)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(q.stats().await.unwrap()[0].active, 5);
}

pub(crate) async fn jobs_completed_while_claiming_the_next_are_never_delivered_again(q: Queues) {
    let (q, at) = (q.jobs, now());
    enqueue_named(&*q, &["a", "b", "c", "d"], at).await;
    let default = queues(&["default"]);
    let first = q.claim_many(&default, "w1", LEASE, 2, at).await.unwrap();
    let turnover = q
        .complete_and_claim(&first, &default, "w1", LEASE, 2, at)
        .await
        .unwrap();
    assert!(turnover.lost.is_empty());
    assert_eq!(names(&turnover.claimed), ["c", "d"]);
    for lease in &first {
        let record = q.get(lease.job.id).await.unwrap().unwrap();
        assert_eq!(record.state, JobState::Completed);
    }
    // The second pair is never acknowledged: only it comes back once its leases lapse.
    let lapsed = at + LEASE + TimeDelta::seconds(1);
    assert_eq!(q.reap_expired(lapsed).await.unwrap(), 2);
    let again = q
        .claim_many(&default, "w2", LEASE, 10, lapsed)
        .await
        .unwrap();
    assert_eq!(ids(&again), ids(&turnover.claimed));
    assert!(again.iter().all(|l| l.job.attempt == 2));
    let stats = q.stats().await.unwrap();
    assert_eq!((stats[0].completed, stats[0].active), (2, 2));
    let last = q
        .complete_and_claim(&again, &default, "w2", LEASE, 0, lapsed)
        .await
        .unwrap();
    assert!(last.lost.is_empty() && last.claimed.is_empty());
    assert_eq!(q.stats().await.unwrap()[0].completed, 4);
}

pub(crate) async fn a_crashed_batch_is_delivered_again_and_its_stale_leases_are_refused(q: Queues) {
    let (q, at) = (q.jobs, now());
    enqueue_named(&*q, &["a", "b", "c"], at).await;
    let default = queues(&["default"]);
    let crashed = q
        .claim_many(&default, "crashed", LEASE, 3, at)
        .await
        .unwrap();
    assert_eq!(crashed.len(), 3);
    let during = at + LEASE - TimeDelta::seconds(1);
    assert_eq!(q.reap_expired(during).await.unwrap(), 0, "still leased");
    assert!(
        q.claim_many(&default, "w2", LEASE, 3, during)
            .await
            .unwrap()
            .is_empty(),
        "invisible while leased"
    );
    let lapsed = at + LEASE;
    assert_eq!(q.reap_expired(lapsed).await.unwrap(), 3);
    let redelivered = q
        .claim_many(&default, "w2", LEASE, 3, lapsed)
        .await
        .unwrap();
    assert_eq!(ids(&redelivered), ids(&crashed));
    // Redelivery order is not promised: find each job's current lease by its id.
    let current_of = |stale: &Lease| {
        redelivered
            .iter()
            .find(|l| l.job.id == stale.job.id)
            .unwrap()
            .clone()
    };
    // The crashed worker comes back with its old leases mixed with a current one.
    let mixed = [
        crashed[0].clone(),
        current_of(&crashed[1]),
        crashed[2].clone(),
    ];
    let turnover = q
        .complete_and_claim(&mixed, &default, "crashed", LEASE, 1, lapsed)
        .await
        .unwrap();
    assert_eq!(
        turnover.lost.iter().copied().collect::<BTreeSet<_>>(),
        [crashed[0].job.id, crashed[2].job.id].into()
    );
    assert!(turnover.claimed.is_empty());
    assert_eq!(
        q.get(crashed[1].job.id).await.unwrap().unwrap().state,
        JobState::Completed,
        "the current lease among stale ones still completes"
    );
    assert!(matches!(
        q.complete(&crashed[0], lapsed).await,
        Err(QueueError::LeaseLost)
    ));
    let current = q.get(crashed[0].job.id).await.unwrap().unwrap();
    assert_eq!((current.state, current.attempt), (JobState::Active, 2));
    q.complete(&current_of(&crashed[0]), lapsed).await.unwrap();
}

pub(crate) async fn a_batch_claim_counts_every_job_against_the_rate_limit(q: Queues) {
    let q = q.jobs;
    // The start of a minute, so that the whole case stays in one window.
    let at = DateTime::from_timestamp(now().timestamp() / 60 * 60, 0).unwrap();
    let specs = (0..4)
        .map(|i| spec(&format!("limited-{i}"), "limited"))
        .chain([spec("free", "default")])
        .collect();
    q.enqueue_many(specs, at).await.unwrap();
    let both = queues(&["limited", "default"]);
    let claimed = q.claim_many(&both, "w1", LEASE, 10, at).await.unwrap();
    assert_eq!(names(&claimed), ["limited-0", "limited-1", "free"]);
    // Within the leases and within the window.
    let within = at + TimeDelta::seconds(20);
    let turnover = q
        .complete_and_claim(&claimed, &both, "w1", LEASE, 10, within)
        .await
        .unwrap();
    assert!(turnover.lost.is_empty());
    assert!(turnover.claimed.is_empty(), "the limited queue is spent");
    let next = q
        .claim_many(&both, "w1", LEASE, 1, at + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(names(&next), ["limited-2"], "at most max");
}
