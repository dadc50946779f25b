//! `/api/v1/users/*`: user management. Who may do what (the rank rule) is decided behind the
//! port, so REST and gRPC cannot disagree; this module only translates.

use arcana_ports::usecases::UserView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::ETAG;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::users::{
    CreateUserRequest, ListUsersQuery, SetRoleRequest, SetStatusRequest, UpdateUserRequest,
    UserDto, UserListDto,
};
use crate::extract::{ApiJson, ApiQuery, Authenticated, IfMatch, etag, user_id};
use crate::openapi::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized,
    Unavailable, UnsupportedMediaType, ValidationFailed,
};
use crate::problem::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(set_role))
        .routes(routes!(set_status))
}

/// One user, with its version as `ETag` so that a client can make its next write conditional.
fn single(status: StatusCode, user: &UserView) -> Response {
    (
        status,
        [(ETAG, etag(user.version()))],
        Json(UserDto::from(user)),
    )
        .into_response()
}

/// Lists users, newest first, with keyset pagination. Moderator or above.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, description = "A page of users", body = UserListDto),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<Json<UserListDto>, ApiError> {
    let page = state.ports.users.list(&actor, query.into()).await?;
    Ok(Json(page.into()))
}

/// Creates a user with a role the caller may grant. Admin or above.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserDto,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn create(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let user = state.ports.users.create(&actor, body.into()).await?;
    Ok(single(StatusCode::CREATED, &user))
}

/// One user: the caller itself, or anyone for a moderator or above.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserDto,
            headers(("ETag" = String, description = "Version, for If-Match"))),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = state.ports.users.get(&actor, user_id(&id)?).await?;
    Ok(single(StatusCode::OK, &user))
}

/// Partial profile update by the user itself or an admin of higher rank. With
/// `If-Match: "<version>"` it applies only if nobody changed the user meanwhile (else 409).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` (quoted version) the update is based on, or `*`",
            nullable = false, pattern = r#"^\s*(\*|(W/)?("\+?[0-9]{1,19}"|\+?[0-9]{1,19}))\s*$"#),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = UserDto,
            headers(("ETag" = String, description = "New version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn update(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    IfMatch(expected_version): IfMatch,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<Response, ApiError> {
    let id = user_id(&id)?;
    let user = state
        .ports
        .users
        .update(&actor, id, body.into_command(expected_version))
        .await?;
    Ok(single(StatusCode::OK, &user))
}

/// Soft-deletes a user of lower rank and ends its sessions. Admin or above.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn delete(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.ports.users.delete(&actor, user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the role of a user of lower rank, to a role the caller may grant. Admin or above.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/role",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "User id")),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "Updated", body = UserDto,
            headers(("ETag" = String, description = "New version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn set_role(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetRoleRequest>,
) -> Result<Response, ApiError> {
    let user = state
        .ports
        .users
        .set_role(&actor, user_id(&id)?, &body.role)
        .await?;
    Ok(single(StatusCode::OK, &user))
}

/// Suspends, locks or reactivates a user of lower rank, with a reason for the audit log.
/// Suspending or locking ends every session of the user. Admin or above.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/status",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "User id")),
    request_body = SetStatusRequest,
    responses(
        (status = 200, description = "Updated", body = UserDto,
            headers(("ETag" = String, description = "New version"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn set_status(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetStatusRequest>,
) -> Result<Response, ApiError> {
    let user = state
        .ports
        .users
        .set_status(&actor, user_id(&id)?, &body.status, body.reason)
        .await?;
    Ok(single(StatusCode::OK, &user))
}
