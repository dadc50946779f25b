//! The producer's side: a builder for every option a job can carry.

use std::sync::Arc;

use arcana_domain::jobs::{JobSpec, Priority, RetryPolicy, UniqueKey};
use arcana_ports::clock::Clock;
use arcana_ports::jobs::{Enqueued, JobQueue, QueueError};
use chrono::{DateTime, TimeDelta, Utc};

use crate::job::{DEFAULT_QUEUE, Job};

/// Enqueues jobs; cheap to clone. Count enqueues by giving it a [`crate::MeteredJobQueue`].
#[derive(Clone)]
pub struct JobClient {
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl JobClient {
    pub fn new(queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>) -> Self {
        Self { queue, clock }
    }

    pub fn queue(&self) -> &Arc<dyn JobQueue> {
        &self.queue
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A typed job, on its own queue, with default options.
    pub fn job<J: Job>(&self, job: &J) -> Enqueue<'_> {
        let payload = serde_json::to_vec(job).map_err(|err| err.to_string());
        let mut enqueue = self.named(J::NAME, Vec::new());
        J::QUEUE.clone_into(&mut enqueue.spec.queue);
        enqueue.payload_error = payload.as_ref().err().cloned();
        enqueue.spec.payload = payload.unwrap_or_default();
        enqueue
    }

    /// A job by name with a ready JSON payload (the CLI, the admin API, cron schedules).
    pub fn named(&self, name: &str, payload: Vec<u8>) -> Enqueue<'_> {
        Enqueue {
            client: self,
            spec: JobSpec {
                name: name.to_owned(),
                queue: DEFAULT_QUEUE.to_owned(),
                payload,
                priority: Priority::default(),
                run_at: None,
                retry: RetryPolicy::default(),
                timeout: JobSpec::DEFAULT_TIMEOUT,
                unique: None,
                tags: Vec::new(),
                correlation_id: None,
                trace_context: None,
            },
            delay: None,
            payload_error: None,
        }
    }

    /// Enqueues a finished spec (a cron schedule's job).
    pub async fn enqueue_spec(&self, spec: JobSpec) -> Result<Enqueued, QueueError> {
        self.queue.enqueue(spec, self.clock.now()).await
    }
}

/// Options of one job before it is sent.
#[must_use]
pub struct Enqueue<'a> {
    client: &'a JobClient,
    spec: JobSpec,
    delay: Option<TimeDelta>,
    payload_error: Option<String>,
}

impl Enqueue<'_> {
    pub fn queue(mut self, queue: &str) -> Self {
        queue.clone_into(&mut self.spec.queue);
        self
    }

    pub fn priority(mut self, priority: Priority) -> Self {
        self.spec.priority = priority;
        self
    }

    /// Runs no earlier than `delay` after it is sent.
    pub fn delay(mut self, delay: TimeDelta) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.spec.run_at = Some(at);
        self
    }

    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.spec.retry.max_attempts = attempts.max(1);
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.spec.retry = policy;
        self
    }

    pub fn timeout(mut self, timeout: TimeDelta) -> Self {
        self.spec.timeout = timeout;
        self
    }

    /// While a job with `key` was enqueued less than `window` ago, sending returns that job.
    pub fn unique(mut self, key: &str, window: TimeDelta) -> Self {
        self.spec.unique = Some(UniqueKey {
            key: key.to_owned(),
            window,
        });
        self
    }

    pub fn tag(mut self, tag: &str) -> Self {
        self.spec.tags.push(tag.to_owned());
        self
    }

    pub fn correlation_id(mut self, id: &str) -> Self {
        self.spec.correlation_id = Some(id.to_owned());
        self
    }

    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    pub async fn send(mut self) -> Result<Enqueued, QueueError> {
        if let Some(error) = self.payload_error {
            return Err(QueueError::Other(anyhow::anyhow!(
                "serialising the payload: {error}"
            )));
        }
        if let Some(delay) = self.delay {
            self.spec.run_at = Some(self.client.clock.now() + delay);
        }
        self.client.enqueue_spec(self.spec).await
    }
}
