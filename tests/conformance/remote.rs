//! The storage ports through the repository tier: a real internal gRPC listener (mutual TLS,
//! caller checked) in front of a real store, and the service tier's remote clients in front of
//! it. Whatever the local store honours must survive the trip unchanged.

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_grpc_client::devcerts::DevCertificates;
use arcana_adapter_grpc_client::{GrpcTransport, InternalListener, TlsMaterial};
use arcana_adapter_internal::Transport;
use arcana_adapter_internal::client::{RemoteAuditLog, RemoteSessionStore, RemoteUserRepository};
use arcana_adapter_internal::server::StorageApi;

use crate::harness::Stores;

/// Keeps the listener (and the store behind it) alive for the case.
struct Served {
    task: tokio::task::JoinHandle<()>,
    _local: Stores,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn material(certs: &DevCertificates, tier: &str) -> TlsMaterial {
    let (cert, key) = certs.tier(tier).expect("a certificate per tier");
    TlsMaterial::from_pem(certs.ca.as_bytes(), cert.as_bytes(), key.as_bytes())
}

/// Serves `local` as the repository tier and returns the service tier's view of it.
pub async fn repository_tier(local: Stores) -> Stores {
    let certs = DevCertificates::generate().expect("development certificates");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("https://{}", listener.local_addr().expect("bound"));
    let config = InternalListener {
        api: Arc::new(StorageApi {
            users: local.users.clone(),
            sessions: local.sessions.clone(),
            audit: local.audit.clone(),
        }),
        caller: "service",
        tls: material(&certs, "repository"),
        health: Vec::new(),
        health_interval: Duration::from_mins(1),
        request_timeout: Duration::from_secs(10),
    };
    let task = tokio::spawn(async move {
        let outcome =
            arcana_adapter_grpc_client::serve(listener, config, std::future::pending()).await;
        outcome.expect("the internal listener serves");
    });
    let transport: Arc<dyn Transport> = Arc::new(
        GrpcTransport::connect_lazy(
            &url,
            "repository",
            &material(&certs, "service"),
            Duration::from_secs(10),
        )
        .expect("a transport"),
    );
    Stores::new(
        Arc::new(RemoteUserRepository::new(transport.clone())),
        Arc::new(RemoteSessionStore::new(transport.clone())),
        Arc::new(RemoteAuditLog::new(transport)),
        Box::new(Served {
            task,
            _local: local,
        }),
    )
}
