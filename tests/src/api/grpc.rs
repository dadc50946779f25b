//! The gRPC side of [`super::Api`], through the generated tonic clients.

use arcana_adapter_grpc::proto::auth::v1 as auth;
use arcana_adapter_grpc::proto::auth::v1::auth_service_client::AuthServiceClient;
use arcana_adapter_grpc::proto::common::v1 as common;
use arcana_adapter_grpc::proto::user::v1 as users;
use arcana_adapter_grpc::proto::user::v1::user_service_client::UserServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

use super::{
    Failure, Kind, ListQuery, NewAccount, Outcome, ProfileChanges, SessionView, SignedIn, UserPage,
    UserView,
};

/// A request carrying `authorization: Bearer <token>` when a token is given.
pub fn with_bearer<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("ASCII token");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// A gRPC status as the protocol-neutral failure.
pub fn failure(status: &Status) -> Failure {
    let kind = match status.code() {
        Code::InvalidArgument => Kind::Invalid,
        Code::Unauthenticated => Kind::Unauthenticated,
        Code::PermissionDenied => Kind::PermissionDenied,
        Code::NotFound => Kind::NotFound,
        Code::AlreadyExists => Kind::Conflict,
        Code::FailedPrecondition => Kind::VersionConflict,
        Code::ResourceExhausted => Kind::Throttled,
        Code::Unavailable => Kind::Unavailable,
        Code::Internal => Kind::Internal,
        other => Kind::Other(format!("{other:?}")),
    };
    let details = status.get_error_details();
    let mut fields: Vec<String> = details
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    Failure {
        kind,
        reason: details
            .error_info()
            .map(|info| info.reason.to_lowercase())
            .unwrap_or_default(),
        message: status.message().to_owned(),
        fields,
        retry_after: details.retry_info().and_then(|retry| retry.retry_delay),
    }
}

/// `moderator` → `ROLE_MODERATOR`; a name the proto does not know becomes an unknown number.
pub fn role_number(role: &str) -> i32 {
    common::Role::from_str_name(&format!("ROLE_{}", role.to_uppercase())).map_or(99, Into::into)
}

pub fn status_number(status: &str) -> i32 {
    common::UserStatus::from_str_name(&format!("USER_STATUS_{}", status.to_uppercase()))
        .map_or(99, Into::into)
}

fn name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_lowercase()
}

pub fn user(user: Option<common::User>) -> UserView {
    let user = user.expect("a user in the response");
    UserView {
        role: name(user.role().as_str_name(), "ROLE_"),
        status: name(user.status().as_str_name(), "USER_STATUS_"),
        id: user.id,
        username: user.username,
        email: user.email,
        display_name: user.display_name,
        avatar_url: user.avatar_url,
        version: user.version,
    }
}

fn outcome<T, U>(
    result: Result<tonic::Response<T>, Status>,
    parse: impl FnOnce(T) -> U,
) -> Outcome<U> {
    result
        .map(|response| parse(response.into_inner()))
        .map_err(|status| failure(&status))
}

macro_rules! signed_in {
    ($response:expr) => {{
        let response = $response;
        SignedIn {
            access: response.access_token,
            refresh: response.refresh_token,
            token_type: response.token_type,
            expires_in: response.expires_in,
            user: user(response.user),
        }
    }};
}

pub(super) async fn register(channel: Channel, account: NewAccount<'_>) -> Outcome<SignedIn> {
    let request = auth::RegisterRequest {
        username: account.username.to_owned(),
        email: account.email.to_owned(),
        password: account.password.to_owned(),
        display_name: None,
    };
    let result = AuthServiceClient::new(channel).register(request).await;
    outcome(result, |r| signed_in!(r))
}

pub(super) async fn login(channel: Channel, identifier: &str, password: &str) -> Outcome<SignedIn> {
    let request = auth::LoginRequest {
        username_or_email: identifier.to_owned(),
        password: password.to_owned(),
    };
    let result = AuthServiceClient::new(channel).login(request).await;
    outcome(result, |r| signed_in!(r))
}

pub(super) async fn refresh(channel: Channel, token: &str) -> Outcome<SignedIn> {
    let request = auth::RefreshRequest {
        refresh_token: token.to_owned(),
    };
    let result = AuthServiceClient::new(channel).refresh(request).await;
    outcome(result, |r| signed_in!(r))
}

pub(super) async fn me(channel: Channel, token: Option<&str>) -> Outcome<UserView> {
    let request = with_bearer(auth::MeRequest {}, token);
    let result = AuthServiceClient::new(channel).me(request).await;
    outcome(result, |r| user(r.user))
}

