//! One client for both protocols: every account operation over REST or gRPC, answering with
//! protocol-neutral outcomes, so that one scenario holds both protocols to the same expectations.

pub mod grpc;
mod rest;

use std::time::Duration;

use tonic::transport::Channel;

use crate::{ROOT_PASSWORD, ROOT_USERNAME, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Rest,
    Grpc,
}

/// What a call came to: the value, or a failure described in terms both protocols share.
pub type Outcome<T> = Result<T, Failure>;

/// A refused call. REST statuses and gRPC codes map onto the same [`Kind`]; `reason` is the
/// problem `code` (REST) or the `google.rpc.ErrorInfo` reason in lower case (gRPC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Kind,
    pub reason: String,
    pub message: String,
    /// Fields named by a validation or conflict failure, sorted.
    pub fields: Vec<String>,
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// 400/422 — INVALID_ARGUMENT.
    Invalid,
    /// 401 — UNAUTHENTICATED.
    Unauthenticated,
    /// 403 — PERMISSION_DENIED.
    PermissionDenied,
    /// 404 — NOT_FOUND.
    NotFound,
    /// 409 — ALREADY_EXISTS.
    Conflict,
    /// 409 `version_conflict` — FAILED_PRECONDITION.
    VersionConflict,
    /// 429 — RESOURCE_EXHAUSTED.
    Throttled,
    /// 503 — UNAVAILABLE.
    Unavailable,
    /// 500 — INTERNAL.
    Internal,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    /// `user`, `moderator` … as in the REST JSON.
    pub role: String,
    pub status: String,
    pub version: u64,
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access: String,
    pub refresh: String,
    pub token_type: String,
    pub expires_in: u64,
    pub user: UserView,
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

impl UserPage {
    pub fn usernames(&self) -> Vec<&str> {
        self.items.iter().map(|u| u.username.as_str()).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

/// Fields to set; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Option<&'a str>,
}

impl<'a> NewAccount<'a> {
    pub fn new(username: &'a str, email: &'a str, password: &'a str) -> Self {
        Self {
            username,
            email,
            password,
            role: None,
        }
    }
}

/// A client of one protocol against one [`TestApp`].
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub protocol: Protocol,
    channel: Option<Channel>,
}

/// Calls the REST or the gRPC implementation of the same operation.
macro_rules! both {
    ($self:ident, $op:ident($($arg:expr),*)) => {
        match &$self.channel {
            None => rest::$op($self.app, $($arg),*).await,
            Some(channel) => grpc::$op(channel.clone(), $($arg),*).await,
        }
    };
}

impl<'a> Api<'a> {
    pub async fn new(app: &'a TestApp, protocol: Protocol) -> Self {
        let channel = match protocol {
            Protocol::Rest => None,
            Protocol::Grpc => Some(app.grpc_channel().await),
        };
        Self {
            app,
            protocol,
            channel,
        }
    }

    pub async fn register(&self, account: NewAccount<'_>) -> Outcome<SignedIn> {
        both!(self, register(account))
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Outcome<SignedIn> {
        both!(self, login(identifier, password))
    }

    pub async fn refresh(&self, refresh_token: &str) -> Outcome<SignedIn> {
        both!(self, refresh(refresh_token))
    }

    pub async fn me(&self, token: &str) -> Outcome<UserView> {
        both!(self, me(Some(token)))
    }

    /// `me` with no credentials at all.
    pub async fn me_anonymous(&self) -> Outcome<UserView> {
        both!(self, me(None))
    }

    pub async fn logout(&self, token: &str, all_sessions: bool) -> Outcome<()> {
        both!(self, logout(token, all_sessions))
    }

    pub async fn sessions(&self, token: &str) -> Outcome<Vec<SessionView>> {
        both!(self, sessions(token))
    }

    pub async fn revoke_session(&self, token: &str, id: &str) -> Outcome<()> {
        both!(self, revoke_session(token, id))
    }

    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Outcome<()> {
        both!(self, change_password(token, current, new))
    }

    pub async fn list_users(&self, token: &str, query: ListQuery) -> Outcome<UserPage> {
        both!(self, list_users(token, query))
    }

    pub async fn get_user(&self, token: &str, id: &str) -> Outcome<UserView> {
        both!(self, get_user(token, id))
    }

    pub async fn create_user(&self, token: &str, account: NewAccount<'_>) -> Outcome<UserView> {
        both!(self, create_user(token, account))
    }

    pub async fn update_user(
        &self,
        token: &str,
        id: &str,
        changes: ProfileChanges,
    ) -> Outcome<UserView> {
        both!(self, update_user(token, id, changes))
    }

    pub async fn set_role(&self, token: &str, id: &str, role: &str) -> Outcome<UserView> {
        both!(self, set_role(token, id, role))
    }

    pub async fn set_status(
        &self,
        token: &str,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Outcome<UserView> {
        both!(self, set_status(token, id, status, reason))
    }

    pub async fn delete_user(&self, token: &str, id: &str) -> Outcome<()> {
        both!(self, delete_user(token, id))
    }

    /// Registers `username` (email `<username>@example.com`), which must succeed.
    pub async fn register_ok(&self, username: &str, password: &str) -> SignedIn {
        let email = format!("{username}@example.com");
        self.register(NewAccount::new(username, &email, password))
            .await
            .unwrap_or_else(|failure| panic!("registering {username}: {failure:?}"))
    }

    pub async fn login_ok(&self, identifier: &str, password: &str) -> SignedIn {
        self.login(identifier, password)
            .await
            .unwrap_or_else(|failure| panic!("login of {identifier}: {failure:?}"))
    }

    pub async fn root(&self) -> SignedIn {
        self.login_ok(ROOT_USERNAME, ROOT_PASSWORD).await
    }

    /// Has `admin` create a user with `role`, then signs that user in.
    pub async fn create_user_ok(
        &self,
        admin: &SignedIn,
        username: &str,
        role: &str,
        password: &str,
    ) -> SignedIn {
        let email = format!("{username}@example.com");
        let account = NewAccount {
            role: Some(role),
            ..NewAccount::new(username, &email, password)
        };
        self.create_user(&admin.access, account)
            .await
            .unwrap_or_else(|failure| panic!("creating {username} as {role}: {failure:?}"));
        self.login_ok(username, password).await
    }
}

/// The kind of failure, or `None` for a success; for terse assertions.
pub fn kind<T>(outcome: &Outcome<T>) -> Option<Kind> {
    outcome.as_ref().err().map(|failure| failure.kind.clone())
}
