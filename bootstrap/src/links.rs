//! The layered modes' links: this tier's TLS material, the transport to the next tier, and the
//! internal listener through which the tier above reaches this one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use arcana_adapter_grpc_client::{GrpcTransport, InternalListener, TlsMaterial};
use arcana_adapter_internal::Transport;
use arcana_adapter_internal::server::InternalApi;
use arcana_ports::health::HealthCheck;
use tokio::net::TcpListener;

use crate::config::{Mode, Settings, Tier};
use crate::shutdown::Shutdown;
use crate::storage::Storage;

/// This tier's certificate and key and the deployment's CA, from `tls.*`.
pub fn tls(settings: &Settings) -> anyhow::Result<TlsMaterial> {
    let tls = &settings.tls;
    let (Some(ca), Some(cert), Some(key)) = (&tls.ca_file, &tls.cert_file, &tls.key_file) else {
        bail!(
            "mode = {} needs tls.ca_file, tls.cert_file and tls.key_file \
             (`arcana tls init --out DIR` writes development ones)",
            settings.mode.as_str()
        );
    };
    TlsMaterial::load(ca, cert, key).context("loading the internal TLS material")
}

/// A link to `tier` at `url`, and that tier's readiness check.
fn link(
    settings: &Settings,
    url: Option<&String>,
    key: &str,
    tier: Tier,
) -> anyhow::Result<(Arc<dyn Transport>, Arc<dyn HealthCheck>)> {
    let url =
        url.with_context(|| format!("mode = {} needs tiers.{key}", settings.mode.as_str()))?;
    let timeout = Duration::from_millis(settings.tiers.timeout_ms);
    match settings.mode {
        Mode::LayeredGrpc => {
            let transport =
                GrpcTransport::connect_lazy(url, tier.as_str(), &tls(settings)?, timeout)?;
            let health: Arc<dyn HealthCheck> = Arc::new(transport.health());
            Ok((Arc::new(transport), health))
        }
        Mode::LayeredHttp => bail!("mode = layered-http is not available in this build yet"),
        Mode::Monolith => bail!("the monolith has no next tier; set mode = layered-grpc"),
    }
}

/// The repository tier's storage, for the service tier and `arcana-worker`.
pub fn repository(settings: &Settings) -> anyhow::Result<Storage> {
    let (transport, health) = link(
        settings,
        settings.tiers.repository_url.as_ref(),
        "repository_url",
        Tier::Repository,
    )?;
    Ok(Storage::remote(&transport, health))
}

/// The service tier, for the controller.
pub fn service(settings: &Settings) -> anyhow::Result<(Arc<dyn Transport>, Arc<dyn HealthCheck>)> {
    link(
        settings,
        settings.tiers.service_url.as_ref(),
        "service_url",
        Tier::Service,
    )
}

/// Binds `server.internal.port` and prints `arcana: <tier> internal listening on https://…`.
pub async fn bind_internal(settings: &Settings, tier: Tier) -> anyhow::Result<TcpListener> {
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

/// Serves `api` on the internal listener to `caller` only, until shutdown and drain (bounded
/// by the shutdown grace).
pub async fn serve_internal(
    settings: &Settings,
    listener: TcpListener,
    api: Arc<dyn InternalApi>,
    caller: Tier,
    health: Vec<Arc<dyn HealthCheck>>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let internal = &settings.server.internal;
    let config = InternalListener {
        api,
        caller: caller.as_str(),
        tls: tls(settings)?,
        health,
        health_interval: Duration::from_millis(internal.health_poll_interval_ms),
        request_timeout: Duration::from_secs(internal.request_timeout_secs),
    };
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    tokio::select! {
        outcome = arcana_adapter_grpc_client::serve(listener, config, shutdown.requested()) => outcome,
        () = shutdown.deadline(grace) => {
            tracing::warn!(?grace, "internal calls still running after the shutdown grace; exiting anyway");
            Ok(())
        }
    }
}
