//! The one mapping between port errors and the [`Failure`](wire::Failure) envelope, both ways.
//!
//! The callee turns its port error into a failure (logging the cause of a 5xx-class failure
//! once, there, inside the call's span); the caller turns the failure back into the same
//! variant, so the controller renders exactly the problem+json or gRPC status the monolith
//! would. Every match is exhaustive without a catch-all arm.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::anyhow;
use arcana_domain::jobs::JobState;
use arcana_domain::{FieldError, Status};
use arcana_ports::plugins::PluginError;
use arcana_ports::usecases::{
    AuthError, JobsError, ManagementError, PluginAdminError, TokenRejection,
};
use arcana_ports::{StoreError, UniqueField};

use crate::transport::RemoteError;
use crate::wire::{self, Failure, FailureKind};

fn failure(kind: FailureKind) -> Failure {
    Failure {
        kind: kind.into(),
        ..Failure::default()
    }
}

/// The callee's side of an error that is not the caller's fault: logged here, never sent.
fn opaque(kind: FailureKind, cause: &anyhow::Error) -> Failure {
    if matches!(kind, FailureKind::Unavailable | FailureKind::OutcomeUnknown) {
        tracing::warn!(error = %format!("{cause:#}"), "a dependency is unavailable");
    } else {
        tracing::error!(error = %format!("{cause:#}"), "internal call failed");
    }
    failure(kind)
}

/// A request the callee could not decode: the caller speaks the contract wrongly.
pub(crate) fn malformed(cause: &anyhow::Error) -> Failure {
    opaque(
        FailureKind::Internal,
        &anyhow!("malformed internal request: {cause:#}"),
    )
}

fn conflict(field: UniqueField) -> Failure {
    Failure {
        unique_field: field.as_str().to_owned(),
        ..failure(FailureKind::Conflict)
    }
}

fn validation(errors: Vec<FieldError>) -> Failure {
    Failure {
        fields: errors
            .into_iter()
            .map(|error| wire::FieldViolation {
                field: error.field,
                code: error.code.into_owned(),
                message: error.message,
            })
            .collect(),
        ..failure(FailureKind::Validation)
    }
}

pub(crate) fn from_store(error: &StoreError) -> Failure {
    match error {
        StoreError::Conflict(field) => conflict(*field),
        StoreError::StaleVersion => failure(FailureKind::StaleVersion),
        StoreError::NotFound => failure(FailureKind::NotFound),
        StoreError::TooLarge => failure(FailureKind::TooLarge),
        StoreError::Unavailable(cause) => opaque(FailureKind::Unavailable, cause),
        StoreError::OutcomeUnknown(cause) => opaque(FailureKind::OutcomeUnknown, cause),
        StoreError::Other(cause) => opaque(FailureKind::Internal, cause),
    }
}

pub(crate) fn from_auth(error: AuthError) -> Failure {
    match error {
        AuthError::Validation(errors) => validation(errors),
        AuthError::InvalidCredentials => failure(FailureKind::InvalidCredentials),
        AuthError::AccountDisabled(status) => Failure {
            account_status: status.as_str().to_owned(),
            ..failure(FailureKind::AccountDisabled)
        },
        AuthError::Throttled { retry_after } => Failure {
            retry_after_ms: u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX),
            ..failure(FailureKind::Throttled)
        },
        AuthError::InvalidToken(rejection) => Failure {
            rejection: token_rejection(rejection).into(),
            ..failure(FailureKind::InvalidToken)
        },
        AuthError::Conflict(field) => conflict(field),
        AuthError::SessionNotFound => failure(FailureKind::SessionNotFound),
        AuthError::Unavailable(cause) => opaque(FailureKind::Unavailable, &cause),
        AuthError::Internal(cause) => opaque(FailureKind::Internal, &cause),
    }
}

pub(crate) fn from_management(error: ManagementError) -> Failure {
    match error {
        ManagementError::Validation(errors) => validation(errors),
        ManagementError::Forbidden => failure(FailureKind::Forbidden),
        ManagementError::NotFound => failure(FailureKind::NotFound),
        ManagementError::Conflict(field) => conflict(field),
        ManagementError::VersionConflict => failure(FailureKind::VersionConflict),
        ManagementError::Unavailable(cause) => opaque(FailureKind::Unavailable, &cause),
        ManagementError::Internal(cause) => opaque(FailureKind::Internal, &cause),
    }
}

