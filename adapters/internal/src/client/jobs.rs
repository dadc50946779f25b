//! [`JobsUseCases`] over the service tier's job admin API: what the controller holds in place of
//! the application's `JobsService`. Every call carries the end user's access token; the service
//! tier verifies it and applies the admin rule, so the controller decides nothing.

use std::sync::Arc;

use arcana_domain::jobs::JobRecord;
use arcana_ports::jobs::{
    Enqueued, JobEvent, JobEventSubscription, QueueStats, Schedule, WorkerInfo,
};
use arcana_ports::usecases::jobs::{Dashboard, EnqueueJob, JobSearch, JobsError};
use arcana_ports::usecases::{JobsUseCases, Principal};
use async_trait::async_trait;
use futures_util::StreamExt as _;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rpc;
use crate::context::CallMeta;
use crate::convert::{self, Invalid};
use crate::failure::jobs_error;
use crate::transport::{Answers, Transport, invoke, subscribe};
use crate::wire;

fn meta(actor: &Principal) -> CallMeta {
    CallMeta {
        request: actor.request.clone(),
        bearer: Some(actor.credential.clone()),
    }
}

fn bad_answer(err: Invalid) -> JobsError {
    JobsError::Internal(err.context("the service tier answered a malformed message"))
}

fn text(value: &str) -> wire::Text {
    wire::Text {
        value: value.to_owned(),
    }
}

fn id(value: &str) -> wire::Id {
    wire::Id {
        value: value.to_owned(),
    }
}

fn each<M, T>(items: Vec<M>, convert: fn(M) -> Result<T, Invalid>) -> Result<Vec<T>, JobsError> {
    items
        .into_iter()
        .map(|item| convert(item).map_err(bad_answer))
        .collect()
}

/// [`JobsUseCases`] on the service tier.
pub struct RemoteJobs {
    transport: Arc<dyn Transport>,
}

impl RemoteJobs {
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }

    async fn ask<Req, Resp>(
        &self,
        path: &'static str,
        actor: &Principal,
        request: &Req,
    ) -> Result<Resp, JobsError>
    where
        Req: Message + Serialize,
        Resp: Message + Default + DeserializeOwned,
    {
        invoke(&*self.transport, path, request, &meta(actor))
            .await
            .map_err(jobs_error)
    }

    async fn enqueued(
        &self,
        path: &'static str,
        actor: &Principal,
        request: &(impl Message + Serialize),
    ) -> Result<Enqueued, JobsError> {
        let reply: wire::Enqueued = self.ask(path, actor, request).await?;
        convert::enqueued(&reply).map_err(bad_answer)
    }
}

#[async_trait]
impl JobsUseCases for RemoteJobs {
    async fn queues(&self, actor: &Principal) -> Result<Vec<QueueStats>, JobsError> {
        let reply: wire::QueueStatsList = self
            .ask(rpc!("Jobs", "Queues"), actor, &wire::Empty {})
            .await?;
        Ok(reply.items.into_iter().map(convert::queue_stats).collect())
    }

    async fn queue(&self, actor: &Principal, name: &str) -> Result<QueueStats, JobsError> {
        let reply = self.ask(rpc!("Jobs", "Queue"), actor, &text(name)).await?;
        Ok(convert::queue_stats(reply))
    }

    async fn dashboard(&self, actor: &Principal) -> Result<Dashboard, JobsError> {
        let reply = self
            .ask(rpc!("Jobs", "Dashboard"), actor, &wire::Empty {})
            .await?;
        convert::dashboard(reply).map_err(bad_answer)
    }

    async fn search(
        &self,
        actor: &Principal,
        search: JobSearch,
    ) -> Result<Vec<JobRecord>, JobsError> {
        let request = wire::JobSearch {
            queue: search.queue,
            state: search.state,
            name: search.name,
            tag: search.tag,
            limit: search.limit,
        };
        let reply: wire::JobRecords = self.ask(rpc!("Jobs", "Search"), actor, &request).await?;
        each(reply.items, convert::job_record)
    }

    async fn get(&self, actor: &Principal, job: &str) -> Result<JobRecord, JobsError> {
        let reply = self.ask(rpc!("Jobs", "Get"), actor, &id(job)).await?;
        convert::job_record(reply).map_err(bad_answer)
    }

