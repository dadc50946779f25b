//! The worker pool: per queue, a fixed number of slots filled with jobs claimed under leases in
//! batches; each lease is renewed by heartbeat while its handler runs, and successes are
//! acknowledged together with the next claim.
//! Each job runs as an attempt ([`crate::attempt`]). On shutdown the pool stops claiming at
//! once; running handlers get until the deadline, after which they are cancelled and their jobs
//! released to the queue untouched, and the successes of the last moments are still
//! acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use arcana_ports::clock::Clock;
use arcana_ports::jobs::{JobQueue, Lease, QueueError, Turnover, WorkerInfo};
use chrono::TimeDelta;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::attempt::{run_one, run_span};
use crate::job::Registry;
use crate::metrics::JobMetrics;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Name of this process in lease tokens (diagnostics only).
    pub worker_id: String,
    /// Queues served and the number of jobs run at once on each.
    pub queues: Vec<(String, usize)>,
    /// How long a claimed job stays invisible to other workers without a heartbeat.
    pub lease: Duration,
    /// How often a running job's lease is renewed; well under `lease`.
    pub heartbeat: Duration,
    /// Pause of a queue whose last claim came back short (fewer jobs than free slots) before it
    /// asks again, unless a job finishes first.
    pub poll_interval: Duration,
    /// Time running handlers get after shutdown before their jobs are released.
    pub shutdown_deadline: Duration,
}

pub(crate) struct Shared {
    /// Handlers running now, reported with the pool's presence.
    pub(crate) running: AtomicU32,
    pub(crate) queue: Arc<dyn JobQueue>,
    pub(crate) registry: Registry,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: JobMetrics,
    pub(crate) settings: WorkerSettings,
}

pub struct WorkerPool {
    shared: Arc<Shared>,
}

pub(crate) fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl WorkerPool {
    pub fn new(
        queue: Arc<dyn JobQueue>,
        registry: Registry,
        clock: Arc<dyn Clock>,
        metrics: JobMetrics,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                running: AtomicU32::new(0),
                queue,
                registry,
                clock,
                metrics,
                settings,
            }),
        }
    }

    /// Runs until `stop` turns true, then drains within the shutdown deadline.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut tasks = JoinSet::new();
        tasks.spawn(presence(self.shared.clone(), stop.clone()));
        for (queue, slots) in &self.shared.settings.queues {
            for lane in lanes(*slots) {
                tasks.spawn(dispatch(
                    self.shared.clone(),
                    queue.clone(),
                    lane,
                    stop.clone(),
                ));
            }
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!("worker pool stopped");
    }
}

/// Dispatchers per queue. One dispatcher alternates between waiting for its round trip and
/// running what it claimed, so with short jobs the queue's store and this process take turns
/// idling; two, each with half the slots, keep both busy (one's claim travels while the other's
/// jobs run).
const LANES: usize = 2;

/// A queue's slots split between its dispatchers, none empty.
pub(crate) fn lanes(slots: usize) -> Vec<usize> {
    let lanes = LANES.min(slots).max(1);
    (0..lanes)
        .map(|lane| slots / lanes + usize::from(lane < slots % lanes))
        .collect()
}

/// One dispatcher's slots of a queue. Claims as many jobs as it has free slots and runs each in
/// a task of its own; the finished ones are acknowledged in the same step that claims their
/// successors, so a busy queue costs one round trip per batch rather than two per job. It waits
/// only when every slot is busy, or after the queue came back short (then until a job finishes
/// or the poll interval passes); it never claims more than it starts, so no lease waits
/// unrenewed.
async fn dispatch(
    shared: Arc<Shared>,
    queue: String,
    slots: usize,
    mut stop: watch::Receiver<bool>,
) {
    let queues = [queue];
    let settings = &shared.settings;
    let mut running: JoinSet<Option<Lease>> = JoinSet::new();
    let mut done: Vec<Lease> = Vec::new();
    let mut dry = false;
    loop {
        let stopping = *stop.borrow();
        if stopping && running.is_empty() && done.is_empty() {
            return;
        }
        if done.is_empty() && (running.len() >= slots || dry || stopping) {
            tokio::select! {
                Some(joined) = running.join_next() => finished(joined, &mut done),
                () = tokio::time::sleep(settings.poll_interval), if dry && !stopping => dry = false,
                () = crate::stopped(&mut stop), if !stopping => {}
            }
        }
        while let Some(joined) = running.try_join_next() {
            finished(joined, &mut done);
        }
        let free = if *stop.borrow() {
            0
        } else {
            slots.saturating_sub(running.len())
        };
        if done.is_empty() && free == 0 {
            continue;
        }
        match turnover(&shared, &done, &queues, free).await {
            Ok(turnover) => {
                for id in &turnover.lost {
                    tracing::warn!(job = %id, "lease lost before the outcome was recorded");
                }
                dry = turnover.claimed.len() < free;
                for lease in turnover.claimed {
                    let span = run_span(&lease.job);
                    running.spawn(run_one(shared.clone(), lease, stop.clone()).instrument(span));
                }
            }
            Err(err) => {
                tracing::warn!(error = %crate::describe(err), "completing or claiming jobs failed; unacknowledged jobs will run again once their leases lapse");
                idle(settings.poll_interval * 10, &mut stop).await;
            }
        }
        done.clear();
    }
}

/// Acknowledges `done` and claims up to `free` jobs, in one step when there is anything to
/// acknowledge.
async fn turnover(
    shared: &Shared,
    done: &[Lease],
    queues: &[String],
    free: usize,
) -> Result<Turnover, QueueError> {
    let settings = &shared.settings;
    let (worker, lease, now) = (
        settings.worker_id.as_str(),
        delta(settings.lease),
        shared.clock.now(),
    );
    if done.is_empty() {
        let claimed = shared
            .queue
            .claim_many(queues, worker, lease, free, now)
            .await?;
        return Ok(Turnover {
            lost: Vec::new(),
            claimed,
        });
    }
    shared
        .queue
        .complete_and_claim(done, queues, worker, lease, free, now)
        .await
}

/// Collects an attempt's lease when it waits to be acknowledged.
fn finished(joined: Result<Option<Lease>, tokio::task::JoinError>, done: &mut Vec<Lease>) {
    match joined {
        Ok(Some(lease)) => done.push(lease),
        Ok(None) => {}
        // The attempt's own code failed, not the handler (whose panics it catches): the lease
        // lapses and the job runs again.
        Err(err) => tracing::error!(error = %err, "a job attempt's task died"),
    }
}

async fn idle(pause: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(pause) => {}
        () = crate::stopped(stop) => {}
    }
}

/// Reports this pool as a live worker every heartbeat, so operators can list workers; a
/// report lapses after one lease without a newer one.
async fn presence(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let settings = &shared.settings;
    let mut info = WorkerInfo {
        id: settings.worker_id.clone(),
        queues: settings.queues.iter().map(|(q, _)| q.clone()).collect(),
        started_at: shared.clock.now(),
        last_seen: shared.clock.now(),
        running: 0,
    };
    while !*stop.borrow() {
        info.last_seen = shared.clock.now();
        info.running = shared.running.load(Ordering::Relaxed);
        if let Err(err) = shared.queue.beat_worker(&info, delta(settings.lease)).await {
            tracing::warn!(error = %crate::describe(err), "reporting worker presence failed");
        }
        idle(settings.heartbeat, &mut stop).await;
    }
}
