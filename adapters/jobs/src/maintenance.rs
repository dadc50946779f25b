//! The timer side of the queue: delayed and retrying jobs are promoted when due and lapsed
//! leases are reaped, whether or not any worker polls. Every process running it does the same
//! atomic steps, so it needs no leader; more processes only shorten the delay.

use std::sync::Arc;
use std::time::Duration;

use arcana_ports::clock::Clock;
use arcana_ports::jobs::JobQueue;
use tokio::sync::watch;

use crate::metrics::JobMetrics;

pub struct Maintenance {
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    metrics: JobMetrics,
    /// Pause between sweeps: the worst extra delay of a due job or a lapsed lease.
    tick: Duration,
}

impl Maintenance {
    pub fn new(
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        metrics: JobMetrics,
        tick: Duration,
    ) -> Self {
        Self {
            queue,
            clock,
            metrics,
            tick,
        }
    }

    /// One sweep: promote, reap, refresh the queue gauges.
    pub async fn sweep(&self) {
        let now = self.clock.now();
        match self.queue.promote_due(now).await {
            Ok(0) => {}
            Ok(promoted) => tracing::debug!(promoted, "due jobs promoted"),
            Err(err) => {
                tracing::warn!(error = %crate::describe(err), "promoting due jobs failed");
            }
        }
        match self.queue.reap_expired(now).await {
            Ok(0) => {}
            Ok(reaped) => tracing::info!(reaped, "lapsed leases returned to their queues"),
            Err(err) => {
                tracing::warn!(error = %crate::describe(err), "reaping lapsed leases failed");
            }
        }
        if let Ok(stats) = self.queue.stats().await {
            for queue in stats {
                let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                self.metrics
                    .pending
                    .with_label_values(&[&queue.queue])
                    .set(gauge(queue.pending));
                self.metrics
                    .active
                    .with_label_values(&[&queue.queue])
                    .set(gauge(queue.active));
            }
        }
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.sweep().await,
                () = crate::stopped(&mut stop) => return,
            }
        }
    }
}