    async fn enqueue(&self, actor: &Principal, command: EnqueueJob) -> Result<Enqueued, JobsError> {
        let request = wire::EnqueueJob {
            name: command.name,
            queue: command.queue,
            payload: command.payload,
            priority: command.priority.map(|p| p.as_str().to_owned()),
            delay_secs: command.delay_secs,
            max_attempts: command.max_attempts,
            unique_key: command.unique_key,
            unique_window_secs: command.unique_window_secs,
            tags: command.tags,
            correlation_id: command.correlation_id,
        };
        self.enqueued(rpc!("Jobs", "Enqueue"), actor, &request)
            .await
    }

    async fn cancel(&self, actor: &Principal, job: &str) -> Result<(), JobsError> {
        let _: wire::Empty = self.ask(rpc!("Jobs", "Cancel"), actor, &id(job)).await?;
        Ok(())
    }

    async fn retry(&self, actor: &Principal, job: &str) -> Result<(), JobsError> {
        let _: wire::Empty = self.ask(rpc!("Jobs", "Retry"), actor, &id(job)).await?;
        Ok(())
    }

    async fn purge_dead(&self, actor: &Principal, queue: &str) -> Result<u64, JobsError> {
        let reply: wire::Count = self
            .ask(rpc!("Jobs", "PurgeDead"), actor, &text(queue))
            .await?;
        Ok(reply.value)
    }

    async fn schedules(&self, actor: &Principal) -> Result<Vec<Schedule>, JobsError> {
        let reply: wire::Schedules = self
            .ask(rpc!("Jobs", "Schedules"), actor, &wire::Empty {})
            .await?;
        each(reply.items, convert::schedule)
    }

    async fn set_schedule_paused(
        &self,
        actor: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<(), JobsError> {
        let request = wire::SetSchedulePaused {
            name: name.to_owned(),
            paused,
        };
        let _: wire::Empty = self
            .ask(rpc!("Jobs", "SetSchedulePaused"), actor, &request)
            .await?;
        Ok(())
    }

    async fn trigger_schedule(&self, actor: &Principal, name: &str) -> Result<Enqueued, JobsError> {
        self.enqueued(rpc!("Jobs", "TriggerSchedule"), actor, &text(name))
            .await
    }

    async fn workers(&self, actor: &Principal) -> Result<Vec<WorkerInfo>, JobsError> {
        let reply: wire::Workers = self
            .ask(rpc!("Jobs", "Workers"), actor, &wire::Empty {})
            .await?;
        each(reply.items, convert::worker)
    }

    /// The service tier's feed, streamed over the link for as long as the subscription lives;
    /// dropping it cancels the stream on the service tier.
    async fn watch(&self, actor: &Principal) -> Result<Box<dyn JobEventSubscription>, JobsError> {
        let answers = subscribe(
            &*self.transport,
            rpc!("Jobs", "Watch"),
            &wire::Empty {},
            &meta(actor),
        )
        .await
        .map_err(jobs_error)?;
        Ok(Box::new(RemoteSubscription {
            answers: Some(answers),
        }))
    }
}

/// A watch of the service tier's job events.
struct RemoteSubscription {
    /// `None` once the feed ended, so that it is never polled again.
    answers: Option<Answers<wire::JobEvent>>,
}

#[async_trait]
impl JobEventSubscription for RemoteSubscription {
    async fn next(&mut self) -> Option<JobEvent> {
        loop {
            let answer = self.answers.as_mut()?.next().await;
            let message = match answer {
                Some(Ok(message)) => message,
                Some(Err(err)) => {
                    // The port has no error channel: the feed ends, and a watcher reconnects.
                    tracing::warn!(error = %format!("{err:#}"), "the job event feed from the service tier broke");
                    self.answers = None;
                    return None;
                }
                None => {
                    self.answers = None;
                    return None;
                }
            };
            match convert::job_event(&message) {
                Ok(event) => return Some(event),
                // One event this tier cannot read is skipped, as a lagging watcher skips events.
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "skipped a malformed job event");
                }
            }
        }
    }
}
