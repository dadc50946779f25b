//! Who may talk to the internal listener: TLS only, and only with the link's credential.

use std::sync::Arc;

use arcana_adapter_http_client::CREDENTIAL_HEADER;
use arcana_adapter_internal::client::RemoteUserRepository;
use arcana_ports::StoreError;
use arcana_ports::users::UserRepository as _;
use reqwest::{Method, StatusCode};

use crate::support::{CREDENTIAL, TestListener, install_ring, storage_api, user};

const PATHS: [&str; 5] = [
    "/arcana.internal.v1.Storage/FindUserById",
    "/arcana.internal.v1.Storage/NoSuchMethod",
    "/",
    "/health",
    "/admin/anything",
];

#[tokio::test]
async fn a_request_without_the_right_credential_gets_401_whatever_the_path() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let client = listener.raw_client();

    for path in PATHS {
        for method in [Method::POST, Method::GET, Method::DELETE] {
            for credential in [
                None,
                Some("wrong"),
                Some(""),
                Some("link-credential-for-test"),
            ] {
                let mut request = client
                    .request(method.clone(), listener.raw_url(path))
                    .body(r#"{"value":"x"}"#);
                if let Some(credential) = credential {
                    request = request.header(CREDENTIAL_HEADER, credential);
                }
                let answer = request.send().await.unwrap();
                assert_eq!(
                    answer.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {credential:?}"
                );
                let body = answer.text().await.unwrap();
                assert!(
                    !body.contains(CREDENTIAL),
                    "the answer shows the credential"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_health_probes_answer_without_a_credential() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let client = listener.raw_client();

    for path in ["/health/live", "/health/ready"] {
        let answer = client.get(listener.raw_url(path)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_storage_client_with_a_wrong_credential_gets_an_error_never_data() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let users = RemoteUserRepository::new(Arc::new(listener.transport("not-the-credential")));

    let found = users.find_by_id(user("dave").id()).await;

    // A refused link is a deployment mistake, not an outage: an internal error, logged.
    assert!(matches!(found, Err(StoreError::Other(_))), "{found:?}");
}

#[tokio::test]
async fn plain_http_is_refused_by_the_internal_listener() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    install_ring();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    for path in ["/health/live", "/arcana.internal.v1.Storage/FindUserById"] {
        let answer = client
            .post(format!("http://127.0.0.1:{}{path}", listener.addr.port()))
            .header(CREDENTIAL_HEADER, CREDENTIAL)
            .body("{}")
            .send()
            .await;
        assert!(
            answer.is_err(),
            "{path} answered over plain HTTP: {answer:?}"
        );
    }
}

#[tokio::test]
async fn a_listener_whose_certificate_names_another_tier_is_not_trusted() {
    // Same CA, so the chain verifies; only the tier name differs.
    let listener =
        TestListener::spawn_named(storage_api(), vec![], &["controller", "127.0.0.1"]).await;
    let users = RemoteUserRepository::new(Arc::new(listener.transport(CREDENTIAL)));

    let found = users.find_by_id(user("erin").id()).await;

    assert!(
        matches!(found, Err(StoreError::Unavailable(_))),
        "{found:?}"
    );
}

#[tokio::test]
async fn an_unknown_rpc_is_not_found() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;

    let answer = listener
        .raw_client()
        .post(listener.raw_url("/arcana.internal.v1.Storage/NoSuchMethod"))
        .header(CREDENTIAL_HEADER, CREDENTIAL)
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;

    let answer = listener
        .raw_client()
        .post(listener.raw_url("/arcana.internal.v1.Storage/InsertUser"))
        .header(CREDENTIAL_HEADER, CREDENTIAL)
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn a_transport_refuses_plain_http_urls_and_empty_credentials() {
    let ca = crate::support::Pki::new().ca_pem;
    let timeout = crate::support::TIMEOUT;
    let new = |url: &str, credential: &str| {
        arcana_adapter_http_client::HttpTransport::new(
            url,
            "repository",
            ca.as_bytes(),
            credential,
            timeout,
        )
    };
    assert!(new("http://repository:8443", CREDENTIAL).is_err());
    assert!(new("https://repository:8443", "").is_err());
    let transport = new("https://repository:8443", CREDENTIAL).unwrap();
    assert!(!format!("{transport:?}").contains(CREDENTIAL));
}
