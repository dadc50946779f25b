//! The one mapping from each use-case error enum to a gRPC `Status` (SPEC §5).
//!
//! Both matches are exhaustive with no catch-all arm: a new variant in `arcana-ports` fails to
//! compile here until someone decides its code. Every status carries a `google.rpc.ErrorInfo`
//! whose reason is the REST problem `code` in upper case (`REFRESH_TOKEN_REUSED`), so clients can
//! move between the protocols without a glossary; validation failures add
//! `google.rpc.BadRequest` field violations and throttling adds `google.rpc.RetryInfo`.

use std::time::Duration;

use arcana_domain::FieldError;
use arcana_ports::UniqueField;
use arcana_ports::resilience::CircuitOpen;
use arcana_ports::usecases::{
    AuthError, JobsError, ManagementError, PluginAdminError, TokenRejection,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// `google.rpc.ErrorInfo.domain` of every error this API returns.
const DOMAIN: &str = "arcana";

pub(crate) fn from_auth(error: AuthError) -> Status {
    match error {
        AuthError::Validation(errors) => validation(errors),
        AuthError::InvalidCredentials => status(
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
            "The username, email or password is wrong.",
        ),
        AuthError::AccountDisabled(account) => status(
            Code::PermissionDenied,
            "ACCOUNT_DISABLED",
            format!("The account is {} and cannot sign in.", account.as_str()),
        ),
        AuthError::Throttled { retry_after } => throttled(retry_after),
        AuthError::InvalidToken(rejection) => token_rejected(rejection),
        AuthError::Conflict(field) => conflict(field),
        AuthError::SessionNotFound => status(Code::NotFound, "NOT_FOUND", "No such session."),
        AuthError::Unavailable(cause) => unavailable(&cause),
        AuthError::Internal(cause) => internal(&cause),
    }
}

pub(crate) fn from_jobs(error: JobsError) -> Status {
    match error {
        JobsError::Validation(errors) => validation(errors),
        JobsError::Forbidden => status(
            Code::PermissionDenied,
            "FORBIDDEN",
            "Operating the job queue needs the admin role.",
        ),
        JobsError::NotFound => status(
            Code::NotFound,
            "NOT_FOUND",
            "No such job, queue or schedule.",
        ),
        JobsError::WrongState(state) => status(
            Code::FailedPrecondition,
            "JOB_STATE_CONFLICT",
            format!("The job is {state}; this operation does not apply to it."),
        ),
        JobsError::Unavailable(cause) => unavailable(&cause),
        JobsError::Internal(cause) => internal(&cause),
    }
}

pub(crate) fn from_plugins(error: PluginAdminError) -> Status {
    match error {
        PluginAdminError::Validation(errors) => validation(errors),
        PluginAdminError::Forbidden => status(
            Code::PermissionDenied,
            "FORBIDDEN",
            "Administering plugins needs the admin role.",
        ),
        PluginAdminError::NotFound => not_found("plugin"),
        PluginAdminError::Rejected(reason) => {
            status(Code::InvalidArgument, "PLUGIN_REJECTED", reason)
        }
        PluginAdminError::Unavailable(cause) => unavailable(&cause),
        PluginAdminError::Internal(cause) => internal(&cause),
    }
}

pub(crate) fn from_management(error: ManagementError) -> Status {
    match error {
        ManagementError::Validation(errors) => validation(errors),
        ManagementError::Forbidden => status(
            Code::PermissionDenied,
            "FORBIDDEN",
            "Your role does not allow this action.",
        ),
        ManagementError::NotFound => status(Code::NotFound, "NOT_FOUND", "No such resource."),
        ManagementError::Conflict(field) => conflict(field),
        ManagementError::VersionConflict => status(
            Code::FailedPrecondition,
            "VERSION_CONFLICT",
            "The user changed since you read it. Fetch it again and retry.",
        ),
        ManagementError::Unavailable(cause) => unavailable(&cause),
        ManagementError::Internal(cause) => internal(&cause),
    }
}

/// The reason and message of a refused token, as REST words them.
pub(crate) fn rejection_reason(rejection: TokenRejection) -> (&'static str, &'static str) {
    match rejection {
        TokenRejection::Missing => ("TOKEN_MISSING", "A bearer token is required."),
        TokenRejection::Invalid => ("TOKEN_INVALID", "The token is malformed or not ours."),
        TokenRejection::Expired => ("TOKEN_EXPIRED", "The token has expired."),
        TokenRejection::Revoked => ("TOKEN_REVOKED", "The session has ended. Sign in again."),
        TokenRejection::Reused => (
            "REFRESH_TOKEN_REUSED",
            "This refresh token was already used; the session has been revoked. Sign in again.",
        ),
        TokenRejection::Superseded => (
            "REFRESH_TOKEN_SUPERSEDED",
            "This refresh token was just rotated by a concurrent request; use the newest one.",
        ),
    }
}

fn token_rejected(rejection: TokenRejection) -> Status {
    let (reason, message) = rejection_reason(rejection);
    status(Code::Unauthenticated, reason, message)
}

/// A field named in the request that cannot be used: a 404 for REST's path ids.
pub(crate) fn not_found(what: &str) -> Status {
    status(Code::NotFound, "NOT_FOUND", format!("No such {what}."))
}

pub(crate) fn validation(errors: Vec<FieldError>) -> Status {
    let violations: Vec<FieldViolation> = errors
        .into_iter()
        .map(|error| FieldViolation {
            reason: error.code.to_ascii_uppercase(),
            field: error.field,
            description: error.message,
            localized_message: None,
        })
        .collect();
    let mut details = info("VALIDATION_FAILED");
    details.set_bad_request(violations);
    Status::with_error_details(
        Code::InvalidArgument,
        "The request has invalid fields; see the field violations.",
        details,
    )
}

/// Names the field, never the value: echoing it would confirm that an email is registered.
fn conflict(field: UniqueField) -> Status {
    let name = field.as_str();
    let mut details = info("CONFLICT");
    details.set_bad_request([FieldViolation {
        field: name.to_owned(),
        description: "is already taken".to_owned(),
        reason: "TAKEN".to_owned(),
        localized_message: None,
    }]);
    Status::with_error_details(
        Code::AlreadyExists,
        format!("This {name} is already taken."),
        details,
    )
}

pub(crate) fn throttled(retry_after: Duration) -> Status {
    let mut details = info("TOO_MANY_REQUESTS");
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(
        Code::ResourceExhausted,
        "Too many attempts. Wait before trying again.",
        details,
    )
}

/// The cause is logged here, once, inside the request span; the client sees no internal text.
/// An open circuit breaker adds `RetryInfo` with the time it lets a call through again.
fn unavailable(cause: &anyhow::Error) -> Status {
    tracing::warn!(error = format!("{cause:#}"), "a dependency is unavailable");
    let message = "A dependency is unavailable. Try again shortly.";
    let Some(open) = CircuitOpen::find(cause) else {
        return status(Code::Unavailable, "SERVICE_UNAVAILABLE", message);
    };
    let mut details = info("SERVICE_UNAVAILABLE");
    details.set_retry_info(Some(open.retry_after));
    Status::with_error_details(Code::Unavailable, message, details)
}

fn internal(cause: &anyhow::Error) -> Status {
    tracing::error!(error = format!("{cause:#}"), "internal error");
    status(
        Code::Internal,
        "INTERNAL_ERROR",
        "Something went wrong on our side.",
    )
}

fn status(code: Code, reason: &str, message: impl Into<String>) -> Status {
    Status::with_error_details(code, message, info(reason))
}

fn info(reason: &str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, DOMAIN, std::collections::HashMap::new())
}
