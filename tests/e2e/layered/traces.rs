//! Trace export across the tiers: one request that arrives with a W3C `traceparent` yields
//! spans in the controller, the service and the repository tiers, all in the caller's trace,
//! each tier's span a child of the tier that called it; the trace id is in the JSON log lines.

use std::time::Duration;

use arcana_tests::layered::Transport as Link;
use arcana_tests::otel::{Collector, ExportedSpan};
use reqwest::Method;

use crate::{PASSWORD, stack};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn of<'a>(spans: &'a [ExportedSpan], service: &str) -> Vec<&'a ExportedSpan> {
    spans
        .iter()
        .filter(|span| span.service == service)
        .collect()
}

/// The spans of one trace, by tier.
struct Tree<'a> {
    controller: Vec<&'a ExportedSpan>,
    service: Vec<&'a ExportedSpan>,
    repository: Vec<&'a ExportedSpan>,
}

impl<'a> Tree<'a> {
    fn of(spans: &'a [ExportedSpan]) -> Self {
        Self {
            controller: of(spans, "arcana-controller"),
            service: of(spans, "arcana-service"),
            repository: of(spans, "arcana-repository"),
        }
    }

    /// What the trace lacks, empty when it is whole.
    fn problems(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        // The controller's request span continues the caller's span …
        if !self
            .controller
            .iter()
            .any(|span| span.name == "http_request" && span.parent_span_id == CALLER_SPAN)
        {
            problems.push("no controller request span under the caller's span");
        }
        // … each tier's entry spans (those whose parent is not its own) hang under a span of
        // the tier that called it …
        if !parented_by(&self.service, &self.controller) {
            problems.push("service spans not under controller spans");
        }
        if !parented_by(&self.repository, &self.service) {
            problems.push("repository spans not under service spans");
        }
        // … and each tier's call to the next one, and the repository's to the database, is a
        // span of its own.
        for tier in [&self.controller, &self.service, &self.repository] {
            if !tier.iter().any(|span| span.name == "dependency_call") {
                problems.push("a tier without a dependency_call span");
            }
        }
        problems
    }
}

fn parented_by(children: &[&ExportedSpan], parents: &[&ExportedSpan]) -> bool {
    let own = |span: &ExportedSpan| children.iter().any(|c| c.span_id == span.parent_span_id);
    let entries: Vec<_> = children.iter().filter(|child| !own(child)).collect();
    !entries.is_empty()
        && entries.iter().all(|child| {
            parents
                .iter()
                .any(|parent| parent.span_id == child.parent_span_id)
        })
}

