//! The job runtime: the driving side of the job queue. Producers describe work with typed
//! [`Job`]s and the [`JobClient`] builder; a [`WorkerPool`] claims jobs under leases and runs
//! their handlers from the [`Registry`]; [`Maintenance`] promotes due jobs and reaps lapsed
//! leases on a timer, so neither depends on worker polls; the [`CronRunner`] fires schedules in
//! exactly one process of the cluster, elected through the `LeaderLock` port.
//!
//! Everything here talks to ports only; the backends (memory, Redis) are chosen in bootstrap.

mod attempt;
mod builtin;
mod client;
mod cron;
mod job;
mod maintenance;
mod metered;
mod metrics;
mod worker;

pub use builtin::{Noop, Sleep};
pub use client::{Enqueue, JobClient};
pub use cron::{CronRunner, CronSettings, next_fire_times, parse_schedule};
pub use job::{DynamicJobs, Job, JobContext, JobError, JobFuture, Registry};
pub use maintenance::Maintenance;
pub use metered::MeteredJobQueue;
pub use metrics::JobMetrics;
pub use worker::{WorkerPool, WorkerSettings};

/// Resolves once `stop` turns true (at once if it already has).
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, not held across an await.
    let _ = stop.wait_for(|s| *s).await;
}

/// An error with its chain of causes, for a log line.
pub(crate) fn describe(err: impl Into<anyhow::Error>) -> String {
    format!("{:#}", err.into())
}

#[cfg(test)]
mod tests;
