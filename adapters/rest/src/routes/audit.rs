//! `/api/v1/audit`: reading the audit log (admin or above).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::audit::{AuditPageDto, AuditQuery};
use crate::extract::{ApiQuery, Authenticated};
use crate::openapi::{Forbidden, InternalError, Unauthorized, Unavailable, ValidationFailed};
use crate::problem::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(query))
}

/// Audit entries, newest first, filtered by actor, subject and action. Admin or above.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPageDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn query(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPageDto>, ApiError> {
    let page = state.ports.audit.query(&actor, query.into()).await?;
    Ok(Json(page.into()))
}
