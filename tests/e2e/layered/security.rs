//! The internal listeners: TLS only, only the tier above, never on the public listeners, no
//! credential in any answer to the controller, and no right beyond the end user's.

use arcana_adapter_internal::wire;
use arcana_adapter_internal::{CallMeta, RemoteError};
use arcana_ports::usecases::AccessToken;
use arcana_tests::layered::Transport as Link;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::{PASSWORD, raw_link, stack};

const FIND_BY_USERNAME: &str = "/arcana.internal.v1.Storage/FindUserByUsername";

fn encode<M: prost::Message + serde::Serialize>(link: Link, message: &M) -> Vec<u8> {
    match link {
        Link::Grpc => message.encode_to_vec(),
        Link::Http => serde_json::to_vec(message).expect("json"),
    }
}

fn root_key() -> wire::Text {
    wire::Text {
        value: arcana_tests::ROOT_USERNAME.to_owned(),
    }
}

#[tokio::test]
async fn the_internal_grpc_listener_speaks_tls_only_and_admits_only_the_tier_above() {
    let (stack, _file) = stack(Link::Grpc, &[]).await;
    let health = |channel| async move {
        tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
    };
    // Plaintext HTTP/2 to the TLS port: no answer.
    let plaintext = Endpoint::from_shared(stack.service.url.replace("https://", "http://"))
        .unwrap()
        .connect_lazy();
    assert!(health(plaintext).await.is_err(), "plaintext is refused");
    // TLS that trusts the CA but presents no client certificate: refused in the handshake.
    let (ca, _, _) = stack.pem("controller");
    let anonymous = Endpoint::from_shared(stack.service.url.clone())
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .domain_name("service")
                .ca_certificate(Certificate::from_pem(ca)),
        )
        .unwrap()
        .connect_lazy();
    assert!(
        health(anonymous).await.is_err(),
        "a client without a certificate is refused"
    );

    // A valid certificate of the wrong tier: the controller may not call the repository.
    let body = encode(Link::Grpc, &root_key());
    let wrong = raw_link(&stack, "controller", "repository", &stack.repository.url);
    match wrong
        .call(FIND_BY_USERNAME, body.clone(), &CallMeta::default())
        .await
    {
        Err(RemoteError::Refused(failure)) => {
            assert_eq!(failure.kind(), wire::FailureKind::PeerRefused);
        }
        other => {
            panic!("the controller's certificate must be refused by the repository: {other:?}")
        }
    }
    // The service may, and the storage API is the one place a hash travels.
    let right = raw_link(&stack, "service", "repository", &stack.repository.url);
    let answer = right
        .call(FIND_BY_USERNAME, body, &CallMeta::default())
        .await
        .expect("the service tier may call the repository");
    assert!(
        String::from_utf8_lossy(&answer).contains("$argon2"),
        "the storage API carries hashes"
    );
}