pub(crate) fn from_jobs(error: JobsError) -> Failure {
    match error {
        JobsError::Validation(errors) => validation(errors),
        JobsError::Forbidden => failure(FailureKind::Forbidden),
        JobsError::NotFound => failure(FailureKind::NotFound),
        JobsError::WrongState(state) => Failure {
            job_state: state.as_str().to_owned(),
            ..failure(FailureKind::WrongState)
        },
        JobsError::Unavailable(cause) => opaque(FailureKind::Unavailable, &cause),
        JobsError::Internal(cause) => opaque(FailureKind::Internal, &cause),
    }
}

fn plugin_failure(kind: FailureKind, name: String, reason: String) -> Failure {
    Failure {
        plugin: Some(Box::new(wire::PluginFailure { name, reason })),
        ..failure(kind)
    }
}

/// The plugin name and reason a failure carries (empty when it carries none).
fn plugin_of(failure: Failure) -> (String, String) {
    failure
        .plugin
        .map(|plugin| (plugin.name, plugin.reason))
        .unwrap_or_default()
}

pub(crate) fn from_plugin_admin(error: PluginAdminError) -> Failure {
    match error {
        PluginAdminError::Validation(errors) => validation(errors),
        PluginAdminError::Forbidden => failure(FailureKind::Forbidden),
        PluginAdminError::NotFound => failure(FailureKind::NotFound),
        PluginAdminError::Rejected(reason) => {
            plugin_failure(FailureKind::PluginRejected, String::new(), reason)
        }
        PluginAdminError::Unavailable(cause) => opaque(FailureKind::Unavailable, &cause),
        PluginAdminError::Internal(cause) => opaque(FailureKind::Internal, &cause),
    }
}

pub(crate) fn from_plugin(error: PluginError) -> Failure {
    match error {
        PluginError::NotFound(name) => plugin_failure(FailureKind::NotFound, name, String::new()),
        PluginError::Rejected(reason) => {
            plugin_failure(FailureKind::PluginRejected, String::new(), reason)
        }
        PluginError::Unavailable(name) => {
            plugin_failure(FailureKind::PluginUnavailable, name, String::new())
        }
        PluginError::Failed { name, reason } => {
            plugin_failure(FailureKind::PluginFailed, name, reason)
        }
        PluginError::HostUnreachable(cause) => opaque(FailureKind::Unavailable, &cause),
        PluginError::Internal(cause) => opaque(FailureKind::Internal, &cause),
    }
}

fn token_rejection(rejection: TokenRejection) -> wire::TokenRejection {
    match rejection {
        TokenRejection::Missing => wire::TokenRejection::Missing,
        TokenRejection::Invalid => wire::TokenRejection::Invalid,
        TokenRejection::Expired => wire::TokenRejection::Expired,
        TokenRejection::Revoked => wire::TokenRejection::Revoked,
        TokenRejection::Reused => wire::TokenRejection::Reused,
        TokenRejection::Superseded => wire::TokenRejection::Superseded,
    }
}

/// What the caller sees of a remote failure that its own error vocabulary has no word for, or
/// of a peer that speaks the contract wrongly: an internal error, with the reason logged.
fn unexpected(failure: &Failure) -> anyhow::Error {
    anyhow!(
        "the remote tier answered an unexpected failure: {:?}",
        failure.kind()
    )
}

fn unreachable(cause: anyhow::Error) -> anyhow::Error {
    cause.context("the next tier is unreachable")
}

fn unique_field(failure: &Failure) -> Option<UniqueField> {
    match failure.unique_field.as_str() {
        "username" => Some(UniqueField::Username),
        "email" => Some(UniqueField::Email),
        _ => None,
    }
}

fn field_errors(failure: Failure) -> Vec<FieldError> {
    failure
        .fields
        .into_iter()
        .map(|field| FieldError {
            field: field.field,
            code: Cow::Owned(field.code),
            message: field.message,
        })
        .collect()
}

