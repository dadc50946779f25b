//! End-to-end account lifecycle against the real `arcana` binary. Each scenario is written once
//! against [`Api`] and run over REST on every storage backend (memory, SQLite, PostgreSQL,
//! MySQL/MariaDB) and over gRPC on memory and PostgreSQL, so both protocols are held to the
//! same outcomes. Every test starts its own server process on its own database.

#[path = "accounts/admin.rs"]
mod admin;
#[path = "accounts/rest.rs"]
mod rest;

use std::time::Duration;

use arcana_tests::api::{Api, Kind, NewAccount, Protocol, kind};
use arcana_tests::{ROOT_PASSWORD, Storage, Target, TestApp};

use admin::{
    an_admin_cannot_act_on_an_equal_or_higher_rank,
    profiles_are_patched_by_their_owner_with_http_urls_only,
    suspension_and_demotion_take_effect_on_the_next_request,
    users_are_listed_with_cursor_pagination_and_filters,
};

const BIN: &str = env!("CARGO_BIN_EXE_arcana");
const PASSWORD: &str = "a-long-enough-password";

/// Runs each scenario as its own test per protocol and backend. Backends whose service is not
/// configured skip (or fail, under `ARCANA_TEST_REQUIRE_SERVICES=1`).
macro_rules! over_both_protocols {
    ($($scenario:ident),* $(,)?) => {
        mod rest_memory { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Memory.into(), crate::Protocol::Rest).await; })* }
        mod rest_sqlite { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Sqlite.into(), crate::Protocol::Rest).await; })* }
        mod rest_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Postgres.into(), crate::Protocol::Rest).await; })* }
        mod rest_mysql { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Mysql.into(), crate::Protocol::Rest).await; })* }
        mod grpc_memory { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Memory.into(), crate::Protocol::Grpc).await; })* }
        mod grpc_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Storage::Postgres.into(), crate::Protocol::Grpc).await; })* }
        // The same scenarios against the controller of a layered deployment (three processes;
        // internal gRPC with mutual TLS, or internal HTTP with TLS and a credential), with the
        // repository tier on SQLite and on PostgreSQL.
        mod layered_grpc_rest_sqlite { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_grpc(crate::Storage::Sqlite), crate::Protocol::Rest).await; })* }
        mod layered_grpc_grpc_sqlite { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_grpc(crate::Storage::Sqlite), crate::Protocol::Grpc).await; })* }
        mod layered_grpc_rest_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_grpc(crate::Storage::Postgres), crate::Protocol::Rest).await; })* }
        mod layered_grpc_grpc_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_grpc(crate::Storage::Postgres), crate::Protocol::Grpc).await; })* }
        mod layered_http_rest_sqlite { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_http(crate::Storage::Sqlite), crate::Protocol::Rest).await; })* }
        mod layered_http_grpc_sqlite { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_http(crate::Storage::Sqlite), crate::Protocol::Grpc).await; })* }
        mod layered_http_rest_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_http(crate::Storage::Postgres), crate::Protocol::Rest).await; })* }
        mod layered_http_grpc_postgres { $(#[tokio::test] async fn $scenario() { crate::$scenario(crate::Target::layered_http(crate::Storage::Postgres), crate::Protocol::Grpc).await; })* }
    };
}

over_both_protocols!(
    register_login_me_and_refresh_rotate_tokens,
    replaying_a_rotated_refresh_token_revokes_the_whole_family,
    logout_makes_the_current_access_token_fail_at_once,
    changing_the_password_revokes_the_other_sessions,
    suspension_and_demotion_take_effect_on_the_next_request,
    an_admin_cannot_act_on_an_equal_or_higher_rank,
    unknown_user_and_wrong_password_give_identical_responses,
    repeated_failures_lock_the_account_identifier_out_with_retry_after,
    invalid_fields_are_reported_together_and_conflicts_echo_no_value,
    users_are_listed_with_cursor_pagination_and_filters,
    profiles_are_patched_by_their_owner_with_http_urls_only,
    a_seeded_superadmin_can_sign_in_and_open_registration_grants_no_role,
);

async fn register_login_me_and_refresh_rotate_tokens(storage: Target, protocol: Protocol) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let registered = api.register_ok("alice", PASSWORD).await;
    assert_eq!(registered.token_type, "Bearer");
    assert_eq!(registered.user.role, "user");
    assert_eq!(registered.user.status, "active");
    assert!(registered.expires_in > 0);

    let login = api.login_ok("ALICE@example.com", PASSWORD).await;
    let me = api.me(&login.access).await.expect("me");
    assert_eq!(me.username, "alice");
    assert_eq!(me.email, "alice@example.com");

    let rotated = api.refresh(&login.refresh).await.expect("rotation");
    assert_ne!(rotated.refresh, login.refresh);
    api.me(&rotated.access)
        .await
        .expect("the new access token works");
    assert_eq!(
        kind(&api.refresh(&login.refresh).await),
        Some(Kind::Unauthenticated),
        "the rotated refresh token is refused"
    );
}

async fn replaying_a_rotated_refresh_token_revokes_the_whole_family(
    storage: Target,
    protocol: Protocol,
) {
    let env = [("ARCANA_SECURITY__REFRESH_GRACE_SECS", "0")];
    let Some(app) = TestApp::on(BIN, storage, &env).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let first = api.register_ok("bob", PASSWORD).await;
    let second = api.refresh(&first.refresh).await.expect("rotation");

    let replay = api
        .refresh(&first.refresh)
        .await
        .expect_err("replay refused");
    assert_eq!(replay.kind, Kind::Unauthenticated);
    assert_eq!(replay.reason, "refresh_token_reused");

    let branch = api.refresh(&second.refresh).await;
    assert_eq!(
        kind(&branch),
        Some(Kind::Unauthenticated),
        "the legitimate branch dies with the family"
    );
    assert_eq!(
        kind(&api.me(&second.access).await),
        Some(Kind::Unauthenticated),
        "its access token too"
    );
}

