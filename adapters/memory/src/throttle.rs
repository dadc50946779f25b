//! `ThrottleStore` over a map; records forget themselves once their window and lockout are over.

use std::collections::HashMap;
use std::sync::Mutex;

use arcana_ports::StoreError;
use arcana_ports::throttle::{Attempts, ThrottleStore};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::poisoned;

struct Record {
    attempts: Attempts,
    window: TimeDelta,
}

impl Record {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        let window_over = now >= self.attempts.window_started + self.window;
        let lock_over = self.attempts.locked_until.is_none_or(|until| now >= until);
        window_over && lock_over
    }
}

/// Above this many keys, expired records are swept on write so that a spray of distinct
/// identifiers cannot grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct InMemoryThrottleStore {
    records: Mutex<HashMap<String, Record>>,
}

impl InMemoryThrottleStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ThrottleStore for InMemoryThrottleStore {
    async fn get(&self, key: &str, now: DateTime<Utc>) -> Result<Option<Attempts>, StoreError> {
        let records = self.records.lock().map_err(|_| poisoned())?;
        Ok(records
            .get(key)
            .filter(|r| !r.expired(now))
            .map(|r| r.attempts))
    }

    async fn record_failure(
        &self,
        key: &str,
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Attempts, StoreError> {
        let mut records = self.records.lock().map_err(|_| poisoned())?;
        if records.len() > SWEEP_ABOVE {
            records.retain(|_, r| !r.expired(now));
        }
        let fresh = Record {
            attempts: Attempts {
                failures: 0,
                window_started: now,
                locked_until: None,
            },
            window,
        };
        let record = records.entry(key.to_owned()).or_insert(fresh);
        if now >= record.attempts.window_started + record.window {
            record.attempts.failures = 0;
            record.attempts.window_started = now;
        }
        record.window = window;
        record.attempts.failures += 1;
        Ok(record.attempts)
    }

    async fn lock(&self, key: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(|_| poisoned())?;
        let record = records.entry(key.to_owned()).or_insert(Record {
            attempts: Attempts {
                failures: 0,
                window_started: until,
                locked_until: None,
            },
            window: TimeDelta::zero(),
        });
        record.attempts.locked_until = Some(until);
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(|_| poisoned())?;
        records.remove(key);
        Ok(())
    }
}
