//! The storage ports through the transport: what the service tier sees of the repository tier.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arcana_adapter_internal::client::RemoteUserRepository;
use arcana_adapter_internal::server::{Call, InternalApi, Refusal};
use arcana_adapter_internal::{CallMeta, Transport as _};
use arcana_ports::StoreError;
use arcana_ports::usecases::{AccessToken, RequestContext};
use arcana_ports::users::UserRepository as _;
use async_trait::async_trait;
use serde_json::{Value, json};

use crate::support::{
    CREDENTIAL, CountingRelay, TIMEOUT, TestListener, storage_api, transport_to, user,
};

#[tokio::test]
async fn a_user_inserted_through_the_transport_is_read_back_from_the_repository_tier() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let users = RemoteUserRepository::new(Arc::new(listener.transport(CREDENTIAL)));
    let alice = user("alice");

    users.insert(&alice).await.unwrap();

    let by_id = users.find_by_id(alice.id()).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&alice));
    let by_name = users.find_by_username(alice.username()).await.unwrap();
    assert_eq!(by_name.map(|found| found.id()), Some(alice.id()));
}

#[tokio::test]
async fn a_duplicate_insert_comes_back_as_a_conflict() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let users = RemoteUserRepository::new(Arc::new(listener.transport(CREDENTIAL)));
    users.insert(&user("bob")).await.unwrap();

    let again = users.insert(&user("bob")).await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn an_absent_user_is_none_not_an_error() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let users = RemoteUserRepository::new(Arc::new(listener.transport(CREDENTIAL)));

    let found = users.find_by_id(user("carol").id()).await.unwrap();

    assert!(found.is_none());
}

#[tokio::test]
async fn consecutive_calls_reuse_one_connection() {
    let listener = TestListener::spawn(storage_api(), vec![]).await;
    let relay = CountingRelay::start(listener.addr).await;
    let transport = transport_to(&relay.url(), &listener.pki, CREDENTIAL, TIMEOUT);
    let users = RemoteUserRepository::new(Arc::new(transport));

    for round in 0..20 {
        users.insert(&user(&format!("user{round}"))).await.unwrap();
    }

    assert_eq!(relay.connections.load(Ordering::SeqCst), 1);
}

/// Answers every call with the metadata it arrived with.
struct EchoMeta;

#[async_trait]
impl InternalApi for EchoMeta {
    fn services(&self) -> &'static [&'static str] {
        &["arcana.test.v1.Echo"]
    }

    async fn handle(&self, _service: &str, _method: &str, call: Call) -> Result<Vec<u8>, Refusal> {
        let meta = call.meta;
        let echo = json!({
            "request_id": meta.request.request_id,
            "traceparent": meta.request.traceparent,
            "tracestate": meta.request.tracestate,
            "bearer": meta.bearer.as_ref().map(AccessToken::expose),
            "body": String::from_utf8_lossy(&call.body),
        });
        Ok(serde_json::to_vec(&echo).unwrap())
    }
}

#[tokio::test]
async fn the_request_id_trace_context_and_end_user_token_reach_the_next_tier() {
    let listener = TestListener::spawn(Arc::new(EchoMeta), vec![]).await;
    let transport = listener.transport(CREDENTIAL);
    let meta = CallMeta {
        request: RequestContext {
            request_id: Some("req-42".into()),
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            tracestate: Some("arcana=1".into()),
        },
        bearer: Some(AccessToken::new("end-user-token")),
    };

    let answer = transport
        .call("/arcana.test.v1.Echo/Meta", br#"{"x":1}"#.to_vec(), &meta)
        .await
        .unwrap();

    let echo: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(echo["request_id"], "req-42");
    assert_eq!(
        echo["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(echo["tracestate"], "arcana=1");
    assert_eq!(echo["bearer"], "end-user-token");
    assert_eq!(echo["body"], r#"{"x":1}"#);
}

#[tokio::test]
async fn a_call_without_user_or_request_context_carries_none() {
    let listener = TestListener::spawn(Arc::new(EchoMeta), vec![]).await;
    let transport = listener.transport(CREDENTIAL);

    let answer = transport
        .call(
            "/arcana.test.v1.Echo/Meta",
            b"{}".to_vec(),
            &CallMeta::default(),
        )
        .await
        .unwrap();

    let echo: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(echo["request_id"], Value::Null);
    assert_eq!(echo["bearer"], Value::Null);
}
