//! `JobQueue` and `Scheduler` contract cases for the operator's side: dead letters, cancel,
//! search and stats, schedules, rate limits. Run from [`crate::jobs::run`].

use std::sync::Arc;

use arcana_domain::jobs::JobState;
use arcana_ports::jobs::{JobFilter, JobQueue, QueueError, Schedule, WorkerInfo};
use chrono::{DateTime, TimeDelta};

use crate::fixtures::now;
use crate::jobs::{DEAD_MAX_LEN, LEASE, Queues, claim_name, queues, spec};

pub(crate) async fn dead_letters_are_bounded_and_purged_per_queue(q: Queues) {
    let (q, at) = (q.jobs, now());
    for i in 0..5 {
        let when = at + TimeDelta::seconds(i);
        q.enqueue(spec(&format!("dead-{i}"), "default"), when)
            .await
            .unwrap();
        let lease = q
            .claim(&queues(&["default"]), "w1", LEASE, when)
            .await
            .unwrap()
            .unwrap();
        q.fail(&lease, "fatal", None, when).await.unwrap();
    }
    q.enqueue(spec("elsewhere", "mail"), at).await.unwrap();
    let lease = q
        .claim(&queues(&["mail"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    q.fail(&lease, "fatal", None, at).await.unwrap();
    let filter = JobFilter {
        state: Some(JobState::DeadLettered),
        queue: Some("default".into()),
        limit: 100,
        ..JobFilter::default()
    };
    let mut kept: Vec<String> = q
        .search(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.spec.name().to_string())
        .collect();
    kept.sort();
    assert_eq!(kept, ["dead-2", "dead-3", "dead-4"], "the oldest go first");
    assert_eq!(q.purge_dead("default").await.unwrap(), DEAD_MAX_LEN);
    assert!(q.search(&filter).await.unwrap().is_empty());
    let stats = q.stats().await.unwrap();
    assert_eq!(
        stats
            .iter()
            .map(|s| (s.queue.as_str(), s.dead_lettered))
            .collect::<Vec<_>>(),
        [("default", 0), ("mail", 1)]
    );
}

pub(crate) async fn only_waiting_jobs_can_be_cancelled_and_release_gives_the_attempt_back(
    q: Queues,
) {
    let (q, at) = (q.jobs, now());
    let waiting = q.enqueue(spec("waiting", "default"), at).await.unwrap().id;
    let delayed = q
        .enqueue(spec("delayed", "default").with_run_at(Some(at + LEASE)), at)
        .await
        .unwrap()
        .id;
    assert!(q.cancel(waiting, at).await.unwrap());
    assert!(q.cancel(delayed, at).await.unwrap());
    assert_eq!(
        q.get(waiting).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert_eq!(
        q.promote_due(at + LEASE).await.unwrap(),
        0,
        "a cancelled job never runs"
    );
    let running = q.enqueue(spec("running", "default"), at).await.unwrap().id;
    let lease = q
        .claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.job.id, running);
    assert!(
        !q.cancel(running, at).await.unwrap(),
        "active jobs are not cancelled"
    );
    q.release(&lease, at).await.unwrap();
    let again = q
        .claim(&queues(&["default"]), "w2", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.job.id, again.job.attempt), (running, 1));
    assert!(matches!(
        q.cancel(arcana_domain::ids::JobId::generate(), at).await,
        Err(QueueError::NotFound)
    ));
}

async fn found_names(q: Arc<dyn JobQueue>, filter: JobFilter) -> Vec<String> {
    let filter = JobFilter {
        limit: 100,
        ..filter
    };
    let mut names: Vec<String> = q
        .search(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.spec.name().to_string())
        .collect();
    names.sort();
    names
}

pub(crate) async fn search_filters_by_state_queue_name_and_tag_and_stats_count_each_state(
    q: Queues,
) {
    let (q, at) = (q.jobs, now());
    q.enqueue(
        spec("invoice", "default").with_tags(vec!["billing".into()]),
        at,
    )
    .await
    .unwrap();
    q.enqueue(spec("welcome", "mail"), at).await.unwrap();
    q.enqueue(spec("digest", "mail").with_run_at(Some(at + LEASE)), at)
        .await
        .unwrap();
    q.enqueue(spec("done", "default"), at).await.unwrap();
    let lease = q
        .claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    q.complete(&lease, at).await.unwrap();
    q.claim(&queues(&["default"]), "w1", LEASE, at)
        .await
        .unwrap()
        .unwrap();
    let find = |filter: JobFilter| found_names(q.clone(), filter);
    assert_eq!(
        find(JobFilter {
            tag: Some("billing".into()),
            ..JobFilter::default()
        })
        .await,
        ["invoice"]
    );
    assert_eq!(
        find(JobFilter {
            queue: Some("mail".into()),
            ..JobFilter::default()
        })
        .await,
        ["digest", "welcome"]
    );
    assert_eq!(
        find(JobFilter {
            name: Some("welcome".into()),
            ..JobFilter::default()
        })
        .await,
        ["welcome"]
    );
    assert_eq!(
        find(JobFilter {
            state: Some(JobState::Completed),
            ..JobFilter::default()
        })
        .await,
        ["invoice"]
    );
    assert_eq!(
        find(JobFilter {
            state: Some(JobState::Active),
            ..JobFilter::default()
        })
        .await,
        ["done"]
    );
    let stats = q.stats().await.unwrap();
    let counts: Vec<_> = stats
        .iter()
        .map(|s| {
            (
                s.queue.as_str(),
                s.scheduled,
                s.pending,
                s.active,
                s.completed,
            )
        })
        .collect();
    assert_eq!(counts, [("default", 0, 0, 1, 1), ("mail", 1, 1, 0, 0)]);
}

pub(crate) async fn schedules_keep_their_pause_and_fire_time_across_redefinition(q: Queues) {
    let (s, at) = (q.schedules, now());
    let schedule = Schedule {
        name: "purge".into(),
        cron: "0 */5 * * * *".into(),
        timezone: "Europe/Paris".into(),
        job: spec("purge", "maintenance"),
        paused: false,
        last_fired_at: None,
    };
    s.upsert(&schedule).await.unwrap();
    assert!(s.set_paused("purge", true).await.unwrap());
    assert!(!s.set_paused("unknown", true).await.unwrap());
    s.mark_fired("purge", at).await.unwrap();
    s.mark_fired("purge", at - TimeDelta::minutes(5))
        .await
        .unwrap();
    s.upsert(&Schedule {
        cron: "0 * * * * *".into(),
        ..schedule.clone()
    })
    .await
    .unwrap();
    let listed = s.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0],
        Schedule {
            cron: "0 * * * * *".into(),
            paused: true,
            last_fired_at: Some(at),
            ..schedule
        },
        "redefined, still paused, fire time only moves forward"
    );
}

