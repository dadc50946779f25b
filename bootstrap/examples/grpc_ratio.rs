//! Loopback throughput of Arcana's gRPC `ValidateToken` and `Health/Check` as ratios to a bare
//! tonic server answering the same RPCs (SPEC §15), measured in one run.
//!
//! `cargo build --release -p arcana-bootstrap --bin arcana --example grpc_ratio`, then
//! `target/release/examples/grpc_ratio [path/to/arcana]` (default: the `arcana` next to the
//! `examples` folder). The bare server is this program re-run as `grpc_ratio bare`, so that each
//! server has its own process and runtime, like Arcana. Arcana runs on the memory backend with
//! its default layers (request ids, metrics, CORS, gRPC-Web); the bare server has none and
//! answers `ValidateToken` with a constant, so the ratio prices everything Arcana does per call
//! (JWT verification, deny list, session and account lookups, the layers).

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arcana_adapter_grpc::proto::auth::v1 as pb;
use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;
use arcana_adapter_grpc::proto::auth::v1::auth_service_server::{AuthService, AuthServiceServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
/// Calls in flight at once, spread over a few HTTP/2 connections.
const CONCURRENCY: usize = 64;
const CONNECTIONS: usize = 4;
const ROOT_PASSWORD: &str = "root-password-for-the-benchmark";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("bare") {
        return serve_bare().await;
    }
    let arcana = first.map_or_else(default_arcana, std::path::PathBuf::from);
    let (_arcana, arcana_url) =
        spawn(Command::new(&arcana).arg("serve").envs(arcana_env())).await?;
    let myself = std::env::current_exe()?;
    let (_bare, bare_url) = spawn(Command::new(myself).arg("bare")).await?;

    let arcana = connections(&arcana_url).await?;
    let bare = connections(&bare_url).await?;
    let token = root_token(arcana[0].clone()).await?;

    println!(
        "gRPC on loopback, {CONCURRENCY} calls in flight over {CONNECTIONS} connections, \
         {MEASURE:?} per measurement, Arcana and bare alternated A-B-B-A"
    );
    // Alternating cancels most of the drift (CPU frequency, the other process's warm-up).
    let validate_rates = [
        validate(&arcana, &token).await,
        validate(&bare, &token).await,
        validate(&bare, &token).await,
        validate(&arcana, &token).await,
    ];
    let health_rates = [
        health(&arcana).await,
        health(&bare).await,
        health(&bare).await,
        health(&arcana).await,
    ];
    for (name, [a1, b1, b2, a2]) in [
        ("ValidateToken", validate_rates),
        ("Health/Check", health_rates),
    ] {
        let (arcana_rate, bare_rate) = (f64::midpoint(a1, a2), f64::midpoint(b1, b2));
        println!(
            "{name:<14} arcana {arcana_rate:>9.0}/s   bare tonic {bare_rate:>9.0}/s   ratio {:.2}",
            arcana_rate / bare_rate
        );
    }
    Ok(())
}

fn default_arcana() -> std::path::PathBuf {
    let me = std::env::current_exe().expect("own path");
    me.parent()
        .and_then(std::path::Path::parent)
        .map(|dir| dir.join("arcana"))
        .expect("a target directory")
}

fn arcana_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ARCANA_CONFIG_DIR", "/nonexistent/arcana-bench-config"),
        ("ARCANA_SERVER__REST__PORT", "0"),
        ("ARCANA_SERVER__GRPC__PORT", "0"),
        ("ARCANA_DATABASE__URL", "memory:"),
        (
            "ARCANA_SECURITY__JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-01",
        ),
        ("ARCANA_BOOTSTRAP_ADMIN__USERNAME", "root"),
        ("ARCANA_BOOTSTRAP_ADMIN__EMAIL", "root@example.com"),
        ("ARCANA_BOOTSTRAP_ADMIN__PASSWORD", ROOT_PASSWORD),
        ("ARCANA_OBSERVABILITY__LOG_LEVEL", "warn"),
    ]
}

