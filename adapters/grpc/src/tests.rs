//! Unit tests of the translation layer: error mapping, bearer parsing, update masks, labels,
//! and the services over mocked use cases.

use std::time::Duration;

use arcana_domain::FieldError;
use arcana_ports::UniqueField;
use arcana_ports::usecases::{AuthError, ManagementError, TokenRejection};
use tonic::Code;
use tonic::metadata::MetadataMap;
use tonic_types::StatusExt;

use crate::errors::{from_auth, from_management};
use crate::extract::bearer_token;
use crate::metrics::{code_name, labels};
use crate::proto::user::v1::UpdateUserRequest;
use crate::users::profile_changes;

fn field(name: &str) -> FieldError {
    FieldError {
        field: name.to_owned(),
        code: "invalid_format".into(),
        message: "is not valid".to_owned(),
    }
}

#[test]
fn validation_errors_become_invalid_argument_with_every_field_violation() {
    let status = from_auth(AuthError::Validation(vec![
        field("email"),
        field("password"),
    ]));
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status
        .get_details_bad_request()
        .expect("bad request details");
    let fields: Vec<&str> = violations
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(fields, ["email", "password"]);
    assert_eq!(violations.field_violations[0].reason, "INVALID_FORMAT");
    assert_eq!(
        status.get_details_error_info().expect("error info").reason,
        "VALIDATION_FAILED"
    );
}

#[test]
fn throttling_is_resource_exhausted_with_the_retry_delay() {
    let retry_after = Duration::from_secs(30);
    let status = from_auth(AuthError::Throttled { retry_after });
    assert_eq!(status.code(), Code::ResourceExhausted);
    let retry = status.get_details_retry_info().expect("retry info");
    assert_eq!(retry.retry_delay, Some(retry_after));
}

#[test]
fn token_rejections_are_unauthenticated_with_the_rest_code_as_reason() {
    let status = from_auth(AuthError::InvalidToken(TokenRejection::Reused));
    assert_eq!(status.code(), Code::Unauthenticated);
    let info = status.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "REFRESH_TOKEN_REUSED");
}

#[test]
fn management_errors_map_to_their_codes_and_conflicts_do_not_echo_values() {
    let cases = [
        (ManagementError::Forbidden, Code::PermissionDenied),
        (ManagementError::NotFound, Code::NotFound),
        (ManagementError::VersionConflict, Code::FailedPrecondition),
        (
            ManagementError::Conflict(UniqueField::Email),
            Code::AlreadyExists,
        ),
        (
            ManagementError::Unavailable(anyhow::anyhow!("pool timed out at 10.0.0.7")),
            Code::Unavailable,
        ),
        (
            ManagementError::Internal(anyhow::anyhow!("secret driver text")),
            Code::Internal,
        ),
    ];
    for (error, code) in cases {
        let status = from_management(error);
        assert_eq!(status.code(), code);
        assert!(!status.message().contains("10.0.0.7") && !status.message().contains("driver"));
    }
}

fn metadata(authorization: &str) -> MetadataMap {
    let mut map = MetadataMap::new();
    map.insert("authorization", authorization.parse().expect("ascii"));
    map
}

#[test]
fn bearer_metadata_is_parsed_and_anything_else_is_rejected() {
    assert_eq!(bearer_token(&metadata("Bearer abc")).ok(), Some("abc"));
    assert_eq!(bearer_token(&metadata("bearer  abc ")).ok(), Some("abc"));
    let rejection = |map: &MetadataMap| match bearer_token(map) {
        Err(AuthError::InvalidToken(rejection)) => Some(rejection),
        _ => None,
    };
    assert_eq!(
        rejection(&MetadataMap::new()),
        Some(TokenRejection::Missing)
    );
    assert_eq!(
        rejection(&metadata("Basic abc")),
        Some(TokenRejection::Invalid)
    );
    assert_eq!(
        rejection(&metadata("Bearer ")),
        Some(TokenRejection::Invalid)
    );
}

fn update(paths: &[&str]) -> UpdateUserRequest {
    UpdateUserRequest {
        display_name: Some("Liam".to_owned()),
        update_mask: (!paths.is_empty()).then(|| prost_types::FieldMask {
            paths: paths.iter().map(ToString::to_string).collect(),
        }),
        ..UpdateUserRequest::default()
    }
}

#[test]
fn without_a_mask_set_fields_change_and_unset_fields_stay() {
    let changes = profile_changes(update(&[])).expect("valid");
    assert_eq!(changes.display_name, Some(Some("Liam".to_owned())));
    assert_eq!(changes.avatar_url, None);
    assert_eq!(changes.username, None);
}

#[test]
fn a_mask_clears_the_named_optional_fields_left_unset() {
    let changes = profile_changes(update(&["avatar_url"])).expect("valid");
    assert_eq!(changes.avatar_url, Some(None), "named and unset: cleared");
    assert_eq!(changes.display_name, None, "set but not named: untouched");
    let errors = profile_changes(update(&["role"])).expect_err("role is not a profile field");
    assert_eq!(errors[0].field, "update_mask");
}

#[test]
fn metric_labels_stay_bounded() {
    assert_eq!(
        labels("/arcana.auth.v1.AuthService/Login", "OK"),
        ("arcana.auth.v1.AuthService", "Login")
    );
    assert_eq!(
        labels("/arcana.auth.v1.AuthService/Made-Up", "UNIMPLEMENTED"),
        ("arcana.auth.v1.AuthService", "unknown")
    );
    assert_eq!(
        labels("/evil.Service/X", "UNIMPLEMENTED"),
        ("unknown", "unknown")
    );
    assert_eq!(code_name(b"16"), "UNAUTHENTICATED");
}

/// A service over a mocked use case: the command it builds from the call (request id from the
/// metadata, the password only as a candidate) and the status the use case's answer becomes.
#[tokio::test]
async fn a_login_reaches_the_use_case_as_typed_and_its_throttling_becomes_resource_exhausted() {
    use std::sync::Arc;

    use arcana_ports::usecases::auth::MockAuthUseCases;

    use crate::auth::GrpcAuthService;
    use crate::proto::auth::v1::LoginRequest;
    use crate::proto::auth::v1::auth_service_server::AuthService as _;

    let mut auth = MockAuthUseCases::new();
    auth.expect_login()
        .withf(|login| {
            login.username_or_email == "ada"
                && login.request.request_id.as_deref() == Some("req-42")
        })
        .times(1)
        .returning(|_| {
            Err(AuthError::Throttled {
                retry_after: Duration::from_secs(7),
            })
        });
    let service = GrpcAuthService {
        auth: Arc::new(auth),
    };
    let mut request = tonic::Request::new(LoginRequest {
        username_or_email: "ada".to_owned(),
        password: "a-long-enough-password".to_owned(),
    });
    request
        .metadata_mut()
        .insert("x-request-id", "req-42".parse().expect("ASCII"));

    let status = service.login(request).await.expect_err("throttled");

    assert_eq!(status.code(), Code::ResourceExhausted);
    let retry = status.get_details_retry_info().expect("retry info");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(7)));
}
