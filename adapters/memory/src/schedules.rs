//! `Scheduler` within one process: cron schedules for the embedded backend and tests.

use std::collections::HashMap;
use std::sync::Mutex;

use arcana_ports::jobs::{QueueError, Schedule, Scheduler};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Cron schedules of one process.
#[derive(Default)]
pub struct InMemoryScheduler {
    schedules: Mutex<HashMap<String, Schedule>>,
}

impl InMemoryScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        act: impl FnOnce(&mut HashMap<String, Schedule>) -> T,
    ) -> Result<T, QueueError> {
        let mut schedules = self
            .schedules
            .lock()
            .map_err(|_| QueueError::Other(anyhow::anyhow!("in-memory schedules poisoned")))?;
        Ok(act(&mut schedules))
    }
}

#[async_trait]
impl Scheduler for InMemoryScheduler {
    async fn upsert(&self, schedule: &Schedule) -> Result<(), QueueError> {
        self.with(|all| {
            let mut next = schedule.clone();
            if let Some(old) = all.get(&schedule.name) {
                next.paused = old.paused;
                next.last_fired_at = old.last_fired_at;
            }
            all.insert(next.name.clone(), next);
        })
    }

    async fn list(&self) -> Result<Vec<Schedule>, QueueError> {
        self.with(|all| {
            let mut list: Vec<Schedule> = all.values().cloned().collect();
            list.sort_by(|a, b| a.name.cmp(&b.name));
            list
        })
    }

    async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, QueueError> {
        self.with(|all| all.get_mut(name).map(|s| s.paused = paused).is_some())
    }

    async fn mark_fired(&self, name: &str, at: DateTime<Utc>) -> Result<(), QueueError> {
        self.with(|all| {
            if let Some(schedule) = all.get_mut(name) {
                schedule.last_fired_at = Some(at.max(schedule.last_fired_at.unwrap_or(at)));
            }
        })
    }
}
