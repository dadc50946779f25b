//! Typed jobs, what a handler is given, and the registry that finds a handler by job name.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arcana_domain::ids::JobId;
use arcana_domain::jobs::{JobName, QueueName};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

/// A kind of background work: its payload is the implementing type itself (serde JSON).
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// Stable name stored with each job; renaming it orphans queued jobs. Written with
    /// `JobName::from_static`, a name that breaks the naming rule fails the build.
    const NAME: JobName;
    const QUEUE: QueueName = QueueName::default_queue();
    /// What the handler needs besides its payload (a store, a client); `()` for nothing.
    type Deps: Send + Sync + 'static;

    /// Runs one attempt. Delivery is at-least-once: use `ctx.idempotency_key` to make a
    /// repeated run harmless.
    fn execute(
        self,
        deps: &Self::Deps,
        ctx: JobContext,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Why an attempt failed. The message is stored with the job and shown to operators, so it must
/// not carry secrets or personal data.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt, if the retry policy allows one.
    #[error("{0}")]
    Retry(String),
    /// Retrying cannot help (malformed payload, unknown job): dead-letter at once.
    #[error("{0}")]
    Fatal(String),
}

/// What a handler knows about the attempt it runs.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub id: JobId,
    /// The same for every attempt and replay of one job: a natural deduplication key for
    /// side effects.
    pub idempotency_key: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub max_attempts: u32,
    pub correlation_id: Option<String>,
    pub(crate) cancelled: watch::Receiver<bool>,
}

impl JobContext {
    /// Resolves when the attempt should stop: its lease was lost, or the process is shutting
    /// down past its deadline. Long handlers select on it.
    pub async fn cancelled(&self) {
        let mut cancelled = self.cancelled.clone();
        let _ = cancelled.wait_for(|c| *c).await;
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }
}

/// One attempt of a job, as a handler runs it.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
pub(crate) type HandlerFuture = JobFuture;

/// Handlers known only at run time (plugins): asked for a job whose name no registered handler
/// has, so that what a process can run is not a list fixed when it was built.
pub trait DynamicJobs: Send + Sync {
    fn handles(&self, name: &str) -> bool;
    fn run(&self, name: &str, payload: &[u8], ctx: JobContext) -> JobFuture;
}

struct Dynamic {
    source: Arc<dyn DynamicJobs>,
    name: String,
}

impl Handler for Dynamic {
    fn run(&self, payload: &[u8], ctx: JobContext) -> HandlerFuture {
        self.source.run(&self.name, payload, ctx)
    }
}

/// A handler with its payload type erased.
pub(crate) trait Handler: Send + Sync {
    fn run(&self, payload: &[u8], ctx: JobContext) -> HandlerFuture;
}

struct Typed<J: Job> {
    deps: Arc<J::Deps>,
}

impl<J: Job> Handler for Typed<J> {
    fn run(&self, payload: &[u8], ctx: JobContext) -> HandlerFuture {
        // The payload's content never goes into the error: it may hold personal data.
        let job = serde_json::from_slice::<J>(payload).map_err(|err| {
            JobError::Fatal(format!(
                "malformed payload for {}: {}",
                J::NAME,
                err.classify_name()
            ))
        });
        let deps = self.deps.clone();
        Box::pin(async move { job?.execute(&deps, ctx).await })
    }
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "i/o",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "wrong shape",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// Handlers by job name, and which queues have any.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<JobName, Arc<dyn Handler>>,
    dynamic: Option<Arc<dyn DynamicJobs>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `J`'s handler with its dependencies; a second registration of a name replaces
    /// the first.
    #[must_use]
    pub fn register<J: Job>(mut self, deps: J::Deps) -> Self {
        self.handlers.insert(
            J::NAME,
            Arc::new(Typed::<J> {
                deps: Arc::new(deps),
            }),
        );
        self
    }

    /// Asks `source` for the jobs no registered handler takes.
    #[must_use]
    pub fn with_dynamic(mut self, source: Arc<dyn DynamicJobs>) -> Self {
        self.dynamic = Some(source);
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn Handler>> {
        if let Some(handler) = self.handlers.get(name) {
            return Some(handler.clone());
        }
        let source = self
            .dynamic
            .as_ref()
            .filter(|source| source.handles(name))?;
        Some(Arc::new(Dynamic {
            source: source.clone(),
            name: name.to_owned(),
        }))
    }
}
