use std::time::Duration;

use arcana_domain::jobs::JobState;
use arcana_domain::{Status, ValueError};
use arcana_ports::usecases::{AuthError, JobsError, ManagementError, TokenRejection};
use arcana_ports::{StoreError, UniqueField};

use super::*;

fn through_the_wire(failure: &Failure) -> RemoteError {
    // Both encodings must carry every field.
    let json = crate::Encoding::Json.encode(failure).unwrap();
    let decoded: Failure = crate::Encoding::Json.decode(&json).unwrap();
    let bytes = crate::Encoding::Protobuf.encode(&decoded).unwrap();
    RemoteError::Refused(crate::Encoding::Protobuf.decode(&bytes).unwrap())
}

fn auth_round_trip(error: AuthError) -> AuthError {
    auth_error(through_the_wire(&from_auth(error)))
}

#[test]
fn every_auth_error_is_rebuilt_exactly_on_the_other_side() {
    let fields = vec![
        ValueError::new("too_short", "must be at least 10 characters").at("password"),
        ValueError::new("invalid_format", "is not an email address").at("email"),
    ];
    let cases = [
        AuthError::Validation(fields),
        AuthError::InvalidCredentials,
        AuthError::AccountDisabled(Status::Suspended),
        AuthError::Throttled {
            retry_after: Duration::from_millis(12_345),
        },
        AuthError::InvalidToken(TokenRejection::Missing),
        AuthError::InvalidToken(TokenRejection::Invalid),
        AuthError::InvalidToken(TokenRejection::Expired),
        AuthError::InvalidToken(TokenRejection::Revoked),
        AuthError::InvalidToken(TokenRejection::Reused),
        AuthError::InvalidToken(TokenRejection::Superseded),
        AuthError::Conflict(UniqueField::Username),
        AuthError::Conflict(UniqueField::Email),
        AuthError::SessionNotFound,
    ];
    for error in cases {
        let expected = format!("{error:?}");
        assert_eq!(format!("{:?}", auth_round_trip(error)), expected);
    }
}

#[test]
fn opaque_failures_keep_their_kind_but_never_their_cause() {
    let unavailable = from_auth(AuthError::Unavailable(anyhow!("db at 10.0.0.7 refused")));
    assert!(!format!("{unavailable:?}").contains("10.0.0.7"));
    assert!(matches!(
        auth_error(through_the_wire(&unavailable)),
        AuthError::Unavailable(_)
    ));
    let internal = from_management(ManagementError::Internal(anyhow!("secret detail")));
    assert!(!format!("{internal:?}").contains("secret"));
    assert!(matches!(
        management_error(through_the_wire(&internal)),
        ManagementError::Internal(_)
    ));
}

#[test]
fn every_management_error_is_rebuilt_exactly_on_the_other_side() {
    let cases = [
        ManagementError::Validation(vec![ValueError::new("unknown", "no such role").at("role")]),
        ManagementError::Forbidden,
        ManagementError::NotFound,
        ManagementError::Conflict(UniqueField::Email),
        ManagementError::VersionConflict,
    ];
    for error in cases {
        let expected = format!("{error:?}");
        let rebuilt = management_error(through_the_wire(&from_management(error)));
        assert_eq!(format!("{rebuilt:?}"), expected);
    }
}

#[test]
fn storage_errors_round_trip_and_an_unreachable_tier_is_unavailable() {
    for error in [
        StoreError::Conflict(UniqueField::Username),
        StoreError::StaleVersion,
        StoreError::NotFound,
        StoreError::TooLarge,
    ] {
        let expected = format!("{error:?}");
        let rebuilt = store_error(through_the_wire(&from_store(&error)));
        assert_eq!(format!("{rebuilt:?}"), expected);
    }
    assert!(matches!(
        store_error(RemoteError::Unreachable(anyhow!("connection refused"))),
        StoreError::Unavailable(_)
    ));
}

/// "Never reached" and "outcome unknown" stay apart across a hop, whether the repository tier
/// reports them of its database or the link itself fails, and neither carries its cause over.
#[test]
fn an_unknown_outcome_stays_unknown_across_the_wire() {
    let unknown = StoreError::OutcomeUnknown(anyhow!("connection to 10.0.0.7 reset mid-query"));
    let sent = from_store(&unknown);
    assert!(!format!("{sent:?}").contains("10.0.0.7"));
    assert!(matches!(
        store_error(through_the_wire(&sent)),
        StoreError::OutcomeUnknown(_)
    ));
    let unavailable = from_store(&StoreError::Unavailable(anyhow!("refused")));
    assert!(matches!(
        store_error(through_the_wire(&unavailable)),
        StoreError::Unavailable(_)
    ));
    assert!(matches!(
        store_error(RemoteError::NoAnswer(anyhow!("no answer within 2s"))),
        StoreError::OutcomeUnknown(_)
    ));
    assert!(matches!(
        auth_error(RemoteError::NoAnswer(anyhow!("no answer within 2s"))),
        AuthError::Unavailable(_)
    ));
}