pub(super) async fn logout(channel: Channel, token: &str, all_sessions: bool) -> Outcome<()> {
    let request = with_bearer(auth::LogoutRequest { all_sessions }, Some(token));
    outcome(
        AuthServiceClient::new(channel).logout(request).await,
        |_| (),
    )
}

pub(super) async fn sessions(channel: Channel, token: &str) -> Outcome<Vec<SessionView>> {
    let request = with_bearer(auth::ListSessionsRequest {}, Some(token));
    let result = AuthServiceClient::new(channel).list_sessions(request).await;
    outcome(result, |r| {
        r.items
            .into_iter()
            .map(|s| SessionView {
                id: s.id,
                current: s.current,
            })
            .collect()
    })
}

pub(super) async fn revoke_session(channel: Channel, token: &str, id: &str) -> Outcome<()> {
    let request = with_bearer(
        auth::RevokeSessionRequest { id: id.to_owned() },
        Some(token),
    );
    outcome(
        AuthServiceClient::new(channel)
            .revoke_session(request)
            .await,
        |_| (),
    )
}

pub(super) async fn change_password(
    channel: Channel,
    token: &str,
    current: &str,
    new: &str,
) -> Outcome<()> {
    let message = auth::ChangePasswordRequest {
        current_password: current.to_owned(),
        new_password: new.to_owned(),
    };
    let request = with_bearer(message, Some(token));
    outcome(
        AuthServiceClient::new(channel)
            .change_password(request)
            .await,
        |_| (),
    )
}

pub(super) async fn list_users(
    channel: Channel,
    token: &str,
    query: ListQuery,
) -> Outcome<UserPage> {
    let message = users::ListUsersRequest {
        limit: query.limit,
        cursor: query.cursor,
        role: query.role.as_deref().map_or(0, role_number),
        status: query.status.as_deref().map_or(0, status_number),
        q: query.q,
    };
    let request = with_bearer(message, Some(token));
    let result = UserServiceClient::new(channel).list(request).await;
    outcome(result, |r| UserPage {
        items: r.items.into_iter().map(|u| user(Some(u))).collect(),
        next_cursor: r.next_cursor,
    })
}

pub(super) async fn get_user(channel: Channel, token: &str, id: &str) -> Outcome<UserView> {
    let request = with_bearer(users::GetUserRequest { id: id.to_owned() }, Some(token));
    outcome(UserServiceClient::new(channel).get(request).await, |r| {
        user(r.user)
    })
}

pub(super) async fn create_user(
    channel: Channel,
    token: &str,
    account: NewAccount<'_>,
) -> Outcome<UserView> {
    let message = users::CreateUserRequest {
        username: account.username.to_owned(),
        email: account.email.to_owned(),
        password: account.password.to_owned(),
        display_name: None,
        role: account.role.map_or(0, role_number),
    };
    let request = with_bearer(message, Some(token));
    outcome(UserServiceClient::new(channel).create(request).await, |r| {
        user(r.user)
    })
}

pub(super) async fn update_user(
    channel: Channel,
    token: &str,
    id: &str,
    changes: ProfileChanges,
) -> Outcome<UserView> {
    let message = users::UpdateUserRequest {
        id: id.to_owned(),
        display_name: changes.display_name,
        avatar_url: changes.avatar_url,
        ..users::UpdateUserRequest::default()
    };
    let request = with_bearer(message, Some(token));
    outcome(UserServiceClient::new(channel).update(request).await, |r| {
        user(r.user)
    })
}

pub(super) async fn set_role(
    channel: Channel,
    token: &str,
    id: &str,
    role: &str,
) -> Outcome<UserView> {
    let message = users::SetRoleRequest {
        id: id.to_owned(),
        role: role_number(role),
    };
    let request = with_bearer(message, Some(token));
    outcome(
        UserServiceClient::new(channel).set_role(request).await,
        |r| user(r.user),
    )
}

pub(super) async fn set_status(
    channel: Channel,
    token: &str,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Outcome<UserView> {
    let message = users::SetStatusRequest {
        id: id.to_owned(),
        status: status_number(status),
        reason: reason.map(ToOwned::to_owned),
    };
    let request = with_bearer(message, Some(token));
    outcome(
        UserServiceClient::new(channel).set_status(request).await,
        |r| user(r.user),
    )
}

pub(super) async fn delete_user(channel: Channel, token: &str, id: &str) -> Outcome<()> {
    let request = with_bearer(users::DeleteUserRequest { id: id.to_owned() }, Some(token));
    outcome(
        UserServiceClient::new(channel).delete(request).await,
        |_| (),
    )
}