pub(crate) fn store_error(error: RemoteError) -> StoreError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) => return StoreError::Unavailable(unreachable(cause)),
        RemoteError::NoAnswer(cause) => return StoreError::OutcomeUnknown(unreachable(cause)),
    };
    match failure.kind() {
        FailureKind::Conflict => match unique_field(&failure) {
            Some(field) => StoreError::Conflict(field),
            None => StoreError::Other(unexpected(&failure)),
        },
        FailureKind::StaleVersion => StoreError::StaleVersion,
        FailureKind::NotFound => StoreError::NotFound,
        FailureKind::TooLarge => StoreError::TooLarge,
        FailureKind::Unavailable => StoreError::Unavailable(anyhow!(
            "the repository tier reports a dependency unavailable"
        )),
        FailureKind::OutcomeUnknown => StoreError::OutcomeUnknown(anyhow!(
            "the repository tier reports a database call whose outcome is unknown"
        )),
        FailureKind::Unspecified
        | FailureKind::Validation
        | FailureKind::InvalidCredentials
        | FailureKind::AccountDisabled
        | FailureKind::Throttled
        | FailureKind::InvalidToken
        | FailureKind::SessionNotFound
        | FailureKind::Forbidden
        | FailureKind::VersionConflict
        | FailureKind::WrongState
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::PluginRejected
        | FailureKind::PluginUnavailable
        | FailureKind::PluginFailed => StoreError::Other(unexpected(&failure)),
    }
}

pub(crate) fn auth_error(error: RemoteError) -> AuthError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
            return AuthError::Unavailable(unreachable(cause));
        }
    };
    match failure.kind() {
        FailureKind::Validation => AuthError::Validation(field_errors(failure)),
        FailureKind::InvalidCredentials => AuthError::InvalidCredentials,
        FailureKind::AccountDisabled => match Status::parse(&failure.account_status) {
            Ok(status) => AuthError::AccountDisabled(status),
            Err(_) => AuthError::Internal(unexpected(&failure)),
        },
        FailureKind::Throttled => AuthError::Throttled {
            retry_after: Duration::from_millis(failure.retry_after_ms),
        },
        FailureKind::InvalidToken => match rejection(failure.rejection()) {
            Some(rejection) => AuthError::InvalidToken(rejection),
            None => AuthError::Internal(unexpected(&failure)),
        },
        FailureKind::Conflict => match unique_field(&failure) {
            Some(field) => AuthError::Conflict(field),
            None => AuthError::Internal(unexpected(&failure)),
        },
        FailureKind::SessionNotFound => AuthError::SessionNotFound,
        FailureKind::Unavailable | FailureKind::OutcomeUnknown => {
            AuthError::Unavailable(anyhow!("the service tier reports a dependency unavailable"))
        }
        FailureKind::Unspecified
        | FailureKind::Forbidden
        | FailureKind::NotFound
        | FailureKind::VersionConflict
        | FailureKind::StaleVersion
        | FailureKind::WrongState
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::TooLarge
        | FailureKind::PluginRejected
        | FailureKind::PluginUnavailable
        | FailureKind::PluginFailed => AuthError::Internal(unexpected(&failure)),
    }
}

pub(crate) fn management_error(error: RemoteError) -> ManagementError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
            return ManagementError::Unavailable(unreachable(cause));
        }
    };
    match failure.kind() {
        FailureKind::Validation => ManagementError::Validation(field_errors(failure)),
        // The service tier verifies the end user's token again on every call; one revoked
        // between the controller's check and this call no longer carries any right.
        FailureKind::Forbidden | FailureKind::InvalidToken | FailureKind::AccountDisabled => {
            ManagementError::Forbidden
        }
        FailureKind::NotFound => ManagementError::NotFound,
        FailureKind::Conflict => match unique_field(&failure) {
            Some(field) => ManagementError::Conflict(field),
            None => ManagementError::Internal(unexpected(&failure)),
        },
        FailureKind::VersionConflict => ManagementError::VersionConflict,
        FailureKind::Unavailable | FailureKind::OutcomeUnknown => ManagementError::Unavailable(
            anyhow!("the service tier reports a dependency unavailable"),
        ),
        FailureKind::Unspecified
        | FailureKind::InvalidCredentials
        | FailureKind::Throttled
        | FailureKind::SessionNotFound
        | FailureKind::StaleVersion
        | FailureKind::WrongState
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::TooLarge
        | FailureKind::PluginRejected
        | FailureKind::PluginUnavailable
        | FailureKind::PluginFailed => ManagementError::Internal(unexpected(&failure)),
    }
}

