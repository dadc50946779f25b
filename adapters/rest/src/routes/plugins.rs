//! `/api/v1/plugins` (administration, admin or above) and `/api/v1/ext/{plugin}/…` (the routes
//! plugins serve).

use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::{HttpHead, PluginError, RouteRequest};
use arcana_ports::usecases::Principal;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::plugins::{PluginDto, PluginListDto, PluginUploadDto};
use crate::extract::{ApiJson, Authenticated};
use crate::openapi::{Forbidden, NotFound, Unauthorized, ValidationFailed};
use crate::problem::ApiError;
use crate::state::AppState;

/// Uploads carry a whole module (base64), far above the API's usual body limit.
const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(install, remove))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

type Result<T> = std::result::Result<T, ApiError>;

/// Every plugin with its state, version, checksum, counters and last error. Admin or above.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = PluginListDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden)))]
async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<PluginListDto>> {
    let items = state.plugins()?.admin.list(&actor).await?;
    Ok(Json(PluginListDto {
        items: items.into_iter().map(PluginDto::from).collect(),
    }))
}

/// Starts calling a plugin again; lifts a quarantine. Admin or above.
#[utoipa::path(post, path = "/api/v1/plugins/{name}/enable", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name", pattern = "^[a-z][a-z0-9-]{0,31}$")),
    responses((status = 200, body = PluginDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed)))]
async fn enable(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<PluginDto>> {
    set_enabled(&state, &actor, &name, true).await
}

/// Stops calling a plugin (it stays loaded). Admin or above.
#[utoipa::path(post, path = "/api/v1/plugins/{name}/disable", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name", pattern = "^[a-z][a-z0-9-]{0,31}$")),
    responses((status = 200, body = PluginDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed)))]
async fn disable(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<PluginDto>> {
    set_enabled(&state, &actor, &name, false).await
}

/// Enable and disable differ only in the flag (and in their documented paths).
async fn set_enabled(
    state: &AppState,
    actor: &Principal,
    name: &str,
    enabled: bool,
) -> Result<Json<PluginDto>> {
    let info = state
        .plugins()?
        .admin
        .set_enabled(actor, name, enabled)
        .await?;
    Ok(Json(info.into()))
}

/// Installs or replaces a plugin: verified, compiled and described before anything is written;
/// a refused module changes nothing. Admin or above.
#[utoipa::path(put, path = "/api/v1/plugins/{name}", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name", pattern = "^[a-z][a-z0-9-]{0,31}$")),
    request_body = PluginUploadDto,
    responses((status = 200, body = PluginDto), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = ValidationFailed)))]
async fn install(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
    ApiJson(upload): ApiJson<PluginUploadDto>,
) -> Result<Json<PluginDto>> {
    let module = base64::engine::general_purpose::STANDARD
        .decode(upload.module_base64.as_bytes())
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_module",
                "module_base64 is not valid base64.",
            )
        })?;
    let signature = upload.signature.map(String::into_bytes);
    let info = state
        .plugins()?
        .admin
        .install(&actor, &name, module, signature)
        .await?;
    Ok(Json(info.into()))
}

/// Unloads a plugin and deletes its files. Admin or above.
#[utoipa::path(delete, path = "/api/v1/plugins/{name}", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "Plugin name", pattern = "^[a-z][a-z0-9-]{0,31}$")),
    responses((status = 204, description = "Removed"), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
async fn remove(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    state.plugins()?.admin.remove(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Headers a plugin is never shown: credentials stay with the account service.
fn visible_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| *name != "authorization" && *name != "cookie")
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

pub(crate) fn head(method: &Method, uri: &Uri, headers: &HeaderMap, path: &str) -> HttpHead {
    HttpHead {
        method: method.as_str().to_owned(),
        path: path.to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers: visible_headers(headers),
    }
}

/// The extension area in the OpenAPI document; the route itself is mounted by hand (a wildcard
/// of any method and depth), see `crate::router`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(extension))]
pub(crate) struct ExtensionDoc;

/// The extension area: each plugin serves the routes its descriptor declares, with any method
/// it declares (GET shown). `path` may contain `/`. What a plugin answers is its own; the host
/// adds 404 (no such plugin or route), 413, 502 (the plugin failed) and 503 (disabled or
/// quarantined).
#[utoipa::path(get, path = "/api/v1/ext/{plugin}/{path}", tag = "plugins",
    params(
        ("plugin" = String, Path, description = "Plugin name", pattern = "^[a-z][a-z0-9-]{0,31}$"),
        ("path" = String, Path, description = "The plugin's own route, below its prefix"),
    ),
    responses((status = 200, description = "The plugin's answer"), (status = 404, response = NotFound),
        (status = 502, description = "The plugin failed (trap, timeout, memory limit)"),
        (status = 503, description = "The plugin is disabled or quarantined")))]
pub(crate) async fn extension(
    State(state): State<AppState>,
    Path((plugin, rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let host = &state.plugins()?.host;
    let name = PluginName::parse(&plugin).map_err(|_| ApiError::not_found("No such plugin."))?;
    let request = RouteRequest {
        head: head(&method, &uri, &headers, &format!("/{rest}")),
        body: body.to_vec(),
    };
    let answer = host
        .handle_route(&name, request)
        .await
        .map_err(route_error)?;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (key, value) in answer.headers {
        if let (Ok(key), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            response.headers_mut().append(key, value);
        }
    }
    // The plugin's body is its answer, even for an error status.
    response.extensions_mut().insert(crate::problem::KeepBody);
    Ok(response.into_response())
}

fn route_error(error: PluginError) -> ApiError {
    match error {
        PluginError::NotFound(_) => ApiError::not_found("No such plugin route."),
        PluginError::Rejected(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large for a plugin route.",
        ),
        PluginError::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "plugin_unavailable",
            "The plugin is disabled or quarantined.",
        )
        .retry_after(30),
        PluginError::Failed { name, reason } => {
            tracing::warn!(plugin = %name, "plugin route failed: {reason}");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "plugin_failed",
                "The plugin failed to answer.",
            )
        }
        PluginError::HostUnreachable(cause) => ApiError::unavailable(cause),
        PluginError::Internal(cause) => ApiError::internal(cause),
    }
}
