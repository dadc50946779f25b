//! What the calling tier sees when the next one is down, slow, or shutting down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcana_adapter_internal::client::RemoteUserRepository;
use arcana_adapter_internal::server::{Call, InternalApi, Refusal};
use arcana_adapter_internal::{CallMeta, RemoteError, Transport as _};
use arcana_ports::StoreError;
use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::users::UserRepository as _;
use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::support::{CREDENTIAL, Pki, TestListener, closed_port, storage_api, transport_to, user};

const SHORT: Duration = Duration::from_millis(300);
/// Room for a loaded CI machine on top of the transport's own bound.
const SLACK: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_closed_port_means_the_repository_is_unavailable_within_the_timeout() {
    let url = format!("https://127.0.0.1:{}", closed_port().await);
    let users =
        RemoteUserRepository::new(Arc::new(transport_to(&url, &Pki::new(), CREDENTIAL, SHORT)));

    let started = Instant::now();
    let found = users.find_by_id(user("frank").id()).await;

    assert!(
        matches!(found, Err(StoreError::Unavailable(_))),
        "{found:?}"
    );
    assert!(started.elapsed() < SHORT + SLACK);
}

#[tokio::test]
async fn a_tier_that_accepts_but_never_answers_costs_the_timeout_and_no_more() {
    // Connections complete in the kernel's backlog; the TLS handshake never does.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let users =
        RemoteUserRepository::new(Arc::new(transport_to(&url, &Pki::new(), CREDENTIAL, SHORT)));

    let started = Instant::now();
    let found = users.find_by_id(user("grace").id()).await;

    assert!(
        matches!(found, Err(StoreError::Unavailable(_))),
        "{found:?}"
    );
    // Nothing was sent: the connect timeout (half the call's budget) ends it.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= SHORT / 2 && elapsed < SHORT + SLACK,
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn readiness_names_the_next_tier_when_it_is_down() {
    let url = format!("https://127.0.0.1:{}", closed_port().await);
    let downstream = transport_to(&url, &Pki::new(), CREDENTIAL, SHORT).health();
    let listener = TestListener::spawn(storage_api(), vec![Arc::new(downstream)]).await;

    let answer = listener
        .raw_client()
        .get(listener.raw_url("/health/ready"))
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = answer.json().await.unwrap();
    assert_eq!(report["status"], "down");
    assert_eq!(report["checks"]["service"]["status"], "down");
}

#[tokio::test]
async fn the_next_tier_check_follows_that_tier_readiness() {
    let ready = TestListener::spawn(storage_api(), vec![]).await;
    let up = ready.transport(CREDENTIAL).health();
    assert!(matches!(up.check().await, Health::Up { .. }));
    assert_eq!(up.name(), "service");

    let url = format!("https://127.0.0.1:{}", closed_port().await);
    let dead: Arc<dyn HealthCheck> =
        Arc::new(transport_to(&url, &Pki::new(), CREDENTIAL, SHORT).health());
    let not_ready = TestListener::spawn(storage_api(), vec![dead]).await;
    let down = not_ready.transport(CREDENTIAL).health();
    assert!(matches!(down.check().await, Health::Down { .. }));
}

/// Holds every call until released, saying when one has arrived.
#[derive(Default)]
struct Gate {
    arrived: Notify,
    release: Notify,
}

#[async_trait]
impl InternalApi for Gate {
    fn services(&self) -> &'static [&'static str] {
        &["arcana.test.v1.Gate"]
    }

    async fn handle(&self, _service: &str, _method: &str, _call: Call) -> Result<Vec<u8>, Refusal> {
        self.arrived.notify_one();
        self.release.notified().await;
        Ok(b"{}".to_vec())
    }
}

#[tokio::test]
async fn shutdown_finishes_the_call_in_flight_and_refuses_new_connections() {
    let gate = Arc::new(Gate::default());
    let mut listener = TestListener::spawn(gate.clone(), vec![]).await;
    let transport = Arc::new(listener.transport(CREDENTIAL));
    let in_flight = tokio::spawn({
        let transport = transport.clone();
        async move {
            transport
                .call(
                    "/arcana.test.v1.Gate/Hold",
                    b"{}".to_vec(),
                    &CallMeta::default(),
                )
                .await
        }
    });
    gate.arrived.notified().await;

    listener.shut_down();
    wait_until_refused(listener.addr).await;
    gate.release.notify_one();

    let answer = in_flight.await.unwrap();
    assert_eq!(answer.unwrap(), b"{}");
    let served = tokio::time::timeout(SLACK, &mut listener.task).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "{served:?}");
}

async fn wait_until_refused(addr: std::net::SocketAddr) {
    let deadline = Instant::now() + SLACK;
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the listener still accepts after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_call_the_tier_cannot_finish_in_time_has_an_unknown_outcome() {
    let gate = Arc::new(Gate::default());
    let listener = TestListener::spawn_with(gate.clone(), vec![], &["service"], SHORT).await;
    let transport = listener.transport(CREDENTIAL);

    let started = Instant::now();
    let answer = transport
        .call(
            "/arcana.test.v1.Gate/Hold",
            b"{}".to_vec(),
            &CallMeta::default(),
        )
        .await;

    assert!(
        matches!(answer, Err(RemoteError::NoAnswer(_))),
        "{answer:?}"
    );
    assert!(started.elapsed() < SHORT + SLACK);
}
