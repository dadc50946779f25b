//! Arcana's public gRPC API (tonic): `arcana.auth.v1.AuthService` and
//! `arcana.user.v1.UserService`, `arcana.jobs.v1.JobsService` and `arcana.plugins.v1.PluginService` over the driving ports, the standard `grpc.health.v1.Health`
//! and server reflection, and gRPC-Web on the same port.
//!
//! Like the REST adapter, the crate knows the use-case traits of `arcana-ports` and the domain
//! types, never the application: it only authenticates (one bearer extractor) and translates
//! (one exhaustive error mapping); every authorization decision is made behind the ports, so the
//! two protocols cannot disagree. Bootstrap binds the listener and calls [`serve`].

mod auth;
mod convert;
mod errors;
mod extract;
mod health;
mod jobs;
mod jobs_convert;
mod limits;
mod metrics;
mod observe;
mod plugins;
pub mod proto;
#[cfg(test)]
mod tests;
mod users;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arcana_ports::health::HealthCheck;
use arcana_ports::usecases::{AuthUseCases, JobsUseCases, PluginUseCases, UserUseCases};
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_reflection::server::{v1, v1alpha};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use limits::GrpcLimits;
pub use metrics::GrpcMetrics;

use crate::proto::auth::v1::auth_service_server::AuthServiceServer;
use crate::proto::jobs::v1::jobs_service_server::JobsServiceServer;
use crate::proto::plugins::v1::plugin_service_server::PluginServiceServer;
use crate::proto::user::v1::user_service_server::UserServiceServer;

/// An upload carries a whole module, far above the API's usual message limit.
const PLUGIN_UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// The ports the services call, and where they report.
pub struct GrpcState {
    pub auth: Arc<dyn AuthUseCases>,
    pub users: Arc<dyn UserUseCases>,
    /// Operating the job queue (admin role, checked behind the port); `None` where the
    /// deployment does not offer it, and then `arcana.jobs.v1` is not served (UNIMPLEMENTED).
    pub jobs: Option<Arc<dyn JobsUseCases>>,
    /// Plugin administration; `None` where the plugin host does not run, and then
    /// `arcana.plugins.v1` is not served (UNIMPLEMENTED).
    pub plugins: Option<Arc<dyn PluginUseCases>>,
    /// The same readiness checks as REST's `/health/ready`.
    pub health: Vec<Arc<dyn HealthCheck>>,
    pub metrics: GrpcMetrics,
    /// Inbound rate limits; `None` switches them off.
    pub limits: Option<GrpcLimits>,
}

#[derive(Debug, Clone)]
pub struct GrpcConfig {
    /// Slots of calls served at once, shared with the REST listener; past them, `UNAVAILABLE`
    /// at once (load shedding). `None`: no bound.
    pub in_flight: Option<Arc<tokio::sync::Semaphore>>,
    /// Serve `grpc.reflection.v1` (and `v1alpha`, which older tools ask for).
    pub reflection_enabled: bool,
    /// Largest request message decoded; larger ones are refused before decoding.
    pub max_message_bytes: usize,
    /// Calls still running after this end with `CANCELLED`.
    pub request_timeout: Duration,
    /// Browser origins allowed to call through gRPC-Web; the same list as REST's.
    pub cors_allowed_origins: Vec<String>,
    /// How often the health service re-runs the readiness checks.
    pub health_poll_interval: Duration,
}

/// Serves the API on `listener` until `shutdown` resolves, then lets in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    state: GrpcState,
    config: &GrpcConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let follower =
        health::follow_readiness(reporter, state.health, config.health_poll_interval).await;
    let api = api_routes(
        state.auth,
        state.users,
        state.jobs,
        state.plugins,
        config.max_message_bytes,
    );
    let (reflection, reflection_alpha) = reflection_services(config.reflection_enabled)?;
    let shed = state.metrics.shed.clone();
    let outcome = Server::builder()
        // gRPC-Web arrives over HTTP/1.1.
        .accept_http1(true)
        .timeout(config.request_timeout)
        .layer(observe::ObserveLayer {
            metrics: state.metrics,
        })
        .layer(cors(&config.cors_allowed_origins))
        .layer(tower::util::option_layer(config.in_flight.clone().map(
            |in_flight| limits::ShedLayer {
                in_flight,
                shed: shed.clone(),
            },
        )))
        .layer(tower::util::option_layer(
            state.limits.map(limits::LimitLayer),
        ))
        .layer(tonic_web::GrpcWebLayer::new())
        .add_routes(api)
        .add_service(health_service)
        .add_optional_service(reflection)
        .add_optional_service(reflection_alpha)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
        .context("serving gRPC");
    follower.abort();
    outcome
}

/// The public API's services, each refusing messages past `limit` before decoding (plugin
/// uploads have their own, larger limit).
fn api_routes(
    auth: Arc<dyn AuthUseCases>,
    users: Arc<dyn UserUseCases>,
    jobs: Option<Arc<dyn JobsUseCases>>,
    plugins: Option<Arc<dyn PluginUseCases>>,
    limit: usize,
) -> Routes {
    let mut routes = RoutesBuilder::default();
    routes
        .add_service(
            AuthServiceServer::new(auth::GrpcAuthService { auth: auth.clone() })
                .max_decoding_message_size(limit),
        )
        .add_service(
            UserServiceServer::new(users::GrpcUserService {
                auth: auth.clone(),
                users,
            })
            .max_decoding_message_size(limit),
        );
    if let Some(jobs) = jobs {
        routes.add_service(
            JobsServiceServer::new(jobs::GrpcJobsService {
                auth: auth.clone(),
                jobs,
            })
            .max_decoding_message_size(limit),
        );
    }
    if let Some(plugins) = plugins {
        routes.add_service(
            PluginServiceServer::new(plugins::GrpcPluginService { auth, plugins })
                .max_decoding_message_size(limit.max(PLUGIN_UPLOAD_LIMIT)),
        );
    }
    routes.routes()
}

/// Both reflection versions when enabled (older tools only ask for `v1alpha`).
#[allow(clippy::type_complexity)]
fn reflection_services(
    enabled: bool,
) -> anyhow::Result<(
    Option<v1::ServerReflectionServer<impl v1::ServerReflection>>,
    Option<v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>>,
)> {
    if !enabled {
        return Ok((None, None));
    }
    let v1 = reflection()
        .build_v1()
        .context("building gRPC reflection")?;
    let v1alpha = reflection()
        .build_v1alpha()
        .context("building gRPC reflection (v1alpha)")?;
    Ok((Some(v1), Some(v1alpha)))
}

/// Reflection over every proto this server answers, health included.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// CORS for gRPC-Web from the allow-list; an empty list allows no origin (no CORS headers).
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| {
            HeaderValue::from_str(origin)
                .inspect_err(|_| tracing::warn!(origin, "ignoring an invalid CORS origin"))
                .ok()
        })
        .collect();
    let header = HeaderName::from_static;
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([
            header("authorization"),
            header("content-type"),
            header("x-grpc-web"),
            header("x-user-agent"),
            header("grpc-timeout"),
            observe::X_REQUEST_ID,
        ])
        .expose_headers([
            header("grpc-status"),
            header("grpc-message"),
            header("grpc-status-details-bin"),
            observe::X_REQUEST_ID,
        ])
        // Browsers may reuse a preflight answer this long instead of repeating it per call.
        .max_age(Duration::from_mins(10))
}