#[tokio::test]
async fn the_internal_http_listener_refuses_plaintext_and_any_request_without_the_credential() {
    let (stack, _file) = stack(Link::Http, &[]).await;
    let (ca, _, _) = stack.pem("controller");
    let client = arcana_tests::http_client()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .resolve(
            "service",
            stack
                .service
                .url
                .trim_start_matches("https://")
                .parse()
                .unwrap(),
        )
        .build()
        .unwrap();
    let base = format!("https://service:{}", stack.service.port());
    for path in [
        "/arcana.internal.v1.Accounts/Authenticate",
        "/arcana.internal.v1.Storage/FindUserByUsername",
        "/anything/else",
        "/",
    ] {
        let answer = client
            .post(format!("{base}{path}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{path} without the credential");
        let answer = client
            .post(format!("{base}{path}"))
            .header(
                arcana_adapter_http_client::CREDENTIAL_HEADER,
                "not-the-credential-not-the-credential!",
            )
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{path} with a wrong credential");
    }
    let live = client
        .get(format!("{base}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "liveness is open to probes");
    let plaintext = arcana_tests::http_client().build().unwrap();
    let refused = plaintext
        .post(
            stack.service.url.replace("https://", "http://")
                + "/arcana.internal.v1.Accounts/Authenticate",
        )
        .send()
        .await;
    assert!(
        refused.is_err() || !refused.unwrap().status().is_success(),
        "plaintext is refused"
    );
}

#[tokio::test]
async fn the_public_listeners_serve_no_internal_api() {
    let (stack, _file) = stack(Link::Grpc, &[]).await;
    let app = &stack.controller;
    let rest = app
        .post(
            "/arcana.internal.v1.Storage/FindUserByUsername",
            None,
            &serde_json::json!({"value": "root"}),
        )
        .await;
    assert_eq!(rest.status(), 404);
    let mut grpc = tonic::client::Grpc::new(app.grpc_channel().await);
    grpc.ready().await.unwrap();
    let outcome: Result<tonic::Response<wire::MaybeUser>, _> = grpc
        .unary(
            tonic::Request::new(root_key()),
            http::uri::PathAndQuery::from_static(FIND_BY_USERNAME),
            tonic_prost::ProstCodec::default(),
        )
        .await;
    assert_eq!(outcome.unwrap_err().code(), tonic::Code::Unimplemented);
}

/// Everything the controller receives, over either transport, read as raw bytes.
async fn no_hash_reaches_the_controller(link: Link) {
    let (stack, _file) = stack(link, &[]).await;
    let root = stack.controller.root().await;
    let user = stack.controller.register("bob", PASSWORD).await;
    let to_service = raw_link(&stack, "controller", "service", &stack.service.url);
    let anonymous = CallMeta::default();
    let as_root = CallMeta {
        bearer: Some(AccessToken::new(root.access.clone())),
        ..CallMeta::default()
    };
    let login = wire::LoginRequest {
        username_or_email: "bob".into(),
        password: PASSWORD.into(),
        client: None,
    };
    let calls: Vec<(&'static str, Vec<u8>, &CallMeta)> = vec![
        (
            "/arcana.internal.v1.Accounts/Login",
            encode(link, &login),
            &anonymous,
        ),
        (
            "/arcana.internal.v1.Accounts/Authenticate",
            encode(link, &wire::Empty {}),
            &as_root,
        ),
        (
            "/arcana.internal.v1.Accounts/ListSessions",
            encode(link, &wire::Empty {}),
            &as_root,
        ),
        (
            "/arcana.internal.v1.Users/Get",
            encode(
                link,
                &wire::Id {
                    value: user.user_id.clone(),
                },
            ),
            &as_root,
        ),
        (
            "/arcana.internal.v1.Users/List",
            encode(link, &wire::ListUsersRequest::default()),
            &as_root,
        ),
    ];
    for (path, body, meta) in calls {
        let answer = to_service.call(path, body, meta).await.expect(path);
        let text = String::from_utf8_lossy(&answer);
        assert!(
            !text.contains("$argon2"),
            "{path} carries a password hash: {text}"
        );
        assert!(
            !text.contains("password_hash") && !text.contains("refresh_hash"),
            "{path}: {text}"
        );
        assert!(
            text.contains("bob") || text.contains("root") || path.ends_with("ListSessions"),
            "{path} answered: {text}"
        );
    }
}

#[tokio::test]
async fn no_internal_answer_to_the_controller_carries_a_password_hash_over_grpc() {
    no_hash_reaches_the_controller(Link::Grpc).await;
}

#[tokio::test]
async fn no_internal_answer_to_the_controller_carries_a_password_hash_over_http() {
    no_hash_reaches_the_controller(Link::Http).await;
}

/// The controller's own link, with a user's token, asks for what the user may not do.
async fn the_controller_cannot_exceed_the_end_users_rights(link: Link) {
    let (stack, _file) = stack(link, &[]).await;
    let user = stack.controller.register("mallory", PASSWORD).await;
    let to_service = raw_link(&stack, "controller", "service", &stack.service.url);
    let promote = wire::SetRoleRequest {
        id: user.user_id.clone(),
        role: "admin".into(),
    };
    let path = "/arcana.internal.v1.Users/SetRole";
    let as_user = CallMeta {
        bearer: Some(AccessToken::new(user.access.clone())),
        ..CallMeta::default()
    };
    let refused = |outcome: Result<Vec<u8>, RemoteError>| match outcome {
        Err(RemoteError::Refused(failure)) => failure.kind(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let body = encode(link, &promote);
    assert_eq!(
        refused(to_service.call(path, body.clone(), &as_user).await),
        wire::FailureKind::Forbidden
    );
    assert_eq!(
        refused(
            to_service
                .call(path, body.clone(), &CallMeta::default())
                .await
        ),
        wire::FailureKind::InvalidToken,
        "without the user's token the controller is nobody"
    );
    let forged = CallMeta {
        bearer: Some(AccessToken::new(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged",
        )),
        ..CallMeta::default()
    };
    assert_eq!(
        refused(to_service.call(path, body, &forged).await),
        wire::FailureKind::InvalidToken
    );
}

#[tokio::test]
async fn the_controller_cannot_exceed_the_end_users_rights_over_grpc() {
    the_controller_cannot_exceed_the_end_users_rights(Link::Grpc).await;
}

#[tokio::test]
async fn the_controller_cannot_exceed_the_end_users_rights_over_http() {
    the_controller_cannot_exceed_the_end_users_rights(Link::Http).await;
}

/// Every RPC the internal contracts declare is served by the tier that owns its service: a call
/// with an empty message gets the callee's own answer or refusal, never "no such RPC".
async fn every_declared_internal_rpc_is_served(link: Link) {
    use prost::Message as _;
    let (stack, _file) = stack(link, &[]).await;
    let contracts =
        prost_types::FileDescriptorSet::decode(wire::DESCRIPTOR_SET).expect("descriptors");
    let service = raw_link(&stack, "controller", "service", &stack.service.url);
    let storage = raw_link(&stack, "service", "repository", &stack.repository.url);
    let empty = encode(link, &wire::Empty {});
    let mut served = Vec::new();
    for file in contracts
        .file
        .iter()
        .filter(|file| file.package() == arcana_adapter_internal::PACKAGE)
    {
        for api in &file.service {
            let callee = if api.name() == "Storage" {
                &storage
            } else {
                &service
            };
            for method in &api.method {
                let path: &'static str = Box::leak(
                    format!("/{}.{}/{}", file.package(), api.name(), method.name())
                        .into_boxed_str(),
                );
                let meta = CallMeta::default();
                let outcome = if method.server_streaming() {
                    callee
                        .open_stream(path, empty.clone(), &meta)
                        .await
                        .map(drop)
                } else {
                    callee.call(path, empty.clone(), &meta).await.map(drop)
                };
                match outcome {
                    Ok(()) | Err(RemoteError::Refused(_)) => served.push(path),
                    Err(other) => panic!("{path} is declared but not served: {other:#}"),
                }
            }
        }
    }
    assert!(
        served.contains(&"/arcana.internal.v1.Plugins/Route")
            && served.contains(&"/arcana.internal.v1.Storage/FindUserByUsername"),
        "{served:?}"
    );
}

#[tokio::test]
async fn every_declared_internal_rpc_is_served_over_grpc() {
    every_declared_internal_rpc_is_served(Link::Grpc).await;
}

#[tokio::test]
async fn every_declared_internal_rpc_is_served_over_http() {
    every_declared_internal_rpc_is_served(Link::Http).await;
}
