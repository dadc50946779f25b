//! End-to-end checks that only the gRPC listener has, against the real `arcana` binary:
//! cross-protocol tokens and revocation, ValidateToken, standard health following readiness,
//! reflection, request ids and metrics, gRPC-Web with CORS, and switching gRPC off. The
//! authorization matrix over every protected RPC is in `grpc/authz.rs`.

#[path = "grpc/authz.rs"]
mod authz;

use std::time::Duration;

use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;
use arcana_adapter_grpc::proto::auth::v1::{self as auth, TokenRejection};
use arcana_tests::TestApp;
use arcana_tests::api::grpc::with_bearer;
use arcana_tests::api::{Api, Kind, Protocol, kind};
use arcana_tests::chaos::{self, ChaosProxy};
use arcana_tests::databases::{Service, TestDatabase};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

#[tokio::test]
async fn a_token_from_one_protocol_works_on_the_other() {
    let app = TestApp::spawn(BIN, &[]).await;
    let (rest, grpc) = (
        Api::new(&app, Protocol::Rest).await,
        Api::new(&app, Protocol::Grpc).await,
    );
    let from_rest = rest.register_ok("olga", PASSWORD).await;
    assert_eq!(
        grpc.me(&from_rest.access)
            .await
            .expect("REST token on gRPC")
            .username,
        "olga"
    );
    let from_grpc = grpc.login_ok("olga", PASSWORD).await;
    assert_eq!(
        rest.me(&from_grpc.access)
            .await
            .expect("gRPC token on REST")
            .username,
        "olga"
    );
    let rotated = rest
        .refresh(&from_grpc.refresh)
        .await
        .expect("a gRPC refresh token on REST");
    grpc.me(&rotated.access).await.expect("and back");
}

#[tokio::test]
async fn revocation_through_one_protocol_is_effective_on_the_other_at_once() {
    let app = TestApp::spawn(BIN, &[]).await;
    let (rest, grpc) = (
        Api::new(&app, Protocol::Rest).await,
        Api::new(&app, Protocol::Grpc).await,
    );
    let first = rest.register_ok("pete", PASSWORD).await;
    grpc.logout(&first.access, false)
        .await
        .expect("gRPC logout");
    assert_eq!(
        kind(&rest.me(&first.access).await),
        Some(Kind::Unauthenticated)
    );

    let second = grpc.login_ok("pete", PASSWORD).await;
    rest.logout(&second.access, false)
        .await
        .expect("REST logout");
    assert_eq!(
        kind(&grpc.me(&second.access).await),
        Some(Kind::Unauthenticated)
    );

    let third = grpc.login_ok("pete", PASSWORD).await;
    let root = rest.root().await;
    rest.set_status(&root.access, &third.user.id, "suspended", None)
        .await
        .expect("suspended");
    assert_eq!(
        kind(&grpc.me(&third.access).await),
        Some(Kind::Unauthenticated)
    );
}

async fn validate(channel: &Channel, token: &str) -> auth::ValidateTokenResponse {
    let request = auth::ValidateTokenRequest {
        access_token: token.to_owned(),
    };
    AuthServiceClient::new(channel.clone())
        .validate_token(request)
        .await
        .expect("ValidateToken answers")
        .into_inner()
}

