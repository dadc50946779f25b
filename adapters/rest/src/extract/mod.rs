//! Extractors: request parts turned into typed input, every failure already a problem.

pub(crate) mod auth;
mod json;

use arcana_domain::{SessionId, UserId};
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::header::IF_MATCH;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldProblem};

pub(crate) use auth::{Authenticated, Client, client_ip};
pub(crate) use json::ApiJson;

/// Query parameters; a parameter of the wrong type is a 422 naming it, like a body field.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        match Query::try_from_uri(&parts.uri) {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                // The source reads `<param>: <reason>`; the reason names the expected type and
                // does not quote the value.
                let text = std::error::Error::source(&rejection)
                    .map_or_else(|| rejection.body_text(), ToString::to_string);
                let (field, message) = text.split_once(": ").unwrap_or(("query", text.as_str()));
                Err(ApiError::validation([FieldProblem {
                    field: field.to_owned(),
                    code: "invalid_value".to_owned(),
                    message: message.to_owned(),
                }]))
            }
        }
    }
}

/// The version an update is conditional on: `If-Match: "<version>"` (weak tags accepted,
/// `*` or no header means unconditional).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IfMatch(pub(crate) Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(Self(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(Self(None));
        }
        let tag = text.strip_prefix("W/").unwrap_or(text);
        let version = tag
            .strip_prefix('"')
            .and_then(|tag| tag.strip_suffix('"'))
            .unwrap_or(tag)
            .parse::<u64>()
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_if_match",
                    "If-Match must be a quoted version number, as sent in ETag.",
                )
            })?;
        Ok(Self(Some(version)))
    }
}

/// The `ETag` of a user at `version`, which `If-Match` accepts back.
pub(crate) fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A path id that is not a UUID cannot name anything: 404, as for an unknown one.
pub(crate) fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| ApiError::not_found("No such user."))
}

pub(crate) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|_| ApiError::not_found("No such session."))
}
