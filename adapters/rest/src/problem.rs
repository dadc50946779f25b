//! RFC 9457 problem details: the one error shape of the API, and the middleware that renders it.
//!
//! Handlers and extractors return [`ApiError`]; its `IntoResponse` only sets the status and
//! headers and parks the error in the response extensions. [`render`] (a middleware inside the
//! request-id one) writes the body, so every problem carries the `request_id` and 5xx causes are
//! logged in exactly one place, inside the request span. The same middleware turns the plain
//! error responses of axum and tower layers (404, 405, timeout 503…) into problems too.

use std::borrow::Cow;
use std::sync::Arc;

use arcana_domain::FieldError;
use arcana_ports::resilience::CircuitOpen;
use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::RequestId;

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://arcana.dev/problems/";

/// A problem details document (RFC 9457) as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Problem {
    /// `https://arcana.dev/problems/<code>`, or `about:blank` for plain HTTP errors.
    #[serde(rename = "type")]
    pub(crate) type_uri: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    pub(crate) title: String,
    pub(crate) status: u16,
    /// Human-readable explanation of this occurrence; never carries internal error text.
    pub(crate) detail: String,
    /// Stable, machine-readable code clients branch on (`validation_failed`, `token_expired`…).
    pub(crate) code: String,
    /// The `x-request-id` of the request, to quote when reporting a problem.
    pub(crate) request_id: Option<String>,
    /// Every invalid input field (validation and conflicts only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<FieldProblem>,
}

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct FieldProblem {
    /// Path of the field in the request (`email`, `items[0].name`), or a header or query name.
    pub(crate) field: String,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl From<FieldError> for FieldProblem {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            code: error.code.into_owned(),
            message: error.message,
        }
    }
}

/// An error on its way to becoming a problem response.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: Cow<'static, str>,
    errors: Vec<FieldProblem>,
    /// `Retry-After` seconds (429, 503).
    retry_after: Option<u64>,
    /// `WWW-Authenticate` challenge (401).
    challenge: Option<&'static str>,
    /// Why a 5xx happened; logged once by [`render`], never sent.
    cause: Option<Arc<anyhow::Error>>,
    /// Plain HTTP error with no Arcana-specific meaning: rendered with `type: about:blank`.
    generic: bool,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            challenge: None,
            cause: None,
            generic: false,
        }
    }

    /// 422 listing every invalid field.
    pub(crate) fn validation(errors: impl IntoIterator<Item = FieldProblem>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request contains invalid fields.",
        )
        .with_errors(errors)
    }

    pub(crate) fn not_found(detail: &'static str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 500 with an opaque body; `cause` is logged.
    pub(crate) fn internal(cause: anyhow::Error) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An unexpected error occurred. Quote the request_id when reporting it.",
        )
        .caused_by(cause)
    }

    /// 503 with `Retry-After`; `cause` is logged. An open circuit breaker knows when it lets a
    /// call through again, and says so in `Retry-After`; any other outage gets a short default.
    pub(crate) fn unavailable(cause: anyhow::Error) -> Self {
        let retry_after = CircuitOpen::find(&cause).map_or(5, |open| open.retry_after.as_secs());
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "A dependency is temporarily unavailable. Retry later.",
        )
        .retry_after(retry_after)
        .caused_by(cause)
    }

    pub(crate) fn with_errors(mut self, errors: impl IntoIterator<Item = FieldProblem>) -> Self {
        self.errors.extend(errors);
        self
    }

    pub(crate) fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub(crate) fn challenge(mut self, challenge: &'static str) -> Self {
        self.challenge = Some(challenge);
        self
    }

    pub(crate) fn caused_by(mut self, cause: anyhow::Error) -> Self {
        self.cause = Some(Arc::new(cause));
        self
    }

    /// The problem for an error response that some layer produced without a body we know.
    fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => ("not_found", "No resource at this path."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "This path does not accept this method; see Allow.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload_too_large", "The request body is too large.")
            }
            StatusCode::SERVICE_UNAVAILABLE => (
                "service_unavailable",
                "The request could not be completed in time. Retry later.",
            ),
            StatusCode::INTERNAL_SERVER_ERROR => {
                ("internal_error", "An unexpected error occurred.")
            }
            StatusCode::BAD_REQUEST => ("bad_request", "The request could not be understood."),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "The request body has an unsupported media type.",
            ),
            StatusCode::URI_TOO_LONG => ("uri_too_long", "The request URI is too long."),
            StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "Too many requests."),
            s if s.is_server_error() => {
                ("server_error", "The server could not handle the request.")
            }
            _ => ("client_error", "The request could not be processed."),
        };
        Self {
            generic: true,
            ..Self::new(status, code, detail)
        }
    }

    /// The wire document, stamped with the request id.
    pub(crate) fn to_problem(&self, request_id: Option<&RequestId>) -> Problem {
        Problem {
            type_uri: if self.generic {
                "about:blank".to_owned()
            } else {
                format!("{TYPE_BASE}{}", self.code)
            },
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone().into_owned(),
            code: self.code.to_owned(),
            request_id: request_id.map(|id| id.as_str().to_owned()),
            errors: self.errors.clone(),
        }
    }

    /// Logs a server-side failure once; client errors are the client's business, not an alert.
    fn log(&self) {
        if !self.status.is_server_error() {
            return;
        }
        let status = self.status.as_u16();
        if let Some(cause) = &self.cause {
            tracing::error!(
                status,
                code = self.code,
                error = format!("{cause:#}"),
                "request failed"
            );
        } else {
            // A layer's own 5xx (a timeout): nothing to add but the fact.
            tracing::warn!(status, code = self.code, "request failed");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.challenge {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// Marks an error response whose body is deliberate (readiness, a plugin's own answer), so
/// [`render`] keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepBody;

/// Renders every error response as problem+json with the request id. Successful responses pass
/// untouched, so the happy path pays one status comparison.
pub(crate) fn rendered(response: Response, request_id: &RequestId) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let error = match parts.extensions.remove::<ApiError>() {
        Some(error) => error,
        None if is_problem(&parts.headers) || parts.extensions.get::<KeepBody>().is_some() => {
            return Response::from_parts(parts, body);
        }
        None => ApiError::from_status(status),
    };
    error.log();
    let body = serde_json::to_vec(&error.to_problem(Some(request_id)))
        .expect("a problem document always serializes");
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(PROBLEM_JSON))
}
