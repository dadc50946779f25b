//! The authorization matrix over gRPC: every protected RPC refuses a missing, malformed,
//! tampered, expired or revoked token with UNAUTHENTICATED, and a too-low role with
//! PERMISSION_DENIED; nobody raises their own role or acts on a higher rank. (The reference
//! system's gRPC port let anyone make themselves superadmin.)

use std::time::Duration;

use arcana_adapter_grpc::proto::auth::v1 as auth;
use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;
use arcana_adapter_grpc::proto::user::v1 as users;
use arcana_adapter_grpc::proto::user::v1::user_service_client::UserServiceClient;
use arcana_tests::TestApp;
use arcana_tests::api::grpc::{role_number, status_number, with_bearer};
use arcana_tests::api::{Api, Protocol};
use tonic::Code;
use tonic::transport::Channel;

use crate::{BIN, PASSWORD};

/// The code a call ended with.
macro_rules! code {
    ($call:expr) => {
        match $call.await {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        }
    };
}

/// Calls every protected RPC with `token` (aimed at `target` where it takes an id) and returns
/// each RPC's name and code: the five of `AuthService` first, then the seven of `UserService`.
async fn every_protected_rpc(
    channel: &Channel,
    token: Option<&str>,
    target: &str,
) -> Vec<(&'static str, Code)> {
    let mut answers = auth_rpcs(channel, token, target).await;
    answers.extend(user_rpcs(channel, token, target).await);
    answers
}

async fn auth_rpcs(channel: &Channel, token: Option<&str>, id: &str) -> Vec<(&'static str, Code)> {
    let mut client = AuthServiceClient::new(channel.clone());
    let password = auth::ChangePasswordRequest {
        current_password: PASSWORD.into(),
        new_password: "a-new-long-password".into(),
    };
    let revoke = auth::RevokeSessionRequest { id: id.to_owned() };
    vec![
        (
            "Logout",
            code!(client.logout(with_bearer(auth::LogoutRequest::default(), token))),
        ),
        (
            "Me",
            code!(client.me(with_bearer(auth::MeRequest {}, token))),
        ),
        (
            "ListSessions",
            code!(client.list_sessions(with_bearer(auth::ListSessionsRequest {}, token))),
        ),
        (
            "RevokeSession",
            code!(client.revoke_session(with_bearer(revoke, token))),
        ),
        (
            "ChangePassword",
            code!(client.change_password(with_bearer(password, token))),
        ),
    ]
}

async fn user_rpcs(channel: &Channel, token: Option<&str>, id: &str) -> Vec<(&'static str, Code)> {
    let mut client = UserServiceClient::new(channel.clone());
    let create = users::CreateUserRequest {
        username: "made-up".into(),
        email: "made-up@example.com".into(),
        password: PASSWORD.into(),
        role: role_number("superadmin"),
        ..Default::default()
    };
    let update = users::UpdateUserRequest {
        id: id.to_owned(),
        display_name: Some("Taken Over".into()),
        ..Default::default()
    };
    let set_role = users::SetRoleRequest {
        id: id.to_owned(),
        role: role_number("superadmin"),
    };
    let set_status = users::SetStatusRequest {
        id: id.to_owned(),
        status: status_number("suspended"),
        reason: None,
    };
    let get = users::GetUserRequest { id: id.to_owned() };
    let delete = users::DeleteUserRequest { id: id.to_owned() };
    vec![
        (
            "List",
            code!(client.list(with_bearer(users::ListUsersRequest::default(), token))),
        ),
        ("Get", code!(client.get(with_bearer(get, token)))),
        ("Create", code!(client.create(with_bearer(create, token)))),
        ("Update", code!(client.update(with_bearer(update, token)))),
        (
            "SetRole",
            code!(client.set_role(with_bearer(set_role, token))),
        ),
        (
            "SetStatus",
            code!(client.set_status(with_bearer(set_status, token))),
        ),
        ("Delete", code!(client.delete(with_bearer(delete, token)))),
    ]
}

