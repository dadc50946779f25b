//! Sign-up, sign-in, tokens and the caller's own sessions.

use std::time::Duration;

use arcana_domain::session::ClientInfo;
use arcana_domain::{FieldError, Password, SessionId, Status};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::context::{AccessToken, RequestContext};
use super::view::{SessionView, UserView};
use crate::UniqueField;

/// An authenticated caller: the verified token plus the user as currently stored, so that a
/// demotion or suspension counts from the very next request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserView,
    pub session_id: SessionId,
    pub token_id: String,
    pub token_expires_at: DateTime<Utc>,
    /// The token this principal was verified from: what a remote tier is handed to verify again.
    pub credential: AccessToken,
    /// The request this principal acts in, forwarded on every hop.
    pub request: RequestContext,
}

/// Tokens handed to a client after register, login or refresh.
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    /// Lifetime of the access token.
    pub expires_in: Duration,
    pub user: UserView,
}

#[derive(Debug)]
pub struct Register {
    pub username: String,
    pub email: String,
    pub password: Password,
    pub display_name: Option<String>,
    pub client: ClientInfo,
    pub request: RequestContext,
}

#[derive(Debug)]
pub struct Login {
    pub username_or_email: String,
    pub password: Password,
    pub client: ClientInfo,
    pub request: RequestContext,
}

#[derive(Debug)]
pub struct ChangePassword {
    pub current_password: Password,
    pub new_password: Password,
}

/// Why a token was refused. Clients see the code, so they can tell "log in again" from
/// "someone else used your token".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Missing,
    Invalid,
    Expired,
    /// The session was revoked or expired, or the account can no longer sign in.
    Revoked,
    /// An already rotated refresh token was presented outside the grace window: the whole
    /// family has been revoked.
    Reused,
    /// An already rotated refresh token was presented within the grace window (a client's own
    /// concurrent refresh); refused, but the family stays alive.
    Superseded,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// Unknown account or wrong password — deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password was right but the account may not sign in.
    #[error("account is {}", .0.as_str())]
    AccountDisabled(Status),
    #[error("too many attempts")]
    Throttled { retry_after: Duration },
    #[error("token rejected: {0:?}")]
    InvalidToken(TokenRejection),
    #[error("{} is already taken", .0.as_str())]
    Conflict(UniqueField),
    #[error("session not found")]
    SessionNotFound,
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Sign-up, sign-in, token rotation and the caller's own sessions.
///
/// Every method may also fail with `Unavailable` (a dependency could not be reached or its
/// breaker is open: 503, retry later) and `Internal` (a bug or corrupt data: 500); the lists
/// below name the answers particular to each. "Safe to retry" means a repeat after an
/// unknown outcome changes neither state nor answer.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuthUseCases: Send + Sync {
    /// Creates an active `user` account and signs it in. Open registration never grants more
    /// than the `user` role.
    ///
    /// # Errors
    /// `Validation` (username, email or password refused by the domain's rules, every field at
    /// once), `Conflict` (username or email taken). Not safe to retry: a repeat after an
    /// unknown outcome may answer `Conflict` for the account it created.
    async fn register(&self, command: Register) -> Result<AuthSession, AuthError>;

    /// Signs in by username or email. Throttled per account identifier and per client address.
    ///
    /// # Errors
    /// `InvalidCredentials` (unknown account or wrong password, indistinguishably),
    /// `AccountDisabled` (suspended, locked or pending), `Throttled` (too many failures; the
    /// wait is in `retry_after`). Not safe to retry: each attempt creates a session and counts
    /// against throttling.
    async fn login(&self, command: Login) -> Result<AuthSession, AuthError>;

    /// Rotates a refresh token: the presented one stops working, a new pair is returned.
    ///
    /// # Errors
    /// `InvalidToken` (`Invalid`, `Expired`, `Revoked`; `Reused` when an already rotated token
    /// is presented again, which revokes its whole session family), `AccountDisabled`. Never
    /// retry: a repeat presents a rotated token and revokes the family.
    async fn refresh(
        &self,
        refresh_token: &str,
        client: ClientInfo,
        request: RequestContext,
    ) -> Result<AuthSession, AuthError>;

    /// Turns a bearer access token into a principal, checking signature, expiry, the deny list,
    /// the session and the account's current status.
    /// The principal acts in `request`, which it carries on to every call made with it.
    ///
    /// # Errors
    /// `InvalidToken` (`Missing`, `Invalid`, `Expired`, `Revoked`), `AccountDisabled`. Safe to
    /// retry.
    async fn authenticate(
        &self,
        access_token: &str,
        request: RequestContext,
    ) -> Result<Principal, AuthError>;

    /// Revokes the caller's session (its current access token fails at once), or all of them.
    ///
    /// # Errors
    /// Only the common ones. Not retried by the resilience guard (the revocation's answer
    /// says what it revoked), though a repeat leaves the same state.
    async fn logout(&self, principal: &Principal, all_sessions: bool) -> Result<(), AuthError>;

    /// The caller's live sessions.
    ///
    /// # Errors
    /// Only the common ones. Safe to retry.
    async fn list_sessions(&self, principal: &Principal) -> Result<Vec<SessionView>, AuthError>;

    /// Revokes one of the caller's own sessions; another user's session is `SessionNotFound`.
    ///
    /// # Errors
    /// `SessionNotFound` (no such live session of the caller's). Not safe to retry: a repeat
    /// after an unknown outcome answers `SessionNotFound`.
    async fn revoke_session(&self, principal: &Principal, id: SessionId) -> Result<(), AuthError>;

    /// Changes the password after checking the current one, and revokes every other session.
    ///
    /// # Errors
    /// `Validation` (`current_password` incorrect, or `new_password` refused by the policy),
    /// `InvalidToken(Revoked)` (the account is gone), `Unavailable` also when the account
    /// changed concurrently (retry against the fresh state). Not safe to retry.
    async fn change_password(
        &self,
        principal: &Principal,
        command: ChangePassword,
    ) -> Result<(), AuthError>;
}
