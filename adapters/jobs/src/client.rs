//! The producer's side: a builder for every option a job can carry.

use std::sync::Arc;

use arcana_domain::jobs::{JobName, JobSpec, Priority, QueueName, RetryPolicy, UniqueKey};
use arcana_ports::clock::Clock;
use arcana_ports::jobs::{Enqueued, JobQueue, QueueError};
use chrono::{DateTime, TimeDelta, Utc};

use crate::job::Job;

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
        let mut enqueue = self.named(J::NAME, Vec::new()).queue(J::QUEUE);
        enqueue.payload_error = payload.as_ref().err().cloned();
        enqueue.spec = enqueue.spec.with_payload(payload.unwrap_or_default());
        enqueue
    }

    /// A job by name with a ready JSON payload (the CLI, the admin API, cron schedules).
    pub fn named(&self, name: JobName, payload: Vec<u8>) -> Enqueue<'_> {
        Enqueue {
            client: self,
            spec: JobSpec::new(name, payload),
            delay: None,
            payload_error: None,
        }
    }

    /// Enqueues finished specs in one batch ([`JobQueue::enqueue_many`]); outcomes in order.
    pub async fn enqueue_many(&self, specs: Vec<JobSpec>) -> Result<Vec<Enqueued>, QueueError> {
        self.queue.enqueue_many(specs, self.clock.now()).await
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
    pub fn queue(mut self, queue: QueueName) -> Self {
        self.spec = self.spec.with_queue(queue);
        self
    }

    pub fn priority(mut self, priority: Priority) -> Self {
        self.spec = self.spec.with_priority(priority);
        self
    }

    /// Runs no earlier than `delay` after it is sent.
    pub fn delay(mut self, delay: TimeDelta) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.spec = self.spec.with_run_at(Some(at));
        self
    }

    pub fn max_attempts(mut self, attempts: u32) -> Self {
        let retry = RetryPolicy {
            max_attempts: attempts.max(1),
            ..*self.spec.retry()
        };
        self.spec = self.spec.with_retry(retry);
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.spec = self.spec.with_retry(policy);
        self
    }

    pub fn timeout(mut self, timeout: TimeDelta) -> Self {
        self.spec = self.spec.with_timeout(timeout);
        self
    }

    /// While a job with `key` was enqueued less than `window` ago, sending returns that job.
    pub fn unique(mut self, key: &str, window: TimeDelta) -> Self {
        self.spec = self.spec.with_unique(Some(UniqueKey {
            key: key.to_owned(),
            window,
        }));
        self
    }

    pub fn tag(mut self, tag: &str) -> Self {
        let mut tags = self.spec.tags().to_vec();
        tags.push(tag.to_owned());
        self.spec = self.spec.with_tags(tags);
        self
    }

    pub fn correlation_id(mut self, id: &str) -> Self {
        self.spec = self.spec.with_correlation_id(Some(id.to_owned()));
        self
    }

    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// The finished spec, as [`Enqueue::send`] would store it now (a delay becomes a run-at
    /// time from now), for producers that send many at once with [`JobClient::enqueue_many`].
    ///
    /// # Errors
    /// `Other` when the typed payload could not be serialised.
    pub fn build(self) -> Result<JobSpec, QueueError> {
        if let Some(error) = self.payload_error {
            return Err(QueueError::Other(anyhow::anyhow!(
                "serialising the payload: {error}"
            )));
        }
        Ok(match self.delay {
            Some(delay) => self.spec.with_run_at(Some(self.client.clock.now() + delay)),
            None => self.spec,
        })
    }

    pub async fn send(self) -> Result<Enqueued, QueueError> {
        let client = self.client;
        client.enqueue_spec(self.build()?).await
    }
}
