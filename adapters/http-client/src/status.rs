//! Internal failures as HTTP answers and back: the status says roughly what happened (for
//! operators reading access logs), the body carries the exact [`Failure`] for the calling tier.

use arcana_adapter_internal::RemoteError;
use arcana_adapter_internal::wire::{Failure, FailureKind};
use axum::response::{IntoResponse as _, Response};
use http::{HeaderValue, StatusCode, header};

/// The media type of a [`Failure`] body. Only an answer that says it is one is read as the
/// callee's refusal; any other non-2xx answer (a proxy's error page, a listener that is not
/// ours) means the callee was not reached, or its outcome is unknown.
pub(crate) const FAILURE_MEDIA_TYPE: &str = "application/vnd.arcana.failure+json";

fn status_of(kind: FailureKind) -> StatusCode {
    match kind {
        FailureKind::Validation | FailureKind::PluginRejected => StatusCode::UNPROCESSABLE_ENTITY,
        // On this transport the peer is identified by its credential, so a refused peer is an
        // unauthenticated one (gRPC, where the certificate is already verified, says
        // PERMISSION_DENIED).
        FailureKind::InvalidCredentials | FailureKind::InvalidToken | FailureKind::PeerRefused => {
            StatusCode::UNAUTHORIZED
        }
        FailureKind::AccountDisabled | FailureKind::Forbidden => StatusCode::FORBIDDEN,
        FailureKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        FailureKind::Conflict => StatusCode::CONFLICT,
        FailureKind::SessionNotFound | FailureKind::NotFound => StatusCode::NOT_FOUND,
        FailureKind::VersionConflict | FailureKind::StaleVersion | FailureKind::WrongState => {
            StatusCode::PRECONDITION_FAILED
        }
        FailureKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        FailureKind::Unavailable | FailureKind::OutcomeUnknown | FailureKind::PluginUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        FailureKind::PluginFailed => StatusCode::BAD_GATEWAY,
        FailureKind::Internal | FailureKind::Unspecified => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn failure_response(failure: &Failure) -> Response {
    let status = status_of(failure.kind());
    match serde_json::to_vec(failure) {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(FAILURE_MEDIA_TYPE),
            )],
            body,
        )
            .into_response(),
        // Never for a message of strings and numbers; the caller then sees an outcome unknown.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// What a non-2xx answer means to the caller: the callee's own failure when the body is one,
/// otherwise a callee that was not reached or did not finish.
pub(crate) fn into_remote_error(
    status: StatusCode,
    content_type: Option<&HeaderValue>,
    body: &[u8],
    tier: &str,
) -> RemoteError {
    let is_failure =
        content_type.is_some_and(|value| value.as_bytes() == FAILURE_MEDIA_TYPE.as_bytes());
    if is_failure && let Ok(failure) = serde_json::from_slice::<Failure>(body) {
        return RemoteError::Refused(failure);
    }
    // Someone answered, but not the callee's code: it may have run the call (a proxy's 502
    // after the callee died mid-call).
    RemoteError::NoAnswer(anyhow::anyhow!(
        "the {tier} tier's internal listener answered HTTP {status} without a failure"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind) -> Failure {
        Failure {
            kind: kind.into(),
            unique_field: "email".into(),
            ..Failure::default()
        }
    }

    #[tokio::test]
    async fn a_failure_answer_comes_back_as_the_same_failure() {
        let sent = failure(FailureKind::Conflict);
        let response = failure_response(&sent);
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let back = into_remote_error(
            StatusCode::CONFLICT,
            content_type.as_ref(),
            &body,
            "repository",
        );
        assert!(matches!(back, RemoteError::Refused(received) if received == sent));
    }

    #[test]
    fn a_json_answer_of_another_media_type_is_not_a_failure() {
        let body = serde_json::to_vec(&failure(FailureKind::NotFound)).unwrap();
        let json = HeaderValue::from_static("application/json");
        let outcome = into_remote_error(StatusCode::NOT_FOUND, Some(&json), &body, "repository");
        assert!(matches!(outcome, RemoteError::NoAnswer(_)));
    }

    #[test]
    fn a_failure_media_type_over_garbage_is_not_a_failure() {
        let media = HeaderValue::from_static(FAILURE_MEDIA_TYPE);
        let outcome =
            into_remote_error(StatusCode::BAD_GATEWAY, Some(&media), b"<html>", "service");
        assert!(matches!(outcome, RemoteError::NoAnswer(_)));
    }

    #[test]
    fn storage_failures_map_to_the_statuses_operators_expect() {
        let cases = [
            (FailureKind::Validation, 422),
            (FailureKind::PeerRefused, 401),
            (FailureKind::Forbidden, 403),
            (FailureKind::Throttled, 429),
            (FailureKind::Conflict, 409),
            (FailureKind::NotFound, 404),
            (FailureKind::StaleVersion, 412),
            (FailureKind::TooLarge, 413),
            (FailureKind::Unavailable, 503),
            (FailureKind::OutcomeUnknown, 503),
            (FailureKind::Internal, 500),
        ];
        for (kind, code) in cases {
            assert_eq!(status_of(kind).as_u16(), code, "{kind:?}");
        }
    }
}