async fn one_trace_spans_every_tier(link: Link) {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let env = [
        ("ARCANA_OBSERVABILITY__OTLP_ENDPOINT", endpoint.as_str()),
        ("ARCANA_OBSERVABILITY__LOG_FORMAT", "json"),
        // The internal listeners log each call served at debug level: a line inside the span.
        (
            "ARCANA_OBSERVABILITY__LOG_LEVEL",
            "info,arcana_adapter_internal=debug",
        ),
        // Export within 100 ms rather than the SDK's 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let (stack, _file) = stack(link, &env).await;
    let app = &stack.controller;
    app.register("traced", PASSWORD).await;

    // A sign-in always reaches the repository (the new session is written there).
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    let login = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("traceparent", &traceparent)
        .json(&serde_json::json!({"username_or_email": "traced", "password": PASSWORD}))
        .send()
        .await
        .expect("the controller answers");
    assert_eq!(login.status(), 200);

    // Each tier exports in batches, and a span is exported when it ends: a tier's outer span
    // can arrive after its children. Wait for the whole structure, then say what is missing.
    let spans = collector
        .wait_for(TRACE_ID, Duration::from_secs(15), |spans| {
            Tree::of(spans).problems().is_empty()
        })
        .await;
    let problems = Tree::of(&spans).problems();
    assert!(
        problems.is_empty(),
        "{problems:?} in trace {TRACE_ID}: {spans:#?}"
    );

    let logs = stack.service.logs();
    let served = logs
        .lines()
        .find(|line| line.contains("internal call served") && line.contains("Accounts/Login"))
        .unwrap_or_else(|| panic!("the service tier logs its calls:\n{logs}"));
    assert!(
        served.contains(&format!("\"trace_id\":\"{TRACE_ID}\"")),
        "the trace id is in the JSON log line: {served}"
    );
}

#[tokio::test]
async fn one_trace_spans_every_tier_over_grpc() {
    one_trace_spans_every_tier(Link::Grpc).await;
}

#[tokio::test]
async fn one_trace_spans_every_tier_over_http() {
    one_trace_spans_every_tier(Link::Http).await;
}

/// In one process the trace goes on below the request: the use case is a span of its own
/// (`auth.login`) under the request's, and each of its storage calls a `dependency_call` span
/// under the use case.
#[tokio::test]
async fn the_monolith_traces_a_request_down_to_its_storage_calls() {
    let (collector, app) = traced_monolith().await;
    app.register("traced-storage", PASSWORD).await;
    let trace_id = "6bf92f3577b34da6a3ce929d0e0e4738";
    let login = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("traceparent", format!("00-{trace_id}-{CALLER_SPAN}-01"))
        .json(&serde_json::json!({"username_or_email": "traced-storage", "password": PASSWORD}))
        .send()
        .await
        .expect("answers");
    assert_eq!(login.status(), 200);

    let spans = collector
        .wait_for(trace_id, Duration::from_secs(15), |spans| {
            ["http_request", "auth.login", "dependency_call"]
                .iter()
                .all(|name| spans.iter().any(|span| span.name == *name))
        })
        .await;
    let named = |name: &str| -> Vec<&ExportedSpan> {
        spans.iter().filter(|span| span.name == name).collect()
    };
    let request = named("http_request");
    let [request] = request.as_slice() else {
        panic!("one request span: {spans:#?}");
    };
    let use_case = named("auth.login");
    let [use_case] = use_case.as_slice() else {
        panic!("one use case (the login): {spans:#?}");
    };
    assert_eq!(use_case.parent_span_id, request.span_id, "{spans:#?}");
    // A sign-in writes a session at least.
    let calls = named("dependency_call");
    assert!(
        !calls.is_empty(),
        "the storage calls of a login: {spans:#?}"
    );
    for call in calls {
        assert_eq!(
            call.parent_span_id, use_case.span_id,
            "a storage call hangs under the use case: {spans:#?}"
        );
    }
}

/// A monolith exporting to a fresh collector within 100 ms of each span's end.
async fn traced_monolith() -> (Collector, arcana_tests::TestApp) {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let env = [
        ("ARCANA_OBSERVABILITY__OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let app = arcana_tests::TestApp::spawn(crate::BINS.arcana, &env).await;
    (collector, app)
}

/// The monolith's public gRPC API continues a caller's trace too, and a malformed `traceparent`
/// is ignored (a new trace starts) rather than refused or echoed into the export.
#[tokio::test]
async fn the_monolith_continues_grpc_traces_and_ignores_malformed_ones() {
    use arcana_adapter_grpc::proto::auth::v1::ValidateTokenRequest;
    use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;

    let (collector, app) = traced_monolith().await;
    let tokens = app.register("grpc-traced", PASSWORD).await;

    let mut request = tonic::Request::new(ValidateTokenRequest {
        access_token: tokens.access,
    });
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    request.metadata_mut().insert(
        "traceparent",
        traceparent.parse().expect("a metadata value"),
    );
    AuthServiceClient::new(app.grpc_channel().await)
        .validate_token(request)
        .await
        .expect("ValidateToken answers");

    let malformed = "00-zzzz-not-a-trace-01";
    let health = app
        .request(Method::GET, "/health", None)
        .header("traceparent", malformed)
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status(), 200);

    let spans = collector
        .wait_for(TRACE_ID, Duration::from_secs(15), |spans| !spans.is_empty())
        .await;
    let call = spans
        .iter()
        .find(|span| span.name == "grpc_request")
        .unwrap_or_else(|| panic!("the gRPC call's span in the caller's trace: {spans:#?}"));
    assert_eq!(call.service, "arcana");
    assert_eq!(call.parent_span_id, CALLER_SPAN);
}

/// A job enqueued by a traced request runs in that request's trace: the run's span is a child
/// of the span that enqueued it (the `jobs.enqueue` use case), even though it runs later on a
/// worker.
#[tokio::test]
async fn a_job_runs_in_the_trace_of_the_request_that_enqueued_it() {
    let (collector, app) = traced_monolith().await;
    let root = app.root().await.access;
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4737";
    let enqueued = app
        .request(Method::POST, "/api/v1/jobs", Some(&root))
        .header("traceparent", format!("00-{trace_id}-{CALLER_SPAN}-01"))
        .json(&serde_json::json!({"name": "noop"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(enqueued.status(), 201);

    let spans = collector
        .wait_for(trace_id, Duration::from_secs(15), |spans| {
            spans.iter().any(|span| span.name == "job_run")
        })
        .await;
    let request = spans
        .iter()
        .find(|span| span.name == "http_request")
        .unwrap_or_else(|| panic!("the enqueuing request's span: {spans:#?}"));
    let enqueue = spans
        .iter()
        .find(|span| span.name == "jobs.enqueue")
        .unwrap_or_else(|| panic!("the enqueuing use case's span: {spans:#?}"));
    assert_eq!(enqueue.parent_span_id, request.span_id, "{spans:#?}");
    let run = spans
        .iter()
        .find(|span| span.name == "job_run")
        .unwrap_or_else(|| panic!("the job's run in the request's trace: {spans:#?}"));
    assert_eq!(run.parent_span_id, enqueue.span_id, "{spans:#?}");
}
