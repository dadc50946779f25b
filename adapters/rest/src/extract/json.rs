//! `ApiJson<T>`: JSON request bodies with every failure reported as a problem.
//!
//! axum's own `Json` answers in plain text and folds type errors into one message; this one
//! tells syntax (400) from shape (422, with the field path) and never echoes a submitted value,
//! since the body may hold a password.

use axum::body::Bytes;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::problem::{ApiError, FieldProblem};

/// A JSON body parsed into `T`. `Option<ApiJson<T>>` accepts an empty body as `None`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = read_body(request, state).await?;
        parse(&bytes).map(Self)
    }
}

impl<T, S> OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let declared_json = is_json(request.headers());
        let bytes = read_body(request, state).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !declared_json {
            return Err(unsupported_media_type());
        }
        parse(&bytes).map(|value| Some(Self(value)))
    }
}

/// `application/json`, any `application/*+json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let structured_suffix = subtype
        .len()
        .checked_sub("+json".len())
        .and_then(|start| subtype.get(start..))
        .is_some_and(|suffix| suffix.eq_ignore_ascii_case("+json"));
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || structured_suffix && subtype != "+json")
}

/// Reads the body through `Bytes`, which honours `DefaultBodyLimit`.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The request body exceeds the size limit.",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "The request body could not be read.",
                )
            }
        })
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "The request body must be JSON, sent with `Content-Type: application/json`.",
    )
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(&mut deserializer);
    let value = match parsed {
        Ok(value) => value,
        Err(error) if error.inner().classify() == Category::Data => {
            // Rare path only: the document is well-formed but does not fit `T` as written.
            return with_integral_numbers(bytes)
                .ok_or_else(|| ApiError::validation([field_problem(&error)]));
        }
        Err(_) => return Err(malformed()),
    };
    // Trailing bytes after the value (`{}{}`, `{} x`) make the document malformed too.
    deserializer.end().map_err(|_| malformed())?;
    Ok(value)
}

/// JSON has one number type: `43.0` is the integer 43 to JSON Schema (and so to the OpenAPI
/// document), but serde refuses it for an integer field. Retried with every integral number
/// written as an integer; `None` when that changes nothing or still does not fit.
fn with_integral_numbers<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    fn normalize(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(number) if number.is_f64() => {
                let float = number.as_f64().unwrap_or(f64::NAN);
                // Exactly representable integers only (|x| ≤ 2^53).
                if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "integral and within ±2^53"
                    )]
                    let integer = float as i64;
                    *number = integer.into();
                    return true;
                }
                false
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |c, v| normalize(v) | c)
            }
            serde_json::Value::Object(fields) => {
                fields.values_mut().fold(false, |c, v| normalize(v) | c)
            }
            _ => false,
        }
    }
    let mut document: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if !normalize(&mut document) {
        return None;
    }
    serde_json::from_value(document).ok()
}

fn malformed() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "The request body is not valid JSON.",
    )
}

/// Turns serde's message into a field error that names what was expected but never quotes what
/// was received (`invalid type: string "hunter2…", expected u32` must not come back to a log).
fn field_problem(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldProblem {
    let path = error.path().to_string();
    let path = path.as_str();
    let text = error.inner().to_string();
    // serde_json appends the position, which is meaningless once the field is named.
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    let parent = if path == "." { "" } else { path };
    if let Some(rest) = text.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        };
        return FieldProblem {
            field,
            code: "required".to_owned(),
            message: "is required".to_owned(),
        };
    }
    let code = if text.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    let message = text.find(", expected ").map_or_else(
        || "has an invalid value".to_owned(),
        |at| text[at + 2..].to_owned(),
    );
    let field = if parent.is_empty() {
        "body".to_owned()
    } else {
        parent.to_owned()
    };
    FieldProblem {
        field,
        code: code.to_owned(),
        message,
    }
}
