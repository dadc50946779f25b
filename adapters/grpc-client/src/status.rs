//! Internal failures as gRPC statuses and back: the code says roughly what happened (for
//! operators reading traces), the details carry the exact [`Failure`] for the calling tier.

use arcana_adapter_internal::RemoteError;
use arcana_adapter_internal::wire::{Failure, FailureKind};
use bytes::Bytes;
use prost::Message;
use tonic::{Code, Status};

pub(crate) fn from_failure(failure: &Failure) -> Status {
    let code = match failure.kind() {
        FailureKind::Validation | FailureKind::TooLarge | FailureKind::PluginRejected => {
            Code::InvalidArgument
        }
        FailureKind::InvalidCredentials | FailureKind::InvalidToken => Code::Unauthenticated,
        FailureKind::AccountDisabled | FailureKind::Forbidden | FailureKind::PeerRefused => {
            Code::PermissionDenied
        }
        FailureKind::Throttled => Code::ResourceExhausted,
        FailureKind::Conflict => Code::AlreadyExists,
        FailureKind::SessionNotFound | FailureKind::NotFound => Code::NotFound,
        FailureKind::VersionConflict | FailureKind::StaleVersion | FailureKind::WrongState => {
            Code::FailedPrecondition
        }
        FailureKind::Unavailable | FailureKind::OutcomeUnknown | FailureKind::PluginUnavailable => {
            Code::Unavailable
        }
        FailureKind::PluginFailed => Code::Aborted,
        FailureKind::Internal | FailureKind::Unspecified => Code::Internal,
    };
    let message = failure.kind().as_str_name().to_ascii_lowercase();
    Status::with_details(code, message, Bytes::from(failure.encode_to_vec()))
}

/// A status with a [`Failure`] in its details is the callee's answer; any other status was
/// produced by the transport. `UNAVAILABLE` is what tonic says when it could not connect or
/// the peer refused the stream before processing it (the callee was not reached); any other
/// (deadline, cancelled, a reset mid-call) leaves the outcome unknown.
pub(crate) fn into_remote_error(status: &Status) -> RemoteError {
    if !status.details().is_empty()
        && let Ok(failure) = Failure::decode(status.details())
    {
        return RemoteError::Refused(failure);
    }
    let cause = anyhow::anyhow!("gRPC {:?}: {}", status.code(), status.message());
    if status.code() == Code::Unavailable {
        RemoteError::Unreachable(cause)
    } else {
        RemoteError::NoAnswer(cause)
    }
}
