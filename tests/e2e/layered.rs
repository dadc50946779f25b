//! End-to-end properties of the layered modes that the protocol-neutral account scenarios do not
//! cover, each tier its own real process: the internal listeners' security, failure and recovery
//! of a tier, and the request id across tiers. The account scenarios themselves run against the
//! layered controller in `accounts.rs`.

#[path = "layered/dev.rs"]
mod dev;
#[path = "layered/failure.rs"]
mod failure;
#[path = "layered/jobs.rs"]
mod jobs;
#[path = "layered/one_binary.rs"]
mod one_binary;
#[path = "layered/ops.rs"]
mod ops;
#[path = "layered/plugins.rs"]
mod plugins;
#[path = "layered/security.rs"]
mod security;
#[path = "layered/traces.rs"]
mod traces;

use std::sync::Arc;
use std::time::Duration;

use arcana_adapter_grpc_client::{GrpcTransport, TlsMaterial};
use arcana_adapter_http_client::HttpTransport;
use arcana_adapter_internal::Transport;
use arcana_tests::layered::{
    Binaries, REPOSITORY_CREDENTIAL, SERVICE_CREDENTIAL, Stack, Transport as Link,
};
use arcana_tests::{TempFile, TestApp};

pub const BINS: Binaries = Binaries {
    arcana: env!("CARGO_BIN_EXE_arcana"),
    controller: env!("CARGO_BIN_EXE_arcana-controller"),
    service: env!("CARGO_BIN_EXE_arcana-service"),
    repository: env!("CARGO_BIN_EXE_arcana-repository"),
};

pub const PASSWORD: &str = "a-long-enough-password";

/// A stack on a fresh SQLite file (removed with the returned guard).
pub async fn stack(link: Link, env: &[(&str, &str)]) -> (Stack, TempFile) {
    let file = TempFile::new("arcana-layered");
    let stack = Stack::start(BINS, link, &file.sqlite_url(), env).await;
    (stack, file)
}

/// A raw link into `stack`'s `callee` tier as tier `from` would open it (its certificate; on HTTP
/// the service link's credential), for calls the remote adapters would never make.
pub fn raw_link(stack: &Stack, from: &str, callee: &'static str, url: &str) -> Arc<dyn Transport> {
    let (ca, cert, key) = stack.pem(from);
    let timeout = Duration::from_secs(10);
    match stack.transport {
        Link::Grpc => Arc::new(
            GrpcTransport::connect_lazy(
                url,
                callee,
                &TlsMaterial::from_pem(&ca, &cert, &key),
                timeout,
            )
            .expect("a gRPC link"),
        ),
        Link::Http => {
            let credential = if callee == "repository" {
                REPOSITORY_CREDENTIAL
            } else {
                SERVICE_CREDENTIAL
            };
            Arc::new(
                HttpTransport::new(url, callee, &ca, credential, timeout).expect("an HTTP link"),
            )
        }
    }
}

/// Polls `probe` every 100 ms until it holds, for at most `bound`.
pub async fn eventually<F, Fut>(bound: Duration, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + bound;
    while !probe().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Registers `username` and reports the status (201, or what the stack answered instead).
pub async fn register_status(app: &TestApp, username: &str) -> u16 {
    let body = serde_json::json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
    });
    app.post("/api/v1/auth/register", None, &body)
        .await
        .status()
        .as_u16()
}
