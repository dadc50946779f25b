//! `/api/v1/jobs/*`: operating the job queue (admin or above, decided behind the port so that
//! REST and gRPC agree). This module only translates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use arcana_domain::jobs::JobState;
use arcana_ports::usecases::jobs::JobSearch;

use crate::dto::jobs::{
    DashboardDto, DeadLetterQuery, EnqueueRequest, EnqueuedDto, JobDto, JobListDto, JobSearchQuery,
    PurgedDto, QueueListDto, QueueStatsDto, ScheduleListDto, WorkerListDto,
};
use crate::extract::{ApiJson, ApiQuery, Authenticated};
use crate::openapi::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, Unauthorized, Unavailable,
    ValidationFailed,
};
use crate::problem::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queues))
        .routes(routes!(queue))
        .routes(routes!(purge_dead))
        .routes(routes!(dashboard))
        .routes(routes!(search, enqueue))
        .routes(routes!(get_one))
        .routes(routes!(cancel))
        .routes(routes!(retry))
        .routes(routes!(dead_letters))
        .routes(routes!(retry_dead))
        .routes(routes!(schedules))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(trigger))
        .routes(routes!(workers))
}

type Result<T> = std::result::Result<T, ApiError>;

/// Every queue with its counts.
#[utoipa::path(get, path = "/api/v1/jobs/queues", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = QueueListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)))]
async fn queues(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<QueueListDto>> {
    Ok(Json(state.jobs()?.queues(&actor).await?.into()))
}

/// One queue's counts.
#[utoipa::path(get, path = "/api/v1/jobs/queues/{name}", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Queue name; a queue that does not exist is 404")),
    responses((status = 200, body = QueueStatsDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
async fn queue(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<QueueStatsDto>> {
    Ok(Json(state.jobs()?.queue(&actor, &name).await?.into()))
}

/// Deletes a queue's dead letters.
#[utoipa::path(delete, path = "/api/v1/jobs/queues/{name}/dead-letters", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Queue name; a queue that does not exist is 404")),
    responses((status = 200, body = PurgedDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)))]
async fn purge_dead(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<PurgedDto>> {
    let purged = state.jobs()?.purge_dead(&actor, &name).await?;
    Ok(Json(PurgedDto { purged }))
}

/// Totals over every queue, and the schedules.
#[utoipa::path(get, path = "/api/v1/jobs/dashboard", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = DashboardDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)))]
async fn dashboard(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<DashboardDto>> {
    Ok(Json(state.jobs()?.dashboard(&actor).await?.into()))
}

/// Jobs by queue, state, name and tag.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(JobSearchQuery),
    responses((status = 200, body = JobListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = ValidationFailed)))]
async fn search(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<JobSearchQuery>,
) -> Result<Json<JobListDto>> {
    Ok(Json(
        state.jobs()?.search(&actor, query.into()).await?.into(),
    ))
}

/// Enqueues a job by name (smoke tests, manual runs).
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), request_body = EnqueueRequest,
    responses((status = 201, body = EnqueuedDto), (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed), (status = 503, response = Unavailable)))]
async fn enqueue(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<EnqueueRequest>,
) -> Result<(StatusCode, Json<EnqueuedDto>)> {
    let enqueued = state.jobs()?.enqueue(&actor, body.into()).await?;
    Ok((StatusCode::CREATED, Json(enqueued.into())))
}

/// One job, payload included.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id, as returned by enqueue or search; an id that names no job is 404")),
    responses((status = 200, body = JobDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<JobDto>> {
    Ok(Json(state.jobs()?.get(&actor, &id).await?.into()))
}

/// Cancels a scheduled or pending job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id, as returned by enqueue or search; an id that names no job is 404")),
    responses((status = 204), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
async fn cancel(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.jobs()?.cancel(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a dead-lettered job back to its queue, payload intact, attempts reset.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id, as returned by enqueue or search; an id that names no job is 404")),
    responses((status = 204), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
async fn retry(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.jobs()?.retry(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Dead letters, of one queue or all.
#[utoipa::path(get, path = "/api/v1/jobs/dead-letters", tag = "jobs", security(("bearer" = [])), params(DeadLetterQuery),
    responses((status = 200, body = JobListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = ValidationFailed)))]
async fn dead_letters(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<DeadLetterQuery>,
) -> Result<Json<JobListDto>> {
    let search = JobSearch {
        queue: query.queue,
        state: Some(JobState::DeadLettered.as_str().into()),
        limit: query.limit,
        ..JobSearch::default()
    };
    Ok(Json(state.jobs()?.search(&actor, search).await?.into()))
}

/// Replays one dead letter (the same as `POST /api/v1/jobs/{id}/retry`).
#[utoipa::path(post, path = "/api/v1/jobs/dead-letters/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id, as returned by enqueue or search; an id that names no job is 404")),
    responses((status = 204), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
async fn retry_dead(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.jobs()?.retry(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cron schedules with their pause flag and last fire time.
#[utoipa::path(get, path = "/api/v1/jobs/schedules", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = ScheduleListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)))]
async fn schedules(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<ScheduleListDto>> {
    Ok(Json(state.jobs()?.schedules(&actor).await?.into()))
}

/// Stops a schedule from firing (fire times while paused are skipped).
#[utoipa::path(post, path = "/api/v1/jobs/schedules/{name}/pause", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Schedule name; a schedule that does not exist is 404")),
    responses((status = 204), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)))]
async fn pause(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    state
        .jobs()?
        .set_schedule_paused(&actor, &name, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a paused schedule fire again from its next fire time.
#[utoipa::path(post, path = "/api/v1/jobs/schedules/{name}/resume", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Schedule name; a schedule that does not exist is 404")),
    responses((status = 204), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound)))]
async fn resume(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    state
        .jobs()?
        .set_schedule_paused(&actor, &name, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enqueues the schedule's job now.
#[utoipa::path(post, path = "/api/v1/jobs/schedules/{name}/trigger", tag = "jobs", security(("bearer" = [])),
    params(("name" = String, Path, description = "Schedule name; a schedule that does not exist is 404")),
    responses((status = 201, body = EnqueuedDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 500, response = InternalError)))]
async fn trigger(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<EnqueuedDto>)> {
    let enqueued = state.jobs()?.trigger_schedule(&actor, &name).await?;
    Ok((StatusCode::CREATED, Json(enqueued.into())))
}

/// Worker processes that reported themselves within their lease, with what they run.
#[utoipa::path(get, path = "/api/v1/jobs/workers", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = WorkerListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)))]
async fn workers(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<WorkerListDto>> {
    Ok(Json(state.jobs()?.workers(&actor).await?.into()))
}
