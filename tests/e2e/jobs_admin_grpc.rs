//! The job admin operations over `arcana.jobs.v1`: the admin requirement and the error codes
//! come from the same use cases, so the two protocols agree.

use std::time::Duration;

use arcana_adapter_grpc::proto::jobs::v1 as pb;
use arcana_adapter_grpc::proto::jobs::v1::jobs_service_client::JobsServiceClient;
use arcana_tests::api::grpc::with_bearer as authed;
use tonic::Code;
use tonic::transport::Channel;

async fn job_state(
    client: &mut JobsServiceClient<Channel>,
    token: &str,
    id: &str,
    state: &str,
) -> pb::Job {
    let start = tokio::time::Instant::now();
    loop {
        let request = authed(pb::GetJobRequest { id: id.to_owned() }, Some(token));
        let job = client
            .get_job(request)
            .await
            .unwrap()
            .into_inner()
            .job
            .unwrap();
        if job.state == state {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "job {id} stuck in {}",
            job.state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_grpc_jobs_service_serves_admins_only_and_maps_errors_like_rest() {
    let app = super::app().await;
    let root = app.root().await.access;
    let user = app
        .register("grpcuser", "a-long-enough-password")
        .await
        .access;
    let mut client = JobsServiceClient::new(app.grpc_channel().await);

    let denied = client
        .list_queues(authed(pb::ListQueuesRequest {}, Some(&user)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = client
        .list_queues(authed(pb::ListQueuesRequest {}, None))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    let enqueue = pb::EnqueueJobRequest {
        name: "sleep".into(),
        payload: Some(r#"{"ms":1}"#.into()),
        tags: vec!["grpc".into()],
        ..Default::default()
    };
    let id = client
        .enqueue_job(authed(enqueue, Some(&root)))
        .await
        .unwrap()
        .into_inner()
        .id;
    let done = job_state(&mut client, &root, &id, "completed").await;
    assert_eq!(
        (done.payload.as_str(), done.tags.as_slice()),
        (r#"{"ms":1}"#, ["grpc".to_owned()].as_slice())
    );
    let conflict = client
        .cancel_job(authed(pb::CancelJobRequest { id: id.clone() }, Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Code::FailedPrecondition);
    let missing = client
        .get_job(authed(pb::GetJobRequest { id: "nope".into() }, Some(&root)))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let invalid = client
        .search_jobs(authed(
            pb::SearchJobsRequest {
                state: Some("sideways".into()),
                ..Default::default()
            },
            Some(&root),
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let queues = client
        .list_queues(authed(pb::ListQueuesRequest {}, Some(&root)))
        .await
        .unwrap()
        .into_inner();
    assert!(
        queues
            .items
            .iter()
            .any(|q| q.queue == "default" && q.completed == 1)
    );
    let queue = client
        .get_queue(authed(
            pb::GetQueueRequest {
                name: "default".into(),
            },
            Some(&root),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.queue.unwrap().completed, 1);
    let dashboard = client
        .dashboard(authed(pb::DashboardRequest {}, Some(&root)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (dashboard.totals.unwrap().completed, dashboard.schedules),
        (1, 1)
    );
    let found = client
        .search_jobs(authed(
            pb::SearchJobsRequest {
                tag: Some("grpc".into()),
                ..Default::default()
            },
            Some(&root),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.items.len(), 1);
}

#[tokio::test]
async fn grpc_admins_replay_and_purge_dead_letters() {
    let app = super::app().await;
    let root = app.root().await.access;
    let mut client = JobsServiceClient::new(app.grpc_channel().await);
    let done = pb::EnqueueJobRequest {
        name: "noop".into(),
        tags: vec!["grpc".into()],
        ..Default::default()
    };
    let done = client
        .enqueue_job(authed(done, Some(&root)))
        .await
        .unwrap()
        .into_inner()
        .id;
    job_state(&mut client, &root, &done, "completed").await;
    let dead = pb::EnqueueJobRequest {
        name: "not.registered".into(),
        max_attempts: Some(1),
        ..Default::default()
    };
    let dead = client
        .enqueue_job(authed(dead, Some(&root)))
        .await
        .unwrap()
        .into_inner()
        .id;
    job_state(&mut client, &root, &dead, "dead").await;
    let letters = client
        .list_dead_letters(authed(
            pb::ListDeadLettersRequest {
                queue: Some("default".into()),
                limit: None,
            },
            Some(&root),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        letters
            .items
            .iter()
            .map(|j| j.id.as_str())
            .collect::<Vec<_>>(),
        [dead.as_str()]
    );
    client
        .retry_job(authed(
            pb::RetryJobRequest { id: dead.clone() },
            Some(&root),
        ))
        .await
        .unwrap();
    job_state(&mut client, &root, &dead, "dead").await;
    let purged = client
        .purge_dead_letters(authed(
            pb::PurgeDeadLettersRequest {
                queue: "default".into(),
            },
            Some(&root),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(purged.purged, 1);
}

#[tokio::test]
async fn grpc_admins_pause_resume_and_trigger_schedules() {
    let app = super::app().await;
    let root = app.root().await.access;
    let mut client = JobsServiceClient::new(app.grpc_channel().await);
    let workers = client
        .list_workers(authed(pb::ListWorkersRequest {}, Some(&root)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(workers.items.len(), 1, "the monolith's own pool");
    let schedule = || pb::ScheduleRequest {
        name: "sessions.purge".into(),
    };
    client
        .pause_schedule(authed(schedule(), Some(&root)))
        .await
        .unwrap();
    let listed = client
        .list_schedules(authed(pb::ListSchedulesRequest {}, Some(&root)))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.items[0].paused);
    client
        .resume_schedule(authed(schedule(), Some(&root)))
        .await
        .unwrap();
    let unknown = client
        .pause_schedule(authed(
            pb::ScheduleRequest {
                name: "nope".into(),
            },
            Some(&root),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let triggered = client
        .trigger_schedule(authed(schedule(), Some(&root)))
        .await
        .unwrap()
        .into_inner();
    let ran = job_state(&mut client, &root, &triggered.id, "completed").await;
    assert_eq!(ran.correlation_id.as_deref(), Some("manual:sessions.purge"));
}

#[tokio::test]
async fn grpc_admins_watch_a_job_s_events_live() {
    let app = super::app().await;
    let root = app.root().await.access;
    let user = app
        .register("watcher", "a-long-enough-password")
        .await
        .access;
    let mut client = JobsServiceClient::new(app.grpc_channel().await);
    let watch = |token| {
        authed(
            pb::WatchEventsRequest {
                queue: Some("default".into()),
            },
            token,
        )
    };
    let denied = client.watch_events(watch(Some(&user))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let mut events = client
        .watch_events(watch(Some(&root)))
        .await
        .unwrap()
        .into_inner();
    let enqueue = pb::EnqueueJobRequest {
        name: "sleep".into(),
        payload: Some(r#"{"ms":1}"#.into()),
        ..Default::default()
    };
    let id = client
        .enqueue_job(authed(enqueue, Some(&root)))
        .await
        .unwrap()
        .into_inner()
        .id;
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let next = tokio::time::timeout(Duration::from_secs(10), events.message()).await;
        let event = next
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        if event.id == id {
            assert_eq!(
                (event.name.as_str(), event.queue.as_str()),
                ("sleep", "default")
            );
            kinds.push(event.kind);
        }
    }
    // A worker may start the job before the enqueue's own event is out: the set, not the order.
    kinds.sort();
    assert_eq!(kinds, ["completed", "enqueued", "started"]);
}