#[test]
fn a_failure_of_another_vocabulary_becomes_an_internal_error() {
    let forbidden = through_the_wire(&from_management(ManagementError::Forbidden));
    assert!(matches!(store_error(forbidden), StoreError::Other(_)));
}

#[test]
fn every_jobs_error_is_rebuilt_exactly_on_the_other_side() {
    let mut cases = vec![
        JobsError::Validation(vec![
            ValueError::new("invalid_name", "1 to 64 letters").at("name"),
            ValueError::new("out_of_range", "must be between 1 and 100").at("max_attempts"),
        ]),
        JobsError::Forbidden,
        JobsError::NotFound,
    ];
    cases.extend(JobState::ALL.map(JobsError::WrongState));
    for error in cases {
        let expected = format!("{error:?}");
        let rebuilt = jobs_error(through_the_wire(&from_jobs(error)));
        assert_eq!(format!("{rebuilt:?}"), expected);
    }
}

#[test]
fn opaque_jobs_failures_keep_their_kind_and_an_unreachable_tier_is_unavailable() {
    let unavailable = from_jobs(JobsError::Unavailable(anyhow!("redis at 10.0.0.9 refused")));
    assert!(!format!("{unavailable:?}").contains("10.0.0.9"));
    assert!(matches!(
        jobs_error(through_the_wire(&unavailable)),
        JobsError::Unavailable(_)
    ));
    let internal = from_jobs(JobsError::Internal(anyhow!("secret detail")));
    assert!(matches!(
        jobs_error(through_the_wire(&internal)),
        JobsError::Internal(_)
    ));
    assert!(matches!(
        jobs_error(RemoteError::Unreachable(anyhow!("connection refused"))),
        JobsError::Unavailable(_)
    ));
}

#[test]
fn a_wrong_state_without_a_state_a_tier_could_send_is_an_internal_error() {
    let garbled = Failure {
        job_state: "sideways".into(),
        ..failure(FailureKind::WrongState)
    };
    assert!(matches!(
        jobs_error(through_the_wire(&garbled)),
        JobsError::Internal(_)
    ));
    let revoked = from_auth(AuthError::InvalidToken(TokenRejection::Revoked));
    assert!(matches!(
        jobs_error(through_the_wire(&revoked)),
        JobsError::Forbidden
    ));
}

#[test]
fn every_plugin_admin_error_is_rebuilt_exactly_on_the_other_side() {
    use arcana_ports::usecases::PluginAdminError;
    let cases = [
        PluginAdminError::Validation(vec![
            ValueError::new("invalid_format", "lowercase letters").at("name"),
        ]),
        PluginAdminError::Forbidden,
        PluginAdminError::NotFound,
        PluginAdminError::Rejected("signature does not verify".to_owned()),
    ];
    for error in cases {
        let expected = format!("{error:?}");
        let rebuilt = plugin_admin_error(through_the_wire(&from_plugin_admin(error)));
        assert_eq!(format!("{rebuilt:?}"), expected);
    }
    let unavailable = from_plugin_admin(PluginAdminError::Unavailable(anyhow!("host at 10.0.0.9")));
    assert!(!format!("{unavailable:?}").contains("10.0.0.9"));
    assert!(matches!(
        plugin_admin_error(through_the_wire(&unavailable)),
        PluginAdminError::Unavailable(_)
    ));
}

#[test]
fn every_plugin_request_error_is_rebuilt_exactly_on_the_other_side() {
    use arcana_ports::plugins::PluginError;
    let cases = [
        PluginError::NotFound("audit".to_owned()),
        PluginError::Rejected("not a component".to_owned()),
        PluginError::Unavailable("audit".to_owned()),
        PluginError::Failed {
            name: "looper".to_owned(),
            reason: "ran past its 5 ms budget".to_owned(),
        },
    ];
    for error in cases {
        let expected = format!("{error:?}");
        let rebuilt = plugin_error(through_the_wire(&from_plugin(error)));
        assert_eq!(format!("{rebuilt:?}"), expected);
    }
    let internal = from_plugin(PluginError::Internal(anyhow!("secret detail")));
    assert!(!format!("{internal:?}").contains("secret"));
    assert!(matches!(
        plugin_error(through_the_wire(&internal)),
        PluginError::Internal(_)
    ));
    // A service tier that is down is no plugin's failure: the host is unreachable (503).
    let down = RemoteError::Unreachable(anyhow!("connection refused"));
    assert!(matches!(
        plugin_error(down),
        PluginError::HostUnreachable(_)
    ));
    let behind = from_plugin(PluginError::HostUnreachable(anyhow!("kv at 10.0.0.3")));
    assert!(!format!("{behind:?}").contains("10.0.0.3"));
    assert!(matches!(
        plugin_error(through_the_wire(&behind)),
        PluginError::HostUnreachable(_)
    ));
}
