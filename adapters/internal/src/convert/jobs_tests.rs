use arcana_domain::ids::JobId;
use arcana_domain::jobs::{
    Backoff, JobName, JobRecord, JobSpec, JobState, Priority, QueueName, RetryPolicy, UniqueKey,
};
use arcana_ports::jobs::{JobEvent, JobEventKind, QueueStats, Schedule, WorkerInfo};
use arcana_ports::usecases::jobs::Dashboard;
use chrono::{DateTime, TimeDelta, Utc};
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;
use crate::Encoding;

/// Through JSON (internal HTTP) and then protobuf (internal gRPC), as a message crosses a tier.
fn through_the_wire<M: Message + Serialize + DeserializeOwned + Default>(message: &M) -> M {
    let json = Encoding::Json.encode(message).unwrap();
    let decoded: M = Encoding::Json.decode(&json).unwrap();
    let bytes = Encoding::Protobuf.encode(&decoded).unwrap();
    Encoding::Protobuf.decode(&bytes).unwrap()
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap()
}

fn spec() -> JobSpec {
    JobSpec::new(
        JobName::parse("mail.send").unwrap(),
        br#"{"to":"x","lines":["a\nb"]}"#.to_vec(),
    )
    .with_queue(QueueName::parse("mail").unwrap())
    .with_priority(Priority::Critical)
    .with_run_at(Some(at(1_700_000_000_123_456)))
    .with_retry(RetryPolicy {
        max_attempts: 7,
        backoff: Backoff::Linear,
        base_delay: TimeDelta::milliseconds(1500),
        max_delay: TimeDelta::minutes(3),
        jitter: false,
    })
    .with_timeout(TimeDelta::seconds(90))
    .with_unique(Some(UniqueKey {
        key: "cron:report:2024-01-01T00:00:00Z".into(),
        window: TimeDelta::hours(2),
    }))
    .with_tags(vec!["smoke".into(), "eu".into()])
    .with_correlation_id(Some("manual:report".into()))
}

fn record(state: JobState) -> JobRecord {
    JobRecord {
        id: JobId::generate(),
        spec: spec(),
        state,
        attempt: 3,
        created_at: at(1_700_000_000_000_001),
        updated_at: at(1_700_000_000_999_999),
        last_error: Some("handler timed out".into()),
    }
}

#[test]
fn a_job_record_in_every_state_crosses_the_wire_unchanged() {
    for state in JobState::ALL {
        let job = record(state);
        let back = job_record(through_the_wire(&job_record_message(&job))).unwrap();
        assert_eq!(back, job);
    }
    let mut plain = record(JobState::Pending);
    plain.spec = plain
        .spec
        .with_run_at(None)
        .with_unique(None)
        .with_correlation_id(None);
    plain.last_error = None;
    let back = job_record(through_the_wire(&job_record_message(&plain))).unwrap();
    assert_eq!(back, plain);
}

#[test]
fn every_backoff_and_priority_crosses_the_wire() {
    for (backoff, priority) in [
        (Backoff::Fixed, Priority::Low),
        (Backoff::Linear, Priority::Normal),
        (Backoff::Exponential, Priority::High),
    ] {
        let base = spec();
        let retry = RetryPolicy {
            backoff,
            ..*base.retry()
        };
        let job = base.with_retry(retry).with_priority(priority);
        let back = job_spec(Some(through_the_wire(&job_spec_message(&job)))).unwrap();
        assert_eq!(back, job);
    }
}

#[test]
fn values_no_tier_could_have_produced_are_refused() {
    let job = record(JobState::Active);
    let mut message = job_record_message(&job);
    message.state = "sideways".into();
    assert!(job_record(message).is_err());
    let mut message = job_record_message(&job);
    message.spec.as_mut().unwrap().name = "with space".into();
    assert!(job_record(message).is_err());
    let mut message = job_record_message(&job);
    message.spec.as_mut().unwrap().priority = "urgent".into();
    assert!(job_record(message).is_err());
    let mut message = job_record_message(&job);
    message
        .spec
        .as_mut()
        .unwrap()
        .retry
        .as_mut()
        .unwrap()
        .backoff = "random".into();
    assert!(job_record(message).is_err());
    let mut message = job_record_message(&job);
    message.id = "not-a-job-id".into();
    assert!(job_record(message).is_err());
    let mut message = job_record_message(&job);
    message.spec = None;
    assert!(job_record(message).is_err());
}

#[test]
fn statistics_schedules_workers_and_the_dashboard_cross_the_wire() {
    let stats = QueueStats {
        queue: "mail".into(),
        scheduled: 1,
        pending: 2,
        active: 3,
        completed: 4,
        dead_lettered: 5,
    };
    let board = Dashboard {
        queues: vec![stats.clone()],
        totals: QueueStats {
            queue: "*".into(),
            ..stats.clone()
        },
        schedules: 4,
        paused_schedules: 1,
    };
    assert_eq!(
        dashboard(through_the_wire(&dashboard_message(&board))).unwrap(),
        board
    );
    let cron = Schedule {
        name: "report".into(),
        cron: "0 0 * * * *".into(),
        timezone: "Europe/Paris".into(),
        job: spec(),
        paused: true,
        last_fired_at: Some(at(1_700_000_000_000_000)),
    };
    assert_eq!(
        schedule(through_the_wire(&schedule_message(&cron))).unwrap(),
        cron
    );
    let pool = WorkerInfo {
        id: "worker@host:42".into(),
        queues: vec!["default".into(), "maintenance".into()],
        started_at: at(1_700_000_000_000_000),
        last_seen: at(1_700_000_005_000_000),
        running: 2,
    };
    assert_eq!(
        worker(through_the_wire(&worker_message(&pool))).unwrap(),
        pool
    );
}

#[test]
fn every_job_event_crosses_the_wire_and_an_unknown_kind_is_refused() {
    for kind in [
        JobEventKind::Enqueued,
        JobEventKind::Started,
        JobEventKind::Completed,
        JobEventKind::Failed,
        JobEventKind::DeadLettered,
        JobEventKind::Cancelled,
        JobEventKind::Replayed,
    ] {
        let event = JobEvent {
            id: JobId::generate(),
            name: "noop".into(),
            queue: "default".into(),
            kind,
            attempt: 1,
            at: at(1_700_000_000_000_000),
        };
        assert_eq!(
            job_event(&through_the_wire(&job_event_message(&event))).unwrap(),
            event
        );
    }
    let mut unknown = job_event_message(&JobEvent {
        id: JobId::generate(),
        name: "noop".into(),
        queue: "default".into(),
        kind: JobEventKind::Started,
        attempt: 1,
        at: at(0),
    });
    unknown.kind = 99;
    assert!(job_event(&unknown).is_err());
    unknown.kind = 0;
    assert!(job_event(&unknown).is_err());
}
