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

/// Everything a producer decides about a job. Fields are private: a spec starts from
/// [`JobSpec::new`] (a parsed name, the defaults for everything else) and changes through the
/// `with_*` methods, so no queue ever holds an unchecked job or queue name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    name: JobName,
    queue: QueueName,
    payload: Vec<u8>,
    priority: Priority,
    run_at: Option<DateTime<Utc>>,
    retry: RetryPolicy,
    timeout: TimeDelta,
    unique: Option<UniqueKey>,
    tags: Vec<String>,
    correlation_id: Option<String>,
    trace_context: Option<String>,
}

impl JobSpec {
    /// How long one attempt may run when the producer sets no timeout.
    pub const DEFAULT_TIMEOUT: TimeDelta = TimeDelta::minutes(5);

    /// A job named `name` carrying `payload`, on the default queue, at normal priority, due
    /// now, with the default retry policy and timeout.
    pub fn new(name: JobName, payload: Vec<u8>) -> Self {
        Self {
            name,
            queue: QueueName::default_queue(),
            payload,
            priority: Priority::default(),
            run_at: None,
            retry: RetryPolicy::default(),
            timeout: Self::DEFAULT_TIMEOUT,
            unique: None,
            tags: Vec::new(),
            correlation_id: None,
            trace_context: None,
        }
    }

    #[must_use]
    pub fn with_queue(mut self, queue: QueueName) -> Self {
        self.queue = queue;
        self
    }

    #[must_use]
    pub fn with_payload(mut self, payload: Vec<u8>) -> Self {
        self.payload = payload;
        self
    }

    #[must_use]
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Not taken before `run_at` (`None`: as soon as a worker is free).
    #[must_use]
    pub fn with_run_at(mut self, run_at: Option<DateTime<Utc>>) -> Self {
        self.run_at = run_at;
        self
    }

    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long one attempt may run before it counts as failed.
    #[must_use]
    pub fn with_timeout(mut self, timeout: TimeDelta) -> Self {
        self.timeout = timeout;
        self
    }

    #[must_use]
    pub fn with_unique(mut self, unique: Option<UniqueKey>) -> Self {
        self.unique = unique;
        self
    }

    #[must_use]
    pub fn with_tags(mut self, tags: Vec<String>) -> Self {
        self.tags = tags;
        self
    }

    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: Option<String>) -> Self {
        self.correlation_id = correlation_id;
        self
    }

    /// The W3C `traceparent` of the span that enqueued it (set by the queue when traces are
    /// exported), so that each run of the job continues the enqueuer's trace.
    #[must_use]
    pub fn with_trace_context(mut self, trace_context: Option<String>) -> Self {
        self.trace_context = trace_context;
        self
    }

    /// The next attempt is not taken before `at` (a retry's delay, an operator's postponement).
    pub fn reschedule(&mut self, at: DateTime<Utc>) {
        self.run_at = Some(at);
    }

    pub fn name(&self) -> &JobName {
        &self.name
    }
    pub fn queue(&self) -> &QueueName {
        &self.queue
    }
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    pub fn priority(&self) -> Priority {
        self.priority
    }
    pub fn run_at(&self) -> Option<DateTime<Utc>> {
        self.run_at
    }
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    pub fn timeout(&self) -> TimeDelta {
        self.timeout
    }
    pub fn unique(&self) -> Option<&UniqueKey> {
        self.unique.as_ref()
    }
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
    pub fn trace_context(&self) -> Option<&str> {
        self.trace_context.as_deref()
    }
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
    fn a_new_spec_carries_the_defaults_and_each_option_changes_only_itself() {
        let name = JobName::parse("mail.send").unwrap();
        let spec = JobSpec::new(name.clone(), b"{}".to_vec());
        assert_eq!(spec.name(), &name);
        assert_eq!(spec.queue().as_str(), QueueName::DEFAULT);
        assert_eq!(spec.priority(), Priority::Normal);
        assert_eq!(spec.timeout(), JobSpec::DEFAULT_TIMEOUT);
        assert_eq!(spec.retry(), &RetryPolicy::default());
        assert!(spec.run_at().is_none() && spec.unique().is_none() && spec.tags().is_empty());

        let queue = QueueName::parse("mail").unwrap();
        let urgent = spec
            .clone()
            .with_queue(queue.clone())
            .with_priority(Priority::Critical);
        assert_eq!(urgent.queue(), &queue);
        assert_eq!(urgent.priority(), Priority::Critical);
        assert_eq!(urgent.payload(), spec.payload());
        assert_eq!(
            urgent
                .with_queue(QueueName::default_queue())
                .with_priority(Priority::Normal),
            spec
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
