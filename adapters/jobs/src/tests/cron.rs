use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_memory::{InMemoryLeaderLock, InMemoryScheduler};
use arcana_domain::jobs::{JobName, JobState};
use arcana_ports::jobs::{JobFilter, JobQueue, Schedule, Scheduler};
use chrono::{TimeDelta, Timelike};

use super::{fixtures, start};
use crate::cron::MAX_CATCH_UP;
use crate::{CronRunner, CronSettings, JobClient, JobMetrics, next_fire_times, parse_schedule};

fn runner(holder: &str, scheduler: Arc<dyn Scheduler>, client: JobClient) -> CronRunner {
    let settings = CronSettings {
        holder: holder.into(),
        lease: Duration::from_secs(5),
        tick: Duration::from_millis(100),
    };
    CronRunner::new(
        scheduler,
        Arc::new(InMemoryLeaderLock::new()),
        client,
        JobMetrics::unregistered(),
        settings,
    )
}

#[test]
fn fire_times_follow_the_schedule_s_time_zone_and_seconds_field() {
    let (paris, tz) = parse_schedule("0 30 9 * * *", "Europe/Paris").unwrap();
    let times = next_fire_times(&paris, tz, start(), start() + TimeDelta::days(2), 10);
    // 09:30 in Paris is 07:30 UTC in summer.
    assert_eq!(
        times
            .iter()
            .map(|t| (t.hour(), t.minute()))
            .collect::<Vec<_>>(),
        [(7, 30), (7, 30)]
    );
    let (every, utc) = parse_schedule("*/15 * * * * *", "UTC").unwrap();
    assert_eq!(
        next_fire_times(&every, utc, start(), start() + TimeDelta::minutes(1), 10).len(),
        4
    );
    assert_eq!(
        next_fire_times(&every, utc, start(), start() + TimeDelta::hours(1), 3).last(),
        Some(&(start() + TimeDelta::hours(1)))
    );
    assert!(parse_schedule("not cron", "UTC").is_err());
    assert!(parse_schedule("* * * * * *", "Mars/Olympus").is_err());
}

#[tokio::test]
async fn two_leaders_by_mistake_still_enqueue_each_fire_time_once_and_gaps_are_caught_up() {
    let (queue, clock) = fixtures();
    let scheduler: Arc<dyn Scheduler> = Arc::new(InMemoryScheduler::new());
    let client = JobClient::new(queue.clone(), clock.clone());
    let job = client
        .named(JobName::from_static("noop"), b"{}".to_vec())
        .spec()
        .clone();
    scheduler
        .upsert(&Schedule {
            name: "tick".into(),
            cron: "* * * * * *".into(),
            timezone: "UTC".into(),
            job,
            paused: false,
            last_fired_at: None,
        })
        .await
        .unwrap();
    let (a, b) = (
        runner("a", scheduler.clone(), client.clone()),
        runner("b", scheduler.clone(), client),
    );
    a.fire_due().await.unwrap();
    assert!(
        queue
            .search(&JobFilter {
                limit: 100,
                ..JobFilter::default()
            })
            .await
            .unwrap()
            .is_empty(),
        "a new schedule starts from now"
    );

    clock.advance(TimeDelta::seconds(5));
    a.fire_due().await.unwrap();
    b.fire_due().await.unwrap();
    let jobs = queue
        .search(&JobFilter {
            limit: 100,
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(jobs.len(), 5, "one job per fire time");
    assert!(
        jobs.iter()
            .all(|j| j.state == JobState::Pending && j.spec.name() == "noop")
    );

    scheduler.set_paused("tick", true).await.unwrap();
    clock.advance(TimeDelta::seconds(5));
    a.fire_due().await.unwrap();
    assert_eq!(queue.stats().await.unwrap()[0].pending, 5, "paused");
    scheduler.set_paused("tick", false).await.unwrap();
    clock.advance(TimeDelta::minutes(5));
    b.fire_due().await.unwrap();
    assert_eq!(
        queue.stats().await.unwrap()[0].pending,
        5 + MAX_CATCH_UP as u64,
        "a long gap is caught up only partly"
    );
}