async fn logout_makes_the_current_access_token_fail_at_once(storage: Target, protocol: Protocol) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let tokens = api.register_ok("carol", PASSWORD).await;
    let other = api.login_ok("carol", PASSWORD).await;
    api.me(&tokens.access).await.expect("signed in");

    api.logout(&tokens.access, false).await.expect("logout");
    let refused = api.me(&tokens.access).await.expect_err("logged out");
    assert_eq!(
        (refused.kind, refused.reason.as_str()),
        (Kind::Unauthenticated, "token_revoked")
    );
    assert_eq!(
        kind(&api.refresh(&tokens.refresh).await),
        Some(Kind::Unauthenticated)
    );
    api.me(&other.access)
        .await
        .expect("other sessions survive a single logout");

    api.logout(&other.access, true)
        .await
        .expect("logout everywhere");
    assert_eq!(
        kind(&api.me(&other.access).await),
        Some(Kind::Unauthenticated)
    );
}

async fn changing_the_password_revokes_the_other_sessions(storage: Target, protocol: Protocol) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let here = api.register_ok("dave", PASSWORD).await;
    let elsewhere = api.login_ok("dave", PASSWORD).await;
    let new_password = "another-long-password";

    let wrong = api
        .change_password(&here.access, "not-the-password", new_password)
        .await;
    assert_eq!(kind(&wrong), Some(Kind::Invalid));
    api.change_password(&here.access, PASSWORD, new_password)
        .await
        .expect("password changed");

    api.me(&here.access)
        .await
        .expect("the session that changed it stays");
    assert_eq!(
        kind(&api.me(&elsewhere.access).await),
        Some(Kind::Unauthenticated)
    );
    assert_eq!(
        kind(&api.login("dave", PASSWORD).await),
        Some(Kind::Unauthenticated)
    );
    api.login_ok("dave", new_password).await;

    let sessions = api.sessions(&here.access).await.expect("sessions");
    assert_eq!(
        sessions.len(),
        2,
        "the changing session and the new login: {sessions:?}"
    );
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
}

async fn unknown_user_and_wrong_password_give_identical_responses(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    api.register_ok("ivan", PASSWORD).await;
    let wrong = api
        .login("ivan", "wrong-password-here")
        .await
        .expect_err("refused");
    let unknown = api
        .login("nobody-here", "wrong-password-here")
        .await
        .expect_err("refused");
    assert_eq!(wrong, unknown);
    assert_eq!(
        (wrong.kind, wrong.reason.as_str()),
        (Kind::Unauthenticated, "invalid_credentials")
    );
}

async fn repeated_failures_lock_the_account_identifier_out_with_retry_after(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    api.register_ok("judy", PASSWORD).await;
    for _ in 0..5 {
        let refused = api.login("judy", "wrong-password-here").await;
        assert_eq!(kind(&refused), Some(Kind::Unauthenticated));
    }
    let locked = api.login("judy", PASSWORD).await.expect_err("locked out");
    assert_eq!(locked.kind, Kind::Throttled);
    assert!(
        locked
            .retry_after
            .is_some_and(|wait| wait >= Duration::from_secs(1)),
        "{locked:?}"
    );
    let other = api.login("unknown-judy", "wrong-password-here").await;
    assert_eq!(
        kind(&other),
        Some(Kind::Unauthenticated),
        "other identifiers are not affected"
    );
}

async fn invalid_fields_are_reported_together_and_conflicts_echo_no_value(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let invalid = api
        .register(NewAccount::new("a@b", "not-an-email", "short"))
        .await
        .expect_err("invalid");
    assert_eq!(invalid.kind, Kind::Invalid);
    assert_eq!(invalid.fields, ["email", "password", "username"]);
    assert!(
        !format!("{invalid:?}").contains("not-an-email"),
        "rejected values are not echoed"
    );

    api.register_ok("kate", PASSWORD).await;
    let again = api
        .register(NewAccount::new("KATE", "other@example.com", PASSWORD))
        .await
        .expect_err("taken");
    assert_eq!(
        (again.kind.clone(), again.fields.as_slice()),
        (Kind::Conflict, ["username".to_owned()].as_slice())
    );
    let text = format!("{again:?}");
    assert!(!text.contains("KATE") && !text.contains("kate"), "{text}");

    assert_eq!(kind(&api.me_anonymous().await), Some(Kind::Unauthenticated));
    assert_eq!(
        kind(&api.me("not.a.jwt").await),
        Some(Kind::Unauthenticated)
    );
}

async fn a_seeded_superadmin_can_sign_in_and_open_registration_grants_no_role(
    storage: Target,
    protocol: Protocol,
) {
    let Some(app) = TestApp::on(BIN, storage, &[]).await else {
        return;
    };
    let api = Api::new(&app, protocol).await;
    let root = api.login_ok("root", ROOT_PASSWORD).await;
    assert_eq!(root.user.role, "superadmin");
    // REST sends the role field, which registration ignores; the gRPC message has none.
    let sneaky = NewAccount {
        role: Some("superadmin"),
        ..NewAccount::new("nina", "nina@example.com", PASSWORD)
    };
    let registered = api.register(sneaky).await.expect("registered");
    assert_eq!(registered.user.role, "user");
}
