//! The one mapping from each use-case error enum to HTTP problems.
//!
//! Both matches are exhaustive with no catch-all arm: a new variant in `arcana-ports` fails to
//! compile here until someone decides its status code, instead of silently becoming a 500.

use std::time::Duration;

use arcana_domain::FieldError;
use arcana_ports::UniqueField;
use arcana_ports::usecases::{
    AuthError, JobsError, ManagementError, PluginAdminError, TokenRejection,
};
use axum::http::StatusCode;

use crate::problem::{ApiError, FieldProblem};

/// RFC 6750 challenges: no error code when no credentials were sent at all.
const CHALLENGE: &str = "Bearer";
const CHALLENGE_INVALID: &str = "Bearer error=\"invalid_token\"";

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Validation(errors) => validation(errors),
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The username, email or password is wrong.",
            )
            .challenge(CHALLENGE),
            AuthError::AccountDisabled(status) => ApiError::new(
                StatusCode::FORBIDDEN,
                "account_disabled",
                format!("The account is {} and cannot sign in.", status.as_str()),
            ),
            AuthError::Throttled { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many attempts. Wait before trying again.",
            )
            .retry_after(whole_seconds(retry_after)),
            AuthError::InvalidToken(rejection) => token_rejected(rejection),
            AuthError::Conflict(field) => conflict(field),
            AuthError::SessionNotFound => ApiError::not_found("No such session."),
            AuthError::Unavailable(cause) => ApiError::unavailable(cause),
            AuthError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<ManagementError> for ApiError {
    fn from(error: ManagementError) -> Self {
        match error {
            ManagementError::Validation(errors) => validation(errors),
            ManagementError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role does not allow this action.",
            ),
            ManagementError::NotFound => ApiError::not_found("No such resource."),
            ManagementError::Conflict(field) => conflict(field),
            ManagementError::VersionConflict => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                "The user changed since you read it. Fetch it again and retry.",
            ),
            ManagementError::Unavailable(cause) => ApiError::unavailable(cause),
            ManagementError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<PluginAdminError> for ApiError {
    fn from(error: PluginAdminError) -> Self {
        match error {
            PluginAdminError::Validation(errors) => validation(errors),
            PluginAdminError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Administering plugins needs the admin role.",
            ),
            PluginAdminError::NotFound => ApiError::not_found("No such plugin."),
            PluginAdminError::Rejected(reason) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_rejected", reason)
            }
            PluginAdminError::Unavailable(cause) => ApiError::unavailable(cause),
            PluginAdminError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<JobsError> for ApiError {
    fn from(error: JobsError) -> Self {
        match error {
            JobsError::Validation(errors) => validation(errors),
            JobsError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Operating the job queue needs the admin role.",
            ),
            JobsError::NotFound => ApiError::not_found("No such job, queue or schedule."),
            JobsError::WrongState(state) => ApiError::new(
                StatusCode::CONFLICT,
                "job_state_conflict",
                format!("The job is {state}; this operation does not apply to it."),
            ),
            JobsError::Unavailable(cause) => ApiError::unavailable(cause),
            JobsError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

fn token_rejected(rejection: TokenRejection) -> ApiError {
    let (code, detail) = match rejection {
        TokenRejection::Missing => ("token_missing", "A bearer token is required."),
        TokenRejection::Invalid => ("token_invalid", "The token is malformed or not ours."),
        TokenRejection::Expired => ("token_expired", "The token has expired."),
        TokenRejection::Revoked => ("token_revoked", "The session has ended. Sign in again."),
        TokenRejection::Reused => (
            "refresh_token_reused",
            "This refresh token was already used; the session has been revoked. Sign in again.",
        ),
        TokenRejection::Superseded => (
            "refresh_token_superseded",
            "This refresh token was just rotated by a concurrent request; use the newest one.",
        ),
    };
    let challenge = if rejection == TokenRejection::Missing {
        CHALLENGE
    } else {
        CHALLENGE_INVALID
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail).challenge(challenge)
}

fn validation(errors: Vec<FieldError>) -> ApiError {
    ApiError::validation(errors.into_iter().map(FieldProblem::from))
}

/// Names the field, never the value: echoing it would confirm that an email is registered.
fn conflict(field: UniqueField) -> ApiError {
    let name = field.as_str();
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("This {name} is already taken."),
    )
    .with_errors([FieldProblem {
        field: name.to_owned(),
        code: "taken".to_owned(),
        message: "is already taken".to_owned(),
    }])
}

/// `Retry-After` counts whole seconds; rounding up so a client never retries too early.
fn whole_seconds(duration: Duration) -> u64 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    seconds.max(1)
}