pub(crate) fn jobs_error(error: RemoteError) -> JobsError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
            return JobsError::Unavailable(unreachable(cause));
        }
    };
    match failure.kind() {
        FailureKind::Validation => JobsError::Validation(field_errors(failure)),
        // As for user management: a token revoked between the controller's check and this call
        // no longer carries any right.
        FailureKind::Forbidden | FailureKind::InvalidToken | FailureKind::AccountDisabled => {
            JobsError::Forbidden
        }
        FailureKind::NotFound => JobsError::NotFound,
        FailureKind::WrongState => match JobState::parse(&failure.job_state) {
            Ok(state) => JobsError::WrongState(state),
            Err(_) => JobsError::Internal(unexpected(&failure)),
        },
        FailureKind::Unavailable | FailureKind::OutcomeUnknown => {
            JobsError::Unavailable(anyhow!("the service tier reports a dependency unavailable"))
        }
        FailureKind::Unspecified
        | FailureKind::InvalidCredentials
        | FailureKind::Throttled
        | FailureKind::Conflict
        | FailureKind::SessionNotFound
        | FailureKind::VersionConflict
        | FailureKind::StaleVersion
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::TooLarge
        | FailureKind::PluginRejected
        | FailureKind::PluginUnavailable
        | FailureKind::PluginFailed => JobsError::Internal(unexpected(&failure)),
    }
}

pub(crate) fn plugin_admin_error(error: RemoteError) -> PluginAdminError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
            return PluginAdminError::Unavailable(unreachable(cause));
        }
    };
    match failure.kind() {
        FailureKind::Validation => PluginAdminError::Validation(field_errors(failure)),
        // As for user management: a token revoked between the controller's check and this call
        // no longer carries any right.
        FailureKind::Forbidden | FailureKind::InvalidToken | FailureKind::AccountDisabled => {
            PluginAdminError::Forbidden
        }
        FailureKind::NotFound => PluginAdminError::NotFound,
        FailureKind::PluginRejected => PluginAdminError::Rejected(plugin_of(failure).1),
        FailureKind::Unavailable | FailureKind::OutcomeUnknown => PluginAdminError::Unavailable(
            anyhow!("the service tier reports a dependency unavailable"),
        ),
        FailureKind::Unspecified
        | FailureKind::InvalidCredentials
        | FailureKind::Throttled
        | FailureKind::Conflict
        | FailureKind::SessionNotFound
        | FailureKind::VersionConflict
        | FailureKind::StaleVersion
        | FailureKind::WrongState
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::TooLarge
        | FailureKind::PluginUnavailable
        | FailureKind::PluginFailed => PluginAdminError::Internal(unexpected(&failure)),
    }
}

/// The request path's errors. A service tier that cannot be reached, or whose own dependency
/// is down, is `HostUnreachable`: 503 with `Retry-After`, as for every tier that is down.
pub(crate) fn plugin_error(error: RemoteError) -> PluginError {
    let failure = match error {
        RemoteError::Refused(failure) => failure,
        RemoteError::Unreachable(cause) | RemoteError::NoAnswer(cause) => {
            return PluginError::HostUnreachable(unreachable(cause));
        }
    };
    match failure.kind() {
        FailureKind::NotFound => PluginError::NotFound(plugin_of(failure).0),
        FailureKind::PluginRejected => PluginError::Rejected(plugin_of(failure).1),
        FailureKind::PluginUnavailable => PluginError::Unavailable(plugin_of(failure).0),
        FailureKind::PluginFailed => {
            let (name, reason) = plugin_of(failure);
            PluginError::Failed { name, reason }
        }
        FailureKind::Unspecified
        | FailureKind::Validation
        | FailureKind::InvalidCredentials
        | FailureKind::AccountDisabled
        | FailureKind::Throttled
        | FailureKind::InvalidToken
        | FailureKind::Conflict
        | FailureKind::SessionNotFound
        | FailureKind::Forbidden
        | FailureKind::VersionConflict
        | FailureKind::StaleVersion
        | FailureKind::WrongState
        | FailureKind::Internal
        | FailureKind::PeerRefused
        | FailureKind::TooLarge => PluginError::Internal(unexpected(&failure)),
        FailureKind::Unavailable | FailureKind::OutcomeUnknown => PluginError::HostUnreachable(
            anyhow!("the service tier reports a dependency unavailable"),
        ),
    }
}

fn rejection(rejection: wire::TokenRejection) -> Option<TokenRejection> {
    Some(match rejection {
        wire::TokenRejection::Missing => TokenRejection::Missing,
        wire::TokenRejection::Invalid => TokenRejection::Invalid,
        wire::TokenRejection::Expired => TokenRejection::Expired,
        wire::TokenRejection::Revoked => TokenRejection::Revoked,
        wire::TokenRejection::Reused => TokenRejection::Reused,
        wire::TokenRejection::Superseded => TokenRejection::Superseded,
        wire::TokenRejection::Unspecified => return None,
    })
}

#[cfg(test)]
mod tests;
