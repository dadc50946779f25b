//! `arcana.jobs.v1.JobsService`: operating the job queue. The admin requirement is decided
//! behind the port, exactly as for REST; this module only translates.

use std::sync::Arc;

use arcana_domain::jobs::JobState;
use arcana_ports::usecases::jobs::JobSearch;
use arcana_ports::usecases::{AuthUseCases, JobsUseCases, Principal};
use tonic::{Request, Response, Status};

use crate::errors;
use crate::extract::principal;
use crate::jobs_convert::{
    EventStream, enqueue_command, enqueued, event_stream, job, jobs, schedule, stats, time,
};
use crate::proto::jobs::v1 as pb;
use crate::proto::jobs::v1::jobs_service_server::JobsService;

pub(crate) struct GrpcJobsService {
    pub(crate) auth: Arc<dyn AuthUseCases>,
    pub(crate) jobs: Arc<dyn JobsUseCases>,
}

type Reply<T> = Result<Response<T>, Status>;

impl GrpcJobsService {
    async fn actor<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        principal(self.auth.as_ref(), request).await
    }
}

#[tonic::async_trait]
impl JobsService for GrpcJobsService {
    type WatchEventsStream = EventStream;

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Reply<EventStream> {
        let actor = self.actor(&request).await?;
        let queue = request.into_inner().queue;
        let subscription = self.jobs.watch(&actor).await.map_err(errors::from_jobs)?;
        Ok(Response::new(event_stream(subscription, queue)))
    }

    async fn list_workers(
        &self,
        request: Request<pb::ListWorkersRequest>,
    ) -> Reply<pb::ListWorkersResponse> {
        let actor = self.actor(&request).await?;
        let list = self.jobs.workers(&actor).await.map_err(errors::from_jobs)?;
        Ok(Response::new(pb::ListWorkersResponse {
            items: list
                .into_iter()
                .map(|w| pb::Worker {
                    id: w.id,
                    queues: w.queues,
                    started_at: time(w.started_at),
                    last_seen: time(w.last_seen),
                    running: w.running,
                })
                .collect(),
        }))
    }

    async fn list_queues(
        &self,
        request: Request<pb::ListQueuesRequest>,
    ) -> Reply<pb::ListQueuesResponse> {
        let actor = self.actor(&request).await?;
        let list = self.jobs.queues(&actor).await.map_err(errors::from_jobs)?;
        Ok(Response::new(pb::ListQueuesResponse {
            items: list.into_iter().map(stats).collect(),
        }))
    }

    async fn get_queue(
        &self,
        request: Request<pb::GetQueueRequest>,
    ) -> Reply<pb::GetQueueResponse> {
        let actor = self.actor(&request).await?;
        let name = request.into_inner().name;
        let queue = self
            .jobs
            .queue(&actor, &name)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::GetQueueResponse {
            queue: Some(stats(queue)),
        }))
    }

    async fn dashboard(
        &self,
        request: Request<pb::DashboardRequest>,
    ) -> Reply<pb::DashboardResponse> {
        let actor = self.actor(&request).await?;
        let d = self
            .jobs
            .dashboard(&actor)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::DashboardResponse {
            totals: Some(stats(d.totals)),
            queues: d.queues.into_iter().map(stats).collect(),
            schedules: d.schedules as u64,
            paused_schedules: d.paused_schedules as u64,
        }))
    }

    async fn search_jobs(
        &self,
        request: Request<pb::SearchJobsRequest>,
    ) -> Reply<pb::SearchJobsResponse> {
        let actor = self.actor(&request).await?;
        let body = request.into_inner();
        let search = JobSearch {
            queue: body.queue,
            state: body.state,
            name: body.name,
            tag: body.tag,
            limit: body.limit,
        };
        let found = self
            .jobs
            .search(&actor, search)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(jobs(found)))
    }

    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Reply<pb::GetJobResponse> {
        let actor = self.actor(&request).await?;
        let id = request.into_inner().id;
        let found = self
            .jobs
            .get(&actor, &id)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::GetJobResponse {
            job: Some(job(found)),
        }))
    }

    async fn enqueue_job(
        &self,
        request: Request<pb::EnqueueJobRequest>,
    ) -> Reply<pb::EnqueueJobResponse> {
        let actor = self.actor(&request).await?;
        let command = enqueue_command(request.into_inner())?;
        let done = self
            .jobs
            .enqueue(&actor, command)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(enqueued(done)))
    }

    async fn cancel_job(
        &self,
        request: Request<pb::CancelJobRequest>,
    ) -> Reply<pb::CancelJobResponse> {
        let actor = self.actor(&request).await?;
        let id = request.into_inner().id;
        self.jobs
            .cancel(&actor, &id)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::CancelJobResponse {}))
    }

    async fn retry_job(
        &self,
        request: Request<pb::RetryJobRequest>,
    ) -> Reply<pb::RetryJobResponse> {
        let actor = self.actor(&request).await?;
        let id = request.into_inner().id;
        self.jobs
            .retry(&actor, &id)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::RetryJobResponse {}))
    }

    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Reply<pb::SearchJobsResponse> {
        let actor = self.actor(&request).await?;
        let body = request.into_inner();
        let search = JobSearch {
            queue: body.queue,
            state: Some(JobState::DeadLettered.as_str().to_owned()),
            limit: body.limit,
            ..JobSearch::default()
        };
        let found = self
            .jobs
            .search(&actor, search)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(jobs(found)))
    }

    async fn purge_dead_letters(
        &self,
        request: Request<pb::PurgeDeadLettersRequest>,
    ) -> Reply<pb::PurgeDeadLettersResponse> {
        let actor = self.actor(&request).await?;
        let queue = request.into_inner().queue;
        let purged = self
            .jobs
            .purge_dead(&actor, &queue)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::PurgeDeadLettersResponse { purged }))
    }

    async fn list_schedules(
        &self,
        request: Request<pb::ListSchedulesRequest>,
    ) -> Reply<pb::ListSchedulesResponse> {
        let actor = self.actor(&request).await?;
        let list = self
            .jobs
            .schedules(&actor)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::ListSchedulesResponse {
            items: list.into_iter().map(schedule).collect(),
        }))
    }

    async fn pause_schedule(
        &self,
        request: Request<pb::ScheduleRequest>,
    ) -> Reply<pb::ScheduleResponse> {
        let actor = self.actor(&request).await?;
        let name = request.into_inner().name;
        self.jobs
            .set_schedule_paused(&actor, &name, true)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::ScheduleResponse {}))
    }

    async fn resume_schedule(
        &self,
        request: Request<pb::ScheduleRequest>,
    ) -> Reply<pb::ScheduleResponse> {
        let actor = self.actor(&request).await?;
        let name = request.into_inner().name;
        self.jobs
            .set_schedule_paused(&actor, &name, false)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(pb::ScheduleResponse {}))
    }

    async fn trigger_schedule(
        &self,
        request: Request<pb::ScheduleRequest>,
    ) -> Reply<pb::EnqueueJobResponse> {
        let actor = self.actor(&request).await?;
        let name = request.into_inner().name;
        let done = self
            .jobs
            .trigger_schedule(&actor, &name)
            .await
            .map_err(errors::from_jobs)?;
        Ok(Response::new(enqueued(done)))
    }
}