pub(crate) async fn a_rate_limited_queue_starts_at_most_its_limit_per_window(q: Queues) {
    let q = q.jobs;
    // The start of a minute, so that the whole case stays in one window.
    let at = DateTime::from_timestamp(now().timestamp() / 60 * 60, 0).unwrap();
    for i in 0..3 {
        q.enqueue(spec(&format!("limited-{i}"), "limited"), at)
            .await
            .unwrap();
    }
    q.enqueue(spec("free", "default"), at).await.unwrap();
    let both = ["limited", "default"];
    assert_eq!(
        claim_name(&*q, &both, at).await.as_deref(),
        Some("limited-0")
    );
    assert_eq!(
        claim_name(&*q, &both, at).await.as_deref(),
        Some("limited-1")
    );
    assert_eq!(
        claim_name(&*q, &both, at).await.as_deref(),
        Some("free"),
        "the limited queue is spent"
    );
    assert_eq!(
        claim_name(&*q, &both, at + TimeDelta::seconds(59)).await,
        None
    );
    assert_eq!(
        q.stats().await.unwrap()[1].pending,
        1,
        "the third job waits"
    );
    let next = at + TimeDelta::minutes(1);
    assert_eq!(
        claim_name(&*q, &both, next).await.as_deref(),
        Some("limited-2")
    );
}

pub(crate) async fn workers_are_listed_while_their_reports_last(q: Queues) {
    let (q, at) = (q.jobs, now());
    let worker = |id: &str, running| WorkerInfo {
        id: id.to_owned(),
        queues: vec!["default".into(), "mail".into()],
        started_at: at - TimeDelta::minutes(5),
        last_seen: at,
        running,
    };
    q.beat_worker(&worker("w-long", 3), TimeDelta::minutes(1))
        .await
        .unwrap();
    q.beat_worker(&worker("w-short", 0), TimeDelta::seconds(10))
        .await
        .unwrap();
    let live = q.workers(at).await.unwrap();
    assert_eq!(live, [worker("w-long", 3), worker("w-short", 0)]);
    let later = q.workers(at + TimeDelta::seconds(10)).await.unwrap();
    assert_eq!(
        later.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["w-long"]
    );
}