/// Starts a server and returns it with the gRPC URL it prints.
async fn spawn(command: &mut Command) -> anyhow::Result<(Child, String)> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(url) = line.strip_prefix("arcana: gRPC listening on ") {
            let url = url.to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok((child, url));
        }
    }
    anyhow::bail!("the server exited before listening")
}

async fn connections(url: &str) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        channels.push(Endpoint::from_shared(url.to_owned())?.connect().await?);
    }
    Ok(channels)
}

async fn root_token(channel: Channel) -> anyhow::Result<String> {
    let login = pb::LoginRequest {
        username_or_email: "root".into(),
        password: ROOT_PASSWORD.into(),
    };
    Ok(AuthServiceClient::new(channel)
        .login(login)
        .await?
        .into_inner()
        .access_token)
}

async fn validate(channels: &[Channel], token: &str) -> f64 {
    let token = token.to_owned();
    rate(channels, move |channel| {
        let request = pb::ValidateTokenRequest {
            access_token: token.clone(),
        };
        async move {
            let answer = AuthServiceClient::new(channel)
                .validate_token(request)
                .await;
            answer.is_ok_and(|answer| answer.into_inner().valid)
        }
    })
    .await
}

async fn health(channels: &[Channel]) -> f64 {
    rate(channels, |channel| async move {
        let request = HealthCheckRequest {
            service: String::new(),
        };
        HealthClient::new(channel).check(request).await.is_ok()
    })
    .await
}

/// Successful calls per second over `MEASURE`, after `WARM_UP`, with `CONCURRENCY` callers.
async fn rate<F, Fut>(channels: &[Channel], call: F) -> f64
where
    F: Fn(Channel) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let (measure_from, measure_until) = (started + WARM_UP, started + WARM_UP + MEASURE);
    let counted = Arc::new(AtomicU64::new(0));
    let mut callers = tokio::task::JoinSet::new();
    for index in 0..CONCURRENCY {
        let (channel, call, counted) = (
            channels[index % channels.len()].clone(),
            call.clone(),
            counted.clone(),
        );
        callers.spawn(async move {
            loop {
                let ok = call(channel.clone()).await;
                let now = Instant::now();
                if now >= measure_until {
                    break;
                }
                if ok && now >= measure_from {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while callers.join_next().await.is_some() {}
    #[expect(clippy::cast_precision_loss, reason = "call counts are far below 2^52")]
    let calls = counted.load(Ordering::Relaxed) as f64;
    calls / MEASURE.as_secs_f64()
}

/// The baseline: tonic with no layers, answering `ValidateToken` with a constant and serving
/// the stock health service.
async fn serve_bare() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "arcana: gRPC listening on http://{}",
        listener.local_addr()?
    );
    let (_reporter, health) = tonic_health::server::health_reporter();
    Server::builder()
        .add_service(AuthServiceServer::new(Bare))
        .add_service(health)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await?;
    Ok(())
}

struct Bare;

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented(
        "the baseline answers ValidateToken only",
    ))
}

#[tonic::async_trait]
impl AuthService for Bare {
    async fn validate_token(
        &self,
        _request: Request<pb::ValidateTokenRequest>,
    ) -> Result<Response<pb::ValidateTokenResponse>, Status> {
        Ok(Response::new(pb::ValidateTokenResponse {
            valid: true,
            ..pb::ValidateTokenResponse::default()
        }))
    }
    async fn register(
        &self,
        _: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        unimplemented()
    }
    async fn login(
        &self,
        _: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        unimplemented()
    }
    async fn refresh(
        &self,
        _: Request<pb::RefreshRequest>,
    ) -> Result<Response<pb::RefreshResponse>, Status> {
        unimplemented()
    }
    async fn logout(
        &self,
        _: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        unimplemented()
    }
    async fn me(&self, _: Request<pb::MeRequest>) -> Result<Response<pb::MeResponse>, Status> {
        unimplemented()
    }
    async fn list_sessions(
        &self,
        _: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        unimplemented()
    }
    async fn revoke_session(
        &self,
        _: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        unimplemented()
    }
    async fn change_password(
        &self,
        _: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        unimplemented()
    }
}
