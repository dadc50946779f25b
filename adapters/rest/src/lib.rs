//! Arcana's public REST API: axum routes over the driving ports, problem+json errors, OpenAPI,
//! Prometheus metrics.
//!
//! The crate knows the use-case traits of `arcana-ports` and the domain types, never the
//! application: whatever implements the ports (the in-process services, or a remote tier's client)
//! can be served. Bootstrap calls [`router`] and serves it with
//! `into_make_service_with_connect_info::<SocketAddr>()`, which is where client addresses come from.

mod dto;
mod edge;
mod errors;
mod extract;
mod health;
mod limits;
mod metrics;
mod middleware;
mod openapi;
mod ops;
mod problem;
mod routes;
mod state;
#[cfg(test)]
mod tests;

use axum::Router;
use utoipa_swagger_ui::SwaggerUi;

pub use metrics::HttpMetrics;
pub use ops::ops_router;
pub use state::{PluginsApi, RestConfig, RestState};

/// Where the generated document is served, and what Swagger UI loads.
const OPENAPI_JSON_PATH: &str = "/api-docs/openapi.json";
const SWAGGER_UI_PATH: &str = "/swagger-ui";

/// The complete public API, ready to serve: every route, the 404 fallback and all middleware.
///
/// `/metrics` renders `registry`, which should be the process-wide registry that
/// [`HttpMetrics::register`] (and every other collector) was registered with.
pub fn router(state: RestState, config: &RestConfig, registry: prometheus::Registry) -> Router {
    let metrics = state.metrics.clone();
    let with_jobs = state.jobs.is_some();
    let plugins = state.plugins.clone();
    let app_state = state::AppState::new(state, registry, config.trust_forwarded_for);
    let limits = app_state.limits.clone();
    let (mut api, mut document) =
        routes::api_router(with_jobs, plugins.is_some()).split_for_parts();
    openapi::declare_inbound_refusals(&mut document);
    openapi::declare_cross_field_rules(&mut document);
    if plugins.is_some() {
        // Any method, any depth: what is under the prefix is the plugin's to route.
        api = api.route(
            "/api/v1/ext/{plugin}/{*path}",
            axum::routing::any(routes::plugins::extension),
        );
    }
    let mut app = api.with_state(app_state).fallback(routes::not_found);
    if config.openapi_enabled {
        app = app.merge(SwaggerUi::new(SWAGGER_UI_PATH).url(OPENAPI_JSON_PATH, document));
    }
    middleware::apply(app, config, metrics, limits, plugins.map(|p| p.host))
}

/// The OpenAPI 3.1 document of every route, exactly as served at `/api-docs/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = routes::api_router(true, true).into_openapi();
    openapi::declare_inbound_refusals(&mut document);
    openapi::declare_cross_field_rules(&mut document);
    document
}
