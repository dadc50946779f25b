//! The OpenAPI document's frame: info, tags, the bearer scheme, the `Problem` schema and the
//! reusable error responses every route references. Paths come from the handlers themselves.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::problem::{FieldProblem, Problem};

/// Name of the security scheme that protected routes list.
pub(crate) const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arcana",
        description = "Accounts, sign-in, tokens and user management. Errors are RFC 9457 \
            `application/problem+json` documents with a stable `code` and the `request_id`."
    ),
    tags(
        (name = "auth", description = "Registration, sign-in, tokens and the caller's sessions"),
        (name = "users", description = "User management under the rank rule"),
        (name = "audit", description = "The audit log of privileged and security events"),
        (name = "jobs", description = "Operating the job queue: queues, jobs, dead letters, schedules"),
        (name = "health", description = "Probes and metrics"),
    ),
    components(
        schemas(Problem, FieldProblem),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
            UnsupportedMediaType, ValidationFailed, TooManyRequests, InternalError, Unavailable,
        ),
    ),
    modifiers(&BearerScheme),
)]
pub(crate) struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from login, register or refresh."))
                    .build(),
            ),
        );
    }
}

// The types below exist only to describe responses in the document; the handlers produce them
// through `ApiError`.

/// Malformed JSON, an unreadable body or a malformed header (`malformed_json`, `invalid_if_match`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct BadRequest(Problem);

/// Missing, malformed, expired or revoked token, or wrong credentials (`token_*`,
/// `refresh_token_*`, `invalid_credentials`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` when a token was rejected"))
)]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct Unauthorized(Problem);

/// The caller's role does not allow this, or the account is disabled (`forbidden`,
/// `account_disabled`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct Forbidden(Problem);

/// No such resource; also for ids that are not UUIDs (`not_found`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct NotFound(Problem);

/// A username or email is taken (`conflict`, the field is named, never the value), or the
/// resource changed since it was read (`version_conflict`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct Conflict(Problem);

/// The body exceeds the configured limit (`payload_too_large`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct PayloadTooLarge(Problem);

/// The body is not declared as JSON (`unsupported_media_type`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct UnsupportedMediaType(Problem);

/// Invalid fields, each listed in `errors` (`validation_failed`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct ValidationFailed(Problem);

/// Too many failed sign-ins (`too_many_requests`), or past a rate limit (`rate_limited`: per
/// client address, per route class, per user).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds to wait before retrying"),
        ("RateLimit-Policy" = String, description = "The limits counted, e.g. `\"per_ip\";q=400;w=2`"),
        ("RateLimit" = String, description = "What is left of each, e.g. `\"per_ip\";r=0;t=1`"),
    )
)]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct TooManyRequests(Problem);

/// Unexpected failure; the body is opaque, quote its `request_id` (`internal_error`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct InternalError(Problem);

/// A dependency is down, its circuit breaker is open, or the request timed out
/// (`service_unavailable`); or too many requests are in flight (`overloaded`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
)]
#[expect(dead_code, reason = "documentation-only type")]
pub(crate) struct Unavailable(Problem);

/// Every API operation may be refused by the inbound protection, whatever it does: a rate limit
/// (429) or load shedding and open circuit breakers (503). Declared here once, for each
/// operation under `/api/` that does not already list them.
pub(crate) fn declare_inbound_refusals(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::Ref;
    for (path, item) in &mut document.paths.paths {
        if !path.starts_with("/api/") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            let mut refusals = vec![("429", "TooManyRequests"), ("503", "Unavailable")];
            // Every JSON body is size-limited and must be declared as JSON.
            if operation.request_body.is_some() {
                refusals.extend([("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")]);
            }
            for (status, name) in refusals {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| Ref::from_response_name(name).into());
            }
        }
    }
}

/// Rules between fields that the derived schemas cannot state. A user update must change
/// something (`{}` is refused with 422). `unique_window_secs` means
/// something only for a job with a `unique_key`: a number there without a key is refused (422),
/// so the document says so with JSON Schema's `if`/`then` (OpenAPI 3.1), which utoipa has no
/// field for and which therefore goes through the schema's extension map, serialised flat.
pub(crate) fn declare_cross_field_rules(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::schema::Schema;

    let Some(components) = document.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(update))) = components.schemas.get_mut("UpdateUserRequest")
    {
        update.min_properties = Some(1);
    }
    if let Some(RefOr::T(Schema::Object(enqueue))) = components.schemas.get_mut("EnqueueJobRequest")
    {
        let rule = Extensions::from_iter([
            (
                "if",
                serde_json::json!({
                    "properties": {"unique_window_secs": {"type": "integer"}},
                    "required": ["unique_window_secs"],
                }),
            ),
            (
                "then",
                serde_json::json!({
                    "properties": {"unique_key": {"type": "string"}},
                    "required": ["unique_key"],
                }),
            ),
        ]);
        enqueue
            .extensions
            .get_or_insert_with(Extensions::default)
            .merge(rule);
    }
}