fn assert_all(answers: &[(&str, Code)], expected: Code, case: &str) {
    for (rpc, code) in answers {
        assert_eq!(*code, expected, "{rpc} with {case}");
    }
}

/// Flips one character of the signature, keeping the token well formed.
fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

#[tokio::test]
async fn every_protected_rpc_refuses_missing_malformed_tampered_and_revoked_tokens() {
    let app = TestApp::spawn(BIN, &[]).await;
    let api = Api::new(&app, Protocol::Grpc).await;
    let channel = app.grpc_channel().await;
    let root = api.root().await;
    let target = root.user.id.as_str();
    let revoked = api.login_ok("root", arcana_tests::ROOT_PASSWORD).await;
    api.logout(&revoked.access, false).await.expect("logout");

    for (case, token) in [
        ("no token", None),
        ("a malformed token", Some("not.a.jwt".to_owned())),
        ("a tampered token", Some(tampered(&root.access))),
        ("a revoked token", Some(revoked.access.clone())),
    ] {
        let answers = every_protected_rpc(&channel, token.as_deref(), target).await;
        assert_all(&answers, Code::Unauthenticated, case);
    }
    let fresh = api
        .me(&root.access)
        .await
        .expect("root's own token still works");
    assert_eq!(fresh.role, "superadmin", "nothing above changed root");
}

#[tokio::test]
async fn every_protected_rpc_refuses_an_expired_token() {
    let app = TestApp::spawn(BIN, &[("ARCANA_SECURITY__ACCESS_TTL_SECS", "1")]).await;
    let api = Api::new(&app, Protocol::Grpc).await;
    let root = api.root().await;
    // Tokens live one second here: poll (bounded) until this one has expired.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while api.me(&root.access).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token never expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let channel = app.grpc_channel().await;
    let answers = every_protected_rpc(&channel, Some(&root.access), &root.user.id).await;
    assert_all(&answers, Code::Unauthenticated, "an expired token");
}

#[tokio::test]
async fn too_low_roles_are_denied_and_nobody_raises_their_own_rank_or_acts_above_it() {
    let app = TestApp::spawn(BIN, &[]).await;
    let api = Api::new(&app, Protocol::Grpc).await;
    let channel = app.grpc_channel().await;
    let root = api.root().await;
    let admin = api.create_user_ok(&root, "ursula", "admin", PASSWORD).await;
    let moderator = api
        .create_user_ok(&root, "victor", "moderator", PASSWORD)
        .await;
    let user = api.create_user_ok(&root, "wendy", "user", PASSWORD).await;

    // A plain user aiming at the moderator: every user-management RPC is refused.
    let answers = user_rpcs(&channel, Some(&user.access), &moderator.user.id).await;
    assert_all(
        &answers,
        Code::PermissionDenied,
        "a user acting on a moderator",
    );
    // An admin may list and read, but neither create a superadmin nor touch root.
    let answers = user_rpcs(&channel, Some(&admin.access), &root.user.id).await;
    assert_eq!(answers[..2], [("List", Code::Ok), ("Get", Code::Ok)]);
    assert_all(
        &answers[2..],
        Code::PermissionDenied,
        "an admin acting on root",
    );

    for (who, token, id) in [
        ("user", &user.access, &user.user.id),
        ("moderator", &moderator.access, &moderator.user.id),
        ("admin", &admin.access, &admin.user.id),
    ] {
        for role in ["moderator", "admin", "superadmin"] {
            let raised = api.set_role(token, id, role).await;
            assert!(raised.is_err(), "a {who} made itself {role}");
        }
    }
    let roles = [
        api.me(&user.access).await.expect("user").role,
        api.me(&moderator.access).await.expect("moderator").role,
        api.me(&admin.access).await.expect("admin").role,
    ];
    assert_eq!(
        roles,
        ["user", "moderator", "admin"],
        "nobody's role changed"
    );
}
