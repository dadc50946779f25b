//! Storage of user accounts.

use arcana_domain::{Email, Role, Status, User, UserId, Username};
use async_trait::async_trait;

use crate::StoreError;

/// A page request over users, in ascending id order (ids are UUIDv7, so this is creation order
/// and maps onto a primary-key range scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    /// Only ids strictly greater than this (the last id of the previous page).
    pub after: Option<UserId>,
    /// At most this many users; the caller asks for one more than it shows to learn whether a
    /// next page exists.
    pub limit: usize,
    pub role: Option<Role>,
    /// When `None`, deleted users are excluded; ask for `Some(Status::Deleted)` to see them.
    pub status: Option<Status>,
    /// Case-insensitive substring of username, email or display name.
    pub text: Option<String>,
}

/// Which methods are safe to retry (the resilience decorators retry only those) is stated on
/// each: safe means a repeat after an unknown outcome changes neither the stored state nor the
/// answer.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user. Not safe to retry: a repeat after an applied insert answers
    /// `Conflict`.
    ///
    /// # Errors
    /// `Conflict(Username | Email)` when either is taken (by any user, deleted ones included:
    /// names are never recycled), `Unavailable` when the backend is unreachable (never reached),
    /// `OutcomeUnknown` when it may have been reached but did not answer.
    async fn insert(&self, user: &User) -> Result<(), StoreError>;

    /// Stores `user` if the stored version still equals `user.version()`, and returns it at the
    /// next version. Not safe to retry: a repeat after an applied update answers `StaleVersion`.
    ///
    /// # Errors
    /// `StaleVersion` when another write landed first, `NotFound` when the user does not exist,
    /// `Conflict` when a changed username or email is taken.
    async fn update(&self, user: &User) -> Result<User, StoreError>;

    /// Any user with this id, deleted ones included.
    /// Safe to retry.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// Exact match on the normalized (lower-cased) username.
    /// Safe to retry.
    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Exact match on the normalized email.
    /// Safe to retry.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;

    /// One page of users matching `query`, ordered by id.
    /// Safe to retry.
    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError>;
}
