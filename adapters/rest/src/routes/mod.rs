//! The routes of the API, gathered with their OpenAPI descriptions.

mod audit;
mod auth;
mod jobs;
pub(crate) mod plugins;
mod users;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::{health, metrics};

/// Every documented route. Used both to serve and to produce the document, so the two cannot
/// drift apart. The job admin routes exist only where the deployment offers the job port.
pub(crate) fn api_router(with_jobs: bool, with_plugins: bool) -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .routes(utoipa_axum::routes!(metrics::render))
        .merge(auth::router())
        .merge(users::router())
        .merge(audit::router());
    let api = if with_jobs {
        api.merge(jobs::router())
    } else {
        api
    };
    if with_plugins {
        api.merge(plugins::router())
            .merge(OpenApiRouter::with_openapi(plugins::ExtensionDoc::openapi()))
    } else {
        api
    }
}

/// Fallback for paths no route matches.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("No resource at this path.")
}
