//! The tests' world: a throw-away CA, a spawned internal listener (`TestListener`), the
//! transports and raw clients that talk to it, and a relay that counts connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arcana_adapter_http_client::{HttpTransport, InternalHttpListener, serve};
use arcana_adapter_internal::server::{InternalApi, StorageApi};
use arcana_adapter_memory::{
    InMemoryAuditLog, InMemoryPluginKv, InMemorySessionStore, InMemoryUserRepository,
};
use arcana_ports::health::HealthCheck;
pub use arcana_tests::fixtures::user;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CREDENTIAL: &str = "link-credential-for-tests";
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A development CA, as `arcana tls init` would write one.
pub struct Pki {
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self {
            ca_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate and key (PEM) for a server named `names`.
    pub fn leaf(&self, names: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem().into_bytes(), key.serialize_pem().into_bytes())
    }
}

/// The repository tier's storage API over fresh in-memory adapters.
pub fn storage_api() -> Arc<dyn InternalApi> {
    Arc::new(StorageApi {
        users: Arc::new(InMemoryUserRepository::new()),
        sessions: Arc::new(InMemorySessionStore::new()),
        audit: Arc::new(InMemoryAuditLog::new(100)),
        plugin_kv: Arc::new(InMemoryPluginKv::new()),
    })
}

/// One running internal listener, its certificate naming the `service` tier (and `localhost`,
/// for the raw clients that check the URL's host the ordinary way).
pub struct TestListener {
    pub pki: Pki,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl TestListener {
    pub async fn spawn(api: Arc<dyn InternalApi>, health: Vec<Arc<dyn HealthCheck>>) -> Self {
        Self::spawn_named(api, health, &["service", "localhost"]).await
    }

    pub async fn spawn_named(
        api: Arc<dyn InternalApi>,
        health: Vec<Arc<dyn HealthCheck>>,
        names: &[&str],
    ) -> Self {
        Self::spawn_with(api, health, names, TIMEOUT).await
    }

    pub async fn spawn_with(
        api: Arc<dyn InternalApi>,
        health: Vec<Arc<dyn HealthCheck>>,
        names: &[&str],
        request_timeout: Duration,
    ) -> Self {
        let pki = Pki::new();
        let (cert_pem, key_pem) = pki.leaf(names);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let config = InternalHttpListener {
            api,
            credential: CREDENTIAL.into(),
            cert_pem,
            key_pem,
            health,
            request_timeout,
        };
        let task = tokio::spawn(serve(listener, config, async {
            let _ = stopped.await;
        }));
        Self {
            pki,
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// A transport as the calling tier builds it, toward the `service` tier.
    pub fn transport(&self, credential: &str) -> HttpTransport {
        transport_to(&self.url(), &self.pki, credential, TIMEOUT)
    }

    /// An ordinary HTTPS client trusting the CA and checking `localhost` in the certificate.
    pub fn raw_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub fn raw_client(&self) -> reqwest::Client {
        install_ring();
        let ca = reqwest::Certificate::from_pem(self.pki.ca_pem.as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .no_proxy()
            .build()
            .unwrap()
    }

    pub fn shut_down(&mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
    }
}

pub fn transport_to(url: &str, pki: &Pki, credential: &str, timeout: Duration) -> HttpTransport {
    HttpTransport::new(url, "service", pki.ca_pem.as_bytes(), credential, timeout).unwrap()
}

/// The raw test clients use reqwest's own TLS set-up, which needs a process default provider;
/// the transport itself never does.
pub fn install_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A port nothing listens on any more.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A TCP relay in front of `target` that counts the connections it was asked to open.
pub struct CountingRelay {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
}

impl CountingRelay {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Self { addr, connections }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }
}
