//! The job admin API over the service tier's `JobsUseCases`: the bearer token is verified first,
//! exactly as for user management, and the use case then applies the admin rule itself.

use arcana_domain::jobs::Priority;
use arcana_ports::usecases::Principal;
use arcana_ports::usecases::jobs::{EnqueueJob, JobSearch, JobsError};
use futures_util::stream;

use super::service::ServiceApi;
use super::{AnswerStream, Call, Refusal};
use crate::convert;
use crate::failure;
use crate::wire;

pub(super) const JOBS: &str = "arcana.internal.v1.Jobs";
pub(super) const WATCH: &str = "/arcana.internal.v1.Jobs/Watch";

fn jobs(error: JobsError) -> Refusal {
    Refusal::Failed(failure::from_jobs(error))
}

fn malformed(err: &anyhow::Error) -> Refusal {
    Refusal::Failed(failure::malformed(err))
}

fn enqueue_command(body: wire::EnqueueJob) -> Result<EnqueueJob, Refusal> {
    let priority = body
        .priority
        .as_deref()
        .map(|raw| convert::parsed("priority", Priority::parse(raw)))
        .transpose()
        .map_err(|err| malformed(&err))?;
    Ok(EnqueueJob {
        name: body.name,
        queue: body.queue,
        payload: body.payload,
        priority,
        delay_secs: body.delay_secs,
        max_attempts: body.max_attempts,
        unique_key: body.unique_key,
        unique_window_secs: body.unique_window_secs,
        tags: body.tags,
        correlation_id: body.correlation_id,
    })
}

impl ServiceApi {
    pub(super) async fn jobs(&self, method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let actor = self.authenticated(&call).await?;
        match method {
            "Queues" | "Queue" | "Dashboard" | "Search" | "Get" | "Schedules" | "Workers" => {
                self.inspect_jobs(method, &actor, call).await
            }
            "Enqueue" | "Cancel" | "Retry" | "PurgeDead" | "SetSchedulePaused"
            | "TriggerSchedule" => self.operate_jobs(method, &actor, call).await,
            _ => Err(Refusal::UnknownMethod),
        }
    }

    async fn inspect_jobs(
        &self,
        method: &str,
        actor: &Principal,
        call: Call,
    ) -> Result<Vec<u8>, Refusal> {
        let admin = &self.jobs;
        match method {
            "Queues" => {
                let queues = admin.queues(actor).await.map_err(jobs)?;
                call.reply(&wire::QueueStatsList {
                    items: queues.iter().map(convert::queue_stats_message).collect(),
                })
            }
            "Queue" => {
                let body: wire::Text = call.decode()?;
                let stats = admin.queue(actor, &body.value).await.map_err(jobs)?;
                call.reply(&convert::queue_stats_message(&stats))
            }
            "Dashboard" => {
                let dashboard = admin.dashboard(actor).await.map_err(jobs)?;
                call.reply(&convert::dashboard_message(&dashboard))
            }
            "Search" => {
                let body: wire::JobSearch = call.decode()?;
                let search = JobSearch {
                    queue: body.queue,
                    state: body.state,
                    name: body.name,
                    tag: body.tag,
                    limit: body.limit,
                };
                let found = admin.search(actor, search).await.map_err(jobs)?;
                call.reply(&wire::JobRecords {
                    items: found.iter().map(convert::job_record_message).collect(),
                })
            }
            "Get" => {
                let body: wire::Id = call.decode()?;
                let job = admin.get(actor, &body.value).await.map_err(jobs)?;
                call.reply(&convert::job_record_message(&job))
            }
            "Schedules" => {
                let schedules = admin.schedules(actor).await.map_err(jobs)?;
                call.reply(&wire::Schedules {
                    items: schedules.iter().map(convert::schedule_message).collect(),
                })
            }
            _ => {
                let workers = admin.workers(actor).await.map_err(jobs)?;
                call.reply(&wire::Workers {
                    items: workers.iter().map(convert::worker_message).collect(),
                })
            }
        }
    }

    async fn operate_jobs(
        &self,
        method: &str,
        actor: &Principal,
        call: Call,
    ) -> Result<Vec<u8>, Refusal> {
        let admin = &self.jobs;
        match method {
            "Enqueue" => {
                let command = enqueue_command(call.decode()?)?;
                let enqueued = admin.enqueue(actor, command).await.map_err(jobs)?;
                call.reply(&convert::enqueued_message(enqueued))
            }
            "Cancel" | "Retry" => {
                let body: wire::Id = call.decode()?;
                if method == "Cancel" {
                    admin.cancel(actor, &body.value).await.map_err(jobs)?;
                } else {
                    admin.retry(actor, &body.value).await.map_err(jobs)?;
                }
                call.reply(&wire::Empty {})
            }
            "PurgeDead" => {
                let body: wire::Text = call.decode()?;
                let value = admin.purge_dead(actor, &body.value).await.map_err(jobs)?;
                call.reply(&wire::Count { value })
            }
            "SetSchedulePaused" => {
                let body: wire::SetSchedulePaused = call.decode()?;
                admin
                    .set_schedule_paused(actor, &body.name, body.paused)
                    .await
                    .map_err(jobs)?;
                call.reply(&wire::Empty {})
            }
            _ => {
                let body: wire::Text = call.decode()?;
                let enqueued = admin
                    .trigger_schedule(actor, &body.value)
                    .await
                    .map_err(jobs)?;
                call.reply(&convert::enqueued_message(enqueued))
            }
        }
    }

    /// `Watch`: the service tier's feed of job events, encoded one message per event.
    pub(super) async fn watch_jobs(&self, call: Call) -> Result<AnswerStream, Refusal> {
        let actor = self.authenticated(&call).await?;
        let subscription = self.jobs.watch(&actor).await.map_err(jobs)?;
        let encoding = call.encoding;
        let answers = stream::unfold(subscription, move |mut subscription| async move {
            let event = subscription.next().await?;
            match encoding.encode(&convert::job_event_message(&event)) {
                Ok(bytes) => Some((bytes, subscription)),
                Err(err) => {
                    tracing::error!(error = %format!("{err:#}"), "encoding a job event failed; ending the feed");
                    None
                }
            }
        });
        Ok(Box::pin(answers))
    }
}
