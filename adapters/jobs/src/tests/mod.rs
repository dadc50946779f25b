//! Runtime tests over the in-memory queue, with a manual clock where time matters.

mod cron;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_memory::{InMemoryJobQueue, ManualClock};
use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobRecord, JobState};
use arcana_ports::jobs::{JobQueue, Retention};
use chrono::{DateTime, Utc};

pub(crate) fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn fixtures() -> (Arc<InMemoryJobQueue>, Arc<ManualClock>) {
    (
        Arc::new(InMemoryJobQueue::new(Retention::default())),
        Arc::new(ManualClock::new(start())),
    )
}

/// Polls until the job satisfies `done`, failing after five seconds.
pub(crate) async fn wait_for(
    queue: &dyn JobQueue,
    id: JobId,
    done: impl Fn(&JobRecord) -> bool,
) -> JobRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let record = queue.get(id).await.unwrap().unwrap();
        if done(&record) {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job stuck in {:?}",
            record.state
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub(crate) fn in_state(state: JobState) -> impl Fn(&JobRecord) -> bool {
    move |r| r.state == state
}
