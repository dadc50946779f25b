//! The storage ports through the repository tier: a real internal listener (gRPC with mutual
//! TLS and the caller checked, or HTTPS with a link credential) in front of a real store, and the
//! service tier's remote clients in front of it. Whatever the local store honours must survive
//! the trip unchanged, on either transport.

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_grpc_client::devcerts::DevCertificates;
use arcana_adapter_grpc_client::{GrpcTransport, InternalListener, TlsMaterial};
use arcana_adapter_http_client::{HttpTransport, InternalHttpListener};
use arcana_adapter_internal::Transport;
use arcana_adapter_internal::client::{
    RemoteAuditLog, RemotePluginKv, RemoteSessionStore, RemoteUserRepository,
};
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

/// The internal transport the repository tier is reached over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Grpc,
    Http,
}

const CREDENTIAL: &str = "repository-link-credential-for-conformance";

/// Serves `local` as the repository tier over `link` and returns the service tier's view of it.
pub async fn repository_tier(local: Stores, link: Link) -> Stores {
    let certs = DevCertificates::generate().expect("development certificates");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("https://{}", listener.local_addr().expect("bound"));
    let api = Arc::new(StorageApi {
        users: local.users.clone(),
        sessions: local.sessions.clone(),
        audit: local.audit.clone(),
        plugin_kv: local.plugin_kv.clone(),
    });
    let timeout = Duration::from_secs(10);
    let (task, transport): (_, Arc<dyn Transport>) = match link {
        Link::Grpc => {
            let config = InternalListener {
                api,
                caller: "service",
                tls: material(&certs, "repository"),
                health: Vec::new(),
                health_interval: Duration::from_mins(1),
                request_timeout: timeout,
            };
            let task = tokio::spawn(async move {
                let served =
                    arcana_adapter_grpc_client::serve(listener, config, std::future::pending());
                served.await.expect("the internal listener serves");
            });
            let service = material(&certs, "service");
            let transport = GrpcTransport::connect_lazy(&url, "repository", &service, timeout)
                .expect("a transport");
            (task, Arc::new(transport))
        }
        Link::Http => {
            let (cert, key) = certs.tier("repository").expect("a repository certificate");
            let config = InternalHttpListener {
                api,
                credential: CREDENTIAL.to_owned(),
                cert_pem: cert.as_bytes().to_vec(),
                key_pem: key.as_bytes().to_vec(),
                health: Vec::new(),
                request_timeout: timeout,
            };
            let task = tokio::spawn(async move {
                let served =
                    arcana_adapter_http_client::serve(listener, config, std::future::pending());
                served.await.expect("the internal listener serves");
            });
            let ca = certs.ca.as_bytes();
            let transport = HttpTransport::new(&url, "repository", ca, CREDENTIAL, timeout)
                .expect("a transport");
            (task, Arc::new(transport))
        }
    };
    Stores::new(
        Arc::new(RemoteUserRepository::new(transport.clone())),
        Arc::new(RemoteSessionStore::new(transport.clone())),
        Arc::new(RemoteAuditLog::new(transport.clone())),
        Arc::new(RemotePluginKv::new(transport)),
        Box::new(Served {
            task,
            _local: local,
        }),
    )
}
