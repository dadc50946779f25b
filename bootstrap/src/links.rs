//! The layered modes' links: this tier's TLS material, the transport to the next tier (gRPC
//! with mutual TLS, or HTTP/JSON with TLS and a service credential), and the internal listener
//! through which the tier above reaches this one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use arcana_adapter_grpc_client::{GrpcTransport, InternalListener, TlsMaterial};
use arcana_adapter_http_client::{HttpTransport, InternalHttpListener};
use arcana_adapter_internal::Transport;
use arcana_adapter_internal::server::InternalApi;
use arcana_adapter_resilience::ResilienceMetrics;
use arcana_ports::health::HealthCheck;
use tokio::net::TcpListener;

use crate::config::{Mode, Secret, Settings, Tier};
use crate::resilience;
use crate::shutdown::Shutdown;
use crate::storage::Storage;

/// The PEM files of `tls.*`: the deployment's CA, this tier's certificate and key.
struct Pem {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn pem(settings: &Settings) -> anyhow::Result<Pem> {
    let tls = &settings.tls;
    let (Some(ca), Some(cert), Some(key)) = (&tls.ca_file, &tls.cert_file, &tls.key_file) else {
        bail!(
            "mode = {} needs tls.ca_file, tls.cert_file and tls.key_file \
             (`arcana tls init --out DIR` writes development ones)",
            settings.mode.as_str()
        );
    };
    let read =
        |path: &PathBuf| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    Ok(Pem {
        ca: read(ca)?,
        cert: read(cert)?,
        key: read(key)?,
    })
}

fn grpc_tls(pem: &Pem) -> TlsMaterial {
    TlsMaterial::from_pem(&pem.ca, &pem.cert, &pem.key)
}

/// The shared secret of the HTTP link into `callee`.
fn credential(settings: &Settings, callee: Tier) -> anyhow::Result<&Secret> {
    let tiers = &settings.tiers;
    let (key, value) = match callee {
        Tier::Repository => ("repository_credential", &tiers.repository_credential),
        Tier::Service | Tier::Controller => ("service_credential", &tiers.service_credential),
    };
    value
        .as_ref()
        .with_context(|| format!("mode = layered-http needs tiers.{key}"))
}

/// What a tier's readiness depends on, by the names its health service reports.
fn downstream(tier: Tier) -> &'static [&'static str] {
    match tier {
        Tier::Service => &["repository"],
        Tier::Repository => &["database"],
        Tier::Controller => &["service"],
    }
}

/// A link to `callee` at `url`, and that tier's readiness check.
fn link(
    settings: &Settings,
    url: Option<&String>,
    key: &str,
    callee: Tier,
) -> anyhow::Result<(Arc<dyn Transport>, Arc<dyn HealthCheck>)> {
    let mode = settings.mode.as_str();
    let url = url.with_context(|| format!("mode = {mode} needs tiers.{key}"))?;
    let timeout = Duration::from_millis(settings.tiers.timeout_ms);
    let tier = callee.as_str();
    match settings.mode {
        Mode::LayeredGrpc => {
            let transport =
                GrpcTransport::connect_lazy(url, tier, &grpc_tls(&pem(settings)?), timeout)?;
            let health: Arc<dyn HealthCheck> = Arc::new(transport.health(downstream(callee)));
            Ok((Arc::new(transport), health))
        }
        Mode::LayeredHttp => {
            let secret = credential(settings, callee)?;
            let transport =
                HttpTransport::new(url, tier, &pem(settings)?.ca, secret.expose(), timeout)?;
            let health: Arc<dyn HealthCheck> = Arc::new(transport.health());
            Ok((Arc::new(transport), health))
        }
        Mode::Monolith => bail!("the monolith has no next tier; set a layered mode"),
    }
}

/// The repository tier's storage, for the service tier and `arcana-worker`.
pub(crate) fn repository(settings: &Settings) -> anyhow::Result<Storage> {
    let url = settings.tiers.repository_url.as_ref();
    let (transport, health) = link(settings, url, "repository_url", Tier::Repository)?;
    Ok(Storage::remote(&transport, health))
}

/// The service tier, for the controller, behind the guard of `resilience.service`.
pub(crate) fn service(
    settings: &Settings,
    metrics: &ResilienceMetrics,
) -> anyhow::Result<(Arc<dyn Transport>, Arc<dyn HealthCheck>)> {
    let (transport, health) = link(
        settings,
        settings.tiers.service_url.as_ref(),
        "service_url",
        Tier::Service,
    )?;
    let guard = resilience::guard("service", &settings.resilience.service, metrics);
    Ok(resilience::link(transport, health, guard))
}

/// Binds `server.internal.port` and prints `arcana: <tier> internal listening on https://…`.
pub(crate) async fn bind_internal(settings: &Settings, tier: Tier) -> anyhow::Result<TcpListener> {
    let host = settings.server.host.as_str();
    let port = settings.server.internal.port;
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port} for the internal listener"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, tier = tier.as_str(), "internal listener ready");
    println!(
        "arcana: {} internal listening on https://{addr}",
        tier.as_str()
    );
    Ok(listener)
}

/// Serves `api` of tier `served` on the internal listener to `caller` only, until shutdown and
/// drain (bounded by the shutdown grace).
pub(crate) async fn serve_internal(
    settings: &Settings,
    listener: TcpListener,
    api: Arc<dyn InternalApi>,
    (caller, served): (Tier, Tier),
    health: Vec<Arc<dyn HealthCheck>>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let internal = &settings.server.internal;
    let request_timeout = Duration::from_secs(internal.request_timeout_secs);
    let pem = pem(settings)?;
    let served = async {
        match settings.mode {
            Mode::LayeredHttp => {
                let config = InternalHttpListener {
                    api,
                    credential: credential(settings, served)?.expose().to_owned(),
                    cert_pem: pem.cert,
                    key_pem: pem.key,
                    health,
                    request_timeout,
                };
                arcana_adapter_http_client::serve(listener, config, shutdown.requested()).await
            }
            Mode::LayeredGrpc | Mode::Monolith => {
                let config = InternalListener {
                    api,
                    caller: caller.as_str(),
                    tls: grpc_tls(&pem),
                    health,
                    health_interval: Duration::from_millis(internal.health_poll_interval_ms),
                    request_timeout,
                };
                arcana_adapter_grpc_client::serve(listener, config, shutdown.requested()).await
            }
        }
    };
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    tokio::select! {
        outcome = served => outcome,
        () = shutdown.deadline(grace) => {
            tracing::warn!(?grace, "internal calls still running after the shutdown grace; exiting anyway");
            Ok(())
        }
    }
}
