//! Cron schedules, fired by exactly one process of the cluster.
//!
//! Every process runs a [`CronRunner`]; the one holding the `LeaderLock` fires. Each fire time
//! is enqueued with the unique key `cron:{schedule}:{fire time}`, so even two processes that
//! both believe they lead (a paused leader waking after its lease lapsed) enqueue it once. A new
//! leader resumes from the last fire time recorded in the shared `Scheduler`, so fire times that
//! fell in a failover gap are caught up (at most [`MAX_CATCH_UP`] of them) instead of dropped.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use arcana_ports::clock::Clock;
use arcana_ports::jobs::{QueueError, Schedule, Scheduler};
use arcana_ports::locks::{FencingToken, LeaderLock};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;

use crate::client::JobClient;
use crate::metrics::JobMetrics;

const LOCK_NAME: &str = "cron-leader";
/// Fire times older than the last recorded one by more than this many are skipped after a
/// long outage rather than run in a burst.
pub const MAX_CATCH_UP: usize = 10;
/// How long a fire time's unique key lives: far longer than any failover.
const FIRE_DEDUP_WINDOW: TimeDelta = TimeDelta::days(1);

#[derive(Debug, Clone)]
pub struct CronSettings {
    /// This process's name in the lock.
    pub holder: String,
    /// Leader lease; a dead leader is replaced within about this long.
    pub lease: Duration,
    /// How often schedules are checked and the lease renewed (well under `lease`).
    pub tick: Duration,
}

/// Checks a cron expression (six or seven fields, seconds first) and an IANA time zone.
pub fn parse_schedule(cron: &str, timezone: &str) -> Result<(cron::Schedule, Tz), String> {
    let schedule = cron::Schedule::from_str(cron).map_err(|err| format!("cron `{cron}`: {err}"))?;
    let tz = Tz::from_str(timezone).map_err(|_| format!("unknown time zone `{timezone}`"))?;
    Ok((schedule, tz))
}

/// The fire times in `(after, until]`, oldest first, at most `limit` (the latest ones).
pub fn next_fire_times(
    schedule: &cron::Schedule,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = schedule
        .after(&after.with_timezone(&tz))
        .map(|t| t.with_timezone(&Utc))
        .take_while(|t| *t <= until)
        .collect();
    if times.len() > limit {
        times.drain(..times.len() - limit);
    }
    times
}

pub struct CronRunner {
    scheduler: Arc<dyn Scheduler>,
    lock: Arc<dyn LeaderLock>,
    client: JobClient,
    clock: Arc<dyn Clock>,
    metrics: JobMetrics,
    settings: CronSettings,
}

impl CronRunner {
    pub fn new(
        scheduler: Arc<dyn Scheduler>,
        lock: Arc<dyn LeaderLock>,
        client: JobClient,
        metrics: JobMetrics,
        settings: CronSettings,
    ) -> Self {
        let clock = client.clock().clone();
        Self {
            scheduler,
            lock,
            client,
            clock,
            metrics,
            settings,
        }
    }

    /// Takes or keeps leadership; `None` when another process leads.
    async fn lead(&self, held: Option<FencingToken>) -> Option<FencingToken> {
        let (name, holder, ttl) = (
            LOCK_NAME,
            self.settings.holder.as_str(),
            self.settings.lease,
        );
        let outcome = match held {
            Some(token) => self
                .lock
                .renew(name, holder, token, ttl)
                .await
                .map(|kept| kept.then_some(token)),
            None => self.lock.acquire(name, holder, ttl).await,
        };
        let token = outcome.unwrap_or_else(|err| {
            tracing::warn!(error = %crate::describe(err.0), "cron leader lock unavailable; standing down");
            None
        });
        match (held, token) {
            (None, Some(token)) => tracing::info!(token = token.0, "became the cron leader"),
            (Some(_), None) => {
                tracing::warn!("lost cron leadership");
            }
            _ => {}
        }
        self.metrics.is_leader.set(i64::from(token.is_some()));
        token
    }

    /// Enqueues every due fire time of every active schedule.
    pub async fn fire_due(&self) -> Result<(), QueueError> {
        let now = self.clock.now();
        for schedule in self.scheduler.list().await? {
            if schedule.paused {
                // Fire times passed while paused are skipped, not caught up on resume.
                self.scheduler.mark_fired(&schedule.name, now).await?;
                continue;
            }
            self.fire_schedule(&schedule, now).await?;
        }
        Ok(())
    }

    async fn fire_schedule(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        let Ok((cron, tz)) = parse_schedule(&schedule.cron, &schedule.timezone) else {
            tracing::warn!(schedule = %schedule.name, "invalid schedule skipped");
            return Ok(());
        };
        let Some(last) = schedule.last_fired_at else {
            // First sight of this schedule: start from now, not from the epoch.
            return self.scheduler.mark_fired(&schedule.name, now).await;
        };
        for at in next_fire_times(&cron, tz, last, now, MAX_CATCH_UP) {
            let key = format!("cron:{}:{}", schedule.name, at.timestamp());
            let spec = schedule
                .job
                .clone()
                .with_unique(Some(arcana_domain::jobs::UniqueKey {
                    key,
                    window: FIRE_DEDUP_WINDOW,
                }))
                .with_correlation_id(Some(format!("cron:{}:{}", schedule.name, at.to_rfc3339())));
            self.client.enqueue_spec(spec).await?;
            self.scheduler.mark_fired(&schedule.name, at).await?;
        }
        Ok(())
    }

    /// Competes for leadership and fires while leading, until `stop`; then gives the lock up
    /// so that another process takes over at once.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut token = None;
        let mut tick = tokio::time::interval(self.settings.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = crate::stopped(&mut stop) => break,
            }
            token = self.lead(token).await;
            if token.is_some()
                && let Err(err) = self.fire_due().await
            {
                tracing::warn!(error = %crate::describe(err), "firing schedules failed");
            }
        }
        if let Some(token) = token {
            let _ = self
                .lock
                .release(LOCK_NAME, &self.settings.holder, token)
                .await;
            self.metrics.is_leader.set(0);
        }
    }
}