#[tokio::test]
async fn validate_token_summarises_the_principal_and_follows_revocation_and_expiry() {
    let app = TestApp::spawn(BIN, &[]).await;
    let channel = app.grpc_channel().await;
    let grpc = Api::new(&app, Protocol::Grpc).await;
    let root = grpc.root().await;

    let valid = validate(&channel, &root.access).await;
    assert!(valid.valid);
    assert_eq!(valid.user_id, root.user.id);
    assert_eq!(
        valid.role(),
        arcana_adapter_grpc::proto::common::v1::Role::Superadmin
    );
    let sessions = grpc.sessions(&root.access).await.expect("sessions");
    assert_eq!(
        valid.session_id,
        sessions.iter().find(|s| s.current).expect("current").id
    );
    assert!(valid.expires_at.is_some());

    assert_eq!(
        validate(&channel, "").await.rejection(),
        TokenRejection::Missing
    );
    assert_eq!(
        validate(&channel, "not.a.jwt").await.rejection(),
        TokenRejection::Invalid
    );
    grpc.logout(&root.access, false).await.expect("logout");
    let revoked = validate(&channel, &root.access).await;
    assert_eq!(
        (revoked.valid, revoked.rejection()),
        (false, TokenRejection::Revoked)
    );

    let short_lived = TestApp::spawn(BIN, &[("ARCANA_SECURITY__ACCESS_TTL_SECS", "1")]).await;
    let channel = short_lived.grpc_channel().await;
    let expiring = Api::new(&short_lived, Protocol::Grpc).await.root().await;
    // Tokens live one second there: poll (bounded) until this one has expired.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = validate(&channel, &expiring.access).await;
        if answer.rejection() == TokenRejection::Expired {
            assert!(!answer.valid);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token never expired: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn health_of(channel: &Channel, service: &str) -> ServingStatus {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let answer = HealthClient::new(channel.clone())
        .check(request)
        .await
        .expect("Health/Check answers");
    answer.into_inner().status()
}

/// Polls every service's health until all equal `expected`, for at most ten seconds.
async fn wait_for_health(channel: &Channel, expected: ServingStatus) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for service in [
        "",
        "arcana.auth.v1.AuthService",
        "arcana.user.v1.UserService",
    ] {
        while health_of(channel, service).await != expected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{service:?} never became {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn health_is_not_serving_while_the_database_is_down_and_serving_after() {
    let Some(db) = TestDatabase::create(Service::Postgres).await else {
        return;
    };
    let proxy = ChaosProxy::start(&chaos::target_of(&db.url)).await;
    let url = chaos::redirect(&db.url, proxy.addr());
    let env = [
        ("ARCANA_DATABASE__URL", url.as_str()),
        ("ARCANA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1"),
        ("ARCANA_SERVER__GRPC__HEALTH_POLL_INTERVAL_MS", "100"),
    ];
    let app = TestApp::spawn(BIN, &env).await;
    let channel = app.grpc_channel().await;
    wait_for_health(&channel, ServingStatus::Serving).await;

    proxy.cut();
    wait_for_health(&channel, ServingStatus::NotServing).await;
    proxy.restore().await;
    wait_for_health(&channel, ServingStatus::Serving).await;
}

#[tokio::test]
async fn reflection_lists_every_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = TestApp::spawn(BIN, &[]).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = ServerReflectionClient::new(app.grpc_channel().await)
        .server_reflection_info(tonic::codegen::tokio_stream::once(request))
        .await
        .expect("reflection answers")
        .into_inner();
    let answer = answers
        .message()
        .await
        .expect("a response")
        .expect("one message");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    for expected in [
        "arcana.auth.v1.AuthService",
        "arcana.user.v1.UserService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} in {names:?}"
        );
    }
}

#[tokio::test]
async fn request_ids_are_adopted_or_generated_and_calls_are_counted() {
    let app = TestApp::spawn(BIN, &[]).await;
    let mut client = AuthServiceClient::new(app.grpc_channel().await);
    let mut request = with_bearer(auth::MeRequest {}, None);
    request
        .metadata_mut()
        .insert("x-request-id", "trace-me-7".parse().unwrap());
    let refused = client.me(request).await.expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        refused.metadata().get("x-request-id").unwrap(),
        "trace-me-7"
    );

    let request = auth::LoginRequest {
        username_or_email: "root".into(),
        password: arcana_tests::ROOT_PASSWORD.into(),
    };
    let answer = client.login(request).await.expect("login");
    let generated = answer
        .metadata()
        .get("x-request-id")
        .expect("an id")
        .to_str()
        .unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for expected in [
        r#"grpc_server_handled_total{code="UNAUTHENTICATED",method="Me",service="arcana.auth.v1.AuthService"} 1"#,
        r#"grpc_server_handled_total{code="OK",method="Login",service="arcana.auth.v1.AuthService"} 1"#,
        r#"grpc_server_handling_seconds_count{method="Login",service="arcana.auth.v1.AuthService"} 1"#,
    ] {
        assert!(metrics.contains(expected), "{expected} in:\n{metrics}");
    }
}

#[tokio::test]
async fn grpc_web_answers_browsers_over_http1_with_the_rest_cors_allow_list() {
    let origin = "https://app.example.com";
    let origins = format!("[\"{origin}\"]");
    let app = TestApp::spawn(
        BIN,
        &[(
            "ARCANA_SERVER__REST__CORS_ALLOWED_ORIGINS",
            origins.as_str(),
        )],
    )
    .await;
    let url = format!(
        "{}/grpc.health.v1.Health/Check",
        app.grpc_url.as_deref().unwrap()
    );
    let http1 = arcana_tests::http_client().http1_only().build().unwrap();

    let preflight = http1
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-grpc-web")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], origin);

    // One uncompressed frame holding an empty HealthCheckRequest (service "": the server).
    let response = http1
        .post(&url)
        .header("origin", origin)
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(vec![0_u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], origin);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/grpc-web"),
        "{content_type}"
    );
    let body = response.bytes().await.unwrap();
    // Data frame: flag 0, length 2, then field 1 (status) = SERVING (1); then the trailers frame.
    assert_eq!(&body[..7], &[0, 0, 0, 0, 2, 0x08, 0x01], "{body:?}");
    let trailers = String::from_utf8_lossy(&body[7..]);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let other = http1
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn oversized_messages_are_refused_before_decoding() {
    let app = TestApp::spawn(BIN, &[("ARCANA_SERVER__GRPC__MAX_MESSAGE_BYTES", "1024")]).await;
    let request = auth::RegisterRequest {
        username: "x".repeat(4096),
        ..auth::RegisterRequest::default()
    };
    let mut client = AuthServiceClient::new(app.grpc_channel().await);
    let refused = client.register(request).await.expect_err("too large");
    assert_eq!(refused.code(), tonic::Code::OutOfRange, "{refused:?}");
    let fine = auth::LoginRequest {
        username_or_email: "root".into(),
        password: arcana_tests::ROOT_PASSWORD.into(),
    };
    client.login(fine).await.expect("small messages still pass");
}

#[tokio::test]
async fn grpc_can_be_switched_off() {
    let app = TestApp::spawn(BIN, &[("ARCANA_SERVER__GRPC__ENABLED", "false")]).await;
    assert!(app.grpc_url.is_none(), "no gRPC listener announced");
    assert_eq!(
        app.get("/health", None).await.status(),
        200,
        "REST still serves"
    );
}
