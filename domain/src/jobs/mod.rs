//! Jobs: units of background work with their scheduling options and retry policy.
//!
//! Payloads are opaque bytes here (the typed layer serialises them), which keeps this crate free
//! of any wire format.

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::JobId;

mod values;

pub use values::{JobName, JobState, Priority, QueueName, parse_unique_key};

/// How the delay between attempts grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    Fixed,
    Linear,
    Exponential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 means never retry.
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub base_delay: TimeDelta,
    pub max_delay: TimeDelta,
    /// Spread retries randomly over [delay/2, delay] so that a failing dependency is not hit by
    /// every job at the same instant.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: Backoff::Exponential,
            base_delay: TimeDelta::seconds(1),
            max_delay: TimeDelta::minutes(10),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `failed_attempt + 1`, or `None` when attempts are exhausted.
    /// `unit_sample` is a random number in `[0, 1)`, supplied by the caller so that the policy
    /// stays deterministic under test.
    pub fn delay_after(&self, failed_attempt: u32, unit_sample: f64) -> Option<TimeDelta> {
        if failed_attempt >= self.max_attempts {
            return None;
        }
        let n = i32::try_from(failed_attempt.max(1)).unwrap_or(i32::MAX);
        let raw = match self.backoff {
            Backoff::Fixed => self.base_delay,
            Backoff::Linear => self.base_delay * n,
            Backoff::Exponential => self
                .base_delay
                .checked_mul(1 << (n - 1).min(30))
                .unwrap_or(self.max_delay),
        };
        let capped = raw.min(self.max_delay);
        if !self.jitter {
            return Some(capped);
        }
        let millis = capped.num_milliseconds();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_precision_loss,
            reason = "bounded by max_delay"
        )]
        let jittered = millis / 2 + (millis as f64 / 2.0 * unit_sample.clamp(0.0, 1.0)) as i64;
        Some(TimeDelta::milliseconds(jittered))
    }
}

/// Deduplication: while a job with the same key was enqueued within `window`, another enqueue
/// with that key returns the existing job instead of creating one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    pub key: String,
    pub window: TimeDelta,
}

/// Everything a producer decides about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub name: String,
    pub queue: String,
    pub payload: Vec<u8>,
    pub priority: Priority,
    pub run_at: Option<DateTime<Utc>>,
    pub retry: RetryPolicy,
    pub timeout: TimeDelta,
    pub unique: Option<UniqueKey>,
    pub tags: Vec<String>,
    pub correlation_id: Option<String>,
    /// The W3C `traceparent` of the span that enqueued it (set by the queue when traces are
    /// exported), so that each run of the job continues the enqueuer's trace.
    pub trace_context: Option<String>,
}

impl JobSpec {
    /// How long one attempt may run when the producer sets no timeout.
    pub const DEFAULT_TIMEOUT: TimeDelta = TimeDelta::minutes(5);
}

/// A job as the queue stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub spec: JobSpec,
    pub state: JobState,
    /// Attempts started so far.
    pub attempt: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_caps_and_stops_after_the_last_attempt() {
        let policy = RetryPolicy {
            jitter: false,
            max_delay: TimeDelta::seconds(5),
            ..RetryPolicy::default()
        };
        let delays: Vec<_> = (1..=5).map(|a| policy.delay_after(a, 0.0)).collect();
        assert_eq!(
            delays,
            vec![
                Some(TimeDelta::seconds(1)),
                Some(TimeDelta::seconds(2)),
                Some(TimeDelta::seconds(4)),
                Some(TimeDelta::seconds(5)),
                None
            ]
        );
    }

    #[test]
    fn jitter_keeps_the_delay_between_half_and_full() {
        let policy = RetryPolicy {
            backoff: Backoff::Fixed,
            base_delay: TimeDelta::seconds(10),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay_after(1, 0.0), Some(TimeDelta::seconds(5)));
        assert_eq!(policy.delay_after(1, 1.0), Some(TimeDelta::seconds(10)));
    }
}
