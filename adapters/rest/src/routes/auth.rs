//! `/api/v1/auth/*`: registration, sign-in, token rotation and the caller's own sessions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::auth::{
    ChangePasswordRequest, LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest,
    SessionDto, SessionListDto, TokenResponse,
};
use crate::dto::users::UserDto;
use crate::extract::{ApiJson, Authenticated, Client, session_id};
use crate::openapi::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, TooManyRequests,
    Unauthorized, Unavailable, UnsupportedMediaType, ValidationFailed,
};
use crate::problem::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(change_password))
}

/// Open registration: creates a `user` account and signs it in.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn register(
    State(state): State<AppState>,
    Client(client, request): Client,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let session = state
        .ports
        .auth
        .register(body.into_command(client, request))
        .await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}

/// Signs in by username or email. Unknown accounts and wrong passwords are indistinguishable.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 429, response = TooManyRequests),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn login(
    State(state): State<AppState>,
    Client(client, request): Client,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let session = state
        .ports
        .auth
        .login(body.into_command(client, request))
        .await?;
    Ok(Json(session.into()))
}

/// Rotates a refresh token: the presented one stops working and a new pair is returned.
/// Presenting an already rotated token revokes the whole session (`refresh_token_reused`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    Client(client, request): Client,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let session = state
        .ports
        .auth
        .refresh(&body.refresh_token, client, request)
        .await?;
    Ok(Json(session.into()))
}

/// Ends this session (its access token fails at once), or every session with
/// `{"all_sessions": true}`. The body is optional.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    request_body(content = Option<LogoutRequest>, content_type = "application/json"),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn logout(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    body: Option<ApiJson<Option<LogoutRequest>>>,
) -> Result<StatusCode, ApiError> {
    // No body, and a JSON `null` body, both mean the defaults.
    let body = body.and_then(|ApiJson(body)| body).unwrap_or_default();
    state
        .ports
        .auth
        .logout(&principal, body.all_sessions.unwrap_or(false))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto),
        (status = 401, response = Unauthorized),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn me(Authenticated(principal): Authenticated) -> Json<UserDto> {
    Json(UserDto::from(&principal.user))
}

/// The caller's live sessions; `current` marks the one making this request.
#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = SessionListDto),
        (status = 401, response = Unauthorized),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn list_sessions(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<SessionListDto>, ApiError> {
    let sessions = state.ports.auth.list_sessions(&principal).await?;
    let items = sessions
        .into_iter()
        .map(|session| SessionDto::new(session, principal.session_id))
        .collect();
    Ok(Json(SessionListDto { items }))
}

/// Ends one of the caller's sessions. Another user's session id is simply not found.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/sessions/{id}",
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Session id")),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn revoke_session(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&id)?;
    state.ports.auth.revoke_session(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the password after checking the current one; every other session is revoked.
#[utoipa::path(
    put,
    path = "/api/v1/auth/password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = Unavailable),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .ports
        .auth
        .change_password(&principal, body.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
